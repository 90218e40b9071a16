/* tree_encode.c — serializing a directory tree into a blob.
 *
 * Format, versions 1 to 3.  "varint" is unsigned LEB128 (7 bits per byte, low
 * group first, minimal length, at most 10 bytes); "zigzag" is a signed
 * value mapped to unsigned ((v << 1) ^ (v >> 63)) and written as a varint.
 *
 *   tree   := version:u8 (= 1)  count:varint  node{count}
 *           | version:u8 (= 3)  self  count:varint  node{count}
 *   self   := mode:varint  uid:varint  gid:varint    the folder's own
 *             reach:varint         rwx bits the path to it let through
 *   (version 2, read only: self without reach)
 *   node   := name_len:varint  name[name_len]          1..255 bytes
 *             type:u8                                   enum node_type
 *             flags:varint  mode:varint  uid:varint  gid:varint
 *             mtime_ns:zigzag
 *             ctime_delta:zigzag     ctime_ns - mtime_ns (64-bit wrapping)
 *             dev:varint  ino:varint
 *             body
 *             nxattrs:varint  xattr{nxattrs}
 *   body   := FILE:     size:varint  nchunks:varint  (id[32] len:varint){nchunks}
 *             DIR:      subtree id[32]
 *             SYMLINK:  target_len:varint  target[target_len]
 *             CHR, BLK: rdev:varint
 *             FIFO, SOCK: nothing
 *   xattr  := name_len:varint  name[name_len]  value_len:varint  value[value_len]
 *
 * Nodes are sorted by name (memcmp order, no duplicates) and xattrs by
 * name, so equal trees encode to equal bytes and hence equal ids.  Chunk
 * offsets are not stored: decoding computes them as prefix sums of the
 * lengths.  A file's size is stored although it is the sum of its chunk
 * lengths, so the decoder can cross-check the two; only a file flagged
 * NODE_F_UNREADABLE with no chunks may have any size (its stat size).  A
 * symlink's size is its target's length; other types have size 0.
 * ctime is stored relative to mtime because the two are usually close.
 * The rules tree_decode.c enforces are the same ones checked here.
 */
#include "store/tree.h"

#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/tree_format.h"

struct obuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void ob_reserve(struct obuf *b, size_t more)
{
	if (b->err || b->cap - b->len >= more)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void ob_bytes(struct obuf *b, const void *data, size_t len)
{
	ob_reserve(b, len);
	if (b->err || len == 0)
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void ob_varint(struct obuf *b, uint64_t v)
{
	ob_reserve(b, 10);
	if (b->err)
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

static void ob_zigzag(struct obuf *b, int64_t v)
{
	ob_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void ob_u8(struct obuf *b, uint8_t v)
{
	ob_bytes(b, &v, 1);
}

/* The encoder refuses what the decoder would reject, so a bug in a
 * caller is reported at write time instead of producing a tree that can
 * never be read back. */
static int check_node(const struct node *n, const struct node *prev)
{
	size_t nlen = n->name ? strlen(n->name) : 0;
	if (!n->name || !tree_name_valid(n->name, nlen))
		return store_fail(-EINVAL, "tree encode: invalid entry name \"%s\"",
				  n->name ? n->name : "(null)");
	if (prev && strcmp(prev->name, n->name) >= 0)
		return store_fail(-EINVAL, "tree encode: entries not sorted at \"%s\"", n->name);
	if (n->type < NODE_FILE || n->type > NODE_SOCK)
		return store_fail(-EINVAL, "tree encode: %s: unknown type %u", n->name, n->type);
	if (n->flags & ~TREE_KNOWN_FLAGS)
		return store_fail(-EINVAL, "tree encode: %s: unknown flags 0x%x", n->name, n->flags);
	if (n->mode & ~TREE_MODE_MASK)
		return store_fail(-EINVAL, "tree encode: %s: mode 0%o has type bits", n->name,
				  n->mode);
	if (n->type == NODE_FILE) {
		uint64_t sum = 0;
		for (size_t i = 0; i < n->nchunks; i++) {
			if (n->chunks[i].len == 0 || n->chunks[i].len > BLOB_MAX_RAW)
				return store_fail(-EINVAL, "tree encode: %s: chunk %zu length %u",
						  n->name, i, n->chunks[i].len);
			sum += n->chunks[i].len;
		}
		bool free_size = (n->flags & NODE_F_UNREADABLE) && n->nchunks == 0;
		if (!free_size && sum != n->size)
			return store_fail(-EINVAL,
					  "tree encode: %s: size %llu but chunks hold %llu bytes",
					  n->name, (unsigned long long)n->size,
					  (unsigned long long)sum);
	}
	if (n->type == NODE_SYMLINK) {
		size_t tlen = n->target ? strlen(n->target) : 0;
		if (tlen == 0 || tlen > TREE_TARGET_MAX)
			return store_fail(-EINVAL, "tree encode: %s: symlink target length %zu",
					  n->name, tlen);
	}
	for (size_t i = 0; i < n->nxattrs; i++) {
		const struct node_xattr *x = &n->xattrs[i];
		size_t xl = x->name ? strlen(x->name) : 0;
		if (xl == 0 || xl > TREE_XATTR_NAME_MAX || x->value_len > TREE_XATTR_VALUE_MAX)
			return store_fail(-EINVAL, "tree encode: %s: invalid xattr %zu", n->name, i);
		if (i > 0 && strcmp(n->xattrs[i - 1].name, x->name) >= 0)
			return store_fail(-EINVAL, "tree encode: %s: xattrs not sorted at %s",
					  n->name, x->name);
	}
	return 0;
}

static void encode_node(struct obuf *b, const struct node *n)
{
	size_t nlen = strlen(n->name);
	ob_varint(b, nlen);
	ob_bytes(b, n->name, nlen);
	ob_u8(b, n->type);
	ob_varint(b, n->flags);
	ob_varint(b, n->mode);
	ob_varint(b, n->uid);
	ob_varint(b, n->gid);
	ob_zigzag(b, n->mtime_ns);
	ob_zigzag(b, (int64_t)((uint64_t)n->ctime_ns - (uint64_t)n->mtime_ns));
	ob_varint(b, n->dev);
	ob_varint(b, n->ino);
	switch (n->type) {
	case NODE_FILE:
		ob_varint(b, n->size);
		ob_varint(b, n->nchunks);
		for (size_t i = 0; i < n->nchunks; i++) {
			ob_bytes(b, n->chunks[i].id.b, ID_BYTES);
			ob_varint(b, n->chunks[i].len);
		}
		break;
	case NODE_DIR:
		ob_bytes(b, n->subtree.b, ID_BYTES);
		break;
	case NODE_SYMLINK: {
		size_t tlen = strlen(n->target);
		ob_varint(b, tlen);
		ob_bytes(b, n->target, tlen);
		break;
	}
	case NODE_CHR:
	case NODE_BLK:
		ob_varint(b, n->rdev);
		break;
	default:
		break;
	}
	ob_varint(b, n->nxattrs);
	for (size_t i = 0; i < n->nxattrs; i++) {
		const struct node_xattr *x = &n->xattrs[i];
		size_t xl = strlen(x->name);
		ob_varint(b, xl);
		ob_bytes(b, x->name, xl);
		ob_varint(b, x->value_len);
		ob_bytes(b, x->value, x->value_len);
	}
}

int tree_encode(const struct tree *t, uint8_t **ret_buf, size_t *ret_len)
{
	struct obuf b = { 0 };
	int r;

	for (size_t i = 0; i < t->n; i++) {
		r = check_node(&t->nodes[i], i ? &t->nodes[i - 1] : NULL);
		if (r < 0)
			return r;
	}
	if (t->has_self && (t->self.mode & ~TREE_MODE_MASK))
		return store_fail(-EINVAL, "tree encode: folder mode 0%o has type bits",
				  t->self.mode);
	if (t->has_self && (t->self.reach & ~0777u))
		return store_fail(-EINVAL, "tree encode: folder reach 0%o is not rwx bits",
				  t->self.reach);
	if (t->has_self) {
		ob_u8(&b, TREE_FORMAT_VERSION);
		ob_varint(&b, t->self.mode);
		ob_varint(&b, t->self.uid);
		ob_varint(&b, t->self.gid);
		ob_varint(&b, t->self.reach);
	} else {
		ob_u8(&b, TREE_FORMAT_NO_SELF);
	}
	ob_varint(&b, t->n);
	for (size_t i = 0; i < t->n; i++)
		encode_node(&b, &t->nodes[i]);
	if (b.err) {
		free(b.p);
		return store_fail(b.err, "tree encode: out of memory");
	}
	if (b.len > BLOB_MAX_RAW) {
		free(b.p);
		return store_fail(-EFBIG, "tree encode: directory of %zu entries encodes to %zu bytes, more than a blob holds",
				  t->n, b.len);
	}
	*ret_buf = b.p;
	*ret_len = b.len;
	return 0;
}
