/* writer_hash.c — hashing a stream buffer's chunks on a helper thread (see
 * writer_internal.h).
 *
 * A snapshot after an hour of work re-reads a grown 1 GiB log whose chunks
 * are nearly all in the repository already: the sealing workers idle, and
 * the caller's thread, which reads, cuts, hashes and looks up every chunk,
 * is the whole critical path.  Keyed BLAKE2b is 38% of it (perf), and
 * more than that on a warm cache.  So writer_put_stream hands buffer N to
 * this thread, and while it hashes N's chunks the caller stores N-1's and
 * reads and cuts N+1; then the caller claims the chunks of N still
 * unhashed, side by side with this thread (spans are claimed one at a
 * time with an atomic counter).  Both cores hash whatever is left over
 * from the caller's own work, and a helper the machine does not schedule
 * in time costs at most the span it holds: one it has not taken up is
 * retracted and the caller hashes alone.
 *
 * A buffer is shared from writer_hash_submit until writer_hash_finish
 * returns: the caller neither writes its bytes nor reads its ids
 * meanwhile (it may read its bytes: the tail it carries over), so an id is
 * always the hash of the very bytes then queued under it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo.h"
#include "store/writer_internal.h"

struct writer_hasher {
	pthread_t thread;
	const struct repo *repo;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct writer_batch *job; /* submitted, not yet taken up or retracted */
	bool busy;                /* the thread is claiming spans of a batch */
	bool stop;
};

static void hash_span(const struct repo *repo, struct writer_batch *b, size_t i)
{
	repo_blob_id(repo, b->buf + b->spans[i].off, b->spans[i].len, &b->ids[i]);
}

void writer_hash_here(const struct repo *repo, struct writer_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		hash_span(repo, b, i);
}

/* Hash spans of b until none is left to claim (either thread). */
static void claim_and_hash(const struct repo *repo, struct writer_batch *b)
{
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
		if (i >= b->n)
			return;
		hash_span(repo, b, i);
	}
}

static void *hasher_main(void *arg)
{
	struct writer_hasher *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->job && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		if (!h->job)
			break;
		struct writer_batch *b = h->job;
		h->job = NULL;
		h->busy = true;
		pthread_mutex_unlock(&h->lock);
		claim_and_hash(h->repo, b);
		pthread_mutex_lock(&h->lock);
		h->busy = false; /* publishes the ids it wrote (the lock) */
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* The helper, started on first use; NULL with one CPU, or when it could
 * not be started (then the caller hashes alone: slower, same ids). */
static struct writer_hasher *hasher(struct writer *w)
{
	if (w->hasher || w->hasher_off)
		return w->hasher;
	w->hasher_off = true;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return NULL;
	struct writer_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->repo = w->repo;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if (pthread_create(&h->thread, NULL, hasher_main, h) != 0) {
		pthread_cond_destroy(&h->cond);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	w->hasher_off = false;
	return w->hasher = h;
}

void writer_hash_submit(struct writer *w, struct writer_batch *b)
{
	atomic_store_explicit(&b->next, 0, memory_order_relaxed);
	struct writer_hasher *h = hasher(w);
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->job = b; /* the lock publishes b's spans and bytes */
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void writer_hash_finish(struct writer *w, struct writer_batch *b)
{
	claim_and_hash(w->repo, b);
	struct writer_hasher *h = w->hasher;
	if (!h)
		return;
	/* Every span is claimed.  A helper that has not taken b up yet never
	 * will (retracted: no wait for a thread the machine has not
	 * scheduled); one claiming spans of it finishes the one it holds. */
	pthread_mutex_lock(&h->lock);
	if (h->job == b)
		h->job = NULL;
	while (h->busy)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

bool writer_hash_idle(struct writer *w)
{
	struct writer_hasher *h = w->hasher;
	if (!h)
		return true;
	pthread_mutex_lock(&h->lock);
	bool idle = !h->job && !h->busy;
	pthread_mutex_unlock(&h->lock);
	return idle;
}

void writer_hasher_free(struct writer *w)
{
	struct writer_hasher *h = w->hasher;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL); /* idle: writer_put_stream finishes its batches */
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
	w->hasher = NULL;
}
