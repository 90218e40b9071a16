/* test_history.c — versions of a path across snapshots (A, B, A again;
 * deleted and back; a file replaced by a directory), the names a folder
 * ever held, glob search, and the memo: each distinct tree decoded once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "repo_fixture.h"
#include "store/glob.h"
#include "store/history.h"

static struct node mkfile(struct fixture *f, const char *name, const char *content)
{
	struct node n = file_node(name);
	put_mem(f, (const uint8_t *)content, strlen(content), &n);
	n.mtime_ns = 1000;
	return n;
}

/* src/ holds x.c; every snapshot shares it. */
static void put_src(struct fixture *f, blob_id *src)
{
	struct node n[1] = {mkfile(f, "x.c", "int x;\n")};
	put_tree(f, n, 1, src);
}

/* s0 .env=A; s1 .env=B; s2 .env=A + n.txt; s3 no .env; s4 .env/ a
 * directory holding inner; s5 = s0 (the same root tree). */
#define NSNAP 6
static void build(struct fixture *f, blob_id roots[NSNAP])
{
	blob_id src, envdir;
	put_src(f, &src);
	struct node t0[2] = {mkfile(f, ".env", "A=1\n"), dir_node("src", &src)};
	put_tree(f, t0, 2, &roots[0]);
	struct node t1[2] = {mkfile(f, ".env", "B=22\n"), dir_node("src", &src)};
	t1[0].mtime_ns = 2000;
	put_tree(f, t1, 2, &roots[1]);
	struct node t2[3] = {mkfile(f, ".env", "A=1\n"), mkfile(f, "n.txt", "n"),
			     dir_node("src", &src)};
	t2[0].mtime_ns = 3000; /* a new mtime: still the same version */
	put_tree(f, t2, 3, &roots[2]);
	struct node t3[1] = {dir_node("src", &src)};
	put_tree(f, t3, 1, &roots[3]);
	struct node in[1] = {mkfile(f, "inner", "q")};
	put_tree(f, in, 1, &envdir);
	struct node t4[2] = {dir_node(".env", &envdir), dir_node("src", &src)};
	put_tree(f, t4, 2, &roots[4]);
	struct node t5[2] = {mkfile(f, ".env", "A=1\n"), dir_node("src", &src)};
	put_tree(f, t5, 2, &roots[5]);
	assert_true(id_equal(&roots[0], &roots[5]));
	for (int i = 0; i < NSNAP; i++) {
		struct snapshot snap;
		fixture_commit(f, &roots[i], 1000 + i, &snap);
		snapshot_clear(&snap);
	}
}

static void test_versions_grouping(void **state)
{
	struct fixture *f = *state;
	blob_id roots[NSNAP];
	build(f, roots);
	struct hist *h;
	struct hist_versions v;
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_versions(h, roots, NSNAP, ".env", &v));
	assert_int_equal(v.nv, 3);
	assert_int_equal(v.v[0].node.type, NODE_FILE);
	assert_int_equal(v.v[0].node.size, 4);
	assert_int_equal(v.v[0].first, 0);
	assert_int_equal(v.v[0].last, 5);
	assert_int_equal(v.v[0].count, 3);
	assert_int_equal(v.v[0].node.mtime_ns, 1000); /* as first seen */
	assert_int_equal(v.v[1].node.size, 5);
	assert_int_equal(v.v[1].count, 1);
	assert_int_equal(v.v[2].node.type, NODE_DIR);
	assert_int_equal(v.v[2].first, 4);
	static const struct {
		size_t v, first, last;
	} want[] = {
		{0, 0, 0}, {1, 1, 1}, {0, 2, 2}, {HIST_ABSENT, 3, 3}, {2, 4, 4}, {0, 5, 5},
	};
	assert_int_equal(v.nruns, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(v.runs[i].version, want[i].v);
		assert_int_equal(v.runs[i].first, want[i].first);
		assert_int_equal(v.runs[i].last, want[i].last);
	}
	hist_versions_clear(&v);

	/* n.txt: born in s2, gone after: one version, then a gap to the end. */
	CHECK(hist_versions(h, roots, NSNAP, "./n.txt", &v));
	assert_int_equal(v.nv, 1);
	assert_int_equal(v.nruns, 2);
	assert_int_equal(v.runs[0].first, 2);
	assert_int_equal(v.runs[1].version, HIST_ABSENT);
	assert_int_equal(v.runs[1].first, 3);
	assert_int_equal(v.runs[1].last, 5);
	hist_versions_clear(&v);

	/* Inside the directory that .env was once. */
	CHECK(hist_versions(h, roots, NSNAP, ".env/inner", &v));
	assert_int_equal(v.nv, 1);
	assert_int_equal(v.v[0].first, 4);
	hist_versions_clear(&v);

	assert_int_equal(hist_versions(h, roots, NSNAP, "nope", &v), -ENOENT);
	assert_non_null(strstr(store_error(), "nope"));
	assert_int_equal(hist_versions(h, roots, NSNAP, "src/x.c/y", &v), -ENOENT);
	assert_int_equal(hist_versions(h, roots, NSNAP, "../x", &v), -EINVAL);
	hist_free(h);
}

static void test_versions_memo(void **state)
{
	struct fixture *f = *state;
	blob_id roots[NSNAP];
	build(f, roots);
	struct hist *h;
	struct hist_versions v;
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_versions(h, roots, NSNAP, "src/x.c", &v));
	assert_int_equal(v.nv, 1);
	assert_int_equal(v.v[0].count, NSNAP);
	assert_int_equal(v.nruns, 1);
	hist_versions_clear(&v);
	/* Five distinct roots (s5 is s0) and one src tree, each decoded once. */
	assert_int_equal(hist_trees_loaded(h), 6);
	/* The same question over the history repeated 50 times: still one
	 * decode per distinct tree. */
	blob_id many[NSNAP * 50];
	for (size_t i = 0; i < NSNAP * 50; i++)
		many[i] = roots[i % NSNAP];
	hist_free(h);
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_versions(h, many, NSNAP * 50, "src/x.c", &v));
	assert_int_equal(v.v[0].count, NSNAP * 50);
	hist_versions_clear(&v);
	assert_int_equal(hist_trees_loaded(h), 6);
	hist_free(h);
}

static void test_dir_names(void **state)
{
	struct fixture *f = *state;
	blob_id roots[NSNAP];
	build(f, roots);
	struct hist *h;
	struct hist_name *nm;
	size_t n;
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_dir_names(h, roots, NSNAP, "", &nm, &n));
	assert_int_equal(n, 3);
	assert_string_equal(nm[0].name, ".env");
	assert_true(nm[0].ever_dir && nm[0].ever_other);
	assert_string_equal(nm[1].name, "n.txt");
	assert_true(!nm[1].ever_dir && nm[1].ever_other);
	assert_string_equal(nm[2].name, "src");
	assert_true(nm[2].ever_dir && !nm[2].ever_other);
	hist_names_free(nm, n);
	CHECK(hist_dir_names(h, roots, NSNAP, ".env", &nm, &n));
	assert_int_equal(n, 1);
	assert_string_equal(nm[0].name, "inner");
	hist_names_free(nm, n);
	assert_int_equal(hist_dir_names(h, roots, NSNAP, "n.txt", &nm, &n), -ENOENT);
	hist_free(h);
}

static void test_search(void **state)
{
	struct fixture *f = *state;
	blob_id roots[NSNAP];
	build(f, roots);
	struct hist *h;
	struct hist_match *m;
	size_t n;
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_search(h, roots, NSNAP, "*.c", 0, &m, &n));
	assert_int_equal(n, 1);
	assert_string_equal(m[0].path, "src/x.c");
	assert_int_equal(m[0].count, NSNAP);
	assert_int_equal(m[0].first, 0);
	assert_int_equal(m[0].last, NSNAP - 1);
	hist_matches_free(m, n);
	/* Five roots, src once (same tree, same path), .env/ once. */
	assert_int_equal(hist_trees_loaded(h), 7);
	hist_free(h);

	CHECK(hist_open(f->repo, &h));
	CHECK(hist_search(h, roots, NSNAP, ".env", NODE_FILE, &m, &n));
	assert_int_equal(n, 1);
	assert_int_equal(m[0].count, 4);
	assert_int_equal(m[0].first, 0);
	assert_int_equal(m[0].last, 5);
	assert_int_equal(m[0].size, 4);
	hist_matches_free(m, n);
	CHECK(hist_search(h, roots, NSNAP, ".env", 0, &m, &n));
	assert_int_equal(n, 2); /* the file and the directory */
	assert_int_equal(m[0].type, NODE_FILE);
	assert_int_equal(m[1].type, NODE_DIR);
	assert_int_equal(m[1].first, 4);
	hist_matches_free(m, n);
	CHECK(hist_search(h, roots, NSNAP, "**/inner", 0, &m, &n));
	assert_int_equal(n, 1);
	assert_string_equal(m[0].path, ".env/inner");
	hist_matches_free(m, n);
	CHECK(hist_search(h, roots, NSNAP, "/src/[wx].?", 0, &m, &n));
	assert_int_equal(n, 1);
	hist_matches_free(m, n);
	CHECK(hist_search(h, roots, NSNAP, "*.py", 0, &m, &n));
	assert_int_equal(n, 0);
	hist_matches_free(m, n);
	assert_int_equal(hist_search(h, roots, NSNAP, "[ab", 0, &m, &n), -EINVAL);
	hist_free(h);

	/* A long history is searched in stretches on threads; the merged
	 * answer is the same as one walk's. */
	blob_id many[NSNAP * 100];
	for (size_t i = 0; i < NSNAP * 100; i++)
		many[i] = roots[i % NSNAP];
	CHECK(hist_open(f->repo, &h));
	CHECK(hist_search(h, many, NSNAP * 100, ".env", 0, &m, &n));
	assert_int_equal(n, 2);
	assert_int_equal(m[0].type, NODE_FILE);
	assert_int_equal(m[0].count, 4 * 100);
	assert_int_equal(m[0].first, 0);
	assert_int_equal(m[0].last, NSNAP * 100 - 1);
	assert_int_equal(m[1].type, NODE_DIR);
	assert_int_equal(m[1].count, 100);
	assert_int_equal(m[1].first, 4);
	assert_int_equal(m[1].last, NSNAP * 99 + 4);
	hist_matches_free(m, n);
	/* Each stretch decodes the distinct trees once: at most 4 x 7. */
	assert_true(hist_trees_loaded(h) <= 4 * 7);
	hist_free(h);
}

/* A tree source of the caller's (as the mount's tree cache): every tree
 * comes from it and goes back to it, and the answers are the same. */
struct counting_source {
	struct repo *repo;
	int gets, puts;
};

static int src_get(void *ctx, const blob_id *id, const struct tree **ret, void **ret_ref)
{
	struct counting_source *c = ctx;
	struct tree *t;
	int r = tree_load(c->repo, id, &t);
	if (r == 0) {
		c->gets++;
		*ret = t;
		*ret_ref = t;
	}
	return r;
}

static void src_put(void *ctx, void *ref)
{
	((struct counting_source *)ctx)->puts++;
	tree_free(ref);
}

static void test_source(void **state)
{
	struct fixture *f = *state;
	blob_id roots[NSNAP];
	build(f, roots);
	struct counting_source c = {f->repo, 0, 0};
	struct hist *h;
	struct hist_versions v;
	struct hist_name *nm;
	size_t n;
	CHECK(hist_open(f->repo, &h));
	hist_set_source(h, src_get, src_put, &c);
	CHECK(hist_versions(h, roots, NSNAP, ".env", &v));
	assert_int_equal(v.nv, 3);
	CHECK(hist_version_names(h, &v, &nm, &n));
	assert_int_equal(n, 1); /* .env/inner */
	hist_names_free(nm, n);
	hist_versions_clear(&v);
	assert_int_equal(c.gets, c.puts);
	assert_int_equal((uint64_t)c.gets, hist_trees_loaded(h));
	assert_int_equal(c.gets, 5 + 1); /* five distinct roots, then .env/ */
	hist_free(h);
}

static void test_glob(void **state)
{
	(void)state;
	assert_int_equal(glob_check("secrets*.yml"), 0);
	assert_int_equal(glob_check("[[:alpha:]]x"), 0);
	assert_int_equal(glob_check("[]]"), 0);
	assert_int_equal(glob_check("[ab"), -EINVAL);
	assert_int_equal(glob_check("ab\\"), -EINVAL);
	assert_int_equal(glob_check(""), -EINVAL);
	assert_true(glob_match("secrets*.yml", "secrets.prod.yml"));
	assert_false(glob_match("secrets*.yml", "config/secrets.yml"));
	assert_true(glob_match("**/secrets.yml", "config/secrets.yml"));
	assert_true(glob_match("**/secrets.yml", "secrets.yml"));
	assert_true(glob_match("a/**", "a/b/c"));
	assert_true(glob_match("f?o[0-9]", "fxo7"));
	assert_false(glob_match("f?o[!0-9]", "fxo7"));
	assert_true(glob_match("bad\xff*", "bad\xffname"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_versions_grouping, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_versions_memo, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_dir_names, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_search, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_source, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_glob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
