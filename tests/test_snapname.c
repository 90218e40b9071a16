/* test_snapname.c — snapshot names: minute, then second, then ".N", in the
 * local time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/snapname.h"

#define NS 1000000000LL

/* 2026-02-14T10:30:07.250 UTC */
static const int64_t T0 = 1771065007LL * NS + 250000000;

struct names {
	const char *taken[8];
	int calls;
	int fail_at; /* return -EIO on this call (1-based), 0 = never */
};

static int taken_in(void *ctx, const char *name)
{
	struct names *n = ctx;
	n->calls++;
	if (n->fail_at && n->calls == n->fail_at)
		return -EIO;
	for (int i = 0; i < 8 && n->taken[i]; i++)
		if (strcmp(n->taken[i], name) == 0)
			return 1;
	return 0;
}

static int set_tz(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void minute_first(void **state)
{
	(void)state;
	struct names n = {0};
	char out[SNAPNAME_MAX_LEN + 1];
	assert_int_equal(snapname_make(T0, taken_in, &n, out), 0);
	assert_string_equal(out, "2026-02-14T10:30");
	assert_int_equal(n.calls, 1);
}

static void seconds_then_counter(void **state)
{
	(void)state;
	char out[SNAPNAME_MAX_LEN + 1];
	struct names n = {.taken = {"2026-02-14T10:30"}};
	assert_int_equal(snapname_make(T0, taken_in, &n, out), 0);
	assert_string_equal(out, "2026-02-14T10:30:07");

	struct names m = {.taken = {"2026-02-14T10:30", "2026-02-14T10:30:07"}};
	assert_int_equal(snapname_make(T0, taken_in, &m, out), 0);
	assert_string_equal(out, "2026-02-14T10:30:07.2");

	struct names k = {.taken = {"2026-02-14T10:30", "2026-02-14T10:30:07",
				    "2026-02-14T10:30:07.2", "2026-02-14T10:30:07.3"}};
	assert_int_equal(snapname_make(T0, taken_in, &k, out), 0);
	assert_string_equal(out, "2026-02-14T10:30:07.4");
	assert_int_equal(k.calls, 5);
}

static void seconds_pad_and_edges(void **state)
{
	(void)state;
	char out[SNAPNAME_MAX_LEN + 1];
	/* 2026-01-01T00:00:00 exactly, and one ns before it. */
	int64_t ny = 1767225600LL * NS;
	struct names n = {.taken = {"2026-01-01T00:00"}};
	assert_int_equal(snapname_make(ny, taken_in, &n, out), 0);
	assert_string_equal(out, "2026-01-01T00:00:00");
	struct names m = {0};
	assert_int_equal(snapname_make(ny - 1, taken_in, &m, out), 0);
	assert_string_equal(out, "2025-12-31T23:59");
	/* Before 1970: floor, not truncation, picks the second. */
	struct names p = {.taken = {"1969-12-31T23:59"}};
	assert_int_equal(snapname_make(-1, taken_in, &p, out), 0);
	assert_string_equal(out, "1969-12-31T23:59:59");
}

static void honours_time_zone(void **state)
{
	(void)state;
	char out[SNAPNAME_MAX_LEN + 1];
	struct names n = {0};
	/* UTC+5:30 without DST; POSIX TZ offsets are west-positive. */
	setenv("TZ", "IST-5:30", 1);
	tzset();
	assert_int_equal(snapname_make(T0, taken_in, &n, out), 0);
	assert_string_equal(out, "2026-02-14T16:00");
	setenv("TZ", "EST5", 1);
	tzset();
	assert_int_equal(snapname_make(T0, taken_in, &n, out), 0);
	assert_string_equal(out, "2026-02-14T05:30");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void callback_error_is_returned(void **state)
{
	(void)state;
	char out[SNAPNAME_MAX_LEN + 1] = "unchanged";
	struct names n = {.taken = {"2026-02-14T10:30"}, .fail_at = 2};
	assert_int_equal(snapname_make(T0, taken_in, &n, out), -EIO);
	assert_string_equal(out, "unchanged");
}

static int always_taken(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return 1;
}

static void gives_up_eventually(void **state)
{
	(void)state;
	char out[SNAPNAME_MAX_LEN + 1];
	store_error_clear();
	assert_int_equal(snapname_make(T0, always_taken, NULL, out), -EEXIST);
	assert_non_null(store_error());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(minute_first, set_tz),
		cmocka_unit_test_setup(seconds_then_counter, set_tz),
		cmocka_unit_test_setup(seconds_pad_and_edges, set_tz),
		cmocka_unit_test_setup(honours_time_zone, set_tz),
		cmocka_unit_test_setup(callback_error_is_returned, set_tz),
		cmocka_unit_test_setup(gives_up_eventually, set_tz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
