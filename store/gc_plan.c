/* gc_plan.c — the plan: what happens to each pack, from the rows the
 * scan read while the mark ran (gc_scan.c) and the finished mark set.
 *
 * Live bytes are the stored lengths of a pack's live blobs; a pack's size
 * is its file's (header, index and footer included), so a pack of dead
 * blobs only is "0% live" and a freshly repacked one close to 100%.
 */
#include <stdlib.h>
#include <string.h>

#include "store/gc_internal.h"
#include "store/repo_internal.h"

static void decide(struct gc_pack *k, unsigned threshold)
{
	if (k->live_count == 0)
		k->action = GC_DELETE;
	else if (k->dead_count &&
		 (k->dead_snaprec || k->live_bytes * 100 < (uint64_t)threshold * k->size))
		k->action = GC_REPACK;
	else
		k->action = -1;
}

static int cmp_live(const void *a, const void *b)
{
	const struct gc_live *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

/* Keep only the live rows of the packs planned GC_REPACK, by pack and
 * offset, and give each such pack its slice. */
static void keep_repacked(struct gc_plan *pl)
{
	size_t n = 0;
	for (size_t i = 0; i < pl->nlive; i++)
		if (pl->packs[pl->live[i].pack].action == GC_REPACK)
			pl->live[n++] = pl->live[i];
	pl->nlive = n;
	if (n) /* live is NULL when the index has no live row */
		qsort(pl->live, n, sizeof *pl->live, cmp_live);
	for (size_t i = 0; i < n;) {
		struct gc_pack *k = &pl->packs[pl->live[i].pack];
		size_t j = i;
		while (j < n && pl->live[j].pack == pl->live[i].pack)
			j++;
		k->first = i;
		k->nlive = j - i;
		i = j;
	}
	if (n) {
		struct gc_live *shrunk = realloc(pl->live, n * sizeof *shrunk);
		if (shrunk)
			pl->live = shrunk;
	} else {
		free(pl->live);
		pl->live = NULL;
	}
}

/* Each row of the scan counted live or dead against its pack; the live
 * ones kept, in place, in the order they came. */
static void classify(struct gc_plan *pl, const struct gc_set *set, bool legacy)
{
	size_t n = 0;
	for (size_t i = 0; i < pl->nlive; i++) {
		const struct gc_live *l = &pl->live[i];
		struct gc_pack *k = &pl->packs[l->pack];
		if (i + GC_PREFETCH_AHEAD < pl->nlive)
			gc_set_prefetch(set, &pl->live[i + GC_PREFETCH_AHEAD].e.id);
		if (gc_set_live(set, &l->e.id, l->e.type, legacy)) {
			k->live_bytes += l->e.length;
			k->live_count++;
			pl->live[n++] = *l;
		} else {
			k->dead_count++;
			if (l->e.type == BLOB_SNAPSHOT)
				k->dead_snaprec = true;
		}
	}
	pl->nlive = n;
}

int gc_plan_make(struct repo *repo, struct gc_scan *scan, const struct gc_set *set,
		 unsigned threshold, struct gc_plan *ret)
{
	int r = gc_scan_wait(scan);
	if (r < 0)
		return r;
	struct gc_plan pl;
	gc_scan_take(scan, &pl);
	classify(&pl, set, repo->legacy_below != 0);
	for (size_t i = 0; i < pl.n; i++)
		decide(&pl.packs[i], threshold);
	keep_repacked(&pl);
	*ret = pl;
	return 0;
}

void gc_plan_clear(struct gc_plan *p)
{
	free(p->packs);
	free(p->live);
	for (size_t i = 0; i < p->nunindexed; i++)
		free(p->unindexed[i]);
	free(p->unindexed);
	free(p->unindexed_size);
	memset(p, 0, sizeof *p);
}
