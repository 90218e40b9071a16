/* test_gc.c — the mark set, mark, plan and a whole gc on real (small)
 * repositories: what a kept snapshot needs survives byte for byte, what
 * only deleted snapshot rows needed goes, sparse packs are rewritten, a
 * partial mark deletes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "repo_fixture.h"
#include "store/blob.h"
#include "store/catalog_internal.h"
#include "store/check.h"
#include "store/content.h"
#include "store/gc.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

#define FILE_LEN (600 * 1024)

static void sql(struct fixture *f, const char *q)
{
	char *err = NULL;
	if (sqlite3_exec(f->repo->db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err ? err : "?");
}

static int64_t sql_int(struct fixture *f, const char *q)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->repo->db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void delete_snapshot(struct fixture *f, int64_t id)
{
	char q[96];
	snprintf(q, sizeof q, "DELETE FROM snapshots WHERE id = %lld", (long long)id);
	sql(f, q);
}

/* A snapshot of "keep.bin" (seed keep) and "own.bin" (seed own) under dir/. */
static void make_snapshot(struct fixture *f, uint64_t keep, uint64_t own, int64_t t,
			  struct snapshot *ret)
{
	uint8_t *data = malloc(FILE_LEN);
	struct node n[2] = { file_node("keep.bin"), file_node("own.bin") };
	fill_mixed(data, FILE_LEN, keep);
	put_mem(f, data, FILE_LEN, &n[0]);
	fill_mixed(data, FILE_LEN, own);
	put_mem(f, data, FILE_LEN, &n[1]);
	free(data);
	blob_id sub, root;
	put_tree(f, n, 2, &sub);
	struct node d = dir_node("dir", &sub);
	put_tree(f, &d, 1, &root);
	fixture_commit(f, &root, t, ret);
}

/* The file at path of snapshot s equals fill_mixed(seed). */
static void assert_file(struct fixture *f, const struct snapshot *s, const char *path,
			uint64_t seed)
{
	struct node n;
	CHECK(tree_resolve(f->repo, &s->root, path, &n));
	assert_int_equal(n.size, FILE_LEN);
	uint8_t *want = malloc(FILE_LEN), *got = malloc(FILE_LEN);
	fill_mixed(want, FILE_LEN, seed);
	ssize_t k = content_read(f->repo, &n, 0, got, FILE_LEN);
	if (k < 0)
		fail_store("content_read", (int)k);
	assert_int_equal(k, FILE_LEN);
	assert_memory_equal(got, want, FILE_LEN);
	free(want);
	free(got);
	node_clear(&n);
}

static void assert_healthy(struct fixture *f)
{
	struct check_opts o = { .read_data = true };
	struct check_result res;
	CHECK(check_run(f->repo, &o, &res));
	assert_true(res.healthy);
}

static struct gc_result run_gc(struct fixture *f, bool dry_run, unsigned threshold)
{
	struct gc_opts o = { .dry_run = dry_run, .threshold = threshold };
	struct gc_result res;
	CHECK(gc_run(f->repo, &o, &res));
	/* The repack's transaction turns them off (catalog_gc.c): back on. */
	assert_int_equal(sql_int(f, "PRAGMA foreign_keys"), 1);
	return res;
}

static int count_pack_files(struct fixture *f)
{
	char path[160];
	int n = 0;
	for (int i = 0; i < 256; i++) {
		snprintf(path, sizeof path, "%s/packs/%02x", f->repo_path, i);
		int k = count_entries(path);
		if (k > 0)
			n += k;
	}
	return n;
}

static void set_add_get_grow(void **state)
{
	(void)state;
	struct gc_set *s;
	CHECK(gc_set_new(&s));
	blob_id id;
	uint64_t rng = 7;
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < ID_BYTES; k += 8) {
			uint64_t v = rng_next(&rng);
			memcpy(id.b + k, &v, 8);
		}
		assert_int_equal(gc_set_add(s, &id, GC_LIVE_DATA), 0);
	}
	assert_int_equal(gc_set_count(s), 100000);
	/* Same ids again: present, flags merged. */
	rng = 7;
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < ID_BYTES; k += 8) {
			uint64_t v = rng_next(&rng);
			memcpy(id.b + k, &v, 8);
		}
		assert_int_equal(gc_set_add(s, &id, GC_LIVE_TREE), GC_LIVE_DATA);
		assert_int_equal(gc_set_get(s, &id), GC_LIVE_DATA | GC_LIVE_TREE);
	}
	assert_int_equal(gc_set_count(s), 100000);
	/* 33 bytes a slot, at most 3/4 full. */
	assert_true(gc_set_bytes(s) <= 100000 * 33 * 8 / 3);
	memset(&id, 0xab, sizeof id);
	assert_int_equal(gc_set_get(s, &id), 0);
	gc_set_free(s);
}

static void set_live_by_type(void **state)
{
	(void)state;
	struct gc_set *s;
	CHECK(gc_set_new(&s));
	blob_id a, b;
	memset(&a, 1, sizeof a);
	memset(&b, 2, sizeof b);
	assert_int_equal(gc_set_add(s, &a, GC_LIVE_DATA), 0);
	assert_true(gc_set_live(s, &a, BLOB_DATA, false));
	assert_false(gc_set_live(s, &a, BLOB_TREE, false));
	assert_true(gc_set_live(s, &a, BLOB_TREE, true)); /* schema-1 type fallback */
	assert_false(gc_set_live(s, &a, BLOB_SNAPSHOT, true));
	assert_false(gc_set_live(s, &b, BLOB_DATA, true));
	assert_int_equal(gc_set_add(s, &b, GC_SNAPROW), 0);
	assert_false(gc_set_live(s, &b, BLOB_SNAPSHOT, false)); /* a row key is no blob */
	gc_set_free(s);
}

static void mark_from_every_row(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 1, 3, 2000, &s2); /* keep.bin shared, own.bin not */
	delete_snapshot(f, s1.id);
	struct gc_set *set;
	CHECK(gc_set_new(&set));
	struct gc_result res = { 0 };
	struct gc_scan *scan;
	CHECK(gc_scan_start(f->repo, &scan));
	CHECK(gc_mark(f->repo, scan, set, &res));
	assert_int_equal(res.snapshots, 1);
	assert_int_equal(res.trees, 2);
	assert_true(gc_set_live(set, &s2.root, BLOB_TREE, false));
	assert_false(gc_set_live(set, &s1.root, BLOB_TREE, false));
	struct node keep, own1, own2;
	CHECK(tree_resolve(f->repo, &s1.root, "dir/keep.bin", &keep));
	CHECK(tree_resolve(f->repo, &s1.root, "dir/own.bin", &own1));
	CHECK(tree_resolve(f->repo, &s2.root, "dir/own.bin", &own2));
	for (size_t i = 0; i < keep.nchunks; i++)
		assert_true(gc_set_live(set, &keep.chunks[i].id, BLOB_DATA, false));
	for (size_t i = 0; i < own2.nchunks; i++)
		assert_true(gc_set_live(set, &own2.chunks[i].id, BLOB_DATA, false));
	size_t dead = 0;
	for (size_t i = 0; i < own1.nchunks; i++)
		dead += !gc_set_live(set, &own1.chunks[i].id, BLOB_DATA, false);
	assert_true(dead > 0);
	/* Exactly one snapshot record is live: s2's. */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs WHERE type = 4"), 2);
	struct gc_plan plan;
	CHECK(gc_plan_make(f->repo, scan, set, GC_DEFAULT_THRESHOLD, &plan));
	gc_scan_free(scan);
	assert_int_equal(plan.n, 2);
	/* s1's pack: keep.bin is live, own.bin and its record are not. */
	assert_int_equal(plan.packs[0].action, GC_REPACK);
	assert_true(plan.packs[0].dead_snaprec);
	assert_int_equal(plan.packs[1].action, -1);
	gc_plan_clear(&plan);
	node_clear(&keep);
	node_clear(&own1);
	node_clear(&own2);
	gc_set_free(set);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

struct seen_loads {
	struct fixture *f;
	blob_id id[8];
	int err[8];
	size_t n;
};

static int record_load(void *ctx, const blob_id *id, int err, uint8_t *data, size_t len)
{
	struct seen_loads *s = ctx;
	assert_true(s->n < 8);
	s->id[s->n] = *id;
	s->err[s->n] = err;
	s->n++;
	if (err == 0) {
		struct tree *t;
		assert_non_null(data);
		CHECK(tree_decode(data, len, &t));
		tree_free(t);
	} else {
		assert_null(data);
	}
	return 0;
}

/* gc_load_batch: every id once, the indexed ones in pack and offset order
 * with their plaintext, one the index lacks at the end with its error. */
static void load_batch_in_disk_order(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 3, 4, 2000, &s2);
	struct tree *t1, *t2;
	CHECK(tree_load(f->repo, &s1.root, &t1));
	CHECK(tree_load(f->repo, &s2.root, &t2));
	blob_id bogus, ids[5] = { s2.root, t2->nodes[0].subtree, s1.root, { { 0 } },
				  t1->nodes[0].subtree };
	memset(&bogus, 0x5a, sizeof bogus);
	ids[3] = bogus;
	tree_free(t1);
	tree_free(t2);
	struct seen_loads seen = { .f = f };
	struct gc_fds fds;
	gc_fds_init(&fds);
	CHECK(gc_load_batch(f->repo, &fds, ids, 5, BLOB_TREE, record_load, &seen));
	gc_fds_close(&fds);
	assert_int_equal(seen.n, 5);
	for (size_t i = 0; i < 5; i++) {
		size_t times = 0;
		for (size_t k = 0; k < seen.n; k++)
			times += id_equal(&seen.id[k], &ids[i]);
		assert_int_equal(times, 1);
	}
	assert_true(id_equal(&seen.id[4], &bogus));
	assert_int_equal(seen.err[4], -ENOENT);
	struct blob_loc prev = { 0 };
	for (size_t k = 0; k < 4; k++) {
		assert_int_equal(seen.err[k], 0);
		struct blob_loc loc;
		CHECK(catalog_blob_lookup(f->repo, &seen.id[k], BLOB_TREE, &loc));
		if (k) {
			int c = strcmp(prev.pack, loc.pack);
			assert_true(c < 0 || (c == 0 && prev.offset < loc.offset));
		}
		prev = loc;
	}
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void gc_deletes_and_repacks(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2, s3;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 4, 5, 2000, &s2); /* nothing shared: its pack dies whole */
	make_snapshot(f, 1, 6, 3000, &s3);
	delete_snapshot(f, s1.id);
	delete_snapshot(f, s2.id);
	int64_t packs_before = sql_int(f, "SELECT count(*) FROM packs");
	assert_int_equal(packs_before, 3);

	struct gc_result dry = run_gc(f, true, GC_DEFAULT_THRESHOLD);
	assert_int_equal(dry.packs, 3);
	assert_int_equal(dry.packs_deleted, 1);
	assert_int_equal(dry.packs_repacked, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM packs"), 3);
	assert_int_equal(count_pack_files(f), 3);

	struct gc_result res = run_gc(f, false, GC_DEFAULT_THRESHOLD);
	assert_int_equal(res.packs_deleted, 1);
	assert_int_equal(res.packs_repacked, 1);
	assert_int_equal(res.packs_written, 1);
	assert_true(res.bytes_after < res.bytes_before);
	assert_true(res.bytes_rewritten > 0);
	assert_true(res.bytes_live > 0 && res.bytes_live <= res.bytes_after);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM packs"), 2);
	assert_int_equal(count_pack_files(f), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs WHERE type = 4"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs b LEFT JOIN packs p"
				    " ON p.id = b.pack_id WHERE p.id IS NULL"),
			 0);
	assert_file(f, &s3, "dir/keep.bin", 1);
	assert_file(f, &s3, "dir/own.bin", 6);
	assert_healthy(f);

	/* A second gc has nothing to do. */
	res = run_gc(f, false, GC_DEFAULT_THRESHOLD);
	assert_int_equal(res.packs_deleted + res.packs_repacked + res.unindexed_deleted, 0);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
	snapshot_clear(&s3);
}

static void dead_record_forces_repack(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 1, 2, 2000, &s2); /* the same data: s2's pack holds its record only */
	delete_snapshot(f, s1.id);
	/* s1's pack is nearly all live, but holds s1's record: rewritten
	 * whatever the threshold, so a rebuild from packs cannot bring s1
	 * back. */
	struct gc_result res = run_gc(f, false, 0);
	assert_int_equal(res.packs_repacked, 1);
	assert_int_equal(res.packs_deleted, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blobs WHERE type = 4"), 1);
	assert_file(f, &s2, "dir/own.bin", 2);
	assert_healthy(f);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void partial_mark_deletes_nothing(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 3, 4, 2000, &s2);
	delete_snapshot(f, s1.id);
	/* s2's subtree vanishes from the index: gc must not guess. */
	struct tree *t;
	CHECK(tree_load(f->repo, &s2.root, &t));
	char hex[ID_HEX_LEN + 1], q[200];
	id_to_hex(&t->nodes[0].subtree, hex);
	tree_free(t);
	snprintf(q, sizeof q, "DELETE FROM blobs WHERE id = x'%s' AND type = 2", hex);
	sql(f, q);
	int files = count_pack_files(f);
	struct gc_opts o = { .threshold = GC_DEFAULT_THRESHOLD };
	struct gc_result res;
	assert_true(gc_run(f->repo, &o, &res) < 0);
	assert_non_null(strstr(store_error(), "nothing was deleted"));
	assert_int_equal(res.packs_deleted + res.packs_repacked, 0);
	assert_int_equal(count_pack_files(f), files);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void unindexed_packs_go_journalled_stay(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 3, 4, 2000, &s2);
	/* Two packs the catalog forgets: one journalled (a writer between
	 * rename and commit), one not (garbage of an interrupted gc). */
	char p1[PACK_NAME_LEN + 1], p2[PACK_NAME_LEN + 1], q[400], jp[200];
	struct blob_loc loc;
	CHECK(catalog_blob_lookup(f->repo, &s1.root, BLOB_TREE, &loc));
	memcpy(p1, loc.pack, sizeof p1);
	CHECK(catalog_blob_lookup(f->repo, &s2.root, BLOB_TREE, &loc));
	memcpy(p2, loc.pack, sizeof p2);
	sql(f, "DELETE FROM snapshots");
	snprintf(q, sizeof q,
		 "DELETE FROM blobs WHERE pack_id IN (SELECT id FROM packs WHERE name IN ('%s','%s'));"
		 "DELETE FROM packs WHERE name IN ('%s','%s')",
		 p1, p2, p1, p2);
	sql(f, q);
	snprintf(jp, sizeof jp, "%s/tmp/%s.pending", f->repo_path, p2);
	int fd = open(jp, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct gc_result res = run_gc(f, false, GC_DEFAULT_THRESHOLD);
	assert_int_equal(res.unindexed_deleted, 1);
	assert_int_equal(count_pack_files(f), 1);
	char rel[64], path[256];
	pack_path(p2, rel, sizeof rel);
	snprintf(path, sizeof path, "%s/%s", f->repo_path, rel);
	assert_int_equal(access(path, F_OK), 0);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void reader_follows_a_moved_blob(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 1, 3, 2000, &s2);
	/* A reader opened before gc reads s2 after its blobs moved. */
	struct repo *reader;
	CHECK(repo_open(f->repo_path, REPO_READ, 0, &reader));
	struct node n;
	CHECK(tree_resolve(reader, &s2.root, "dir/keep.bin", &n));
	uint8_t buf[4096];
	assert_true(content_read(reader, &n, 0, buf, sizeof buf) == (ssize_t)sizeof buf);
	node_clear(&n);
	delete_snapshot(f, s1.id);
	struct gc_result res = run_gc(f, false, GC_DEFAULT_THRESHOLD);
	assert_int_equal(res.packs_repacked, 1);
	repo_set_cache_bytes(reader, 0); /* nothing from before gc */
	uint8_t *want = malloc(FILE_LEN), *got = malloc(FILE_LEN);
	fill_mixed(want, FILE_LEN, 1);
	CHECK(tree_resolve(reader, &s2.root, "dir/keep.bin", &n));
	assert_int_equal(content_read(reader, &n, 0, got, FILE_LEN), FILE_LEN);
	assert_memory_equal(got, want, FILE_LEN);
	node_clear(&n);
	free(want);
	free(got);
	repo_close(reader);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

/* ---- gc between a reader's lookup and its read ----------------------------
 *
 * The two races of a reader with gc, made to happen every time instead of
 * by luck: this binary's openat64() and pread64() stand in for libc's (an
 * executable's definitions interpose them, the store's calls included),
 * and when armed, the first call on the watched pack runs a whole gc
 * first, on the writer's handle, in the reader's own thread: after the
 * reader looked the blob up (its location now stale) and before it opens
 * the pack, or reads from the pack it holds open. */
static struct {
	bool armed;
	char pack[PACK_NAME_LEN + 1]; /* openat64: a path naming this pack */
	dev_t dev;                    /* pread64: an fd on this file */
	ino_t ino;
	struct fixture *f;
	atomic_int fired;
	struct gc_result res;
	int open_errno; /* the reader's openat64 of the pack after gc */
} race;

static void race_gc(void)
{
	race.armed = false;
	struct gc_opts o = { .threshold = GC_DEFAULT_THRESHOLD };
	if (gc_run(race.f->repo, &o, &race.res) < 0)
		fail_msg("gc in the race: %s", store_error() ? store_error() : "?");
	atomic_fetch_add(&race.fired, 1);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	bool hit = race.armed && race.pack[0] && strstr(path, race.pack);
	if (hit)
		race_gc();
	int fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
	if (hit)
		race.open_errno = fd < 0 ? errno : 0;
	return fd;
}

ssize_t pread64(int fd, void *buf, size_t count, off_t off)
{
	struct stat st;
	if (race.armed && race.ino && fstat(fd, &st) == 0 && st.st_dev == race.dev &&
	    st.st_ino == race.ino)
		race_gc();
	return (ssize_t)syscall(SYS_pread64, fd, buf, count, off);
}

/* s1 and s2 share keep.bin; s1 deleted, so gc repacks the pack holding
 * keep.bin's chunks (s1's).  Its name in *ret_pack, keep.bin of s2 in n. */
static void race_setup(struct fixture *f, struct snapshot *s1, struct snapshot *s2,
		       struct repo **ret_reader, struct node *n, char ret_pack[PACK_NAME_LEN + 1])
{
	make_snapshot(f, 1, 2, 1000, s1);
	make_snapshot(f, 1, 3, 2000, s2);
	CHECK(repo_open(f->repo_path, REPO_READ, 0, ret_reader));
	repo_set_cache_bytes(*ret_reader, 0); /* every read goes to a pack */
	CHECK(tree_resolve(*ret_reader, &s2->root, "dir/keep.bin", n));
	assert_true(n->nchunks >= 2);
	struct blob_loc loc;
	CHECK(catalog_blob_lookup(f->repo, &n->chunks[0].id, BLOB_DATA, &loc));
	struct blob_loc last;
	CHECK(catalog_blob_lookup(f->repo, &n->chunks[n->nchunks - 1].id, BLOB_DATA, &last));
	assert_string_equal(loc.pack, last.pack);
	memcpy(ret_pack, loc.pack, PACK_NAME_LEN + 1);
	delete_snapshot(f, s1->id);
	memset(&race, 0, sizeof race);
	race.f = f;
}

static bool pack_exists(struct fixture *f, const char *name)
{
	char rel[64], path[256];
	pack_path(name, rel, sizeof rel);
	snprintf(path, sizeof path, "%s/%s", f->repo_path, rel);
	return access(path, F_OK) == 0;
}

static void assert_keep_bin(struct repo *reader, const struct node *n, uint64_t from)
{
	uint8_t *want = malloc(FILE_LEN), *got = malloc(FILE_LEN);
	fill_mixed(want, FILE_LEN, 1);
	assert_int_equal(content_read(reader, n, from, got, FILE_LEN - from),
			 (ssize_t)(FILE_LEN - from));
	assert_memory_equal(got, want + from, FILE_LEN - from);
	free(want);
	free(got);
}

/* The reader looked the chunk up (old pack), gc moved it and unlinked the
 * old pack, then the reader opens it: ENOENT, one more lookup, the new
 * pack, the right bytes. */
static void reader_stale_location_reread(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	struct repo *reader;
	struct node n;
	char pack[PACK_NAME_LEN + 1];
	race_setup(f, &s1, &s2, &reader, &n, pack);
	memcpy(race.pack, pack, sizeof pack);
	race.armed = true;
	assert_keep_bin(reader, &n, 0);
	assert_int_equal(atomic_load(&race.fired), 1);
	assert_int_equal(race.res.packs_repacked, 1);
	assert_int_equal(race.open_errno, ENOENT); /* the lookup was stale */
	assert_false(pack_exists(f, pack));
	struct blob_loc loc;
	CHECK(catalog_blob_lookup(f->repo, &n.chunks[0].id, BLOB_DATA, &loc));
	assert_string_not_equal(loc.pack, pack);
	node_clear(&n);
	repo_close(reader);
	assert_healthy(f);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

/* The same race for a reader whose lookups share one read transaction
 * (repo_lookups_begin: restore's writers, the mount's read-ahead): the
 * transaction began before gc committed the move, so the second lookup
 * must run in a new one or it finds the removed pack again. */
static void held_reader_stale_location_reread(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	struct repo *reader;
	struct node n;
	char pack[PACK_NAME_LEN + 1];
	race_setup(f, &s1, &s2, &reader, &n, pack);
	memcpy(race.pack, pack, sizeof pack);
	repo_lookups_begin(reader);
	/* The transaction's view is taken now, before gc. */
	assert_true(repo_has_blob(reader, &n.chunks[0].id, BLOB_DATA));
	race.armed = true;
	assert_keep_bin(reader, &n, 0);
	assert_int_equal(atomic_load(&race.fired), 1);
	assert_int_equal(race.res.packs_repacked, 1);
	assert_int_equal(race.open_errno, ENOENT); /* the held view was stale */
	assert_false(pack_exists(f, pack));
	/* Still held after the renewal: a later lookup works too. */
	assert_true(repo_has_blob(reader, &n.chunks[1].id, BLOB_DATA));
	repo_lookups_end(reader);
	node_clear(&n);
	repo_close(reader);
	assert_healthy(f);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

/* The reader holds the old pack open (it read the first chunk from it)
 * and has looked the next chunk up there; gc moves both and unlinks the
 * pack before the reader's pread: the open file still has the bytes. */
static void reader_open_pack_survives_unlink(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	struct repo *reader;
	struct node n;
	char pack[PACK_NAME_LEN + 1];
	race_setup(f, &s1, &s2, &reader, &n, pack);
	uint8_t first[4096];
	assert_int_equal(content_read(reader, &n, 0, first, sizeof first), (ssize_t)sizeof first);
	char rel[64], path[256];
	pack_path(pack, rel, sizeof rel);
	snprintf(path, sizeof path, "%s/%s", f->repo_path, rel);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	race.dev = st.st_dev;
	race.ino = st.st_ino;
	race.armed = true;
	uint64_t second = n.chunks[1].off; /* a chunk not read yet */
	assert_keep_bin(reader, &n, second);
	assert_int_equal(atomic_load(&race.fired), 1);
	assert_int_equal(race.res.packs_repacked, 1);
	assert_false(pack_exists(f, pack));
	node_clear(&n);
	repo_close(reader);
	assert_healthy(f);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void trash_kept_until_it_expires(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 2, 1000, &s1);
	make_snapshot(f, 3, 4, 2000, &s2);
	/* s1 in the trash from t=100 s to t=200 s. */
	const int64_t sec = 1000000000;
	CHECK(catalog_trash_put(f->repo, &s1.id, 1, 100 * sec, 200 * sec));
	struct gc_opts o = { .threshold = GC_DEFAULT_THRESHOLD, .now_ns = 150 * sec };
	struct gc_result res;
	CHECK(gc_run(f->repo, &o, &res));
	assert_int_equal(res.trash_expired, 0);
	assert_int_equal(res.packs_deleted + res.packs_repacked, 0);
	assert_file(f, &s1, "dir/own.bin", 2); /* still there: still restorable */
	/* A dry run after the window counts it out without deleting it. */
	o.now_ns = 250 * sec;
	o.dry_run = true;
	CHECK(gc_run(f->repo, &o, &res));
	assert_int_equal(res.trash_expired, 1);
	assert_int_equal(res.packs_deleted, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM snapshots"), 2);
	o.dry_run = false;
	CHECK(gc_run(f->repo, &o, &res));
	assert_int_equal(res.trash_expired, 1);
	assert_int_equal(res.packs_deleted, 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM snapshots"), 1);
	assert_file(f, &s2, "dir/own.bin", 4);
	assert_healthy(f);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_add_get_grow),
		cmocka_unit_test(set_live_by_type),
		cmocka_unit_test_setup_teardown(mark_from_every_row, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(load_batch_in_disk_order, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(gc_deletes_and_repacks, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(dead_record_forces_repack, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(partial_mark_deletes_nothing, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(unindexed_packs_go_journalled_stay, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(reader_follows_a_moved_blob, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(trash_kept_until_it_expires, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(held_reader_stale_location_reread, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(reader_stale_location_reread, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(reader_open_pack_survives_unlink, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
