/* prefetch.c — the read-ahead worker (see prefetch.h). */
#include "fs/prefetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/blob.h"
#include "store/content.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/tree.h"

#define QUEUE_LEN 32    /* requests waiting; more are dropped */
#define SEEN_SLOTS 4096 /* trees remembered as done (direct-mapped) */
/* The catalog is hinted whole on the first request and again when it has
 * not been for this long: a walk looks blobs up all over its B-tree. */
#define CATALOG_EVERY_NS (30 * 1000000000LL)

struct job {
	blob_id id;
	enum prefetch_kind kind;
};

struct seen {
	blob_id id;
	unsigned kinds; /* enum prefetch_kind bits done for id */
};

struct prefetch {
	struct repo *repo;
	struct tcache *trees;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	bool stop, busy;
	struct job queue[QUEUE_LEN];
	size_t head, count;
	size_t done, skipped;
	int64_t catalog_at_ns;
	struct seen seen[SEEN_SLOTS];
};

static size_t slot_of(const blob_id *id)
{
	/* Ids are keyed hashes: their bytes are already uniform. */
	uint32_t h;
	memcpy(&h, id->b + 4, sizeof(h));
	return h % SEEN_SLOTS;
}

/* Whether kind was done (or queued) for id; with the lock held. */
static bool seen_locked(struct prefetch *p, const blob_id *id, unsigned kind)
{
	struct seen *s = &p->seen[slot_of(id)];
	return id_equal(&s->id, id) && (s->kinds & kind) == kind;
}

static void mark_locked(struct prefetch *p, const blob_id *id, unsigned kind)
{
	struct seen *s = &p->seen[slot_of(id)];
	if (!id_equal(&s->id, id)) {
		s->id = *id;
		s->kinds = 0;
	}
	s->kinds |= kind;
}

static void mark(struct prefetch *p, const blob_id *id, unsigned kind)
{
	pthread_mutex_lock(&p->lock);
	mark_locked(p, id, kind);
	pthread_mutex_unlock(&p->lock);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One request: breadth first from job->id.  Each level's subtrees are
 * hinted together before any is loaded, so their reads overlap. */
static void run_job(struct prefetch *p, const struct job *job)
{
	blob_id todo[PREFETCH_TREES_MAX];
	size_t n = 0, at = 0;
	uint64_t bytes = 0;
	todo[n++] = job->id;
	while (at < n) {
		pthread_mutex_lock(&p->lock);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return;
		struct tcache_entry *ref;
		if (tcache_get(p->trees, &todo[at], &ref) < 0) {
			store_error_clear(); /* the walk's own request reports it */
			at++;
			continue;
		}
		const struct tree *t = ref->tree;
		for (size_t i = 0; i < t->n; i++) {
			const struct node *nd = &t->nodes[i];
			if (nd->type == NODE_DIR && n < PREFETCH_TREES_MAX) {
				repo_hint_blob(p->repo, &nd->subtree, BLOB_TREE);
				todo[n++] = nd->subtree;
			} else if (job->kind == PREFETCH_FILES && nd->type == NODE_FILE &&
				   nd->size <= PREFETCH_FILE_MAX && bytes < PREFETCH_BYTES_MAX &&
				   !(nd->flags & NODE_F_UNREADABLE)) {
				bytes += content_hint(p->repo, nd, PREFETCH_FILE_MAX);
			}
		}
		tcache_release(p->trees, ref);
		/* Its files are done only if they all fit. */
		unsigned kinds = PREFETCH_TREES;
		if (job->kind == PREFETCH_FILES && bytes < PREFETCH_BYTES_MAX)
			kinds |= PREFETCH_FILES;
		mark(p, &todo[at], kinds);
		at++;
	}
}

static void *worker(void *arg)
{
	struct prefetch *p = arg;
	pthread_setname_np(pthread_self(), "ckptfs-ahead"); /* for top and perf */
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->count == 0) {
			p->busy = false;
			pthread_cond_broadcast(&p->idle);
			pthread_cond_wait(&p->wake, &p->lock);
		}
		if (p->stop)
			break;
		struct job job = p->queue[p->head];
		p->head = (p->head + 1) % QUEUE_LEN;
		p->count--;
		p->busy = true;
		p->done++;
		int64_t now = now_ns();
		bool catalog = p->catalog_at_ns == 0 || now - p->catalog_at_ns > CATALOG_EVERY_NS;
		if (catalog)
			p->catalog_at_ns = now;
		pthread_mutex_unlock(&p->lock);
		if (catalog)
			repo_hint_catalog(p->repo, PREFETCH_CATALOG_MAX);
		/* One read transaction for the job's lookups, not one each: a
		 * blob committed or moved by gc since it began costs this job a
		 * hint or a tree load, which the walk's own request then does. */
		repo_lookups_begin(p->repo);
		run_job(p, &job);
		repo_lookups_end(p->repo);
		pthread_mutex_lock(&p->lock);
	}
	p->busy = false;
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int prefetch_new(struct repo *repo, struct tcache *trees, struct prefetch **ret)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->repo = repo;
	p->trees = trees;
	int r = -ENOMEM;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto fail_lock;
	if (pthread_cond_init(&p->wake, NULL) != 0)
		goto fail_wake;
	if (pthread_cond_init(&p->idle, NULL) != 0)
		goto fail_idle;
	r = -pthread_create(&p->thread, NULL, worker, p);
	if (r < 0)
		goto fail_thread;
	*ret = p;
	return 0;
fail_thread:
	pthread_cond_destroy(&p->idle);
fail_idle:
	pthread_cond_destroy(&p->wake);
fail_wake:
	pthread_mutex_destroy(&p->lock);
fail_lock:
	free(p);
	return r;
}

void prefetch_free(struct prefetch *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void prefetch_folder(struct prefetch *p, const blob_id *id, enum prefetch_kind kind)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	if (seen_locked(p, id, kind)) {
		p->skipped++;
	} else if (p->count < QUEUE_LEN && !p->stop) {
		/* Marked now, so the walk's next requests in this folder do not
		 * queue it again; the worker marks the subfolders it covers. */
		mark_locked(p, id, kind);
		p->queue[(p->head + p->count) % QUEUE_LEN] = (struct job){ *id, kind };
		p->count++;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
}

void prefetch_stats(struct prefetch *p, size_t *ret_done, size_t *ret_skipped)
{
	pthread_mutex_lock(&p->lock);
	*ret_done = p->done;
	*ret_skipped = p->skipped;
	pthread_mutex_unlock(&p->lock);
}

void prefetch_drain(struct prefetch *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->count > 0 || p->busy)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
