/* history_internal.h — what history.c and history_search.c share: the
 * hist handle and its memo, an open-addressing table from (tree id, a
 * 64-bit qualifier) to an index.  Not for other modules. */
#ifndef CKPTFS_STORE_HISTORY_INTERNAL_H
#define CKPTFS_STORE_HISTORY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/history.h"

/* Deeper than any path the kernel hands out; a deeper tree is damage. */
#define HIST_MAX_DEPTH 4096

struct hmemo_slot {
	blob_id id;
	uint64_t extra; /* depth of the tree (versions) or a hash of its path (search) */
	size_t val;     /* SIZE_MAX - 1 marks an empty slot */
};

struct hmemo {
	struct hmemo_slot *s;
	size_t cap, n; /* cap a power of two, or 0 */
};

struct hist {
	struct repo *repo;
	uint64_t loaded;
	hist_get_fn get; /* or NULL: hist loads trees itself */
	hist_put_fn put;
	void *src;
};

/* Find (id, extra): 1 and *ret_val, or 0 if absent. */
int hmemo_get(const struct hmemo *m, const blob_id *id, uint64_t extra, size_t *ret_val);

/* Insert or overwrite.  0 or -ENOMEM (recorded). */
int hmemo_put(struct hmemo *m, const blob_id *id, uint64_t extra, size_t val);

void hmemo_free(struct hmemo *m);

/* A decoded tree, counted: *ret valid until hist_put(h, *ret_ref). */
int hist_get(struct hist *h, const blob_id *id, const struct tree **ret, void **ret_ref);
void hist_put(struct hist *h, void *ref);

#endif
