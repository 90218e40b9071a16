/* gc_move.c — the catalog side of the repack, in a thread of its own
 * (gc_internal.h).
 *
 * Pointing the rows of the moved blobs at their new packs is one B-tree
 * update per row (and its blobs_pack index entry moved): about as much
 * CPU as copying the blobs.  Done here, it overlaps with the copy of the
 * next packs, and at the end only the last pack's rows and the commit are
 * left to wait for.
 *
 * Crash safety is the repack's (gc_repack.c): a pack is handed over only
 * once it is finished (fsynced, journalled, renamed), so the transaction
 * that points rows at it can commit only after it is durable; the old
 * packs go to the reaper only after the commit that drops their rows.  A
 * failure rolls the open transaction back and is sticky: every later job
 * is dropped, its new packs stay journalled (the next writer indexes
 * them, the next gc deletes them as unreferenced).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

/* Jobs handed over and not yet done: the copy waits beyond this (each
 * holds a new pack's entries, ~64 bytes a blob). */
#define MOVER_QUEUE_MAX 4

struct move_job {
	bool has_pack, commit;
	struct catalog_gc_pack p;    /* p.e owned */
	const struct gc_pack **olds; /* owned array */
	size_t nolds;
};

struct new_done {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
};

struct gc_mover {
	struct repo *repo;
	struct gc_reaper *reap;
	struct gc_result *res; /* packs_written, packs_repacked, bytes_after: the mover's */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a job queued, or closing */
	pthread_cond_t room; /* a job done */
	struct move_job *q;  /* ring of MOVER_QUEUE_MAX */
	size_t head, n;
	bool closing;
	int err; /* the first failure, its message in why */
	char why[512];
	/* The worker's: the transaction open since the last commit. */
	bool in_txn;
	struct new_done *news;
	size_t nnews, capnews;
	const struct gc_pack **olds;
	size_t nolds, capolds;
};

static void job_clear(struct move_job *j)
{
	free(j->p.e);
	free(j->olds);
	memset(j, 0, sizeof *j);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return store_fail(-ENOMEM, "gc: out of memory");
	*v = nv;
	*cap = ncap;
	return 0;
}

/* The commit of the open transaction, then its consequences: journals
 * cleared, counts, the old packs to the reaper. */
static int commit(struct gc_mover *mv)
{
	int r = catalog_gc_txn_commit(mv->repo);
	mv->in_txn = false;
	if (r < 0)
		return r;
	for (size_t i = 0; i < mv->nnews; i++) {
		pack_journal_clear(mv->repo->dirfd, mv->news[i].name);
		mv->res->packs_written++;
		mv->res->bytes_after += mv->news[i].size;
	}
	mv->nnews = 0;
	for (size_t i = 0; r >= 0 && i < mv->nolds; i++) {
		mv->res->packs_repacked++;
		mv->res->bytes_after -= mv->olds[i]->size;
		r = gc_reaper_put(mv->reap, mv->olds[i]->name, mv->olds[i]->size);
	}
	mv->nolds = 0;
	return r;
}

/* The rows of the job's old packs go at once, not at the commit: the
 * same transaction either way, and the last commit then waits only for
 * the last pack's. */
static int drop_olds(struct gc_mover *mv, const struct move_job *j)
{
	if (!j->nolds)
		return 0;
	int64_t *ids = malloc(j->nolds * sizeof *ids);
	if (!ids)
		return store_fail(-ENOMEM, "gc: out of memory");
	for (size_t i = 0; i < j->nolds; i++)
		ids[i] = j->olds[i]->dbid;
	int r = catalog_gc_txn_drop(mv->repo, ids, j->nolds);
	free(ids);
	return r;
}

static int run_job(struct gc_mover *mv, struct move_job *j)
{
	int r = 0;
	if (!mv->in_txn) {
		if ((r = catalog_gc_txn_begin(mv->repo)) < 0)
			return r;
		mv->in_txn = true;
	}
	if (j->has_pack) {
		r = grow((void **)&mv->news, &mv->capnews, mv->nnews + 1, sizeof *mv->news);
		if (r >= 0)
			r = catalog_gc_txn_add(mv->repo, &j->p);
		if (r >= 0) {
			struct new_done *d = &mv->news[mv->nnews++];
			memcpy(d->name, j->p.name, sizeof d->name);
			d->size = j->p.size;
		}
	}
	if (r >= 0)
		r = grow((void **)&mv->olds, &mv->capolds, mv->nolds + j->nolds, sizeof *mv->olds);
	if (r >= 0)
		r = drop_olds(mv, j);
	if (r >= 0 && j->nolds) {
		memcpy(mv->olds + mv->nolds, j->olds, j->nolds * sizeof *j->olds);
		mv->nolds += j->nolds;
	}
	if (r >= 0 && j->commit)
		r = commit(mv);
	return r;
}

static void *mover_main(void *p)
{
	struct gc_mover *mv = p;
	pthread_mutex_lock(&mv->mu);
	for (;;) {
		while (!mv->n && !mv->closing)
			pthread_cond_wait(&mv->cv, &mv->mu);
		if (!mv->n)
			break;
		struct move_job j = mv->q[mv->head];
		memset(&mv->q[mv->head], 0, sizeof j);
		mv->head = (mv->head + 1) % MOVER_QUEUE_MAX;
		mv->n--;
		bool failed = mv->err != 0;
		pthread_mutex_unlock(&mv->mu);
		int r = failed ? 0 : run_job(mv, &j);
		if (r < 0 && mv->in_txn) {
			catalog_gc_txn_rollback(mv->repo);
			mv->in_txn = false;
		}
		job_clear(&j);
		pthread_mutex_lock(&mv->mu);
		if (r < 0 && !mv->err) {
			mv->err = r;
			snprintf(mv->why, sizeof mv->why, "%s",
				 store_error() ? store_error() : strerror(-r));
		}
		pthread_cond_signal(&mv->room);
	}
	bool failed = mv->err != 0;
	pthread_mutex_unlock(&mv->mu);
	/* Closed without a last commit (the repack failed): what is open
	 * goes, as if it had never been tried. */
	if (mv->in_txn)
		catalog_gc_txn_rollback(mv->repo);
	mv->in_txn = false;
	/* gc turned the automatic checkpoints off (gc.c): the WAL holds
	 * the repack's commits.  Copied into the database file here, while
	 * the reaper unlinks the old packs the last commit released, not
	 * after it (at the connection's close). */
	if (!failed)
		catalog_gc_checkpoint(mv->repo);
	return NULL;
}

int gc_mover_start(struct repo *repo, struct gc_reaper *reap, struct gc_result *res,
		   struct gc_mover **ret)
{
	struct gc_mover *mv = calloc(1, sizeof *mv);
	if (mv)
		mv->q = calloc(MOVER_QUEUE_MAX, sizeof *mv->q);
	if (!mv || !mv->q) {
		free(mv);
		return store_fail(-ENOMEM, "gc: out of memory");
	}
	mv->repo = repo;
	mv->reap = reap;
	mv->res = res;
	pthread_mutex_init(&mv->mu, NULL);
	pthread_cond_init(&mv->cv, NULL);
	pthread_cond_init(&mv->room, NULL);
	if (pthread_create(&mv->thread, NULL, mover_main, mv) != 0) {
		pthread_mutex_destroy(&mv->mu);
		pthread_cond_destroy(&mv->cv);
		pthread_cond_destroy(&mv->room);
		free(mv->q);
		free(mv);
		return store_fail(-EAGAIN, "gc: cannot start a thread");
	}
	*ret = mv;
	return 0;
}

/* The mover's failure, recorded in this thread.  Lock held. */
static int mover_fail(const struct gc_mover *mv)
{
	return store_fail(mv->err, "%s", mv->why);
}

int gc_mover_put(struct gc_mover *mv, struct catalog_gc_pack *p, const struct gc_pack *const *olds,
		 size_t nolds, bool commit_after)
{
	struct move_job j = { .commit = commit_after, .nolds = nolds };
	if (nolds && !(j.olds = malloc(nolds * sizeof *j.olds))) {
		if (p)
			free(p->e);
		return store_fail(-ENOMEM, "gc: out of memory");
	}
	if (nolds)
		memcpy(j.olds, olds, nolds * sizeof *j.olds);
	if (p) {
		j.has_pack = true;
		j.p = *p;
	}
	pthread_mutex_lock(&mv->mu);
	while (mv->n == MOVER_QUEUE_MAX && !mv->err)
		pthread_cond_wait(&mv->room, &mv->mu);
	int r = 0;
	if (mv->err) {
		r = mover_fail(mv);
		job_clear(&j);
	} else {
		mv->q[(mv->head + mv->n) % MOVER_QUEUE_MAX] = j;
		mv->n++;
		pthread_cond_signal(&mv->cv);
	}
	pthread_mutex_unlock(&mv->mu);
	return r;
}

int gc_mover_finish(struct gc_mover *mv, int r)
{
	if (!mv)
		return r;
	pthread_mutex_lock(&mv->mu);
	mv->closing = true;
	pthread_cond_signal(&mv->cv);
	pthread_mutex_unlock(&mv->mu);
	pthread_join(mv->thread, NULL);
	if (r >= 0 && mv->err)
		r = mover_fail(mv);
	pthread_mutex_destroy(&mv->mu);
	pthread_cond_destroy(&mv->cv);
	pthread_cond_destroy(&mv->room);
	free(mv->q);
	free(mv->news);
	free(mv->olds);
	free(mv);
	return r;
}
