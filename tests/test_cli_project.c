/* test_cli_project.c — project roots and git HEAD from hand-made .git dirs. */
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
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "src/project.h"
#include "src/pseudofs.h"
#include "store/err.h"
#include "tests/tmpdir.h"

#define C1 "0123456789abcdef0123456789abcdef01234567"
#define C2 "fedcba9876543210fedcba9876543210fedcba98"

static char base[256];

/* Write text to base/rel, creating parent directories. */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", base, rel);
	for (char *p = path + strlen(base) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (text) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	} else {
		mkdir(path, 0755);
	}
}

static char *at(const char *rel)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", base, rel);
	return path;
}

static int setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/ckptfs-test-project.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	/* Canonical, so it compares equal to realpath() output. */
	char *real = realpath(tmpl, NULL);
	assert_non_null(real);
	assert_true(strlen(real) < sizeof base);
	strcpy(base, real);
	free(real);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(base);
	return 0;
}

static void expect_root(const char *dir_rel, const char *want_rel)
{
	char *root = NULL;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", at(dir_rel));
	assert_int_equal(proj_find_root(dir, &root), 0);
	assert_string_equal(root, at(want_rel));
	free(root);
}

static void expect_head(const char *root_rel, const char *want_commit, const char *want_branch)
{
	char *commit = (char *)"unset", *branch = (char *)"unset";
	assert_int_equal(proj_git_head(at(root_rel), &commit, &branch), 0);
	if (want_commit)
		assert_string_equal(commit, want_commit);
	else
		assert_null(commit);
	if (want_branch)
		assert_string_equal(branch, want_branch);
	else
		assert_null(branch);
	free(commit);
	free(branch);
}

static void roots(void **state)
{
	(void)state;
	put("plain/sub/deeper", NULL);
	put("repo/.git/HEAD", "ref: refs/heads/main\n");
	put("repo/a/b/c", NULL);
	put("wt/.git", "gitdir: ../repo/.git/worktrees/wt\n");
	put("wt/src", NULL);
	put("repo/.git-not/x", NULL);

	expect_root("plain/sub/deeper", "plain/sub/deeper"); /* no git: DIR itself */
	expect_root("plain/sub/deeper/../", "plain/sub");     /* canonicalized */
	expect_root("repo", "repo");
	expect_root("repo/a/b/c", "repo");
	expect_root("repo/.git-not/x", "repo");
	expect_root("wt/src", "wt"); /* a .git file marks a work tree too */
}

static void root_errors(void **state)
{
	(void)state;
	char *root = NULL;
	put("file", "x");
	store_error_clear();
	assert_int_equal(proj_find_root(at("missing"), &root), -ENOENT);
	assert_non_null(strstr(store_error(), "missing: No such file or directory"));
	assert_int_equal(proj_find_root(at("file"), &root), -ENOTDIR);
	assert_non_null(strstr(store_error(), "file: Not a directory"));
	assert_null(root);
}

/* Kernel pseudo file systems are refused as roots, by f_type; a tmpfs
 * only when it is a devtmpfs; real file systems never. */
static void pseudo_roots(void **state)
{
	(void)state;
	static const struct {
		long magic;
		const char *name;
	} table[] = {
		{0x9fa0, "proc"},          {0x62656572, "sysfs"},     {0x27e0eb, "cgroup"},
		{0x63677270, "cgroup2"},   {0x64626720, "debugfs"},   {0x73636673, "securityfs"},
		{0x6165676c, "pstore"},    {0xcafe4a11L, "bpf"},      {0x74726163, "tracefs"},
		{0x62656570, "configfs"},  {0x65735543, "fusectl"},   {0x19800202, "mqueue"},
		{0x958458f6L, "hugetlbfs"}, {0x1cd1, "devpts"},       {0xde5e81e4L, "efivarfs"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const char *got = pseudofs_name(table[i].magic, makedev(0, 0));
		if (!got || strcmp(got, table[i].name) != 0)
			fail_msg("f_type %#lx: got %s, want %s", table[i].magic, got ? got : "NULL",
				 table[i].name);
		/* f_type sign-extended from 32 bits (as on some ABIs) too. */
		long ext = (long)(int)(unsigned)table[i].magic;
		assert_non_null(pseudofs_name(ext, makedev(0, 0)));
	}
	/* ext4, xfs, btrfs, tmpfs on a device no mount has, ramfs, nfs, overlay. */
	static const long real[] = {0xef53, 0x58465342, 0x9123683eL, 0x01021994, 0x858458f6L,
				    0x6969, 0x794c7630};
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
		assert_null(pseudofs_name(real[i], makedev(4095, 1048575)));

	/* The real thing: /proc and /sys are always there. */
	static const char *const dirs[] = {"/proc", "/sys", "/proc/self", "/sys/kernel", "/dev/pts"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct stat st;
		if (stat(dirs[i], &st) < 0)
			continue;
		char *root = NULL;
		store_error_clear();
		assert_int_equal(proj_find_root(dirs[i], &root), -EXDEV);
		assert_null(root);
		assert_non_null(strstr(store_error(), "file system (kernel state, not files); not a project root"));
	}
	/* /dev counts when it is a devtmpfs (as on a normal boot), and a
	 * project in a temp dir never does. */
	struct statfs sfs;
	struct stat st;
	if (statfs("/dev", &sfs) == 0 && stat("/dev", &st) == 0 &&
	    pseudofs_name((long)sfs.f_type, st.st_dev)) {
		char *root = NULL;
		assert_int_equal(proj_find_root("/dev", &root), -EXDEV);
		assert_non_null(strstr(store_error(), "/dev: is on a "));
	}
	char *root = NULL;
	assert_int_equal(proj_find_root(base, &root), 0);
	free(root);
}

static void heads(void **state)
{
	(void)state;
	/* A branch with a loose ref. */
	put("r1/.git/HEAD", "ref: refs/heads/main\n");
	put("r1/.git/refs/heads/main", C1 "\n");
	expect_head("r1", C1, "main");

	/* A branch only in packed-refs (with a header and a peeled tag line);
	 * a slash in the branch name. */
	put("r2/.git/HEAD", "ref: refs/heads/feature/x\n");
	put("r2/.git/packed-refs", "# pack-refs with: peeled fully-peeled sorted \n" C2
				   " refs/heads/feature/w\n" C1 " refs/heads/feature/x\n" C2
				   " refs/tags/v1\n^" C1 "\n");
	put("r2/.git/refs/heads", NULL);
	expect_head("r2", C1, "feature/x");

	/* A loose ref wins over a stale packed one. */
	put("r3/.git/HEAD", "ref: refs/heads/main\n");
	put("r3/.git/packed-refs", C1 " refs/heads/main\n");
	put("r3/.git/refs/heads/main", C2 "\n");
	expect_head("r3", C2, "main");

	/* Detached HEAD. */
	put("r4/.git/HEAD", C2 "\n");
	expect_head("r4", C2, NULL);

	/* Unborn branch: just after git init. */
	put("r5/.git/HEAD", "ref: refs/heads/master\n");
	put("r5/.git/refs/heads", NULL);
	expect_head("r5", NULL, "master");

	/* A linked worktree: HEAD in its gitdir, branch refs in the common dir. */
	put("r1/.git/worktrees/wt/HEAD", "ref: refs/heads/topic\n");
	put("r1/.git/worktrees/wt/commondir", "../..\n");
	put("r1/.git/refs/heads/topic", C2 "\n");
	put("wt/.git", "gitdir: ../r1/.git/worktrees/wt\n");
	expect_head("wt", C2, "topic");

	/* An absolute gitdir path (submodules after absorbgitdirs use
	 * relative ones, older git absolute). */
	char line[PATH_MAX + 16];
	snprintf(line, sizeof line, "gitdir: %s\n", at("r1/.git"));
	put("sub/.git", line);
	expect_head("sub", C1, "main");

	/* Not a git work tree. */
	put("plain", NULL);
	expect_head("plain", NULL, NULL);
}

static void head_errors(void **state)
{
	(void)state;
	char *commit = NULL, *branch = NULL;
	put("g1/.git/HEAD", "garbage\n");
	assert_int_equal(proj_git_head(at("g1"), &commit, &branch), -EINVAL);
	put("g2/.git/HEAD", "ref: refs/heads/a\n");
	put("g2/.git/refs/heads/a", "ref: refs/heads/b\n");
	put("g2/.git/refs/heads/b", "ref: refs/heads/a\n");
	assert_int_equal(proj_git_head(at("g2"), &commit, &branch), -EINVAL); /* a loop */
	put("g3/.git/HEAD", "ref: ../../../etc/passwd\n");
	assert_int_equal(proj_git_head(at("g3"), &commit, &branch), -EINVAL);
	put("g4/.git", "not a gitdir line\n");
	assert_int_equal(proj_git_head(at("g4"), &commit, &branch), -EINVAL);
	put("g5/.git/HEAD", "ref: refs/heads/main\n");
	put("g5/.git/refs/heads/main", "xyz\n");
	assert_int_equal(proj_git_head(at("g5"), &commit, &branch), -EINVAL);
	assert_null(commit);
	assert_null(branch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(roots, setup, teardown),
		cmocka_unit_test_setup_teardown(root_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(pseudo_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(heads, setup, teardown),
		cmocka_unit_test_setup_teardown(head_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
