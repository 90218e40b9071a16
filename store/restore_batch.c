/* restore_batch.c — making restored files durable with a few barriers
 * instead of one per file.
 *
 * The guarantee is unchanged: no file is ever visible under its real name
 * before its content is durable (a crash leaves the old version or the new
 * one, never a torn one), and when restore_node returns everything it
 * wrote is durable.  What changes is how: one fsync per file and per
 * directory costs a journal commit each (33,557 of them for a 30,000-file
 * project), so instead
 *
 *   1. each file is written and given its metadata under its temp name,
 *      with no barrier, and queued in the current batch (rs_batch_queue);
 *   2. when the batch is large (files, bytes, directories held open) it
 *      is cut (rs_batch_cut), and once every file of it is written, one
 *      syncfs(2) per file system makes all of them durable at once; only
 *      then are they renamed over their targets (rs_batch_barrier): with
 *      RENAME_NOREPLACE first, so a name nothing holds costs one call, and
 *      what does hold it is checked (rs_refusal) before it is replaced.
 *      With writer threads (restore_pool.c) that runs on a thread of its
 *      own while the walk and the writers fill the next batch: the syncfs
 *      calls were a fifth of a restore's time with every writer idle;
 *   3. a directory's own metadata (mode, owner, xattrs, mtime) is set after
 *      every rename into it, so it is recorded as it goes and applied at the
 *      end, children before parents (rs_dirmeta_add / rs_dirmeta_apply),
 *      after every batch is done (rs_batch_finish);
 *   4. a last syncfs makes the renames and the directories durable.
 *
 * syncfs reports writeback errors of the file system since Linux 5.8,
 * through each open file once; a batch syncs through descriptors opened
 * for it before any of its files was written (dir_ref), so an error is
 * never reported to another batch only.  An error fails every file of the
 * batch (none is renamed).  A killed restore leaves temp files (removed by
 * the next restore, restore_temp.c) and directories it created without
 * their final metadata.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/fs.h> /* RENAME_NOREPLACE */
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/restore_internal.h"

/* Past any of these the queue is flushed: dirty data the kernel holds for
 * us, entries in memory, and directory fds kept open for the renames. */
#define BATCH_MAX_FILES 8192
#define BATCH_MAX_BYTES (512ull << 20)
#define BATCH_MAX_DIRS 128

struct rs_dirmeta {
	char *path;       /* relative to the restore's destination directory */
	struct node meta; /* mode, uid, gid, mtime, xattrs (name unused) */
};

struct rs_dirmetas {
	struct rs_dirmeta *v;
	size_t n, cap;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? 2 * *cap : 64;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* The restore's own reference to a directory of each file system written
 * to, for the last sync (renames made after the batches' syncfs); more
 * than MAX_DEVS: sync(). */
static int last_sync_ref(struct rs_ctx *c, int dirfd, dev_t dev)
{
	struct rs_devs *v = c->devs;
	if (!v && !(v = c->devs = calloc(1, sizeof *v)))
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].dev == dev)
			return 0;
	int dfd = v->n < MAX_DEVS ? fcntl(dirfd, F_DUPFD_CLOEXEC, 3) : -1;
	if (dfd >= 0)
		v->v[v->n++] = (struct rs_dirref){ .fd = dfd, .dev = dev };
	else
		v->many = true;
	return 0;
}

/* The batch's reference to directory dirfd (the same directory as the
 * last file queued, usually): index, or a negative errno.  The first
 * directory of each file system in the batch also gets a descriptor of
 * its own for the batch's syncfs, opened now, before any file of the
 * batch is written there: syncfs reports a writeback error through a
 * descriptor opened before it happened, once per open file, and a shared
 * one (a dup) could have reported it already to another batch's syncfs
 * (one running while this batch's files were written). */
static int dir_ref(struct rs_ctx *c, struct rs_batch *b, int dirfd)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	for (size_t i = b->ndirs; i-- > 0;)
		if (b->dirs[i].dev == st.st_dev && b->dirs[i].ino == st.st_ino)
			return (int)i;
	if (grow((void **)&b->dirs, &b->dircap, b->ndirs, sizeof *b->dirs) < 0 ||
	    grow((void **)&b->syncs, &b->synccap, b->nsyncs, sizeof *b->syncs) < 0 ||
	    last_sync_ref(c, dirfd, st.st_dev) < 0)
		return -ENOMEM;
	bool known = false;
	for (size_t i = 0; i < b->nsyncs && !known; i++)
		known = b->syncs[i].dev == st.st_dev;
	if (!known) {
		int sfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			return -errno;
		b->syncs[b->nsyncs++] = (struct rs_dirref){ .fd = sfd, .dev = st.st_dev };
	}
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	b->dirs[b->ndirs] = (struct rs_dirref){ .fd = fd, .dev = st.st_dev, .ino = st.st_ino };
	return (int)b->ndirs++;
}

static void pending_free(struct rs_pending *p)
{
	free(p->tmp);
	free(p->name);
	free(p->path);
	if (p->what_owned)
		free((char *)p->what);
}

/* A failure of a queued file, reported under its own path. */
static void fail_pending(struct rs_ctx *c, const struct rs_pending *p, int err, const char *what)
{
	struct relpath saved = c->path;
	struct relpath at = { .s = p->path, .len = strlen(p->path), .cap = 0 };
	c->path = at;
	rs_fail(c, err, what);
	c->path = saved;
	c->stats.files--;
	c->stats.bytes -= p->size;
}

/* Record why queued file p was not renamed (the batch's thread may not
 * report it: the walk's thread does, in rs_batch_reap). */
static void pending_failed(struct rs_pending *p, int err, const char *what, bool copy)
{
	p->err = err;
	p->what = what;
	p->what_owned = false;
	if (copy) {
		char *w = strdup(what);
		p->what = w ? w : "cannot rename";
		p->what_owned = w != NULL;
	}
}

static void close_refs(struct rs_batch *b)
{
	for (size_t i = 0; i < b->ndirs; i++)
		close(b->dirs[i].fd);
	for (size_t i = 0; i < b->nsyncs; i++)
		close(b->syncs[i].fd);
	b->ndirs = b->nsyncs = 0;
}

void rs_batch_barrier(struct rs_batch *b)
{
	static const struct node file = {.type = NODE_FILE};
	char msg[512];
	int r = 0;
	for (size_t i = 0; b->n && i < b->nsyncs; i++)
		if (syncfs(b->syncs[i].fd) < 0 && !r)
			r = -errno;
	for (size_t i = 0; i < b->n; i++) {
		struct rs_pending *p = &b->v[i];
		int dfd = b->dirs[p->dir].fd;
		int e = 0;
		const char *why;
		if (r < 0) {
			unlinkat(dfd, p->tmp, 0);
			pending_failed(p, r, "cannot sync", false);
		} else if (renameat2(dfd, p->tmp, dfd, p->name, RENAME_NOREPLACE) == 0) {
			/* Nothing was at the name: nothing to refuse, one call. */
		} else if (errno != EEXIST && errno != EINVAL && errno != ENOSYS) {
			e = -errno;
			unlinkat(dfd, p->tmp, 0);
			pending_failed(p, e, "cannot rename", false);
		} else if ((why = rs_refusal(dfd, p->name, &file, msg, sizeof msg, &e))) {
			/* Checked again: what is at the name may have changed
			 * since the temp file was made (issue 8). */
			unlinkat(dfd, p->tmp, 0);
			pending_failed(p, e, why, true);
		} else if (renameat(dfd, p->tmp, dfd, p->name) < 0) {
			e = -errno;
			unlinkat(dfd, p->tmp, 0);
			pending_failed(p, e,
				       e == -EISDIR ? "exists and is a directory: left alone"
						    : "cannot rename",
				       false);
		}
	}
	close_refs(b);
}

void rs_batch_reap(struct rs_ctx *c, struct rs_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].what)
			fail_pending(c, &b->v[i], b->v[i].err, b->v[i].what);
		pending_free(&b->v[i]);
	}
	close_refs(b);
	free(b->v);
	free(b->dirs);
	free(b->syncs);
	free(b);
}

static struct rs_batch *batch_of(struct rs_ctx *c)
{
	if (!c->batch)
		c->batch = calloc(1, sizeof *c->batch);
	return c->batch;
}

void rs_batch_cut(struct rs_ctx *c)
{
	struct rs_batch *b = c->batch;
	c->here.batch_dir = -1;
	if (!b)
		return;
	c->batch = NULL;
	if (c->pool) {
		/* Its barrier and renames run beside the walk, once every
		 * file of it in flight is back (restore_pool.c). */
		rs_pool_seal(c, b);
		return;
	}
	rs_batch_barrier(b);
	rs_batch_reap(c, b);
}

void rs_batch_finish(struct rs_ctx *c)
{
	rs_batch_cut(c);
	rs_pool_finish(c);
}

int rs_batch_dir(struct rs_ctx *c, int dirfd)
{
	if (c->here.batch_dir >= 0)
		return c->here.batch_dir;
	if (c->batch && c->batch->ndirs >= BATCH_MAX_DIRS)
		rs_batch_cut(c);
	struct rs_batch *b = batch_of(c);
	if (!b)
		return -ENOMEM;
	int d = dir_ref(c, b, dirfd);
	if (d >= 0)
		c->here.batch_dir = d;
	return d;
}

int rs_batch_dirfd(struct rs_ctx *c, int d)
{
	return c->batch->dirs[d].fd;
}

int rs_batch_queue(struct rs_ctx *c, struct rs_batch *b, int d, const char *tmp, const char *name,
		   const char *path, uint64_t size)
{
	if (grow((void **)&b->v, &b->cap, b->n, sizeof *b->v) < 0)
		return -ENOMEM;
	struct rs_pending p = { .dir = d, .size = size };
	if (!(p.tmp = strdup(tmp)) || !(p.name = strdup(name)) || !(p.path = strdup(path))) {
		pending_free(&p);
		return -ENOMEM;
	}
	b->v[b->n++] = p;
	b->bytes += size;
	return 0;
}

bool rs_batch_note(struct rs_ctx *c, uint64_t size)
{
	struct rs_batch *b = c->batch;
	b->noted++;
	b->noted_bytes += size;
	return b->noted >= BATCH_MAX_FILES || b->noted_bytes >= BATCH_MAX_BYTES;
}

int rs_batch_add(struct rs_ctx *c, int d, int dirfd, const char *tmp, const char *name,
		 uint64_t size)
{
	if (d < 0) {
		/* Cannot hold the directory: this one file pays its barrier. */
		static const struct node file = {.type = NODE_FILE};
		int e = 0;
		const char *why = rs_refusal(dirfd, name, &file, c->msg, sizeof c->msg, &e);
		int fd = why ? -1 : openat(dirfd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (why || fd < 0 || fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
			if (!why)
				e = -errno;
			unlinkat(dirfd, tmp, 0);
			rs_fail(c, e, why ? why : "cannot sync");
			c->stats.files--;
			c->stats.bytes -= size;
		}
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int r = rs_batch_queue(c, c->batch, d, tmp, name, c->path.s, size);
	if (r < 0)
		return r;
	if (rs_batch_note(c, size))
		rs_batch_cut(c);
	return 0;
}

int rs_dirmeta_add(struct rs_ctx *c, const struct node *n)
{
	if (!c->dirmetas && !(c->dirmetas = calloc(1, sizeof *c->dirmetas)))
		return -ENOMEM;
	struct rs_dirmetas *m = c->dirmetas;
	if (grow((void **)&m->v, &m->cap, m->n, sizeof *m->v) < 0)
		return -ENOMEM;
	struct rs_dirmeta e = { 0 };
	if (!(e.path = strdup(c->path.s)) || node_copy(n, &e.meta) < 0) {
		free(e.path);
		node_clear(&e.meta);
		return -ENOMEM;
	}
	m->v[m->n++] = e;
	return 0;
}

/* Open the directory at path (components from the destination directory
 * dirfd, each O_NOFOLLOW: a symlink swapped in since is not followed).
 * One openat2 resolving beneath dirfd without following any symlink does
 * that in one call (Linux 5.6); else one openat per component. */
static int open_dir_path(int dirfd, const char *path)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	if (*path) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != EINVAL && errno != E2BIG))
			return fd;
	}
#endif
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	const char *p = path;
	while (fd >= 0 && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char comp[256];
		if (len == 0 || len >= sizeof comp) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		errno = e;
		fd = next;
		p += len + (slash != NULL);
	}
	return fd;
}

void rs_dirmeta_apply(struct rs_ctx *c, int dest_dirfd)
{
	struct rs_dirmetas *m = c->dirmetas;
	if (!m)
		return;
	/* Recorded as each directory was finished: children before parents,
	 * so setting a parent's mtime is the last change to it. */
	for (size_t i = 0; i < m->n; i++) {
		struct rs_dirmeta *e = &m->v[i];
		struct relpath saved = c->path;
		c->path = (struct relpath){ .s = e->path, .len = strlen(e->path) };
		int fd = open_dir_path(dest_dirfd, e->path);
		if (fd < 0)
			rs_fail(c, -errno, "cannot open directory to set its metadata");
		else
			rs_set_dir_meta(c, fd, &e->meta);
		if (fd >= 0)
			close(fd);
		c->path = saved;
	}
}

void rs_sync_all(struct rs_ctx *c, int dest_dirfd)
{
	struct rs_devs *v = c->devs;
	int r = syncfs(dest_dirfd) < 0 ? -errno : 0;
	for (size_t i = 0; v && !r && i < v->n; i++)
		if (syncfs(v->v[i].fd) < 0)
			r = -errno;
	if (v && v->many)
		sync();
	if (r < 0)
		rs_fail(c, r, "cannot sync");
}

void rs_batch_free(struct rs_ctx *c)
{
	struct rs_batch *b = c->batch;
	if (b) {
		/* Only after an error stopped the restore: what is queued was
		 * never renamed, so remove the temps. */
		for (size_t i = 0; i < b->n; i++) {
			unlinkat(b->dirs[b->v[i].dir].fd, b->v[i].tmp, 0);
			pending_free(&b->v[i]);
		}
		b->n = 0;
		rs_batch_reap(c, b);
		c->batch = NULL;
	}
	struct rs_devs *v = c->devs;
	if (v) {
		for (size_t i = 0; i < v->n; i++)
			close(v->v[i].fd);
		free(v);
		c->devs = NULL;
	}
	struct rs_dirmetas *m = c->dirmetas;
	if (m) {
		for (size_t i = 0; i < m->n; i++) {
			free(m->v[i].path);
			node_clear(&m->v[i].meta);
		}
		free(m->v);
		free(m);
		c->dirmetas = NULL;
	}
}
