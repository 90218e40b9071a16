/* writer_pack.c — the writer's workers: sealing queued blobs side by side
 * and appending them to packs in order (see writer_internal.h).
 *
 * Each pack that passes PACK_TARGET_SIZE is finished (fsync, rename) and
 * indexed at once, so a run that dies later leaves its finished packs
 * indexed and reusable (one killed between the rename and the index is
 * indexed by the next writer, from its journal entry: pack.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/pack.h"
#include "store/repo_internal.h"
#include "store/writer_internal.h"

/* Finish the open pack, make it durable and index its blobs.  Called by
 * the appender, or by the caller's thread while the ring is drained. */
static int flush_pack(struct writer *w)
{
	char name[PACK_NAME_LEN + 1];
	const struct pack_entry *entries;
	size_t n;
	uint64_t size;
	int r;

	if (!w->pack)
		return 0;
	if (pack_writer_count(w->pack) == 0) {
		pack_writer_free(w->pack);
		w->pack = NULL;
		return 0;
	}
	r = pack_writer_finish(w->pack, name, &entries, &n, &size);
	if (r < 0)
		return r;
	/* If this fails the pack is durable but not indexed: its journal entry
	 * stays and the next writer indexes it (repo_open); this writer is
	 * unusable from here on. */
	r = catalog_pack_add(w->repo, name, size, entries, n);
	if (r >= 0)
		pack_journal_clear(w->repo->dirfd, name);
	pack_writer_free(w->pack);
	w->pack = NULL;
	return r;
}

/* Buffers above this are freed once their blob is appended: a rare big
 * blob (a tree of a huge directory) does not keep its slot's memory. */
#define SLOT_KEEP (4u << 20)

static void job_trim(struct writer_job *j)
{
	if (j->cap > SLOT_KEEP) {
		free(j->data);
		j->data = NULL;
		j->cap = 0;
	}
	if (j->scap > SLOT_KEEP) {
		free(j->sealed);
		j->sealed = NULL;
		j->scap = 0;
	}
}

/* Compress and seal j into its own buffer (a worker, without the lock). */
static int seal_job(struct blob_codec *codec, struct writer_job *j)
{
	size_t need = blob_sealed_bound(j->len);
	if (need > j->scap) {
		uint8_t *b = realloc(j->sealed, need);
		if (!b)
			return store_fail(-ENOMEM, "writer: out of memory");
		j->sealed = b;
		j->scap = need;
	}
	return blob_seal_level(codec, j->level, &j->id, j->type, j->data, j->len, j->sealed,
			       &j->slen);
}

/* Append a sealed job to the open pack (the appender, without the lock). */
static int append_job(struct writer *w, const struct writer_job *j)
{
	struct pack_entry entry;
	int r;
	if (!w->pack) {
		r = pack_writer_open(w->repo->dirfd, w->codec, &w->pack);
		if (r < 0)
			return r;
	}
	r = pack_writer_add(w->pack, &j->id, j->type, j->sealed, j->slen, (uint32_t)j->len,
			    &entry);
	if (r < 0)
		return r;
	atomic_fetch_add(&w->new_bytes, j->slen);
	if (pack_writer_size(w->pack) >= PACK_TARGET_SIZE)
		return flush_pack(w);
	return 0;
}

/* Record a worker's first failure and its message for the caller's
 * thread.  With w->lock held. */
static void worker_failed(struct writer *w, int err)
{
	if (w->worker_err)
		return;
	const char *msg = store_error();
	snprintf(w->worker_msg, sizeof w->worker_msg, "%s", msg ? msg : "writer: failed");
	w->worker_err = err;
}

static struct writer_job *slot(struct writer *w, uint64_t pos)
{
	return &w->jobs[pos % WRITER_SLOTS];
}

/* With w->lock held: append every sealed blob at the front of the ring, in
 * order, as the only appender.  The lock is dropped around each append. */
static void append_sealed(struct writer *w)
{
	w->appending = true;
	while (w->appended < w->queued && slot(w, w->appended)->state == JOB_SEALED) {
		struct writer_job *j = slot(w, w->appended);
		bool skip = w->worker_err != 0;
		pthread_mutex_unlock(&w->lock);
		int r = skip ? 0 : append_job(w, j);
		job_trim(j);
		pthread_mutex_lock(&w->lock);
		if (r < 0)
			worker_failed(w, r);
		j->state = JOB_FREE;
		w->appended++;
		pthread_cond_broadcast(&w->cond);
	}
	w->appending = false;
	pthread_cond_broadcast(&w->cond);
}

static void *worker_main(void *arg)
{
	struct writer_worker *self = arg;
	struct writer *w = self->w;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (!w->appending && w->appended < w->queued &&
		    slot(w, w->appended)->state == JOB_SEALED) {
			append_sealed(w);
			continue;
		}
		if (w->sealing < w->queued) {
			struct writer_job *j = slot(w, w->sealing++);
			bool skip = w->worker_err != 0;
			j->state = JOB_SEALING;
			pthread_mutex_unlock(&w->lock);
			int r = skip ? 0 : seal_job(self->codec, j);
			pthread_mutex_lock(&w->lock);
			if (r < 0)
				worker_failed(w, r);
			j->state = JOB_SEALED;
			pthread_cond_broadcast(&w->cond);
			continue;
		}
		pthread_cond_wait(&w->cond, &w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static size_t worker_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > WRITER_MAX_WORKERS ? WRITER_MAX_WORKERS : (size_t)cpus;
}

int writer_worker_start(struct writer *w)
{
	int r = pthread_mutex_init(&w->lock, NULL);
	if (r)
		return store_fail(-r, "writer: cannot create a lock");
	r = pthread_cond_init(&w->cond, NULL);
	if (r) {
		pthread_mutex_destroy(&w->lock);
		return store_fail(-r, "writer: cannot create a condition variable");
	}
	size_t want = worker_count();
	for (size_t i = 0; i < want; i++) {
		struct writer_worker *k = &w->workers[i];
		k->w = w;
		r = blob_codec_new(&w->repo->keys, BLOB_ZSTD_LEVEL, &k->codec);
		if (r < 0)
			break;
		r = pthread_create(&k->thread, NULL, worker_main, k);
		if (r) {
			blob_codec_free(k->codec);
			k->codec = NULL;
			r = store_fail(-r, "writer: cannot start a sealing thread");
			break;
		}
		w->nworkers++;
	}
	if (w->nworkers == 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return r;
	}
	/* Fewer workers than wanted only cost speed. */
	store_error_clear();
	return 0;
}

void writer_worker_stop(struct writer *w)
{
	if (!w->nworkers)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->nworkers; i++) {
		pthread_join(w->workers[i].thread, NULL);
		blob_codec_free(w->workers[i].codec);
		w->workers[i].codec = NULL;
	}
	w->nworkers = 0;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	for (size_t i = 0; i < WRITER_SLOTS; i++) {
		free(w->jobs[i].data);
		free(w->jobs[i].sealed);
	}
	pack_writer_free(w->pack); /* removes an unfinished temp pack */
	w->pack = NULL;
}

/* With w->lock held: the worker's failure, re-recorded on this thread. */
static int worker_error(struct writer *w)
{
	return store_fail(w->worker_err, "%s", w->worker_msg);
}

int writer_enqueue(struct writer *w, const blob_id *id, uint8_t type, int level,
		   const void *data, size_t len)
{
	int r = 0;
	pthread_mutex_lock(&w->lock);
	while (w->queued - w->appended == WRITER_SLOTS && !w->worker_err)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->worker_err) {
		r = worker_error(w);
		goto out;
	}
	/* The slot after the queued ones is free: no worker touches it until
	 * queued covers it. */
	struct writer_job *j = slot(w, w->queued);
	pthread_mutex_unlock(&w->lock);
	if (len > j->cap) {
		uint8_t *b = realloc(j->data, len);
		if (!b) {
			pthread_mutex_lock(&w->lock);
			r = store_fail(-ENOMEM, "writer: out of memory");
			goto out;
		}
		j->data = b;
		j->cap = len;
	}
	memcpy(j->data, data, len);
	j->id = *id;
	j->type = type;
	j->level = level;
	j->len = len;
	pthread_mutex_lock(&w->lock);
	j->state = JOB_QUEUED;
	w->queued++;
	pthread_cond_broadcast(&w->cond);
out:
	pthread_mutex_unlock(&w->lock);
	return r;
}

int writer_drain(struct writer *w)
{
	int r = 0;
	pthread_mutex_lock(&w->lock);
	while (w->appended < w->queued || w->appending)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->worker_err)
		r = worker_error(w);
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		return r;
	/* Every worker is idle and waits for a job: the pack is ours now. */
	return flush_pack(w);
}
