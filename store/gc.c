/* gc.c — gc_run: the phases of gc.h in order.
 *
 * Deleting comes before repacking, so on a full disk the space of dead
 * packs is freed before new packs need any.
 */
#include <errno.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/gc_internal.h"
#include "store/gc_lock.h"
#include "store/repo_internal.h"

/* Up to 64 MiB of catalog pages (used only as the catalog is that big):
 * the blob index is read by the mark's lookups and its rows are
 * rewritten all over by the repack's commits; a 1,000-
 * snapshot history's 24 MB catalog then stays in memory (16 MiB: 8% more
 * CPU in gc). */
#define GC_CATALOG_CACHE_KIB (64u << 10)

int gc_run(struct repo *repo, const struct gc_opts *opts, struct gc_result *ret)
{
	int64_t start = fio_mono_ns();
	memset(ret, 0, sizeof *ret);
	if (repo->mode != REPO_WRITE)
		return store_fail(-EINVAL, "gc: the repository must be open for writing");
	if (opts->threshold > 100)
		return store_fail(-EINVAL, "gc: repack threshold %u%%: not 0..100", opts->threshold);
	struct gc_set *set = NULL;
	struct gc_plan plan = { 0 };
	int64_t now = opts->now_ns ? opts->now_ns : fio_now_ns();
	int lockfd = -1;
	/* A running check waits, and is waited for (gc_lock.h). */
	int r = gc_lock_take(repo, true, &lockfd);
	/* Expired trash first: its rows go in one transaction, then the mark
	 * no longer sees them.  A dry run only leaves them out of the mark. */
	if (r >= 0 && !opts->dry_run)
		r = catalog_trash_purge_expired(repo, now, &ret->trash_expired);
	if (r >= 0)
		r = catalog_gc_cache(repo, GC_CATALOG_CACHE_KIB);
	if (r >= 0)
		r = catalog_gc_autocheckpoint(repo, false);
	if (r >= 0)
		r = gc_set_new(&set);
	int64_t t = fio_mono_ns();
	/* The plan's read of the index runs alongside the mark. */
	struct gc_scan *scan = NULL;
	if (r >= 0)
		r = gc_scan_start(repo, &scan);
	if (r >= 0)
		r = gc_mark_at(repo, scan, set, opts->dry_run ? now : 0, ret);
	ret->mark_ns = fio_mono_ns() - t;
	t += ret->mark_ns;
	if (r >= 0)
		r = gc_plan_make(repo, scan, set, opts->threshold, &plan);
	gc_scan_free(scan);
	ret->plan_ns = fio_mono_ns() - t;
	t += ret->plan_ns;
	if (r >= 0) {
		ret->packs = plan.n;
		for (size_t i = 0; i < plan.n; i++) {
			ret->bytes_before += plan.packs[i].size;
			ret->bytes_live += plan.packs[i].live_bytes;
		}
		ret->bytes_after = ret->bytes_before;
		r = gc_sweep(repo, &plan, opts, ret);
	}
	ret->sweep_ns = fio_mono_ns() - t;
	t += ret->sweep_ns;
	struct gc_reaper *reap = NULL;
	if (r >= 0 && !opts->dry_run)
		r = gc_reaper_start(repo, &reap);
	if (r >= 0)
		r = gc_repack(repo, &plan, opts, reap, ret);
	/* Always waited for: what it removed counts as freed. */
	uint64_t freed = 0, removed = 0;
	int rr = gc_reaper_finish(reap, &freed, &removed);
	ret->bytes_freed += freed;
	if (r >= 0)
		r = rr;
	ret->repack_ns = fio_mono_ns() - t;
	if (catalog_gc_autocheckpoint(repo, true) < 0 && r >= 0)
		r = -EIO; /* recorded */
	gc_plan_clear(&plan);
	gc_set_free(set);
	gc_lock_release(lockfd);
	ret->duration_ns = fio_mono_ns() - start;
	return r < 0 ? r : 0;
}
