/* test_fs_probe.c — the names file managers probe at the root and in
 * project folders get a fast ENOENT; real project and snapshot names do
 * not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fs/probe.h"

static void junk_names(void **state)
{
	(void)state;
	const char *junk[] = { ".hidden", ".DS_Store", ".Trash", ".Trash-1000", ".Trash-0",
			       "desktop.ini", ".directory", "autorun.inf", ".thumbnails",
			       "Thumbs.db", "._myapp", ".xdg-volume-info", ".git" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_true(probe_is_junk(junk[i]));
}

static void real_names(void **state)
{
	(void)state;
	const char *ok[] = { "myapp", "blog", ".dotfiles", ".Trash-", ".Trash-10x", "._",
			     "hidden", "Desktop", "2026-02-14T10:30", "latest", "@tags",
			     ".Trashy", "desktop.ini.bak" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_false(probe_is_junk(ok[i]));
}

static void snapshot_names(void **state)
{
	(void)state;
	assert_true(probe_is_snapshot_name("2026-02-14T10:30"));
	assert_true(probe_is_snapshot_name("2026-02-14T10:30:42.2"));
	assert_false(probe_is_snapshot_name("latest"));
	assert_false(probe_is_snapshot_name("@tags"));
	assert_false(probe_is_snapshot_name(".hidden"));
	assert_false(probe_is_snapshot_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(junk_names),
		cmocka_unit_test(real_names),
		cmocka_unit_test(snapshot_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
