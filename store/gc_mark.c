/* gc_mark.c — the mark phase: what every snapshot row still needs.
 *
 * Memory does not grow with the number of snapshots: the scan of the
 * snapshots table only adds root ids to the set (a root many snapshots
 * share is added once) and to the stack of trees to visit; the walk
 * decodes one tree at a time and pushes only subtrees not yet in the set,
 * so each distinct tree is loaded once whichever snapshots share it.  The
 * stack holds ids (32 bytes), never trees.
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

/* Mark what tree id names; push its unmarked subtrees. */
static int visit(struct repo *repo, struct gc_set *set, struct id_stack *stack, const blob_id *id)
{
	struct tree *t = NULL;
	int r = tree_load(repo, id, &t);
	if (r < 0) {
		/* Copied: store_fail writes the buffer store_error points into. */
		char why[512];
		snprintf(why, sizeof why, "%s", store_error() ? store_error() : strerror(-r));
		return store_fail(r, "gc: %s; nothing was deleted (run ckptfs check)", why);
	}
	for (size_t i = 0; r >= 0 && i < t->n; i++) {
		const struct node *n = &t->nodes[i];
		if (n->type == NODE_DIR) {
			r = gc_set_add(set, &n->subtree, GC_LIVE_TREE);
			if (r >= 0 && !(r & GC_LIVE_TREE))
				r = push(stack, &n->subtree);
		} else if (n->type == NODE_FILE) {
			for (size_t k = 0; r >= 0 && k < n->nchunks; k++)
				r = gc_set_add(set, &n->chunks[k].id, GC_LIVE_DATA);
		}
	}
	tree_free(t);
	return r < 0 ? r : 0;
}

#define SNAPREC_PAGE 256

/* A record is live while a row with its time and root exists (a state
 * record too: snaprec.h).  One that
 * cannot be read or parsed is kept: gc deletes only what it knows is
 * dead. */
static int mark_snaprecs(struct repo *repo, struct gc_set *set)
{
	blob_id page[SNAPREC_PAGE], last;
	size_t n;
	bool first = true;
	do {
		int r = catalog_blob_ids_page(repo, BLOB_SNAPSHOT, first ? NULL : &last, page,
					      SNAPREC_PAGE, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			uint8_t *data = NULL;
			size_t len = 0;
			int64_t time_ns;
			blob_id root;
			bool live = true;
			r = repo_load_blob(repo, &page[i], BLOB_SNAPSHOT, &data, &len);
			if (r >= 0) {
				r = snaprec_key(data, len, &time_ns, &root);
				free(data);
			}
			if (r == -ENOMEM)
				return r;
			if (r >= 0) {
				blob_id key;
				snaprow_key(time_ns, &root, &key);
				live = gc_set_get(set, &key) & GC_SNAPROW;
			}
			store_error_clear();
			if (live && (r = gc_set_add(set, &page[i], GC_LIVE_SNAPREC)) < 0)
				return r;
		}
		if (n)
			last = page[n - 1];
		first = false;
	} while (n == SNAPREC_PAGE);
	return 0;
}

int gc_mark(struct repo *repo, struct gc_set *set, struct gc_result *res)
{
	return gc_mark_at(repo, set, 0, res);
}

int gc_mark_at(struct repo *repo, struct gc_set *set, int64_t expired_by, struct gc_result *res)
{
	struct id_stack stack = { 0 };
	struct scan_ctx c = { .expired_by = expired_by, .set = set, .stack = &stack, .res = res };
	int r = catalog_scan_snapshots(repo, add_row, &c);
	while (r >= 0 && stack.n) {
		blob_id id = stack.v[--stack.n];
		r = visit(repo, set, &stack, &id);
		res->trees++;
	}
	free(stack.v);
	if (r >= 0)
		r = mark_snaprecs(repo, set);
	res->live_blobs = gc_set_count(set);
	res->mark_bytes = gc_set_bytes(set);
	return r < 0 ? r : 0;
}
