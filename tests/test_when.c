/* test_when.c — time phrases against a fixed clock in a fixed time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/when.h"

#define NS 1000000000LL
/* Central European time with its DST rules, as a POSIX string: no tzdata
 * needed, so the test means the same on every machine. */
#define TZ_CET "CET-1CEST,M3.5.0,M10.5.0/3"

/* "YYYY-MM-DDTHH:MM:SS" in UTC -> ns. */
static int64_t utc(const char *s)
{
	struct tm tm = {0};
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	return (int64_t)timegm(&tm) * NS;
}

static int setup(void **state)
{
	(void)state;
	setenv("TZ", TZ_CET, 1);
	tzset();
	return 0;
}

struct ok_case {
	const char *phrase;
	const char *want_utc; /* expected, UTC */
	int64_t adjust_ns;    /* added to want_utc (-1: "last instant of …") */
};

static void check_cases(const char *now_utc, int64_t now_extra_ns, const struct ok_case *c, size_t n)
{
	int64_t now = utc(now_utc) + now_extra_ns;
	for (size_t i = 0; i < n; i++) {
		int64_t got = 0;
		int r = when_parse_time(c[i].phrase, now, &got);
		if (r != 0)
			fail_msg("'%s': returned %d", c[i].phrase, r);
		int64_t want = utc(c[i].want_utc) + c[i].adjust_ns;
		if (got != want)
			fail_msg("'%s': got %lld, want %lld (%s%+lld)", c[i].phrase, (long long)got,
				 (long long)want, c[i].want_utc, (long long)c[i].adjust_ns);
	}
}

/* now = Saturday 2026-02-14 10:30:00.000000123 CET (09:30 UTC). */
static void absolute_and_relative(void **state)
{
	(void)state;
	static const struct ok_case cases[] = {
		{"now", "2026-02-14T09:30:00", 123},
		{"today", "2026-02-14T09:30:00", 123},
		{"  NOW ", "2026-02-14T09:30:00", 123},
		/* A date is the whole day: its last instant. */
		{"2026-02-14", "2026-02-14T23:00:00", -1},
		{"2026-02-13", "2026-02-13T23:00:00", -1},
		{"2025-12-31", "2025-12-31T23:00:00", -1},
		/* A minute is its last instant, a second too. */
		{"2026-02-14T10:30", "2026-02-14T09:31:00", -1},
		{"2026-02-14t10:30", "2026-02-14T09:31:00", -1},
		{"2026-02-14 10:30", "2026-02-14T09:31:00", -1},
		{"2026-02-14  10:30", "2026-02-14T09:31:00", -1},
		{"2026-02-14T10:30:42", "2026-02-14T09:30:43", -1},
		{"2026-02-14T00:00", "2026-02-13T23:01:00", -1},
		{"2026-02-14 9:05", "2026-02-14T08:06:00", -1},
		{"10:00", "2026-02-14T09:01:00", -1},
		{"9:00:30", "2026-02-14T08:00:31", -1},
		{"today 9:00", "2026-02-14T08:01:00", -1},
		{"yesterday", "2026-02-13T23:00:00", -1},
		{"Yesterday 14:00", "2026-02-13T13:01:00", -1},
		{"yesterday 23:59:59", "2026-02-13T23:00:00", -1},
		/* Fixed units keep the nanoseconds of now. */
		{"2h ago", "2026-02-14T07:30:00", 123},
		{"2 hours ago", "2026-02-14T07:30:00", 123},
		{"1 hr ago", "2026-02-14T08:30:00", 123},
		{"an hour ago", "2026-02-14T08:30:00", 123},
		{"90 min ago", "2026-02-14T08:00:00", 123},
		{"90 minutes ago", "2026-02-14T08:00:00", 123},
		{"5m ago", "2026-02-14T09:25:00", 123},
		{"30s ago", "2026-02-14T09:29:30", 123},
		{"45 seconds ago", "2026-02-14T09:29:15", 123},
		{"3 days ago", "2026-02-11T09:30:00", 123},
		{"1d ago", "2026-02-13T09:30:00", 123},
		{"a day ago", "2026-02-13T09:30:00", 123},
		{"1 week ago", "2026-02-07T09:30:00", 123},
		{"2 weeks ago", "2026-01-31T09:30:00", 123},
		{"1 month ago", "2026-01-14T09:30:00", 123},
		{"2mo ago", "2025-12-14T09:30:00", 123},
		{"1 year ago", "2025-02-14T09:30:00", 123},
		{"0 min ago", "2026-02-14T09:30:00", 123},
	};
	check_cases("2026-02-14T09:30:00", 123, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Around the spring-forward night of 2026-03-29 (02:00 CET -> 03:00 CEST):
 * calendar days keep the wall clock, hours are exact, and that day has 23
 * hours. */
static void daylight_saving(void **state)
{
	(void)state;
	static const struct ok_case cases[] = {
		/* now = 2026-03-29 12:00 CEST = 10:00 UTC */
		{"1 day ago", "2026-03-28T11:00:00", 0},
		{"24h ago", "2026-03-28T10:00:00", 0},
		{"2026-03-29", "2026-03-29T22:00:00", -1},
		{"2026-03-28", "2026-03-28T23:00:00", -1},
		{"yesterday 12:00", "2026-03-28T11:01:00", -1},
		{"today 01:30", "2026-03-29T00:31:00", -1},
		{"today 04:00", "2026-03-29T02:01:00", -1},
	};
	check_cases("2026-03-29T10:00:00", 0, cases, sizeof(cases) / sizeof(cases[0]));
	/* The day after, "yesterday" is the end of the 23-hour day. */
	static const struct ok_case after[] = {
		{"yesterday", "2026-03-29T22:00:00", -1},
	};
	check_cases("2026-03-30T10:00:00", 0, after, 1);
}

/* Month arithmetic across a year boundary and into a shorter month. */
static void calendar_edges(void **state)
{
	(void)state;
	static const struct ok_case cases[] = {
		/* now = 2026-01-05 08:00 CET */
		{"1 week ago", "2025-12-29T07:00:00", 0},
		{"yesterday", "2026-01-04T23:00:00", -1},
		{"2 months ago", "2025-11-05T07:00:00", 0},
		{"2024-02-29", "2024-02-29T23:00:00", -1},
	};
	check_cases("2026-01-05T07:00:00", 0, cases, sizeof(cases) / sizeof(cases[0]));
}

static void rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "   ", "latest", "tomorrow", "before-migration", "3 days", "days ago", "3 parsecs ago",
		"-3 days ago", "3 days ago please", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10",
		"2026-02-14T24:00", "2026-02-14T10:60", "2026-02-14T10:30:60", "2026-02-14T10",
		"2026-2-14", "26-02-14", "2026-02-14X10:30", "2026-02-14T10:30:", "2026-02-14T10:30Z",
		"10", "10:", "10:5", "25:00", "today 25:00", "yesterday noon", "today9:00",
		"1 ms ago", "1 a ago", "a ago", "a", "1", "2026-02-29T10:00", "0000-00-00",
		"9999-12-32", "9999-13-31", "9999-12-31T24:00", "9999-12-31T23:60", "99999-12-31",
		"99999999999d", "99999999999", "99999999999 parsecs ago",
		"2026-02-14T10:30:42.2",
		"a very long phrase that goes on and on and on and on and on and on and on and on",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		int r = when_parse_time(bad[i], utc("2026-02-14T09:30:00"), &t);
		if (r != -EINVAL)
			fail_msg("'%s' should be rejected, got %d (t=%lld)", bad[i], r, (long long)t);
		assert_int_equal(t, 42); /* ret_ untouched on failure */
	}
	int64_t t;
	assert_int_equal(when_parse_time(NULL, 0, &t), -EINVAL);
}

/* Phrases of a valid shape whose time does not fit int64 ns since the
 * epoch: huge years in every form a date takes, every unit's overflowing
 * count, counts past what strtol holds, results before 1970. */
static void out_of_range(void **state)
{
	(void)state;
	static const char *const far[] = {
		"9999-12-31", "5000-01-01", "2263-01-01", "2262-04-12", "9999-12-31T23:59",
		"9999-12-31 23:59:59", "3000-06-15T12:00", "1969-12-31", "1900-01-01", "0000-01-01",
		"1969-12-31T23:59:59", "99999999999d ago", "99999999999 days ago", "99999999 days ago",
		"1000001s ago", "1000001 min ago", "1000001h ago", "1000001 weeks ago",
		"1000001mo ago", "1000001 years ago", "99999999999999999999999 seconds ago",
		"9223372036854775807 h ago", "9223372036854775808 y ago", "1000000 years ago",
		"1000000 months ago", "1000000 weeks ago", "1000000 days ago", "60 years ago",
		"57 years ago",
	};
	int64_t now = utc("2026-02-14T09:30:00");
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		int64_t t = 42;
		int r = when_parse_time(far[i], now, &t);
		if (r != -ERANGE)
			fail_msg("'%s' should be out of range, got %d (t=%lld)", far[i], r, (long long)t);
		assert_int_equal(t, 42);
	}
	/* The edges that still fit: the last whole day, offsets back to 1970. */
	int64_t t;
	assert_int_equal(when_parse_time("2262-04-10", now, &t), 0);
	assert_true(t > now);
	assert_int_equal(when_parse_time("2262-04-11T23:00", now, &t), 0);
	assert_int_equal(when_parse_time("1970-01-02", now, &t), 0);
	assert_int_equal(when_parse_time("56 years ago", now, &t), 0);
	assert_true(t > 0 && t < now);
	assert_int_equal(when_parse_time("1000000 s ago", now, &t), 0);
	assert_int_equal(t, now - 1000000 * NS);
	assert_int_equal(when_parse_time("1000000h ago", now, &t), -ERANGE); /* 1912 */
	assert_int_equal(when_parse_time("400000h ago", now, &t), 0);
	/* A now near the top of the range: relative phrases never wrap. */
	int64_t top = INT64_MAX - 5;
	assert_int_equal(when_parse_time("now", top, &t), 0);
	assert_int_equal(t, top);
	assert_int_equal(when_parse_time("1s ago", top, &t), 0);
	assert_int_equal(t, top - NS);
	assert_int_equal(when_parse_time("yesterday", top, &t), 0);
	assert_true(t < top);
	assert_int_equal(when_parse_time("today 23:59", top, &t), -ERANGE);
	/* And a now before the epoch makes every relative phrase out of range. */
	assert_int_equal(when_parse_time("1s ago", -NS, &t), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(absolute_and_relative, setup),
		cmocka_unit_test_setup(daylight_saving, setup),
		cmocka_unit_test_setup(calendar_edges, setup),
		cmocka_unit_test_setup(rejects, setup),
		cmocka_unit_test_setup(out_of_range, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
