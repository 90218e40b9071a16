/* gc_sweep.c — deleting pack files: the ones the catalog does not list,
 * and the ones planned GC_DELETE (rows first, in one durable transaction
 * per batch, then the files: a crash in between leaves unlisted files,
 * which the next gc deletes). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

#define DROP_BATCH 256 /* packs per transaction */

int gc_unlink_pack(struct repo *repo, const char *name, struct gc_fans *fans)
{
	char path[64];
	pack_path(name, path, sizeof path);
	if (unlinkat(repo->dirfd, path, 0) < 0 && errno != ENOENT)
		return store_failp(-errno, "gc: removing pack %s", name);
	unsigned fan;
	if (sscanf(name, "%2x", &fan) == 1 && fan < 256)
		fans->dirty[fan] = true;
	return 0;
}

/* Past this many directories one syncfs(2) is cheaper than their fsyncs
 * (on a busy disk each fsync waits its turn). */
#define SYNCFS_FROM 16

int gc_sync_fans(struct repo *repo, struct gc_fans *fans)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 256; i++)
		n += fans->dirty[i];
	if (n > SYNCFS_FROM) {
		if (syncfs(repo->dirfd) < 0)
			return store_failp(-errno, "gc: %s: syncfs", repo->path);
		memset(fans->dirty, 0, sizeof fans->dirty);
		return 0;
	}
	for (unsigned i = 0; i < 256; i++) {
		if (!fans->dirty[i])
			continue;
		char dir[16];
		snprintf(dir, sizeof dir, "packs/%02x", i);
		int r = fio_fsync_dir(repo->dirfd, dir);
		if (r < 0)
			return store_failp(r, "gc: %s/%s: fsync", repo->path, dir);
		fans->dirty[i] = false;
	}
	return 0;
}

static void report(const struct gc_opts *o, const char *name, enum gc_action a, uint64_t size,
		   uint64_t live)
{
	if (o->report)
		o->report(o->ctx, name, a, size, live);
}

static int sweep_unindexed(struct repo *repo, const struct gc_plan *pl, const struct gc_opts *o,
			   struct gc_result *res)
{
	struct gc_fans fans = { 0 };
	for (size_t i = 0; i < pl->nunindexed; i++) {
		report(o, pl->unindexed[i], GC_UNINDEXED, pl->unindexed_size[i], 0);
		if (o->dry_run)
			continue;
		int r = gc_unlink_pack(repo, pl->unindexed[i], &fans);
		if (r < 0)
			return r;
		res->unindexed_deleted++;
		res->bytes_freed += pl->unindexed_size[i];
	}
	return gc_sync_fans(repo, &fans);
}

/* Drop the rows of batch[0..n), then unlink the files. */
static int drop_batch(struct repo *repo, const struct gc_pack **batch, size_t n,
		      struct gc_result *res)
{
	int64_t ids[DROP_BATCH] = { 0 };
	for (size_t i = 0; i < n; i++)
		ids[i] = batch[i]->dbid;
	int r = catalog_gc_move(repo, NULL, 0, NULL, 0, ids, n);
	if (r < 0)
		return r;
	struct gc_fans fans = { 0 };
	for (size_t i = 0; i < n; i++) {
		/* The rows are gone: the pack counts as deleted even if its file
		 * cannot be removed now (the next gc removes it as unlisted). */
		res->packs_deleted++;
		res->bytes_after -= batch[i]->size;
		if ((r = gc_unlink_pack(repo, batch[i]->name, &fans)) < 0)
			return r;
		res->bytes_freed += batch[i]->size;
	}
	return gc_sync_fans(repo, &fans);
}

int gc_sweep(struct repo *repo, const struct gc_plan *pl, const struct gc_opts *o,
	     struct gc_result *res)
{
	int r = sweep_unindexed(repo, pl, o, res);
	const struct gc_pack *batch[DROP_BATCH];
	size_t n = 0;
	for (size_t i = 0; r >= 0 && i < pl->n; i++) {
		const struct gc_pack *k = &pl->packs[i];
		if (k->action != GC_DELETE)
			continue;
		report(o, k->name, GC_DELETE, k->size, 0);
		if (o->dry_run) {
			res->packs_deleted++;
			res->bytes_after -= k->size;
			continue;
		}
		batch[n++] = k;
		if (n == DROP_BATCH) {
			r = drop_batch(repo, batch, n, res);
			n = 0;
		}
	}
	if (r >= 0 && n)
		r = drop_batch(repo, batch, n, res);
	return r;
}
