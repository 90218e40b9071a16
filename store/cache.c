/* cache.c — bounded LRU of decoded chunks (see cache.h).
 *
 * One mutex guards a chained hash table and a circular LRU list with a
 * sentinel.  Ids are keyed hashes, already uniformly random, so the first
 * 8 bytes index the table directly.  The cache holds no reference of its
 * own: an entry in the cache with refs == 0 is idle; an evicted entry is
 * unlinked (lru_prev == NULL) and freed by whoever drops the last
 * reference.  Memory is freed outside the lock.
 */
#include "store/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"

#define INITIAL_BUCKETS 1024

struct chunk_cache {
	pthread_mutex_t lock;
	size_t max_bytes;
	size_t bytes; /* sum of len over entries in the cache */
	size_t count;
	struct cached_chunk **buckets;
	size_t mask; /* bucket count - 1 (a power of two) */
	struct cached_chunk lru; /* sentinel: lru_next is the most recent */
};

static size_t bucket_of(const struct chunk_cache *c, const blob_id *id)
{
	uint64_t h;
	memcpy(&h, id->b, sizeof h);
	return (size_t)h & c->mask;
}

static void entry_free(struct cached_chunk *e)
{
	free(e->data);
	free(e);
}

int chunk_cache_new(size_t max_bytes, struct chunk_cache **ret)
{
	struct chunk_cache *c = calloc(1, sizeof *c);
	if (!c)
		return store_fail(-ENOMEM, "chunk cache: out of memory");
	c->buckets = calloc(INITIAL_BUCKETS, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return store_fail(-ENOMEM, "chunk cache: out of memory");
	}
	int r = pthread_mutex_init(&c->lock, NULL);
	if (r != 0) {
		free(c->buckets);
		free(c);
		return store_fail(-r, "chunk cache: cannot create its lock");
	}
	c->mask = INITIAL_BUCKETS - 1;
	c->max_bytes = max_bytes;
	c->lru.lru_next = c->lru.lru_prev = &c->lru;
	*ret = c;
	return 0;
}

void chunk_cache_free(struct chunk_cache *c)
{
	if (!c)
		return;
	struct cached_chunk *e = c->lru.lru_next;
	while (e != &c->lru) {
		struct cached_chunk *next = e->lru_next;
		entry_free(e);
		e = next;
	}
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

static void lru_unlink(struct cached_chunk *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct chunk_cache *c, struct cached_chunk *e)
{
	e->lru_prev = &c->lru;
	e->lru_next = c->lru.lru_next;
	c->lru.lru_next->lru_prev = e;
	c->lru.lru_next = e;
}

static struct cached_chunk *lookup(struct chunk_cache *c, const blob_id *id)
{
	for (struct cached_chunk *e = c->buckets[bucket_of(c, id)]; e; e = e->hash_next)
		if (id_equal(&e->id, id))
			return e;
	return NULL;
}

static void hash_remove(struct chunk_cache *c, struct cached_chunk *e)
{
	struct cached_chunk **p = &c->buckets[bucket_of(c, &e->id)];
	while (*p != e)
		p = &(*p)->hash_next;
	*p = e->hash_next;
	e->hash_next = NULL;
}

/* Double the table when chains get long; on ENOMEM keep the old one
 * (slower, still correct). */
static void maybe_grow(struct chunk_cache *c)
{
	if (c->count <= c->mask + 1)
		return;
	size_t n = 2 * (c->mask + 1);
	struct cached_chunk **b = calloc(n, sizeof *b);
	if (!b)
		return;
	for (size_t i = 0; i <= c->mask; i++) {
		struct cached_chunk *e = c->buckets[i];
		while (e) {
			struct cached_chunk *next = e->hash_next;
			uint64_t h;
			memcpy(&h, e->id.b, sizeof h);
			size_t k = (size_t)h & (n - 1);
			e->hash_next = b[k];
			b[k] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->mask = n - 1;
}

/* Evict least recently used entries until within the limit.  Idle
 * victims are chained on *dead (through hash_next) for freeing after the
 * lock is dropped. */
static void evict(struct chunk_cache *c, struct cached_chunk **dead)
{
	while (c->bytes > c->max_bytes && c->lru.lru_prev != &c->lru) {
		struct cached_chunk *e = c->lru.lru_prev;
		lru_unlink(e);
		hash_remove(c, e);
		c->bytes -= e->len;
		c->count--;
		if (e->refs == 0) {
			e->hash_next = *dead;
			*dead = e;
		}
	}
}

static void free_dead(struct cached_chunk *dead)
{
	while (dead) {
		struct cached_chunk *next = dead->hash_next;
		entry_free(dead);
		dead = next;
	}
}

void chunk_cache_set_limit(struct chunk_cache *c, size_t max_bytes)
{
	struct cached_chunk *dead = NULL;
	pthread_mutex_lock(&c->lock);
	c->max_bytes = max_bytes;
	evict(c, &dead);
	pthread_mutex_unlock(&c->lock);
	free_dead(dead);
}

struct cached_chunk *chunk_cache_get(struct chunk_cache *c, const blob_id *id)
{
	pthread_mutex_lock(&c->lock);
	struct cached_chunk *e = lookup(c, id);
	if (e) {
		e->refs++;
		lru_unlink(e);
		lru_push_front(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return e;
}

struct cached_chunk *chunk_cache_put(struct chunk_cache *c, const blob_id *id, uint8_t *data,
				     size_t len)
{
	struct cached_chunk *dead = NULL;
	struct cached_chunk *n = calloc(1, sizeof *n);
	if (!n) {
		free(data);
		return NULL;
	}
	n->id = *id;
	n->data = data;
	n->len = len;
	n->refs = 1;

	pthread_mutex_lock(&c->lock);
	struct cached_chunk *e = lookup(c, id);
	if (e) {
		/* Another thread decoded the same chunk first: share it. */
		e->refs++;
		lru_unlink(e);
		lru_push_front(c, e);
		pthread_mutex_unlock(&c->lock);
		entry_free(n);
		return e;
	}
	size_t k = bucket_of(c, id);
	n->hash_next = c->buckets[k];
	c->buckets[k] = n;
	lru_push_front(c, n);
	c->bytes += len;
	c->count++;
	maybe_grow(c);
	evict(c, &dead);
	pthread_mutex_unlock(&c->lock);
	free_dead(dead);
	return n;
}

void chunk_cache_release(struct chunk_cache *c, struct cached_chunk *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&c->lock);
	int gone = --e->refs == 0 && e->lru_prev == NULL;
	pthread_mutex_unlock(&c->lock);
	if (gone)
		entry_free(e);
}

size_t chunk_cache_bytes(struct chunk_cache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}
