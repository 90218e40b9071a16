/* diff_work.c — a snapshot against the project's working tree (see
 * diff.h).
 *
 * A merge walk like diff.c's, one side a snapshot tree, the other the
 * directory itself, listed and stat'ed with the rules walk_run uses
 * (ignore_enter/ignore_entry, one filesystem, never the repository, no
 * restore temp files).  Nothing is written and, for a file that matches
 * its snapshot entry's stat fields, nothing is read.
 */
#include "store/diff.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/content.h"
#include "store/err.h"
#include "store/relpath.h"
#include "store/repo.h"
#include "store/restore.h"
#include "store/walk_internal.h"

#define WDIFF_MAX_DEPTH 4096
#define WDIFF_BUF (64 * 1024)

struct wdiff {
	struct repo *repo;
	const struct diff_work_opts *o;
	diff_pair_fn fn;
	void *ctx;
	struct ignore *ig;
	dev_t root_dev;
	bool have_repo;
	dev_t repo_dev;
	ino_t repo_ino;
	struct relpath path;
	uint8_t *buf; /* WDIFF_BUF bytes, for comparing contents */
};

static void fill_node(struct node *n, const struct stat *st)
{
	walk_fill_meta(n, st);
	if (S_ISREG(st->st_mode)) {
		n->type = NODE_FILE;
		n->size = (uint64_t)st->st_size;
	} else if (S_ISDIR(st->st_mode)) {
		n->type = NODE_DIR;
	} else if (S_ISLNK(st->st_mode)) {
		n->type = NODE_SYMLINK;
	} else if (S_ISFIFO(st->st_mode)) {
		n->type = NODE_FIFO;
	} else if (S_ISCHR(st->st_mode)) {
		n->type = NODE_CHR;
		n->rdev = st->st_rdev;
	} else if (S_ISBLK(st->st_mode)) {
		n->type = NODE_BLK;
		n->rdev = st->st_rdev;
	} else {
		n->type = NODE_SOCK;
	}
}

/* The stat fields match and were not written too close to the snapshot
 * to trust (walk_file.c's rule for the files cache). */
static bool stat_matches(const struct wdiff *w, const struct node *a, const struct node *b)
{
	if (a->size != b->size || a->mtime_ns != b->mtime_ns || a->ctime_ns != b->ctime_ns ||
	    a->ino != b->ino || a->dev != b->dev || (a->flags & NODE_F_UNREADABLE))
		return false;
	/* A database is stored as a consistent copy, whose bytes differ from
	 * the live file's even when nothing changed: only its stat can say. */
	if (a->flags & NODE_F_DB_COPY)
		return true;
	return !walk_racy_at(w->o->snap_time_ns, a->mtime_ns, a->ctime_ns);
}

/* 1 if the file name in dirfd holds exactly a's content, 0 if not (or it
 * cannot be read), negative on a repository error. */
static int same_content(struct wdiff *w, int dirfd, const char *name, const struct node *a)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint8_t *snap = w->buf + WDIFF_BUF / 2;
	uint64_t off = 0;
	int same = 1;
	for (;;) {
		ssize_t n = read(fd, w->buf, WDIFF_BUF / 2);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			same = 0;
			break;
		}
		ssize_t m = content_read(w->repo, a, off, snap, (size_t)n ? (size_t)n : 1);
		if (m < 0) {
			same = (int)m;
			break;
		}
		if (n == 0) {
			same = m == 0; /* both at their end */
			break;
		}
		if (m != n || memcmp(w->buf, snap, (size_t)n) != 0) {
			same = 0;
			break;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return same;
}

/* Whether the working entry b differs from the snapshot entry a (same type). */
static int entry_differs(struct wdiff *w, int dirfd, const char *name, const struct node *a,
			 const struct node *b)
{
	bool owner = a->mode != b->mode || a->uid != b->uid || a->gid != b->gid;
	switch (a->type) {
	case NODE_FILE: {
		if (owner || (b->flags & NODE_F_UNREADABLE) ||
		    (a->size != b->size && !(a->flags & NODE_F_DB_COPY)))
			return 1;
		if (stat_matches(w, a, b))
			return 0;
		if (a->flags & NODE_F_DB_COPY)
			return 1;
		int r = same_content(w, dirfd, name, a);
		return r < 0 ? r : !r;
	}
	case NODE_SYMLINK:
		return strcmp(a->target ? a->target : "", b->target ? b->target : "") != 0 ||
			a->uid != b->uid || a->gid != b->gid;
	case NODE_CHR:
	case NODE_BLK:
		return owner || a->rdev != b->rdev;
	default:
		return owner;
	}
}

/* Paths of a subtree diff (deleted contents) below the current path. */
struct prefixed {
	struct wdiff *w;
};

static int prefixed_fn(void *ctx, enum diff_kind kind, const char *path, const struct node *a,
		       const struct node *b)
{
	struct wdiff *w = ((struct prefixed *)ctx)->w;
	size_t old;
	int r = relpath_push(&w->path, path, &old);
	if (r < 0)
		return store_fail(r, "diff: out of memory");
	r = w->fn(w->ctx, kind, w->path.s, a, b);
	relpath_pop(&w->path, old);
	return r;
}

static int deleted_contents(struct wdiff *w, const struct node *a)
{
	struct prefixed p = {w};
	return diff_trees_pair(w->repo, &a->subtree, NULL, prefixed_fn, &p);
}

static int wd_dir(struct wdiff *w, int fd, const blob_id *old_id, int depth);

/* Open the directory name below dirfd and walk it against old_id. */
static int wd_enter(struct wdiff *w, int dirfd, const char *name, const blob_id *old_id, int depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone, or unreadable: its entry was compared already */
	return wd_dir(w, fd, old_id, depth + 1);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a working entry is left out as walk_run leaves it out (1), kept
 * (0), or the walk fails (negative).  c->path is the entry's path. */
static int left_out(struct wdiff *w, int dirfd, const char *name, size_t dirlen,
		    const struct stat *st)
{
	bool is_dir = S_ISDIR(st->st_mode);
	if (!is_dir && restore_is_temp_name(name))
		return 1;
	if (is_dir && st->st_dev != w->root_dev)
		return 1;
	if (is_dir && w->have_repo && st->st_dev == w->repo_dev && st->st_ino == w->repo_ino)
		return 1;
	if (dirlen == 0 && w->o->reserved && strcmp(name, w->o->reserved) == 0)
		return 1;
	return ignore_entry(w->ig, dirfd, w->path.s, dirlen, is_dir);
}

/* One name of a directory, present on either side or both. */
static int wd_entry(struct wdiff *w, int dirfd, const char *name, const struct node *a,
		    size_t dirlen, int depth)
{
	struct node b = {0};
	struct stat st;
	bool have_b = false;
	int r = 0;
	if (depth == 0 && w->o->reserved && strcmp(name, w->o->reserved) == 0)
		return 0; /* the databases folder: never in the working tree */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) == 0) {
		r = left_out(w, dirfd, name, dirlen, &st);
		if (r < 0)
			return r;
		have_b = r == 0;
	} else if (errno != ENOENT) {
		return store_failp(-errno, "%s", w->path.s);
	}
	if (!have_b && a) {
		/* Gone, or now excluded: an entry the walk would not store. */
		r = w->fn(w->ctx, DIFF_DELETED, w->path.s, a, NULL);
		if (r == 0 && a->type == NODE_DIR)
			r = deleted_contents(w, a);
		return r;
	}
	if (!have_b)
		return 0;
	b.name = (char *)name;
	fill_node(&b, &st);
	char target[4096];
	if (b.type == NODE_SYMLINK) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
		if (n < 0) {
			b.flags |= NODE_F_UNREADABLE;
			n = 0;
		}
		target[n] = '\0';
		b.target = target;
		b.size = (uint64_t)n;
	}
	if (!a) {
		r = w->fn(w->ctx, DIFF_ADDED, w->path.s, NULL, &b);
		if (r == 0 && b.type == NODE_DIR)
			r = wd_enter(w, dirfd, name, NULL, depth);
		return r;
	}
	if (a->type != b.type) {
		r = w->fn(w->ctx, DIFF_MODIFIED, w->path.s, a, &b);
		if (r == 0 && a->type == NODE_DIR)
			r = deleted_contents(w, a);
		if (r == 0 && b.type == NODE_DIR)
			r = wd_enter(w, dirfd, name, NULL, depth);
		return r;
	}
	if ((r = entry_differs(w, dirfd, name, a, &b)) > 0)
		r = w->fn(w->ctx, DIFF_MODIFIED, w->path.s, a, &b);
	if (r == 0 && b.type == NODE_DIR)
		r = wd_enter(w, dirfd, name, &a->subtree, depth);
	return r;
}

static int list_names(int fd, DIR **ret_d, char ***ret_names, size_t *ret_n)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	char **names = NULL;
	size_t n = 0, alloc = 0;
	for (struct dirent *de; (errno = 0, de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 32;
			char **p = realloc(names, na * sizeof *p);
			if (!p)
				goto nomem;
			names = p;
			alloc = na;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	*ret_d = d;
	*ret_names = names;
	*ret_n = n;
	return 0;
nomem:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return -ENOMEM;
}

static int wd_dir(struct wdiff *w, int fd, const blob_id *old_id, int depth)
{
	if (depth > WDIFF_MAX_DEPTH) {
		close(fd);
		return store_fail(-ELOOP, "%s: directories nested deeper than %d", w->path.s,
				  WDIFF_MAX_DEPTH);
	}
	DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, base = w->path.len;
	int r = list_names(fd, &d, &names, &n);
	if (r < 0)
		return store_fail(r, "%s: cannot list: %s", *w->path.s ? w->path.s : w->o->root,
				  strerror(-r));
	struct tree *t = NULL;
	static const struct tree empty;
	bool has_ignore = false;
	for (size_t i = 0; i < n && !has_ignore; i++)
		has_ignore = strcmp(names[i], ".ckptignore") == 0;
	if ((r = ignore_enter(w->ig, dirfd(d), w->path.s, w->path.len, has_ignore)) < 0)
		goto out;
	if (old_id && (r = tree_load(w->repo, old_id, &t)) < 0)
		goto out;
	const struct tree *ta = t ? t : &empty;
	size_t i = 0, j = 0;
	while (r == 0 && (i < ta->n || j < n)) {
		int c = i == ta->n ? 1 : j == n ? -1 : strcmp(ta->nodes[i].name, names[j]);
		const struct node *a = c <= 0 ? &ta->nodes[i++] : NULL;
		const char *name = c < 0 ? a->name : names[j++];
		if ((r = relpath_push(&w->path, name, NULL)) < 0) {
			r = store_fail(r, "diff: out of memory");
			break;
		}
		r = wd_entry(w, dirfd(d), name, a, base, depth);
		relpath_pop(&w->path, base);
	}
out:
	tree_free(t);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	closedir(d);
	return r;
}

int diff_worktree(struct repo *repo, const blob_id *old_root, const struct diff_work_opts *o,
		  diff_pair_fn fn, void *ctx)
{
	struct wdiff w = {.repo = repo, .o = o, .fn = fn, .ctx = ctx};
	struct stat st;
	int r;
	int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "%s", o->root);
	if (fstat(fd, &st) < 0) {
		r = store_failp(-errno, "%s", o->root);
		close(fd);
		return r;
	}
	w.root_dev = st.st_dev;
	struct stat rst;
	if (stat(repo_path(repo), &rst) == 0) {
		w.have_repo = true;
		w.repo_dev = rst.st_dev;
		w.repo_ino = rst.st_ino;
	}
	if (!(w.buf = malloc(WDIFF_BUF)) || relpath_init(&w.path) < 0) {
		free(w.buf);
		close(fd);
		return store_fail(-ENOMEM, "diff: out of memory");
	}
	if ((r = ignore_open(o->root, o->excludes, o->nexcludes, &w.ig)) < 0) {
		close(fd);
		goto out;
	}
	r = wd_dir(&w, fd, old_root, 0);
out:
	ignore_free(w.ig);
	relpath_free(&w.path);
	free(w.buf);
	return r;
}
