/* test_blob.c — blob codec: round trips, raw vs zstd, and every kind of
 * damage detected as STORE_ECORRUPT (never returned as data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"

struct fixture {
	struct keys keys;
	struct blob_codec *codec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	for (int i = 0; i < KEY_BYTES; i++) {
		f->keys.id_key[i] = (uint8_t)(i + 1);
		f->keys.seal_key[i] = (uint8_t)(200 - i);
	}
	*state = f;
	return blob_codec_new(&f->keys, BLOB_ZSTD_LEVEL, &f->codec);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	blob_codec_free(f->codec);
	free(f);
	return 0;
}

static void fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed | 1;
	for (size_t i = 0; i < len; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		buf[i] = (uint8_t)(s >> 24);
	}
}

/* Seal buf, open it again, compare; returns the stored size. */
static size_t round_trip(struct fixture *f, uint8_t type, const uint8_t *buf, size_t len)
{
	blob_id id;
	uint8_t *out = malloc(blob_sealed_bound(len)), *plain = NULL;
	size_t slen = 0, plen = 0;
	assert_non_null(out);
	keys_blob_id(&f->keys, buf, len, &id);
	assert_int_equal(blob_seal(f->codec, &id, type, buf, len, out, &slen), 0);
	assert_true(slen <= blob_sealed_bound(len));
	assert_int_equal(blob_open(f->codec, &id, type, out, slen, len, &plain, &plen), 0);
	assert_int_equal(plen, len);
	assert_non_null(plain);
	if (len)
		assert_memory_equal(plain, buf, len);
	free(plain);
	/* Unknown raw length works too. */
	assert_int_equal(blob_open(f->codec, &id, type, out, slen, 0, &plain, &plen), 0);
	assert_int_equal(plen, len);
	free(plain);
	free(out);
	return slen;
}

static void random_data_stored_raw(void **state)
{
	struct fixture *f = *state;
	size_t len = 100000;
	uint8_t *buf = malloc(len);
	fill_random(buf, len, 5);
	assert_int_equal(round_trip(f, BLOB_DATA, buf, len), len + BLOB_OVERHEAD);
	free(buf);
}

static void compressible_data_shrinks(void **state)
{
	struct fixture *f = *state;
	size_t len = 200000;
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)("ckptfs snapshot "[i % 16] + (i / 4096) % 3);
	assert_true(round_trip(f, BLOB_TREE, buf, len) < len / 10);
	free(buf);
}

/* The bulk level of big files (BLOB_ZSTD_LEVEL_BULK) and any other level
 * open with the same codec: the level is only a choice of the writer. */
static void any_level_opens(void **state)
{
	struct fixture *f = *state;
	size_t len = 200000;
	uint8_t *buf = malloc(len), *out = malloc(blob_sealed_bound(len)), *plain = NULL;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)("2026-12-03 GET /api/v1/items "[i % 29] + (i / 977) % 5);
	blob_id id;
	keys_blob_id(&f->keys, buf, len, &id);
	const int levels[] = { BLOB_ZSTD_LEVEL_BULK, BLOB_ZSTD_LEVEL, -5, 19 };
	for (size_t k = 0; k < sizeof levels / sizeof *levels; k++) {
		size_t slen = 0, plen = 0;
		assert_int_equal(blob_seal_level(f->codec, levels[k], &id, BLOB_DATA, buf, len, out,
						 &slen),
				 0);
		assert_true(slen < len / 4);
		assert_int_equal(blob_open(f->codec, &id, BLOB_DATA, out, slen, len, &plain, &plen), 0);
		assert_int_equal(plen, len);
		assert_memory_equal(plain, buf, len);
		free(plain);
	}
	free(out);
	free(buf);
}

static void empty_and_tiny_blobs(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(round_trip(f, BLOB_DATA, (const uint8_t *)"", 0), BLOB_OVERHEAD);
	assert_int_equal(round_trip(f, BLOB_DATA, (const uint8_t *)"x", 1), BLOB_OVERHEAD + 1);
}

static void pack_index_has_no_id(void **state)
{
	struct fixture *f = *state;
	blob_id zero = {{0}};
	uint8_t out[BLOB_OVERHEAD + 64], *plain;
	size_t slen, plen;
	assert_int_equal(blob_seal(f->codec, &zero, BLOB_PACK_INDEX, "index bytes", 11, out, &slen),
			 0);
	assert_int_equal(blob_open(f->codec, &zero, BLOB_PACK_INDEX, out, slen, 11, &plain, &plen),
			 0);
	assert_memory_equal(plain, "index bytes", 11);
	free(plain);
}

/* Open with flags must fail with STORE_ECORRUPT and leave the outputs
 * alone. */
static void assert_corrupt_flags(struct fixture *f, const blob_id *id, uint8_t type,
				 const uint8_t *stored, size_t slen, size_t expect, unsigned flags)
{
	uint8_t *plain = (uint8_t *)0x1;
	size_t plen = 12345;
	store_error_clear();
	assert_int_equal(blob_open_flags(f->codec, id, type, stored, slen, expect, flags, &plain,
					 &plen),
			 -STORE_ECORRUPT);
	assert_ptr_equal(plain, (uint8_t *)0x1);
	assert_int_equal(plen, 12345);
	assert_non_null(store_error());
	assert_non_null(strstr(store_error(), "blob "));
}

/* Damage must be caught by the authentication alone: with and without
 * the re-hash of the plaintext (the read path of mount and restore skips
 * it, see blob.h). */
static void assert_corrupt(struct fixture *f, const blob_id *id, uint8_t type,
			   const uint8_t *stored, size_t slen, size_t expect)
{
	assert_corrupt_flags(f, id, type, stored, slen, expect, BLOB_OPEN_NO_REHASH);
	assert_corrupt_flags(f, id, type, stored, slen, expect, 0);
}

static void every_bit_flip_detected(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "a small blob, a small blob, a small blob, compressible";
	size_t len = sizeof text - 1;
	blob_id id;
	uint8_t out[BLOB_OVERHEAD + sizeof text];
	size_t slen;
	keys_blob_id(&f->keys, text, len, &id);
	assert_int_equal(blob_seal(f->codec, &id, BLOB_DATA, text, len, out, &slen), 0);
	assert_true(slen < len + BLOB_OVERHEAD); /* compressed: the zstd path is covered */
	for (size_t bit = 0; bit < 8 * slen; bit++) {
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_corrupt(f, &id, BLOB_DATA, out, slen, len);
		assert_corrupt(f, &id, BLOB_DATA, out, slen, 0);
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	uint8_t *plain;
	size_t plen;
	assert_int_equal(blob_open(f->codec, &id, BLOB_DATA, out, slen, len, &plain, &plen), 0);
	free(plain);
}

static void wrong_id_type_key_or_size(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[3000], out[BLOB_OVERHEAD + 3000];
	size_t slen;
	blob_id id, other;
	fill_random(buf, sizeof buf, 9);
	keys_blob_id(&f->keys, buf, sizeof buf, &id);
	assert_int_equal(blob_seal(f->codec, &id, BLOB_DATA, buf, sizeof buf, out, &slen), 0);

	other = id;
	other.b[31] ^= 1;
	assert_corrupt(f, &other, BLOB_DATA, out, slen, 0);
	assert_corrupt(f, &id, BLOB_TREE, out, slen, 0);
	assert_corrupt(f, &id, BLOB_DATA, out, slen, sizeof buf - 1);
	assert_corrupt(f, &id, BLOB_DATA, out, slen, sizeof buf + 1);
	for (size_t n = 0; n < slen; n += (n < 64 ? 1 : 97))
		assert_corrupt(f, &id, BLOB_DATA, out, n, 0);

	struct keys k2 = f->keys;
	k2.seal_key[0] ^= 1;
	struct blob_codec *c2;
	assert_int_equal(blob_codec_new(&k2, 1, &c2), 0);
	struct fixture f2 = {k2, c2};
	assert_corrupt(&f2, &id, BLOB_DATA, out, slen, 0);
	blob_codec_free(c2);
}

/* A blob sealed under an id that is not its content hash authenticates
 * (only a key holder can do that: a writer bug), but blob_open must still
 * refuse it: the id check is what check --read-data relies on.  With
 * BLOB_OPEN_NO_REHASH it opens: the read path trusts its own writer. */
static void id_mismatch_detected(void **state)
{
	struct fixture *f = *state;
	blob_id id;
	uint8_t out[BLOB_OVERHEAD + 16];
	size_t slen;
	keys_blob_id(&f->keys, "right", 5, &id);
	assert_int_equal(blob_seal(f->codec, &id, BLOB_DATA, "wrong", 5, out, &slen), 0);
	assert_corrupt_flags(f, &id, BLOB_DATA, out, slen, 5, 0);
	assert_non_null(strstr(store_error(), "does not match its id"));
	uint8_t *plain;
	size_t plen;
	assert_int_equal(blob_open_flags(f->codec, &id, BLOB_DATA, out, slen, 5,
					 BLOB_OPEN_NO_REHASH, &plain, &plen),
			 0);
	assert_int_equal(plen, 5);
	assert_memory_equal(plain, "wrong", 5);
	free(plain);
}

static void oversized_seal_refused(void **state)
{
	struct fixture *f = *state;
	blob_id id = {{1}};
	uint8_t byte = 0, out[BLOB_OVERHEAD];
	size_t slen = 7;
	/* The size is checked before the buffer is touched. */
	assert_int_equal(blob_seal(f->codec, &id, BLOB_DATA, &byte, BLOB_MAX_RAW + 1u, out, &slen),
			 -EFBIG);
	assert_int_equal(slen, 7);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(random_data_stored_raw),   T(compressible_data_shrinks), T(empty_and_tiny_blobs),
		T(pack_index_has_no_id),     T(every_bit_flip_detected),   T(wrong_id_type_key_or_size),
		T(id_mismatch_detected),     T(oversized_seal_refused),    T(any_level_opens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
