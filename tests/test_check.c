/* test_check.c — check and repair on real repositories, and hostile trees
 * (entries named "..", "/", "", "a/b", a size that disagrees with its
 * chunks, a directory pointing at a data blob or at a forged id) that
 * tree_load, restore and check must all refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "repo_fixture.h"
#include "store/blob.h"
#include "store/catalog_internal.h"
#include "store/check.h"
#include "store/content.h"
#include "store/repo_internal.h"
#include "store/restore.h"
#include "store/snaprec.h"
#include "store/writer_internal.h"

struct findings {
	int damage, notice;
	char last[1024];
	char all[8192];
};

static void collect(void *ctx, enum check_level level, const char *line)
{
	struct findings *f = ctx;
	if (level == CHECK_DAMAGE)
		f->damage++;
	if (level == CHECK_NOTICE)
		f->notice++;
	snprintf(f->last, sizeof f->last, "%s", line);
	size_t n = strlen(f->all);
	snprintf(f->all + n, sizeof f->all - n, "%s\n", line);
}

static struct check_result run_check(struct repo *repo, bool read_data, bool repair,
				     struct findings *fd)
{
	struct check_opts o = { .read_data = read_data, .repair = repair, .ctx = fd,
				.report = collect };
	struct check_result res;
	memset(fd, 0, sizeof *fd);
	CHECK(check_run(repo, &o, &res));
	return res;
}

/* A snapshot of one ~600 KiB file in a subdirectory. */
static void make_snapshot(struct fixture *f, uint64_t seed, int64_t t, struct snapshot *ret)
{
	size_t len = 600 * 1024;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, seed);
	struct node n = file_node("data.bin");
	put_mem(f, data, len, &n);
	free(data);
	blob_id sub, root;
	put_tree(f, &n, 1, &sub);
	struct node d = dir_node("dir", &sub);
	put_tree(f, &d, 1, &root);
	fixture_commit(f, &root, t, ret);
}

static void healthy_repository(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 1, 1000, &s1);
	make_snapshot(f, 2, 2000, &s2);
	struct findings fd;
	struct check_result r = run_check(f->repo, true, false, &fd);
	assert_true(r.healthy);
	assert_int_equal(fd.damage, 0);
	assert_int_equal(r.snapshots, 2);
	assert_int_equal(r.trees, 4);
	assert_true(r.blobs_read == r.blobs && r.blobs > 4);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void pack_name_of(struct fixture *f, const blob_id *id, char out[PACK_NAME_LEN + 1])
{
	struct blob_loc loc;
	CHECK(catalog_blob_lookup_any(f->repo, id, &loc));
	memcpy(out, loc.pack, PACK_NAME_LEN + 1);
}

static void flipped_byte_found_by_read_data(void **state)
{
	struct fixture *f = *state;
	struct snapshot s;
	make_snapshot(f, 3, 1000, &s);
	struct tree *t;
	CHECK(tree_load(f->repo, &s.root, &t));
	struct tree *sub;
	CHECK(tree_load(f->repo, &t->nodes[0].subtree, &sub));
	const struct node_chunk *ch = &sub->nodes[0].chunks[0];
	struct blob_loc loc;
	CHECK(catalog_blob_lookup(f->repo, &ch->id, BLOB_DATA, &loc));
	char path[256];
	char rel[64];
	pack_path(loc.pack, rel, sizeof rel);
	snprintf(path, sizeof path, "%s/%s", f->repo_path, rel);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, (off_t)loc.offset + 40), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)loc.offset + 40), 1);
	close(fd);

	struct findings fdn;
	struct check_result r = run_check(f->repo, false, false, &fdn);
	assert_true(r.healthy); /* only reading the data can see it */
	r = run_check(f->repo, true, false, &fdn);
	assert_false(r.healthy);
	assert_int_equal(r.damaged_blobs, 1);
	assert_int_equal(r.damaged_snapshots, 1);
	assert_non_null(strstr(fdn.all, loc.pack));
	assert_non_null(strstr(fdn.all, "dir/data.bin"));
	tree_free(sub);
	tree_free(t);
	snapshot_clear(&s);
}

static void missing_pack_marked_damaged(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 4, 1000, &s1);
	make_snapshot(f, 5, 2000, &s2);
	char name[PACK_NAME_LEN + 1], rel[64], path[256];
	pack_name_of(f, &s2.root, name);
	pack_path(name, rel, sizeof rel);
	snprintf(path, sizeof path, "%s/%s", f->repo_path, rel);
	assert_int_equal(unlink(path), 0);

	struct findings fd;
	struct check_result r = run_check(f->repo, false, false, &fd);
	assert_false(r.healthy);
	assert_int_equal(r.damaged_packs, 1);
	assert_int_equal(r.damaged_snapshots, 1);
	r = run_check(f->repo, false, true, &fd);
	assert_int_equal(r.snapshots_marked, 1);
	struct snapshot *all;
	size_t n;
	CHECK(catalog_snapshots(f->repo, f->project_id, &all, &n));
	assert_int_equal(n, 2); /* never dropped */
	assert_int_equal(all[0].status, SNAP_DAMAGED);
	assert_int_equal(all[1].status, SNAP_COMPLETE);
	snapshots_free(all, n);
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

static void lost_catalog_rebuilt(void **state)
{
	struct fixture *f = *state;
	struct snapshot s1, s2;
	make_snapshot(f, 6, 1000000000000LL, &s1);
	make_snapshot(f, 7, 2000000000000LL, &s2);
	writer_free(f->w);
	f->w = NULL;
	repo_close(f->repo);
	f->repo = NULL;
	char path[256];
	static const char *const files[] = { "catalog.db", "catalog.db-wal", "catalog.db-shm" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", f->repo_path, files[i]);
		unlink(path);
	}
	CHECK(repo_open(f->repo_path, REPO_REPAIR, 0, &f->repo));
	struct findings fd;
	struct check_result r = run_check(f->repo, true, true, &fd);
	assert_true(r.healthy);
	assert_int_equal(r.snapshots_recovered, 2);
	struct project p;
	CHECK(catalog_project_by_name(f->repo, "proj", &p));
	struct snapshot *all;
	size_t n;
	CHECK(catalog_snapshots(f->repo, p.id, &all, &n));
	assert_int_equal(n, 2);
	assert_true(id_equal(&all[0].root, &s2.root));
	assert_true(id_equal(&all[1].root, &s1.root));
	assert_string_equal(all[0].name, s2.name);
	assert_string_equal(all[1].name, s1.name);
	assert_int_equal(all[1].time_ns, s1.time_ns);
	snapshots_free(all, n);
	project_clear(&p);
	CHECK(writer_open(f->repo, &f->w));
	snapshot_clear(&s1);
	snapshot_clear(&s2);
}

/* ---- hostile trees --------------------------------------------------- */

struct enc {
	uint8_t b[512];
	size_t n;
};

static void varint(struct enc *e, uint64_t v)
{
	while (v >= 0x80) {
		e->b[e->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	e->b[e->n++] = (uint8_t)v;
}

/* One-entry tree in the documented format (tree_encode.c), bypassing
 * tree_encode's own checks. */
static void raw_file_tree(struct enc *e, const char *name, size_t name_len, uint64_t size,
			  const blob_id *chunk, uint32_t chunk_len)
{
	e->n = 0;
	e->b[e->n++] = 1; /* version */
	varint(e, 1);     /* count */
	varint(e, name_len);
	memcpy(e->b + e->n, name, name_len);
	e->n += name_len;
	e->b[e->n++] = NODE_FILE;
	varint(e, 0);     /* flags */
	varint(e, 0644);  /* mode */
	varint(e, 0);     /* uid */
	varint(e, 0);     /* gid */
	varint(e, 0);     /* mtime */
	varint(e, 0);     /* ctime delta */
	varint(e, 0);     /* dev */
	varint(e, 0);     /* ino */
	varint(e, size);
	varint(e, chunk ? 1 : 0);
	if (chunk) {
		memcpy(e->b + e->n, chunk->b, ID_BYTES);
		e->n += ID_BYTES;
		varint(e, chunk_len);
	}
	varint(e, 0); /* xattrs */
}

static void raw_dir_tree(struct enc *e, const char *name, const blob_id *sub)
{
	e->n = 0;
	e->b[e->n++] = 1;
	varint(e, 1);
	varint(e, strlen(name));
	memcpy(e->b + e->n, name, strlen(name));
	e->n += strlen(name);
	e->b[e->n++] = NODE_DIR;
	for (int i = 0; i < 8; i++)
		varint(e, i == 1 ? 0755 : 0);
	memcpy(e->b + e->n, sub->b, ID_BYTES);
	e->n += ID_BYTES;
	varint(e, 0);
}

/* Commit a snapshot whose root is the raw tree e; expect every reader to
 * refuse it. */
static void expect_refused(struct fixture *f, const struct enc *e, int64_t t, const char *what,
			   uint64_t nbad)
{
	blob_id root;
	CHECK(writer_put_blob(f->w, BLOB_TREE, e->b, e->n, &root));
	struct snapshot s;
	fixture_commit(f, &root, t, &s);

	struct tree *tr = NULL;
	int r = tree_load(f->repo, &root, &tr);
	if (r != -STORE_ECORRUPT)
		fail_msg("%s: tree_load gave %d, want -STORE_ECORRUPT", what, r);

	char dest[128];
	snprintf(dest, sizeof dest, "%s/dest", f->dir);
	mkdir(dest, 0700);
	int dfd = open(dest, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	struct node rn = { .name = "", .type = NODE_DIR, .mode = 0755, .subtree = root };
	struct restore_stats st;
	r = restore_node(f->repo, &rn, dfd, "out", NULL, &st);
	close(dfd);
	if (r >= 0)
		fail_msg("%s: restore succeeded", what);
	/* Nothing escaped the destination. */
	char probe[256];
	snprintf(probe, sizeof probe, "%s/b", f->dir);
	assert_int_equal(access(probe, F_OK), -1);

	struct findings fd;
	struct check_result cr = run_check(f->repo, false, false, &fd);
	if (cr.healthy || cr.damaged_snapshots != nbad)
		fail_msg("%s: check did not report the snapshot (%s)", what, fd.all);
	snapshot_clear(&s);
}

static void hostile_names_and_sizes(void **state)
{
	struct fixture *f = *state;
	static const uint8_t bytes[100] = { 1, 2, 3 };
	struct node n = file_node("x");
	put_mem(f, bytes, sizeof bytes, &n);
	blob_id chunk = n.chunks[0].id;
	node_clear(&n);
	struct enc e;
	raw_file_tree(&e, "..", 2, 100, &chunk, 100);
	expect_refused(f, &e, 1, "name ..", 1);
	raw_file_tree(&e, "/", 1, 100, &chunk, 100);
	expect_refused(f, &e, 2, "name /", 2);
	raw_file_tree(&e, "", 0, 100, &chunk, 100);
	expect_refused(f, &e, 3, "empty name", 3);
	raw_file_tree(&e, "a/b", 3, 100, &chunk, 100);
	expect_refused(f, &e, 4, "name a/b", 4);
	raw_file_tree(&e, "../b", 4, 100, &chunk, 100);
	expect_refused(f, &e, 5, "name ../b", 5);
	raw_file_tree(&e, "big", 3, 1u << 30, &chunk, 100);
	expect_refused(f, &e, 6, "size larger than its chunks", 6);
	raw_file_tree(&e, "small", 5, 10, &chunk, 100);
	expect_refused(f, &e, 7, "size smaller than its chunks", 7);
}

static void hostile_directory_links(void **state)
{
	struct fixture *f = *state;
	static const uint8_t bytes[100] = { 4, 5, 6 };
	struct node n = file_node("x");
	put_mem(f, bytes, sizeof bytes, &n);
	blob_id chunk = n.chunks[0].id;
	node_clear(&n);
	struct enc e;
	/* A directory whose "tree" is a data chunk: its type is authenticated. */
	raw_dir_tree(&e, "d", &chunk);
	blob_id root;
	CHECK(writer_put_blob(f->w, BLOB_TREE, e.b, e.n, &root));
	struct snapshot s;
	fixture_commit(f, &root, 10, &s);
	struct node dn = { .name = "", .type = NODE_DIR, .subtree = root };
	struct tree *t;
	CHECK(tree_load(f->repo, &root, &t));
	struct tree *sub = NULL;
	/* tree_load looks the id up as a tree: the data chunk with that id
	 * is not one. */
	assert_int_equal(tree_load(f->repo, &t->nodes[0].subtree, &sub), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "missing from the repository"));
	/* And a file whose chunk is a tree blob is refused by content reads. */
	struct node_chunk tc = { .id = root, .off = 0, .len = (uint32_t)e.n };
	struct node tf = { .name = "y", .type = NODE_FILE, .size = e.n, .chunks = &tc, .nchunks = 1 };
	uint8_t rbuf[256];
	assert_true(e.n <= sizeof rbuf);
	assert_int_equal(content_read(f->repo, &tf, 0, rbuf, sizeof rbuf), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "missing from the repository"));
	tree_free(t);
	(void)dn;
	struct findings fd;
	struct check_result cr = run_check(f->repo, false, false, &fd);
	assert_false(cr.healthy);
	assert_non_null(strstr(fd.all, "not in the blob index as a tree (only as a data chunk)"));
	snapshot_clear(&s);

	/* A directory pointing at itself through a forged id: a catalog row
	 * for an id no blob has, aimed at the parent tree's bytes.  Opening
	 * re-computes the id, so the loop is never entered. */
	blob_id forged;
	memset(forged.b, 0xab, ID_BYTES);
	raw_dir_tree(&e, "loop", &forged);
	CHECK(writer_put_blob(f->w, BLOB_TREE, e.b, e.n, &root));
	fixture_commit(f, &root, 11, &s);
	struct blob_loc loc;
	CHECK(catalog_blob_lookup(f->repo, &root, BLOB_TREE, &loc));
	pthread_mutex_lock(&f->repo->db_lock);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->repo->db,
					    "INSERT INTO blobs(id, pack_id, offset, length, raw_length, "
					    "type, xxh) SELECT ?1, pack_id, offset, length, raw_length, "
					    "type, xxh FROM blobs WHERE id = ?2",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(st, 1, forged.b, ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, root.b, ID_BYTES, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&f->repo->db_lock);
	assert_int_equal(tree_load(f->repo, &forged, &sub), -STORE_ECORRUPT);
	char dest[128];
	snprintf(dest, sizeof dest, "%s/dest2", f->dir);
	mkdir(dest, 0700);
	int dfd = open(dest, O_RDONLY | O_DIRECTORY);
	struct node rn = { .name = "", .type = NODE_DIR, .mode = 0755, .subtree = root };
	struct restore_stats rs;
	assert_true(restore_node(f->repo, &rn, dfd, "out", NULL, &rs) < 0);
	close(dfd);
	cr = run_check(f->repo, false, false, &fd);
	assert_false(cr.healthy);
	/* The forged row is not in the pack's own index: caught there. */
	if (!strstr(fd.all, "abababab"))
		fail_msg("check output: %s", fd.all);
	snapshot_clear(&s);
}

static void snapshot_record_roundtrip(void **state)
{
	(void)state;
	struct snaprec r = { .project = "p", .project_root = "/x/p", .time_ns = 42,
			     .message = "m", .status = SNAP_PARTIAL };
	memset(r.root.b, 7, ID_BYTES);
	uint8_t *buf;
	size_t len;
	CHECK(snaprec_encode(&r, &buf, &len));
	struct snaprec d;
	CHECK(snaprec_decode(buf, len, &d));
	assert_string_equal(d.project, "p");
	assert_string_equal(d.message, "m");
	assert_null(d.tag);
	assert_int_equal(d.status, SNAP_PARTIAL);
	snaprec_clear(&d);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(snaprec_decode(buf, cut, &d), -STORE_ECORRUPT);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(healthy_repository, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(flipped_byte_found_by_read_data, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(missing_pack_marked_damaged, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(lost_catalog_rebuilt, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(hostile_names_and_sizes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(hostile_directory_links, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(snapshot_record_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
