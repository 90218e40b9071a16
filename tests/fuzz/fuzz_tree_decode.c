/* fuzz_tree_decode.c — tree blobs are parsed from untrusted packs.
 *
 * Anything tree_decode accepts must satisfy the promises of tree.h (valid
 * sorted names, chunk lengths adding up to the size) and must encode and
 * decode again to the same tree. */
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/tree.h"
#include "tests/fuzz/fuzz.h"

static void check_tree(const struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct node *n = &t->nodes[i];
		if (!n->name || !n->name[0] || strchr(n->name, '/') || !strcmp(n->name, ".") ||
		    !strcmp(n->name, ".."))
			abort();
		if (i > 0 && strcmp(t->nodes[i - 1].name, n->name) >= 0)
			abort();
		if (n->type == NODE_FILE) {
			uint64_t off = 0;
			for (size_t c = 0; c < n->nchunks; c++) {
				if (n->chunks[c].off != off)
					abort();
				off += n->chunks[c].len;
			}
			/* An unreadable file keeps its stat size without chunks. */
			if (off != n->size && !((n->flags & NODE_F_UNREADABLE) && !n->nchunks))
				abort();
		}
		if (n->type == NODE_SYMLINK && !n->target)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree *t = NULL;
	if (tree_decode(data, size, &t) < 0)
		return 0;
	check_tree(t);
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	if (tree_encode(t, &enc, &enc_len) < 0)
		abort();
	struct tree *t2 = NULL;
	if (tree_decode(enc, enc_len, &t2) < 0 || t2->n != t->n || t2->has_self != t->has_self ||
	    (t->has_self && memcmp(&t->self, &t2->self, sizeof t->self) != 0))
		abort();
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].name, t2->nodes[i].name) ||
		    t->nodes[i].size != t2->nodes[i].size ||
		    t->nodes[i].nchunks != t2->nodes[i].nchunks)
			abort();
	tree_free(t2);
	free(enc);
	tree_free(t);
	store_error_clear();
	return 0;
}
