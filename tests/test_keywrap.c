/* test_keywrap.c — passphrase-wrapped master key: round trip, wrong
 * passphrase, tampering with any byte (cost included), structure checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "store/err.h"
#include "store/keywrap.h"
#include "store/le.h"

#include <xxhash.h>

/* The smallest cost libsodium allows: the tests are about the format. */
static const struct keywrap_params cheap = {1, 8};

static void seal_or_fail(const uint8_t *master, const char *pass, uint8_t *buf)
{
	assert_int_equal(keywrap_seal(master, pass, strlen(pass), &cheap, buf), 0);
}

static void round_trip(void **state)
{
	uint8_t master[KEY_BYTES], got[KEY_BYTES], buf[KEYWRAP_BYTES], buf2[KEYWRAP_BYTES];
	randombytes_buf(master, sizeof master);
	seal_or_fail(master, "correct horse", buf);
	assert_int_equal(keywrap_open("k", buf, sizeof buf, "correct horse", 13, got), 0);
	assert_memory_equal(got, master, KEY_BYTES);
	struct keywrap_params p;
	assert_int_equal(keywrap_parse("k", buf, sizeof buf, &p), 0);
	assert_int_equal(p.opslimit, cheap.opslimit);
	assert_int_equal(p.memlimit_kib, cheap.memlimit_kib);
	/* Fresh salt and nonce each time: the same key and passphrase never
	 * give the same bytes. */
	seal_or_fail(master, "correct horse", buf2);
	assert_memory_not_equal(buf, buf2, KEYWRAP_BYTES);
	/* The master key does not appear in the wrapped form. */
	assert_null(memmem(buf, sizeof buf, master, 8));
}

static void wrong_passphrase(void **state)
{
	uint8_t master[KEY_BYTES] = {1, 2, 3}, got[KEY_BYTES] = {0}, buf[KEYWRAP_BYTES];
	seal_or_fail(master, "right", buf);
	store_error_clear();
	assert_int_equal(keywrap_open("key.wrapped", buf, sizeof buf, "wrong", 5, got), -EACCES);
	assert_string_equal(store_error(), "key.wrapped: wrong passphrase");
	assert_int_equal(keywrap_open("k", buf, sizeof buf, "", 0, got), -EACCES);
	uint8_t zero[KEY_BYTES] = {0};
	assert_memory_equal(got, zero, KEY_BYTES); /* untouched on failure */
}

/* Flip each byte: with the checksum fixed up, a change anywhere (the cost
 * too, it is associated data) fails to open; without, it is corruption. */
static void tamper_every_byte(void **state)
{
	uint8_t master[KEY_BYTES] = {9}, got[KEY_BYTES], buf[KEYWRAP_BYTES], t[KEYWRAP_BYTES];
	seal_or_fail(master, "p", buf);
	for (size_t i = 16; i < KEYWRAP_BYTES - 8; i++) {
		memcpy(t, buf, sizeof t);
		t[i] ^= 0x01;
		assert_int_equal(keywrap_open("k", t, sizeof t, "p", 1, got), -STORE_ECORRUPT);
		le_put64(t + KEYWRAP_BYTES - 8, XXH3_64bits(t, KEYWRAP_BYTES - 8));
		int r = keywrap_open("k", t, sizeof t, "p", 1, got);
		assert_true(r == -EACCES || r == -STORE_ECORRUPT);
	}
}

static void structure_checks(void **state)
{
	uint8_t master[KEY_BYTES] = {0}, buf[KEYWRAP_BYTES], t[KEYWRAP_BYTES];
	seal_or_fail(master, "p", buf);
	assert_int_equal(keywrap_parse("k", buf, 0, NULL), -STORE_ECORRUPT);
	assert_int_equal(keywrap_parse("k", buf, sizeof buf - 1, NULL), -STORE_ECORRUPT);
	memcpy(t, buf, sizeof t);
	le_put32(t + 8, 2); /* a newer version */
	assert_int_equal(keywrap_parse("k", t, sizeof t, NULL), -STORE_ENEWER);
	memcpy(t, buf, sizeof t);
	le_put32(t + 12, 0); /* a plain key file is not a wrapped one */
	assert_int_equal(keywrap_parse("k", t, sizeof t, NULL), -STORE_ECORRUPT);
	/* A cost above the bounds is refused before any hashing. */
	memcpy(t, buf, sizeof t);
	le_put32(t + 20, KEYWRAP_MEM_MAX_KIB + 1);
	le_put64(t + KEYWRAP_BYTES - 8, XXH3_64bits(t, KEYWRAP_BYTES - 8));
	assert_int_equal(keywrap_parse("k", t, sizeof t, NULL), -STORE_ECORRUPT);
	memcpy(t, buf, sizeof t);
	le_put32(t + 16, 0);
	le_put64(t + KEYWRAP_BYTES - 8, XXH3_64bits(t, KEYWRAP_BYTES - 8));
	assert_int_equal(keywrap_parse("k", t, sizeof t, NULL), -STORE_ECORRUPT);
}

static void tune_is_bounded(void **state)
{
	struct keywrap_params p;
	assert_int_equal(keywrap_tune(1, &p), 0);
	assert_true(p.opslimit >= crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert_true(p.opslimit <= KEYWRAP_OPS_MAX);
	assert_int_equal(p.memlimit_kib, KEYWRAP_MEM_KIB);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(wrong_passphrase),
		cmocka_unit_test(tamper_every_byte),
		cmocka_unit_test(structure_checks),
		cmocka_unit_test(tune_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
