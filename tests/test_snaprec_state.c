/* test_snaprec_state.c — state records (snaprec.h): the golden bytes, a
 * round trip, every truncation and every flipped byte that breaks a rule
 * refused, the newest-wins order, and snaprec_key for both kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/snaprec.h"

#define CHECK(x) assert_int_equal((x), 0)

static struct snaprec_state_rec sample(void)
{
	struct snaprec_state_rec r = { .time_ns = 1771065000000000000, .name = "2026-02-14T10:30",
				       .state = SNAPREC_TRASHED, .trashed_at_ns = 1771100000000000000,
				       .expires_at_ns = 1771704800000000000,
				       .changed_ns = 1771100000123456789 };
	for (int i = 0; i < ID_BYTES; i++)
		r.root.b[i] = (uint8_t)(i + 1);
	return r;
}

/* The format in snaprec.h, byte for byte. */
static void golden_bytes(void **state)
{
	(void)state;
	struct snaprec_state_rec r = sample();
	uint8_t *buf;
	size_t len;
	CHECK(snaprec_state_encode(&r, &buf, &len));
	assert_int_equal(len, 8 + 4 + 8 + 32 + 4 + 16 + 1 + 8 + 8 + 8);
	assert_memory_equal(buf, "CKPTSSTA\x01\x00\x00\x00", 12);
	assert_memory_equal(buf + 12, "\x00\x90\x20\xe7\x3b\x16\x94\x18", 8); /* time, LE */
	assert_int_equal(buf[20], 1);
	assert_int_equal(buf[51], 32);
	assert_memory_equal(buf + 52, "\x10\x00\x00\x00" "2026-02-14T10:30", 20);
	assert_int_equal(buf[72], SNAPREC_TRASHED);
	free(buf);
}

static void round_trip_and_damage(void **state)
{
	(void)state;
	struct snaprec_state_rec r = sample();
	uint8_t *buf;
	size_t len;
	CHECK(snaprec_state_encode(&r, &buf, &len));
	struct snaprec_state_rec d;
	CHECK(snaprec_state_decode(buf, len, &d));
	assert_int_equal(d.time_ns, r.time_ns);
	assert_memory_equal(d.root.b, r.root.b, ID_BYTES);
	assert_string_equal(d.name, r.name);
	assert_int_equal(d.state, SNAPREC_TRASHED);
	assert_int_equal(d.trashed_at_ns, r.trashed_at_ns);
	assert_int_equal(d.expires_at_ns, r.expires_at_ns);
	assert_int_equal(d.changed_ns, r.changed_ns);
	snaprec_state_clear(&d);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(snaprec_state_decode(buf, cut, &d), -STORE_ECORRUPT);
	uint8_t *more = malloc(len + 1);
	memcpy(more, buf, len);
	more[len] = 0;
	assert_int_equal(snaprec_state_decode(more, len + 1, &d), -STORE_ECORRUPT);
	free(more);
	/* Bytes whose every change breaks a rule: magic, version, the name's
	 * length, the state, the high byte of each time (negative). */
	static const size_t must[] = { 0, 7, 8, 48 + 4, 72, 80, 88, 96 };
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
		size_t at = must[i] < len ? must[i] : len - 1;
		buf[at] ^= 0x80;
		int e = snaprec_state_decode(buf, len, &d);
		if (e == 0)
			fail_msg("byte %zu flipped: still decodes", at);
		assert_true(e == -STORE_ECORRUPT || e == -STORE_ENEWER);
		buf[at] ^= 0x80;
	}
	/* Every single flip either fails or decodes to a valid record. */
	for (size_t at = 0; at < len; at++)
		for (int bit = 0; bit < 8; bit++) {
			buf[at] ^= (uint8_t)(1u << bit);
			if (snaprec_state_decode(buf, len, &d) == 0) {
				assert_true(d.state <= SNAPREC_EMPTIED);
				assert_true(d.name != NULL);
				snaprec_state_clear(&d);
			}
			buf[at] ^= (uint8_t)(1u << bit);
		}
	store_error_clear();
	free(buf);
}

static void rules(void **state)
{
	(void)state;
	uint8_t *buf;
	size_t len;
	struct snaprec_state_rec d;
	struct snaprec_state_rec r = sample();
	r.state = SNAPREC_LIVE; /* a live one has no window */
	CHECK(snaprec_state_encode(&r, &buf, &len));
	assert_int_equal(snaprec_state_decode(buf, len, &d), -STORE_ECORRUPT);
	free(buf);
	r.trashed_at_ns = r.expires_at_ns = 0;
	CHECK(snaprec_state_encode(&r, &buf, &len));
	CHECK(snaprec_state_decode(buf, len, &d));
	snaprec_state_clear(&d);
	free(buf);
	r = sample();
	r.expires_at_ns = r.trashed_at_ns - 1; /* a window that ends before it starts */
	CHECK(snaprec_state_encode(&r, &buf, &len));
	assert_int_equal(snaprec_state_decode(buf, len, &d), -STORE_ECORRUPT);
	free(buf);
	r = sample();
	r.name = "not a name";
	CHECK(snaprec_state_encode(&r, &buf, &len));
	assert_int_equal(snaprec_state_decode(buf, len, &d), -STORE_ECORRUPT);
	free(buf);
	r = sample();
	memset(r.root.b, 0, ID_BYTES);
	CHECK(snaprec_state_encode(&r, &buf, &len));
	assert_int_equal(snaprec_state_decode(buf, len, &d), -STORE_ECORRUPT);
	free(buf);
	r = sample();
	CHECK(snaprec_state_encode(&r, &buf, &len));
	buf[8] = 2; /* a later version */
	assert_int_equal(snaprec_state_decode(buf, len, &d), -STORE_ENEWER);
	free(buf);
	store_error_clear();
}

static void newest_wins(void **state)
{
	(void)state;
	struct snaprec_state_rec a = sample(), b = sample();
	b.changed_ns = a.changed_ns + 1;
	b.state = SNAPREC_LIVE;
	assert_true(snaprec_state_newer(&b, &a));
	assert_false(snaprec_state_newer(&a, &b));
	b.changed_ns = a.changed_ns; /* a tie: the later state */
	assert_false(snaprec_state_newer(&b, &a));
	assert_true(snaprec_state_newer(&a, &b));
	b.state = SNAPREC_EMPTIED;
	assert_true(snaprec_state_newer(&b, &a));
	assert_false(snaprec_state_newer(&a, &a));
}

static void key_of_both_kinds(void **state)
{
	(void)state;
	struct snaprec_state_rec s = sample();
	struct snaprec r = { .project = "p", .project_root = "/x/p", .time_ns = s.time_ns,
			     .status = SNAP_COMPLETE, .root = s.root, .name = s.name };
	uint8_t *a, *b;
	size_t alen, blen;
	CHECK(snaprec_state_encode(&s, &a, &alen));
	CHECK(snaprec_encode(&r, &b, &blen));
	assert_int_equal(snaprec_kind(a, alen), 2);
	assert_int_equal(snaprec_kind(b, blen), 1);
	assert_int_equal(snaprec_kind(a, 7), 0);
	int64_t t1, t2;
	blob_id r1, r2;
	CHECK(snaprec_key(a, alen, &t1, &r1));
	CHECK(snaprec_key(b, blen, &t2, &r2));
	assert_int_equal(t1, t2);
	assert_memory_equal(r1.b, r2.b, ID_BYTES);
	assert_int_equal(snaprec_key(a, alen - 1, &t1, &r1), -STORE_ECORRUPT);
	/* A snapshot record is not read as a state record, nor the reverse. */
	struct snaprec_state_rec d;
	struct snaprec dr;
	assert_int_equal(snaprec_state_decode(b, blen, &d), -STORE_ECORRUPT);
	assert_int_equal(snaprec_decode(a, alen, &dr), -STORE_ECORRUPT);
	store_error_clear();
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_bytes),
		cmocka_unit_test(round_trip_and_damage),
		cmocka_unit_test(rules),
		cmocka_unit_test(newest_wins),
		cmocka_unit_test(key_of_both_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
