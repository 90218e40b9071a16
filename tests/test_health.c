/* test_health.c — ok, stale, failing and missing against a fixed clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "src/health.h"

#define NS 1000000000LL
#define NOW (1800000000LL * NS)
#define HOUR 3600LL

static struct snapshot snap_at(int64_t ago_s, enum snap_status st, const char *notes)
{
	struct snapshot s = {0};
	s.name = (char *)"2027-01-15T08:00";
	s.time_ns = NOW - ago_s * NS;
	s.status = st;
	s.notes = (char *)notes;
	return s;
}

static struct health judge(struct health_in in)
{
	struct health h;
	in.now_ns = NOW;
	if (!in.stale_after_s)
		in.stale_after_s = 2 * HOUR;
	assert_int_equal(health_judge(&in, &h), 0);
	return h;
}

static void test_ok_and_stale(void **state)
{
	(void)state;
	struct snapshot s = snap_at(HOUR, SNAP_COMPLETE, NULL);
	struct health h = judge((struct health_in){.root_exists = true, .newest = &s});
	assert_int_equal(h.state, HEALTH_OK);
	assert_null(h.problem);
	health_clear(&h);

	s = snap_at(2 * HOUR + 1, SNAP_COMPLETE, NULL);
	h = judge((struct health_in){.root_exists = true, .newest = &s});
	assert_int_equal(h.state, HEALTH_STALE);
	assert_true(h.stale);
	assert_false(h.failing);
	assert_string_equal(h.problem, "newest snapshot older than 2h");
	health_clear(&h);

	/* Exactly at the threshold is not yet stale. */
	s = snap_at(2 * HOUR, SNAP_COMPLETE, NULL);
	h = judge((struct health_in){.root_exists = true, .newest = &s});
	assert_int_equal(h.state, HEALTH_OK);
	health_clear(&h);

	h = judge((struct health_in){.root_exists = true, .newest = NULL});
	assert_int_equal(h.state, HEALTH_STALE);
	assert_string_equal(h.problem, "no snapshot yet");
	health_clear(&h);
}

static void test_failing(void **state)
{
	(void)state;
	static const char notes[] =
		"{\"databases\": [{\"name\": \"app.db\", \"ok\": true, \"result\": \"ok\"},"
		" {\"name\": \"postgres-app\", \"ok\": false, \"result\": \"connection refused\"}]}";
	struct snapshot s = snap_at(60, SNAP_PARTIAL, notes);
	struct health h = judge((struct health_in){.root_exists = true, .newest = &s});
	assert_int_equal(h.state, HEALTH_FAILING);
	assert_string_equal(h.problem, "newest snapshot 2027-01-15T08:00 is partial: "
				       "database postgres-app: connection refused");
	health_clear(&h);

	/* Failing and stale: the state says failing, both flags are set. */
	s = snap_at(10 * HOUR, SNAP_DAMAGED, NULL);
	h = judge((struct health_in){.root_exists = true, .newest = &s});
	assert_int_equal(h.state, HEALTH_FAILING);
	assert_true(h.stale && h.failing);
	health_clear(&h);

	/* The last run failed after the newest snapshot: failing. */
	s = snap_at(HOUR, SNAP_COMPLETE, NULL);
	h = judge((struct health_in){.root_exists = true, .newest = &s, .run_result = "failed",
				     .run_reason = "locked", .run_time_ns = NOW - 60 * NS});
	assert_int_equal(h.state, HEALTH_FAILING);
	assert_string_equal(h.problem, "last scheduled run failed: locked");
	health_clear(&h);

	/* ...but a snapshot taken since then (by hand) answers it. */
	h = judge((struct health_in){.root_exists = true, .newest = &s, .run_result = "failed",
				     .run_reason = "locked", .run_time_ns = NOW - 2 * HOUR * NS});
	assert_int_equal(h.state, HEALTH_OK);
	health_clear(&h);
}

static void test_missing(void **state)
{
	(void)state;
	struct snapshot s = snap_at(100 * HOUR, SNAP_PARTIAL, NULL);
	struct health h = judge((struct health_in){.root_exists = false, .newest = &s});
	assert_int_equal(h.state, HEALTH_MISSING);
	assert_false(h.stale || h.failing);
	health_clear(&h);
}

static void test_threshold(void **state)
{
	(void)state;
	assert_int_equal(health_stale_after(0, 0), HEALTH_DEFAULT_STALE_S);
	assert_int_equal(health_stale_after(0, HOUR), 2 * HOUR);
	assert_int_equal(health_stale_after(5 * HOUR, HOUR), 5 * HOUR);
	assert_string_equal(health_name(HEALTH_STALE), "stale");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_and_stale),
		cmocka_unit_test(test_failing),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_threshold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
