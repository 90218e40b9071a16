/* gc_repack.c — copying the live blobs of sparse packs into new ones.
 *
 * Blobs are copied as stored (still sealed: the AEAD's associated data is
 * the blob's id and type, and its nonce travels with it, so the bytes stay
 * valid wherever they lie; pack_format.h has no offset in either), after
 * their xxh3 is checked against the index, so no key work is spent and
 * bit rot is not copied silently.  Nothing is decompressed or re-sealed.
 *
 * Reading is shaped for the disk, not for the blob: an old pack's live
 * rows come from the plan's one scan of the blob index, by offset, and neighbouring live blobs are
 * read in one pread of up to RUN_MAX bytes, reading through dead gaps of
 * up to RUN_GAP (a dense pack is read in a few large sequential reads, a
 * sparse one without its dead stretches).  While one old pack is copied
 * the kernel is already reading the next one's runs (POSIX_FADV_WILLNEED),
 * so the disk works during the copy and the new pack's writes.
 *
 * Old packs are consumed whole: a new pack is finished (fsync, journal,
 * rename, directory fsync: pack_writer_finish) once it passes the target
 * size at an old pack's end, and handed to the mover (gc_move.c), whose
 * thread points the moved rows at it inside an open transaction while
 * the next packs are copied.  Once GC_COMMIT_BYTES of new packs are
 * handed over (and at the end) that transaction drops the old packs they
 * replaced and commits, and only then are their files unlinked.  Killed
 * before the commit: the journals make the next writer index the new
 * packs, whose blobs are all indexed elsewhere already, and the next gc
 * deletes them.  Killed after it: the old files are unlisted garbage for
 * the next gc.  The unlinks themselves run in the reaper's thread
 * (gc_reap.c), alongside the copy of the next packs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

/* New packs committed together: one transaction per GC_COMMIT_BYTES of
 * them (the old packs they replace stay on disk until then). */
#define GC_COMMIT_BYTES (256ull << 20)
#define RUN_GAP (64u << 10) /* dead bytes read through rather than seeked over */
#define RUN_MAX (4u << 20)  /* bytes of one read (a larger blob is read alone) */

/* An old pack being repacked: its live rows by offset (the plan's). */
struct old_pack {
	const struct gc_pack *k;
	int fd;
	const struct gc_live *l;
	size_t n;
};

struct repacker {
	struct repo *repo;
	const struct gc_plan *plan;
	struct gc_result *res;
	struct gc_mover *mover; /* the catalog side, in its own thread */
	struct pack_writer *pw;
	const struct gc_pack **olds; /* consumed into pw, not handed to the mover yet */
	size_t nolds, capolds;
	uint64_t uncommitted; /* bytes of new packs handed over since the last commit */
	uint8_t *buf;
	size_t bufcap;
};

static void old_close(struct old_pack *o)
{
	if (o->fd >= 0)
		close(o->fd);
	*o = (struct old_pack){ .fd = -1 };
}

static int old_open(struct repacker *rp, const struct gc_pack *k, struct old_pack *o)
{
	*o = (struct old_pack){ .k = k, .fd = -1, .l = rp->plan->live + k->first, .n = k->nlive };
	int r = 0;
	for (size_t i = 0; r >= 0 && i < o->n; i++) {
		const struct pack_entry *e = &o->l[i].e;
		/* Bounded, so a run's end cannot overflow (a damaged row
		 * fails here, not as a wild read). */
		if (e->offset > INT64_MAX || e->length > BLOB_OVERHEAD + BLOB_MAX_RAW)
			r = store_fail(-STORE_ECORRUPT,
				       "gc: pack %s: a blob row has offset %llu, length %u; nothing "
				       "of it was copied (run ckptfs check)",
				       k->name, (unsigned long long)e->offset, e->length);
	}
	if (r >= 0) {
		char path[64];
		pack_path(k->name, path, sizeof path);
		o->fd = openat(rp->repo->dirfd, path, O_RDONLY | O_CLOEXEC);
		if (o->fd < 0)
			r = store_failp(-errno, "gc: pack %s", k->name);
	}
	if (r < 0)
		old_close(o);
	return r;
}

/* The next run from entry *i on: entries [*i, *ret_end) lie in bytes
 * [*ret_off, *ret_off + *ret_len).  False at the end. */
static bool next_run(const struct old_pack *o, size_t *i, size_t *ret_end, uint64_t *ret_off,
		     uint64_t *ret_len)
{
	if (*i >= o->n)
		return false;
	uint64_t off = o->l[*i].e.offset, end = off + o->l[*i].e.length;
	size_t j = *i + 1;
	for (; j < o->n; j++) {
		const struct pack_entry *e = &o->l[j].e;
		uint64_t e_end = e->offset + e->length;
		if (e->offset > end + RUN_GAP || (e_end > end ? e_end : end) - off > RUN_MAX)
			break;
		if (e_end > end)
			end = e_end;
	}
	*ret_end = j;
	*ret_off = off;
	*ret_len = end - off;
	return true;
}

/* Ask the kernel to start reading every run of o (no wait). */
static void old_prefetch(const struct old_pack *o)
{
	size_t i = 0, end;
	uint64_t off, len;
	while (next_run(o, &i, &end, &off, &len)) {
		(void)posix_fadvise(o->fd, (off_t)off, (off_t)len, POSIX_FADV_WILLNEED);
		i = end;
	}
}

/* Finish pw if there is one (durable, journalled) and hand it to the
 * mover with the old packs consumed since the last hand-over (all of
 * their live blobs are in finished packs now); commit once
 * GC_COMMIT_BYTES of new packs wait for it, and with last. */
static int finish_new(struct repacker *rp, bool last)
{
	struct catalog_gc_pack p = { 0 };
	int r = 0;
	if (rp->pw) {
		const struct pack_entry *e;
		r = pack_writer_finish(rp->pw, p.name, &e, &p.n, &p.size);
		if (r >= 0 && !(p.e = malloc((p.n ? p.n : 1) * sizeof *p.e)))
			r = store_fail(-ENOMEM, "gc: out of memory");
		if (r >= 0)
			memcpy(p.e, e, p.n * sizeof *p.e);
		pack_writer_free(rp->pw);
		rp->pw = NULL;
		if (r < 0)
			return r;
		rp->uncommitted += p.size;
	}
	if (!p.e && !rp->nolds && !last)
		return 0;
	bool commit = last || rp->uncommitted >= GC_COMMIT_BYTES;
	r = gc_mover_put(rp->mover, p.e ? &p : NULL, rp->olds, rp->nolds, commit);
	rp->nolds = 0;
	if (commit)
		rp->uncommitted = 0;
	return r;
}

static int copy_blob(struct repacker *rp, const struct gc_pack *k, const struct pack_entry *e,
		     const uint8_t *stored)
{
	if (XXH3_64bits(stored, e->length) != e->xxh) {
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&e->id, hex);
		return store_fail(-STORE_ECORRUPT,
				  "gc: blob %.16s in pack %s at %llu: stored bytes do not match "
				  "their checksum; pack left as it is (run ckptfs check --read-data)",
				  hex, k->name, (unsigned long long)e->offset);
	}
	int r;
	if (!rp->pw) {
		struct blob_codec *c = repo_codec(rp->repo);
		if (!c)
			return store_fail(-ENOMEM, "gc: out of memory");
		if ((r = pack_writer_open(rp->repo->dirfd, c, &rp->pw)) < 0)
			return r;
	}
	r = pack_writer_add(rp->pw, &e->id, e->type, stored, e->length, e->raw_length, NULL);
	if (r >= 0)
		rp->res->bytes_rewritten += e->length;
	return r;
}

/* Read o's runs one pread each and copy their live blobs into pw. */
static int copy_live(struct repacker *rp, const struct old_pack *o)
{
	size_t i = 0, end;
	uint64_t off, len;
	int r = 0;
	while (r >= 0 && next_run(o, &i, &end, &off, &len)) {
		if (len > rp->bufcap) {
			uint8_t *nb = realloc(rp->buf, len);
			if (!nb)
				return store_fail(-ENOMEM, "gc: out of memory");
			rp->buf = nb;
			rp->bufcap = len;
		}
		r = pack_pread_blob(o->fd, o->k->name, off, (uint32_t)len, rp->buf);
		for (; r >= 0 && i < end; i++)
			r = copy_blob(rp, o->k, &o->l[i].e, rp->buf + (o->l[i].e.offset - off));
	}
	return r;
}

static int repack_one(struct repacker *rp, const struct old_pack *o)
{
	int r = copy_live(rp, o);
	if (r < 0)
		return r;
	if (rp->nolds == rp->capolds) {
		size_t ncap = rp->capolds ? 2 * rp->capolds : 16;
		const struct gc_pack **nv = realloc(rp->olds, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		rp->olds = nv;
		rp->capolds = ncap;
	}
	rp->olds[rp->nolds++] = o->k;
	if (rp->pw && pack_writer_size(rp->pw) >= PACK_TARGET_SIZE)
		r = finish_new(rp, false);
	return r;
}

/* The first pack planned GC_REPACK at or after i (pl->n if none). */
static size_t next_planned(const struct gc_plan *pl, size_t i)
{
	while (i < pl->n && pl->packs[i].action != GC_REPACK)
		i++;
	return i;
}

static void dry_run(const struct gc_plan *pl, const struct gc_opts *o, struct gc_result *res)
{
	for (size_t i = next_planned(pl, 0); i < pl->n; i = next_planned(pl, i + 1)) {
		const struct gc_pack *k = &pl->packs[i];
		if (o->report)
			o->report(o->ctx, k->name, GC_REPACK, k->size, k->live_bytes);
		res->packs_repacked++;
		res->bytes_rewritten += k->live_bytes;
		res->bytes_after -= k->size - k->live_bytes;
	}
}

int gc_repack(struct repo *repo, const struct gc_plan *pl, const struct gc_opts *o,
	      struct gc_reaper *reap, struct gc_result *res)
{
	if (o->dry_run) {
		dry_run(pl, o, res);
		return 0;
	}
	struct repacker rp = { .repo = repo, .plan = pl, .res = res };
	struct old_pack cur = { .fd = -1 }, next = { .fd = -1 };
	int r = gc_mover_start(repo, reap, res, &rp.mover);
	if (r < 0)
		return r;
	for (size_t i = next_planned(pl, 0); r >= 0 && i < pl->n;) {
		const struct gc_pack *k = &pl->packs[i];
		size_t j = next_planned(pl, i + 1);
		if (o->report)
			o->report(o->ctx, k->name, GC_REPACK, k->size, k->live_bytes);
		if (cur.fd < 0)
			r = old_open(&rp, k, &cur);
		/* The next pack is opened and its reads started now; if that
		 * fails, it is tried again (and the failure told) in its turn. */
		if (r >= 0 && j < pl->n) {
			if (old_open(&rp, &pl->packs[j], &next) >= 0)
				old_prefetch(&next);
			store_error_clear();
		}
		if (r >= 0)
			r = repack_one(&rp, &cur);
		old_close(&cur);
		cur = next;
		next = (struct old_pack){ .fd = -1 };
		i = j;
	}
	old_close(&cur);
	if (r >= 0)
		r = finish_new(&rp, true);
	/* After a failure what was not committed is rolled back (its new
	 * packs stay journalled: the next writer indexes them). */
	r = gc_mover_finish(rp.mover, r);
	pack_writer_free(rp.pw); /* after a failure: removes the temp file */
	free(rp.olds);
	free(rp.buf);
	return r;
}
