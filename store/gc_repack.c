/* gc_repack.c — copying the live blobs of sparse packs into new ones.
 *
 * Blobs are copied as stored (still sealed: the AEAD binds a blob to its
 * id and type, not to where it lies), after their xxh3 is checked against
 * the index, so no key work is spent and bit rot is not copied silently.
 * Old packs are consumed whole: a new pack is finished (fsync, journal,
 * rename, directory fsync: pack_writer_finish) once it passes the target
 * size at an old pack's end, then one transaction points the moved rows
 * at it and drops the old packs it replaced, and only then are their
 * files unlinked.  Killed before the commit: the journal makes the next
 * writer index the new pack, whose blobs are all indexed elsewhere
 * already, and the next gc deletes it.  Killed after it: the old files
 * are unlisted garbage for the next gc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

struct repacker {
	struct repo *repo;
	const struct gc_set *set;
	bool legacy;
	struct gc_result *res;
	struct pack_writer *pw;
	const struct gc_pack **olds; /* consumed into pw, not yet dropped */
	size_t nolds, capolds;
	uint8_t *buf;
	size_t bufcap;
};

/* Finish pw, commit the move, unlink the old packs. */
static int flush_new(struct repacker *rp)
{
	if (!rp->pw)
		return 0;
	char name[PACK_NAME_LEN + 1];
	const struct pack_entry *e;
	size_t n;
	uint64_t size;
	int r = pack_writer_finish(rp->pw, name, &e, &n, &size);
	int64_t *ids = r < 0 ? NULL : malloc((rp->nolds ? rp->nolds : 1) * sizeof *ids);
	if (r >= 0 && !ids)
		r = store_fail(-ENOMEM, "gc: out of memory");
	for (size_t i = 0; r >= 0 && i < rp->nolds; i++)
		ids[i] = rp->olds[i]->dbid;
	if (r >= 0)
		r = catalog_gc_move(rp->repo, name, size, e, n, ids, rp->nolds);
	free(ids);
	if (r >= 0)
		pack_journal_clear(rp->repo->dirfd, name);
	pack_writer_free(rp->pw);
	rp->pw = NULL;
	if (r < 0)
		return r;
	rp->res->packs_written++;
	rp->res->bytes_after += size;
	struct gc_fans fans = { 0 };
	for (size_t i = 0; i < rp->nolds; i++) {
		rp->res->packs_repacked++;
		rp->res->bytes_after -= rp->olds[i]->size;
		if ((r = gc_unlink_pack(rp->repo, rp->olds[i]->name, &fans)) < 0)
			return r;
		rp->res->bytes_freed += rp->olds[i]->size;
	}
	rp->nolds = 0;
	return gc_sync_fans(rp->repo, &fans);
}

static int copy_blob(struct repacker *rp, int fd, const struct gc_pack *k,
		     const struct pack_entry *e)
{
	if (e->length > rp->bufcap) {
		uint8_t *nb = realloc(rp->buf, e->length);
		if (!nb)
			return store_fail(-ENOMEM, "gc: out of memory");
		rp->buf = nb;
		rp->bufcap = e->length;
	}
	int r = pack_pread_blob(fd, k->name, e->offset, e->length, rp->buf);
	if (r < 0)
		return r;
	if (XXH3_64bits(rp->buf, e->length) != e->xxh) {
		char hex[ID_HEX_LEN + 1];
		id_to_hex(&e->id, hex);
		return store_fail(-STORE_ECORRUPT,
				  "gc: blob %.16s in pack %s at %llu: stored bytes do not match "
				  "their checksum; pack left as it is (run ckptfs check --read-data)",
				  hex, k->name, (unsigned long long)e->offset);
	}
	if (!rp->pw) {
		struct blob_codec *c = repo_codec(rp->repo);
		if (!c)
			return store_fail(-ENOMEM, "gc: out of memory");
		if ((r = pack_writer_open(rp->repo->dirfd, c, &rp->pw)) < 0)
			return r;
	}
	r = pack_writer_add(rp->pw, &e->id, e->type, rp->buf, e->length, e->raw_length, NULL);
	if (r >= 0)
		rp->res->bytes_rewritten += e->length;
	return r;
}

static int repack_one(struct repacker *rp, const struct gc_pack *k)
{
	struct pack_entry *e = NULL;
	size_t n = 0;
	int r = catalog_pack_blobs(rp->repo, k->dbid, &e, &n);
	if (r < 0)
		return r;
	char path[64];
	pack_path(k->name, path, sizeof path);
	int fd = openat(rp->repo->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = store_failp(-errno, "gc: pack %s", k->name);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (gc_set_live(rp->set, &e[i].id, e[i].type, rp->legacy))
			r = copy_blob(rp, fd, k, &e[i]);
	if (fd >= 0)
		close(fd);
	free(e);
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
	rp->olds[rp->nolds++] = k;
	if (rp->pw && pack_writer_size(rp->pw) >= PACK_TARGET_SIZE)
		return flush_new(rp);
	return 0;
}

int gc_repack(struct repo *repo, const struct gc_set *set, const struct gc_plan *pl,
	      const struct gc_opts *o, struct gc_result *res)
{
	struct repacker rp = { .repo = repo, .set = set, .legacy = repo->legacy_below != 0,
			       .res = res };
	int r = 0;
	for (size_t i = 0; r >= 0 && i < pl->n; i++) {
		const struct gc_pack *k = &pl->packs[i];
		if (k->action != GC_REPACK)
			continue;
		if (o->report)
			o->report(o->ctx, k->name, GC_REPACK, k->size, k->live_bytes);
		if (o->dry_run) {
			res->packs_repacked++;
			res->bytes_rewritten += k->live_bytes;
			res->bytes_after -= k->size - k->live_bytes;
			continue;
		}
		r = repack_one(&rp, k);
	}
	if (r >= 0 && !o->dry_run)
		r = flush_new(&rp);
	pack_writer_free(rp.pw); /* after a failure: removes the temp file */
	free(rp.olds);
	free(rp.buf);
	return r;
}
