/* cache.h — a bounded, thread-safe LRU of decoded chunks.
 *
 * Entries are reference counted: a chunk handed out stays valid until
 * released even if evicted meanwhile.  Keyed by blob id (its first 8 bytes
 * index the hash table: ids are keyed hashes, already uniformly random).
 * The byte limit counts the len of entries in the cache; an evicted entry
 * still referenced is no longer counted.
 */
#ifndef CKPTFS_STORE_CACHE_H
#define CKPTFS_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store/id.h"

struct chunk_cache;

struct cached_chunk {
	blob_id id;
	uint8_t *data;
	size_t len;
	/* private to cache.c below */
	unsigned refs;
	struct cached_chunk *lru_prev, *lru_next, *hash_next;
};

/* A cache holding at most max_bytes of chunk data.  0 or -ENOMEM. */
int chunk_cache_new(size_t max_bytes, struct chunk_cache **ret);
/* Free the cache and its entries; every reference must have been
 * released.  NULL is a no-op. */
void chunk_cache_free(struct chunk_cache *c);
/* Change the limit, evicting at once down to it. */
void chunk_cache_set_limit(struct chunk_cache *c, size_t max_bytes);

/* Look up id; on hit returns a referenced entry, else NULL. */
struct cached_chunk *chunk_cache_get(struct chunk_cache *c, const blob_id *id);

/* Insert data (ownership passes to the cache) and return a referenced
 * entry.  If id is already present the existing entry is returned and
 * data is freed.  NULL (data freed) when out of memory. */
struct cached_chunk *chunk_cache_put(struct chunk_cache *c, const blob_id *id, uint8_t *data,
				     size_t len);

/* Drop a reference from get/put (NULL is a no-op). */
void chunk_cache_release(struct chunk_cache *c, struct cached_chunk *e);

/* Bytes held now (for tests and stats). */
size_t chunk_cache_bytes(struct chunk_cache *c);

#endif
