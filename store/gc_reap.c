/* gc_reap.c — unlinking the packs gc has dropped, in threads of their own
 * (gc_internal.h).
 *
 * Removing a pack file frees its extents: about a millisecond each on a
 * busy disk, and a gc of a long history drops hundreds of packs.  Done
 * here, the unlinks overlap with the repack copying the next packs.  Most
 * of that millisecond is waiting, not work: on a file system mounted with
 * -o discard each unlink waits for the discard of the freed extents
 * (ext4_free_blocks -> blkdev_issue_discard, seen with perf), and the
 * disk takes several at once, so REAP_THREADS unlink side by side.  Only
 * packs whose rows a committed transaction removed are queued, so neither
 * the order of the unlinks nor a crash between them matters: what is left
 * is an unlisted file the next gc deletes.  For the same reason the
 * directories are fsynced once, when the reaper finishes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/gc_internal.h"

struct reap_item {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
};

/* Unlinks in flight at most (a 1,000-snapshot gc's 943 unlinks of ~1.4
 * MiB packs: 1 thread ~1 ms each, 4 threads ~0.65 ms). */
#define REAP_THREADS 4

struct gc_reaper;

struct reap_worker {
	struct gc_reaper *rp;
	pthread_t thread;
	struct gc_fans fans; /* this worker's */
};

struct gc_reaper {
	struct repo *repo;
	struct reap_worker w[REAP_THREADS];
	size_t nworkers; /* started */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct reap_item *q; /* [head, n) still to unlink */
	size_t head, n, cap;
	bool closing;
	uint64_t freed;       /* bytes of packs removed */
	uint64_t removed;     /* packs removed */
	int err;              /* the first failure, its message in why */
	char why[512];
};

static void *reap_main(void *p)
{
	struct reap_worker *w = p;
	struct gc_reaper *rp = w->rp;
	pthread_mutex_lock(&rp->mu);
	for (;;) {
		while (rp->head == rp->n && !rp->closing)
			pthread_cond_wait(&rp->cv, &rp->mu);
		if (rp->head == rp->n)
			break;
		struct reap_item it = rp->q[rp->head++];
		pthread_mutex_unlock(&rp->mu);
		int r = gc_unlink_pack(rp->repo, it.name, &w->fans);
		pthread_mutex_lock(&rp->mu);
		if (r < 0 && !rp->err) {
			rp->err = r;
			snprintf(rp->why, sizeof rp->why, "%s",
				 store_error() ? store_error() : strerror(-r));
		}
		if (r >= 0) {
			rp->freed += it.size;
			rp->removed++;
		}
	}
	pthread_mutex_unlock(&rp->mu);
	return NULL;
}

int gc_reaper_start(struct repo *repo, struct gc_reaper **ret)
{
	struct gc_reaper *rp = calloc(1, sizeof *rp);
	if (!rp)
		return store_fail(-ENOMEM, "gc: out of memory");
	rp->repo = repo;
	pthread_mutex_init(&rp->mu, NULL);
	pthread_cond_init(&rp->cv, NULL);
	/* As many as can be had: one is enough to be correct. */
	for (size_t i = 0; i < REAP_THREADS; i++) {
		rp->w[rp->nworkers].rp = rp;
		if (pthread_create(&rp->w[rp->nworkers].thread, NULL, reap_main,
				   &rp->w[rp->nworkers]) != 0)
			break;
		rp->nworkers++;
	}
	if (!rp->nworkers) {
		pthread_mutex_destroy(&rp->mu);
		pthread_cond_destroy(&rp->cv);
		free(rp);
		return store_fail(-EAGAIN, "gc: cannot start a thread");
	}
	*ret = rp;
	return 0;
}

int gc_reaper_put(struct gc_reaper *rp, const char *name, uint64_t size)
{
	int r = 0;
	pthread_mutex_lock(&rp->mu);
	if (rp->n == rp->cap) {
		size_t ncap = rp->cap ? 2 * rp->cap : 64;
		struct reap_item *nq = realloc(rp->q, ncap * sizeof *nq);
		if (!nq)
			r = store_fail(-ENOMEM, "gc: out of memory");
		else {
			rp->q = nq;
			rp->cap = ncap;
		}
	}
	if (r == 0) {
		struct reap_item *it = &rp->q[rp->n++];
		snprintf(it->name, sizeof it->name, "%s", name);
		it->size = size;
		pthread_cond_signal(&rp->cv);
	}
	pthread_mutex_unlock(&rp->mu);
	return r;
}

int gc_reaper_finish(struct gc_reaper *rp, uint64_t *ret_freed, uint64_t *ret_removed)
{
	if (!rp)
		return 0;
	pthread_mutex_lock(&rp->mu);
	rp->closing = true;
	pthread_cond_broadcast(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	struct gc_fans fans = { 0 };
	for (size_t i = 0; i < rp->nworkers; i++) {
		pthread_join(rp->w[i].thread, NULL);
		for (size_t d = 0; d < 256; d++)
			fans.dirty[d] |= rp->w[i].fans.dirty[d];
	}
	int r = rp->err ? store_fail(rp->err, "%s", rp->why) : 0;
	int s = gc_sync_fans(rp->repo, &fans);
	if (r == 0)
		r = s;
	*ret_freed = rp->freed;
	*ret_removed = rp->removed;
	pthread_mutex_destroy(&rp->mu);
	pthread_cond_destroy(&rp->cv);
	free(rp->q);
	free(rp);
	return r;
}
