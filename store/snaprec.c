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

/* ---- state records ---- */

#define STATE_MAGIC "CKPTSSTA"
#define STATE_VERSION 1

int snaprec_state_encode(const struct snaprec_state_rec *r, uint8_t **ret_buf, size_t *ret_len)
{
	struct buf b = { 0 };
	put(&b, STATE_MAGIC, 8);
	put_u32(&b, STATE_VERSION);
	put_u64(&b, (uint64_t)r->time_ns);
	put(&b, r->root.b, ID_BYTES);
	put_str(&b, r->name);
	uint8_t st = (uint8_t)r->state;
	put(&b, &st, 1);
	put_u64(&b, (uint64_t)r->trashed_at_ns);
	put_u64(&b, (uint64_t)r->expires_at_ns);
	put_u64(&b, (uint64_t)r->changed_ns);
	if (b.err) {
		free(b.p);
		return store_fail(b.err, "snapshot state record: %s",
				  b.err == -E2BIG ? "the name is too long" : "out of memory");
	}
	*ret_buf = b.p;
	*ret_len = b.len;
	return 0;
}

void snaprec_state_clear(struct snaprec_state_rec *r)
{
	if (!r)
		return;
	free(r->name);
	memset(r, 0, sizeof *r);
}

int snaprec_state_decode(const uint8_t *buf, size_t len, struct snaprec_state_rec *ret)
{
	struct rd d = { buf, len, false };
	struct snaprec_state_rec r = { 0 };
	char magic[8];
	get(&d, magic, 8);
	uint32_t version = get_u32(&d);
	if (d.bad || memcmp(magic, STATE_MAGIC, 8) != 0)
		return store_fail(-STORE_ECORRUPT, "snapshot state record: bad magic");
	if (version > STATE_VERSION)
		return store_fail(-STORE_ENEWER,
				  "snapshot state record: version %u is newer than this ckptfs", version);
	if (version != STATE_VERSION)
		return store_fail(-STORE_ECORRUPT, "snapshot state record: bad version %u", version);
	r.time_ns = (int64_t)get_u64(&d);
	get(&d, r.root.b, ID_BYTES);
	if (get_str(&d, &r.name) < 0)
		return store_fail(-ENOMEM, "snapshot state record: out of memory");
	uint8_t st = 0;
	get(&d, &st, 1);
	r.state = (enum snaprec_state)st;
	r.trashed_at_ns = (int64_t)get_u64(&d);
	r.expires_at_ns = (int64_t)get_u64(&d);
	r.changed_ns = (int64_t)get_u64(&d);
	const char *why = NULL;
	if (d.bad)
		why = "truncated or malformed";
	else if (d.left)
		why = "trailing bytes";
	else if (id_is_zero(&r.root))
		why = "no root tree";
	else if (!r.name || !catalog_snapshot_name_ok(r.name))
		why = "bad snapshot name";
	else if (st > SNAPREC_EMPTIED)
		why = "bad state";
	else if (st == SNAPREC_TRASHED ? r.trashed_at_ns < 0 || r.expires_at_ns < r.trashed_at_ns
				       : r.trashed_at_ns || r.expires_at_ns)
		why = "bad trash window";
	else if (r.changed_ns < 0)
		why = "bad change time";
	if (why) {
		snaprec_state_clear(&r);
		return store_fail(-STORE_ECORRUPT, "snapshot state record: %s", why);
	}
	*ret = r;
	return 0;
}

bool snaprec_state_newer(const struct snaprec_state_rec *b, const struct snaprec_state_rec *a)
{
	return b->changed_ns > a->changed_ns ||
	       (b->changed_ns == a->changed_ns && b->state > a->state);
}

int snaprec_kind(const uint8_t *buf, size_t len)
{
	if (len >= 8 && memcmp(buf, "CKPTSREC", 8) == 0)
		return 1;
	if (len >= 8 && memcmp(buf, STATE_MAGIC, 8) == 0)
		return 2;
	return 0;
}

int snaprec_key(const uint8_t *buf, size_t len, int64_t *ret_time_ns, blob_id *ret_root)
{
	int r;
	if (snaprec_kind(buf, len) == 2) {
		struct snaprec_state_rec s;
		if ((r = snaprec_state_decode(buf, len, &s)) < 0)
			return r;
		*ret_time_ns = s.time_ns;
		*ret_root = s.root;
		snaprec_state_clear(&s);
		return 0;
	}
	struct snaprec rec;
	if ((r = snaprec_decode(buf, len, &rec)) < 0)
		return r;
	*ret_time_ns = rec.time_ns;
	*ret_root = rec.root;
	snaprec_clear(&rec);
	return 0;
}
