/* test_retention.c — the keep policy against fixed histories in a fixed
 * time zone: buckets, DST changes, month ends, leap years, ISO weeks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/retention.h"

#define NS 1000000000LL
#define HOUR (3600 * NS)
#define DAY (86400 * NS)
/* Central European time with its DST rules, as a POSIX string (no tzdata):
 * summer time from the last Sunday of March 02:00 to the last Sunday of
 * October 03:00. */
#define TZ_CET "CET-1CEST,M3.5.0,M10.5.0/3"

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

/* rows from UTC times, newest first as given. */
static void rows_of(const char *const *times, size_t n, struct retention_row *rows)
{
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct retention_row){.time_ns = utc(times[i])};
}

/* "1100…": which rows are kept, ignoring RETENTION_BY_LATEST when
 * ignore_latest (to see what the rules alone keep). */
static void expect_kept(const uint32_t *kept, size_t n, const char *want, uint32_t ignore)
{
	assert_int_equal(strlen(want), n);
	for (size_t i = 0; i < n; i++) {
		bool k = (kept[i] & ~ignore) != 0;
		if (k != (want[i] == '1'))
			fail_msg("row %zu: kept %d (bits %#x), want %c", i, k, kept[i], want[i]);
	}
}

static void keep_last(void **state)
{
	(void)state;
	struct retention_row rows[10];
	for (int i = 0; i < 10; i++)
		rows[i] = (struct retention_row){.time_ns = utc("2026-05-01T12:00:00") - i * HOUR};
	struct retention_policy p = {.keep[RETENTION_LAST] = 3};
	uint32_t kept[10];
	assert_int_equal(retention_apply(&p, rows, 10, kept), 0);
	expect_kept(kept, 10, "1110000000", 0);
	assert_true(kept[0] & RETENTION_BY_LATEST);
	assert_true(kept[2] & RETENTION_BY_UNIT(RETENTION_LAST));
	/* keep-last counts snapshots, not periods: equal times are two. */
	rows[1].time_ns = rows[0].time_ns;
	assert_int_equal(retention_apply(&p, rows, 10, kept), 0);
	expect_kept(kept, 10, "1110000000", 0);
}

/* The newest of each of the N most recent hours that have snapshots. */
static void keep_hourly(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2026-05-01T12:40:00", "2026-05-01T12:20:00", "2026-05-01T12:00:00",
		"2026-05-01T11:50:00", "2026-05-01T11:10:00",
		/* no snapshot at 10:xx: the hour is skipped, not counted */
		"2026-05-01T09:59:59", "2026-05-01T09:00:00", "2026-05-01T08:30:00",
	};
	struct retention_row rows[8];
	uint32_t kept[8];
	rows_of(t, 8, rows);
	struct retention_policy p = {.keep[RETENTION_HOURLY] = 3};
	assert_int_equal(retention_apply(&p, rows, 8, kept), 0);
	expect_kept(kept, 8, "10010100", 0);
	assert_false(kept[7] & RETENTION_BY_OLDEST); /* the rule was used up */
}

/* Fewer periods than asked: every period's newest, and the oldest row. */
static void not_enough_periods_keeps_oldest(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2026-05-03T12:00:00", "2026-05-03T08:00:00", "2026-05-02T12:00:00",
		"2026-05-01T12:00:00", "2026-05-01T08:00:00",
	};
	struct retention_row rows[5];
	uint32_t kept[5];
	rows_of(t, 5, rows);
	struct retention_policy p = {.keep[RETENTION_DAILY] = 10};
	assert_int_equal(retention_apply(&p, rows, 5, kept), 0);
	expect_kept(kept, 5, "10111", 0);
	assert_true(kept[4] & RETENTION_BY_OLDEST);
	/* Exactly as many periods as asked: no extra oldest. */
	p.keep[RETENTION_DAILY] = 3;
	assert_int_equal(retention_apply(&p, rows, 5, kept), 0);
	expect_kept(kept, 5, "10110", 0);
}

/* 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC), so local 02:xx
 * happens twice.  Both are the same local hour: one period. */
static void dst_fall_back_repeated_hour(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2026-10-25T01:30:00", /* 02:30 CET (second pass) */
		"2026-10-25T00:30:00", /* 02:30 CEST (first pass): same hour */
		"2026-10-24T23:30:00", /* 01:30 CEST */
		"2026-10-24T22:30:00", /* 00:30 CEST */
	};
	struct retention_row rows[4];
	uint32_t kept[4];
	rows_of(t, 4, rows);
	struct retention_policy p = {.keep[RETENTION_HOURLY] = 2};
	assert_int_equal(retention_apply(&p, rows, 4, kept), 0);
	expect_kept(kept, 4, "1010", 0);
	/* The day has 25 hours and is one day. */
	struct retention_policy d = {.keep[RETENTION_DAILY] = 1};
	assert_int_equal(retention_apply(&d, rows, 4, kept), 0);
	expect_kept(kept, 4, "1000", 0);
}

/* 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:xx never
 * happens, and an hour's gap across it is two periods, not three. */
static void dst_spring_forward_skipped_hour(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2026-03-29T01:10:00", /* 03:10 CEST */
		"2026-03-29T00:50:00", /* 01:50 CET */
		"2026-03-29T00:10:00", /* 01:10 CET: same hour as 01:50 */
		"2026-03-28T23:10:00", /* 00:10 CET */
	};
	struct retention_row rows[4];
	uint32_t kept[4];
	rows_of(t, 4, rows);
	struct retention_policy p = {.keep[RETENTION_HOURLY] = 3};
	assert_int_equal(retention_apply(&p, rows, 4, kept), 0);
	expect_kept(kept, 4, "1101", 0);
	/* keep-within-hourly 2h reaches back to 23:10 UTC exactly (inclusive). */
	struct retention_policy w = {.within_unit_ns[RETENTION_HOURLY] = 2 * HOUR};
	assert_int_equal(retention_apply(&w, rows, 4, kept), 0);
	expect_kept(kept, 4, "1101", 0);
	assert_true(kept[3] & RETENTION_BY_WITHIN_UNIT(RETENTION_HOURLY));
}

/* Months and days end in local time: 2026-01-31 23:30 CET is 22:30 UTC,
 * 2026-02-01 00:30 CET is still January 31 in UTC. */
static void month_end_local_time(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2026-01-31T23:30:00", /* 2026-02-01 00:30 CET */
		"2026-01-31T22:30:00", /* 2026-01-31 23:30 CET */
		"2026-01-31T10:00:00", /* 2026-01-31 11:00 CET */
		"2025-12-31T23:30:00", /* 2026-01-01 00:30 CET */
		"2025-12-31T22:59:59", /* 2025-12-31 23:59:59 CET */
	};
	struct retention_row rows[5];
	uint32_t kept[5];
	rows_of(t, 5, rows);
	struct retention_policy m = {.keep[RETENTION_MONTHLY] = 3};
	assert_int_equal(retention_apply(&m, rows, 5, kept), 0);
	expect_kept(kept, 5, "11001", 0);
	struct retention_policy y = {.keep[RETENTION_YEARLY] = 2};
	assert_int_equal(retention_apply(&y, rows, 5, kept), 0);
	expect_kept(kept, 5, "10001", 0);
	struct retention_policy d = {.keep[RETENTION_DAILY] = 2};
	assert_int_equal(retention_apply(&d, rows, 5, kept), 0);
	expect_kept(kept, 5, "11000", 0);
}

/* 2028 is a leap year: February 29 is a day of its own. */
static void leap_years(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2028-03-01T11:00:00", "2028-02-29T23:00:00", /* 03-01 00:00 CET */
		"2028-02-29T11:00:00", "2028-02-28T11:00:00",
	};
	struct retention_row rows[4];
	uint32_t kept[4];
	rows_of(t, 4, rows);
	struct retention_policy d = {.keep[RETENTION_DAILY] = 3};
	assert_int_equal(retention_apply(&d, rows, 4, kept), 0);
	expect_kept(kept, 4, "1011", 0);
	/* keep-within 1d of 2028-03-01 11:00 UTC reaches 2028-02-29 11:00 UTC:
	 * 24 hours, the leap day counted once. */
	struct retention_policy w = {.within_ns = DAY};
	assert_int_equal(retention_apply(&w, rows, 4, kept), 0);
	expect_kept(kept, 4, "1110", 0);
}

/* ISO weeks: 2026-12-31 (Thu) and 2027-01-01 (Fri) are both 2026-W53;
 * 2024-12-30 (Mon) belongs to 2025-W01 with 2025-01-01. */
static void iso_weeks_across_years(void **state)
{
	(void)state;
	static const char *const t[] = {
		"2027-01-04T10:00:00", "2027-01-01T10:00:00", "2026-12-31T10:00:00",
		"2026-12-27T10:00:00", /* Sunday: 2026-W52 */
	};
	struct retention_row rows[4];
	uint32_t kept[4];
	rows_of(t, 4, rows);
	struct retention_policy w = {.keep[RETENTION_WEEKLY] = 3};
	assert_int_equal(retention_apply(&w, rows, 4, kept), 0);
	expect_kept(kept, 4, "1101", 0);

	static const char *const u[] = {"2025-01-01T10:00:00", "2024-12-30T10:00:00",
					"2024-12-29T10:00:00"};
	rows_of(u, 3, rows);
	w.keep[RETENTION_WEEKLY] = 2;
	assert_int_equal(retention_apply(&w, rows, 3, kept), 0);
	expect_kept(kept, 3, "101", 0);
}

/* keep-within is measured from the newest snapshot, not the clock: a
 * history that stopped a year ago keeps its last two days. */
static void within_from_newest(void **state)
{
	(void)state;
	struct retention_row rows[6];
	for (int i = 0; i < 6; i++)
		rows[i] = (struct retention_row){.time_ns = utc("2025-06-10T12:00:00") - i * DAY};
	struct retention_policy p = {.within_ns = 2 * DAY};
	uint32_t kept[6];
	assert_int_equal(retention_apply(&p, rows, 6, kept), 0);
	expect_kept(kept, 6, "111000", 0);
	assert_true(kept[2] & RETENTION_BY_WITHIN);
}

/* Tags and protections: keep-tag keeps its tag; the newest snapshot,
 * user-tagged and safety snapshots are kept whatever the rules say. */
static void tags_and_protections(void **state)
{
	(void)state;
	struct retention_row rows[6];
	for (int i = 0; i < 6; i++)
		rows[i] = (struct retention_row){.time_ns = utc("2026-05-01T12:00:00") - i * HOUR};
	rows[1].tag = "watch";
	rows[2].tag = "release";
	rows[2].flags = RETENTION_ROW_TAGGED;
	rows[4].flags = RETENTION_ROW_SAFETY;
	rows[5].tag = "watch";
	static const char *const tags[] = {"watch"};
	struct retention_policy p = {.tags = tags, .ntags = 1};
	uint32_t kept[6];
	assert_int_equal(retention_apply(&p, rows, 6, kept), 0);
	expect_kept(kept, 6, "111011", 0);
	assert_int_equal(kept[0], RETENTION_BY_LATEST);
	assert_int_equal(kept[1], RETENTION_BY_TAG);
	assert_int_equal(kept[2], RETENTION_BY_TAGGED);
	assert_int_equal(kept[4], RETENTION_BY_SAFETY);
	/* With no rule at all only the protected rows stay. */
	struct retention_policy none = {0};
	assert_true(retention_policy_empty(&none));
	assert_int_equal(retention_apply(&none, rows, 6, kept), 0);
	expect_kept(kept, 6, "101010", 0);
	expect_kept(kept, 6, "001010", RETENTION_BY_LATEST);
}

static void refuses_bad_input(void **state)
{
	(void)state;
	struct retention_row rows[2] = {{.time_ns = 10 * NS}, {.time_ns = 20 * NS}};
	uint32_t kept[2];
	struct retention_policy p = {.keep[RETENTION_LAST] = 1};
	assert_int_equal(retention_apply(&p, rows, 2, kept), -EINVAL); /* oldest first */
	rows[1].time_ns = 5 * NS;
	p.keep[RETENTION_DAILY] = -1;
	assert_int_equal(retention_apply(&p, rows, 2, kept), -EINVAL);
	p.keep[RETENTION_DAILY] = 0;
	p.within_ns = -1;
	assert_int_equal(retention_apply(&p, rows, 2, kept), -EINVAL);
	p.within_ns = 0;
	assert_int_equal(retention_apply(&p, rows, 0, kept), 0);
	assert_false(retention_policy_empty(&p));
	/* A huge window does not overflow. */
	p.within_ns = INT64_MAX;
	assert_int_equal(retention_apply(&p, rows, 2, kept), 0);
	expect_kept(kept, 2, "11", 0);
}

/* A daily rule over a random history: exactly the newest snapshot of each
 * of the N newest local days is kept, and nothing else. */
static void daily_property(void **state)
{
	(void)state;
	enum { N = 3000 };
	static struct retention_row rows[N];
	static uint32_t kept[N];
	srand(7);
	int64_t t = utc("2026-12-01T00:00:00");
	for (int i = 0; i < N; i++) {
		rows[i] = (struct retention_row){.time_ns = t};
		t -= (int64_t)(rand() % 7200 + 1) * NS; /* about 1,000 h: DST and month ends */
	}
	for (int64_t days = 1; days < 60; days += 7) {
		struct retention_policy p = {.keep[RETENTION_DAILY] = days};
		assert_int_equal(retention_apply(&p, rows, N, kept), 0);
		int64_t seen = 0;
		char prev[16] = "";
		for (int i = 0; i < N; i++) {
			time_t s = (time_t)(rows[i].time_ns / NS);
			struct tm tm;
			char day[16];
			localtime_r(&s, &tm);
			strftime(day, sizeof day, "%Y-%m-%d", &tm);
			bool first_of_day = strcmp(day, prev) != 0;
			snprintf(prev, sizeof prev, "%s", day);
			if (first_of_day)
				seen++;
			bool want = first_of_day && seen <= days;
			assert_int_equal((kept[i] & RETENTION_BY_UNIT(RETENTION_DAILY)) != 0, want);
		}
	}
}

/* The default over a year of hourly snapshots: 24 hours, then days to
 * 30 days, weeks to 26 weeks, then one a month. */
static void default_policy(void **state)
{
	(void)state;
	enum { N = 366 * 24 };
	static struct retention_row rows[N];
	static uint32_t kept[N];
	int64_t newest = utc("2026-11-30T10:15:00");
	for (int i = 0; i < N; i++)
		rows[i] = (struct retention_row){.time_ns = newest - i * HOUR};
	struct retention_policy p;
	retention_policy_default(&p);
	assert_false(retention_policy_empty(&p));
	assert_int_equal(retention_apply(&p, rows, N, kept), 0);
	size_t nkept = 0;
	for (int i = 0; i < N; i++)
		nkept += kept[i] != 0;
	/* 25 hourly (24 h inclusive), ~30 daily, ~22 more weekly, ~6 monthly. */
	assert_true(nkept >= 75 && nkept <= 90);
	for (int i = 0; i <= 24; i++)
		assert_true(kept[i] & RETENTION_BY_WITHIN_UNIT(RETENTION_HOURLY));
	assert_int_equal(kept[25] & RETENTION_BY_WITHIN_UNIT(RETENTION_HOURLY), 0);
	/* Every local month of the year keeps one snapshot. */
	int months = 0, prev = -1;
	for (int i = 0; i < N; i++) {
		time_t s = (time_t)(rows[i].time_ns / NS);
		struct tm tm;
		localtime_r(&s, &tm);
		if (tm.tm_mon != prev && (kept[i] & RETENTION_BY_UNIT(RETENTION_MONTHLY)))
			months++, prev = tm.tm_mon;
	}
	assert_int_equal(months, 13); /* 2025-11 .. 2026-11 */
}

static void reasons_text(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(retention_reasons_text(0, buf, sizeof buf), "");
	assert_string_equal(retention_reasons_text(RETENTION_BY_UNIT(RETENTION_LAST) |
							   RETENTION_BY_WITHIN_UNIT(RETENTION_DAILY) |
							   RETENTION_BY_LATEST,
						   buf, sizeof buf),
			    "last, within-daily, latest");
	char small[8];
	retention_reasons_text(RETENTION_BY_UNIT(RETENTION_MONTHLY) | RETENTION_BY_SAFETY, small,
			       sizeof small);
	assert_int_equal(strlen(small), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(keep_last, setup),
		cmocka_unit_test_setup(keep_hourly, setup),
		cmocka_unit_test_setup(not_enough_periods_keeps_oldest, setup),
		cmocka_unit_test_setup(dst_fall_back_repeated_hour, setup),
		cmocka_unit_test_setup(dst_spring_forward_skipped_hour, setup),
		cmocka_unit_test_setup(month_end_local_time, setup),
		cmocka_unit_test_setup(leap_years, setup),
		cmocka_unit_test_setup(iso_weeks_across_years, setup),
		cmocka_unit_test_setup(within_from_newest, setup),
		cmocka_unit_test_setup(tags_and_protections, setup),
		cmocka_unit_test_setup(refuses_bad_input, setup),
		cmocka_unit_test_setup(daily_property, setup),
		cmocka_unit_test_setup(default_policy, setup),
		cmocka_unit_test(reasons_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
