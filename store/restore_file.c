/* restore_file.c — restoring files, symlinks, FIFOs and devices.
 *
 * Each is made under a temp name ".<name>.ckptfs-XXXXXX" in its target
 * directory (O_EXCL, mode 0600), completed (content, owner, mode, xattrs,
 * mtime) and renamed over the target — a regular file only once it is
 * durable (restore_batch.c) — so the target holds either its old or its
 * new version, never a torn one; on failure the temp entry is removed.  Metadata is set through the temp entry's own fd (or, for
 * devices, an O_PATH fd via /proc/self/fd), never by name, so an entry
 * swapped in by someone else meanwhile is not touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store/content.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/restore_internal.h"
#include "store/tree.h"

#define TEMP_NAME_KEEP 240 /* bytes of the name kept in the temp name (<= 255 total) */

int rs_set_xattrs(int fd, const struct node *n)
{
	for (size_t i = 0; i < n->nxattrs; i++) {
		const struct node_xattr *x = &n->xattrs[i];
		/* The snapshot is untrusted: only user.* names are ever set. */
		if (!x->name || strncmp(x->name, "user.", 5) != 0)
			continue;
		if (fsetxattr(fd, x->name, x->value, x->value_len, 0) < 0)
			return -errno;
	}
	return 0;
}

/* Six random bytes for a temp name, from a pool: one getrandom per eight
 * names rather than per file. */
static void temp_random(struct rs_rand *pool, unsigned char rnd[6])
{
	if (pool->left < 6) {
		if (getrandom(pool->b, sizeof pool->b, GRND_NONBLOCK) == (ssize_t)sizeof pool->b) {
			pool->left = sizeof pool->b;
		} else {
			/* No entropy yet: O_EXCL still makes the name unique. */
			static _Atomic unsigned counter;
			unsigned v = (unsigned)getpid() * 2654435761u + ++counter;
			for (size_t i = 0; i < 6; i++, v >>= 5)
				rnd[i] = (unsigned char)v;
			return;
		}
	}
	memcpy(rnd, pool->b + sizeof pool->b - pool->left, 6);
	pool->left -= 6;
}

/* Write ".<name>.ckptfs-XXXXXX" with a fresh random suffix into out. */
static void temp_name(struct rs_rand *pool, const char *name, char out[256])
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	temp_random(pool, rnd);
	char suffix[7];
	for (size_t i = 0; i < 6; i++)
		suffix[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	suffix[6] = '\0';
	int keep = (int)strnlen(name, TEMP_NAME_KEEP);
	snprintf(out, 256, ".%.*s.ckptfs-%s", keep, name, suffix);
}

/* Whether the symlink name in dirfd already reads target. */
static bool same_link(int dirfd, const char *name, const char *target)
{
	char buf[4096];
	ssize_t len = readlinkat(dirfd, name, buf, sizeof(buf));
	return target && len >= 0 && (size_t)len == strlen(target) && memcmp(buf, target, (size_t)len) == 0;
}

/* May n replace name in dirfd (issue 8)?  A regular file; a symlink that
 * dangles or leads to a regular file (the link itself is replaced, never
 * written through); for a symlink node, a symlink leading to a directory,
 * or one that already reads the same.  Never a directory, a device, a
 * FIFO, a socket or a symlink leading to one of them: the user's
 * directory, or a device the user named, wins over the snapshot. */
const char *rs_refusal(int dirfd, const char *name, const struct node *n, char *buf, size_t cap,
		       int *ret_err)
{
	struct stat st, to;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return NULL;
		*ret_err = -errno;
		return "cannot stat";
	}
	if (S_ISREG(st.st_mode))
		return NULL;
	if (S_ISLNK(st.st_mode)) {
		if (n->type == NODE_SYMLINK && same_link(dirfd, name, n->target))
			return NULL;
		if (fstatat(dirfd, name, &to, 0) < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				return NULL; /* dangling */
		} else if (S_ISREG(to.st_mode) || (S_ISDIR(to.st_mode) && n->type == NODE_SYMLINK)) {
			return NULL;
		}
	}
	char kind[64];
	snprintf(buf, cap, "exists and is %s: left alone", rs_describe(dirfd, name, &st, kind, sizeof(kind)));
	*ret_err = S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
	return buf;
}

/* Fail the path unless name is absent or an entry n may replace. */
static bool target_ok(struct rs_ctx *c, int dirfd, const char *name, const struct node *n)
{
	int err = 0;
	const char *why = rs_refusal(dirfd, name, n, c->msg, sizeof(c->msg), &err);
	if (why)
		rs_fail(c, err, why);
	return !why;
}

/* Make n's entry in dirfd under a fresh temp name (written into tmp): a
 * regular file opened for writing (its fd is returned), a symlink, or a
 * FIFO/device of type fmt (0 returned).  A negative errno on failure. */
static int make_temp(struct rs_rand *rnd, int dirfd, const char *name, const struct node *n,
		     mode_t fmt, char tmp[256])
{
	int r = -1;
	for (int tries = 0; tries < 100; tries++) {
		temp_name(rnd, name, tmp);
		if (n->type == NODE_FILE)
			r = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		else if (n->type == NODE_SYMLINK)
			r = symlinkat(n->target, dirfd, tmp);
		else
			r = mknodat(dirfd, tmp, fmt | 0600, fmt == S_IFIFO ? 0 : (dev_t)n->rdev);
		if (r >= 0)
			return r;
		if (errno != EEXIST)
			break;
	}
	return -errno;
}

void rs_count(struct rs_ctx *c, const struct node *n)
{
	rs_report(c, n);
	if (n->type == NODE_FILE) {
		c->stats.files++;
		c->stats.bytes += n->size;
	} else if (n->type == NODE_SYMLINK) {
		c->stats.symlinks++;
	} else {
		c->stats.other++;
	}
}

/* The first steps for n: in a dry run, count it and stop; else check that
 * name may be replaced and make the temp entry (make_temp).  Returns what
 * make_temp returns, or -1 when there is nothing more to do (a dry run, or
 * a failure recorded, as "<what>" for make_temp's). */
static int begin_temp(struct rs_ctx *c, const struct node *n, int dirfd, const char *name,
		      mode_t fmt, const char *what, char tmp[256])
{
	if (c->opts->dry_run) {
		/* dirfd is -1 below a directory that does not exist yet. */
		if (dirfd < 0 || target_ok(c, dirfd, name, n))
			rs_count(c, n);
		return -1;
	}
	if (!target_ok(c, dirfd, name, n))
		return -1;
	int r = make_temp(&c->rnd, dirfd, name, n, fmt, tmp);
	if (r < 0) {
		rs_fail(c, r, what);
		return -1;
	}
	return r;
}

/* The last step for the temp entry tmp made for n: renamed over name if
 * what (a failure text, err its errno) is NULL, else removed and the
 * failure recorded.  Returns 0 (a failed path is not an error of the
 * whole restore). */
static int finish_temp(struct rs_ctx *c, const struct node *n, int dirfd, const char *tmp,
		       const char *name, const char *what, int err)
{
	/* Checked again: writing the content took time, and what is at name
	 * may have changed since begin_temp. */
	if (!what && !target_ok(c, dirfd, name, n)) {
		unlinkat(dirfd, tmp, 0);
		return 0;
	}
	if (!what && renameat(dirfd, tmp, dirfd, name) < 0) {
		err = -errno;
		what = errno == EISDIR ? "exists and is a directory: left alone" : "cannot rename";
	}
	if (what) {
		unlinkat(dirfd, tmp, 0);
		rs_fail(c, err, what);
		return 0;
	}
	rs_count(c, n);
	return 0;
}

static struct timespec mtime_ts(const struct node *n)
{
	struct timespec ts = {.tv_sec = n->mtime_ns / 1000000000LL,
			      .tv_nsec = n->mtime_ns % 1000000000LL};
	if (ts.tv_nsec < 0) {
		ts.tv_nsec += 1000000000LL;
		ts.tv_sec--;
	}
	return ts;
}

/* Owner (if chown), mode, xattrs and mtime through fd.  NULL or a
 * failure text. */
static const char *set_meta(int fd, const struct node *n, bool chown, uint32_t mode, int *ret_err)
{
	/* chown first: it clears setuid/setgid, which fchmod then sets. */
	if (chown && fchown(fd, n->uid, n->gid) < 0)
		return *ret_err = -errno, "cannot set owner";
	if (fchmod(fd, mode) < 0)
		return *ret_err = -errno, "cannot set mode";
	int r = rs_set_xattrs(fd, n);
	if (r < 0)
		return *ret_err = r, "cannot set xattrs";
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_ts(n)};
	if (futimens(fd, ts) < 0)
		return *ret_err = -errno, "cannot set mtime";
	return NULL;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* Decoded chunks not yet written: written with one writev once they hold
 * RESTORE_PIECE bytes (or GATHER_MAX chunks), so a writer holds at most
 * that much plus one chunk, and makes about one write call per piece. */
#define GATHER_MAX 64

/* Every WRITEBACK_STEP bytes of a big file, the bytes just written are
 * handed to the disk (sync_file_range WRITE: starts writeback, waits for
 * nothing).  Otherwise the kernel keeps them all dirty until the batch's
 * syncfs (restore_batch.c), which then writes hundreds of MiB while every
 * writer waits; started early, the disk works while the writers decode.
 * Only a start: durability, and any error, still come from the syncfs. */
#define WRITEBACK_STEP (8u << 20)

struct gather {
	struct iovec iov[GATHER_MAX];
	uint8_t *buf[GATHER_MAX]; /* what each iov came in (a short write moves iov_base) */
	size_t n;
	size_t bytes;
};

static void gather_drop(struct gather *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->buf[i]);
	g->n = 0;
	g->bytes = 0;
}

/* Write the gathered chunks and free them.  0 or a negative errno. */
static int gather_flush(int fd, struct gather *g)
{
	int r = 0;
	size_t i = 0;
	while (i < g->n && r == 0) {
		ssize_t w = writev(fd, &g->iov[i], (int)(g->n - i));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		/* Skip what was written; a short write resumes mid-chunk. */
		size_t left = (size_t)w;
		while (i < g->n && left >= g->iov[i].iov_len)
			left -= g->iov[i++].iov_len;
		if (left) {
			g->iov[i].iov_base = (uint8_t *)g->iov[i].iov_base + left;
			g->iov[i].iov_len -= left;
		}
	}
	gather_drop(g);
	return r;
}

/* Copy n's content into fd, chunk by chunk as decoded (not through the
 * chunk cache: a restore uses each chunk once), all-zero chunks as holes.
 * A failure text may be composed in msg (cap bytes). */
static const char *write_content(struct repo *repo, char *msg, size_t cap, int fd,
				 const struct node *n, int *ret_err)
{
	struct gather g = { .n = 0 };
	uint64_t off = 0, kicked = 0; /* writeback started for [0, kicked) */
	bool hole_at_end = false;
	for (size_t i = 0; i < n->nchunks; i++) {
		uint8_t *data;
		uint32_t len = n->chunks[i].len;
		int r = content_load_chunk(repo, n, i, &data);
		if (r < 0) {
			gather_drop(&g);
			*ret_err = r;
			snprintf(msg, cap, "cannot read from the repository: %s",
				 store_error() ? store_error() : strerror(-r));
			return msg;
		}
		if (all_zero(data, len)) {
			free(data);
			r = gather_flush(fd, &g);
			if (r == 0 && lseek(fd, (off_t)len, SEEK_CUR) < 0)
				r = -errno;
			hole_at_end = true;
		} else {
			g.buf[g.n] = data;
			g.iov[g.n++] = (struct iovec){ .iov_base = data, .iov_len = len };
			g.bytes += len;
			hole_at_end = false;
			if (g.n == GATHER_MAX || g.bytes >= RESTORE_PIECE)
				r = gather_flush(fd, &g);
		}
		if (r == 0 && g.n == 0 && off + len - kicked >= WRITEBACK_STEP) {
			sync_file_range(fd, (off_t)kicked, (off_t)(off + len - kicked),
					SYNC_FILE_RANGE_WRITE);
			kicked = off + len;
		}
		if (r < 0) {
			gather_drop(&g);
			return *ret_err = r, "cannot write";
		}
		off += len;
	}
	int r = gather_flush(fd, &g);
	if (r < 0)
		return *ret_err = r, "cannot write";
	if (off != n->size) {
		*ret_err = -STORE_ECORRUPT;
		return "size disagrees with its chunks in the snapshot";
	}
	/* Sets the size when the file ends in a hole (a fresh temp file has
	 * exactly the bytes written otherwise). */
	if (hole_at_end && ftruncate(fd, (off_t)n->size) < 0)
		return *ret_err = -errno, "cannot write";
	return NULL;
}

const char *rs_fill_file(struct repo *repo, struct rs_rand *rnd, int dirfd, const char *name,
			 const struct node *n, const struct rs_fill *how, char *msg,
			 size_t cap, char tmp[256], int *ret_err)
{
	int fd = make_temp(rnd, dirfd, name, n, 0, tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		*ret_err = fd;
		return "cannot create a temp file";
	}
	/* No barrier here: the file is made durable with a batch of others
	 * before it is renamed over name (restore_batch.c). */
	const char *what = write_content(repo, msg, cap, fd, n, ret_err);
	if (!what)
		what = set_meta(fd, n, how->chown, how->mode, ret_err);
	if (close(fd) < 0 && !what) {
		*ret_err = -errno;
		what = "cannot write";
	}
	return what;
}

int rs_file(struct rs_ctx *c, const struct node *n, int dirfd, const char *name)
{
	if (n->flags & NODE_F_UNREADABLE) {
		rs_fail(c, -ENODATA, "could not be read when the snapshot was taken: not restored");
		return 0;
	}
	if (c->opts->dry_run) {
		/* dirfd is -1 below a directory that does not exist yet. */
		if (dirfd < 0 || target_ok(c, dirfd, name, n))
			rs_count(c, n);
		return 0;
	}
	/* In a directory this restore made, nothing can be in the way yet;
	 * the rename checks again in any case (restore_batch.c). */
	if (!c->here.fresh && !target_ok(c, dirfd, name, n))
		return 0;
	/* The batch's hold on the directory comes first: its syncfs handle
	 * must be older than the file's writes (restore_batch.c). */
	int d = rs_batch_dir(c, dirfd);
	if (d == -ENOMEM)
		return d;
	if (c->pool && d >= 0)
		return rs_pool_submit(c, n, d, name);
	/* Without the batch holding the directory (then synced alone), or
	 * without writers: in line. */
	/* chown when root, unless the file is created with its owner already
	 * (the common case: a root restore of root's files). */
	bool owned = n->uid == c->uid && c->here.gid_known && n->gid == c->here.file_gid;
	struct rs_fill how = { .chown = c->as_root && !owned, .mode = rs_mode(c, n) };
	char tmp[256];
	int err = 0;
	const char *what = rs_fill_file(c->repo, &c->rnd, dirfd, name, n, &how, c->msg,
					sizeof c->msg, tmp, &err);
	if (what) {
		if (tmp[0])
			unlinkat(dirfd, tmp, 0);
		rs_fail(c, err, what);
		return 0;
	}
	rs_count(c, n);
	return rs_batch_add(c, d, dirfd, tmp, name, n->size);
}

int rs_symlink(struct rs_ctx *c, const struct node *n, int dirfd, const char *name)
{
	if (!n->target || !n->target[0]) {
		rs_fail(c, -EINVAL, "symlink without a target in the snapshot: not restored");
		return 0;
	}
	char tmp[256];
	if (begin_temp(c, n, dirfd, name, 0, "cannot create symlink", tmp) < 0)
		return 0;
	/* AT_SYMLINK_NOFOLLOW: these act on the link itself, whatever it
	 * points to (a symlink's own mode does not exist on Linux). */
	const char *what = NULL;
	int err = 0;
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_ts(n)};
	if (c->as_root && fchownat(dirfd, tmp, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno, what = "cannot set owner";
	else if (utimensat(dirfd, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno, what = "cannot set mtime";
	return finish_temp(c, n, dirfd, tmp, name, what, err);
}

/* Open the special file just made as tmp for setting its metadata: a FIFO
 * for reading without blocking (opening it has no side effect), a device
 * as O_PATH (opening a device can act on it). */
static int open_special(int dirfd, const char *tmp, uint8_t type, char proc[64])
{
	int fd = openat(dirfd, tmp,
			(type == NODE_FIFO ? O_RDONLY | O_NONBLOCK : O_PATH) | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		snprintf(proc, 64, "/proc/self/fd/%d", fd);
	return fd;
}

int rs_special(struct rs_ctx *c, const struct node *n, int dirfd, const char *name)
{
	mode_t fmt;
	switch (n->type) {
	case NODE_FIFO:
		fmt = S_IFIFO;
		break;
	case NODE_CHR:
	case NODE_BLK:
		if (!c->opts->allow_special) {
			/* Policy, not a failure: reported, not counted as an error. */
			if (c->opts->warn)
				c->opts->warn(c->opts->ctx, c->path.s, -EPERM,
					      "device node skipped (allowed only with special files)");
			return 0;
		}
		fmt = n->type == NODE_CHR ? S_IFCHR : S_IFBLK;
		break;
	default:
		/* A socket is made by the program that binds it. */
		if (c->opts->warn)
			c->opts->warn(c->opts->ctx, c->path.s, -EOPNOTSUPP, "socket skipped");
		return 0;
	}
	char tmp[256];
	if (begin_temp(c, n, dirfd, name, fmt, "cannot create", tmp) < 0)
		return 0;
	char proc[64];
	const char *what = NULL;
	int err = 0;
	int fd = open_special(dirfd, tmp, n->type, proc);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != fmt) {
		err = fd < 0 ? -errno : -EEXIST;
		what = "cannot open what was created";
	} else if (fmt == S_IFIFO) {
		what = set_meta(fd, n, c->as_root, rs_mode(c, n), &err);
	} else {
		/* Through the fd's /proc link: the very inode, not a name. */
		struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_ts(n)};
		if (c->as_root && chown(proc, n->uid, n->gid) < 0)
			err = -errno, what = "cannot set owner";
		else if (chmod(proc, rs_mode(c, n)) < 0)
			err = -errno, what = "cannot set mode";
		else if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
			err = -errno, what = "cannot set mtime";
	}
	if (fd >= 0)
		close(fd);
	return finish_temp(c, n, dirfd, tmp, name, what, err);
}
