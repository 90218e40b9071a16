/* test_shquote.c — command lines quoted so a shell reads back the same words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/shquote.h"

static void check(int argc, char *const *argv, const char *want)
{
	char *got = shquote_argv(argc, argv);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void bare_words(void **state)
{
	(void)state;
	char *const a[] = {"alembic", "upgrade", "head"};
	check(3, a, "alembic upgrade head");
	char *const b[] = {"npm", "run", "migrate", "--", "--env=prod", "a/b.c", "x@y:1,2%+"};
	check(7, b, "npm run migrate -- --env=prod a/b.c x@y:1,2%+");
	check(0, a, "");
}

static void quoted_words(void **state)
{
	(void)state;
	char *const a[] = {"sh", "-c", "echo $HOME; rm *"};
	check(3, a, "sh -c 'echo $HOME; rm *'");
	char *const b[] = {"echo", "it's", ""};
	check(3, b, "echo 'it'\\''s' ''");
	char *const c[] = {"a b", "~x", "#c", "tab\there", "nl\n"};
	check(5, c, "'a b' '~x' '#c' 'tab\there' 'nl\n'");
}

/* What sh makes of the quoted line is the argv it came from. */
static void round_trip_through_sh(void **state)
{
	(void)state;
	char *const a[] = {"printf", "[%s]", "it's", "a b", "", "$x", "\\", "\"q\""};
	char *q = shquote_argv(8, a);
	assert_non_null(q);
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "%s", q) > 0);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[256] = {0};
	size_t n = fread(out, 1, sizeof out - 1, p);
	assert_int_equal(pclose(p), 0);
	out[n] = '\0';
	assert_string_equal(out, "[it's][a b][][$x][\\][\"q\"]");
	free(cmd);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bare_words),
		cmocka_unit_test(quoted_words),
		cmocka_unit_test(round_trip_through_sh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
