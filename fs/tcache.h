/* tcache.h — a bounded, thread-safe LRU of decoded directory trees.
 *
 * Lookups, readdir and getxattr inside a snapshot all need the decoded
 * tree of a folder; decoding it once per folder instead of once per call
 * is what makes `ls -la` and `find` fast.  Entries are reference counted:
 * a tree handed out stays valid until released even if evicted meanwhile.
 * The bound is on the estimated bytes of trees not in use; a tree larger
 * than the whole bound is dropped as soon as it is released.
 */
#ifndef CKPTFS_FS_TCACHE_H
#define CKPTFS_FS_TCACHE_H

#include <stddef.h>

#include "store/id.h"
#include "store/tree.h"

struct tcache;

/* How a missing tree is loaded: tree_load() in the mount, something else
 * in tests.  Returns 0 or a negative errno (the store message set). */
typedef int (*tcache_load_fn)(void *ctx, const blob_id *id, struct tree **ret_tree);

struct tcache_entry {
	const struct tree *tree;
	/* private to tcache.c */
	blob_id id;
	struct tree *owned;
	size_t bytes;
	unsigned refs;
	struct tcache_entry *prev, *next, *hnext;
};

int tcache_new(size_t max_bytes, tcache_load_fn load, void *ctx, struct tcache **ret);

/* Free the cache; every entry must have been released.  NULL is a no-op. */
void tcache_free(struct tcache *c);

/* The tree with this id, loading it on a miss (outside the lock, so slow
 * loads do not block hits).  0 with *ret referenced, or the loader's error. */
int tcache_get(struct tcache *c, const blob_id *id, struct tcache_entry **ret);

/* Drop a reference from tcache_get.  NULL is a no-op. */
void tcache_release(struct tcache *c, struct tcache_entry *e);

/* Estimated bytes a decoded tree occupies. */
size_t tcache_tree_bytes(const struct tree *t);

/* Bytes held now; number of loads so far (for tests and stats). */
size_t tcache_bytes(struct tcache *c);
size_t tcache_loads(struct tcache *c);

#endif
