/* test_dumper_sqlite.c — consistent SQLite copies and drills.
 *
 * Writers run in child processes (fcntl locks of our own process are not
 * visible to our own lock probes, as for any real app).  Every test checks
 * that the project directory is byte-for-byte and stat-for-stat unchanged
 * after capturing (except where a live writer changes it by itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/sqlite.h"
#include "store/err.h"
#include "tests/tmpdir.h"

struct fx {
	char dir[64];  /* the "project" */
	char tmp[64];  /* private temp dir */
	char db[128];
	pid_t child;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/ckptfs-tds-XXXXXX");
	strcpy(f->tmp, "/tmp/ckptfs-tdt-XXXXXX");
	if (!mkdtemp(f->dir) || !mkdtemp(f->tmp))
		return -1;
	snprintf(f->db, sizeof f->db, "%s/app.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	tmpdir_remove(f->dir);
	tmpdir_remove(f->tmp);
	free(f);
	return 0;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sql %s: %s\n", sql, err);
		_exit(99);
	}
}

/* A database with accounts whose balances add up to 1000 * n. */
static void make_db(const char *path, const char *journal, int n, int pad)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char sql[256];
	snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", journal);
	exec_sql(db, sql);
	exec_sql(db, "CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER, pad BLOB);"
		     "CREATE INDEX acct_bal ON acct(bal); CREATE TABLE empty(x); BEGIN");
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO acct VALUES(%d, 1000, randomblob(%d))", i, pad);
		exec_sql(db, sql);
	}
	exec_sql(db, "COMMIT");
	sqlite3_close(db);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name|size|mtime|hash of every file in dir, sorted by readdir+qsort. */
static char *dir_state(const char *dir, bool with_content)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	char *lines[64];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		if (e->d_name[0] == '.')
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		assert_int_equal(lstat(p, &st), 0);
		unsigned long long h = 1469598103934665603ull;
		if (with_content) {
			FILE *fp = fopen(p, "rb");
			int c;
			while (fp && (c = fgetc(fp)) != EOF)
				h = (h ^ (unsigned)c) * 1099511628211ull;
			if (fp)
				fclose(fp);
		}
		char *l;
		if (asprintf(&l, "%s|%lld|%ld.%09ld|%llx\n", e->d_name, (long long)st.st_size,
			     (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, with_content ? h : 0ull) < 0)
			fail();
		lines[n++] = l;
	}
	closedir(d);
	qsort(lines, n, sizeof *lines, cmp_str);
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]);
	char *out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	return out;
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	char *uri = dumper_sqlite_uri(path, "mode=ro&immutable=1");
	assert_int_equal(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL), SQLITE_OK);
	free(uri);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void capture_ok(struct fx *f, struct dumper_sqlite_copy *c)
{
	struct stat st;
	assert_int_equal(stat(f->db, &st), 0);
	struct dumper_sqlite_limits lim;
	dumper_sqlite_limits_default(&lim);
	int r = dumper_sqlite_capture(f->db, &st, f->tmp, &lim, c);
	if (r < 0)
		fprintf(stderr, "capture: %s\n", store_error());
	assert_int_equal(r, 0);
}

static void header_detection(void **state)
{
	struct fx *f = *state;
	make_db(f->db, "delete", 3, 10);
	char txt[160];
	snprintf(txt, sizeof txt, "%s/notes.txt", f->dir);
	FILE *fp = fopen(txt, "w");
	for (int i = 0; i < 100; i++)
		fputs("SQLite format 2 is not this\n", fp);
	fclose(fp);
	struct stat st;
	int fd = open(f->db, O_RDONLY);
	fstat(fd, &st);
	assert_true(dumper_sqlite_is_db(fd, &st));
	close(fd);
	fd = open(txt, O_RDONLY);
	fstat(fd, &st);
	assert_false(dumper_sqlite_is_db(fd, &st));
	close(fd);
}

static void uri_escaping(void **state)
{
	(void)state;
	char *u = dumper_sqlite_uri("/a b/c?d#e%f.db", "mode=ro");
	assert_string_equal(u, "file:/a%20b/c%3Fd%23e%25f.db?mode=ro");
	free(u);
}

static void rollback_quiet(void **state)
{
	struct fx *f = *state;
	make_db(f->db, "delete", 500, 100);
	char *before = dir_state(f->dir, true);
	struct dumper_sqlite_copy c;
	capture_ok(f, &c);
	assert_string_equal(c.method, "backup");
	assert_false(c.wal);
	assert_int_equal(query_int(c.path, "SELECT sum(bal) FROM acct"), 500 * 1000);
	struct dumper_drill d;
	assert_int_equal(dumper_sqlite_drill(c.path, &d), 0);
	assert_true(d.ok);
	assert_string_equal(d.check, "ok");
	assert_string_equal(d.how, "integrity_check");
	assert_int_equal(d.ntables, 2);
	assert_string_equal(d.tables[0].name, "acct");
	assert_int_equal(d.tables[0].rows, 500);
	assert_string_equal(d.tables[1].name, "empty");
	assert_int_equal(d.tables[1].rows, 0);
	dumper_drill_clear(&d);
	dumper_sqlite_copy_clear(&c);
	char *after = dir_state(f->dir, true);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void wal_quiet_immutable(void **state)
{
	struct fx *f = *state;
	make_db(f->db, "wal", 200, 100);
	char *before = dir_state(f->dir, true);
	assert_null(strstr(before, "-wal"));
	struct dumper_sqlite_copy c;
	capture_ok(f, &c);
	assert_string_equal(c.method, "immutable");
	assert_true(c.wal);
	assert_int_equal(query_int(c.path, "SELECT count(*) FROM acct"), 200);
	dumper_sqlite_copy_clear(&c);
	char *after = dir_state(f->dir, true);
	assert_string_equal(before, after); /* no -wal, no -shm left behind */
	free(before);
	free(after);
}

/* A child writes committed rows into the WAL (no checkpoint) and then
 * either stays (live) or dies without closing (crash leftover). */
static pid_t wal_writer(const char *path, bool stay, int ready_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		_exit(98);
	exec_sql(db, "PRAGMA wal_autocheckpoint=0; INSERT INTO acct VALUES(100000, 7, NULL)");
	if (write(ready_fd, "x", 1) != 1)
		_exit(97);
	if (stay)
		pause();
	_exit(0);
}

static void wal_live_and_leftover(void **state)
{
	struct fx *f = *state;
	for (int stay = 1; stay >= 0; stay--) {
		make_db(f->db, "wal", 200, 100);
		int p[2];
		assert_int_equal(pipe(p), 0);
		f->child = wal_writer(f->db, stay, p[1]);
		char x;
		assert_int_equal(read(p[0], &x, 1), 1);
		close(p[0]);
		close(p[1]);
		if (!stay) {
			waitpid(f->child, NULL, 0);
			f->child = 0;
		}
		char *before = dir_state(f->dir, true);
		assert_non_null(strstr(before, "app.db-wal"));
		struct dumper_sqlite_copy c;
		capture_ok(f, &c);
		assert_string_equal(c.method, stay ? "backup-held" : "private-recovery");
		/* The committed row that lives only in the WAL is in the copy. */
		assert_int_equal(query_int(c.path, "SELECT count(*) FROM acct"), 201);
		dumper_sqlite_copy_clear(&c);
		char *after = dir_state(f->dir, true);
		assert_string_equal(before, after);
		free(before);
		free(after);
		if (stay) {
			kill(f->child, SIGKILL);
			waitpid(f->child, NULL, 0);
			f->child = 0;
		}
		unlink(f->db);
		char s[200];
		snprintf(s, sizeof s, "%s-wal", f->db);
		unlink(s);
		snprintf(s, sizeof s, "%s-shm", f->db);
		unlink(s);
	}
}

/* Move amounts between random accounts forever; the total never changes.
 * *commits (shared with the parent) counts the committed transfers, so the
 * test can tell that the writer really ran while it copied. */
static pid_t transfer_writer(const char *path, int ready_fd, int think_us,
			     volatile unsigned long *commits)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		_exit(98);
	sqlite3_busy_timeout(db, 5000);
	unsigned seed = (unsigned)getpid();
	for (long i = 0;; i++) {
		char sql[256];
		int a = rand_r(&seed) % 2000, b = rand_r(&seed) % 2000, amt = rand_r(&seed) % 100;
		snprintf(sql, sizeof sql,
			 "BEGIN IMMEDIATE; UPDATE acct SET bal=bal-%d WHERE id=%d;"
			 "UPDATE acct SET bal=bal+%d WHERE id=%d; COMMIT",
			 amt, a, amt, b);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
			__atomic_add_fetch(commits, 1, __ATOMIC_RELAXED);
		else
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		if (i == 20 && write(ready_fd, "x", 1) != 1)
			_exit(97);
		if (think_us)
			usleep((useconds_t)think_us);
	}
}

static unsigned long commits_now(volatile unsigned long *commits)
{
	return __atomic_load_n(commits, __ATOMIC_RELAXED);
}

/* Capture with lim and check the copy: it passes integrity_check, has all
 * its rows, and the writer's invariant holds (one committed state, not a
 * mix of two). */
static void capture_consistent(struct fx *f, const struct dumper_sqlite_limits *lim,
			       struct dumper_sqlite_copy *c)
{
	struct stat st;
	assert_int_equal(stat(f->db, &st), 0);
	int r = dumper_sqlite_capture(f->db, &st, f->tmp, lim, c);
	if (r < 0)
		fprintf(stderr, "capture: %s\n", store_error());
	assert_int_equal(r, 0);
	struct dumper_drill d;
	assert_int_equal(dumper_sqlite_drill(c->path, &d), 0);
	if (!d.ok)
		fprintf(stderr, "drill: %s\n", d.check);
	assert_true(d.ok);
	assert_int_equal(d.tables[0].rows, 2000);
	dumper_drill_clear(&d);
	assert_int_equal(query_int(c->path, "SELECT sum(bal) FROM acct"), 2000 * 1000);
}

/* Start the writer on a fresh database; returns its commit counter. */
static volatile unsigned long *start_writer(struct fx *f, const char *journal)
{
	make_db(f->db, journal, 2000, 1500);
	volatile unsigned long *commits =
		mmap(NULL, sizeof *commits, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(commits != MAP_FAILED);
	int p[2];
	assert_int_equal(pipe(p), 0);
	/* In rollback mode a writer that never pauses starves every reader
	 * (its commit holds PENDING/EXCLUSIVE almost all the time); real apps
	 * pause, so that writer does too.  In WAL mode it never pauses. */
	f->child = transfer_writer(f->db, p[1], strcmp(journal, "wal") ? 1000 : 0, commits);
	char x;
	assert_int_equal(read(p[0], &x, 1), 1);
	close(p[0]);
	close(p[1]);
	return commits;
}

/* The limits of these tests: the defaults, but no time limit that a
 * loaded machine could hit (waiting for locks is bounded by busy_ms, and
 * that bound is tested by test_dumper_session's busy_stored_raw; here a
 * starved capture must simply take longer, never fail). */
static void patient_limits(struct dumper_sqlite_limits *lim)
{
	dumper_sqlite_limits_default(lim);
	lim->busy_ms = 120 * 1000;
}

static void concurrent(struct fx *f, const char *journal)
{
	int repeats = getenv("CKPTFS_LONG") ? 100 : 10;
	volatile unsigned long *commits = start_writer(f, journal);
	struct dumper_sqlite_limits lim;
	patient_limits(&lim);
	int64_t worst = 0;
	unsigned restarts = 0, during = 0;
	const char *method = "";
	/* repeats copies, and on until the writer committed during one (how
	 * soon depends on the scheduler — a loaded machine may not run the
	 * writer during the first ten — whether it happens does not). */
	int i;
	for (i = 0; i < repeats || (!during && i < 1000); i++) {
		struct dumper_sqlite_copy c;
		unsigned long before = commits_now(commits);
		capture_consistent(f, &lim, &c);
		during += commits_now(commits) != before;
		if (c.max_step_us > worst)
			worst = c.max_step_us;
		restarts += c.restarts;
		method = c.method;
		dumper_sqlite_copy_clear(&c);
	}
	/* The copies were made while the writer committed, not in a pause. */
	assert_true(during > 0);
	print_message("%s: %d consistent copies under a writer (%s, %u restarts, writer committed "
		      "during %u), longest step %lld us\n",
		      journal, i, method, restarts, during, (long long)worst);
	munmap((void *)commits, sizeof *commits);
}

static void concurrent_wal(void **state)
{
	concurrent(*state, "wal");
}

static void concurrent_rollback(void **state)
{
	concurrent(*state, "delete");
}

/* Rollback mode, the fallback: when a writer keeps restarting the stepwise
 * backup, a small database is read whole under its shared lock.  With one
 * page per step and no restart allowed, any commit during a capture forces
 * it; the loop runs until it has happened a few times (how soon depends on
 * the scheduler, whether it happens does not), and every copy, by either
 * method, must be consistent. */
static void concurrent_rollback_fallback(void **state)
{
	struct fx *f = *state;
	volatile unsigned long *commits = start_writer(f, "delete");
	struct dumper_sqlite_limits lim;
	patient_limits(&lim);
	lim.step_pages = 1;
	lim.max_restarts = 0;
	int held = 0, n = 0;
	for (; held < 3 && n < 1000; n++) {
		struct dumper_sqlite_copy c;
		capture_consistent(f, &lim, &c);
		if (!strcmp(c.method, "read-locked")) {
			assert_true(c.restarts > 0);
			held++;
		} else {
			assert_string_equal(c.method, "backup");
		}
		dumper_sqlite_copy_clear(&c);
	}
	assert_int_equal(held, 3);
	print_message("delete: read whole under the shared lock 3 times in %d captures (%lu commits)\n",
		      n, commits_now(commits));
	munmap((void *)commits, sizeof *commits);
}

static void drill_finds_damage(void **state)
{
	struct fx *f = *state;
	make_db(f->db, "delete", 3000, 50);
	int64_t pgsz = query_int(f->db, "PRAGMA page_size");
	int64_t npg = query_int(f->db, "PRAGMA page_count");
	/* Scribble over a page in the middle (table or index b-tree). */
	int fd = open(f->db, O_WRONLY);
	char junk[512];
	memset(junk, 0x5a, sizeof junk);
	assert_int_equal(pwrite(fd, junk, sizeof junk, (npg / 2) * pgsz), (ssize_t)sizeof junk);
	close(fd);
	struct dumper_drill d;
	assert_int_equal(dumper_sqlite_drill(f->db, &d), 0);
	assert_false(d.ok);
	assert_string_not_equal(d.check, "ok");
	dumper_drill_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(header_detection, setup, teardown),
		cmocka_unit_test_setup_teardown(uri_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(wal_quiet_immutable, setup, teardown),
		cmocka_unit_test_setup_teardown(wal_live_and_leftover, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_rollback_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(drill_finds_damage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
