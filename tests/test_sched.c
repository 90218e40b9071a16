/* test_sched.c — the schedule's unit files and crontab lines: intervals
 * mapped to calendar times, paths quoted for systemd and the shell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/sched.h"

static void test_calendar(void **state)
{
	(void)state;
	static const struct {
		int64_t s;
		const char *want;
	} ok[] = {
		{60, "*-*-* *:*:00"},          {900, "*-*-* *:00/15:00"},
		{1800, "*-*-* *:00/30:00"},    {3600, "*-*-* *:00:00"},
		{7200, "*-*-* 00/2:00:00"},    {6 * 3600, "*-*-* 00/6:00:00"},
		{12 * 3600, "*-*-* 00/12:00:00"}, {86400, "*-*-* 00:00:00"},
		{7 * 86400, "Mon *-*-* 00:00:00"},
	};
	char buf[48];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(sched_calendar(ok[i].s, buf), 0);
		assert_string_equal(buf, ok[i].want);
	}
	/* Uneven through the hour or day, or not whole minutes. */
	static const int64_t bad[] = {0, -60, 30, 90, 7 * 60, 45 * 60, 7 * 3600, 5 * 3600,
				      2 * 86400, 25 * 3600};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(sched_calendar(bad[i], buf), -EINVAL);
}

static void test_cron_line(void **state)
{
	(void)state;
	char *l = NULL;
	assert_int_equal(sched_cron_line(3600, "/usr/bin/ckptfs", NULL, &l), 0);
	/* The service's steps, in its order, each after the one before
	 * succeeded. */
	assert_string_equal(l, "0 * * * * /usr/bin/ckptfs snap --all -q"
			       " && /usr/bin/ckptfs forget --all --policy --if-configured"
			       " && /usr/bin/ckptfs gc --if-due && /usr/bin/ckptfs push --if-configured"
			       " # ckptfs schedule");
	free(l);
	assert_int_equal(sched_cron_line(900, "/opt/my tools/ckptfs", "/home/a b/repo", &l), 0);
	/* An assignment is one command's environment: every step has it. */
	assert_string_equal(l, "*/15 * * * * 'CKPTFS_REPO=/home/a b/repo' '/opt/my tools/ckptfs' "
			       "snap --all -q && 'CKPTFS_REPO=/home/a b/repo' '/opt/my tools/ckptfs' "
			       "forget --all --policy --if-configured && 'CKPTFS_REPO=/home/a b/repo' "
			       "'/opt/my tools/ckptfs' gc --if-due && 'CKPTFS_REPO=/home/a b/repo' "
			       "'/opt/my tools/ckptfs' push --if-configured # ckptfs schedule");
	free(l);
	assert_int_equal(sched_cron_line(6 * 3600, "/b/ckptfs", NULL, &l), 0);
	assert_true(!strncmp(l, "0 */6 * * * /b/ckptfs snap --all -q && ", 39));
	free(l);
	assert_int_equal(sched_cron_line(86400, "/b/ckptfs", NULL, &l), 0);
	assert_true(!strncmp(l, "0 0 * * * /b/ckptfs snap --all -q && ", 37));
	free(l);
	/* cron reads % as a newline. */
	assert_int_equal(sched_cron_line(3600, "/b/100%/ckptfs", NULL, &l), -EINVAL);
	assert_int_equal(sched_cron_line(7 * 3600, "/b/ckptfs", NULL, &l), -EINVAL);
}

static void test_service_quoting(void **state)
{
	(void)state;
	char *t = NULL;
	assert_int_equal(sched_service_text("/opt/a \"b\" 100%/$x\\ckptfs", "/r e/po", &t), 0);
	assert_non_null(strstr(t, "\nExecStart=\"/opt/a \\\"b\\\" 100%%/$$x\\\\ckptfs\" snap --all\n"));
	assert_non_null(strstr(t, "\nEnvironment=\"CKPTFS_REPO=/r e/po\"\n"));
	assert_non_null(strstr(t, "\nType=oneshot\n"));
	assert_non_null(strstr(t, "\nIOSchedulingClass=idle\n"));
	assert_non_null(strstr(t, "\nSuccessExitStatus=5\n"));
	/* Retention after the snapshots, in order (it decides itself whether
	 * the user configured it). */
	const char *forget = strstr(t, "\nExecStart=\"/opt/a \\\"b\\\" 100%%/$$x\\\\ckptfs\" forget --all "
				       "--policy --if-configured\n");
	assert_non_null(forget);
	assert_true(forget > strstr(t, " snap --all\n"));
	/* Then gc when due, then push when a remote is added: in this order. */
	const char *gc = strstr(t, "\nExecStart=\"/opt/a \\\"b\\\" 100%%/$$x\\\\ckptfs\" gc --if-due\n");
	const char *push = strstr(t, "\nExecStart=\"/opt/a \\\"b\\\" 100%%/$$x\\\\ckptfs\" push --if-configured\n");
	assert_non_null(gc);
	assert_non_null(push);
	assert_true(gc > forget && push > gc);
	free(t);
	t = NULL;
	assert_int_equal(sched_service_text("/bin/ck\nptfs", NULL, &t), -EINVAL);
	assert_null(t);
}

static void test_timer(void **state)
{
	(void)state;
	char *t = NULL;
	assert_int_equal(sched_timer_text(1800, &t), 0);
	assert_non_null(strstr(t, "\n# ckptfs-every: 1800\n"));
	assert_non_null(strstr(t, "\nOnCalendar=*-*-* *:00/30:00\n"));
	assert_non_null(strstr(t, "\nPersistent=true\n"));
	assert_non_null(strstr(t, "every 30min\n"));
	free(t);
	assert_int_equal(sched_timer_text(7 * 3600, &t), -EINVAL);
}

static void test_exec(void **state)
{
	(void)state;
	char *out = NULL;
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"cat; echo \"$TZ\" >&2; exit 3", NULL};
	assert_int_equal(sched_exec(argv, "in\n", &out), 3);
	assert_string_equal(out, "in\nUTC");
	free(out);
	char *missing[] = {(char *)"ckptfs-no-such-program", NULL};
	assert_int_equal(sched_exec(missing, NULL, &out), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),    cmocka_unit_test(test_cron_line),
		cmocka_unit_test(test_service_quoting), cmocka_unit_test(test_timer),
		cmocka_unit_test(test_exec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
