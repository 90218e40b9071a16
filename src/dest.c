/* dest.c — where a restore writes (see dest.h). */
#include "src/dest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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

