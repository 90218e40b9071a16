/* test_duration.c — durations as users write them (--every, --stale-after). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>

#include "src/duration.h"

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t want;
	} cases[] = {
		{"1h", 3600},       {"90", 90},          {"90s", 90},        {"15m", 900},
		{"15min", 900},     {"15 minutes", 900}, {"1h30m", 5400},    {"1h 30min", 5400},
		{"2d", 172800},     {"1w", 604800},      {"2 Hours", 7200},  {" 10s ", 10},
		{"1d12h", 129600},  {"1 week 1 day", 691200},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = -1;
		assert_int_equal(dur_parse(cases[i].s, &got), 0);
		assert_int_equal(got, cases[i].want);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"",     " ",  "h",     "0",      "0h",   "1x",
					  "-1h",  "1.5h", "1h30", "1hh",    "h1",   "1 h 2",
					  "99999999999999999999", "5000000w", "1h-"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t got = 77;
		assert_int_equal(dur_parse(bad[i], &got), -EINVAL);
		assert_int_equal(got, 77); /* untouched on failure */
	}
}

static void test_format_round_trip(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(dur_format(3600, buf), "1h");
	assert_string_equal(dur_format(5400, buf), "1h30min");
	assert_string_equal(dur_format(45, buf), "45s");
	assert_string_equal(dur_format(604800 + 86400, buf), "1w1d");
	for (int64_t s = 1; s < 200000; s += 997) {
		int64_t back = 0;
		assert_int_equal(dur_parse(dur_format(s, buf), &back), 0);
		assert_int_equal(back, s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
