/* test_catalog.c — projects, snapshots and their lookups, the blob index,
 * the change generation seen by a second connection, transactions. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog_internal.h"
#include "store/catalog_reader.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "tests/tmpdir.h"
#include "store/snapname.h"

#define NS 1000000000LL
#define NULL_TAKEN_CB never_taken

static int never_taken(void *ctx, const char *name)
{
	(void)ctx, (void)name;
	return 0;
}
/* 2026-02-14T10:30:07 UTC */
#define T0 (1771065007LL * NS)

struct fixture {
	char dir[64];
	char path[96];
	struct repo *repo;
	int64_t pid; /* a registered project */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	*state = f;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(f->dir, sizeof f->dir, "/tmp/test_catalog.XXXXXX");
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

static void fill_id(blob_id *id, int seed)
{
	for (int i = 0; i < ID_BYTES; i++)
		id->b[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

/* Insert a snapshot at time t with tag (or NULL); returns its name in out. */
static int64_t insert(struct fixture *f, int64_t project_id, int64_t t, const char *tag,
		      char out[SNAPNAME_MAX_LEN + 1])
{
	struct snapshot_new n = {.project_id = project_id, .time_ns = t, .tag = tag};
	fill_id(&n.root, (int)(t / NS));
	struct snapshot s;
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), 0);
	if (out)
		snprintf(out, SNAPNAME_MAX_LEN + 1, "%s", s.name);
	int64_t id = s.id;
	snapshot_clear(&s);
	return id;
}

static void projects_register_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct project p, q;
	assert_true(f->pid > 0);
	assert_int_equal(catalog_project_by_name(f->repo, "myapp", &p), 0);
	assert_int_equal(p.id, f->pid);
	assert_string_equal(p.root, "/home/u/myapp");
	assert_int_equal(p.nsnapshots, 0);
	assert_int_equal(p.last_time_ns, 0);
	assert_true(p.created_ns > T0 - 3650 * 86400 * NS);
	assert_int_equal(catalog_project_by_root(f->repo, "/home/u/myapp", &q), 0);
	assert_int_equal(q.id, p.id);
	project_clear(&q);

	/* Registering again is idempotent. */
	assert_int_equal(catalog_project_register(f->repo, "myapp", "/home/u/myapp", &q), 0);
	assert_int_equal(q.id, p.id);
	project_clear(&q);

	/* A name clash names both roots and suggests --name. */
	store_error_clear();
	assert_int_equal(catalog_project_register(f->repo, "myapp", "/srv/myapp", &q), -EEXIST);
	assert_non_null(strstr(store_error(), "/home/u/myapp"));
	assert_non_null(strstr(store_error(), "/srv/myapp"));
	assert_non_null(strstr(store_error(), "--name"));
	/* The same root under another name is refused too. */
	assert_int_equal(catalog_project_register(f->repo, "other", "/home/u/myapp", &q), -EEXIST);

	assert_int_equal(catalog_project_by_name(f->repo, "nope", &q), -ENOENT);
	assert_int_equal(catalog_project_by_root(f->repo, "/nope", &q), -ENOENT);

	struct project b, a;
	assert_int_equal(catalog_project_register(f->repo, "beta", "/b", &b), 0);
	assert_int_equal(catalog_project_register(f->repo, "alpha", "/a", &a), 0);
	assert_true(a.id != b.id && a.id != p.id);
	struct project *all;
	size_t n;
	assert_int_equal(catalog_projects(f->repo, &all, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(all[0].name, "alpha");
	assert_string_equal(all[1].name, "beta");
	assert_string_equal(all[2].name, "myapp");
	assert_string_equal(all[0].root, "/a");
	projects_free(all, n);
	project_clear(&a);
	project_clear(&b);
	project_clear(&p);
}

static void snapshot_row_round_trip(void **state)
{
	struct fixture *f = *state;
	struct snapshot_new n = {
		.project_id = f->pid,
		.time_ns = T0 + 123456789,
		.message = "before migration",
		.tag = "v1",
		.git_commit = "0123456789abcdef0123456789abcdef01234567",
		.git_branch = "main",
		.status = SNAP_PARTIAL,
		.stats = {.files = 12431, .dirs = 300, .bytes = 1288490188,
			  .new_blobs = 17, .new_bytes = 40265318, .read_bytes = 999,
			  .duration_ns = 410000000},
		.notes = "{\"warnings\":[\"x\"]}",
	};
	fill_id(&n.root, 5);
	struct snapshot s, g;
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), 0);
	assert_string_equal(s.name, "2026-02-14T10:30");
	assert_string_equal(s.project, "myapp");
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, "2026-02-14T10:30", &g), 0);
	struct snapshot *v[2] = {&s, &g};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i]->id, s.id);
		assert_int_equal(v[i]->project_id, f->pid);
		assert_string_equal(v[i]->project, "myapp");
		assert_int_equal(v[i]->time_ns, T0 + 123456789);
		assert_string_equal(v[i]->message, "before migration");
		assert_string_equal(v[i]->tag, "v1");
		assert_string_equal(v[i]->git_commit, n.git_commit);
		assert_string_equal(v[i]->git_branch, "main");
		assert_true(id_equal(&v[i]->root, &n.root));
		assert_int_equal(v[i]->status, SNAP_PARTIAL);
		assert_memory_equal(&v[i]->stats, &n.stats, sizeof n.stats);
		assert_string_equal(v[i]->notes, n.notes);
	}
	snapshot_clear(&g);
	snapshot_clear(&s);

	/* NULL strings stay NULL. */
	struct snapshot_new m = {.project_id = f->pid, .time_ns = T0 + 5 * NS};
	assert_int_equal(catalog_snapshot_insert(f->repo, &m, &s), 0);
	assert_string_equal(s.name, "2026-02-14T10:30:12");
	assert_null(s.message);
	assert_null(s.tag);
	assert_null(s.git_commit);
	assert_null(s.git_branch);
	assert_null(s.notes);
	assert_int_equal(s.status, SNAP_COMPLETE);
	snapshot_clear(&s);

	struct project p;
	assert_int_equal(catalog_project_by_name(f->repo, "myapp", &p), 0);
	assert_int_equal(p.nsnapshots, 2);
	assert_int_equal(p.last_time_ns, T0 + 5 * NS);
	project_clear(&p);
}

static void snapshot_lookups(void **state)
{
	struct fixture *f = *state;
	char name[6][SNAPNAME_MAX_LEN + 1];
	int64_t id[6];
	id[0] = insert(f, f->pid, T0, NULL, name[0]);
	id[1] = insert(f, f->pid, T0 + 10 * NS, NULL, name[1]);
	id[2] = insert(f, f->pid, T0 + 10 * NS, NULL, name[2]); /* same ns as [1] */
	id[3] = insert(f, f->pid, T0 + 120 * NS, "v1", name[3]);
	id[4] = insert(f, f->pid, T0 + 3600 * NS, "v1", name[4]);
	id[5] = insert(f, f->pid, T0 - 3600 * NS, "old", name[5]); /* inserted last, oldest */
	assert_string_equal(name[0], "2026-02-14T10:30");
	assert_string_equal(name[1], "2026-02-14T10:30:17");
	assert_string_equal(name[2], "2026-02-14T10:30:17.2");
	assert_string_equal(name[3], "2026-02-14T10:32");
	assert_string_equal(name[4], "2026-02-14T11:30");
	assert_string_equal(name[5], "2026-02-14T09:30");

	/* Another project has its own name space. */
	struct project o;
	assert_int_equal(catalog_project_register(f->repo, "other", "/o", &o), 0);
	char oname[SNAPNAME_MAX_LEN + 1];
	insert(f, o.id, T0 + 7200 * NS, "v1", oname);
	assert_string_equal(oname, "2026-02-14T12:30");
	int64_t oid = insert(f, o.id, T0, NULL, oname);
	assert_string_equal(oname, "2026-02-14T10:30");

	struct snapshot s;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, name[i], &s), 0);
		assert_int_equal(s.id, id[i]);
		snapshot_clear(&s);
	}
	assert_int_equal(catalog_snapshot_by_name(f->repo, o.id, "2026-02-14T10:30", &s), 0);
	assert_int_equal(s.id, oid);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, "2026-02-14T10:31", &s), -ENOENT);

	assert_int_equal(catalog_snapshot_latest(f->repo, f->pid, &s), 0);
	assert_int_equal(s.id, id[4]);
	snapshot_clear(&s);

	struct {
		int64_t t;
		int want; /* index, -1 = none */
	} at[] = {
		{T0 - 3600 * NS - 1, -1}, {T0 - 3600 * NS, 5}, {T0 - 1, 5},
		{T0, 0},                  {T0 + 10 * NS - 1, 0}, {T0 + 10 * NS, 2}, /* tie: newer id */
		{T0 + 120 * NS - 1, 2},   {T0 + 120 * NS, 3},  {INT64_MAX, 4},
	};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		int r = catalog_snapshot_at_or_before(f->repo, f->pid, at[i].t, &s);
		if (at[i].want < 0) {
			assert_int_equal(r, -ENOENT);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(s.id, id[at[i].want]);
		snapshot_clear(&s);
	}

	assert_int_equal(catalog_snapshot_by_tag(f->repo, f->pid, "v1", &s), 0);
	assert_int_equal(s.id, id[4]); /* newest of two */
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_by_tag(f->repo, f->pid, "old", &s), 0);
	assert_int_equal(s.id, id[5]);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_by_tag(f->repo, f->pid, "nope", &s), -ENOENT);

	struct snapshot *all;
	size_t n;
	assert_int_equal(catalog_snapshots(f->repo, f->pid, &all, &n), 0);
	assert_int_equal(n, 6);
	int order[] = {4, 3, 2, 1, 0, 5};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(all[i].id, id[order[i]]);
	snapshots_free(all, n);

	/* A project without snapshots. */
	struct project e;
	assert_int_equal(catalog_project_register(f->repo, "empty", "/e", &e), 0);
	assert_int_equal(catalog_snapshots(f->repo, e.id, &all, &n), 0);
	assert_int_equal(n, 0);
	snapshots_free(all, n);
	assert_int_equal(catalog_snapshot_latest(f->repo, e.id, &s), -ENOENT);
	assert_int_equal(catalog_snapshot_at_or_before(f->repo, e.id, INT64_MAX, &s), -ENOENT);
	project_clear(&e);
	project_clear(&o);
}

static void second_connection_sees_commits(void **state)
{
	struct fixture *f = *state;
	struct repo *rd;
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	uint64_t g0, g1, w0, w1;
	assert_int_equal(catalog_generation(rd, &g0), 0);
	assert_int_equal(catalog_generation(rd, &g1), 0);
	assert_int_equal(g0, g1); /* nothing happened */
	assert_int_equal(catalog_generation(f->repo, &w0), 0);

	struct snapshot s;
	assert_int_equal(catalog_snapshot_latest(rd, f->pid, &s), -ENOENT);
	char name[SNAPNAME_MAX_LEN + 1];
	int64_t id = insert(f, f->pid, T0, NULL, name);

	assert_int_equal(catalog_generation(rd, &g1), 0);
	assert_true(g1 != g0);
	assert_int_equal(catalog_generation(f->repo, &w1), 0);
	assert_true(w1 != w0); /* the writer's own commit counts too */
	assert_int_equal(catalog_snapshot_latest(rd, f->pid, &s), 0);
	assert_int_equal(s.id, id);
	assert_string_equal(s.name, name);
	snapshot_clear(&s);

	/* A project registered by the writer is a change as well. */
	struct project p;
	assert_int_equal(catalog_project_register(f->repo, "new", "/new", &p), 0);
	project_clear(&p);
	assert_int_equal(catalog_generation(rd, &g0), 0);
	assert_true(g0 != g1);
	assert_int_equal(catalog_project_by_name(rd, "new", &p), 0);
	project_clear(&p);

	/* The reader cannot write. */
	assert_true(catalog_project_register(rd, "x", "/x", &p) < 0);
	repo_close(rd);
}

static void entries_for(struct pack_entry *e, int n, int seed)
{
	for (int i = 0; i < n; i++) {
		fill_id(&e[i].id, seed + i);
		e[i].type = i % 3 == 0 ? BLOB_DATA : i % 3 == 1 ? BLOB_TREE : BLOB_SNAPSHOT;
		e[i].offset = PACK_HEADER_SIZE + (uint64_t)i * 1000;
		e[i].length = 900 + (uint32_t)i;
		e[i].raw_length = 2000 + (uint32_t)i;
		e[i].xxh = 0xfedcba9876543210ull + (uint64_t)i; /* above INT64_MAX */
	}
}

static void packs_and_blob_index(void **state)
{
	struct fixture *f = *state;
	const char *pa = "00112233445566778899aabbccddeeff";
	const char *pb = "ffeeddccbbaa99887766554433221100";
	struct pack_entry a[5], b[3];
	entries_for(a, 5, 100);
	entries_for(b, 3, 103); /* b[0], b[1] duplicate a[3], a[4] */
	assert_int_equal(catalog_pack_add(f->repo, pa, 123456, a, 5), 0);
	assert_int_equal(catalog_pack_add(f->repo, pb, 999, b, 3), 0);

	struct blob_loc loc;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(catalog_blob_lookup(f->repo, &a[i].id, a[i].type, &loc), 0);
		assert_string_equal(loc.pack, pa); /* duplicates keep the first */
		assert_int_equal(loc.offset, a[i].offset);
		assert_int_equal(loc.length, a[i].length);
		assert_int_equal(loc.raw_length, a[i].raw_length);
		assert_int_equal(loc.type, a[i].type);
		assert_true(loc.xxh == a[i].xxh);
	}
	assert_int_equal(catalog_blob_lookup(f->repo, &b[2].id, b[2].type, &loc), 0);
	assert_string_equal(loc.pack, pb);
	assert_int_equal(loc.offset, b[2].offset);

	blob_id unknown;
	fill_id(&unknown, 9999);
	assert_int_equal(catalog_blob_lookup(f->repo, &unknown, BLOB_DATA, &loc), -ENOENT);
	assert_int_equal(catalog_blob_lookup_any(f->repo, &unknown, &loc), -ENOENT);
	/* The type is part of the key: a[1] is a tree, not a data chunk. */
	assert_int_equal(catalog_blob_lookup(f->repo, &a[1].id, BLOB_DATA, &loc), -ENOENT);
	assert_int_equal(catalog_blob_lookup_any(f->repo, &a[1].id, &loc), 0);
	assert_int_equal(loc.type, BLOB_TREE);

	/* Adding a pack again (repair) is harmless; bad names are refused. */
	assert_int_equal(catalog_pack_add(f->repo, pa, 123456, a, 5), 0);
	assert_int_equal(catalog_pack_add(f->repo, "../../etc", 1, a, 1), -EINVAL);
	assert_int_equal(catalog_pack_add(f->repo, "00112233445566778899AABBCCDDEEFF", 1, a, 1),
			 -EINVAL);

	/* Damaged rows are reported, not trusted. */
	const char *bad[] = {
		"UPDATE blobs SET offset = -5",          /* e.g. UINT64_MAX - 4 */
		"UPDATE blobs SET offset = 3",           /* inside the header */
		"UPDATE blobs SET length = 4294967295",  /* would allocate 4 GiB */
		"UPDATE blobs SET length = 10",          /* shorter than any sealed blob */
		"UPDATE blobs SET raw_length = -1",
		"UPDATE blobs SET type = 3",             /* a pack index is never indexed */
		"UPDATE blobs SET type = 'x'",
		"UPDATE packs SET name = '../../../../etc/passwd' WHERE id = 1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(sqlite3_exec(f->repo->db, "SAVEPOINT s", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_exec(f->repo->db, bad[i], NULL, NULL, NULL), SQLITE_OK);
		store_error_clear();
		assert_int_equal(catalog_blob_lookup_any(f->repo, &a[0].id, &loc), -STORE_ECORRUPT);
		assert_non_null(strstr(store_error(), "bad index row"));
		assert_int_equal(sqlite3_exec(f->repo->db, "ROLLBACK TO s; RELEASE s", NULL, NULL,
					      NULL),
				 SQLITE_OK);
		assert_int_equal(catalog_blob_lookup(f->repo, &a[0].id, a[0].type, &loc), 0);
	}
}

/* Lookups in a REPO_READ repository run on a connection of each thread's
 * own (catalog_reader.c): they see the writer's commits as they land,
 * give the same answers from many threads at once, and still refuse a
 * damaged row. */
struct reader_job {
	struct repo *rd;
	const struct pack_entry *e;
	int n;
	const char *pack;
	int wrong;
	struct cat_reader *mine;
	/* Every thread keeps its connection until all have taken theirs: one
	 * freed at a thread's exit could be allocated again, at the same
	 * address, to a thread that starts later. */
	pthread_barrier_t *all_have_one;
};

static void *reader_thread(void *arg)
{
	struct reader_job *j = arg;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < j->n; i++) {
			struct blob_loc loc;
			if (catalog_blob_lookup(j->rd, &j->e[i].id, j->e[i].type, &loc) != 0 ||
			    strcmp(loc.pack, j->pack) != 0 || loc.offset != j->e[i].offset)
				j->wrong++;
		}
	}
	j->mine = cat_reader_get(j->rd);
	pthread_barrier_wait(j->all_have_one);
	return NULL;
}

static void reader_connection_per_thread(void **state)
{
	struct fixture *f = *state;
	const char *pc = "0123456789abcdef0123456789abcdef";
	struct pack_entry e[6];
	entries_for(e, 6, 500);
	struct repo *rd;
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	assert_null(cat_reader_get(f->repo)); /* the writer's lookups stay on its connection */
	struct blob_loc loc;
	assert_int_equal(catalog_blob_lookup(rd, &e[0].id, e[0].type, &loc), -ENOENT);
	struct cat_reader *main_reader = cat_reader_get(rd);
	assert_non_null(main_reader);
	/* Committed after the reader's connection was opened: seen. */
	assert_int_equal(catalog_pack_add(f->repo, pc, 4242, e, 6), 0);
	assert_int_equal(catalog_blob_lookup(rd, &e[0].id, e[0].type, &loc), 0);
	assert_string_equal(loc.pack, pc);
	assert_int_equal(catalog_blob_lookup_any(rd, &e[1].id, &loc), 0);
	assert_int_equal(loc.type, e[1].type);

	pthread_t th[4];
	struct reader_job jobs[4];
	pthread_barrier_t all_have_one;
	assert_int_equal(pthread_barrier_init(&all_have_one, NULL, 4), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct reader_job){ .rd = rd, .e = e, .n = 6, .pack = pc,
					       .all_have_one = &all_have_one };
		assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].wrong, 0);
		assert_non_null(jobs[i].mine);
		assert_ptr_not_equal(jobs[i].mine, main_reader);
		for (int k = 0; k < i; k++)
			assert_ptr_not_equal(jobs[i].mine, jobs[k].mine);
	}
	pthread_barrier_destroy(&all_have_one);

	/* A damaged row, committed, is refused on the reader's connection too. */
	assert_int_equal(sqlite3_exec(f->repo->db,
				      "UPDATE blobs SET offset = 3 WHERE pack_id ="
				      " (SELECT id FROM packs WHERE name = '0123456789abcdef0123456789abcdef')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(catalog_blob_lookup(rd, &e[2].id, e[2].type, &loc), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "bad index row"));
	repo_close(rd);
}

static void failed_insert_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct snapshot_new n = {.project_id = f->pid + 1000, .time_ns = T0};
	struct snapshot s;
	/* An unknown project is refused by the foreign key. */
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), -ENOENT);

	/* Make the row insert succeed and the transaction fail after it:
	 * with deferred foreign keys the row goes in, then the read-back (and
	 * the COMMIT) cannot succeed; the whole transaction must roll back. */
	assert_int_equal(sqlite3_exec(f->repo->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	assert_true(catalog_snapshot_insert(f->repo, &n, &s) < 0);

	struct repo *rd;
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &rd), 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(rd->db, "SELECT count(*) FROM snapshots", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	repo_close(rd);
	assert_int_equal(sqlite3_get_autocommit(f->repo->db), 1); /* not left in a transaction */

	/* The connection is still usable and the name still free. */
	n.project_id = f->pid;
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), 0);
	assert_string_equal(s.name, "2026-02-14T10:30");
	snapshot_clear(&s);

	n.status = (enum snap_status)7;
	assert_int_equal(catalog_snapshot_insert(f->repo, &n, &s), -EINVAL);
}

static void newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sqlite3_exec(f->repo->db,
				      "UPDATE meta SET value = '4' WHERE key = 'schema_version'", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	repo_close(f->repo);
	f->repo = NULL;
	struct repo *r;
	store_error_clear();
	assert_int_equal(repo_open(f->path, REPO_READ, 0, &r), -STORE_ENEWER);
	assert_non_null(strstr(store_error(), "schema 4 is newer"));
	assert_int_equal(repo_open(f->path, REPO_WRITE, 0, &r), -STORE_ENEWER);
}

/* The one definition of a usable name. */
static void name_rules(void **state)
{
	(void)state;
	static const char *const good_projects[] = {"myapp", "a", "my app", "x.y", "...", "-x",
						    "ünïcödé", "latest", "a..b"};
	static const char *const bad_projects[] = {"", ".", "..", "bad/name", "/", "a/", "/a",
						   "tab\there", "new\nline", "esc\x1b[31m", "del\x7f"};
	for (size_t i = 0; i < sizeof good_projects / sizeof *good_projects; i++)
		if (!catalog_project_name_ok(good_projects[i]))
			fail_msg("project name '%s' refused", good_projects[i]);
	for (size_t i = 0; i < sizeof bad_projects / sizeof *bad_projects; i++)
		if (catalog_project_name_ok(bad_projects[i]))
			fail_msg("project name '%s' accepted", bad_projects[i]);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[255] = '\0';
	assert_true(catalog_project_name_ok(longname));
	longname[255] = 'a';
	longname[256] = '\0';
	assert_false(catalog_project_name_ok(longname));
	assert_false(catalog_project_name_ok(NULL));

	static const char *const good_snaps[] = {"2026-02-14T10:30", "2026-02-14T10:30:42",
						 "2026-02-14T10:30:42.2", "2026-02-14T10:30:42.17",
						 "0000-01-01T00:00", "2026-12-31T23:59:60"};
	static const char *const bad_snaps[] = {
		"", "latest", "../../x", "..", ".", "2026-02-14", "2026-02-14T10:3",
		"2026-02-14T10:30:4", "2026-02-14T10:30:42.", "2026-02-14T10:30:42.1",
		"2026-02-14T10:30:42.02", "2026-02-14T10:30/..", "2026-13-14T10:30",
		"2026-02-32T10:30", "2026-02-14T24:30", "2026-02-14T10:60", "2026-02-14 10:30",
		"2026-02-14T10:30\n", "x2026-02-14T10:30", "2026-02-14T10:30:42.99999999999",
		"@tags", "2026-02-14T10:30:42.2/x"};
	for (size_t i = 0; i < sizeof good_snaps / sizeof *good_snaps; i++)
		if (!catalog_snapshot_name_ok(good_snaps[i]))
			fail_msg("snapshot name '%s' refused", good_snaps[i]);
	for (size_t i = 0; i < sizeof bad_snaps / sizeof *bad_snaps; i++)
		if (catalog_snapshot_name_ok(bad_snaps[i]))
			fail_msg("snapshot name '%s' accepted", bad_snaps[i]);
	assert_false(catalog_snapshot_name_ok(NULL));
	/* Every name snapname_make gives passes. */
	char out[SNAPNAME_MAX_LEN + 1];
	assert_int_equal(snapname_make(T0, NULL_TAKEN_CB, NULL, out), 0);
	assert_true(catalog_snapshot_name_ok(out));
}

static void registration_uses_the_rules(void **state)
{
	struct fixture *f = *state;
	struct project p;
	static const char *const bad_names[] = {"bad/name", ".", "..", "a\nb"};
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
		assert_int_equal(catalog_project_register(f->repo, bad_names[i], "/home/u/x", &p),
				 -EINVAL);
	static const char *const bad_roots[] = {"rel/path", "/a//b", "/a/./b", "/a/../b", "/a/",
						"/a/.."};
	for (size_t i = 0; i < sizeof bad_roots / sizeof *bad_roots; i++)
		assert_int_equal(catalog_project_register(f->repo, "ok", bad_roots[i], &p), -EINVAL);
	assert_int_equal(catalog_project_register(f->repo, "root", "/", &p), 0);
	project_clear(&p);
}

static void exec_sql(struct fixture *f, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(f->repo->db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

/* Rows as sqlite3 lets anyone write them (foreign keys off, as in the
 * sqlite3 shell): a copy of snapshot `from` with the given fields. */
static void craft_snapshot(struct fixture *f, int64_t project_id, const char *name_sql,
			   int64_t time_add_s, int status, int files, const char *tag_sql)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "PRAGMA foreign_keys = OFF;"
		 "INSERT INTO snapshots(project_id, name, time_ns, tag, root, status, files, dirs,"
		 " bytes, new_blobs, new_bytes, read_bytes, duration_ns)"
		 " SELECT %lld, %s, time_ns + %lld * 1000000000, %s, root, %d, %d, 1, 1, 0, 0, 0, 0"
		 " FROM snapshots ORDER BY id LIMIT 1;"
		 "PRAGMA foreign_keys = ON;",
		 (long long)project_id, name_sql, (long long)time_add_s, tag_sql, status, files);
	exec_sql(f, sql);
}

struct fault_seen {
	int64_t id[32];
	unsigned faults[32];
	size_t n;
};

static int seen_project(void *ctx, const struct project *p, unsigned faults)
{
	struct fault_seen *s = ctx;
	if (faults && s->n < 32) {
		s->id[s->n] = p->id;
		s->faults[s->n++] = faults;
	}
	return 0;
}

static int seen_snapshot(void *ctx, const struct snapshot *sn, unsigned faults)
{
	struct fault_seen *s = ctx;
	if (faults && s->n < 32) {
		s->id[s->n] = sn->id;
		s->faults[s->n++] = faults;
	}
	return 0;
}

/* A crafted catalog: every listing and lookup leaves the invalid rows out
 * (and goes on to the next valid one), counts what it skipped, and the
 * scans check uses see each with its faults. */
static void crafted_rows_are_skipped(void **state)
{
	struct fixture *f = *state;
	char good1[SNAPNAME_MAX_LEN + 1], good2[SNAPNAME_MAX_LEN + 1];
	insert(f, f->pid, T0, "v1", good1);
	insert(f, f->pid, T0 + 60 * NS, NULL, good2);
	exec_sql(f, "INSERT INTO projects(id, name, root, created_ns) VALUES"
		    " (10, 'bad/name', '/home/u/bad', 1), (11, '', '/home/u/empty', 1),"
		    " (12, '..', '/home/u/dots', 1), (13, 'relroot', 'home/u/rel', 1),"
		    " (14, 'past', '/home/u/past', -5)");
	/* Newer than the good ones, so a LIMIT 1 would pick them. */
	craft_snapshot(f, f->pid, "'../../x'", 1000, 0, 1, "'v1'");
	craft_snapshot(f, f->pid, "'latest'", 2000, 0, 1, "NULL");
	craft_snapshot(f, f->pid, "''", 3000, 0, 1, "NULL");
	craft_snapshot(f, f->pid, "'2027-01-01T00:00'", 4000, 99, 1, "'v1'");
	craft_snapshot(f, f->pid, "'2027-01-02T00:00'", 5000, -1, 1, "NULL");
	craft_snapshot(f, f->pid, "'2027-01-03T00:00'", 6000, 0, -5, "NULL");
	craft_snapshot(f, 99, "'2027-01-04T00:00'", 7000, 0, 1, "NULL");
	craft_snapshot(f, 10, "'2027-01-05T00:00'", 8000, 0, 1, "NULL");

	struct project *ps;
	size_t n;
	assert_int_equal(catalog_projects(f->repo, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].name, "myapp");
	projects_free(ps, n);
	assert_true(catalog_rows_skipped(f->repo) >= 5);

	struct snapshot *ss;
	assert_int_equal(catalog_snapshots(f->repo, f->pid, &ss, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ss[0].name, good2);
	assert_string_equal(ss[1].name, good1);
	snapshots_free(ss, n);
	assert_int_equal(catalog_snapshots(f->repo, 10, &ss, &n), 0); /* its project is invalid */
	assert_int_equal(n, 0);
	free(ss);

	struct snapshot s;
	assert_int_equal(catalog_snapshot_latest(f->repo, f->pid, &s), 0);
	assert_string_equal(s.name, good2);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_at_or_before(f->repo, f->pid, T0 + 99999 * NS, &s), 0);
	assert_string_equal(s.name, good2);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_by_tag(f->repo, f->pid, "v1", &s), 0);
	assert_string_equal(s.name, good1);
	snapshot_clear(&s);
	static const char *const gone[] = {"../../x", "latest", "", "2027-01-01T00:00",
					   "2027-01-02T00:00", "2027-01-03T00:00"};
	for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
		assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, gone[i], &s), -ENOENT);
	struct project p;
	assert_int_equal(catalog_project_by_name(f->repo, "bad/name", &p), -ENOENT);
	assert_int_equal(catalog_project_by_root(f->repo, "/home/u/bad", &p), -ENOENT);
	/* Registering over an invalid row says so, not SQLite's words. */
	store_error_clear();
	assert_int_equal(catalog_project_register(f->repo, "bad", "/home/u/bad", &p), -EEXIST);
	assert_non_null(strstr(store_error(), "invalid; ckptfs check --repair fixes it"));

	/* check's scans see every one, with its faults. */
	struct fault_seen seen = {0};
	assert_int_equal(catalog_scan_projects(f->repo, seen_project, &seen), 0);
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.faults[0], CATALOG_FAULT_NAME);
	assert_int_equal(seen.faults[1], CATALOG_FAULT_NAME);
	assert_int_equal(seen.faults[2], CATALOG_FAULT_NAME);
	assert_int_equal(seen.faults[3], CATALOG_FAULT_ROOT);
	assert_int_equal(seen.faults[4], CATALOG_FAULT_TIME);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(catalog_scan_snapshots(f->repo, seen_snapshot, &seen), 0);
	static const unsigned want[] = {CATALOG_FAULT_NAME,   CATALOG_FAULT_NAME,
					CATALOG_FAULT_NAME,   CATALOG_FAULT_STATUS,
					CATALOG_FAULT_STATUS, CATALOG_FAULT_COUNTS,
					CATALOG_FAULT_ORPHAN, CATALOG_FAULT_PROJECT};
	assert_int_equal(seen.n, 8);
	for (size_t i = 0; i < 8; i++)
		if (seen.faults[i] != want[i])
			fail_msg("crafted snapshot %zu: faults %#x, want %#x", i, seen.faults[i],
				 want[i]);
	char buf[128];
	assert_string_equal(catalog_faults_text(CATALOG_FAULT_NAME | CATALOG_FAULT_COUNTS, true,
						buf, sizeof buf),
			    "invalid snapshot name; negative counts");
	assert_string_equal(catalog_faults_text(CATALOG_FAULT_NAME, true, buf, 10), "invalid s");

	/* Repair's primitives: fix, rename, quarantine (a project takes its
	 * snapshots along); the quarantine keeps every row. */
	int64_t ids[8];
	memcpy(ids, seen.id, sizeof ids);
	assert_int_equal(catalog_snapshot_fix(f->repo, ids[3]), 0);
	assert_int_equal(catalog_snapshot_fix(f->repo, ids[5]), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(catalog_quarantine_snapshot(f->repo, ids[i], "invalid snapshot name"),
				 0);
	assert_int_equal(catalog_quarantine_snapshot(f->repo, ids[6], "orphan"), 0);
	assert_int_equal(catalog_project_rename(f->repo, 10, "bad_name"), 0);
	assert_int_equal(catalog_project_rename(f->repo, 11, "a/b"), -EINVAL);
	assert_int_equal(catalog_quarantine_project(f->repo, 13, "bad root"), 0);
	assert_int_equal(catalog_project_fix(f->repo, 14), 0);
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, "2027-01-01T00:00", &s), 0);
	assert_int_equal(s.status, SNAP_DAMAGED);
	snapshot_clear(&s);
	assert_int_equal(catalog_snapshot_by_name(f->repo, f->pid, "2027-01-03T00:00", &s), 0);
	assert_int_equal(s.stats.files, 0);
	snapshot_clear(&s);
	assert_int_equal(catalog_project_by_name(f->repo, "bad_name", &p), 0);
	project_clear(&p);
	int64_t nq;
	assert_int_equal(catalog_quarantined(f->repo, &nq), 0);
	assert_int_equal(nq, 5);
	/* Left: project 11 (""), 12 (".."), snapshot 5 (status -1). */
	memset(&seen, 0, sizeof seen);
	assert_int_equal(catalog_scan_projects(f->repo, seen_project, &seen), 0);
	assert_int_equal(seen.n, 2);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(catalog_scan_snapshots(f->repo, seen_snapshot, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.id[0], ids[4]);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(projects_register_and_lookup), T(snapshot_row_round_trip),
		T(snapshot_lookups),             T(second_connection_sees_commits),
		T(packs_and_blob_index),         T(failed_insert_leaves_nothing),
		T(newer_schema_is_refused),      T(name_rules),
		T(registration_uses_the_rules),  T(crafted_rows_are_skipped),
		T(reader_connection_per_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
