/* snaprec.c — snapshot records (format in snaprec.h). */
#include "store/snaprec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/le.h"

#define SNAPREC_VERSION 2
#define STR_NONE 0xffffffffu
#define STR_MAX (1u << 20)

struct buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		uint8_t *np = realloc(b->p, ncap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	le_put64(x, v);
	put(b, x, 8);
}

static void put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	le_put32(x, v);
	put(b, x, 4);
}

static void put_str(struct buf *b, const char *s)
{
	if (!s) {
		put_u32(b, STR_NONE);
		return;
	}
	size_t n = strlen(s);
	if (n > STR_MAX) {
		b->err = -E2BIG;
		return;
	}
	put_u32(b, (uint32_t)n);
	put(b, s, n);
}

int snaprec_encode(const struct snaprec *r, uint8_t **ret_buf, size_t *ret_len)
{
	struct buf b = { 0 };
	uint32_t version = r->version ? r->version : SNAPREC_VERSION;
	if (version > SNAPREC_VERSION)
		return store_fail(-EINVAL, "snapshot record: version %u unknown", version);
	put(&b, "CKPTSREC", 8);
	put_u32(&b, version);
	put_str(&b, r->project);
	put_str(&b, r->project_root);
	put_u64(&b, (uint64_t)r->time_ns);
	put_str(&b, r->message);
	put_str(&b, r->tag);
	put_str(&b, r->git_commit);
	put_str(&b, r->git_branch);
	put(&b, r->root.b, ID_BYTES);
	uint8_t st = (uint8_t)r->status;
	put(&b, &st, 1);
	put_u64(&b, r->stats.files);
	put_u64(&b, r->stats.dirs);
	put_u64(&b, r->stats.bytes);
	put_u64(&b, r->stats.new_blobs);
	put_u64(&b, r->stats.new_bytes);
	put_u64(&b, r->stats.read_bytes);
	put_u64(&b, (uint64_t)r->stats.duration_ns);
	put_str(&b, r->notes);
	if (version >= 2)
		put_str(&b, r->name);
	if (b.err) {
		free(b.p);
		return store_fail(b.err, "snapshot record: %s",
				  b.err == -E2BIG ? "a field is too long" : "out of memory");
	}
	*ret_buf = b.p;
	*ret_len = b.len;
	return 0;
}

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static void get(struct rd *d, void *dst, size_t n)
{
	if (d->bad || d->left < n) {
		d->bad = true;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, d->p, n);
	d->p += n;
	d->left -= n;
}

static uint64_t get_u64(struct rd *d)
{
	uint8_t x[8];
	get(d, x, 8);
	return le_get64(x);
}

static uint32_t get_u32(struct rd *d)
{
	uint8_t x[4];
	get(d, x, 4);
	return le_get32(x);
}

/* A string field; *out NULL for none.  Marks d bad on malformed input and
 * returns -ENOMEM only for allocation failure. */
static int get_str(struct rd *d, char **out)
{
	*out = NULL;
	uint32_t n = get_u32(d);
	if (d->bad || n == STR_NONE)
		return 0;
	if (n > STR_MAX || n > d->left || memchr(d->p, 0, n)) {
		d->bad = true;
		return 0;
	}
	char *s = malloc((size_t)n + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, d->p, n);
	s[n] = 0;
	d->p += n;
	d->left -= n;
	*out = s;
	return 0;
}

void snaprec_clear(struct snaprec *r)
{
	if (!r)
		return;
	free(r->project);
	free(r->project_root);
	free(r->message);
	free(r->tag);
	free(r->git_commit);
	free(r->git_branch);
	free(r->notes);
	free(r->name);
	memset(r, 0, sizeof *r);
}

int snaprec_decode(const uint8_t *buf, size_t len, struct snaprec *ret)
{
	struct rd d = { buf, len, false };
	struct snaprec r = { 0 };
	char magic[8];
	int e = 0;
	get(&d, magic, 8);
	uint32_t version = get_u32(&d);
	if (d.bad || memcmp(magic, "CKPTSREC", 8) != 0)
		return store_fail(-STORE_ECORRUPT, "snapshot record: bad magic");
	if (version > SNAPREC_VERSION)
		return store_fail(-STORE_ENEWER, "snapshot record: version %u is newer than this ckptfs",
				  version);
	if (version != 1 && version != 2)
		return store_fail(-STORE_ECORRUPT, "snapshot record: bad version %u", version);
	r.version = version;
	e |= get_str(&d, &r.project);
	e |= get_str(&d, &r.project_root);
	r.time_ns = (int64_t)get_u64(&d);
	e |= get_str(&d, &r.message);
	e |= get_str(&d, &r.tag);
	e |= get_str(&d, &r.git_commit);
	e |= get_str(&d, &r.git_branch);
	get(&d, r.root.b, ID_BYTES);
	uint8_t st = 0;
	get(&d, &st, 1);
	r.status = (enum snap_status)st;
	r.stats.files = get_u64(&d);
	r.stats.dirs = get_u64(&d);
	r.stats.bytes = get_u64(&d);
	r.stats.new_blobs = get_u64(&d);
	r.stats.new_bytes = get_u64(&d);
	r.stats.read_bytes = get_u64(&d);
	r.stats.duration_ns = (int64_t)get_u64(&d);
	e |= get_str(&d, &r.notes);
	if (version >= 2)
		e |= get_str(&d, &r.name);
	if (e) {
		snaprec_clear(&r);
		return store_fail(-ENOMEM, "snapshot record: out of memory");
	}
	const char *why = NULL;
	if (d.bad)
		why = "truncated or malformed";
	else if (d.left)
		why = "trailing bytes";
	else if (!r.project || !r.project[0] || strchr(r.project, '/'))
		why = "bad project name";
	else if (!r.project_root || r.project_root[0] != '/')
		why = "bad project root";
	else if (st > SNAP_DAMAGED)
		why = "bad status";
	else if (id_is_zero(&r.root))
		why = "no root tree";
	else if (r.name && !catalog_snapshot_name_ok(r.name))
		why = "bad snapshot name";
	if (why) {
		snaprec_clear(&r);
		return store_fail(-STORE_ECORRUPT, "snapshot record: %s", why);
	}
	*ret = r;
	return 0;
}
