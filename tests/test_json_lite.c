/* test_json_lite.c — the JSON reader and string writer (store/json_lite.h):
 * values and escapes, what it refuses, and names that are bytes surviving
 * a write/parse round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/json_lite.h"

static void test_parse_and_round_trip(void **state)
{
	(void)state;
	struct jv v;
	assert_int_equal(jv_parse("{\"a\": [1, -2.5e1, true, false, null], \"s\": \"x\\\"\\\\\\n\\u00e9\\ud83d\\ude00\"}", &v), 0);
	const struct jv *a = jv_get(&v, "a");
	assert_int_equal(a->n, 5);
	assert_true(a->items[1].num == -25);
	assert_string_equal(jv_str(&v, "s"), "x\"\\\n\xc3\xa9\xf0\x9f\x98\x80");
	jv_clear(&v);
	const char *bad[] = {"", "{", "{\"a\" 1}", "[1,]x", "\"\\ud800\"", "\"\\q\"", "[1] [2]", "tru",
			     "\"a\nb\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(jv_parse(bad[i], &v), -EINVAL);
	/* Names are bytes: what jv_write_str writes, jv_parse gives back. */
	static const char *const names[] = {"plain", "bad\xff\xfename", "\xc3(", "\xed\xa0\x80",
					    "caf\xc3\xa9 \"q\" \\ \n\x01\x7f", "end\xe2\x82"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		assert_non_null(m);
		fputs("{\"k\": ", m);
		jv_write_str(m, names[i]);
		fputs("}", m);
		assert_int_equal(fclose(m), 0);
		assert_int_equal(jv_parse(text, &v), 0);
		assert_string_equal(jv_str(&v, "k"), names[i]);
		jv_clear(&v);
		free(text);
	}
	/* Only the escaped bytes 0x80-0xff: other lone surrogates stay bad. */
	assert_int_equal(jv_parse("\"\\udc41\"", &v), -EINVAL);
	assert_int_equal(jv_parse("\"\\udd00\"", &v), -EINVAL);
}

static void test_printable(void **state)
{
	(void)state;
	char *p = jv_printable("caf\xc3\xa9\n\t\\\x01\xff");
	assert_non_null(p);
	assert_string_equal(p, "caf\xc3\xa9\\n\\t\\\\\\x01\\xff");
	free(p);
	assert_int_equal(jv_utf8_len((const unsigned char *)"\xc0\x80"), 0); /* overlong */
	assert_int_equal(jv_utf8_len((const unsigned char *)"\xed\xa0\x80"), 0); /* surrogate */
	assert_int_equal(jv_utf8_len((const unsigned char *)"\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	assert_int_equal(jv_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_round_trip),
		cmocka_unit_test(test_printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
