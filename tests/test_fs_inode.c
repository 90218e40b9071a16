/* test_fs_inode.c — the mount's inode table: same (parent, name) gives the
 * same node id while held, the same st_ino always; forget frees entries and
 * their parents; the table shrinks back to the root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fs/inode.h"

static int setup(void **state)
{
	struct inode_table *t;
	if (inode_table_new(&t) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	inode_table_free(*state);
	return 0;
}

static struct inode leaf(int64_t snap, off_t size)
{
	struct inode t;
	memset(&t, 0, sizeof(t));
	t.kind = INODE_LEAF;
	t.project_id = 1;
	t.snap_id = snap;
	t.st.st_mode = S_IFREG | 0644;
	t.st.st_size = size;
	return t;
}

static struct inode dir(int64_t snap, uint8_t tree_byte)
{
	struct inode t;
	memset(&t, 0, sizeof(t));
	t.kind = INODE_DIR;
	t.project_id = 1;
	t.snap_id = snap;
	t.tree.b[0] = tree_byte;
	t.st.st_mode = S_IFDIR | 0755;
	return t;
}

static void root_is_fixed(void **state)
{
	struct inode_table *t = *state;
	struct inode *root = inode_root(t);
	assert_int_equal(root->nodeid, 1);
	assert_int_equal(root->ino, 1);
	assert_int_equal(root->kind, INODE_ROOT);
	assert_ptr_equal(inode_find(t, 1), root);
	assert_null(inode_find(t, 2));
	assert_int_equal(inode_count(t), 1);
	/* Forgetting the root is ignored. */
	inode_forget(t, 1, 100);
	assert_ptr_equal(inode_find(t, 1), root);
}

static void same_name_same_entry(void **state)
{
	struct inode_table *t = *state;
	struct inode *root = inode_root(t);
	struct inode tmpl = dir(7, 0xaa);
	struct inode *a = inode_get(t, root, "src", &tmpl);
	struct inode *b = inode_get(t, root, "src", &tmpl);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_int_equal(a->nodeid, 2);
	assert_string_equal(a->name, "src");
	assert_ptr_equal(a->parent, root);
	assert_int_equal(a->st.st_ino, a->ino);
	assert_int_equal(a->ino, inode_number(1, "src", 0));
	assert_ptr_equal(inode_find(t, a->nodeid), a);

	struct inode other = leaf(7, 10);
	struct inode *c = inode_get(t, root, "srd", &other);
	assert_ptr_not_equal(c, a);
	assert_int_not_equal(c->ino, a->ino);
	assert_int_not_equal(c->nodeid, a->nodeid);
	assert_int_equal(inode_count(t), 3);

	/* Two lookups: one forget leaves it, the second frees it. */
	inode_forget(t, a->nodeid, 1);
	assert_ptr_equal(inode_find(t, 2), a);
	inode_forget(t, 2, 1);
	assert_null(inode_find(t, 2));
	assert_int_equal(inode_count(t), 2);
}

static void relookup_after_forget_keeps_ino(void **state)
{
	struct inode_table *t = *state;
	struct inode tmpl = leaf(3, 100);
	struct inode *a = inode_get(t, inode_root(t), "file", &tmpl);
	uint64_t ino = a->ino, nodeid = a->nodeid;
	inode_forget(t, nodeid, 1);
	assert_null(inode_find(t, nodeid));
	struct inode *b = inode_get(t, inode_root(t), "file", &tmpl);
	assert_int_equal(b->ino, ino);
	assert_int_not_equal(b->nodeid, nodeid); /* node ids are never reused */
	/* A stale node id is ignored. */
	inode_forget(t, nodeid, 5);
	assert_ptr_equal(inode_find(t, b->nodeid), b);
}

static void children_keep_parents(void **state)
{
	struct inode_table *t = *state;
	struct inode d = dir(1, 1), f = leaf(1, 5);
	struct inode *a = inode_get(t, inode_root(t), "a", &d);
	struct inode *b = inode_get(t, a, "b", &d);
	struct inode *c = inode_get(t, b, "c", &f);
	assert_int_equal(c->ino, inode_number(inode_number(inode_number(1, "a", 0), "b", 0), "c", 0));
	char path[64];
	assert_string_equal(inode_path(t, c, path, sizeof(path)), "a/b/c");
	assert_string_equal(inode_path(t, inode_root(t), path, sizeof(path)), "");
	/* Too small a buffer keeps the tail that fits. */
	assert_string_equal(inode_path(t, c, path, 4), "b/c");
	assert_string_equal(inode_path(t, c, path, 3), "c");

	/* The kernel forgets parents before children sometimes. */
	uint64_t an = a->nodeid, bn = b->nodeid, cn = c->nodeid;
	inode_forget(t, an, 1);
	inode_forget(t, bn, 1);
	assert_non_null(inode_find(t, an));
	assert_non_null(inode_find(t, bn));
	assert_int_equal(inode_count(t), 4);
	inode_forget(t, cn, 1);
	assert_null(inode_find(t, an));
	assert_null(inode_find(t, bn));
	assert_null(inode_find(t, cn));
	assert_int_equal(inode_count(t), 1);
}

static void same_name_in_other_parent(void **state)
{
	struct inode_table *t = *state;
	struct inode d = dir(1, 1), f = leaf(1, 5);
	struct inode *x = inode_get(t, inode_root(t), "x", &d);
	struct inode *y = inode_get(t, inode_root(t), "y", &d);
	struct inode *fx = inode_get(t, x, "f", &f);
	struct inode *fy = inode_get(t, y, "f", &f);
	assert_ptr_not_equal(fx, fy);
	assert_int_not_equal(fx->ino, fy->ino);
}

static void changed_identity_replaces(void **state)
{
	struct inode_table *t = *state;
	/* A snapshot folder deleted and another one with the same name. */
	struct inode s1, s2;
	memset(&s1, 0, sizeof(s1));
	s1.kind = INODE_SNAPSHOT;
	s1.snap_id = 10;
	s1.st.st_mode = S_IFDIR | 0755;
	s2 = s1;
	s2.snap_id = 11;
	struct inode *a = inode_get(t, inode_root(t), "2026-01-01T10:00", &s1);
	struct inode *b = inode_get(t, inode_root(t), "2026-01-01T10:00", &s2);
	assert_ptr_not_equal(a, b);
	assert_int_not_equal(a->ino, b->ino); /* salted with the snapshot id */
	assert_int_equal(b->ino, inode_number(1, "2026-01-01T10:00", 11));
	/* The old one stays reachable by node id until the kernel forgets it. */
	assert_ptr_equal(inode_find(t, a->nodeid), a);
	assert_ptr_equal(inode_get(t, inode_root(t), "2026-01-01T10:00", &s2), b);
	uint64_t an = a->nodeid;
	inode_forget(t, an, 1);
	assert_null(inode_find(t, an));
	assert_ptr_equal(inode_find(t, b->nodeid), b);
}

static void symlink_target_copied(void **state)
{
	struct inode_table *t = *state;
	char target[] = "../x";
	struct inode l = leaf(1, 4);
	l.st.st_mode = S_IFLNK | 0777;
	l.target = target;
	struct inode *a = inode_get(t, inode_root(t), "l", &l);
	target[0] = 'X';
	assert_string_equal(a->target, "../x");
}

/* Many entries: the table grows, every node id is found, and after the
 * kernel forgets them all only the root is left (memory is bounded by what
 * the kernel holds). */
static void grows_and_shrinks(void **state)
{
	struct inode_table *t = *state;
	enum { N = 20000 };
	struct inode d = dir(1, 2), f = leaf(1, 1);
	static uint64_t ids[N];
	struct inode *top = inode_get(t, inode_root(t), "top", &d);
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%05d", i);
		struct inode *e = inode_get(t, top, name, &f);
		assert_non_null(e);
		ids[i] = e->nodeid;
	}
	assert_int_equal(inode_count(t), N + 2);
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%05d", i);
		struct inode *e = inode_find(t, ids[i]);
		assert_non_null(e);
		assert_string_equal(e->name, name);
		assert_ptr_equal(inode_get(t, top, name, &f), e);
	}
	for (int i = 0; i < N; i++)
		inode_forget(t, ids[i], 2);
	assert_int_equal(inode_count(t), 2);
	inode_forget(t, top->nodeid, 1);
	assert_int_equal(inode_count(t), 1);
}

static void numbers_are_stable(void **state)
{
	(void)state;
	/* Golden values: st_ino must not change between releases either. */
	assert_int_equal(inode_number(1, "myapp", 0), inode_number(1, "myapp", 0));
	assert_int_not_equal(inode_number(1, "myapp", 0), inode_number(1, "myapp", 1));
	assert_int_not_equal(inode_number(1, "myapp", 0), inode_number(2, "myapp", 0));
	assert_true(inode_number(0, "", 0) > 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(root_is_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(same_name_same_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(relookup_after_forget_keeps_ino, setup, teardown),
		cmocka_unit_test_setup_teardown(children_keep_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(same_name_in_other_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_identity_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_target_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(grows_and_shrinks, setup, teardown),
		cmocka_unit_test_setup_teardown(numbers_are_stable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
