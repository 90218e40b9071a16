/* test_catalog_trash.c — the trash (schema 3): trashed snapshots vanish
 * from every listing and lookup but keep their rows and names, come back
 * as they were, leave for good when emptied or expired; a schema-2
 * catalog is read as it is and migrated by the first writer, and a reader
 * that outlives the migration starts hiding trashed snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "store/snapname.h"
#include "tests/tmpdir.h"

#define NS 1000000000LL
#define T0 (1771065007LL * NS) /* 2026-02-14T10:30:07 UTC */
#define DAY (86400 * NS)

struct fixture {
	char dir[64];
	char path[96];
	struct repo *repo;
	int64_t pid;
	int64_t ids[5]; /* snapshots at T0, T0+1 min, ... newest last */
	char names[5][SNAPNAME_MAX_LEN + 1];
};

static int64_t insert(struct fixture *f, int64_t t, const char *tag, char *ret_name)
{
	struct snapshot_new n = {.project_id = f->pid, .time_ns = t, .tag = tag};
	for (int i = 0; i < ID_BYTES; i++)
		n.root.b[i] = (uint8_t)(t / NS + i);
	struct snapshot s;
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), 0);
	if (ret_name)
		snprintf(ret_name, SNAPNAME_MAX_LEN + 1, "%s", s.name);
	int64_t id = s.id;
	snapshot_clear(&s);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	*state = f;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(f->dir, sizeof f->dir, "/tmp/test_trash.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/repo", f->dir);
	if (repo_open(f->path, REPO_WRITE, 0, &f->repo) < 0)
		return -1;
	struct project p;
	if (catalog_project_register(f->repo, "myapp", "/home/u/myapp", &p) < 0)
		return -1;
	f->pid = p.id;
	project_clear(&p);
	for (int i = 0; i < 5; i++)
		f->ids[i] = insert(f, T0 + i * 60 * NS, i == 1 ? "v1" : NULL, f->names[i]);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	repo_close(f->repo);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static size_t live_count(struct repo *repo, int64_t pid)
{
	struct snapshot *s;
	size_t n;
	assert_int_equal(catalog_snapshots(repo, pid, &s, &n), 0);
	snapshots_free(s, n);
	return n;
}

static void sql(struct repo *repo, const char *q)
{
	char *err = NULL;
	if (sqlite3_exec(repo->db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
}

/* Forgotten snapshots are neither listed nor resolved nor counted. */
static void trashed_snapshots_are_hidden(void **state)
{
	struct fixture *f = *state;
	int64_t pick[2] = {f->ids[4], f->ids[1]}; /* the newest, and the tagged one */
	assert_int_equal(catalog_trash_put(f->repo, pick, 2, T0 + DAY, T0 + 8 * DAY), 0);
	assert_int_equal(live_count(f->repo, f->pid), 3);

	struct snapshot s;
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, f->names[4], &s), -ENOENT);
	assert_int_equal(catalog_snapshot_by_tag(f->repo, f->pid, "v1", &s), -ENOENT);
	assert_int_equal(catalog_snapshot_latest(f->repo, f->pid, &s), 0);
	assert_int_equal(s.id, f->ids[3]);
	assert_int_equal(s.trashed_at_ns, 0);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_at_or_before(f->repo, f->pid, T0 + 90 * NS, &s), 0);
	assert_int_equal(s.id, f->ids[0]); /* not ids[1], which is trashed */
	snapshot_clear(&s);

	struct project p;
	assert_int_equal(catalog_project_by_name(f->repo, "myapp", &p), 0);
	assert_int_equal(p.nsnapshots, 3);
	assert_int_equal(p.last_time_ns, T0 + 3 * 60 * NS);
	project_clear(&p);

	struct snapshot *t;
	size_t n;
	assert_int_equal(catalog_trash_list(f->repo, 0, &t, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(t[0].id, f->ids[4]); /* newest first */
	assert_int_equal(t[0].trashed_at_ns, T0 + DAY);
	assert_int_equal(t[0].expires_at_ns, T0 + 8 * DAY);
	assert_string_equal(t[1].tag, "v1");
	snapshots_free(t, n);
	assert_int_equal(catalog_trash_list(f->repo, f->pid + 100, &t, &n), 0);
	assert_int_equal(n, 0);

	/* The rows stay: check's scan sees every one, and the names stay
	 * taken (a new snapshot in the newest one's minute gets :SS). */
	int64_t seen = 0;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->repo->db, "SELECT count(*) FROM snapshots", -1, &st,
					    NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	seen = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(seen, 5);
	char name[SNAPNAME_MAX_LEN + 1];
	insert(f, T0 + 4 * 60 * NS + 5 * NS, NULL, name);
	assert_string_not_equal(name, f->names[4]);
	assert_int_equal(strncmp(name, f->names[4], strlen(f->names[4])), 0);
}

/* Put and restore are all or nothing; restore brings back the same row. */
static void put_restore_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	int64_t one = f->ids[2];
	assert_int_equal(catalog_trash_put(f->repo, &one, 1, T0 + DAY, T0 + 2 * DAY), 0);
	/* ids[0] is live, ids[2] is not: nothing moves. */
	int64_t both[2] = {f->ids[0], f->ids[2]};
	store_error_clear();
	assert_int_equal(catalog_trash_put(f->repo, both, 2, T0 + DAY, T0 + 2 * DAY), -ENOENT);
	assert_non_null(strstr(store_error(), "not a live snapshot"));
	assert_int_equal(live_count(f->repo, f->pid), 4);
	/* Restoring a live one with a trashed one: nothing comes back. */
	assert_int_equal(catalog_trash_restore(f->repo, both, 2), -ENOENT);
	assert_int_equal(live_count(f->repo, f->pid), 4);
	assert_int_equal(catalog_trash_restore(f->repo, &one, 1), 0);
	struct snapshot s;
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, f->names[2], &s), 0);
	assert_int_equal(s.id, one);
	assert_int_equal(s.trashed_at_ns, 0);
	assert_int_equal(s.expires_at_ns, 0);
	snapshot_clear(&s);
	/* A window that ends before it starts is refused. */
	assert_int_equal(catalog_trash_put(f->repo, &one, 1, T0 + DAY, T0), -EINVAL);
}

/* Emptying deletes only trashed rows; purge only expired ones. */
static void empty_and_purge(void **state)
{
	struct fixture *f = *state;
	int64_t a[3] = {f->ids[0], f->ids[1], f->ids[2]};
	assert_int_equal(catalog_trash_put(f->repo, a, 1, T0 + DAY, T0 + 2 * DAY), 0);
	assert_int_equal(catalog_trash_put(f->repo, a + 1, 2, T0 + DAY, T0 + 9 * DAY), 0);
	int64_t live = f->ids[3];
	assert_int_equal(catalog_trash_delete(f->repo, &live, 1), -ENOENT);
	assert_int_equal(live_count(f->repo, f->pid), 2);

	uint64_t n = 99;
	assert_int_equal(catalog_trash_purge_expired(f->repo, T0 + 2 * DAY - 1, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(catalog_trash_purge_expired(f->repo, T0 + 2 * DAY, &n), 0);
	assert_int_equal(n, 1); /* ids[0]: its window ended exactly now */
	struct snapshot *t;
	size_t k;
	assert_int_equal(catalog_trash_list(f->repo, f->pid, &t, &k), 0);
	assert_int_equal(k, 2);
	snapshots_free(t, k);
	assert_int_equal(catalog_trash_delete(f->repo, a + 2, 1), 0);
	assert_int_equal(catalog_trash_list(f->repo, f->pid, &t, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(t[0].id, f->ids[1]);
	snapshots_free(t, k);
	/* Both deleted rows are remembered (check --repair does not re-create
	 * them from their records); the live and trashed ones are not. */
	bool has;
	for (int i = 0; i < 5; i++) {
		struct snapshot_new sn = {.time_ns = T0 + i * 60 * NS};
		for (int b = 0; b < ID_BYTES; b++)
			sn.root.b[b] = (uint8_t)(sn.time_ns / NS + b);
		assert_int_equal(catalog_forgotten_has(f->repo, sn.time_ns, &sn.root, &has), 0);
		assert_int_equal(has, i == 0 || i == 2);
	}
	/* Gone rows cannot be restored. */
	assert_int_equal(catalog_trash_restore(f->repo, a, 1), -ENOENT);
	assert_int_equal(live_count(f->repo, f->pid), 2);
}

/* Turn the fixture's catalog back into schema 2, as the previous release
 * left it: no trash columns, index, table or trigger, version "2". */
static void to_schema2(struct fixture *f)
{
	sql(f->repo, "BEGIN;"
		     "DROP TRIGGER snapshots_forgotten; DROP TABLE forgotten;"
		     "DROP INDEX snapshots_trash;"
		     "ALTER TABLE snapshots DROP COLUMN trashed_at_ns;"
		     "ALTER TABLE snapshots DROP COLUMN expires_at_ns;"
		     "UPDATE meta SET value = '2' WHERE key = 'schema_version';"
		     "COMMIT;");
	repo_close(f->repo);
	f->repo = NULL;
}

/* A schema-2 catalog: a reader reads it as it is (everything live); the
 * first writer migrates it, keeping every row, id and name; a reader
 * opened before the migration hides a snapshot trashed after it once it
 * polls the generation (what the mount does). */
static void schema2_catalog_is_migrated(void **state)
{
	struct fixture *f = *state;
	to_schema2(f);

	struct repo *rd;
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	assert_int_equal(rd->schema_version, 2);
	assert_int_equal(live_count(rd, f->pid), 5);
	struct snapshot *t;
	size_t n;
	assert_int_equal(catalog_trash_list(rd, 0, &t, &n), 0);
	assert_int_equal(n, 0);
	uint64_t g0;
	assert_int_equal(catalog_generation(rd, &g0), 0);

	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &f->repo), 0);
	assert_int_equal(f->repo->schema_version, 3);
	assert_int_equal(live_count(f->repo, f->pid), 5);
	struct snapshot s;
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, f->names[3], &s), 0);
	assert_int_equal(s.id, f->ids[3]);
	snapshot_clear(&s);
	int64_t one = f->ids[3];
	assert_int_equal(catalog_trash_put(f->repo, &one, 1, T0 + DAY, T0 + 8 * DAY), 0);

	uint64_t g1;
	assert_int_equal(catalog_generation(rd, &g1), 0);
	assert_true(g1 != g0);
	assert_int_equal(rd->schema_version, 3);
	assert_int_equal(live_count(rd, f->pid), 4);
	assert_int_equal(catalog_snapshot_by_name(rd, f->pid, f->names[3], &s), -ENOENT);
	assert_int_equal(catalog_trash_list(rd, 0, &t, &n), 0);
	assert_int_equal(n, 1);
	snapshots_free(t, n);
	repo_close(rd);

	/* Reopening finds version 3 and migrates nothing again. */
	repo_close(f->repo);
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &f->repo), 0);
	assert_int_equal(live_count(f->repo, f->pid), 4);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(trashed_snapshots_are_hidden),
		T(put_restore_all_or_nothing),
		T(empty_and_purge),
		T(schema2_catalog_is_migrated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
