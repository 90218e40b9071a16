/* dest.c — where a restore writes (see dest.h). */
#include "src/dest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/fileio.h"

/* Append the components of path to out (a stack of components separated
 * by '/'), resolving "." and ".." lexically.  -EINVAL if ".." would leave
 * the root. */
static int push_components(char *out, size_t cap, const char *path)
{
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out, '/');
			if (!*out)
				return -EINVAL;
			if (slash)
				*slash = '\0';
			else
				*out = '\0';
		} else {
			size_t n = strlen(out);
			if (n + len + 2 > cap)
				return -ENAMETOOLONG;
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			out[n + len] = '\0';
		}
		p += len;
	}
	return 0;
}

/* rel (inside root) of path, which is absolute, or relative to base (a
 * path relative to root, "" for root itself). */
int dest_relpath(const char *root, const char *base, const char *path, char *out,
			   size_t cap)
{
	out[0] = '\0';
	if (path[0] == '/') {
		char abs[PATH_MAX] = "";
		int r = push_components(abs, sizeof abs, path);
		if (r < 0)
			return r;
		/* abs has no leading slash; root has one. */
		size_t n = strlen(root + 1);
		if (strncmp(abs, root + 1, n) != 0 || (abs[n] && abs[n] != '/' && n))
			return -EXDEV;
		return push_components(out, cap, abs + n);
	}
	int r = push_components(out, cap, base);
	return r < 0 ? r : push_components(out, cap, path);
}

/* mkdir -p of rel below dirfd without following symlinks; returns an fd
 * of the innermost directory. */
int dest_open_dirs_below(int dirfd, const char *rel)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	char part[NAME_MAX + 1];
	const char *p = rel;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		p += len;
		while (*p == '/')
			p++;
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			int e = -errno;
			close(fd);
			return e;
		}
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = -errno;
		close(fd);
		if (next < 0)
			return e;
		fd = next;
	}
	return fd;
}

/* mkdir -p of an ordinary path chosen by the user (symlinks followed). */
int dest_mkdir_p(const char *path)
{
	return fio_mkdir_p(path, 0755, NULL);
}

/* Split path into an open parent directory and the last component. */
int dest_open_parent(const char *path, char *name_out)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	const char *name = slash ? slash + 1 : buf;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strlen(name) > NAME_MAX)
		return -EINVAL;
	strcpy(name_out, name);
	const char *parent = ".";
	if (slash == buf)
		parent = "/";
	else if (slash) {
		*slash = '\0';
		parent = buf;
	}
	int r = dest_mkdir_p(parent);
	if (r < 0)
		return r;
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The directory part of path ("." if none), for messages. */
void dest_parent_of(const char *path, char *out, size_t cap)
{
	snprintf(out, cap, "%s", path);
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	char *slash = strrchr(out, '/');
	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}


/* d->dir as restore reports paths: without trailing slashes, then one. */
static void finish_dir(struct dest *d)
{
	size_t dl = strlen(d->dir);
	while (dl > 1 && d->dir[dl - 1] == '/')
		d->dir[--dl] = '\0';
	if (strcmp(d->dir, "/") != 0 && dl + 1 < sizeof d->dir)
		strcat(d->dir, "/");
}

static int fail(struct dest *d, int r, const char *path, const char *why)
{
	snprintf(d->err, sizeof d->err, "%s: %s", path, why ? why : strerror(-r));
	return r;
}

int dest_in_project(const char *root, const char *rel, bool dry_run, struct dest *d)
{
	*d = (struct dest){ .dirfd = -1 };
	snprintf(d->show, sizeof d->show, "%s", root);
	if (!*rel) {
		/* The whole project: merged into the root itself. */
		if ((d->dirfd = dest_open_parent(root, d->name)) < 0)
			return fail(d, d->dirfd, root, NULL);
		dest_parent_of(root, d->dir, sizeof d->dir);
		finish_dir(d);
		return 0;
	}
	struct stat st;
	if (stat(root, &st) < 0 && !dry_run) {
		int r = dest_mkdir_p(root);
		if (r < 0)
			return fail(d, r, root, NULL);
	}
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", rel);
	char *slash = strrchr(parent, '/');
	const char *last = slash ? slash + 1 : parent;
	if (strlen(last) > NAME_MAX)
		return fail(d, -ENAMETOOLONG, rel, "name too long");
	memcpy(d->name, last, strlen(last) + 1);
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	snprintf(d->dir, sizeof d->dir, "%s%s%s", root, *parent ? "/" : "", parent);
	finish_dir(d);
	int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return dry_run && errno == ENOENT ? 0 : fail(d, -errno, root, NULL);
	/* A dry run must not make the parents either: -1 when they are still
	 * to be made. */
	d->dirfd = dry_run ? openat(rootfd, *parent ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			   : dest_open_dirs_below(rootfd, parent);
	close(rootfd);
	if (d->dirfd < 0 && !dry_run) {
		char where[PATH_MAX + 1];
		snprintf(where, sizeof where, "%s/%s", root, parent);
		return fail(d, d->dirfd, where, NULL);
	}
	if (d->dirfd < 0)
		d->dirfd = -1;
	return 0;
}

int dest_to(const char *to, const char *rel, bool node_is_dir, bool dry_run, struct dest *d)
{
	*d = (struct dest){ .dirfd = -1 };
	snprintf(d->show, sizeof d->show, "%s", to);
	size_t tl = strlen(to);
	struct stat st;
	bool into_dir = !node_is_dir &&
			((tl && to[tl - 1] == '/') || (stat(to, &st) == 0 && S_ISDIR(st.st_mode)));
	if (!into_dir) {
		if ((d->dirfd = dest_open_parent(to, d->name)) < 0)
			return fail(d, d->dirfd, to,
				    d->dirfd == -EINVAL ? "not usable as a destination" : NULL);
		dest_parent_of(to, d->dir, sizeof d->dir);
		finish_dir(d);
		return 0;
	}
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	if (!*base || strlen(base) > NAME_MAX)
		return fail(d, -EINVAL, to, "give a DEST path for the whole project");
	memcpy(d->name, base, strlen(base) + 1);
	snprintf(d->dir, sizeof d->dir, "%s", to);
	finish_dir(d);
	int r;
	if (!dry_run && (r = dest_mkdir_p(to)) < 0)
		return fail(d, r, to, NULL);
	d->dirfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0 && !dry_run)
		return fail(d, -errno, to, NULL);
	if (d->dirfd < 0)
		d->dirfd = -1;
	return 0;
}
