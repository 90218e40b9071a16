/* test_output.c — sizes, counts, durations, ages, JSON strings, error lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/output.h"
#include "store/err.h"

#define NS 1000000000LL

static void sizes(void **state)
{
	(void)state;
	static const struct {
		uint64_t v;
		const char *want;
	} c[] = {
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1048575, "1.0 MiB"}, /* 1023.999 KiB rounds up a unit */
		{1048576, "1.0 MiB"},
		{(uint64_t)(38.4 * 1048576), "38.4 MiB"},
		{1288490189ULL, "1.2 GiB"},
		{1099511627776ULL, "1.0 TiB"},
		{UINT64_MAX, "16.0 EiB"},
	};
	char buf[OUT_BUF];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		assert_string_equal(out_size(c[i].v, buf), c[i].want);
}

static void counts(void **state)
{
	(void)state;
	char buf[OUT_BUF];
	assert_string_equal(out_count(0, buf), "0");
	assert_string_equal(out_count(999, buf), "999");
	assert_string_equal(out_count(1000, buf), "1,000");
	assert_string_equal(out_count(12431, buf), "12,431");
	assert_string_equal(out_count(1000000, buf), "1,000,000");
	assert_string_equal(out_count(UINT64_MAX, buf), "18,446,744,073,709,551,615");
}

static void durations(void **state)
{
	(void)state;
	char buf[OUT_BUF];
	assert_string_equal(out_duration(-5, buf), "0.00 s");
	assert_string_equal(out_duration(410000000, buf), "0.41 s");
	assert_string_equal(out_duration(4999999, buf), "0.00 s");
	assert_string_equal(out_duration(5000000, buf), "0.01 s");
	assert_string_equal(out_duration(9994999999LL, buf), "9.99 s");
	assert_string_equal(out_duration(12340000000LL, buf), "12.3 s");
	assert_string_equal(out_duration(125 * NS, buf), "2 min 05 s");
	assert_string_equal(out_duration(3720 * NS, buf), "1 h 02 min");
}

static void ages(void **state)
{
	(void)state;
	char buf[OUT_BUF];
	assert_string_equal(out_age(-30 * NS, buf), "just now");
	assert_string_equal(out_age(9 * NS, buf), "just now");
	assert_string_equal(out_age(42 * NS, buf), "42 s ago");
	assert_string_equal(out_age(180 * NS, buf), "3 min ago");
	assert_string_equal(out_age(5 * 3600 * NS, buf), "5 h ago");
	assert_string_equal(out_age(86400 * NS, buf), "1 day ago");
	assert_string_equal(out_age(2 * 86400 * NS, buf), "2 days ago");
	assert_string_equal(out_age(21 * 86400 * NS, buf), "3 weeks ago");
	assert_string_equal(out_age(120 * 86400 * NS, buf), "4 months ago");
	assert_string_equal(out_age(800 * 86400 * NS, buf), "2 years ago");
	/* Ages round down: 6 days 23 h is still "6 days ago". */
	assert_string_equal(out_age((7 * 86400 - 3600) * NS, buf), "6 days ago");
}

static void time_left(void **state)
{
	(void)state;
	char buf[OUT_BUF];
	assert_string_equal(out_time_left(0, buf), "now");
	assert_string_equal(out_time_left(-5 * NS, buf), "now");
	assert_string_equal(out_time_left(3 * NS, buf), "in seconds");
	assert_string_equal(out_time_left(42 * NS, buf), "in 42 s");
	assert_string_equal(out_time_left(150 * NS, buf), "in 3 min");
	/* A fresh 7-day window, a moment after it began. */
	assert_string_equal(out_time_left((7 * 86400 - 2) * NS, buf), "in 7 days");
	assert_string_equal(out_time_left((6 * 86400 + 3600) * NS, buf), "in 6 days");
	assert_string_equal(out_time_left(86400 * NS, buf), "in 1 day");
	assert_string_equal(out_time_left(21 * 86400 * NS, buf), "in 3 weeks");
	assert_string_equal(out_time_left(800 * 86400 * NS, buf), "in 2 years");
}

static void times(void **state)
{
	(void)state;
	char buf[OUT_BUF];
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	int64_t t = 1771061412LL * NS + 123; /* 2026-02-14 09:30:12 UTC */
	assert_string_equal(out_local_time(t, true, buf), "2026-02-14 10:30:12");
	assert_string_equal(out_local_time(t, false, buf), "2026-02-14 10:30");
	assert_string_equal(out_utc_iso(t, buf), "2026-02-14T09:30:12.000000123Z");
}

/* Run out_json_str into a string. */
static char *json(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	out_json_str(f, s);
	fclose(f);
	return buf;
}

static void json_strings(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} c[] = {
		{"", "\"\""},
		{"plain name.txt", "\"plain name.txt\""},
		{"a\"b\\c", "\"a\\\"b\\\\c\""},
		{"line\nbreak\ttab\r\b\f", "\"line\\nbreak\\ttab\\r\\b\\f\""},
		{"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		/* Bytes that are not UTF-8 survive as lone surrogates. */
		{"bad\xff\xfe", "\"bad\\udcff\\udcfe\""},
		{"\xc3(", "\"\\udcc3(\""},          /* truncated sequence */
		{"\xc0\xaf", "\"\\udcc0\\udcaf\""},  /* overlong '/' */
		{"\xed\xa0\x80", "\"\\udced\\udca0\\udc80\""}, /* encoded surrogate */
		{"\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""}, /* > U+10FFFF */
		{"end\xe2\x82", "\"end\\udce2\\udc82\""},
		{NULL, "null"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char *got = json(c[i].in);
		assert_string_equal(got, c[i].want);
		free(got);
	}
}

static void printable(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} c[] = {
		{"src/main.c", "src/main.c"},
		{"new\nline", "new\\nline"},
		{"tab\there", "tab\\there"},
		{"back\\slash", "back\\\\slash"},
		{"esc\x1b[31m", "esc\\x1b[31m"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"bad\xff", "bad\\xff"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char *got = out_printable(c[i].in);
		assert_string_equal(got, c[i].want);
		free(got);
	}
}

/* Capture what fn writes to stderr. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/ckptfs-test-output.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char *buf = calloc(1, 4096);
	assert_int_equal(pread(fd, buf, 4095, 0) >= 0, 1);
	close(fd);
	return buf;
}

static void say_plain(void *arg)
{
	out_err("snapshot %s: not found", (const char *)arg);
}

static void say_store(void *arg)
{
	*(int *)arg = out_store_err(-EWOULDBLOCK, "repository");
}

static void say_strerror(void *arg)
{
	*(int *)arg = out_store_err(-ENOENT, "repository /x");
}

static void error_lines(void **state)
{
	(void)state;
	char *s = capture_stderr(say_plain, "2026-01-01T00:00");
	assert_string_equal(s, "ckptfs: snapshot 2026-01-01T00:00: not found\n");
	free(s);

	int status = 0;
	store_fail(-EWOULDBLOCK, "repository /r: locked by another ckptfs (pid 7)");
	s = capture_stderr(say_store, &status);
	assert_string_equal(s, "ckptfs: repository /r: locked by another ckptfs (pid 7)\n");
	assert_int_equal(status, EXIT_LOCKED);
	free(s);

	store_error_clear();
	s = capture_stderr(say_strerror, &status);
	assert_string_equal(s, "ckptfs: repository /x: No such file or directory\n");
	assert_int_equal(status, EXIT_ERROR);
	free(s);
}

static void progress_silent_off_tty(void **state)
{
	(void)state;
	struct out_progress p;
	/* Whatever stderr is when the tests run, make it a non-terminal. */
	int saved = dup(2);
	assert_true(saved >= 0);
	int devnull = open("/dev/null", O_WRONLY);
	assert_true(devnull >= 0);
	assert_int_equal(dup2(devnull, 2), 2);
	close(devnull);
	out_progress_init(&p, false);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_false(p.enabled);
	p.start_ns -= 5 * NS; /* long past the first second */
	out_progress_update(&p, "%d files", 3);
	assert_false(p.shown);
	out_progress_init(&p, true);
	assert_false(p.enabled);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),	cmocka_unit_test(counts),
		cmocka_unit_test(durations),	cmocka_unit_test(ages),
		cmocka_unit_test(time_left),
		cmocka_unit_test(times),	cmocka_unit_test(json_strings),
		cmocka_unit_test(printable),	cmocka_unit_test(error_lines),
		cmocka_unit_test(progress_silent_off_tty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
