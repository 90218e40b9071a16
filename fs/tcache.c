/* tcache.c — LRU of decoded trees (see tcache.h). */
#include "fs/tcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096 /* fixed: entries are bounded by bytes, chains stay short */

struct tcache {
	pthread_mutex_t lock;
	size_t max_bytes, bytes, loads;
	tcache_load_fn load;
	void *ctx;
	/* LRU list of entries nobody references, most recent at head. */
	struct tcache_entry lru;
	struct tcache_entry *buckets[NBUCKETS];
};

size_t tcache_tree_bytes(const struct tree *t)
{
	size_t n = sizeof(*t) + t->n * sizeof(struct node);
	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = &t->nodes[i];
		n += strlen(nd->name) + 1 + nd->nchunks * sizeof(struct node_chunk);
		if (nd->target)
			n += strlen(nd->target) + 1;
		for (size_t j = 0; j < nd->nxattrs; j++)
			n += sizeof(struct node_xattr) + strlen(nd->xattrs[j].name) + 1 +
			     nd->xattrs[j].value_len;
	}
	return n;
}

int tcache_new(size_t max_bytes, tcache_load_fn load, void *ctx, struct tcache **ret)
{
	struct tcache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return -ENOMEM;
	}
	c->max_bytes = max_bytes;
	c->load = load;
	c->ctx = ctx;
	c->lru.prev = c->lru.next = &c->lru;
	*ret = c;
	return 0;
}

static size_t bucket(const blob_id *id)
{
	/* Ids are keyed hashes: their bytes are already uniform. */
	uint32_t h;
	memcpy(&h, id->b, sizeof(h));
	return h % NBUCKETS;
}

static void lru_unlink(struct tcache_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void unhash(struct tcache *c, struct tcache_entry *e)
{
	struct tcache_entry **pp = &c->buckets[bucket(&e->id)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
}

static void entry_destroy(struct tcache_entry *e)
{
	tree_free(e->owned);
	free(e);
}

/* Evict unreferenced entries, oldest first, until under the bound.  The
 * caller frees what is returned (outside the lock). */
static struct tcache_entry *evict_locked(struct tcache *c)
{
	struct tcache_entry *dead = NULL;
	while (c->bytes > c->max_bytes && c->lru.prev != &c->lru) {
		struct tcache_entry *e = c->lru.prev;
		lru_unlink(e);
		unhash(c, e);
		c->bytes -= e->bytes;
		e->hnext = dead;
		dead = e;
	}
	return dead;
}

static void destroy_list(struct tcache_entry *e)
{
	while (e) {
		struct tcache_entry *next = e->hnext;
		entry_destroy(e);
		e = next;
	}
}

static struct tcache_entry *lookup_locked(struct tcache *c, const blob_id *id)
{
	for (struct tcache_entry *e = c->buckets[bucket(id)]; e; e = e->hnext)
		if (id_equal(&e->id, id)) {
			if (e->refs++ == 0)
				lru_unlink(e);
			return e;
		}
	return NULL;
}

int tcache_get(struct tcache *c, const blob_id *id, struct tcache_entry **ret)
{
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *e = lookup_locked(c, id);
	pthread_mutex_unlock(&c->lock);
	if (e) {
		*ret = e;
		return 0;
	}

	struct tree *t = NULL;
	int r = c->load(c->ctx, id, &t);
	if (r < 0)
		return r;
	struct tcache_entry *n = calloc(1, sizeof(*n));
	if (!n) {
		tree_free(t);
		return -ENOMEM;
	}
	n->id = *id;
	n->owned = t;
	n->tree = t;
	n->bytes = tcache_tree_bytes(t) + sizeof(*n);

	pthread_mutex_lock(&c->lock);
	c->loads++;
	/* Another thread may have loaded it meanwhile: keep the first. */
	e = lookup_locked(c, id);
	if (!e) {
		n->refs = 1;
		size_t b = bucket(id);
		n->hnext = c->buckets[b];
		c->buckets[b] = n;
		c->bytes += n->bytes;
		e = n;
		n = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (n)
		entry_destroy(n);
	*ret = e;
	return 0;
}

void tcache_release(struct tcache *c, struct tcache_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *dead = NULL;
	if (--e->refs == 0) {
		e->next = c->lru.next;
		e->prev = &c->lru;
		c->lru.next->prev = e;
		c->lru.next = e;
		dead = evict_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
	destroy_list(dead);
}

void tcache_free(struct tcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		destroy_list(c->buckets[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

size_t tcache_bytes(struct tcache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t tcache_loads(struct tcache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->loads;
	pthread_mutex_unlock(&c->lock);
	return n;
}
