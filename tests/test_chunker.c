/* test_chunker.c — FastCDC cut points: golden values, bounds, stability
 * under insertion, degenerate input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "store/chunker.h"

#define MiB (1024u * 1024)

/* Deterministic pseudo-random bytes (splitmix64), independent of libc. */
static void fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		size_t n = len - i < 8 ? len - i : 8;
		memcpy(buf + i, &z, n);
	}
}

/* Chunk buf the way a file reader does: offer min(remaining, MAX) bytes.
 * Returns the number of chunks; lens[] gets their lengths. */
static size_t chunk_all(const uint8_t *buf, size_t len, size_t *lens, size_t max_chunks)
{
	size_t n = 0, off = 0;
	while (off < len) {
		size_t rem = len - off;
		size_t c = chunker_cut(buf + off, rem < CHUNKER_MAX ? rem : CHUNKER_MAX);
		assert_true(c > 0 && c <= rem);
		assert_true(n < max_chunks);
		lens[n++] = c;
		off += c;
	}
	return n;
}

struct bufs {
	uint8_t *a, *b;
	size_t *lens_a, *lens_b;
};

static int setup(void **state)
{
	struct bufs *s = calloc(1, sizeof *s);
	s->a = malloc(11 * MiB);
	s->b = malloc(11 * MiB);
	s->lens_a = malloc(4096 * sizeof(size_t));
	s->lens_b = malloc(4096 * sizeof(size_t));
	*state = s;
	return s->a && s->b && s->lens_a && s->lens_b ? 0 : -1;
}

static int teardown(void **state)
{
	struct bufs *s = *state;
	free(s->a);
	free(s->b);
	free(s->lens_a);
	free(s->lens_b);
	free(s);
	return 0;
}

/* Recorded once from this implementation; a change here means every
 * existing repository stops deduplicating against new snapshots. */
static const size_t golden[] = { /* chunk end offsets, seed 42 */
	68696, 191271, 288556, 317622, 384215, 451187, 536158, 604412,
	631350, 701082, 769536, 843847, 909481, 997250, 1067982, 1161033,
	1205625, 1285561, 1370562, 1447012, 1523699, 1581803, 1669653, 1751741,
	1811787, 1881394, 1960191, 2026374, 2102573, 2206904, 2277635, 2353282,
	2423335, 2499079, 2573577, 2644507, 2745741, 2817057, 2894542, 2947748,
	3023897, 3091507, 3161508, 3240326, 3329966, 3406565, 3434204, 3518420,
	3601767, 3670451, 3752980, 3863244, 3935989, 4027339, 4116168, 4173918,
	4194304,
};

static void golden_cut_points(void **state)
{
	struct bufs *s = *state;
	fill_random(s->a, 4 * MiB, 42);
	size_t n = chunk_all(s->a, 4 * MiB, s->lens_a, 4096);
	if (getenv("CHUNKER_PRINT_GOLDEN")) {
		for (size_t i = 0, off = 0; i < n; i++)
			printf("%zu,%s", off += s->lens_a[i], i % 8 == 7 ? "\n" : " ");
		printf("\n");
	}
	assert_int_equal(n, sizeof golden / sizeof golden[0]);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		off += s->lens_a[i];
		assert_int_equal(off, golden[i]);
	}
}

static void chunks_within_bounds(void **state)
{
	struct bufs *s = *state;
	fill_random(s->a, 10 * MiB, 7);
	size_t n = chunk_all(s->a, 10 * MiB, s->lens_a, 4096);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			assert_true(s->lens_a[i] >= CHUNKER_MIN);
		assert_true(s->lens_a[i] <= CHUNKER_MAX);
		total += s->lens_a[i];
	}
	assert_int_equal(total, 10 * MiB);
	/* The average of random data lands near the 64 KiB target. */
	size_t avg = total / n;
	assert_true(avg >= 48 * 1024 && avg <= 96 * 1024);
}

static void short_inputs(void **state)
{
	(void)state;
	static uint8_t buf[CHUNKER_MIN + 100];
	fill_random(buf, sizeof buf, 3);
	assert_int_equal(chunker_cut(buf, 0), 0);
	assert_int_equal(chunker_cut(buf, 1), 1);
	assert_int_equal(chunker_cut(buf, CHUNKER_MIN), CHUNKER_MIN);
	size_t c = chunker_cut(buf, sizeof buf);
	assert_true(c >= CHUNKER_MIN && c <= sizeof buf);
}

static int contains(const uint64_t *set, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == h)
			return 1;
	return 0;
}

static void insertion_changes_few_chunks(void **state)
{
	struct bufs *s = *state;
	const size_t len = 10 * MiB, at = 5000, ins = 7;
	fill_random(s->a, len, 99);
	memcpy(s->b, s->a, at);
	memcpy(s->b + at, "INSERT!", ins);
	memcpy(s->b + at + ins, s->a + at, len - at);

	size_t na = chunk_all(s->a, len, s->lens_a, 4096);
	size_t nb = chunk_all(s->b, len + ins, s->lens_b, 4096);
	uint64_t *ha = malloc(na * sizeof *ha);
	assert_non_null(ha);
	for (size_t i = 0, off = 0; i < na; off += s->lens_a[i++])
		ha[i] = XXH3_64bits(s->a + off, s->lens_a[i]) ^ s->lens_a[i];
	size_t changed = 0;
	for (size_t i = 0, off = 0; i < nb; off += s->lens_b[i++])
		changed += !contains(ha, na, XXH3_64bits(s->b + off, s->lens_b[i]) ^ s->lens_b[i]);
	free(ha);
	assert_true(changed >= 1);
	assert_true(changed <= 3);
}

static void zeros_give_max_chunks(void **state)
{
	struct bufs *s = *state;
	memset(s->a, 0, 4 * MiB + 1000);
	size_t n = chunk_all(s->a, 4 * MiB + 1000, s->lens_a, 4096);
	assert_int_equal(n, 4 * MiB / CHUNKER_MAX + 1);
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(s->lens_a[i], CHUNKER_MAX);
	assert_int_equal(s->lens_a[n - 1], 1000);
}

static void sqlite_unit_from_header(void **state)
{
	(void)state;
	uint8_t h[100] = "SQLite format 3";
	for (uint32_t page = 512; page <= 65536; page *= 2) {
		h[16] = page == 65536 ? 0 : (uint8_t)(page >> 8);
		h[17] = page == 65536 ? 1 : (uint8_t)page;
		size_t want = page < CHUNKER_SQLITE_MIN ? CHUNKER_SQLITE_MIN : page;
		assert_int_equal(chunker_sqlite_unit(h, sizeof h), want);
		assert_int_equal(chunker_sqlite_unit(h, 99), 0); /* too short to tell */
	}
	/* Not a power of two, too small, too large (a 16-bit value cannot say
	 * 131072: 1 means 65536), and not the magic. */
	const uint16_t bad[] = { 0, 2, 256, 1000, 4097, 49152, 65535 };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		h[16] = (uint8_t)(bad[i] >> 8);
		h[17] = (uint8_t)bad[i];
		assert_int_equal(chunker_sqlite_unit(h, sizeof h), 0);
	}
	h[16] = 0x10;
	h[17] = 0;
	assert_int_equal(chunker_sqlite_unit(h, sizeof h), 4096);
	h[14] = '4'; /* "SQLite format 4" */
	assert_int_equal(chunker_sqlite_unit(h, sizeof h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(golden_cut_points, setup, teardown),
		cmocka_unit_test_setup_teardown(chunks_within_bounds, setup, teardown),
		cmocka_unit_test(short_inputs),
		cmocka_unit_test(sqlite_unit_from_header),
		cmocka_unit_test_setup_teardown(insertion_changes_few_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(zeros_give_max_chunks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
