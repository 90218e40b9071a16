/* writer_pack.c — the writer's worker: sealing queued blobs into packs
 * (see writer_internal.h for the pipeline).
 *
 * Each pack that passes PACK_TARGET_SIZE is finished (fsync, rename) and
 * indexed at once, so a run that dies later leaves its finished packs
 * indexed and reusable (one killed between the rename and the index is
 * indexed by the next writer, from its journal entry: pack.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/pack.h"
#include "store/repo_internal.h"
#include "store/writer_internal.h"

/* Finish the open pack, make it durable and index its blobs.  Called by
 * the worker, or by the caller's thread while the queue is drained. */
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

static int seal_and_add(struct writer *w, const struct writer_job *j)
{
	struct pack_entry entry;
	size_t slen;
	int r;

	size_t need = blob_sealed_bound(j->len);
	if (need > w->seal_cap) {
		uint8_t *b = realloc(w->seal_buf, need);
		if (!b)
			return store_fail(-ENOMEM, "writer: out of memory");
		w->seal_buf = b;
		w->seal_cap = need;
	}
	r = blob_seal(w->codec, &j->id, j->type, j->data, j->len, w->seal_buf, &slen);
	if (r < 0)
		return r;
	if (!w->pack) {
		r = pack_writer_open(w->repo->dirfd, w->codec, &w->pack);
		if (r < 0)
			return r;
	}
	r = pack_writer_add(w->pack, &j->id, j->type, w->seal_buf, slen, (uint32_t)j->len,
			    &entry);
	if (r < 0)
		return r;
	atomic_fetch_add(&w->new_bytes, slen);
	if (pack_writer_size(w->pack) >= PACK_TARGET_SIZE)
		return flush_pack(w);
	return 0;
}

/* Record the worker's first failure and its message for the caller's
 * thread. */
static void worker_failed(struct writer *w, int err)
{
	if (w->worker_err)
		return;
	const char *msg = store_error();
	snprintf(w->worker_msg, sizeof w->worker_msg, "%s", msg ? msg : "writer: failed");
	w->worker_err = err;
}

static void *worker_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->count && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		struct writer_job *j = &w->jobs[w->head];
		bool skip = w->worker_err != 0;
		w->busy = true;
		pthread_mutex_unlock(&w->lock);
		int r = skip ? 0 : seal_and_add(w, j);
		pthread_mutex_lock(&w->lock);
		if (r < 0)
			worker_failed(w, r);
		w->head = (w->head + 1) % WRITER_QUEUE;
		w->count--;
		w->busy = false;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
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
	r = pthread_create(&w->thread, NULL, worker_main, w);
	if (r) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return store_fail(-r, "writer: cannot start the sealing thread");
	}
	w->thread_started = true;
	return 0;
}

void writer_worker_stop(struct writer *w)
{
	if (!w->thread_started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	w->thread_started = false;
	for (size_t i = 0; i < WRITER_QUEUE; i++)
		free(w->jobs[i].data);
	pack_writer_free(w->pack); /* removes an unfinished temp pack */
	w->pack = NULL;
}

/* With w->lock held: the worker's failure, re-recorded on this thread. */
static int worker_error(struct writer *w)
{
	return store_fail(w->worker_err, "%s", w->worker_msg);
}

int writer_enqueue(struct writer *w, const blob_id *id, uint8_t type, const void *data,
		   size_t len)
{
	int r = 0;
	pthread_mutex_lock(&w->lock);
	while (w->count == WRITER_QUEUE && !w->worker_err)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->worker_err) {
		r = worker_error(w);
		goto out;
	}
	/* The slot after the queued ones: the worker does not touch it until
	 * count covers it. */
	struct writer_job *j = &w->jobs[(w->head + w->count) % WRITER_QUEUE];
	if (len > j->cap) {
		uint8_t *b = realloc(j->data, len);
		if (!b) {
			r = store_fail(-ENOMEM, "writer: out of memory");
			goto out;
		}
		j->data = b;
		j->cap = len;
	}
	memcpy(j->data, data, len);
	j->id = *id;
	j->type = type;
	j->len = len;
	w->count++;
	pthread_cond_broadcast(&w->cond);
out:
	pthread_mutex_unlock(&w->lock);
	return r;
}

int writer_drain(struct writer *w)
{
	int r = 0;
	pthread_mutex_lock(&w->lock);
	while (w->count || w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->worker_err)
		r = worker_error(w);
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		return r;
	/* The worker is idle and waits for a job: the pack is ours now. */
	return flush_pack(w);
}
