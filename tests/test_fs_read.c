/* test_fs_read.c — the read path's offset-to-chunk lookup against a file's
 * chunk list: a read range maps to the chunks that hold it, at every
 * boundary, clipped to the file; holes-free lists of uneven chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ops_internal.h"

/* A file of chunks with the given lengths. */
static struct node file_of(const uint32_t *lens, size_t n)
{
	struct node f;
	memset(&f, 0, sizeof(f));
	f.type = NODE_FILE;
	f.chunks = calloc(n ? n : 1, sizeof(*f.chunks));
	f.nchunks = n;
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		f.chunks[i].off = off;
		f.chunks[i].len = lens[i];
		f.chunks[i].id.b[0] = (uint8_t)i;
		off += lens[i];
	}
	f.size = off;
	return f;
}

static void span(const struct node *f, uint64_t off, uint64_t len, long want_first, long want_last)
{
	size_t first = 999, last = 999;
	bool ok = ops_chunk_span(f, off, len, &first, &last);
	if (want_first < 0) {
		assert_false(ok);
		return;
	}
	assert_true(ok);
	assert_int_equal(first, want_first);
	assert_int_equal(last, want_last);
}

static void boundaries(void **state)
{
	(void)state;
	/* chunks: [0,16384) [16384,81920) [81920,81921) [81921,343999) */
	const uint32_t lens[] = { 16384, 65536, 1, 262078 };
	struct node f = file_of(lens, 4);
	assert_int_equal(f.size, 343999);
	span(&f, 0, 1, 0, 0);
	span(&f, 0, 16384, 0, 0);
	span(&f, 0, 16385, 0, 1);
	span(&f, 16383, 2, 0, 1);
	span(&f, 16384, 65536, 1, 1);
	span(&f, 81919, 1, 1, 1);
	span(&f, 81920, 1, 2, 2);
	span(&f, 81920, 2, 2, 3);
	span(&f, 81921, 1, 3, 3);
	span(&f, 1000, 131072, 0, 3);
	/* reads past the end are clipped; at or past it there is nothing */
	span(&f, 343998, 131072, 3, 3);
	span(&f, 343999, 131072, -1, -1);
	span(&f, 1u << 30, 4096, -1, -1);
	span(&f, 0, 0, -1, -1);
	free(f.chunks);
}

static void empty_and_single(void **state)
{
	(void)state;
	struct node e = file_of(NULL, 0);
	span(&e, 0, 4096, -1, -1);
	free(e.chunks);
	const uint32_t one[] = { 5 };
	struct node f = file_of(one, 1);
	span(&f, 0, 4096, 0, 0);
	span(&f, 4, 1, 0, 0);
	span(&f, 5, 1, -1, -1);
	free(f.chunks);
}

/* Every byte of a long list of uneven chunks maps to the chunk that holds
 * it, as a scan says. */
static void every_offset(void **state)
{
	(void)state;
	enum { N = 300 };
	uint32_t lens[N];
	for (int i = 0; i < N; i++)
		lens[i] = (uint32_t)(1 + (i * 7919) % 997);
	struct node f = file_of(lens, N);
	size_t c = 0;
	for (uint64_t off = 0; off < f.size; off++) {
		while (off >= f.chunks[c].off + f.chunks[c].len)
			c++;
		size_t first, last;
		assert_true(ops_chunk_span(&f, off, 1, &first, &last));
		assert_int_equal(first, c);
		assert_int_equal(last, c);
	}
	free(f.chunks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boundaries),
		cmocka_unit_test(empty_and_single),
		cmocka_unit_test(every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
