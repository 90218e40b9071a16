/* faultinject.c — an LD_PRELOAD shim that makes one chosen libc call fail.
 *
 *   FAULT_CALL   write | pwrite | fsync | fdatasync | syncfs | rename | open |
 *                unlink | odirect_open | odirect_io
 *                Each names a family: write is write+writev (restore writes
 *                file contents with writev); pwrite is pwrite+pwrite64; rename is
 *                rename+renameat+renameat2 ("renameat" is a synonym); open is
 *                open/open64/openat/openat64 and their _FORTIFY_SOURCE
 *                variants ("openat" is a synonym); unlink is unlink+unlinkat (gc
 *                deleting packs) — so a sweep covers every
 *                way the store and SQLite reach the call.
 *                odirect_open counts only opens that ask for O_DIRECT, and
 *                odirect_io only pread/pwrite (and their 64 forms) on an fd
 *                open with O_DIRECT: with FAULT_ERRNO=EINVAL FAULT_NTH=1
 *                FAULT_STICKY=1 they stand for a file system that refuses
 *                direct I/O at open (tmpfs before Linux 6.6, some FUSE and
 *                network file systems) or at the first transfer.
 *   FAULT_NTH    the Nth counted call of that family fails (1-based);
 *                0 or unset: count only, never fail
 *   FAULT_ERRNO  ENOSPC | EIO | EDQUOT | EROFS | EINVAL | a number (default EIO)
 *   FAULT_STICKY 1: every counted call from the Nth on fails (a disk that
 *                stays broken), not only the Nth
 *   FAULT_PREFIX only calls on paths (or fds open on paths) under this
 *                directory count; default $CKPTFS_REPO.  Unset and no
 *                CKPTFS_REPO: every call counts.
 *   FAULT_DELAY_MS instead of failing, the Nth counted call (each one from
 *                the Nth on with FAULT_STICKY) sleeps this long, then runs:
 *                a call that is slow for once (a writer stuck on the disk),
 *                so a test can see what the others do meanwhile
 *   FAULT_REPORT file to which "calls=C injected=I" is written at exit, so a
 *                test can first count the calls of a run, then sweep N.
 *
 * Only calls on the repository count, so a sweep hits the writes that
 * matter to crash safety (packs, catalog, its WAL) and not the terminal or
 * the project files being read.  For fd calls the fd's path comes from
 * /proc/self/fd (one readlink per call: fine for tests).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum family {
	F_NONE,
	F_WRITE,
	F_PWRITE,
	F_FSYNC,
	F_FDATASYNC,
	F_SYNCFS,
	F_RENAME,
	F_OPEN,
	F_UNLINK,
	F_ODIRECT_OPEN,
	F_ODIRECT_IO,
};

static const struct {
	const char *name;
	enum family f;
} families[] = {
	{ "write", F_WRITE },   { "pwrite", F_PWRITE },     { "fsync", F_FSYNC },
	{ "fdatasync", F_FDATASYNC }, { "syncfs", F_SYNCFS }, { "rename", F_RENAME },
	{ "renameat", F_RENAME },
	{ "open", F_OPEN },     { "openat", F_OPEN },
	{ "unlink", F_UNLINK }, { "unlinkat", F_UNLINK },
	{ "odirect_open", F_ODIRECT_OPEN }, { "odirect_io", F_ODIRECT_IO },
};

static enum family target = F_NONE;
static long nth;
static int fail_errno = EIO;
static bool sticky;
static long delay_ms;
static char prefix[PATH_MAX];
static size_t prefix_len;
static char report_path[PATH_MAX];
static atomic_long ncalls;
static atomic_long ninjected;

static int parse_errno(const char *s)
{
	static const struct {
		const char *n;
		int e;
	} names[] = { { "ENOSPC", ENOSPC }, { "EIO", EIO },     { "EDQUOT", EDQUOT },
		      { "EROFS", EROFS },   { "EACCES", EACCES }, { "EPERM", EPERM },
		      { "ENOMEM", ENOMEM }, { "EINTR", EINTR },   { "EINVAL", EINVAL } };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i].n))
			return names[i].e;
	int e = atoi(s);
	return e > 0 ? e : EIO;
}

__attribute__((constructor)) static void fault_init(void)
{
	const char *c = getenv("FAULT_CALL");
	if (c)
		for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
			if (!strcmp(c, families[i].name))
				target = families[i].f;
	const char *n = getenv("FAULT_NTH");
	nth = n ? atol(n) : 0;
	const char *e = getenv("FAULT_ERRNO");
	if (e)
		fail_errno = parse_errno(e);
	const char *dl = getenv("FAULT_DELAY_MS");
	delay_ms = dl ? atol(dl) : 0;
	const char *s = getenv("FAULT_STICKY");
	sticky = s && *s == '1';
	const char *p = getenv("FAULT_PREFIX");
	if (!p)
		p = getenv("CKPTFS_REPO");
	if (p && *p) {
		/* The repository may not exist yet: canonicalize what does. */
		char buf[PATH_MAX];
		if (realpath(p, buf))
			p = buf;
		snprintf(prefix, sizeof prefix, "%s", p);
		prefix_len = strlen(prefix);
		while (prefix_len > 1 && prefix[prefix_len - 1] == '/')
			prefix[--prefix_len] = 0;
	}
	const char *r = getenv("FAULT_REPORT");
	if (r)
		snprintf(report_path, sizeof report_path, "%s", r);
}

__attribute__((destructor)) static void fault_fini(void)
{
	if (!report_path[0])
		return;
	FILE *f = fopen(report_path, "w");
	if (!f)
		return;
	fprintf(f, "calls=%ld injected=%ld\n", atomic_load(&ncalls), atomic_load(&ninjected));
	fclose(f);
}

static bool under_prefix(const char *path)
{
	if (!prefix_len)
		return true;
	return !strncmp(path, prefix, prefix_len) &&
	       (path[prefix_len] == '/' || path[prefix_len] == 0);
}

static bool fd_counts(int fd)
{
	if (!prefix_len)
		return true;
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return false;
	path[n] = 0;
	return under_prefix(path);
}

static bool path_counts(int dirfd, const char *p)
{
	if (!prefix_len)
		return true;
	if (!p)
		return false;
	if (p[0] == '/')
		return under_prefix(p);
	char base[PATH_MAX];
	if (dirfd == AT_FDCWD) {
		if (!getcwd(base, sizeof base))
			return false;
	} else {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(link, base, sizeof base - 1);
		if (n <= 0)
			return false;
		base[n] = 0;
	}
	/* No normalization of "..": the store never climbs out of the
	 * repository, and a test aims at it deliberately. */
	size_t bl = strlen(base);
	if (bl + 1 + strlen(p) >= sizeof base)
		return false;
	base[bl] = '/';
	strcpy(base + bl + 1, p);
	return under_prefix(base);
}

/* Count one call of family f that concerns the repository; true if it must
 * fail (errno is then set). */
static bool inject(enum family f, bool counts)
{
	if (f != target || !counts)
		return false;
	long k = atomic_fetch_add(&ncalls, 1) + 1;
	if (nth <= 0 || k < nth || (k > nth && !sticky))
		return false;
	atomic_fetch_add(&ninjected, 1);
	if (delay_ms > 0) {
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return false;
	}
	errno = fail_errno;
	return true;
}

#define REAL(ret, name, ...)                                                   \
	static ret (*real_##name)(__VA_ARGS__);                                \
	if (!real_##name)                                                      \
		real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name);

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, write, int, const void *, size_t);
	if (target == F_WRITE && inject(F_WRITE, fd_counts(fd)))
		return -1;
	return real_write(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(ssize_t, writev, int, const struct iovec *, int);
	if (target == F_WRITE && inject(F_WRITE, fd_counts(fd)))
		return -1;
	return real_writev(fd, iov, cnt);
}

/* An fd whose transfers odirect_io fails: one open with O_DIRECT. */
static bool direct_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_DIRECT);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
	if (target == F_PWRITE && inject(F_PWRITE, fd_counts(fd)))
		return -1;
	if (target == F_ODIRECT_IO && direct_fd(fd) && inject(F_ODIRECT_IO, fd_counts(fd)))
		return -1;
	return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(ssize_t, pwrite64, int, const void *, size_t, off64_t);
	if (target == F_PWRITE && inject(F_PWRITE, fd_counts(fd)))
		return -1;
	if (target == F_ODIRECT_IO && direct_fd(fd) && inject(F_ODIRECT_IO, fd_counts(fd)))
		return -1;
	return real_pwrite64(fd, buf, n, off);
}

/* Reads fail only for odirect_io (a read-back that must fall back too). */
ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pread, int, void *, size_t, off_t);
	if (target == F_ODIRECT_IO && direct_fd(fd) && inject(F_ODIRECT_IO, fd_counts(fd)))
		return -1;
	return real_pread(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	REAL(ssize_t, pread64, int, void *, size_t, off64_t);
	if (target == F_ODIRECT_IO && direct_fd(fd) && inject(F_ODIRECT_IO, fd_counts(fd)))
		return -1;
	return real_pread64(fd, buf, n, off);
}

int fsync(int fd)
{
	REAL(int, fsync, int);
	if (target == F_FSYNC && inject(F_FSYNC, fd_counts(fd)))
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(int, fdatasync, int);
	if (target == F_FDATASYNC && inject(F_FDATASYNC, fd_counts(fd)))
		return -1;
	return real_fdatasync(fd);
}

int syncfs(int fd)
{
	REAL(int, syncfs, int);
	if (target == F_SYNCFS && inject(F_SYNCFS, fd_counts(fd)))
		return -1;
	return real_syncfs(fd);
}

int rename(const char *a, const char *b)
{
	REAL(int, rename, const char *, const char *);
	if (target == F_RENAME && inject(F_RENAME, path_counts(AT_FDCWD, b)))
		return -1;
	return real_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	REAL(int, renameat, int, const char *, int, const char *);
	if (target == F_RENAME && inject(F_RENAME, path_counts(db, b)))
		return -1;
	return real_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	REAL(int, renameat2, int, const char *, int, const char *, unsigned);
	if (target == F_RENAME && inject(F_RENAME, path_counts(db, b)))
		return -1;
	return real_renameat2(da, a, db, b, flags);
}

/* open and openat: mode is only passed on when the flags need it. */
int unlink(const char *p)
{
	REAL(int, unlink, const char *);
	if (target == F_UNLINK && inject(F_UNLINK, path_counts(AT_FDCWD, p)))
		return -1;
	return real_unlink(p);
}

int unlinkat(int d, const char *p, int flags)
{
	REAL(int, unlinkat, int, const char *, int);
	if (target == F_UNLINK && inject(F_UNLINK, path_counts(d, p)))
		return -1;
	return real_unlinkat(d, p, flags);
}

static bool needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* An open odirect_open counts. */
static bool direct_open(int flags)
{
	return target == F_ODIRECT_OPEN && (flags & O_DIRECT);
}

#define OPEN_WRAPPER(name, fam)                                                \
	int name(const char *p, int flags, ...)                                \
	{                                                                      \
		REAL(int, name, const char *, int, ...);                       \
		mode_t mode = 0;                                               \
		if (needs_mode(flags)) {                                       \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			mode = va_arg(ap, mode_t);                             \
			va_end(ap);                                            \
		}                                                              \
		if (target == fam && inject(fam, path_counts(AT_FDCWD, p)))    \
			return -1;                                             \
		if (direct_open(flags) &&                                      \
		    inject(F_ODIRECT_OPEN, path_counts(AT_FDCWD, p)))          \
			return -1;                                             \
		return real_##name(p, flags, mode);                            \
	}

#define OPENAT_WRAPPER(name, fam)                                              \
	int name(int d, const char *p, int flags, ...)                         \
	{                                                                      \
		REAL(int, name, int, const char *, int, ...);                  \
		mode_t mode = 0;                                               \
		if (needs_mode(flags)) {                                       \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			mode = va_arg(ap, mode_t);                             \
			va_end(ap);                                            \
		}                                                              \
		if (target == fam && inject(fam, path_counts(d, p)))           \
			return -1;                                             \
		if (direct_open(flags) && inject(F_ODIRECT_OPEN, path_counts(d, p)))   \
			return -1;                                             \
		return real_##name(d, p, flags, mode);                         \
	}

OPEN_WRAPPER(open, F_OPEN)
OPEN_WRAPPER(open64, F_OPEN)
OPENAT_WRAPPER(openat, F_OPEN)
OPENAT_WRAPPER(openat64, F_OPEN)

/* The _FORTIFY_SOURCE entry points. */
int __open_2(const char *p, int flags);
int __open64_2(const char *p, int flags);
int __openat_2(int d, const char *p, int flags);
int __openat64_2(int d, const char *p, int flags);

#define FORTIFY_OPEN(name, fam)                                                \
	int name(const char *p, int flags)                                     \
	{                                                                      \
		REAL(int, name, const char *, int);                            \
		if (target == fam && inject(fam, path_counts(AT_FDCWD, p)))    \
			return -1;                                             \
		if (direct_open(flags) &&                                      \
		    inject(F_ODIRECT_OPEN, path_counts(AT_FDCWD, p)))          \
			return -1;                                             \
		return real_##name(p, flags);                                  \
	}
#define FORTIFY_OPENAT(name, fam)                                              \
	int name(int d, const char *p, int flags)                              \
	{                                                                      \
		REAL(int, name, int, const char *, int);                       \
		if (target == fam && inject(fam, path_counts(d, p)))           \
			return -1;                                             \
		if (direct_open(flags) && inject(F_ODIRECT_OPEN, path_counts(d, p)))   \
			return -1;                                             \
		return real_##name(d, p, flags);                               \
	}

FORTIFY_OPEN(__open_2, F_OPEN)
FORTIFY_OPEN(__open64_2, F_OPEN)
FORTIFY_OPENAT(__openat_2, F_OPEN)
FORTIFY_OPENAT(__openat64_2, F_OPEN)
