/* diff.c — comparing two snapshot trees (see diff.h).
 *
 * A merge walk over the two sorted entry lists of each directory pair.
 * Subtrees with equal ids are equal (Merkle) and are not read; an added or
 * deleted directory is walked to report everything in it.
 */
#include "store/diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/relpath.h"

/* Deeper than any path the kernel can hand out; a deeper tree is damage. */
#define DIFF_MAX_DEPTH 4096

typedef int (*diff_fn)(void *ctx, enum diff_kind kind, const char *path, const struct node *n);

struct diff {
	struct repo *repo;
	diff_pair_fn fn;
	void *ctx;
	struct relpath path;
};

static bool xattrs_equal(const struct node *a, const struct node *b)
{
	if (a->nxattrs != b->nxattrs)
		return false;
	for (size_t i = 0; i < a->nxattrs; i++) {
		const struct node_xattr *x = &a->xattrs[i], *y = &b->xattrs[i];
		if (strcmp(x->name, y->name) != 0 || x->value_len != y->value_len ||
		    memcmp(x->value, y->value, x->value_len) != 0)
			return false;
	}
	return true;
}

/* Whether the entry itself changed (a directory's contents are compared
 * separately, through its subtree). */
static bool node_modified(const struct node *a, const struct node *b)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime_ns != b->mtime_ns || a->rdev != b->rdev)
		return true;
	if (a->type == NODE_FILE) {
		if (a->nchunks != b->nchunks)
			return true;
		for (size_t i = 0; i < a->nchunks; i++)
			if (!id_equal(&a->chunks[i].id, &b->chunks[i].id) ||
			    a->chunks[i].len != b->chunks[i].len)
				return true;
	}
	if (a->type == NODE_SYMLINK && strcmp(a->target, b->target) != 0)
		return true;
	return !xattrs_equal(a, b);
}

static int diff_dir(struct diff *d, const blob_id *old_id, const blob_id *new_id, int depth);

/* Report n (at the current path) as kind and, for a directory, all it
 * holds as the same kind. */
static int report_all(struct diff *d, enum diff_kind kind, const struct node *n, int depth)
{
	int r = d->fn(d->ctx, kind, d->path.s, kind == DIFF_ADDED ? NULL : n,
		      kind == DIFF_ADDED ? n : NULL);
	if (r != 0 || n->type != NODE_DIR)
		return r;
	return kind == DIFF_ADDED ? diff_dir(d, NULL, &n->subtree, depth + 1)
				  : diff_dir(d, &n->subtree, NULL, depth + 1);
}

static int diff_entry(struct diff *d, const struct node *a, const struct node *b, int depth)
{
	size_t old = 0;
	int r = relpath_push(&d->path, a ? a->name : b->name, &old);
	if (r < 0)
		return store_fail(r, "diff: out of memory");
	if (!b) {
		r = report_all(d, DIFF_DELETED, a, depth);
	} else if (!a) {
		r = report_all(d, DIFF_ADDED, b, depth);
	} else {
		if (node_modified(a, b))
			r = d->fn(d->ctx, DIFF_MODIFIED, d->path.s, a, b);
		if (r == 0) {
			bool ad = a->type == NODE_DIR, bd = b->type == NODE_DIR;
			/* A type change from or to a directory: its contents
			 * went or came with it. */
			if (ad || bd)
				r = diff_dir(d, ad ? &a->subtree : NULL, bd ? &b->subtree : NULL,
					     depth + 1);
		}
	}
	relpath_pop(&d->path, old);
	return r;
}

static int diff_dir(struct diff *d, const blob_id *old_id, const blob_id *new_id, int depth)
{
	struct tree *a = NULL, *b = NULL;
	static const struct tree empty;
	int r = 0;

	if (old_id && new_id && id_equal(old_id, new_id))
		return 0;
	if (depth > DIFF_MAX_DEPTH)
		return store_fail(-STORE_ECORRUPT, "%s: directories nested deeper than %d",
				  d->path.s, DIFF_MAX_DEPTH);
	if (old_id && (r = tree_load(d->repo, old_id, &a)) < 0)
		return r;
	if (new_id && (r = tree_load(d->repo, new_id, &b)) < 0)
		goto out;
	const struct tree *ta = a ? a : &empty, *tb = b ? b : &empty;
	size_t i = 0, j = 0;
	while (r == 0 && (i < ta->n || j < tb->n)) {
		int c = i == ta->n ? 1 : j == tb->n ? -1
				     : strcmp(ta->nodes[i].name, tb->nodes[j].name);
		if (c < 0)
			r = diff_entry(d, &ta->nodes[i++], NULL, depth);
		else if (c > 0)
			r = diff_entry(d, NULL, &tb->nodes[j++], depth);
		else
			r = diff_entry(d, &ta->nodes[i++], &tb->nodes[j++], depth);
	}
out:
	tree_free(a);
	tree_free(b);
	return r;
}

struct single {
	diff_fn fn;
	void *ctx;
};

static int one_side(void *ctx, enum diff_kind kind, const char *path, const struct node *a,
		    const struct node *b)
{
	struct single *s = ctx;
	return s->fn(s->ctx, kind, path, b ? b : a);
}

int diff_trees(struct repo *repo, const blob_id *old_root, const blob_id *new_root,
	       int (*fn)(void *ctx, enum diff_kind kind, const char *path, const struct node *n),
	       void *ctx)
{
	struct single s = { fn, ctx };
	return diff_trees_pair(repo, old_root, new_root, one_side, &s);
}

int diff_trees_pair(struct repo *repo, const blob_id *old_root, const blob_id *new_root,
		    diff_pair_fn fn, void *ctx)
{
	struct diff d = { .repo = repo, .fn = fn, .ctx = ctx };
	if (relpath_init(&d.path) < 0)
		return store_fail(-ENOMEM, "diff: out of memory");
	int r = diff_dir(&d, old_root, new_root, 0);
	relpath_free(&d.path);
	return r;
}
