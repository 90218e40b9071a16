/* tree_load.c — reading trees out of a repository and resolving paths
 * through them. */
#include "store/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/repo.h"
#include "store/repo_internal.h"
#include "store/tree_internal.h"

int tree_load(struct repo *repo, const blob_id *id, struct tree **ret_tree)
{
	char what[8 + ID_HEX_LEN];
	uint8_t *data;
	size_t len;
	int r;

	memcpy(what, "tree ", 5);
	id_to_hex(id, what + 5);
	r = repo_load_blob(repo, id, BLOB_TREE, &data, &len);
	if (r == -ENOENT)
		/* A tree that a snapshot refers to is missing: damage, not an
		 * absent path (callers use -ENOENT for that). */
		return store_fail(-STORE_ECORRUPT, "%s: missing from the repository", what);
	if (r < 0)
		return r;
	r = tree_decode_named(data, len, what, ret_tree);
	free(data);
	return r;
}

int tree_resolve(struct repo *repo, const blob_id *root, const char *path, struct node *ret_node)
{
	struct node cur = { 0 };
	const char *p = path;
	size_t cur_len = 0; /* path up to the end of cur's name, for messages */
	int r;

	cur.name = strdup("");
	if (!cur.name)
		return store_fail(-ENOMEM, "resolving %s: out of memory", path);
	cur.type = NODE_DIR;
	cur.subtree = *root;

	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t clen = (size_t)(end - p);
		const char *next = *end ? end + 1 : end;
		if (clen == 0 || (clen == 1 && p[0] == '.')) {
			p = next;
			continue;
		}
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			r = store_fail(-EINVAL, "%s: \"..\" is not allowed in a snapshot path", path);
			goto fail;
		}
		if (cur.type != NODE_DIR) {
			r = store_fail(-ENOTDIR, "%.*s: not a directory", (int)cur_len, path);
			goto fail;
		}
		char *comp = strndup(p, clen);
		struct tree *t = NULL;
		if (!comp) {
			r = store_fail(-ENOMEM, "resolving %s: out of memory", path);
			goto fail;
		}
		r = tree_load(repo, &cur.subtree, &t);
		if (r < 0) {
			free(comp);
			goto fail;
		}
		const struct node *n = tree_lookup(t, comp);
		free(comp);
		if (!n) {
			tree_free(t);
			r = store_fail(-ENOENT, "%.*s: no such file or directory in the snapshot",
				       (int)(end - path), path);
			goto fail;
		}
		struct node copy;
		r = node_copy(n, &copy);
		tree_free(t);
		if (r < 0)
			goto fail;
		node_clear(&cur);
		cur = copy;
		cur_len = (size_t)(end - path);
		p = next;
	}
	*ret_node = cur;
	return 0;
fail:
	node_clear(&cur);
	return r;
}
