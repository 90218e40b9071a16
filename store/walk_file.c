/* walk_file.c — one non-directory entry of the walk: the files cache, reading
 * a regular file (and re-reading one that changes meanwhile), symlinks,
 * FIFOs, devices, sockets, and user.* xattrs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/writer.h"
#include "store/walk_internal.h"

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

void walk_fill_meta(struct node *n, const struct stat *st)
{
	n->mode = st->st_mode & 07777;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	n->mtime_ns = ts_ns(&st->st_mtim);
	n->ctime_ns = ts_ns(&st->st_ctim);
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->size = 0;
	n->rdev = 0;
}

/* A cache entry is racy when the file could still have been modified in
 * the same timestamp tick as the parent snapshot looked at it: a later
 * write would leave (size, mtime, ctime) unchanged.  Linux stamps files
 * from a coarse clock that lags the real time by up to a jiffy (10 ms at
 * HZ=100), so anything within 100 ms of the parent's start is re-read; on
 * filesystems with whole-second times (both nanosecond fields zero) the
 * window is 2 s (FAT's granularity). */
bool walk_racy_at(int64_t snap_time_ns, int64_t mtime_ns, int64_t ctime_ns)
{
	int64_t t = mtime_ns > ctime_ns ? mtime_ns : ctime_ns;
	bool coarse = mtime_ns % 1000000000LL == 0 && ctime_ns % 1000000000LL == 0;
	int64_t window = coarse ? WALK_RACY_COARSE_NS : WALK_RACY_NS;
	return t >= snap_time_ns - window;
}

bool walk_racy(const struct walk_ctx *c, int64_t mtime_ns, int64_t ctime_ns)
{
	return walk_racy_at(c->opts->parent_time_ns, mtime_ns, ctime_ns);
}

static int xattr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_xattr *)a)->name, ((const struct node_xattr *)b)->name);
}

static void xattrs_clear(struct node *n)
{
	for (size_t i = 0; i < n->nxattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	n->xattrs = NULL;
	n->nxattrs = 0;
}

/* Only user.* xattrs are recorded: security.* and trusted.* belong to the
 * machine (SELinux labels, capabilities), system.* ACLs to the mode bits'
 * world.  Linux allows user.* only on regular files and directories, so
 * other types are not asked. */
int walk_read_xattrs(int fd, struct node *n)
{
	char *names = NULL;
	ssize_t len;
	for (;;) {
		len = flistxattr(fd, NULL, 0);
		if (len <= 0)
			break;
		char *p = realloc(names, (size_t)len);
		if (!p) {
			free(names);
			return -ENOMEM;
		}
		names = p;
		len = flistxattr(fd, names, (size_t)len);
		if (len >= 0 || errno != ERANGE)
			break;
	}
	if (len < 0) {
		int err = errno;
		free(names);
		return err == ENOTSUP ? 0 : -err;
	}
	int r = 0;
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		if (strncmp(name, "user.", 5) != 0)
			continue;
		ssize_t vlen = fgetxattr(fd, name, NULL, 0);
		uint8_t *value = NULL;
		while (vlen >= 0) {
			uint8_t *v = realloc(value, vlen ? (size_t)vlen : 1);
			if (!v) {
				vlen = -1;
				errno = ENOMEM;
				break;
			}
			value = v;
			ssize_t got = fgetxattr(fd, name, value, (size_t)vlen);
			if (got >= 0 || errno != ERANGE) {
				vlen = got;
				break;
			}
			vlen = fgetxattr(fd, name, NULL, 0);
		}
		if (vlen < 0) {
			free(value);
			if (errno == ENODATA) /* removed meanwhile */
				continue;
			r = -errno;
			break;
		}
		struct node_xattr *x = realloc(n->xattrs, (n->nxattrs + 1) * sizeof(*x));
		char *dup = strdup(name);
		if (x)
			n->xattrs = x;
		if (!x || !dup) {
			free(dup);
			free(value);
			r = -ENOMEM;
			break;
		}
		x[n->nxattrs++] = (struct node_xattr){.name = dup, .value = value,
						      .value_len = (size_t)vlen};
	}
	free(names);
	if (r < 0) {
		xattrs_clear(n);
		return r;
	}
	if (n->nxattrs > 1)
		qsort(n->xattrs, n->nxattrs, sizeof(*n->xattrs), xattr_cmp);
	return 0;
}

/* The walk's reader for writer_put_stream: keeps a source error apart from
 * a repository error, and counts what it reads. */
struct file_src {
	struct walk_ctx *c;
	int fd;
	int err; /* negative errno of read(), 0 if none */
};

static int src_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct file_src *s = ctx;
	ssize_t n;
	do
		n = read(s->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->err = -errno;
		return s->err;
	}
	s->c->res.read_bytes += (uint64_t)n;
	walk_scout_consumed(s->c->scout, s->c->res.read_bytes);
	*ret_n = (size_t)n;
	return 0;
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && ts_ns(&a->st_mtim) == ts_ns(&b->st_mtim) &&
	       ts_ns(&a->st_ctim) == ts_ns(&b->st_ctim);
}

static void drop_content(struct node *n)
{
	free(n->chunks);
	n->chunks = NULL;
	n->nchunks = 0;
}

/* Record n as unreadable metadata: no chunks, the stat size kept. */
static void mark_unreadable(struct walk_ctx *c, struct node *n, uint64_t size, int err,
			    const char *what)
{
	drop_content(n);
	n->size = size;
	n->flags |= NODE_F_UNREADABLE;
	walk_warn(c, err, what);
	c->res.partial = true;
}

/* Read fd into n, again while its stat keeps changing. */
static int read_file(struct walk_ctx *c, int fd, struct stat *st, struct node *n)
{
	for (int try = 0; try < WALK_READ_TRIES; try++) {
		if (try && lseek(fd, 0, SEEK_SET) < 0) {
			mark_unreadable(c, n, (uint64_t)st->st_size, -errno, "cannot read");
			return 0;
		}
		struct file_src src = {.c = c, .fd = fd};
		int r = writer_put_stream(c->w, src_read, &src, n);
		if (r < 0 && src.err) {
			mark_unreadable(c, n, (uint64_t)st->st_size, src.err, "cannot read");
			return 0;
		}
		if (r < 0)
			return r;
		struct stat after;
		if (fstat(fd, &after) < 0) {
			mark_unreadable(c, n, (uint64_t)st->st_size, -errno, "cannot read");
			return 0;
		}
		bool stable = stat_same(st, &after) && (uint64_t)after.st_size == n->size;
		/* The metadata recorded is that of the last stat after a read. */
		uint64_t size = n->size;
		*st = after;
		walk_fill_meta(n, st);
		n->size = size;
		if (stable)
			return 0;
	}
	/* Keep the last read.  The flag keeps the files cache from ever
	 * reusing it. */
	n->flags |= NODE_F_CHANGING;
	walk_warn(c, 0, "changed while read");
	c->res.partial = true;
	return 0;
}

/* Every chunk of n is in the repository as a data chunk. */
static bool chunks_held(const struct walk_ctx *c, const struct node *n)
{
	for (size_t i = 0; i < n->nchunks; i++)
		if (!writer_has(c->w, &n->chunks[i].id, BLOB_DATA))
			return false;
	return true;
}

/* The file's identity and times are those of its entry in the parent
 * snapshot, recorded safely before the parent began. */
static bool stat_unchanged(const struct walk_ctx *c, const struct stat *st, const struct node *prev)
{
	return prev && prev->type == NODE_FILE && prev->dev == st->st_dev &&
	       prev->ino == st->st_ino && prev->size == (uint64_t)st->st_size &&
	       prev->mtime_ns == ts_ns(&st->st_mtim) && prev->ctime_ns == ts_ns(&st->st_ctim) &&
	       !walk_racy(c, prev->mtime_ns, prev->ctime_ns);
}

static bool cache_hit(const struct walk_ctx *c, const struct stat *st, const struct node *prev)
{
	/* flags == 0 also rules out NODE_F_DB_COPY: a database capture is
	 * always offered to hooks->capture again. */
	return stat_unchanged(c, st, prev) && prev->flags == 0 &&
	       (!c->opts->verify_reused || chunks_held(c, prev));
}

static int open_noatime(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOATIME);
	/* O_NOATIME needs ownership of the file (or CAP_FOWNER). */
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

int walk_file(struct walk_ctx *c, int dirfd, const struct stat *st0, const struct node *prev,
	      struct node *n)
{
	const char *name = n->name;
	struct stat st = *st0;
	n->type = NODE_FILE;
	walk_fill_meta(n, &st);
	n->size = (uint64_t)st.st_size;

	/* The first changed file starts the read-ahead scout (walk.c).  A
	 * database capture whose file kept its stat does not: the capture
	 * hook reuses it unless its -wal changed, and a live database alone
	 * says nothing about the rest of the tree. */
	if (!stat_unchanged(c, &st, prev))
		walk_scout_begin(c);
	if (cache_hit(c, &st, prev)) {
		/* Unchanged since the parent snapshot: its chunks (and xattrs —
		 * changing one would have moved ctime) stand as they are. */
		char *keep = n->name;
		n->name = NULL;
		int r = node_copy(prev, n);
		free(n->name);
		n->name = keep;
		if (r < 0)
			return r;
		c->res.reused_files++;
		return 0;
	}

	/* O_NONBLOCK: if the entry was swapped for a FIFO since fstatat, the
	 * open must not hang (it has no effect on regular files). */
	int fd = open_noatime(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 1; /* gone, or now a symlink: left out like a vanished file */
		mark_unreadable(c, n, (uint64_t)st.st_size, -errno, "cannot open");
		return 0;
	}
	int r = 0;
	if (fstat(fd, &st) < 0) {
		mark_unreadable(c, n, (uint64_t)st.st_size, -errno, "cannot read");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = 1;
		goto out;
	}
	walk_fill_meta(n, &st);
	n->size = (uint64_t)st.st_size;
	int xr = walk_read_xattrs(fd, n);
	if (xr == -ENOMEM) {
		r = xr;
		goto out;
	}
	if (xr < 0) {
		walk_warn(c, xr, "cannot read xattrs");
		c->res.partial = true;
	}
	if (c->hooks->capture) {
		walk_scout_pause(c->scout);
		r = c->hooks->capture(c->hooks->ctx, c->w, c->path.s, fd, &st, n);
		walk_scout_resume(c->scout);
		if (r < 0)
			goto out;
		if (r == 1) {
			r = 0;
			goto out;
		}
	}
	r = read_file(c, fd, &st, n);
out:
	close(fd);
	return r;
}

int walk_special(struct walk_ctx *c, int dirfd, const struct stat *st, struct node *n)
{
	walk_fill_meta(n, st);
	switch (st->st_mode & S_IFMT) {
	case S_IFLNK: {
		n->type = NODE_SYMLINK;
		char buf[4096];
		ssize_t len = readlinkat(dirfd, n->name, buf, sizeof(buf));
		if (len < 0) {
			if (errno == ENOENT || errno == EINVAL)
				return 1; /* gone or no longer a symlink */
			walk_warn(c, -errno, "cannot read symlink");
			c->res.partial = true;
			return 1;
		}
		if ((size_t)len >= sizeof(buf)) {
			walk_warn(c, -ENAMETOOLONG, "cannot read symlink");
			c->res.partial = true;
			return 1;
		}
		n->target = strndup(buf, (size_t)len);
		if (!n->target)
			return -ENOMEM;
		n->size = (uint64_t)len;
		return 0;
	}
	case S_IFIFO:
		n->type = NODE_FIFO;
		return 0;
	case S_IFCHR:
		n->type = NODE_CHR;
		n->rdev = st->st_rdev;
		return 0;
	case S_IFBLK:
		n->type = NODE_BLK;
		n->rdev = st->st_rdev;
		return 0;
	case S_IFSOCK:
		n->type = NODE_SOCK;
		return 0;
	default:
		return 1; /* no other types exist on Linux */
	}
}
