/* test_fs_prefetch.c — the mount's read-ahead worker: hints name what the
 * repository holds, a folder's subtrees are loaded into the tree cache
 * (breadth first, bounded), a folder done is not queued again, and the
 * worker stops promptly with work queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fs/prefetch.h"
#include "fs/tcache.h"
#include "repo_fixture.h"
#include "store/blob.h"
#include "store/content.h"

#define FANOUT 3 /* subfolders per folder, two levels deep */
#define WIDE 100 /* subfolders of the wide folder: more than PREFETCH_TREES_MAX */

struct pfix {
	struct fixture *f;
	struct node file;  /* a stored file of several chunks */
	blob_id deep;      /* 1 + 3 + 9 folders, each holding a copy of file */
	blob_id level1[FANOUT];
	blob_id wide;      /* WIDE empty subfolders with distinct contents */
	struct repo *rd;   /* read-only, as the mount has */
};

static int load_tree(void *ctx, const blob_id *id, struct tree **ret)
{
	return tree_load(ctx, id, ret);
}

/* A folder holding a copy of file and the given subfolders. */
static void put_folder(struct pfix *p, const blob_id *subs, size_t nsubs, blob_id *ret)
{
	struct node nodes[FANOUT + 1];
	CHECK(node_copy(&p->file, &nodes[0]));
	for (size_t i = 0; i < nsubs; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%zu", i);
		nodes[i + 1] = dir_node(name, &subs[i]);
	}
	put_tree(p->f, nodes, nsubs + 1, ret);
}

static int setup(void **state)
{
	void *fs;
	if (fixture_setup(&fs) < 0)
		return -1;
	struct pfix *p = calloc(1, sizeof(*p));
	p->f = fs;
	size_t len = 3u << 20;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 11);
	p->file = file_node("f");
	put_mem(p->f, data, len, &p->file);
	free(data);

	for (size_t i = 0; i < FANOUT; i++) {
		blob_id leaves[FANOUT];
		for (size_t j = 0; j < FANOUT; j++) {
			/* Distinct leaves: a subfolder named by its path. */
			struct node n = file_node("leaf");
			n.size = 0;
			n.mtime_ns = (int64_t)(i * FANOUT + j + 1);
			struct node nodes[2];
			CHECK(node_copy(&p->file, &nodes[0]));
			nodes[1] = n;
			put_tree(p->f, nodes, 2, &leaves[j]);
		}
		put_folder(p, leaves, FANOUT, &p->level1[i]);
	}
	put_folder(p, p->level1, FANOUT, &p->deep);

	struct node *wide = calloc(WIDE, sizeof(*wide));
	for (size_t i = 0; i < WIDE; i++) {
		struct node n = file_node("x");
		n.mtime_ns = (int64_t)i + 1000;
		blob_id sub;
		put_tree(p->f, &n, 1, &sub);
		char name[16];
		snprintf(name, sizeof(name), "w%03zu", i);
		wide[i] = dir_node(name, &sub);
	}
	put_tree(p->f, wide, WIDE, &p->wide);
	free(wide);

	struct node top[2];
	top[0] = dir_node("deep", &p->deep);
	top[1] = dir_node("wide", &p->wide);
	blob_id root;
	put_tree(p->f, top, 2, &root);
	struct snapshot snap;
	fixture_commit(p->f, &root, 1, &snap);
	snapshot_clear(&snap);
	CHECK(repo_open(p->f->repo_path, REPO_READ, 0, &p->rd));
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pfix *p = *state;
	repo_close(p->rd);
	node_clear(&p->file);
	void *fs = p->f;
	fixture_teardown(&fs);
	free(p);
	return 0;
}

static void hints_name_stored_blobs(void **state)
{
	struct pfix *p = *state;
	assert_true(p->file.nchunks > 1);
	assert_true(repo_hint_blob(p->rd, &p->file.chunks[0].id, BLOB_DATA) > 0);
	assert_true(repo_hint_blob(p->rd, &p->deep, BLOB_TREE) > 0);
	/* Wrong type, unknown id: nothing, and no error left recorded. */
	assert_int_equal(repo_hint_blob(p->rd, &p->deep, BLOB_DATA), 0);
	blob_id none;
	memset(&none, 0x5a, sizeof(none));
	assert_int_equal(repo_hint_blob(p->rd, &none, BLOB_TREE), 0);
	assert_null(store_error());
	/* Whole file, and stopping once max_bytes are reached. */
	assert_int_equal(content_hint(p->rd, &p->file, UINT64_MAX), p->file.size);
	uint64_t first = p->file.chunks[0].len;
	assert_int_equal(content_hint(p->rd, &p->file, 1), first);
	repo_hint_catalog(p->rd, UINT64_MAX); /* must not fail or record anything */
	assert_null(store_error());
}

static void subtrees_loaded_once(void **state)
{
	struct pfix *p = *state;
	struct tcache *tc;
	struct prefetch *pf;
	assert_int_equal(tcache_new(64u << 20, load_tree, p->rd, &tc), 0);
	assert_int_equal(prefetch_new(p->rd, tc, &pf), 0);

	prefetch_folder(pf, &p->deep, PREFETCH_TREES);
	prefetch_drain(pf);
	/* deep itself, its 3 subfolders and their 9. */
	assert_int_equal(tcache_loads(tc), 1 + FANOUT + FANOUT * FANOUT);
	size_t done, skipped;
	prefetch_stats(pf, &done, &skipped);
	assert_int_equal(done, 1);
	assert_int_equal(skipped, 0);

	/* Done already: deep again, and a subfolder the worker covered. */
	prefetch_folder(pf, &p->deep, PREFETCH_TREES);
	prefetch_folder(pf, &p->level1[1], PREFETCH_TREES);
	prefetch_drain(pf);
	prefetch_stats(pf, &done, &skipped);
	assert_int_equal(done, 1);
	assert_int_equal(skipped, 2);

	/* Files were not read ahead yet: that is queued, and loads nothing new. */
	prefetch_folder(pf, &p->level1[1], PREFETCH_FILES);
	prefetch_drain(pf);
	prefetch_stats(pf, &done, &skipped);
	assert_int_equal(done, 2);
	assert_int_equal(tcache_loads(tc), 1 + FANOUT + FANOUT * FANOUT);
	/* ... and a files request covers the trees too. */
	prefetch_folder(pf, &p->level1[1], PREFETCH_TREES);
	prefetch_stats(pf, &done, &skipped);
	assert_int_equal(skipped, 3);

	prefetch_free(pf);
	tcache_free(tc);
}

static void bounded_per_request(void **state)
{
	struct pfix *p = *state;
	struct tcache *tc;
	struct prefetch *pf;
	assert_int_equal(tcache_new(64u << 20, load_tree, p->rd, &tc), 0);
	assert_int_equal(prefetch_new(p->rd, tc, &pf), 0);
	prefetch_folder(pf, &p->wide, PREFETCH_FILES);
	prefetch_drain(pf);
	assert_int_equal(tcache_loads(tc), PREFETCH_TREES_MAX);
	prefetch_free(pf);
	tcache_free(tc);
}

static void stops_with_work_queued(void **state)
{
	struct pfix *p = *state;
	struct tcache *tc;
	struct prefetch *pf;
	/* A tree cache too small to keep anything: every request loads. */
	assert_int_equal(tcache_new(1, load_tree, p->rd, &tc), 0);
	assert_int_equal(prefetch_new(p->rd, tc, &pf), 0);
	prefetch_folder(pf, &p->wide, PREFETCH_TREES);
	prefetch_folder(pf, &p->deep, PREFETCH_FILES);
	for (size_t i = 0; i < FANOUT; i++)
		prefetch_folder(pf, &p->level1[i], PREFETCH_FILES);
	prefetch_free(pf); /* joins the worker: returns, whatever was left */
	assert_int_equal(tcache_bytes(tc), 0);
	tcache_free(tc);
	prefetch_free(NULL);
	prefetch_folder(NULL, &p->deep, PREFETCH_TREES);
}

/* repo_lookups_begin/end (the worker's one read transaction per job): a
 * blob indexed by another connection during the run is not seen until it
 * ends, and is seen after. */
static void lookups_batched_until_end(void **state)
{
	struct pfix *p = *state;
	assert_true(repo_has_blob(p->rd, &p->file.chunks[0].id, BLOB_DATA));
	repo_lookups_begin(p->rd);
	assert_true(repo_has_blob(p->rd, &p->file.chunks[0].id, BLOB_DATA));
	uint8_t data[4096];
	memset(data, 0x6b, sizeof(data));
	struct node n = file_node("late");
	put_mem(p->f, data, sizeof(data), &n);
	struct node top[1];
	CHECK(node_copy(&n, &top[0]));
	blob_id root;
	put_tree(p->f, top, 1, &root);
	struct snapshot snap;
	fixture_commit(p->f, &root, 2, &snap);
	snapshot_clear(&snap);
	/* Inside the run: the catalog as it was when the run began. */
	assert_false(repo_has_blob(p->rd, &n.chunks[0].id, BLOB_DATA));
	repo_lookups_begin(p->rd); /* nested: still the same transaction */
	assert_false(repo_has_blob(p->rd, &n.chunks[0].id, BLOB_DATA));
	repo_lookups_end(p->rd);
	assert_false(repo_has_blob(p->rd, &n.chunks[0].id, BLOB_DATA));
	repo_lookups_end(p->rd);
	/* Ended: every lookup sees what is committed. */
	assert_true(repo_has_blob(p->rd, &n.chunks[0].id, BLOB_DATA));
	node_clear(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hints_name_stored_blobs),
		cmocka_unit_test(subtrees_loaded_once),
		cmocka_unit_test(bounded_per_request),
		cmocka_unit_test(stops_with_work_queued),
		cmocka_unit_test(lookups_batched_until_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
