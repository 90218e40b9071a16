/* sqlite_capture.c — a consistent copy of a live SQLite database.
 *
 * How the source is read depends on its state, because an ordinary
 * read-only open is not side-effect free: on a WAL database without a -wal
 * file it creates -wal and -shm (and leaves them), and a connection that
 * finds a hot journal or a WAL nobody has open recovers it in place.  So:
 *
 *  - WAL mode, no -wal file: nobody is writing; the main file is the whole
 *    database.  Read it with immutable=1 (no locks, no side files) and
 *    check afterwards that its stat is unchanged and no -wal appeared, else
 *    try again (someone started writing).
 *  - WAL mode, -wal present and a live connection (a lock on the -shm's
 *    DMS byte or on the database's lock bytes): open read-only in place
 *    with readonly_shm=1 (the live -shm is mapped read-only, so not even
 *    our read marks are written into it), and hold ONE read transaction for the whole
 *    backup while copying step_pages pages per step.  In WAL mode a reader
 *    never blocks writers (they append to the WAL; only a checkpoint waits
 *    for our read mark), and inside one read transaction the pager never
 *    resets, so the backup sees one snapshot and never restarts.  This is
 *    why we prefer it to the plain step loop, which would restart every
 *    time a writer commits.
 *  - WAL mode, -wal present but nobody has it open (a crash, or
 *    PERSIST_WAL), or rollback mode with a hot journal: copy the database
 *    and its -wal/-journal into the private temp dir (checking both files'
 *    stat before and after), and open that copy read-write so SQLite
 *    recovers there, not in the project.
 *  - Rollback mode: open read-only in place and step without holding a
 *    transaction (holding one would lock writers out for the whole copy).
 *    A commit by another process between steps restarts the backup; after
 *    max_restarts, a database of at most hold_max bytes is read whole into
 *    memory under its shared lock (writers wait for that one read from the
 *    page cache, a few ms), a larger one gives up (-EAGAIN: the caller
 *    stores it raw and says so).
 *
 * SQLITE_BUSY/SQLITE_LOCKED are retried with a growing sleep up to busy_ms
 * in total.  The connection is opened with NO_CKPT_ON_CLOSE and PERSIST_WAL
 * so closing it never checkpoints or deletes anything in the project.
 */
#include "dumpers/sqlite.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/err.h"

/* Lock bytes of SQLite's unix VFS (see the file-format document). */
#define PENDING_BYTE 0x40000000
#define SHM_DMS_BYTE 128

bool dumper_sqlite_is_db(int fd, const struct stat *st)
{
	char hdr[16];
	if (!S_ISREG(st->st_mode) || st->st_size < 512)
		return false;
	if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
		return false;
	return memcmp(hdr, DUMPER_SQLITE_HEADER, 16) == 0;
}

void dumper_sqlite_limits_default(struct dumper_sqlite_limits *lim)
{
	lim->step_pages = 128;
	lim->busy_ms = 5000;
	lim->max_restarts = 8;
	/* Writers wait while a locked step copies: keep it to a few ms. */
	lim->hold_max = 4ull << 20;
}

char *dumper_sqlite_uri(const char *path, const char *query)
{
	size_t n = strlen(path), q = query ? strlen(query) : 0;
	char *u = malloc(5 + 3 * n + 1 + q + 1), *o = u;
	if (!u)
		return NULL;
	o += sprintf(o, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= 0x20 || *p >= 0x7f)
			o += sprintf(o, "%%%02X", *p);
		else
			*o++ = (char)*p;
	}
	if (q)
		o += sprintf(o, "?%s", query);
	*o = '\0';
	return u;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool exists(const char *path, const char *suffix)
{
	char p[PATH_MAX];
	struct stat st;
	if (snprintf(p, sizeof p, "%s%s", path, suffix) >= (int)sizeof p)
		return false;
	return lstat(p, &st) == 0;
}

/* Does another process hold a lock in [off, off+len) of file?  (fcntl locks
 * of our own process are not reported, but we hold none on the project's
 * files here.)  Missing file: no. */
static bool locked_by_other(const char *file, off_t off, off_t len)
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = len};
	bool locked = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	/* Closing drops this process's fcntl locks on the file; we have none. */
	close(fd);
	return locked;
}

static bool live_connection(const char *path)
{
	char shm[PATH_MAX];
	snprintf(shm, sizeof shm, "%s-shm", path);
	return locked_by_other(shm, SHM_DMS_BYTE, 1) ||
	       locked_by_other(path, PENDING_BYTE, 512 + 2);
}

/* stat of path+suffix; a missing file gives st_ino 0 (so that a file that
 * appears or vanishes counts as a change). */
static int stat_sfx(const char *path, const char *suffix, struct stat *st)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s%s", path, suffix);
	if (lstat(p, st) == 0)
		return 0;
	memset(st, 0, sizeof *st);
	return errno == ENOENT ? 0 : store_failp(-errno, "%s", p);
}

/* Copy src+suffix to dst+suffix (nothing if src+suffix does not exist). */
static int copy_file(const char *src, const char *dst, const char *suffix)
{
	char s[PATH_MAX], d[PATH_MAX];
	snprintf(s, sizeof s, "%s%s", src, suffix);
	snprintf(d, sizeof d, "%s%s", dst, suffix);
	int in = open(s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME | O_NONBLOCK);
	if (in < 0 && errno == EPERM)
		in = open(s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return errno == ENOENT ? 0 : store_failp(-errno, "%s", s);
	int r = 0;
	struct stat ist;
	if (fstat(in, &ist) < 0 || !S_ISREG(ist.st_mode)) { /* swapped in since the check */
		close(in);
		return store_fail(-EINVAL, "%s: not a regular file", s);
	}
	int out = open(d, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = store_failp(-errno, "%s", d);
		goto out;
	}
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0) {
			r = store_failp(-errno, "%s", s);
			goto out;
		}
		if (n == 0)
			break;
		if (write(out, buf, (size_t)n) != n) {
			r = store_failp(-EIO, "%s", d);
			goto out;
		}
	}
out:
	if (out >= 0)
		close(out);
	close(in);
	return r;
}

/* Copy the database and its -wal or -journal as one consistent pair: both
 * files' stat must be the same before the first and after the last copy.
 * *ret_changed says they were not. */
static int copy_pair(const char *src, const char *dst, const char *side, bool *ret_changed)
{
	struct stat b0, b1, a0, a1;
	int r;
	if ((r = stat_sfx(src, "", &b0)) < 0 || (r = stat_sfx(src, side, &b1)) < 0 ||
	    (r = copy_file(src, dst, "")) < 0 || (r = copy_file(src, dst, side)) < 0 ||
	    (r = stat_sfx(src, "", &a0)) < 0 || (r = stat_sfx(src, side, &a1)) < 0)
		return r;
	*ret_changed = !same_stat(&b0, &a0) || !same_stat(&b1, &a1);
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

struct backup_state {
	const struct dumper_sqlite_limits *lim;
	int64_t deadline_us;
	int backoff_ms;
};

/* Wait a little before retrying a busy database; -EAGAIN when the budget
 * for waiting is spent. */
static int busy_wait(struct backup_state *bs, const char *path)
{
	if (now_us() >= bs->deadline_us)
		return store_fail(-EAGAIN, "%s: still locked by another process after %d ms", path,
				  bs->lim->busy_ms);
	/* Short sleeps: in rollback mode a busy writer leaves only brief
	 * gaps between its commits, and a long sleep misses most of them. */
	sleep_ms(bs->backoff_ms);
	if (bs->backoff_ms < 4)
		bs->backoff_ms *= 2;
	return 0;
}

static bool is_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Start a read transaction on src and keep it (WAL: a stable snapshot). */
static int begin_read(sqlite3 *src, struct backup_state *bs, const char *path)
{
	for (;;) {
		int rc = sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL,
				      NULL);
		if (rc == SQLITE_OK)
			return 0;
		sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
		if (!is_busy(rc))
			return store_fail(-EIO, "%s: %s", path, sqlite3_errmsg(src));
		int r = busy_wait(bs, path);
		if (r < 0)
			return r;
	}
}

/* Run a backup of src into dst, step_pages at a time (all at once if
 * step_pages < 0).  Counts restarts; -EAGAIN past max_restarts or busy_ms. */
static int backup_run(sqlite3 *src, sqlite3 *dst, int step_pages, struct backup_state *bs,
		      const char *path, struct dumper_sqlite_copy *c)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return store_fail(-EIO, "%s: backup: %s", path, sqlite3_errmsg(dst));
	int r = 0, done = -1;
	for (;;) {
		int64_t t0 = now_us();
		int rc = sqlite3_backup_step(b, step_pages);
		int64_t dt = now_us() - t0;
		if (dt > c->max_step_us)
			c->max_step_us = dt;
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_OK) {
			int d = sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b);
			/* Progress went back: another process wrote the source
			 * between steps and the backup started over. */
			if (d <= done && ++c->restarts > (unsigned)bs->lim->max_restarts) {
				r = store_fail(-EAGAIN, "%s: written to during every copy attempt (%u restarts)",
					       path, c->restarts);
				break;
			}
			done = d;
			continue;
		}
		if (is_busy(rc)) {
			r = busy_wait(bs, path);
			if (r < 0)
				break;
			continue;
		}
		r = store_fail(-EIO, "%s: backup: %s", path, sqlite3_errstr(rc));
		break;
	}
	c->pages = (uint64_t)sqlite3_backup_pagecount(b);
	int rc = sqlite3_backup_finish(b);
	if (r == 0 && rc != SQLITE_OK)
		r = store_fail(-EIO, "%s: backup: %s", path, sqlite3_errmsg(dst));
	return r;
}

/* Rollback mode, a writer that never leaves a gap long enough for the
 * stepwise backup: hold a read transaction (the SHARED lock: no writer can
 * change the database file meanwhile, and no hot journal is left after
 * SQLite has taken it) just long enough to read the file into memory — a
 * plain read from the page cache, several times faster than a backup
 * step through the pager — then write the copy with the lock released.
 * Our fd on the file is opened before and closed after the transaction:
 * closing any fd of a file drops all of this process's fcntl locks on
 * it, SQLite's included. */
static int read_locked(sqlite3 *src, const char *path, const char *dst_path,
		       struct backup_state *bs, struct dumper_sqlite_copy *c)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "%s", path);
	char *buf = NULL;
	size_t len = 0;
	int r = begin_read(src, bs, path);
	if (r < 0)
		goto out;
	int64_t t0 = now_us();
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = store_failp(-errno, "%s", path);
	} else if ((uint64_t)st.st_size > bs->lim->hold_max) {
		r = store_fail(-EAGAIN, "%s: grew past %llu bytes while being captured", path,
			       (unsigned long long)bs->lim->hold_max);
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		r = -ENOMEM;
	} else {
		while (len < (size_t)st.st_size) {
			ssize_t n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? store_failp(-errno, "%s", path)
					  : store_fail(-EAGAIN, "%s: shrank while being read", path);
				break;
			}
			len += (size_t)n;
		}
	}
	sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	int64_t dt = now_us() - t0;
	if (dt > c->max_step_us)
		c->max_step_us = dt;
	if (r < 0)
		goto out;
	int out = open(dst_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		r = store_failp(-errno, "%s", dst_path);
		goto out;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(out, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = store_failp(n < 0 ? -errno : -EIO, "%s", dst_path);
			break;
		}
		done += (size_t)n;
	}
	close(out);
	if (len >= 100) { /* header bytes 16-17: the page size (1 = 65536) */
		unsigned ps = (unsigned)((unsigned char)buf[16] << 8 | (unsigned char)buf[17]);
		c->pages = len / (ps == 1 ? 65536 : ps ? ps : 4096);
	}
out:
	free(buf);
	close(fd);
	return r;
}

static int open_db(const char *path, const char *query, int flags, sqlite3 **ret)
{
	char *uri = dumper_sqlite_uri(path, query);
	if (!uri)
		return -ENOMEM;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(uri, &db, flags | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		int r = store_fail(-EIO, "%s: open: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	sqlite3_extended_result_codes(db, 1);
	/* Never checkpoint or delete the WAL when we close. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	int persist = 1;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	*ret = db;
	return 0;
}

static int open_dest(const char *path, sqlite3 **ret)
{
	/* Made 0600 first: SQLite would create it 0644 (a plaintext copy,
	 * even in a 0700 dir, stays owner-only). */
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		int r = store_failp(-errno, "%s", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	close(fd);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int r = store_fail(-EIO, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	*ret = db;
	return 0;
}

static void remove_db_files(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
}

void dumper_sqlite_copy_clear(struct dumper_sqlite_copy *c)
{
	if (!c->path)
		return;
	remove_db_files(c->path);
	free(c->path);
	c->path = NULL;
}

enum src_kind { SRC_IMMUTABLE, SRC_LIVE_WAL, SRC_ROLLBACK, SRC_PRIVATE };

/* One attempt.  *ret_retry is set when the source changed under an
 * immutable or private read and the attempt should be repeated. */
static int attempt(const char *path, const struct stat *st, enum src_kind kind, const char *priv,
		   const char *dst_path, struct backup_state *bs, struct dumper_sqlite_copy *c,
		   bool *ret_retry)
{
	sqlite3 *src = NULL, *dst = NULL;
	const char *src_path = path;
	int r;
	bool changed = false;

	if (kind == SRC_PRIVATE) {
		remove_db_files(priv);
		if ((r = copy_pair(path, priv, c->wal ? "-wal" : "-journal", &changed)) < 0)
			goto out;
		/* Someone opened it meanwhile: their writes may be torn across
		 * the two copies (mtime granularity can hide them). */
		if (changed || live_connection(path)) {
			*ret_retry = true;
			goto out;
		}
		src_path = priv;
	}
	static const char *const query[] = {
		[SRC_IMMUTABLE] = "mode=ro&immutable=1",
		[SRC_LIVE_WAL] = "mode=ro&readonly_shm=1",
		[SRC_ROLLBACK] = "mode=ro",
		[SRC_PRIVATE] = "mode=rw",
	};
	r = open_db(src_path, query[kind], kind == SRC_PRIVATE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
		    &src);
	if (r < 0)
		goto out;
	if ((r = open_dest(dst_path, &dst)) < 0)
		goto out;
	if (kind == SRC_LIVE_WAL) {
		if ((r = begin_read(src, bs, path)) < 0)
			goto out;
		c->method = "backup-held";
		r = backup_run(src, dst, bs->lim->step_pages, bs, path, c);
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	} else if (kind == SRC_ROLLBACK) {
		c->method = "backup";
		r = backup_run(src, dst, bs->lim->step_pages, bs, path, c);
		if (r == -EAGAIN && c->restarts > (unsigned)bs->lim->max_restarts &&
		    (uint64_t)st->st_size <= bs->lim->hold_max) {
			/* Small enough to read in one go under the shared lock.
			 * The destination (journal off) holds a torn copy: it is
			 * replaced by the file's bytes as they are under the lock. */
			store_error_clear();
			sqlite3_close(dst);
			dst = NULL;
			remove_db_files(dst_path);
			c->method = "read-locked";
			bs->deadline_us = now_us() + (int64_t)bs->lim->busy_ms * 1000;
			r = read_locked(src, path, dst_path, bs, c);
		}
	} else {
		c->method = kind == SRC_IMMUTABLE ? "immutable" : "private-recovery";
		r = backup_run(src, dst, -1, bs, path, c);
	}
	if (r < 0)
		goto out;
	if (kind == SRC_IMMUTABLE) {
		struct stat now;
		if (lstat(path, &now) < 0 || !same_stat(st, &now) || exists(path, "-wal"))
			*ret_retry = true;
	}
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (kind == SRC_PRIVATE)
		remove_db_files(priv);
	return r;
}

int dumper_sqlite_capture(const char *path, const struct stat *st, const char *tmpdir,
			  const struct dumper_sqlite_limits *lim, struct dumper_sqlite_copy *ret)
{
	static unsigned long seq;
	struct dumper_sqlite_copy c = {0};
	struct backup_state bs = {.lim = lim, .deadline_us = now_us() + (int64_t)lim->busy_ms * 1000,
				  .backoff_ms = 1};
	char dst[PATH_MAX], priv[PATH_MAX];
	unsigned long n = ++seq;
	snprintf(dst, sizeof dst, "%s/copy-%lu.db", tmpdir, n);
	snprintf(priv, sizeof priv, "%s/src-%lu.db", tmpdir, n);

	struct stat now;
	if (lstat(path, &now) < 0)
		return store_failp(-errno, "%s", path);
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return store_fail(-EAGAIN, "%s: replaced while being captured", path);

	/* A FIFO or device named like a side file would block every open
	 * of it (SQLite's included) with the writer lock held: the database
	 * is then stored as it is, with a warning. */
	static const char *const side[] = {"-wal", "-journal", "-shm"};
	for (size_t i = 0; i < sizeof side / sizeof *side; i++) {
		char p[PATH_MAX];
		struct stat sst;
		if (snprintf(p, sizeof p, "%s%s", path, side[i]) < (int)sizeof p && lstat(p, &sst) == 0 &&
		    !S_ISREG(sst.st_mode))
			return store_fail(-EINVAL, "%s: not a regular file", p);
	}
	int r = 0;
	for (int tries = 0;; tries++) {
		/* Byte 18 of the header: 2 = WAL. */
		unsigned char hdr[20];
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return store_failp(-errno, "%s", path);
		ssize_t got = pread(fd, hdr, sizeof hdr, 0);
		close(fd);
		if (got != (ssize_t)sizeof hdr)
			return store_fail(-EAGAIN, "%s: header unreadable", path);
		c.wal = hdr[18] == 2;

		enum src_kind kind;
		if (c.wal && !exists(path, "-wal"))
			kind = SRC_IMMUTABLE;
		else if (c.wal)
			kind = live_connection(path) ? SRC_LIVE_WAL : SRC_PRIVATE;
		else if (exists(path, "-journal") && !live_connection(path))
			kind = SRC_PRIVATE; /* possibly a hot journal: recover privately */
		else
			kind = SRC_ROLLBACK;

		unlink(dst);
		bool retry = false;
		c.restarts = 0;
		r = attempt(path, st, kind, priv, dst, &bs, &c, &retry);
		if (r == 0 && !retry)
			break;
		if (r < 0) /* each kind has used its own retry budget */
			goto fail;
		if (tries >= lim->max_restarts) {
			r = store_fail(-EAGAIN, "%s: kept changing while being read", path);
			goto fail;
		}
		if (now_us() >= bs.deadline_us) {
			r = store_fail(-EAGAIN, "%s: kept changing for %d ms", path, lim->busy_ms);
			goto fail;
		}
		sleep_ms(5);
	}
	c.path = strdup(dst);
	if (!c.path) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	remove_db_files(dst);
	return r;
}
