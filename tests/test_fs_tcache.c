/* test_fs_tcache.c — the mount's cache of decoded trees: hits do not load
 * again, the byte bound evicts least recently used trees, a tree in use
 * survives eviction, concurrent misses keep one copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/tcache.h"
#include "store/err.h"

/* The loader builds a tree of id.b[0] entries named "e<i>"; id.b[1] = 0xee
 * makes it fail with STORE_ECORRUPT. */
struct loader {
	atomic_int loads;
	int delay_us;
};

static int load(void *ctx, const blob_id *id, struct tree **ret)
{
	struct loader *l = ctx;
	atomic_fetch_add(&l->loads, 1);
	if (l->delay_us)
		usleep((useconds_t)l->delay_us);
	if (id->b[1] == 0xee)
		return store_fail(-STORE_ECORRUPT, "tree: bad");
	struct tree *t = calloc(1, sizeof(*t));
	size_t n = id->b[0];
	t->nodes = calloc(n ? n : 1, sizeof(*t->nodes));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "e%03zu", i);
		t->nodes[i].name = strdup(name);
		t->nodes[i].type = i % 2 ? NODE_DIR : NODE_FILE;
	}
	*ret = t;
	return 0;
}

static blob_id mkid(uint8_t n, uint8_t salt)
{
	blob_id id;
	memset(&id, 0, sizeof(id));
	id.b[0] = n;
	id.b[2] = salt;
	id.b[5] = salt; /* spread over buckets */
	return id;
}

static void hit_does_not_reload(void **state)
{
	(void)state;
	struct loader l = { 0 };
	struct tcache *c;
	assert_int_equal(tcache_new(1 << 20, load, &l, &c), 0);
	blob_id id = mkid(10, 1);
	struct tcache_entry *a, *b;
	assert_int_equal(tcache_get(c, &id, &a), 0);
	assert_int_equal(a->tree->n, 10);
	assert_string_equal(a->tree->nodes[3].name, "e003");
	assert_int_equal(tcache_get(c, &id, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(l.loads, 1);
	tcache_release(c, a);
	tcache_release(c, b);
	assert_int_equal(tcache_get(c, &id, &a), 0);
	assert_int_equal(l.loads, 1);
	assert_int_equal(tcache_loads(c), 1);
	tcache_release(c, a);
	tcache_release(c, NULL);
	tcache_free(c);
}

static void errors_are_not_cached(void **state)
{
	(void)state;
	struct loader l = { 0 };
	struct tcache *c;
	assert_int_equal(tcache_new(1 << 20, load, &l, &c), 0);
	blob_id id = mkid(3, 2);
	id.b[1] = 0xee;
	struct tcache_entry *e = NULL;
	assert_int_equal(tcache_get(c, &id, &e), -STORE_ECORRUPT);
	assert_null(e);
	assert_string_equal(store_error(), "tree: bad");
	assert_int_equal(tcache_get(c, &id, &e), -STORE_ECORRUPT);
	assert_int_equal(l.loads, 2);
	assert_int_equal(tcache_bytes(c), 0);
	tcache_free(c);
}

static void bound_evicts_lru(void **state)
{
	(void)state;
	struct loader l = { 0 };
	struct tcache *c;
	/* Room for about three trees of 100 entries. */
	struct tree probe_tree;
	struct tree *t;
	blob_id pid = mkid(100, 0);
	assert_int_equal(load(&l, &pid, &t), 0);
	probe_tree = *t;
	size_t one = tcache_tree_bytes(&probe_tree) + sizeof(struct tcache_entry);
	tree_free(t);
	l.loads = 0;
	assert_int_equal(tcache_new(3 * one + one / 2, load, &l, &c), 0);

	struct tcache_entry *e;
	for (uint8_t i = 1; i <= 3; i++) {
		blob_id id = mkid(100, i);
		assert_int_equal(tcache_get(c, &id, &e), 0);
		tcache_release(c, e);
	}
	assert_int_equal(l.loads, 3);
	/* Touch 1, so 2 is the least recently used. */
	blob_id id1 = mkid(100, 1), id2 = mkid(100, 2), id4 = mkid(100, 4);
	assert_int_equal(tcache_get(c, &id1, &e), 0);
	tcache_release(c, e);
	assert_int_equal(tcache_get(c, &id4, &e), 0);
	tcache_release(c, e);
	assert_int_equal(l.loads, 4);
	assert_true(tcache_bytes(c) <= 3 * one + one / 2);
	assert_int_equal(tcache_get(c, &id1, &e), 0); /* still there */
	tcache_release(c, e);
	assert_int_equal(l.loads, 4);
	assert_int_equal(tcache_get(c, &id2, &e), 0); /* was evicted */
	tcache_release(c, e);
	assert_int_equal(l.loads, 5);
	tcache_free(c);
}

static void in_use_survives_eviction(void **state)
{
	(void)state;
	struct loader l = { 0 };
	struct tcache *c;
	assert_int_equal(tcache_new(1, load, &l, &c), 0); /* holds nothing unused */
	blob_id a = mkid(50, 1), b = mkid(50, 2);
	struct tcache_entry *ea, *eb;
	assert_int_equal(tcache_get(c, &a, &ea), 0);
	assert_int_equal(tcache_get(c, &b, &eb), 0);
	tcache_release(c, eb); /* evicted at once */
	assert_int_equal(ea->tree->n, 50);
	assert_string_equal(ea->tree->nodes[49].name, "e049");
	struct tcache_entry *again;
	assert_int_equal(tcache_get(c, &a, &again), 0);
	assert_ptr_equal(again, ea);
	assert_int_equal(l.loads, 2);
	tcache_release(c, again);
	tcache_release(c, ea);
	assert_int_equal(tcache_bytes(c), 0);
	tcache_free(c);
}

struct race {
	struct tcache *c;
	blob_id id;
	struct tcache_entry *got;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	if (tcache_get(r->c, &r->id, &r->got) < 0)
		r->got = NULL;
	return NULL;
}

static void concurrent_misses_share(void **state)
{
	(void)state;
	struct loader l = { .delay_us = 20000 };
	struct tcache *c;
	assert_int_equal(tcache_new(1 << 20, load, &l, &c), 0);
	enum { N = 4 };
	struct race r[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		r[i] = (struct race){ .c = c, .id = mkid(7, 9) };
		assert_int_equal(pthread_create(&th[i], NULL, racer, &r[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		assert_non_null(r[i].got);
		assert_ptr_equal(r[i].got, r[0].got);
	}
	for (int i = 0; i < N; i++)
		tcache_release(c, r[i].got);
	struct tcache_entry *e;
	assert_int_equal(tcache_get(c, &r[0].id, &e), 0);
	assert_ptr_equal(e, r[0].got);
	tcache_release(c, e);
	tcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hit_does_not_reload),
		cmocka_unit_test(errors_are_not_cached),
		cmocka_unit_test(bound_evicts_lru),
		cmocka_unit_test(in_use_survives_eviction),
		cmocka_unit_test(concurrent_misses_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
