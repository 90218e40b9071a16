/* content.c — reading file contents out of a snapshot (see content.h).
 *
 * Every decoded chunk goes through the repository's chunk cache, and its
 * length is checked against the length the tree records: a tree that
 * lies about its chunks (hostile or damaged) makes the read fail with
 * STORE_ECORRUPT instead of returning short or shifted data.
 */
#include "store/content.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/repo_internal.h"
#include "store/tree.h"

/* Where a chunk's bytes are while they are copied. */
struct chunk_ref {
	struct cached_chunk *e; /* from the cache, or NULL */
	uint8_t *own;           /* loaded without a cache: freed by release */
	const uint8_t *data;
};

static int length_mismatch(struct repo *repo, const struct node_chunk *c, size_t len)
{
	char hex[ID_HEX_LEN + 1];
	struct blob_loc loc;
	id_to_hex(&c->id, hex);
	if (catalog_blob_lookup_any(repo, &c->id, &loc) < 0)
		loc.pack[0] = '\0';
	return store_fail(-STORE_ECORRUPT, "chunk %s (pack %s): holds %zu bytes, the tree says %u",
			  hex, loc.pack[0] ? loc.pack : "?", len, c->len);
}

/* Decode chunk c, not through the cache, and check its length: *ret_data
 * (malloc'd) holds c->len bytes. */
static int chunk_load(struct repo *repo, const struct node_chunk *c, uint8_t **ret_data)
{
	char hex[ID_HEX_LEN + 1];
	uint8_t *data;
	size_t len;
	int r = repo_load_blob_flags(repo, &c->id, BLOB_DATA, BLOB_OPEN_NO_REHASH, &data, &len);
	if (r == -ENOENT) {
		id_to_hex(&c->id, hex);
		return store_fail(-STORE_ECORRUPT, "chunk %s: missing from the repository", hex);
	}
	if (r < 0)
		return r;
	if (len != c->len) {
		free(data);
		return length_mismatch(repo, c, len);
	}
	*ret_data = data;
	return 0;
}

static int chunk_get(struct repo *repo, const struct node_chunk *c, struct chunk_ref *ret)
{
	uint8_t *data;
	size_t len;
	int r;

	if (repo->cache) {
		struct cached_chunk *e = chunk_cache_get(repo->cache, &c->id);
		if (e) {
			/* The same chunk may be listed by another (lying) tree
			 * with another length: check on every use. */
			if (e->len != c->len) {
				len = e->len;
				chunk_cache_release(repo->cache, e);
				return length_mismatch(repo, c, len);
			}
			*ret = (struct chunk_ref){ .e = e, .data = e->data };
			return 0;
		}
	}
	r = chunk_load(repo, c, &data);
	if (r < 0)
		return r;
	len = c->len;
	if (!repo->cache) {
		*ret = (struct chunk_ref){ .own = data, .data = data };
		return 0;
	}
	struct cached_chunk *e = chunk_cache_put(repo->cache, &c->id, data, len);
	if (!e) /* data was freed */
		return store_fail(-ENOMEM, "chunk cache: out of memory");
	*ret = (struct chunk_ref){ .e = e, .data = e->data };
	return 0;
}

static void chunk_release(struct repo *repo, struct chunk_ref *ref)
{
	if (ref->e)
		chunk_cache_release(repo->cache, ref->e);
	free(ref->own);
}

ssize_t content_read(struct repo *repo, const struct node *file, uint64_t off, void *buf,
		     size_t len)
{
	if (file->type != NODE_FILE)
		return store_fail(-EINVAL, "%s: not a regular file", file->name);
	if (off >= file->size || len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > file->size - off)
		len = (size_t)(file->size - off);

	size_t i = node_chunk_at(file, off);
	if (i >= file->nchunks)
		/* Only a file recorded as unreadable has a size without chunks. */
		return store_fail(-EIO, "%s: content was not captured (unreadable when snapshotted)",
				  file->name);
	size_t done = 0;
	while (done < len && i < file->nchunks) {
		const struct node_chunk *c = &file->chunks[i];
		struct chunk_ref ref;
		int r = chunk_get(repo, c, &ref);
		if (r < 0)
			return r;
		uint64_t in = off + done - c->off;
		size_t n = c->len - (size_t)in;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, ref.data + in, n);
		chunk_release(repo, &ref);
		done += n;
		i++;
	}
	return (ssize_t)done;
}

ssize_t content_pin(struct repo *repo, const struct node *file, uint64_t off, size_t len,
		    struct content_piece *pieces, size_t max)
{
	if (file->type != NODE_FILE)
		return store_fail(-EINVAL, "%s: not a regular file", file->name);
	if (off >= file->size || len == 0)
		return 0;
	if (len > file->size - off)
		len = (size_t)(file->size - off);
	size_t i = node_chunk_at(file, off);
	if (i >= file->nchunks)
		return store_fail(-EIO, "%s: content was not captured (unreadable when snapshotted)",
				  file->name);
	size_t last = node_chunk_at(file, off + len - 1);
	if (last >= file->nchunks || last - i + 1 > max)
		return -E2BIG;
	size_t n = 0, done = 0;
	for (; i <= last; i++) {
		const struct node_chunk *c = &file->chunks[i];
		struct chunk_ref ref;
		int r = chunk_get(repo, c, &ref);
		if (r < 0) {
			content_unpin(repo, pieces, n);
			return r;
		}
		/* The cache entry, or the buffer itself when there is no cache. */
		void *hold = ref.e ? (void *)ref.e : (void *)ref.own;
		uint64_t in = off + done - c->off;
		size_t k = c->len - (size_t)in;
		if (k > len - done)
			k = len - done;
		pieces[n++] = (struct content_piece){ .data = ref.data + in, .len = k, .ref = hold };
		done += k;
	}
	if (done != len) { /* chunks that do not cover the size: content_read says why */
		content_unpin(repo, pieces, n);
		return -E2BIG;
	}
	return (ssize_t)n;
}

void content_unpin(struct repo *repo, struct content_piece *pieces, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (repo->cache)
			chunk_cache_release(repo->cache, pieces[i].ref);
		else
			free(pieces[i].ref);
	}
}

void content_prefetch(struct repo *repo, const struct node *file, uint64_t off)
{
	if (file->type != NODE_FILE || !repo->cache)
		return;
	size_t i = node_chunk_at(file, off);
	if (i >= file->nchunks)
		return;
	struct chunk_ref ref;
	if (chunk_get(repo, &file->chunks[i], &ref) == 0)
		chunk_release(repo, &ref);
}

int content_load_chunk(struct repo *repo, const struct node *file, size_t i, uint8_t **ret_data)
{
	if (file->type != NODE_FILE || i >= file->nchunks)
		return store_fail(-EINVAL, "%s: no chunk %zu", file->name, i);
	return chunk_load(repo, &file->chunks[i], ret_data);
}

uint64_t content_hint(struct repo *repo, const struct node *file, uint64_t max_bytes)
{
	uint64_t done = 0;
	if (file->type != NODE_FILE)
		return 0;
	for (size_t i = 0; i < file->nchunks && done < max_bytes; i++) {
		repo_hint_blob(repo, &file->chunks[i].id, BLOB_DATA);
		done += file->chunks[i].len;
	}
	return done;
}
