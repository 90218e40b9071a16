/* test_diff.c — diff_trees over nested trees: the exact list of added,
 * modified and deleted paths, in path order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "store/blob.h"
#include "store/writer_internal.h"
#include "repo_fixture.h"
#include "store/diff.h"

static struct node mkfile(struct fixture *f, const char *name, const char *content)
{
	struct node n = file_node(name);
	put_mem(f, (const uint8_t *)content, strlen(content), &n);
	n.mtime_ns = 1000;
	return n;
}

static struct node mklink(const char *name, const char *target)
{
	struct node n = { 0 };
	n.name = strdup(name);
	n.type = NODE_SYMLINK;
	n.mode = 0777;
	n.target = strdup(target);
	n.size = strlen(target);
	return n;
}

/* A subtree id that is in no repository: diff must never load it. */
static blob_id unreadable_id(void)
{
	blob_id id;
	memset(&id, 0x77, sizeof id);
	return id;
}

static void build_v1(struct fixture *f, blob_id *root)
{
	blob_id lib, deep, old, src, kind_none = unreadable_id();
	struct node n_lib[2] = { mkfile(f, "a.c", "a"), mkfile(f, "b.c", "b") };
	put_tree(f, n_lib, 2, &lib);
	struct node n_deep[1] = { mkfile(f, "y.c", "y") };
	put_tree(f, n_deep, 1, &deep);
	struct node n_old[2] = { mkfile(f, "x.c", "x"), dir_node("deep", &deep) };
	put_tree(f, n_old, 2, &old);
	struct node n_src[3] = { mkfile(f, "main.c", "main1"), dir_node("lib", &lib),
				 dir_node("old", &old) };
	put_tree(f, n_src, 3, &src);
	struct node top[5] = { mkfile(f, "README", "v1"), dir_node("docs", &kind_none),
			       mkfile(f, "kind", "was a file"), mklink("link", "README"),
			       dir_node("src", &src) };
	put_tree_unchecked(f, top, 5, root); /* docs names a missing tree */
}

static void build_v2(struct fixture *f, blob_id *root)
{
	blob_id lib, nw, src, kind, docs = unreadable_id();
	struct node n_lib[2] = { mkfile(f, "a.c", "a"), mkfile(f, "c.c", "c") };
	put_tree(f, n_lib, 2, &lib);
	struct node n_new[1] = { mkfile(f, "n.c", "n") };
	put_tree(f, n_new, 1, &nw);
	struct node n_src[3] = { mkfile(f, "main.c", "main1"), dir_node("lib", &lib),
				 dir_node("new", &nw) };
	n_src[0].mode = 0755;
	put_tree(f, n_src, 3, &src);
	struct node n_kind[1] = { mkfile(f, "k.txt", "k") };
	put_tree(f, n_kind, 1, &kind);
	struct node top[6] = { mkfile(f, "README", "v2"), mkfile(f, "a.txt", "new"),
			       dir_node("docs", &docs), dir_node("kind", &kind),
			       mklink("link", "docs"), dir_node("src", &src) };
	put_tree_unchecked(f, top, 6, root); /* docs names a missing tree */
}

struct collect {
	char out[4096];
	int calls, stop_at;
};

static int collect_fn(void *ctx, enum diff_kind kind, const char *path, const struct node *n)
{
	struct collect *c = ctx;
	size_t l = strlen(c->out);
	snprintf(c->out + l, sizeof c->out - l, "%c %s%s\n", (char)kind, path,
		 n->type == NODE_DIR ? "/" : "");
	c->calls++;
	return c->calls == c->stop_at ? 7 : 0;
}

static void diff_nested_changes(void **state)
{
	struct fixture *f = *state;
	blob_id v1, v2;
	build_v1(f, &v1);
	build_v2(f, &v2);
	struct snapshot s;
	fixture_commit(f, &v2, 2, &s);
	snapshot_clear(&s);

	struct collect c = { 0 };
	CHECK(diff_trees(f->repo, &v1, &v2, collect_fn, &c));
	assert_string_equal(c.out, "M README\n"
				   "A a.txt\n"
				   "M kind/\n"
				   "A kind/k.txt\n"
				   "M link\n"
				   "D src/lib/b.c\n"
				   "A src/lib/c.c\n"
				   "M src/main.c\n"
				   "A src/new/\n"
				   "A src/new/n.c\n"
				   "D src/old/\n"
				   "D src/old/deep/\n"
				   "D src/old/deep/y.c\n"
				   "D src/old/x.c\n");

	/* The other way round. */
	memset(&c, 0, sizeof c);
	CHECK(diff_trees(f->repo, &v2, &v1, collect_fn, &c));
	assert_string_equal(c.out, "M README\n"
				   "D a.txt\n"
				   "M kind\n"
				   "D kind/k.txt\n"
				   "M link\n"
				   "A src/lib/b.c\n"
				   "D src/lib/c.c\n"
				   "M src/main.c\n"
				   "D src/new/\n"
				   "D src/new/n.c\n"
				   "A src/old/\n"
				   "A src/old/deep/\n"
				   "A src/old/deep/y.c\n"
				   "A src/old/x.c\n");
}

static void diff_from_nothing_and_equal(void **state)
{
	struct fixture *f = *state;
	blob_id lib, src, root;
	struct node n_lib[1] = { mkfile(f, "a.c", "a") };
	put_tree(f, n_lib, 1, &lib);
	struct node n_src[2] = { dir_node("lib", &lib), mkfile(f, "z", "z") };
	put_tree(f, n_src, 2, &src);
	struct node top[2] = { dir_node("src", &src), mkfile(f, "a b", "x") };
	put_tree(f, top, 2, &root);
	struct snapshot s;
	fixture_commit(f, &root, 2, &s);
	snapshot_clear(&s);

	struct collect c = { 0 };
	CHECK(diff_trees(f->repo, NULL, &root, collect_fn, &c));
	assert_string_equal(c.out, "A a b\nA src/\nA src/lib/\nA src/lib/a.c\nA src/z\n");

	memset(&c, 0, sizeof c);
	CHECK(diff_trees(f->repo, &root, &root, collect_fn, &c));
	assert_int_equal(c.calls, 0);

	/* A non-zero return stops the walk and is passed back. */
	memset(&c, 0, sizeof c);
	c.stop_at = 3;
	assert_int_equal(diff_trees(f->repo, NULL, &root, collect_fn, &c), 7);
	assert_int_equal(c.calls, 3);
}

static void diff_reports_missing_tree(void **state)
{
	struct fixture *f = *state;
	blob_id root, bogus = unreadable_id();
	struct node top[1] = { dir_node("d", &bogus) };
	put_tree_unchecked(f, top, 1, &root);
	struct snapshot s;
	fixture_commit(f, &root, 2, &s);
	snapshot_clear(&s);
	struct collect c = { 0 };
	assert_int_equal(diff_trees(f->repo, NULL, &root, collect_fn, &c), -STORE_ECORRUPT);
	assert_string_equal(c.out, "A d/\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(diff_nested_changes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(diff_from_nothing_and_equal, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(diff_reports_missing_tree, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
