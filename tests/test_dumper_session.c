/* test_dumper_session.c — the dumper session against a real repository:
 * SQLite captured through the walk hooks (copy stored, siblings skipped,
 * raw fallback, failed drill), server dumps into @databases through fake
 * tools on PATH (the real servers run in tests/e2e), notes written and
 * read back, the dry-run plan, and restore --db streaming out of the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "dumpers/docker.h"
#include "dumpers/dumpers.h"
#include "dumpers/proc.h"
#include "store/json_lite.h"
#include "dumpers/session.h"
#include "store/content.h"
#include "tests/repo_fixture.h"

struct sfx {
	struct fixture *f;
	char proj[128], bin[128];
	char *old_path;
	struct dumper_session *s;
	pid_t child;
	/* warnings seen through the outer hooks */
	int nwarn;
	char lastwarn[512];
};

static int setup(void **state)
{
	struct sfx *x = calloc(1, sizeof *x);
	void *fs = NULL;
	if (fixture_setup(&fs) < 0)
		return -1;
	x->f = fs;
	snprintf(x->proj, sizeof x->proj, "%s/proj", x->f->dir);
	snprintf(x->bin, sizeof x->bin, "%s/bin", x->f->dir);
	if (mkdir(x->proj, 0755) < 0 || mkdir(x->bin, 0755) < 0)
		return -1;
	const char *p = getenv("PATH");
	x->old_path = strdup(p ? p : "/usr/bin:/bin");
	char *np;
	if (asprintf(&np, "%s:%s", x->bin, x->old_path) < 0)
		return -1;
	setenv("PATH", np, 1);
	free(np);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct sfx *x = *state;
	if (x->child > 0) {
		kill(x->child, SIGKILL);
		waitpid(x->child, NULL, 0);
	}
	dumper_session_free(x->s);
	setenv("PATH", x->old_path, 1);
	free(x->old_path);
	void *fs = x->f;
	fixture_teardown(&fs);
	free(x);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void sql(const char *path, const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(db);
}

static int64_t sql_int(const char *path, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void outer_warn(void *ctx, const char *relpath, int err, const char *what)
{
	struct sfx *x = ctx;
	x->nwarn++;
	snprintf(x->lastwarn, sizeof x->lastwarn, "%s: %s", relpath, what);
}

/* Offer proj/rel to the capture hook as the walk would: a node with the
 * file's name and metadata.  Returns the hook's result. */
static int offer(struct sfx *x, const struct walk_hooks *h, const char *rel, struct node *n)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", x->proj, rel);
	int fd = open(p, O_RDONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	*n = (struct node){0};
	const char *slash = strrchr(rel, '/');
	n->name = strdup(slash ? slash + 1 : rel);
	n->type = NODE_FILE;
	n->mode = st.st_mode & 07777;
	n->size = (uint64_t)st.st_size;
	/* The metadata the walk records (the files cache compares it). */
	n->uid = st.st_uid;
	n->gid = st.st_gid;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	n->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	int r = h->capture(h->ctx, x->f->w, rel, fd, &st, n);
	close(fd);
	return r;
}

/* Commit nodes as the root of a snapshot (taking ownership) and reopen
 * for reading; *ret_root gets the root id. */
static void commit(struct sfx *x, struct node *nodes, size_t n, const char *notes, blob_id *ret_root)
{
	put_tree(x->f, nodes, n, ret_root);
	struct snapshot_new sn = {.project_id = x->f->project_id, .time_ns = 1, .root = *ret_root,
				  .status = SNAP_COMPLETE, .notes = notes};
	struct snapshot snap;
	CHECK(writer_commit(x->f->w, &sn, &snap));
	snapshot_clear(&snap);
}

/* Write the content of the node at path of snapshot root into file out. */
static void extract(struct sfx *x, const blob_id *root, const char *path, const char *out)
{
	struct node n;
	CHECK(tree_resolve(x->f->repo, root, path, &n));
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	char buf[65536];
	for (uint64_t off = 0; off < n.size;) {
		ssize_t k = content_read(x->f->repo, &n, off, buf, sizeof buf);
		assert_true(k > 0);
		assert_int_equal(write(fd, buf, (size_t)k), k);
		off += (uint64_t)k;
	}
	close(fd);
	node_clear(&n);
}

static void test_sqlite_copy_stored(void **state)
{
	struct sfx *x = *state;
	char db[256], plain[256], out[256];
	snprintf(db, sizeof db, "%s/app.db", x->proj);
	snprintf(plain, sizeof plain, "%s/readme.txt", x->proj);
	snprintf(out, sizeof out, "%s/out.db", x->f->dir);
	sql(db, "PRAGMA journal_mode=WAL; CREATE TABLE acct(id INTEGER PRIMARY KEY, amount INT);"
		"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<500)"
		" INSERT INTO acct SELECT i, 100 FROM c; CREATE TABLE empty(x);");
	write_file(plain, "SQLite format 3 is not at the start of this file\n", 0644);

	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks outer = {.ctx = x, .warn = outer_warn}, h;
	dumper_session_hooks(x->s, &outer, &h);
	struct node nodes[2];
	assert_int_equal(offer(x, &h, "readme.txt", &nodes[1]), 0); /* not a database */
	assert_int_equal(offer(x, &h, "app.db", &nodes[0]), 1);
	assert_true(nodes[0].flags & NODE_F_DB_COPY);
	assert_false(nodes[0].flags & NODE_F_INCONSISTENT);
	CHECK(writer_put_fd(x->f->w, open(plain, O_RDONLY), &nodes[1])); /* fd leak is fine in a test */
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.sqlite, 1);
	assert_int_equal(res.inconsistent + res.drill_failed + res.refused, 0);
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(x->nwarn, 0);

	int err;
	char *members = dumper_session_notes(x->s, &err);
	assert_non_null(members);
	char *notes;
	assert_true(asprintf(&notes, "{%s}", members) > 0);
	struct jv v;
	assert_int_equal(jv_parse(notes, &v), 0);
	const struct jv *dbs = jv_get(&v, "databases");
	assert_non_null(dbs);
	assert_int_equal(dbs->n, 1);
	assert_string_equal(jv_str(&dbs->items[0], "name"), "app.db");
	assert_string_equal(jv_str(&dbs->items[0], "kind"), "sqlite");
	assert_string_equal(jv_str(&dbs->items[0], "check"), "integrity_check");
	assert_string_equal(jv_str(&dbs->items[0], "result"), "ok");
	assert_true(jv_bool(&dbs->items[0], "ok"));
	assert_true(jv_num(&dbs->items[0], "rows", -1) == 500);
	assert_true(jv_num(&dbs->items[0], "ntables", -1) == 2);
	jv_clear(&v);
	assert_false(dumper_notes_failed(notes));

	char *printed = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&printed, &plen);
	assert_int_equal(dumper_notes_print(pf, notes), 1);
	fclose(pf);
	assert_non_null(strstr(printed, "sqlite    app.db  ok (integrity_check; 2 tables, 500 rows)"));
	assert_non_null(strstr(printed, "acct 500, empty 0"));
	free(printed);

	/* What the snapshot holds is a database with the same rows. */
	blob_id root;
	commit(x, nodes, 2, notes, &root);
	extract(x, &root, "app.db", out);
	assert_int_equal(sql_int(out, "SELECT count(*) FROM acct"), 500);
	assert_int_equal(sql_int(out, "SELECT sum(amount) FROM acct"), 50000);
	free(members);
	free(notes);
}

/* cmocka has a skip() macro: call the hook through a parenthesised name. */
static bool skipped(const struct walk_hooks *h, const char *rel)
{
	struct stat st = {0};
	return (h->skip)(h->ctx, rel, &st);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A second session with the first one's snapshot as parent: offer app.db
 * and say whether the parent's capture was reused. */
static bool reused_from(struct sfx *x, const blob_id *root, int64_t parent_time, const char *notes,
			bool legacy, struct node *ret)
{
	struct dumper_session *s2;
	CHECK(dumper_session_new(x->proj, &s2));
	dumper_session_set_parent(s2, x->f->repo, root, parent_time, notes, legacy);
	struct walk_hooks h;
	dumper_session_hooks(s2, NULL, &h);
	assert_int_equal(offer(x, &h, "app.db", ret), 1);
	assert_true(ret->flags & NODE_F_DB_COPY);
	struct dumper_result res;
	dumper_session_result(s2, &res);
	assert_int_equal(res.sqlite, 1);
	int err;
	char *m = dumper_session_notes(s2, &err);
	assert_non_null(m);
	if (res.reused) {
		assert_non_null(strstr(m, "\"method\": \"unchanged\""));
		assert_non_null(strstr(m, "\"tables\": [[\"t\", 3]]"));
	}
	free(m);
	dumper_session_free(s2);
	return res.reused == 1;
}

static bool reused(struct sfx *x, const blob_id *root, int64_t parent_time, const char *notes,
		   struct node *ret)
{
	return reused_from(x, root, parent_time, notes, false, ret);
}

static void test_unchanged_reused(void **state)
{
	struct sfx *x = *state;
	char db[256], side[300];
	snprintf(db, sizeof db, "%s/app.db", x->proj);
	sql(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);");
	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks h;
	dumper_session_hooks(x->s, NULL, &h);
	struct node n[1];
	assert_int_equal(offer(x, &h, "app.db", &n[0]), 1);
	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	struct node keep;
	CHECK(node_copy(&n[0], &keep));
	blob_id root;
	commit(x, n, 1, notes, &root);

	/* Unchanged, and the parent started well after its last change. */
	int64_t later = now_ns() + 10 * 1000000000LL;
	struct node got;
	assert_true(reused(x, &root, later, notes, &got));
	assert_int_equal(got.nchunks, keep.nchunks);
	assert_int_equal(got.size, keep.size);
	assert_memory_equal(&got.chunks[0].id, &keep.chunks[0].id, sizeof(blob_id));
	node_clear(&got);
	/* Changed too close to the parent's start: captured again.  The start
	 * is 1 ms after the file's last change, not the clock: a loaded machine
	 * may take more than the 2 s racy window to get here. */
	struct stat st;
	assert_int_equal(stat(db, &st), 0);
	int64_t changed = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	int64_t cchanged = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	assert_false(reused(x, &root, (cchanged > changed ? cchanged : changed) + 1000000, notes, &got));
	node_clear(&got);
	/* A -wal or -journal beside it: someone may be writing. */
	snprintf(side, sizeof side, "%s-journal", db);
	write_file(side, "", 0644);
	assert_false(reused(x, &root, later, notes, &got));
	node_clear(&got);
	unlink(side);
	/* The parent's drill failed: captured (and drilled) again. */
	char *bad = strdup(notes);
	char *ok = strstr(bad, "\"ok\": true");
	memcpy(ok, "\"ok\": fals", 10);
	assert_false(reused(x, &root, later, bad, &got));
	node_clear(&got);
	free(bad);
	/* A version-1 parent may name chunks held only as trees
	 * (catalog_schema.c): its chunks are each looked up, and one not
	 * held as a data chunk means a fresh capture.  A later parent's are
	 * trusted: they were checked when its tree was stored.  (The writer is
	 * reopened around the change: its thread's lookups share a read
	 * transaction, which only this process's own changes renew.) */
	writer_free(x->f->w);
	x->f->w = NULL;
	char cat[300];
	snprintf(cat, sizeof cat, "%s/catalog.db", x->f->repo_path);
	sql(cat, "DELETE FROM blobs WHERE type = 1");
	CHECK(writer_open(x->f->repo, &x->f->w));
	assert_true(reused_from(x, &root, later, notes, false, &got));
	node_clear(&got);
	assert_false(reused_from(x, &root, later, notes, true, &got));
	node_clear(&got);
	/* Written to since: its stat differs. */
	sql(db, "INSERT INTO t VALUES (4);");
	assert_false(reused(x, &root, later, notes, &got));
	node_clear(&got);
	node_clear(&keep);
	free(notes);
	free(m);
}

static void test_siblings_skipped(void **state)
{
	struct sfx *x = *state;
	char p[256];
	snprintf(p, sizeof p, "%s/app.db", x->proj);
	sql(p, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
	const char *sib[] = {"app.db-wal", "app.db-shm", "app.db-journal", "notes-wal", "notes"};
	for (size_t i = 0; i < sizeof sib / sizeof *sib; i++) {
		snprintf(p, sizeof p, "%s/%s", x->proj, sib[i]);
		write_file(p, "x", 0644);
	}
	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks h;
	dumper_session_hooks(x->s, NULL, &h);
	assert_true(skipped(&h, "app.db-wal"));
	assert_true(skipped(&h, "app.db-shm"));
	assert_true(skipped(&h, "app.db-journal"));
	assert_false(skipped(&h, "notes-wal")); /* "notes" is no database */
	assert_false(skipped(&h, "app.db"));
	assert_false(skipped(&h, "missing-wal"));
}

/* A child holding an exclusive lock on a rollback-mode database until
 * killed: no consistent copy can be made. */
static pid_t hold_exclusive(const char *db)
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *h;
		if (sqlite3_open(db, &h) != SQLITE_OK ||
		    sqlite3_exec(h, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (2);", NULL, NULL, NULL) != SQLITE_OK)
			_exit(1);
		if (write(pfd[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	char c;
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	return pid;
}

static void test_busy_stored_raw(void **state)
{
	struct sfx *x = *state;
	char db[256];
	snprintf(db, sizeof db, "%s/busy.db", x->proj);
	sql(db, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
	x->child = hold_exclusive(db);
	CHECK(dumper_session_new(x->proj, &x->s));
	x->s->lim.busy_ms = 200; /* keep the test short */
	struct walk_hooks outer = {.ctx = x, .warn = outer_warn}, h;
	dumper_session_hooks(x->s, &outer, &h);
	struct node n;
	assert_int_equal(offer(x, &h, "busy.db", &n), 0); /* the walk stores it */
	assert_true(n.flags & NODE_F_INCONSISTENT);
	assert_false(n.flags & NODE_F_DB_COPY);
	assert_int_equal(x->nwarn, 1);
	assert_non_null(strstr(x->lastwarn, "busy.db: SQLite database stored as it is, possibly inconsistent"));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.inconsistent, 1);
	assert_int_equal(res.sqlite, 0);
	/* Its hot journal is kept (a raw copy needs it); the -shm is not. */
	char p[256];
	snprintf(p, sizeof p, "%s/busy.db-journal", x->proj);
	assert_int_equal(access(p, F_OK), 0);
	assert_false(skipped(&h, "busy.db-journal"));
	snprintf(p, sizeof p, "%s/busy.db-shm", x->proj);
	write_file(p, "x", 0644);
	assert_true(skipped(&h, "busy.db-shm"));

	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	assert_true(dumper_notes_failed(notes));
	char *printed = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&printed, &plen);
	dumper_notes_print(pf, notes);
	fclose(pf);
	assert_non_null(strstr(printed, "busy.db  STORED RAW, possibly inconsistent"));
	free(printed);
	free(notes);
	free(m);
	node_clear(&n);
}

static void test_failed_drill(void **state)
{
	struct sfx *x = *state;
	char db[256];
	snprintf(db, sizeof db, "%s/bad.db", x->proj);
	/* An index that disagrees with its table: integrity_check says so,
	 * while the file itself is readable (the backup copies it as is). */
	sql(db, "CREATE TABLE t(a, b); CREATE INDEX i ON t(a);"
		"WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM c WHERE k<200)"
		" INSERT INTO t SELECT k, 1000-k FROM c;"
		"PRAGMA writable_schema=ON;"
		"UPDATE sqlite_schema SET sql='CREATE INDEX i ON t(b)' WHERE name='i';");
	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks h;
	dumper_session_hooks(x->s, NULL, &h);
	struct node n;
	assert_int_equal(offer(x, &h, "bad.db", &n), 1);
	assert_true(n.flags & NODE_F_DB_COPY);
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.drill_failed, 1);
	assert_int_equal(res.nproblems, 1);
	assert_non_null(strstr(res.problems[0], "database bad.db: drill failed (integrity_check): "));
	node_clear(&n);
}

/* Files in the session's temp dir (the copies still there). */
static int tmp_files(const struct dumper_session *s)
{
	if (!s->tmpdir)
		return 0;
	DIR *d = opendir(s->tmpdir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strncmp(e->d_name, "copy-", 5) == 0;
	closedir(d);
	return n;
}

/* Drills run beside the walk (session_sqdrill.c): each verdict still lands
 * in its own record, in the order the databases were met, a failed one
 * counts and is a problem, and every copy is gone once the result is in. */
static void test_drills_in_background(void **state)
{
	struct sfx *x = *state;
	char bad[256], good[256];
	snprintf(bad, sizeof bad, "%s/a-bad.db", x->proj);
	snprintf(good, sizeof good, "%s/b-good.db", x->proj);
	sql(bad, "CREATE TABLE t(a, b); CREATE INDEX i ON t(a);"
		 "WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM c WHERE k<200)"
		 " INSERT INTO t SELECT k, 1000-k FROM c;"
		 "PRAGMA writable_schema=ON;"
		 "UPDATE sqlite_schema SET sql='CREATE INDEX i ON t(b)' WHERE name='i';");
	sql(good, "CREATE TABLE u(x); INSERT INTO u VALUES (1), (2);");
	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks h;
	dumper_session_hooks(x->s, NULL, &h);
	struct node n[2];
	assert_int_equal(offer(x, &h, "a-bad.db", &n[0]), 1);
	assert_int_equal(offer(x, &h, "b-good.db", &n[1]), 1);
	struct dumper_result res;
	CHECK(dumper_session_result(x->s, &res));
	assert_int_equal(res.sqlite, 2);
	assert_int_equal(res.drill_failed, 1);
	assert_int_equal(res.nproblems, 1);
	assert_non_null(strstr(res.problems[0], "database a-bad.db: drill failed (integrity_check): "));
	assert_int_equal(tmp_files(x->s), 0);
	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_non_null(m);
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	struct jv v;
	assert_int_equal(jv_parse(notes, &v), 0);
	const struct jv *dbs = jv_get(&v, "databases");
	assert_non_null(dbs);
	assert_int_equal(dbs->n, 2);
	assert_string_equal(jv_str(&dbs->items[0], "name"), "a-bad.db");
	assert_false(jv_bool(&dbs->items[0], "ok"));
	assert_string_equal(jv_str(&dbs->items[0], "check"), "integrity_check");
	assert_string_equal(jv_str(&dbs->items[1], "name"), "b-good.db");
	assert_true(jv_bool(&dbs->items[1], "ok"));
	assert_string_equal(jv_str(&dbs->items[1], "result"), "ok");
	assert_true(jv_num(&dbs->items[1], "rows", -1) == 2);
	assert_true(jv_num(&dbs->items[1], "bytes", -1) == (double)n[1].size);
	jv_clear(&v);
	free(notes);
	free(m);
	node_clear(&n[0]);
	node_clear(&n[1]);
}

/* A session freed with a drill still running (a walk that failed) waits
 * for it and leaves no copy behind. */
static void test_free_with_drill_running(void **state)
{
	struct sfx *x = *state;
	char db[256];
	snprintf(db, sizeof db, "%s/app.db", x->proj);
	sql(db, "CREATE TABLE t(x);"
		"WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM c WHERE k<20000)"
		" INSERT INTO t SELECT randomblob(100) FROM c;");
	CHECK(dumper_session_new(x->proj, &x->s));
	struct walk_hooks h;
	dumper_session_hooks(x->s, NULL, &h);
	struct node n;
	assert_int_equal(offer(x, &h, "app.db", &n), 1);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", x->s->tmpdir);
	dumper_session_free(x->s);
	x->s = NULL;
	struct stat st;
	assert_int_equal(lstat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	node_clear(&n);
}

/* A fake dump tool on PATH: prints a dump with the completion trailer. */
static void fake_tools(struct sfx *x, bool refuse)
{
	char p[256];
	snprintf(p, sizeof p, "%s/mariadb-dump", x->bin);
	write_file(p, refuse ? "#!/bin/sh\necho 'mariadb-dump: Got error: 2002: Can'\"'\"'t connect to server' >&2\nexit 2\n"
			     : "#!/bin/sh\n# the database is the last argument\nfor a; do db=$a; done\n"
			       "echo \"CREATE TABLE t(x int); -- $db\"\necho '-- Dump completed on 2026-11-21'\n",
		   0755);
	/* The client used by restore: keeps what it reads, with its args. */
	snprintf(p, sizeof p, "%s/mariadb", x->bin);
	char text[512];
	snprintf(text, sizeof text, "#!/bin/sh\necho \"$@\" >>'%s/client.args'\ncat >>'%s/client.in'\n",
		 x->f->dir, x->f->dir);
	write_file(p, text, 0755);
}

static void test_server_dump_into_folder(void **state)
{
	struct sfx *x = *state;
	char p[256], out[256];
	fake_tools(x, false);
	snprintf(p, sizeof p, "%s/.env", x->proj);
	write_file(p, "DATABASE_URL=mysql://app:s3cret@localhost/shop?socket=/run/x.sock\n"
		      "OTHER_DATABASE_URL=postgres://u@db.example.com/remote\n", 0600);
	CHECK(dumper_session_new(x->proj, &x->s));
	assert_int_equal(dumper_session_ndbs(x->s), 1); /* the remote one is left out */
	assert_string_equal(dumper_session_db_name(x->s, 0), "mysql-shop");
	CHECK(dumper_session_dump(x->s, x->f->w));
	size_t ne;
	const struct node *extra = dumper_session_extra(x->s, &ne);
	assert_int_equal(ne, 1);
	assert_string_equal(extra->name, "@databases");
	assert_int_equal(extra->type, NODE_DIR);
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.dumped, 1);
	assert_int_equal(res.refused, 0);

	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{\"warnings\": 0, %s}", m) > 0);
	struct node root[1];
	CHECK(node_copy(extra, &root[0]));
	blob_id rid;
	commit(x, root, 1, notes, &rid);

	snprintf(out, sizeof out, "%s/dump.sql", x->f->dir);
	extract(x, &rid, "@databases/mysql-shop.sql", out);
	FILE *f = fopen(out, "r");
	char line[256];
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "CREATE TABLE t(x int); -- shop\n");
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "-- Dump completed on 2026-11-21\n");
	fclose(f);
	snprintf(out, sizeof out, "%s/RESTORE.txt", x->f->dir);
	extract(x, &rid, "@databases/RESTORE.txt", out);
	char cmd[2048];
	snprintf(cmd, sizeof cmd,
		 "grep -q 'ckptfs restore --db NAME --from WHEN' %s && "
		 "grep -qF 'mysql --socket=/run/x.sock -u app -p shop < mysql-shop.sql' %s && "
		 "! grep -q s3cret %s", out, out, out);
	assert_int_equal(system(cmd), 0);

	char *printed = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&printed, &plen);
	assert_int_equal(dumper_notes_print(pf, notes), 1);
	fclose(pf);
	assert_non_null(strstr(printed, "mysql     mysql-shop  ok (-- Dump completed; "));
	assert_non_null(strstr(printed, "@databases/mysql-shop.sql"));
	free(printed);

	/* restore --db: the dump streamed out of the store into the client. */
	struct node dn;
	CHECK(tree_resolve(x->f->repo, &rid, "@databases/mysql-shop.sql", &dn));
	CHECK(dumper_session_restore(x->s, x->f->repo, &dn, "mysql-shop", NULL));
	snprintf(cmd, sizeof cmd, "cmp -s %s/client.in %s/dump.sql && grep -q -- '--defaults-extra-file=.* shop$' %s/client.args",
		 x->f->dir, x->f->dir, x->f->dir);
	assert_int_equal(system(cmd), 0);
	/* --into: created first, then restored into. */
	snprintf(cmd, sizeof cmd, "rm -f %s/client.in %s/client.args", x->f->dir, x->f->dir);
	assert_int_equal(system(cmd), 0);
	CHECK(dumper_session_restore(x->s, x->f->repo, &dn, "mysql-shop", "shop_copy"));
	snprintf(cmd, sizeof cmd, "grep -q 'CREATE DATABASE IF NOT EXISTS `shop_copy`' %s/client.args && "
		 "grep -q ' shop_copy$' %s/client.args", x->f->dir, x->f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dumper_session_restore(x->s, x->f->repo, &dn, "mysql-shop", "bad`name"), -EINVAL);
	assert_int_equal(dumper_session_restore(x->s, x->f->repo, &dn, "nope", NULL), -ENOENT);
	assert_non_null(strstr(store_error(), "known: mysql-shop"));
	char *df = NULL;
	CHECK(dumper_session_dump_file(x->s, "mysql-shop", &df));
	assert_string_equal(df, "mysql-shop.sql");
	free(df);
	node_clear(&dn);
	free(notes);
	free(m);
}

static void test_server_refused(void **state)
{
	struct sfx *x = *state;
	char p[256];
	fake_tools(x, true);
	snprintf(p, sizeof p, "%s/.env", x->proj);
	write_file(p, "DATABASE_URL=mysql://root@127.0.0.1/shop\n", 0600);
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.refused, 1);
	assert_int_equal(res.dumped, 0);
	assert_int_equal(res.nproblems, 1);
	assert_string_equal(res.problems[0],
			    "database mysql-shop: mariadb-dump: Got error: 2002: Can't connect to server");
	/* The folder still says what happened. */
	size_t ne;
	const struct node *extra = dumper_session_extra(x->s, &ne);
	assert_int_equal(ne, 1);
	struct node root[1];
	CHECK(node_copy(extra, &root[0]));
	blob_id rid;
	commit(x, root, 1, NULL, &rid);
	struct tree *t;
	CHECK(tree_load(x->f->repo, &extra->subtree, &t));
	assert_int_equal(t->n, 1);
	assert_string_equal(t->nodes[0].name, "RESTORE.txt");
	tree_free(t);
	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	assert_true(dumper_notes_failed(notes));
	free(notes);
	free(m);
}

static void test_plan(void **state)
{
	struct sfx *x = *state;
	char p[256];
	snprintf(p, sizeof p, "%s/data", x->proj);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/node_modules", x->proj);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/data/app.sqlite3", x->proj);
	sql(p, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);");
	snprintf(p, sizeof p, "%s/data/skipme.db", x->proj);
	sql(p, "CREATE TABLE t(x);");
	snprintf(p, sizeof p, "%s/.env", x->proj);
	write_file(p, "DATABASE_URL=postgres://app@localhost/app\nREPLICA_DATABASE_URL=postgres://app@10.1.2.3/app2\n", 0600);
	snprintf(p, sizeof p, "%s/.ckptfs.toml", x->proj);
	write_file(p, "[databases.gone]\nfrom = \"postgres-app\"\ndisabled = true\n", 0600);
	CHECK(dumper_session_new(x->proj, &x->s));
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *ex[] = {"skipme.db"};
	CHECK(dumper_session_plan(x->s, ex, 1, f));
	fclose(f);
	assert_non_null(strstr(text, "skipped: disabled in .ckptfs.toml"));
	assert_non_null(strstr(text, "postgres  postgres-app2  skipped: remote host 10.1.2.3"));
	assert_non_null(strstr(text, "sqlite    data/app.sqlite3  online backup copy (WAL mode"));
	assert_null(strstr(text, "skipme"));
	free(text);
}

/* The same database name found twice (host .env and a compose service):
 * two dumps, two names, and restore --db finds each one's file. */
static void test_names_unique(void **state)
{
	struct sfx *x = *state;
	char p[256];
	snprintf(p, sizeof p, "%s/.env", x->proj);
	write_file(p, "DATABASE_URL=postgres://app@localhost/app\n", 0600);
	snprintf(p, sizeof p, "%s/compose.yaml", x->proj);
	write_file(p, "services:\n  db:\n    image: postgres:16\n    environment:\n"
		      "      POSTGRES_DB: app\n", 0644);
	CHECK(dumper_session_new(x->proj, &x->s));
	assert_int_equal(dumper_session_ndbs(x->s), 2);
	assert_string_equal(dumper_session_db_name(x->s, 0), "postgres-app");
	assert_string_equal(dumper_session_db_name(x->s, 1), "postgres-app-2");
	char *f = NULL;
	CHECK(dumper_session_dump_file(x->s, "postgres-app-2", &f));
	assert_string_equal(f, "postgres-app-2.dump");
	free(f);
}

static void test_notes_print(void **state)
{
	(void)state;
	/* Notes without databases print nothing; garbage says so. */
	FILE *f = fopen("/dev/null", "w");
	assert_int_equal(dumper_notes_print(f, "{\"warnings\": 2, \"paths\": []}"), 0);
	assert_int_equal(dumper_notes_print(f, "{oops"), 1);
	assert_int_equal(dumper_notes_print(f, NULL), 0);
	/* A warning about a name that is not UTF-8 leaves them readable. */
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(dumper_notes_print(m, "{\"warnings\": 1, \"paths\": [{\"path\": \"x\\udcff\"}], "
					       "\"databases\": [{\"name\": \"a\\udcfe.db\", \"kind\": \"sqlite\", "
					       "\"ok\": true}]}"),
			 1);
	assert_int_equal(fclose(m), 0);
	/* ...and the name is printed escaped, on one line. */
	assert_non_null(strstr(text, "sqlite    a\\xfe.db  ok ("));
	free(text);
	fclose(f);
}

/* A fake docker on PATH (a daemon cannot run in the tests): `compose
 * version` and `info` answer, `compose ps` lists the services named in
 * DIR/running, `compose exec` prints a MariaDB dump and logs its args. */
static void fake_docker(struct sfx *x, const char *name, bool compose_v1)
{
	char p[256], text[2048];
	snprintf(p, sizeof p, "%s/%s", x->bin, name);
	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "echo \"$@\" >>'%s/docker.args'\n"
		 "%s"
		 "case \"$*\" in\n"
		 "*'compose version'*) echo 'Docker Compose version v2.29.1'; exit 0;;\n"
		 "info*) echo 27.1.1; exit 0;;\n"
		 "*' ps '*) cat '%s/running' 2>/dev/null; exit 0;;\n"
		 "*exec*) echo 'CREATE TABLE t(x int);'; echo '-- Dump completed on 2026-12-03'; exit 0;;\n"
		 "esac\n"
		 "echo \"unknown command: $*\" >&2; echo 'Usage:  docker [OPTIONS] COMMAND' >&2; exit 1\n",
		 x->f->dir, compose_v1 ? "[ \"$1\" = compose ] && { echo \"docker: unknown command: docker compose\" >&2; exit 1; }\n" : "",
		 x->f->dir);
	write_file(p, text, 0755);
}

static void compose_project(struct sfx *x, const char *toml)
{
	char p[256];
	snprintf(p, sizeof p, "%s/compose.yaml", x->proj);
	write_file(p, "services:\n  db:\n    image: mariadb:11\n    environment:\n"
		      "      MARIADB_DATABASE: shop\n      MARIADB_ROOT_PASSWORD: pw\n", 0644);
	if (toml) {
		snprintf(p, sizeof p, "%s/.ckptfs.toml", x->proj);
		write_file(p, toml, 0644);
	}
}

/* A compose service that is not running is skipped with one notice, not
 * a failure; required = true makes it one; a running one is dumped
 * through `docker compose --file=ABS exec -T`. */
static void test_compose_not_running(void **state)
{
	struct sfx *x = *state;
	fake_docker(x, "docker", false);
	compose_project(x, NULL);
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.refused, 0);
	assert_int_equal(res.nproblems, 0);
	assert_int_equal(res.nnotices, 1);
	assert_string_equal(res.notices[0],
			    "database mysql-shop (compose service db): not running — skipped");
	/* Tables of a database in docker cannot be restored alone: said
	 * before any safety snapshot. */
	assert_int_equal(dumper_session_tables_ok(x->s, "mysql-shop"), -EINVAL);
	assert_non_null(strstr(store_error(), "only from a local Postgres or MySQL dump"));
	assert_int_equal(dumper_session_tables_ok(x->s, "nope"), -ENOENT);
	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	assert_false(dumper_notes_failed(notes));
	char *why = NULL;
	assert_int_equal(dumper_notes_db_status(notes, "mysql-shop", &why), 0);
	assert_string_equal(why, "skipped: not running");
	char *printed = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&printed, &plen);
	assert_int_equal(dumper_notes_print(pf, notes), 1);
	fclose(pf);
	assert_non_null(strstr(printed, "mysql     mysql-shop  skipped (compose service db): not running\n"));
	free(printed);
	free(why);
	free(notes);
	free(m);
}

static void test_compose_required(void **state)
{
	struct sfx *x = *state;
	fake_docker(x, "docker", false);
	compose_project(x, "[databases.mysql-shop]\nrequired = true\n");
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(res.refused, 1);
	assert_int_equal(res.nproblems, 1);
	assert_string_equal(res.problems[0], "database mysql-shop (compose service db): not running — "
					     "required in .ckptfs.toml");
	int err;
	char *m = dumper_session_notes(x->s, &err), *notes;
	assert_true(asprintf(&notes, "{%s}", m) > 0);
	assert_true(dumper_notes_failed(notes));
	free(notes);
	free(m);
}

static void test_compose_running(void **state)
{
	struct sfx *x = *state;
	char p[256], cmd[1024];
	fake_docker(x, "docker", false);
	compose_project(x, NULL);
	snprintf(p, sizeof p, "%s/running", x->f->dir);
	write_file(p, "cache\ndb\n", 0644);
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.dumped, 1);
	assert_int_equal(res.skipped, 0);
	snprintf(cmd, sizeof cmd, "grep -q '^compose --file=%s/compose.yaml ps --services --status running$' "
		 "%s/docker.args && grep -q '^compose --file=%s/compose.yaml exec -T db sh -c ' %s/docker.args",
		 x->proj, x->f->dir, x->proj, x->f->dir);
	assert_int_equal(system(cmd), 0);
}

/* No compose plugin, the old docker-compose instead: probed and dumped
 * through it.  Then neither: skipped, saying so (never the usage text). */
static void test_compose_v1(void **state)
{
	struct sfx *x = *state;
	char p[256], cmd[1024];
	fake_docker(x, "docker", true);
	fake_docker(x, "docker-compose", false);
	compose_project(x, NULL);
	snprintf(p, sizeof p, "%s/running", x->f->dir);
	write_file(p, "db\n", 0644);
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	struct dumper_result res;
	dumper_session_result(x->s, &res);
	assert_int_equal(res.dumped, 1);
	snprintf(cmd, sizeof cmd, "grep -q '^--file=%s/compose.yaml exec -T db sh -c ' %s/docker.args",
		 x->proj, x->f->dir);
	assert_int_equal(system(cmd), 0);
	dumper_session_free(x->s);
	x->s = NULL;
	snprintf(p, sizeof p, "%s/docker-compose", x->bin);
	unlink(p);
	CHECK(dumper_session_new(x->proj, &x->s));
	CHECK(dumper_session_dump(x->s, x->f->w));
	dumper_session_result(x->s, &res);
	assert_int_equal(res.skipped, 1);
	assert_string_equal(res.notices[0], "database mysql-shop (compose service db): docker compose is "
					    "not installed (neither the compose plugin nor docker-compose) — skipped");
}

/* What real docker prints, judged. */
static void test_docker_judge(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(dumper_docker_judge_daemon("Cannot connect to the Docker daemon at "
						    "unix:///var/run/docker.sock. Is the docker daemon running?\n",
						    why, sizeof why),
			 DOCKER_UNREACHABLE);
	assert_string_equal(why, "the Docker daemon is not reachable");
	assert_int_equal(dumper_docker_judge_daemon("permission denied while trying to connect to the Docker "
						    "daemon socket at unix:///var/run/docker.sock: Get ...",
						    why, sizeof why),
			 DOCKER_UNREACHABLE);
	assert_non_null(strstr(why, "permission denied"));
	assert_int_equal(dumper_docker_judge_daemon("\nunknown shorthand flag: 'f' in -f\nUsage:  docker [OPTIONS]"
						    " COMMAND [ARG...]\n\nRun 'docker --help'", why, sizeof why),
			 DOCKER_UNREACHABLE);
	assert_string_equal(why, "the Docker daemon is not usable: unknown shorthand flag: 'f' in -f");
	assert_null(strstr(why, "Usage"));
	assert_int_equal(dumper_docker_judge_inspect(true, "true\n", "", why, sizeof why), DOCKER_READY);
	assert_int_equal(dumper_docker_judge_inspect(true, "false\n", "", why, sizeof why), DOCKER_NOT_RUNNING);
	assert_string_equal(why, "not running");
	assert_int_equal(dumper_docker_judge_inspect(false, "", "Error: No such object: pg\n", why, sizeof why),
			 DOCKER_NOT_RUNNING);
	assert_true(dumper_docker_lists("web\ndb\n", "db"));
	assert_true(dumper_docker_lists("db", "db"));
	assert_false(dumper_docker_lists("dbx\nweb\n", "db"));
	assert_false(dumper_docker_lists("", "db"));
	char line[64];
	assert_string_equal(dumper_first_line("\n  \n  first one  \nsecond", line, sizeof line), "first one");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sqlite_copy_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_siblings_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_stored_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_drill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drills_in_background, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_drill_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_dump_into_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose_not_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose_v1, setup, teardown),
		cmocka_unit_test(test_docker_judge),
		cmocka_unit_test_setup_teardown(test_server_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_unique, setup, teardown),
		cmocka_unit_test(test_notes_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
