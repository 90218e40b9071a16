/* tree_decode.c — parsing and validating an encoded tree (format: see the
 * top of tree_encode.c).
 *
 * The input is untrusted (a damaged or planted blob; this parser is
 * fuzzed): every read is bounds-checked, every count is capped against
 * the bytes left before anything is allocated, and every rule the encoder
 * follows is checked.  Any violation is STORE_ECORRUPT with a message
 * saying what was wrong and where.
 */
#include "store/tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/tree_format.h"
#include "store/tree_internal.h"

struct dec {
	const uint8_t *p;
	size_t len, pos;
	const char *what; /* "tree" or "tree <id>" */
	size_t index;     /* entry being parsed */
	char name[80];    /* its name, printable, for messages ("" before known) */
};

static int corrupt(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int corrupt(struct dec *d, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (d->name[0])
		return store_fail(-STORE_ECORRUPT, "%s: entry %zu \"%s\": %s", d->what, d->index,
				  d->name, msg);
	return store_fail(-STORE_ECORRUPT, "%s: offset %zu: %s", d->what, d->pos, msg);
}

/* Names may hold any byte but '/' and NUL: keep messages on one line. */
static void printable(char *out, size_t cap, const uint8_t *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < cap; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	if (o + 4 >= cap && len > o) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int rd_varint(struct dec *d, uint64_t *ret, const char *field)
{
	uint64_t v = 0;
	for (unsigned shift = 0, i = 0;; shift += 7, i++) {
		if (d->pos >= d->len)
			return corrupt(d, "truncated in %s", field);
		uint8_t byte = d->p[d->pos++];
		if (i == 9 && byte > 1)
			return corrupt(d, "%s overflows 64 bits", field);
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			/* A final zero group after others is a non-minimal
			 * encoding: reject it so each tree has one encoding. */
			if (byte == 0 && i > 0)
				return corrupt(d, "%s is not minimally encoded", field);
			*ret = v;
			return 0;
		}
	}
}

static int rd_zigzag(struct dec *d, int64_t *ret, const char *field)
{
	uint64_t u = 0;
	int r = rd_varint(d, &u, field);
	if (r < 0)
		return r;
	*ret = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
	return 0;
}

/* A varint that must lie in [lo, hi]. */
static int rd_range(struct dec *d, uint64_t lo, uint64_t hi, uint64_t *ret, const char *field)
{
	int r = rd_varint(d, ret, field);
	if (r < 0)
		return r;
	if (*ret < lo || *ret > hi)
		return corrupt(d, "%s %llu out of range [%llu, %llu]", field,
			       (unsigned long long)*ret, (unsigned long long)lo,
			       (unsigned long long)hi);
	return 0;
}

static int rd_bytes(struct dec *d, size_t n, const uint8_t **ret, const char *field)
{
	if (d->len - d->pos < n)
		return corrupt(d, "truncated in %s", field);
	*ret = d->p + d->pos;
	d->pos += n;
	return 0;
}

static size_t left(const struct dec *d)
{
	return d->len - d->pos;
}

static char *dup_bytes(const uint8_t *s, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

static int rd_file(struct dec *d, struct node *n)
{
	uint64_t size = 0, count = 0, len = 0;
	const uint8_t *id = NULL;
	int r;

	if ((r = rd_varint(d, &size, "size")) < 0 ||
	    (r = rd_varint(d, &count, "chunk count")) < 0)
		return r;
	if (count > left(d) / TREE_MIN_CHUNK)
		return corrupt(d, "chunk count %llu exceeds the remaining %zu bytes",
			       (unsigned long long)count, left(d));
	if (count) {
		n->chunks = calloc(count, sizeof *n->chunks);
		if (!n->chunks)
			return store_fail(-ENOMEM, "%s: out of memory", d->what);
	}
	uint64_t off = 0;
	for (size_t i = 0; i < count; i++) {
		if ((r = rd_bytes(d, ID_BYTES, &id, "chunk id")) < 0 ||
		    (r = rd_range(d, 1, BLOB_MAX_RAW, &len, "chunk length")) < 0)
			return r;
		memcpy(n->chunks[i].id.b, id, ID_BYTES);
		n->chunks[i].off = off;
		n->chunks[i].len = (uint32_t)len;
		n->nchunks = i + 1;
		/* count * BLOB_MAX_RAW fits easily in 64 bits: no overflow. */
		off += len;
	}
	bool free_size = (n->flags & NODE_F_UNREADABLE) && count == 0;
	if (!free_size && off != size)
		return corrupt(d, "size %llu but chunks hold %llu bytes",
			       (unsigned long long)size, (unsigned long long)off);
	n->size = size;
	return 0;
}

static int rd_xattrs(struct dec *d, struct node *n)
{
	uint64_t count = 0, nl = 0, vl = 0;
	const uint8_t *name = NULL, *value = NULL;
	int r;

	if ((r = rd_varint(d, &count, "xattr count")) < 0)
		return r;
	if (count > left(d) / TREE_MIN_XATTR)
		return corrupt(d, "xattr count %llu exceeds the remaining %zu bytes",
			       (unsigned long long)count, left(d));
	if (count) {
		n->xattrs = calloc(count, sizeof *n->xattrs);
		if (!n->xattrs)
			return store_fail(-ENOMEM, "%s: out of memory", d->what);
	}
	for (size_t i = 0; i < count; i++) {
		struct node_xattr *x = &n->xattrs[i];
		if ((r = rd_range(d, 1, TREE_XATTR_NAME_MAX, &nl, "xattr name length")) < 0 ||
		    (r = rd_bytes(d, nl, &name, "xattr name")) < 0)
			return r;
		if (memchr(name, '\0', nl))
			return corrupt(d, "xattr name holds NUL");
		if (i > 0) {
			const char *prev = n->xattrs[i - 1].name;
			size_t pl = strlen(prev);
			int c = memcmp(prev, name, pl < nl ? pl : nl);
			if (c > 0 || (c == 0 && pl >= nl))
				return corrupt(d, "xattrs unsorted or duplicate");
		}
		if ((r = rd_range(d, 0, TREE_XATTR_VALUE_MAX, &vl, "xattr value length")) < 0 ||
		    (r = rd_bytes(d, vl, &value, "xattr value")) < 0)
			return r;
		x->name = dup_bytes(name, nl);
		x->value = malloc(vl ? vl : 1);
		n->nxattrs = i + 1;
		if (!x->name || !x->value)
			return store_fail(-ENOMEM, "%s: out of memory", d->what);
		memcpy(x->value, value, vl);
		x->value_len = vl;
	}
	return 0;
}

static int rd_node(struct dec *d, struct node *n, const struct node *prev)
{
	uint64_t nl = 0, v = 0;
	const uint8_t *name = NULL, *p = NULL;
	int r;

	d->name[0] = '\0';
	if ((r = rd_varint(d, &nl, "name length")) < 0)
		return r;
	if (nl == 0 || nl > TREE_NAME_MAX)
		return corrupt(d, "entry %zu: name length %llu", d->index, (unsigned long long)nl);
	if ((r = rd_bytes(d, nl, &name, "name")) < 0)
		return r;
	printable(d->name, sizeof d->name, name, nl);
	if (!tree_name_valid((const char *)name, nl))
		return corrupt(d, "invalid name (\"\", \".\", \"..\", or holds '/' or NUL)");
	if (prev) {
		size_t pl = strlen(prev->name);
		int c = memcmp(prev->name, name, pl < nl ? pl : nl);
		if (c == 0 && pl == nl)
			return corrupt(d, "duplicate name");
		if (c > 0 || (c == 0 && pl > nl))
			return corrupt(d, "names not sorted");
	}
	n->name = dup_bytes(name, nl);
	if (!n->name)
		return store_fail(-ENOMEM, "%s: out of memory", d->what);

	if ((r = rd_bytes(d, 1, &p, "type")) < 0)
		return r;
	if (p[0] < NODE_FILE || p[0] > NODE_SOCK)
		return corrupt(d, "unknown type %u", p[0]);
	n->type = p[0];
	if ((r = rd_varint(d, &v, "flags")) < 0)
		return r;
	if (v & ~(uint64_t)TREE_KNOWN_FLAGS)
		return corrupt(d, "unknown flags 0x%llx", (unsigned long long)v);
	n->flags = (uint32_t)v;
	if ((r = rd_range(d, 0, TREE_MODE_MASK, &v, "mode")) < 0)
		return r;
	n->mode = (uint32_t)v;
	if ((r = rd_range(d, 0, UINT32_MAX, &v, "uid")) < 0)
		return r;
	n->uid = (uint32_t)v;
	if ((r = rd_range(d, 0, UINT32_MAX, &v, "gid")) < 0)
		return r;
	n->gid = (uint32_t)v;
	int64_t delta = 0;
	if ((r = rd_zigzag(d, &n->mtime_ns, "mtime")) < 0 ||
	    (r = rd_zigzag(d, &delta, "ctime")) < 0 || (r = rd_varint(d, &n->dev, "dev")) < 0 ||
	    (r = rd_varint(d, &n->ino, "ino")) < 0)
		return r;
	n->ctime_ns = (int64_t)((uint64_t)n->mtime_ns + (uint64_t)delta);

	switch (n->type) {
	case NODE_FILE:
		r = rd_file(d, n);
		break;
	case NODE_DIR:
		if ((r = rd_bytes(d, ID_BYTES, &p, "subtree id")) == 0)
			memcpy(n->subtree.b, p, ID_BYTES);
		break;
	case NODE_SYMLINK:
		if ((r = rd_range(d, 1, TREE_TARGET_MAX, &v, "symlink target length")) < 0 ||
		    (r = rd_bytes(d, v, &p, "symlink target")) < 0)
			break;
		if (memchr(p, '\0', v)) {
			r = corrupt(d, "symlink target holds NUL");
			break;
		}
		n->size = v;
		n->target = dup_bytes(p, v);
		if (!n->target)
			r = store_fail(-ENOMEM, "%s: out of memory", d->what);
		break;
	case NODE_CHR:
	case NODE_BLK:
		r = rd_varint(d, &n->rdev, "rdev");
		break;
	default:
		r = 0;
		break;
	}
	if (r < 0)
		return r;
	return rd_xattrs(d, n);
}

/* The folder's own mode, uid and gid (formats 2 and 3) and its reach
 * (format 3). */
static int rd_self(struct dec *d, bool with_reach, struct tree_self *ret)
{
	uint64_t mode, uid, gid, reach = TREE_REACH_UNKNOWN;
	int r;
	if ((r = rd_range(d, 0, TREE_MODE_MASK, &mode, "folder mode")) < 0 ||
	    (r = rd_range(d, 0, UINT32_MAX, &uid, "folder uid")) < 0 ||
	    (r = rd_range(d, 0, UINT32_MAX, &gid, "folder gid")) < 0 ||
	    (with_reach && (r = rd_range(d, 0, 0777, &reach, "folder reach")) < 0))
		return r;
	*ret = (struct tree_self){ (uint32_t)mode, (uint32_t)uid, (uint32_t)gid, (uint32_t)reach };
	return 0;
}

int tree_decode_named(const uint8_t *buf, size_t len, const char *what, struct tree **ret_tree)
{
	struct dec d = { .p = buf, .len = len, .what = what };
	struct tree *t;
	uint64_t count = 0;
	const uint8_t *ver = NULL;
	int r;

	if ((r = rd_bytes(&d, 1, &ver, "version")) < 0)
		return r;
	if (ver[0] != TREE_FORMAT_VERSION && ver[0] != TREE_FORMAT_SELF_NO_REACH &&
	    ver[0] != TREE_FORMAT_NO_SELF) {
		if (ver[0] > TREE_FORMAT_VERSION)
			return store_fail(-STORE_ENEWER, "%s: format %u is newer than this ckptfs (%u)",
					  what, ver[0], TREE_FORMAT_VERSION);
		return corrupt(&d, "unknown format version %u", ver[0]);
	}
	struct tree_self self = { 0 };
	bool has_self = ver[0] != TREE_FORMAT_NO_SELF;
	if (has_self && (r = rd_self(&d, ver[0] == TREE_FORMAT_VERSION, &self)) < 0)
		return r;
	if ((r = rd_varint(&d, &count, "entry count")) < 0)
		return r;
	if (count > left(&d) / TREE_MIN_NODE)
		return corrupt(&d, "entry count %llu exceeds the remaining %zu bytes",
			       (unsigned long long)count, left(&d));
	t = calloc(1, sizeof *t);
	if (!t)
		return store_fail(-ENOMEM, "%s: out of memory", what);
	t->has_self = has_self;
	t->self = self;
	if (count) {
		t->nodes = calloc(count, sizeof *t->nodes);
		if (!t->nodes) {
			r = store_fail(-ENOMEM, "%s: out of memory", what);
			goto fail;
		}
	}
	for (size_t i = 0; i < count; i++) {
		d.index = i;
		t->n = i + 1; /* so tree_free clears a partly parsed node */
		r = rd_node(&d, &t->nodes[i], i ? &t->nodes[i - 1] : NULL);
		if (r < 0)
			goto fail;
	}
	d.name[0] = '\0';
	if (d.pos != d.len) {
		r = corrupt(&d, "%zu bytes of trailing garbage", d.len - d.pos);
		goto fail;
	}
	*ret_tree = t;
	return 0;
fail:
	tree_free(t);
	return r;
}

int tree_decode(const uint8_t *buf, size_t len, struct tree **ret_tree)
{
	return tree_decode_named(buf, len, "tree", ret_tree);
}
