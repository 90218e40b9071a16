/* test_cache.c — chunk cache: LRU order, byte limit, references across
 * eviction, shrinking, and concurrent use (meant to run under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/cache.h"

static blob_id make_id(unsigned n)
{
	blob_id id;
	/* Spread n over the first bytes like a real (random) id would be. */
	uint64_t h = n * 0x9e3779b97f4a7c15ull;
	memset(&id, 0, sizeof id);
	memcpy(id.b, &h, sizeof h);
	memcpy(id.b + 8, &n, sizeof n);
	return id;
}

/* A chunk whose every byte is derived from n, so readers can verify it. */
static uint8_t *make_data(unsigned n, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	memset(p, (int)(n & 0xff), len);
	return p;
}

static struct cached_chunk *put(struct chunk_cache *c, unsigned n, size_t len)
{
	blob_id id = make_id(n);
	struct cached_chunk *e = chunk_cache_put(c, &id, make_data(n, len), len);
	assert_non_null(e);
	assert_true(id_equal(&e->id, &id));
	return e;
}

static int present(struct chunk_cache *c, unsigned n)
{
	blob_id id = make_id(n);
	struct cached_chunk *e = chunk_cache_get(c, &id);
	if (!e)
		return 0;
	assert_int_equal(e->data[0], n & 0xff);
	chunk_cache_release(c, e);
	return 1;
}

static int setup(void **state)
{
	struct chunk_cache *c;
	int r = chunk_cache_new(300, &c);
	*state = c;
	return r;
}

static int teardown(void **state)
{
	chunk_cache_free(*state);
	return 0;
}

static void eviction_order(void **state)
{
	struct chunk_cache *c = *state;
	for (unsigned n = 1; n <= 3; n++)
		chunk_cache_release(c, put(c, n, 100));
	assert_int_equal(chunk_cache_bytes(c), 300);
	assert_true(present(c, 1)); /* 1 is now the most recent; 2 the oldest */
	chunk_cache_release(c, put(c, 4, 100));
	assert_false(present(c, 2));
	assert_true(present(c, 1));
	assert_true(present(c, 3));
	assert_true(present(c, 4));
	/* Order now (recent first): 4 3 1 — a 200-byte chunk pushes out 1, 3. */
	chunk_cache_release(c, put(c, 5, 200));
	assert_false(present(c, 1));
	assert_false(present(c, 3));
	assert_true(present(c, 4));
	assert_true(present(c, 5));
	assert_int_equal(chunk_cache_bytes(c), 300);
}

static void byte_limit_respected(void **state)
{
	struct chunk_cache *c = *state;
	uint64_t s = 77;
	for (unsigned n = 0; n < 2000; n++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		size_t len = (size_t)(s >> 33) % 180;
		chunk_cache_release(c, put(c, n, len));
		assert_true(chunk_cache_bytes(c) <= 300);
	}
	/* Larger than the whole cache: handed out, never kept. */
	struct cached_chunk *e = put(c, 99999, 1000);
	assert_true(chunk_cache_bytes(c) <= 300);
	assert_false(present(c, 99999));
	assert_int_equal(e->data[999], 99999 & 0xff);
	chunk_cache_release(c, e);
}

static void refs_survive_eviction(void **state)
{
	struct chunk_cache *c = *state;
	struct cached_chunk *held = put(c, 1, 100);
	struct cached_chunk *again = chunk_cache_get(c, &held->id);
	assert_ptr_equal(again, held);
	for (unsigned n = 2; n <= 6; n++)
		chunk_cache_release(c, put(c, n, 100));
	assert_false(present(c, 1));
	/* Evicted, yet both references still see the data (ASan would flag a
	 * use after free). */
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(held->data[i], 1);
	chunk_cache_release(c, held);
	assert_int_equal(again->data[50], 1);
	chunk_cache_release(c, again); /* freed here; the leak checker verifies */
	chunk_cache_release(c, NULL);
}

static void duplicate_put_shares_entry(void **state)
{
	struct chunk_cache *c = *state;
	struct cached_chunk *a = put(c, 7, 50);
	struct cached_chunk *b = put(c, 7, 50); /* its data is freed by the cache */
	assert_ptr_equal(a, b);
	assert_int_equal(chunk_cache_bytes(c), 50);
	chunk_cache_release(c, a);
	chunk_cache_release(c, b);
	assert_true(present(c, 7));
}

static void set_limit_shrinks(void **state)
{
	struct chunk_cache *c = *state;
	chunk_cache_set_limit(c, 10000);
	for (unsigned n = 0; n < 10; n++)
		chunk_cache_release(c, put(c, n, 100));
	assert_int_equal(chunk_cache_bytes(c), 1000);
	chunk_cache_set_limit(c, 350);
	assert_int_equal(chunk_cache_bytes(c), 300);
	for (unsigned n = 0; n < 7; n++)
		assert_false(present(c, n));
	for (unsigned n = 7; n < 10; n++)
		assert_true(present(c, n));
	chunk_cache_set_limit(c, 0);
	assert_int_equal(chunk_cache_bytes(c), 0);
	assert_false(present(c, 9));
}

static void table_grows(void **state)
{
	struct chunk_cache *c = *state;
	chunk_cache_set_limit(c, (size_t)1 << 30);
	for (unsigned n = 0; n < 5000; n++)
		chunk_cache_release(c, put(c, n, 10));
	for (unsigned n = 0; n < 5000; n++)
		assert_true(present(c, n));
	assert_int_equal(chunk_cache_bytes(c), 50000);
}

struct worker {
	struct chunk_cache *c;
	unsigned seed;
	int bad;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed;
	for (int i = 0; i < 100000; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		unsigned n = (unsigned)(s >> 40) % 400;
		size_t len = 16 + n % 64;
		blob_id id = make_id(n);
		struct cached_chunk *e = chunk_cache_get(w->c, &id);
		if (!e)
			e = chunk_cache_put(w->c, &id, make_data(n, len), len);
		if (!e || e->len != len || e->data[0] != (n & 0xff) || e->data[len - 1] != (n & 0xff))
			w->bad++;
		if ((s >> 20) % 64 == 0)
			chunk_cache_set_limit(w->c, 2000 + (s >> 24) % 8000);
		chunk_cache_release(w->c, e);
	}
	return NULL;
}

static void concurrent_get_put(void **state)
{
	struct chunk_cache *c = *state;
	chunk_cache_set_limit(c, 4000);
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){c, (unsigned)i * 7919 + 1, 0};
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	assert_true(chunk_cache_bytes(c) <= 10000);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(eviction_order),   T(byte_limit_respected), T(refs_survive_eviction),
		T(duplicate_put_shares_entry), T(set_limit_shrinks), T(table_grows),
		T(concurrent_get_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
