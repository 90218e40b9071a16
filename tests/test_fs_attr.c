/* test_fs_attr.c — attributes the mount serves: a snapshot folder has the
 * project root's recorded mode and owner, or 0700 and the mounting user for
 * a snapshot that recorded none; nodes keep their type and mode bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "fs/attr.h"

static void snapshot_root_recorded(void **state)
{
	(void)state;
	struct tree t = { .has_self = true,
			  .self = { .mode = 02750, .uid = 1000, .gid = 50, .reach = 0777 } };
	struct stat st = { .st_mode = S_IFDIR | 0555, .st_uid = 7, .st_gid = 7 };
	attr_snapshot_root(&t, 7, 7, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 02750);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 50);
}

/* A 0755 project in a 0700 home: the folders above let nobody else pass. */
static void snapshot_root_reach(void **state)
{
	(void)state;
	struct tree t = { .has_self = true,
			  .self = { .mode = 01755, .uid = 1000, .gid = 50, .reach = 0700 } };
	struct stat st = { 0 };
	attr_snapshot_root(&t, 7, 7, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 01700);
	t.self.reach = 0770; /* only the group could pass */
	attr_snapshot_root(&t, 7, 7, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 01750);
}

static void snapshot_root_unrecorded_is_private(void **state)
{
	(void)state;
	struct tree t = { 0 }; /* format 1: a snapshot from before the root was recorded */
	struct stat st = { .st_mode = S_IFDIR | 0555 };
	attr_snapshot_root(&t, 1234, 567, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 0700);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 567);
}

static void node_attributes(void **state)
{
	(void)state;
	struct node n = { .type = NODE_DIR, .mode = 0711, .uid = 3, .gid = 4 };
	struct stat st;
	attr_from_node(&n, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 0711);
	assert_int_equal(st.st_uid, 3);
	assert_int_equal(st.st_gid, 4);
	n = (struct node){ .type = NODE_FILE, .mode = 0600, .size = 5000 };
	attr_from_node(&n, &st);
	assert_int_equal(st.st_mode, S_IFREG | 0600);
	assert_int_equal(st.st_size, 5000);
	assert_int_equal(st.st_blocks, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_root_recorded),
		cmocka_unit_test(snapshot_root_reach),
		cmocka_unit_test(snapshot_root_unrecorded_is_private),
		cmocka_unit_test(node_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
