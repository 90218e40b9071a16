/* test_ignore.c — the gitignore glob matcher (table driven) and the rules
 * of default excludes, .ckptignore and --exclude on real temp trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/walk.h"
#include "store/walk_internal.h"
#include "store/ignore.h"

static const struct {
	const char *pat, *text;
	bool match;
} glob_cases[] = {
	{"foo", "foo", true},
	{"foo", "foobar", false},
	{"*", "anything", true},
	{"*", "a/b", false},
	{"*.c", "x.c", true},
	{"*.c", ".c", true},
	{"*.c", "dir/x.c", false},
	{"?", "a", true},
	{"?", "", false},
	{"?", "/", false},
	{"a?c", "abc", true},
	{"a?c", "ac", false},
	{"[abc]", "b", true},
	{"[abc]", "d", false},
	{"[a-c]x", "cx", true},
	{"[!a-c]x", "cx", false},
	{"[^a-c]x", "dx", true},
	{"[]]", "]", true},
	{"[]a]", "a", true},
	{"[a-]", "-", true},
	{"[[:digit:]]*", "7up", true},
	{"[[:digit:]]*", "up", false},
	{"[[:upper:][:digit:]]", "Q", true},
	{"[/]", "/", false},
	{"[abc", "a", false}, /* malformed class matches nothing */
	{"\\*", "*", true},
	{"\\*", "x", false},
	{"\\#x", "#x", true},
	{"a\\ ", "a ", true},
	{"x\\", "x", false},
	{"**", "a/b/c", true},
	{"**/foo", "foo", true},
	{"**/foo", "a/b/foo", true},
	{"**/foo", "a/foox", false},
	{"**/foo/bar", "x/foo/bar", true},
	{"a/**", "a/b", true},
	{"a/**", "a/b/c", true},
	{"a/**", "a", false},
	{"a/**/b", "a/b", true},
	{"a/**/b", "a/x/b", true},
	{"a/**/b", "a/x/y/b", true},
	{"a/**/b", "a/x/y/c", false},
	{"a**b", "axxb", true},
	{"a**b", "ax/xb", false}, /* not delimited: acts like '*' */
	{"a/*/c", "a/b/c", true},
	{"a/*/c", "a/b/x/c", false},
	{"doc/*.txt", "doc/a.txt", true},
	{"doc/*.txt", "doc/sub/a.txt", false},
	{"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	{"\xff*", "\xff\xfe", true},
	{"[\xf0-\xff]", "\xfe", true},
};

static void glob_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
		bool got = ignore_glob(glob_cases[i].pat, glob_cases[i].text);
		if (got != glob_cases[i].match)
			fail_msg("glob \"%s\" vs \"%s\": got %d, want %d", glob_cases[i].pat,
				 glob_cases[i].text, got, glob_cases[i].match);
	}
}

/* ---- rules on a real tree ---------------------------------------------- */

struct fixture {
	char dir[64];
};

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	strcpy(fx->dir, "/tmp/ckptfs-ignore.XXXXXX");
	if (!fx || !mkdtemp(fx->dir))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void mk(struct fixture *fx, const char *rel, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	size_t n = strlen(path);
	if (path[n - 1] == '/') {
		path[n - 1] = '\0';
		assert_int_equal(mkdir(path, 0755), 0);
		return;
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content ? content : "", f);
	fclose(f);
}

static bool ig(struct ignore *i, const char *rel, bool is_dir)
{
	return ignore_match(i, -1, rel, is_dir);
}

static void defaults(void **state)
{
	struct fixture *fx = *state;
	mk(fx, "node_modules/", NULL);
	mk(fx, "a/", NULL);
	mk(fx, "a/node_modules/", NULL);
	mk(fx, "a/__pycache__/", NULL);
	mk(fx, ".venv/", NULL);
	mk(fx, ".venv/pyvenv.cfg", "home = /usr/bin\n");
	mk(fx, "venv/", NULL); /* no pyvenv.cfg: a folder someone named venv */
	mk(fx, "target/", NULL); /* no Cargo.toml here */
	mk(fx, "rs/", NULL);
	mk(fx, "rs/Cargo.toml", "");
	mk(fx, "rs/target/", NULL);
	mk(fx, "js/", NULL);
	mk(fx, "js/package.json", "{}");
	mk(fx, "js/dist/", NULL);
	mk(fx, "js/build/", NULL);
	mk(fx, "c/", NULL);
	mk(fx, "c/CMakeLists.txt", "");
	mk(fx, "c/build/", NULL);
	mk(fx, "c/dist/", NULL); /* CMake does not make dist/ an output */
	mk(fx, "mk/", NULL);
	mk(fx, "mk/Makefile", "");
	mk(fx, "mk/build/", NULL);

	struct ignore *i;
	assert_int_equal(ignore_open(fx->dir, NULL, 0, &i), 0);
	assert_true(ig(i, "node_modules", true));
	assert_false(ig(i, "node_modules", false)); /* a file of that name is kept */
	assert_true(ig(i, "a/node_modules", true));
	assert_true(ig(i, "a/node_modules/x/y.js", false));
	assert_true(ig(i, "a/__pycache__", true));
	assert_true(ig(i, ".cache", true));
	assert_true(ig(i, "a/.pytest_cache", true));
	assert_true(ig(i, ".mypy_cache", true));
	assert_true(ig(i, ".tox", true));
	assert_true(ig(i, ".gradle", true));
	assert_true(ig(i, ".venv", true));
	assert_false(ig(i, "venv", true));
	assert_false(ig(i, "target", true));
	assert_true(ig(i, "rs/target", true));
	assert_true(ig(i, "js/dist", true));
	assert_true(ig(i, "js/build", true));
	assert_true(ig(i, "c/build", true));
	assert_false(ig(i, "c/dist", true));
	assert_false(ig(i, "mk/build", true));
	/* Included on purpose. */
	assert_false(ig(i, ".env", false));
	assert_false(ig(i, ".env.local", false));
	assert_false(ig(i, ".git", true));
	assert_false(ig(i, ".gitignore", false));
	assert_false(ig(i, "a", true));
	ignore_free(i);
}

static void ckptignore_files(void **state)
{
	struct fixture *fx = *state;
	mk(fx, ".ckptignore",
	   "# comment\n"
	   "\n"
	   "*.log\n"
	   "!keep.log\n"
	   "/only-root.txt\n"
	   "tmp/\n"
	   "docs/*.pdf\n"
	   "\\#hash\n"
	   "\\!bang\n"
	   "space\\ \n"
	   "trail   \n"
	   "crlf\r\n"
	   "!build/\n"
	   "deep/**/x\n");
	mk(fx, "sub/", NULL);
	mk(fx, "sub/.ckptignore", "*.dat\n/anch\n!important.log\nnested/deeper/\n");
	mk(fx, "sub/nested/", NULL);
	mk(fx, "other/", NULL);
	mk(fx, "package.json", "{}");
	mk(fx, "build/", NULL);

	struct ignore *i;
	assert_int_equal(ignore_open(fx->dir, NULL, 0, &i), 0);
	assert_true(ig(i, "a.log", false));
	assert_true(ig(i, "x/y/a.log", false));
	assert_false(ig(i, "keep.log", false));
	assert_false(ig(i, "x/keep.log", false));
	assert_true(ig(i, "only-root.txt", false));
	assert_false(ig(i, "sub/only-root.txt", false));
	assert_true(ig(i, "tmp", true));
	assert_false(ig(i, "tmp", false));
	assert_true(ig(i, "a/tmp", true));
	assert_true(ig(i, "docs/a.pdf", false));
	assert_false(ig(i, "docs/sub/a.pdf", false));
	assert_false(ig(i, "other/docs/a.pdf", false));
	assert_true(ig(i, "#hash", false));
	assert_true(ig(i, "!bang", false));
	assert_true(ig(i, "space ", false));
	assert_false(ig(i, "space", false));
	assert_true(ig(i, "trail", false));
	assert_true(ig(i, "crlf", false));
	assert_false(ig(i, "build", true)); /* "!build/" re-includes a default */
	assert_true(ig(i, "deep/x", false));
	assert_true(ig(i, "deep/a/b/x", false));
	/* sub/.ckptignore: relative to sub/, higher precedence than the root. */
	assert_true(ig(i, "sub/a.dat", false));
	assert_true(ig(i, "sub/nested/a.dat", false));
	assert_false(ig(i, "a.dat", false));
	assert_false(ig(i, "other/a.dat", false));
	assert_true(ig(i, "sub/anch", false));
	assert_false(ig(i, "sub/nested/anch", false));
	assert_false(ig(i, "sub/important.log", false));
	assert_true(ig(i, "sub/other.log", false));
	assert_true(ig(i, "sub/nested/deeper", true));
	assert_false(ig(i, "nested/deeper", true));
	/* Asking in a different order gives the same answers. */
	assert_false(ig(i, "other/a.dat", false));
	assert_true(ig(i, "sub/nested/a.dat", false));
	ignore_free(i);
}

static void excludes_come_last(void **state)
{
	struct fixture *fx = *state;
	mk(fx, ".ckptignore", "!*.sqlite\n");
	mk(fx, "node_modules/", NULL);
	const char *ex[] = {"*.sqlite", "/secret/", "!node_modules/"};
	struct ignore *i;
	assert_int_equal(ignore_open(fx->dir, ex, 3, &i), 0);
	assert_true(ig(i, "db.sqlite", false));
	assert_true(ig(i, "a/db.sqlite", false));
	assert_true(ig(i, "secret", true));
	assert_false(ig(i, "a/secret", true));
	assert_false(ig(i, "node_modules", true));
	ignore_free(i);
}

static void symlinked_dir_not_followed(void **state)
{
	/* A .ckptignore reached through a symlinked directory is not read. */
	struct fixture *fx = *state;
	mk(fx, "real/", NULL);
	mk(fx, "real/.ckptignore", "*\n");
	char path[512];
	snprintf(path, sizeof(path), "%s/link", fx->dir);
	assert_int_equal(symlink("real", path), 0);
	struct ignore *i;
	assert_int_equal(ignore_open(fx->dir, NULL, 0, &i), 0);
	assert_true(ig(i, "real/file", false));
	assert_false(ig(i, "link/file", false));
	ignore_free(i);
}

static void missing_root(void **state)
{
	(void)state;
	struct ignore *i = NULL;
	assert_int_equal(ignore_open("/nonexistent/ckptfs-root", NULL, 0, &i), -ENOENT);
	assert_null(i);
	ignore_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(glob_table),
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(ckptignore_files, setup, teardown),
		cmocka_unit_test_setup_teardown(excludes_come_last, setup, teardown),
		cmocka_unit_test_setup_teardown(symlinked_dir_not_followed, setup, teardown),
		cmocka_unit_test(missing_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
