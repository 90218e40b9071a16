/* gc_mark.c — the mark phase: what every snapshot row still needs.
 *
 * Memory does not grow with the number of snapshots: the scan of the
 * snapshots table only adds root ids to the set (a root many snapshots
 * share is added once) and to the first level of trees to visit; the
 * walk decodes one tree at a time and queues only subtrees not yet in the
 * set, so each distinct tree is loaded once whichever snapshots share it.
 * The levels hold ids (32 bytes), never trees.  A level's trees are read
 * in the order they lie in the packs (gc_load.c), not the order the walk
 * meets them.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/catalog_gc.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/le.h"
#include "store/repo_internal.h"
#include "store/snaprec.h"
#include "store/tree.h"
#include "store/tree_internal.h"

struct id_stack {
	blob_id *v;
	size_t n, cap;
};

static int push(struct id_stack *s, const blob_id *id)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 256;
		blob_id *nv = realloc(s->v, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = *id;
	return 0;
}

/* The key standing for "a snapshot row with this time and root exists"
 * in the set (flag GC_SNAPROW): how check_repair.c matches a record to
 * its row.  Unkeyed BLAKE2b: it only has to be distinct, not secret. */
static void snaprow_key(int64_t time_ns, const blob_id *root, blob_id *ret)
{
	static const char domain[] = "ckptfs gc snapshot row";
	uint8_t t[8];
	le_put64(t, (uint64_t)time_ns);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof domain);
	crypto_generichash_update(&st, t, sizeof t);
	crypto_generichash_update(&st, root->b, ID_BYTES);
	crypto_generichash_final(&st, ret->b, ID_BYTES);
}

struct scan_ctx {
	int64_t expired_by;
	struct gc_set *set;
	struct id_stack *stack;
	struct gc_result *res;
};

/* Runs under the catalog lock: set and stack only. */
static int add_row(void *p, const struct snapshot *s, unsigned faults)
{
	struct scan_ctx *c = p;
	if (faults & CATALOG_FAULT_ROOT)
		return store_fail(-STORE_ECORRUPT,
				  "gc: snapshot row %lld has no valid root tree; nothing was deleted "
				  "(run ckptfs check --repair first)",
				  (long long)s->id);
	if (c->expired_by && s->trashed_at_ns && s->expires_at_ns <= c->expired_by) {
		c->res->trash_expired++;
		return 0;
	}
	c->res->snapshots++;
	blob_id key;
	snaprow_key(s->time_ns, &s->root, &key);
	int had = gc_set_add(c->set, &key, GC_SNAPROW);
	if (had >= 0)
		had = gc_set_add(c->set, &s->root, GC_LIVE_TREE);
	if (had < 0)
		return had;
	return had & GC_LIVE_TREE ? 0 : push(c->stack, &s->root);
}

struct level_ctx {
	struct gc_set *set;
	struct id_stack *next; /* subtrees first met on this level */
};

/* A tree of the level: mark what it names, queue its unmarked subtrees
 * for the next level.  Any failure stops the mark. */
static int visit(void *p, const blob_id *id, int err, uint8_t *data, size_t len)
{
	struct level_ctx *c = p;
	char what[8 + ID_HEX_LEN];
	memcpy(what, "tree ", 5);
	id_to_hex(id, what + 5);
	struct tree *t = NULL;
	int r = err;
	if (r == -ENOENT)
		r = store_fail(-STORE_ECORRUPT, "%s: missing from the repository", what);
	if (r >= 0)
		r = tree_decode_named(data, len, what, &t);
	if (r < 0) {
		/* Copied: store_fail writes the buffer store_error points into. */
		char why[512];
		snprintf(why, sizeof why, "%s", store_error() ? store_error() : strerror(-r));
		return store_fail(r, "gc: %s; nothing was deleted (run ckptfs check)", why);
	}
	for (size_t i = 0; r >= 0 && i < t->n; i++) {
		const struct node *n = &t->nodes[i];
		if (n->type == NODE_DIR) {
			r = gc_set_add(c->set, &n->subtree, GC_LIVE_TREE);
			if (r >= 0 && !(r & GC_LIVE_TREE))
				r = push(c->next, &n->subtree);
		} else if (n->type == NODE_FILE) {
			for (size_t k = 0; r >= 0 && k < n->nchunks; k++) {
				if (k + GC_PREFETCH_AHEAD < n->nchunks)
					gc_set_prefetch(c->set, &n->chunks[k + GC_PREFETCH_AHEAD].id);
				r = gc_set_add(c->set, &n->chunks[k].id, GC_LIVE_DATA);
			}
		}
	}
	tree_free(t);
	return r < 0 ? r : 0;
}

/* Trees from the roots down, a level at a time: each level's trees are
 * read in disk order (gc_load_batch), and only subtrees not in the set
 * yet make the next level, so each tree is read once. */
static int walk(struct repo *repo, struct gc_set *set, struct gc_fds *fds, struct id_stack *level,
		struct gc_result *res)
{
	struct id_stack next = { 0 };
	struct level_ctx c = { .set = set, .next = &next };
	int r = 0;
	while (r >= 0 && level->n) {
		next.n = 0;
		r = gc_load_batch(repo, fds, level->v, level->n, BLOB_TREE, visit, &c);
		res->trees += level->n;
		struct id_stack t = *level;
		*level = next;
		next = t;
	}
	free(next.v);
	return r;
}

struct snaprec_ctx {
	struct gc_set *set;
};

/* A record is live while a row with its time and root exists (a state
 * record too: snaprec.h).  One that cannot be read or parsed is kept:
 * gc deletes only what it knows is dead. */
static int mark_snaprec(void *p, const blob_id *id, int err, uint8_t *data, size_t len)
{
	struct snaprec_ctx *c = p;
	int64_t time_ns;
	blob_id root;
	bool live = true;
	int r = err;
	if (r >= 0)
		r = snaprec_key(data, len, &time_ns, &root);
	if (r == -ENOMEM)
		return r;
	if (r >= 0) {
		blob_id key;
		snaprow_key(time_ns, &root, &key);
		live = gc_set_get(c->set, &key) & GC_SNAPROW;
	}
	store_error_clear();
	if (live && (r = gc_set_add(c->set, id, GC_LIVE_SNAPREC)) < 0)
		return r;
	return 0;
}

/* The snapshot records the scan found, in batches (a bounded sort), each
 * read in disk order. */
#define SNAPREC_BATCH 4096

static int mark_snaprecs(struct repo *repo, struct gc_scan *scan, struct gc_set *set,
			 struct gc_fds *fds)
{
	int r = gc_scan_wait(scan);
	size_t n = 0;
	const blob_id *ids = r < 0 ? NULL : gc_scan_snaprecs(scan, &n);
	struct snaprec_ctx c = { .set = set };
	for (size_t i = 0; r >= 0 && i < n; i += SNAPREC_BATCH)
		r = gc_load_batch(repo, fds, ids + i, n - i < SNAPREC_BATCH ? n - i : SNAPREC_BATCH,
				  BLOB_SNAPSHOT, mark_snaprec, &c);
	return r;
}

int gc_mark(struct repo *repo, struct gc_scan *scan, struct gc_set *set, struct gc_result *res)
{
	return gc_mark_at(repo, scan, set, 0, res);
}

int gc_mark_at(struct repo *repo, struct gc_scan *scan, struct gc_set *set, int64_t expired_by,
	       struct gc_result *res)
{
	struct id_stack roots = { 0 };
	struct scan_ctx c = { .expired_by = expired_by, .set = set, .stack = &roots, .res = res };
	struct gc_fds fds;
	gc_fds_init(&fds);
	/* One read transaction: the lookups see one state of the catalog
	 * and do not each take and drop the read lock. */
	int r = catalog_gc_read_begin(repo);
	if (r >= 0) {
		r = catalog_scan_snapshots(repo, add_row, &c);
		if (r >= 0)
			r = walk(repo, set, &fds, &roots, res);
		if (r >= 0)
			r = mark_snaprecs(repo, scan, set, &fds);
		catalog_gc_read_end(repo);
	}
	free(roots.v);
	gc_fds_close(&fds);
	res->live_blobs = gc_set_count(set);
	res->mark_bytes = gc_set_bytes(set);
	return r < 0 ? r : 0;
}
