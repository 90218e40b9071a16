/* test_restoremark.c — the two restore marks a watch orders its events by:
 * begun / ended / died, and the clock's answer for the scanning fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/output.h"
#include "src/restoremark.h"
#include "tests/tmpdir.h"

#define ROOT "/home/me/proj"
#define NS 1000000000LL

static char dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "%s/restoremark.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	return setenv("CKPTFS_REPO", dir, 1);
}

static int teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	return unsetenv("CKPTFS_REPO");
}

/* Write a state file as another (or no longer running) process would. */
static void write_state(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/state", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/state/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A pid no process can have: above the largest pid_max. */
#define DEAD_PID "4194305"

static void no_mark(void **state)
{
	(void)state;
	assert_false(restoremark_running(ROOT));
	assert_true(restoremark_died(ROOT)); /* nothing to wait for */
	assert_false(restoremark_active(ROOT, out_now_ns()));
}

static void begun_then_ended(void **state)
{
	(void)state;
	restoremark_begin(ROOT);
	int64_t t = out_now_ns();
	assert_true(restoremark_running(ROOT));
	assert_false(restoremark_died(ROOT));
	assert_true(restoremark_active(ROOT, t));
	assert_true(restoremark_active(ROOT, t + 3600 * NS)); /* running: no clock */
	restoremark_end(ROOT);
	int64_t e = out_now_ns();
	assert_false(restoremark_running(ROOT));
	assert_false(restoremark_died(ROOT)); /* ended: its .end is (or was) in the queue */
	assert_true(restoremark_active(ROOT, e));
	assert_false(restoremark_active(ROOT, e + RESTOREMARK_GRACE_NS + NS));
	/* The next restore begins: running again, whatever the old .end says. */
	restoremark_begin(ROOT);
	assert_true(restoremark_running(ROOT));
	assert_false(restoremark_died(ROOT));
	restoremark_end(ROOT);
}

static void other_roots_apart(void **state)
{
	(void)state;
	char m1[RESTOREMARK_NAME_MAX], e1[RESTOREMARK_NAME_MAX], m2[RESTOREMARK_NAME_MAX],
		e2[RESTOREMARK_NAME_MAX];
	restoremark_names(ROOT, m1, e1);
	restoremark_names(ROOT "2", m2, e2);
	assert_string_not_equal(m1, m2);
	assert_string_not_equal(m1, e1);
	assert_int_equal(strncmp(e1, m1, strlen(m1)), 0); /* same prefix: one per root */
	restoremark_begin(ROOT);
	assert_false(restoremark_running(ROOT "2"));
	restoremark_end(ROOT);
}

static void died_without_end(void **state)
{
	(void)state;
	char m[RESTOREMARK_NAME_MAX], e[RESTOREMARK_NAME_MAX];
	restoremark_names(ROOT, m, e);
	write_state(m, DEAD_PID " 1000\n");
	assert_false(restoremark_running(ROOT));
	assert_true(restoremark_died(ROOT));
	assert_false(restoremark_active(ROOT, 2000));
	/* An .end of an older restore does not end this one. */
	write_state(e, DEAD_PID " 999 1500\n");
	assert_true(restoremark_died(ROOT));
	/* Its own .end does, even though its process is gone. */
	write_state(e, DEAD_PID " 1000 1500\n");
	assert_false(restoremark_died(ROOT));
	assert_true(restoremark_active(ROOT, 1500 + RESTOREMARK_GRACE_NS));
	assert_false(restoremark_active(ROOT, 1501 + RESTOREMARK_GRACE_NS));
	/* Before the restore began it was not active. */
	assert_false(restoremark_active(ROOT, 999));
}

static void garbage_is_no_mark(void **state)
{
	(void)state;
	char m[RESTOREMARK_NAME_MAX], e[RESTOREMARK_NAME_MAX];
	restoremark_names(ROOT, m, e);
	write_state(m, "not a mark\n");
	assert_false(restoremark_running(ROOT));
	assert_true(restoremark_died(ROOT));
	write_state(m, "12\n"); /* a pid and no start */
	assert_false(restoremark_running(ROOT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(begun_then_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(other_roots_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(died_without_end, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_is_no_mark, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
