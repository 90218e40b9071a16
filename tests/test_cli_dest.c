/* test_cli_dest.c — restore paths: PATH inside the project, destination
 * directories, no symlink followed below the project root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/dest.h"
#include "tests/tmpdir.h"

static void relpaths(void **state)
{
	(void)state;
	static const struct {
		const char *root, *base, *path, *want;
		int err;
	} c[] = {
		{"/p", "", "a.txt", "a.txt", 0},
		{"/p", "", ".", "", 0},
		{"/p", "", "./src//x/", "src/x", 0},
		{"/p", "src", "x.c", "src/x.c", 0},
		{"/p", "src/deep", "../x.c", "src/x.c", 0},
		{"/p", "src", "..", "", 0},
		{"/p", "src", "../..", NULL, -EINVAL},
		{"/p", "", "../p/a", NULL, -EINVAL},
		{"/p", "src", "/p/.env", ".env", 0},
		{"/p", "", "/p", "", 0},
		{"/p", "", "/p/", "", 0},
		{"/p", "", "/p/a/../b", "b", 0},
		{"/p", "", "/pq/a", NULL, -EXDEV},
		{"/p", "", "/etc/passwd", NULL, -EXDEV},
		{"/p", "", "/p/../etc", NULL, -EXDEV},
		{"/", "home", "x", "home/x", 0},
		{"/", "", "/etc/hosts", "etc/hosts", 0},
		{"/a/b", "", "/a/b/c/./d", "c/d", 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char out[PATH_MAX];
		int r = dest_relpath(c[i].root, c[i].base, c[i].path, out, sizeof out);
		if (r != c[i].err)
			fail_msg("%s + %s + %s: %d, want %d", c[i].root, c[i].base, c[i].path, r, c[i].err);
		if (!r && strcmp(out, c[i].want) != 0)
			fail_msg("%s + %s + %s: '%s', want '%s'", c[i].root, c[i].base, c[i].path, out,
				 c[i].want);
	}
	char small[4];
	assert_int_equal(dest_relpath("/p", "", "abcdef", small, sizeof small), -ENAMETOOLONG);
}

static void parents(void **state)
{
	(void)state;
	static const char *const c[][2] = {
		{"a/b/c", "a/b"}, {"c", "."}, {"/c", "/"}, {"/a/b/", "/a"}, {"a//", "."}, {"/", "/"},
	};
	char out[PATH_MAX];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		dest_parent_of(c[i][0], out, sizeof out);
		assert_string_equal(out, c[i][1]);
	}
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_cli_dest.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	return 0;
}

static void dirs_below_never_follow_symlinks(void **state)
{
	(void)state;
	char path[PATH_MAX], outside[PATH_MAX];
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);

	int fd = dest_open_dirs_below(root, "a/b/c");
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/a/b/c", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	fd = dest_open_dirs_below(root, ""); /* the root itself */
	assert_true(fd >= 0);
	close(fd);

	/* A symlink to a directory outside, planted where a directory goes. */
	snprintf(outside, sizeof outside, "%s/outside", dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof path, "%s/a/link", dir);
	assert_int_equal(symlink(outside, path), 0);
	fd = dest_open_dirs_below(root, "a/link/x");
	assert_true(fd == -ELOOP || fd == -ENOTDIR);
	snprintf(path, sizeof path, "%s/outside/x", dir);
	assert_int_equal(stat(path, &st), -1); /* nothing made through the link */

	/* A file where a directory goes. */
	snprintf(path, sizeof path, "%s/a/file", dir);
	int f = open(path, O_CREAT | O_WRONLY, 0644);
	close(f);
	assert_int_equal(dest_open_dirs_below(root, "a/file/x"), -ENOTDIR);
	close(root);
}

static void open_parent_makes_and_splits(void **state)
{
	(void)state;
	char path[PATH_MAX], name[NAME_MAX + 1];
	snprintf(path, sizeof path, "%s/new/deeper/target//", dir);
	int fd = dest_open_parent(path, name);
	assert_true(fd >= 0);
	assert_string_equal(name, "target");
	struct stat st;
	assert_int_equal(fstatat(fd, ".", &st, 0), 0);
	close(fd);
	snprintf(path, sizeof path, "%s/new/deeper", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof path, "%s/new/..", dir);
	assert_int_equal(dest_open_parent(path, name), -EINVAL);
	assert_int_equal(dest_open_parent("/", name), -EINVAL);
	assert_int_equal(dest_mkdir_p(dir), 0); /* existing: fine */
}

/* Where each kind of restore writes: the directory opened, the entry name
 * and the prefix of reported paths; a dry run makes nothing. */
static void destinations(void **state)
{
	(void)state;
	char root[PATH_MAX / 2], to[PATH_MAX], want[PATH_MAX + 8];
	struct stat st;
	struct dest d;
	snprintf(root, sizeof root, "%s/proj", dir);
	assert_int_equal(mkdir(root, 0755), 0);

	/* The whole project: merged into the root itself. */
	assert_int_equal(dest_in_project(root, "", false, &d), 0);
	assert_string_equal(d.name, "proj");
	snprintf(want, sizeof want, "%s/", dir);
	assert_string_equal(d.dir, want);
	assert_string_equal(d.show, root);
	close(d.dirfd);

	/* A path inside: its parents made below the root (not in a dry run). */
	assert_int_equal(dest_in_project(root, "a/b/f.txt", true, &d), 0);
	assert_int_equal(d.dirfd, -1);
	snprintf(to, sizeof to, "%s/a", root);
	assert_int_equal(stat(to, &st), -1);
	assert_int_equal(dest_in_project(root, "a/b/f.txt", false, &d), 0);
	assert_true(d.dirfd >= 0);
	assert_string_equal(d.name, "f.txt");
	snprintf(want, sizeof want, "%s/a/b/", root);
	assert_string_equal(d.dir, want);
	close(d.dirfd);
	/* A symlink in the project on the way is not followed. */
	snprintf(to, sizeof to, "%s/link", root);
	assert_int_equal(symlink("/tmp", to), 0);
	assert_true(dest_in_project(root, "link/x", false, &d) < 0);
	assert_non_null(strstr(d.err, "link"));

	/* --to: a file goes into an existing directory or one ending in '/'. */
	snprintf(to, sizeof to, "%s/out/", dir);
	assert_int_equal(dest_to(to, "src/main.c", false, false, &d), 0);
	assert_string_equal(d.name, "main.c");
	close(d.dirfd);
	snprintf(to, sizeof to, "%s/out", dir);
	assert_int_equal(dest_to(to, "src/main.c", false, false, &d), 0);
	assert_string_equal(d.name, "main.c");
	close(d.dirfd);
	/* ... else it is written as DEST; a directory always becomes DEST. */
	snprintf(to, sizeof to, "%s/renamed.c", dir);
	assert_int_equal(dest_to(to, "src/main.c", false, false, &d), 0);
	assert_string_equal(d.name, "renamed.c");
	close(d.dirfd);
	snprintf(to, sizeof to, "%s/out", dir);
	assert_int_equal(dest_to(to, "src", true, false, &d), 0);
	assert_string_equal(d.name, "out");
	close(d.dirfd);
	/* The whole project into a directory needs a DEST path of its own. */
	snprintf(to, sizeof to, "%s/out/", dir);
	assert_int_equal(dest_to(to, "", false, false, &d), -EINVAL);
	assert_non_null(strstr(d.err, "give a DEST path"));
	assert_int_equal(dest_to("/", "x", true, false, &d), -EINVAL);
	assert_non_null(strstr(d.err, "not usable as a destination"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relpaths),
		cmocka_unit_test(parents),
		cmocka_unit_test_setup_teardown(dirs_below_never_follow_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(open_parent_makes_and_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(destinations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
