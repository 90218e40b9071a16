/* tree.c — in-memory trees: lookup, sorting, copying, freeing, and the
 * offset-to-chunk search.  Encoding is in tree_encode.c / tree_decode.c,
 * loading from a repository in tree_load.c. */
#include "store/tree.h"

#include <stdlib.h>
#include <string.h>

#include "store/err.h"

const struct node *tree_lookup(const struct tree *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->nodes[mid].name, name);
		if (c == 0)
			return &t->nodes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t node_chunk_at(const struct node *n, uint64_t off)
{
	if (off >= n->size || n->nchunks == 0)
		return n->nchunks;
	/* Last chunk whose offset is <= off. */
	size_t lo = 0, hi = n->nchunks;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (n->chunks[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	/* Only an unreadable file's size can exceed its chunks. */
	if (off - n->chunks[lo].off >= n->chunks[lo].len)
		return n->nchunks;
	return lo;
}

/* strcmp compares as unsigned char, which is memcmp order for names
 * without NUL. */
static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

void tree_sort(struct tree *t)
{
	if (t->n > 1)
		qsort(t->nodes, t->n, sizeof *t->nodes, node_cmp);
}

int node_copy(const struct node *src, struct node *dst)
{
	struct node n = *src;
	n.name = NULL;
	n.target = NULL;
	n.chunks = NULL;
	n.xattrs = NULL;
	n.nchunks = 0;
	n.nxattrs = 0;

	if (src->name && !(n.name = strdup(src->name)))
		goto fail;
	if (src->target && !(n.target = strdup(src->target)))
		goto fail;
	if (src->nchunks) {
		n.chunks = malloc(src->nchunks * sizeof *n.chunks);
		if (!n.chunks)
			goto fail;
		memcpy(n.chunks, src->chunks, src->nchunks * sizeof *n.chunks);
		n.nchunks = src->nchunks;
	}
	if (src->nxattrs) {
		n.xattrs = calloc(src->nxattrs, sizeof *n.xattrs);
		if (!n.xattrs)
			goto fail;
		for (size_t i = 0; i < src->nxattrs; i++) {
			const struct node_xattr *x = &src->xattrs[i];
			n.nxattrs = i + 1;
			n.xattrs[i].name = strdup(x->name);
			n.xattrs[i].value = malloc(x->value_len ? x->value_len : 1);
			if (!n.xattrs[i].name || !n.xattrs[i].value)
				goto fail;
			memcpy(n.xattrs[i].value, x->value, x->value_len);
			n.xattrs[i].value_len = x->value_len;
		}
	}
	*dst = n;
	return 0;
fail:
	node_clear(&n);
	return store_fail(-ENOMEM, "copying entry %s: out of memory",
			  src->name ? src->name : "");
}

void node_clear(struct node *n)
{
	free(n->name);
	free(n->target);
	free(n->chunks);
	for (size_t i = 0; i < n->nxattrs; i++) {
		free(n->xattrs[i].name);
		free(n->xattrs[i].value);
	}
	free(n->xattrs);
	memset(n, 0, sizeof *n);
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		node_clear(&t->nodes[i]);
	free(t->nodes);
	free(t);
}
