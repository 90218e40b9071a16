/* restore_pool.c — writing restored files on every core, and making them
 * durable beside the walk.
 *
 * A restore's time goes into per-file work: decoding chunks (pread,
 * AEAD, zstd) and the file system's own (creating an inode, copying the
 * data into the page cache, setting mode and mtime, closing).  One thread
 * doing all of it leaves a core idle, and on a loaded machine gets one
 * share of the CPU where a parallel peer gets several.  So the walk
 * (trees, directories, checks of what is at a name) stays in the calling
 * thread, and each regular file is handed to one of a few writers, which
 * make its temp file, fill it and close it (rs_fill_file).
 *
 * The batches' barriers (restore_batch.c: syncfs, then the renames) run
 * on a thread of their own: a syncfs waits for the disk, about a fifth of
 * a cold restore of the bench's project, and the writers used to idle
 * through it.  Now a cut batch is sealed, and the barrier thread takes it
 * once every file of it that was in flight is back; meanwhile the walk
 * and the writers fill the next one.  At most SEALED_MAX cut batches wait
 * or run, which bounds the dirty data and the directory descriptors held.
 *
 * What does not change: results come back to the walking thread, which
 * alone touches the batch being filled, the counters and the messages
 * (the barrier thread records a file's failure in its batch; the walk
 * reports it when it frees the batch, rs_batch_reap); a file is queued for
 * its rename only once its writer is done, and a batch's syncfs starts
 * only after every file of it is back, so it covers all of their data.
 * The directory a writer creates in is its batch's own descriptor, open
 * until that batch's barrier.  A bounded number of files is in flight,
 * each with a copy of its node.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo.h"
#include "store/restore_internal.h"

#define POOL_INFLIGHT 64 /* files handed out and not yet taken back */
#define SEALED_MAX 3     /* cut batches not yet reported */

struct rs_job {
	struct node n;   /* a copy: the tree it came from is freed meanwhile */
	struct rs_batch *b; /* the batch it goes into */
	int d;           /* its directory there */
	int dirfd;       /* that directory's descriptor (the batch's) */
	char *name;
	char *path;      /* for messages */
	struct rs_fill how;
	/* results, written by the writer */
	char tmp[256];
	const char *what; /* NULL: done; else points into msg or is static */
	int err;
	char msg[512];
	struct rs_job *next;
};

struct rs_pool {
	struct rs_ctx *c; /* for repo only, in writers */
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job was finished */
	struct rs_job *todo, *todo_tail;
	struct rs_job *finished;
	size_t inflight; /* queued + being written + finished not taken back */
	bool stop;
	pthread_t th[RS_POOL_MAX];
	size_t nth;
	/* The barrier thread and the cut batches, in the order they were cut,
	 * until reported. */
	pthread_cond_t ready; /* a sealed batch has all its files, or stop */
	struct rs_batch *sealed, *sealed_tail;
	size_t nsealed;
	bool bstop;
	bool has_barrier;
	pthread_t barrier;
};

static void job_free(struct rs_job *j)
{
	node_clear(&j->n);
	free(j->name);
	free(j->path);
	free(j);
}

static void *writer_main(void *arg)
{
	struct rs_pool *p = arg;
	struct rs_rand rnd = { .left = 0 };
	/* The chunk lookups of a run of files share read transactions
	 * (repo_lookups_begin): one each cost an fstat and two fcntl locks,
	 * for about 100,000 chunks in a 1.7 GB project.  Every blob looked up
	 * belongs to the snapshot, committed before the restore began, so an
	 * older view of the catalog still finds it.  No transaction is kept
	 * while the writer waits for work. */
	repo_lookups_begin(p->c->repo);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (!p->todo && !p->stop) {
			pthread_mutex_unlock(&p->lock);
			repo_lookups_renew(p->c->repo);
			pthread_mutex_lock(&p->lock);
		}
		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->todo)
			break;
		struct rs_job *j = p->todo;
		p->todo = j->next;
		if (!p->todo)
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->lock);
		j->what = rs_fill_file(p->c->repo, &rnd, j->dirfd, j->name, &j->n, &j->how, j->msg,
				       sizeof j->msg, j->tmp, &j->err);
		pthread_mutex_lock(&p->lock);
		j->next = p->finished;
		p->finished = j;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	repo_lookups_end(p->c->repo);
	return NULL;
}

/* The first sealed batch whose files are all back and whose barrier has
 * not run (p->lock held). */
static struct rs_batch *ready_locked(struct rs_pool *p)
{
	for (struct rs_batch *b = p->sealed; b; b = b->next)
		if (!b->outstanding && !b->busy && !b->done)
			return b;
	return NULL;
}

static void *barrier_main(void *arg)
{
	struct rs_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct rs_batch *b;
		/* On stop, what is ready still gets its barrier. */
		while (!(b = ready_locked(p)) && !p->bstop)
			pthread_cond_wait(&p->ready, &p->lock);
		if (!b)
			break;
		b->busy = true;
		pthread_mutex_unlock(&p->lock);
		rs_batch_barrier(b);
		pthread_mutex_lock(&p->lock);
		b->busy = false;
		b->done = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int rs_pool_start(struct rs_ctx *c, unsigned threads)
{
	if (threads <= 1)
		return 0;
	size_t want = threads > RS_POOL_MAX ? RS_POOL_MAX : threads;
	struct rs_pool *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->c = c;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	pthread_cond_init(&p->ready, NULL);
	for (; p->nth < want; p->nth++)
		if (pthread_create(&p->th[p->nth], NULL, writer_main, p) != 0)
			break;
	p->has_barrier = p->nth > 0 && pthread_create(&p->barrier, NULL, barrier_main, p) == 0;
	if (!p->has_barrier) {
		/* No threads to be had: write in line. */
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < p->nth; i++)
			pthread_join(p->th[i], NULL);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->ready);
		free(p);
		return 0;
	}
	c->pool = p;
	return 0;
}

/* Take back the finished jobs (p->lock held; released while each is
 * handled). */
static void take_back(struct rs_ctx *c, struct rs_pool *p)
{
	while (p->finished) {
		struct rs_job *j = p->finished;
		p->finished = j->next;
		p->inflight--;
		pthread_mutex_unlock(&p->lock);
		struct relpath saved = c->path;
		c->path = (struct relpath){ .s = j->path, .len = strlen(j->path) };
		const char *what = j->what;
		int err = j->err;
		struct rs_batch *b = j->b;
		if (!what &&
		    (err = rs_batch_queue(c, b, j->d, j->tmp, j->name, j->path, j->n.size)) < 0)
			what = "out of memory";
		if (what) {
			if (j->tmp[0])
				unlinkat(j->dirfd, j->tmp, 0);
			rs_fail(c, err, what);
		} else {
			rs_count(c, &j->n);
		}
		c->path = saved;
		job_free(j);
		pthread_mutex_lock(&p->lock);
		if (--b->outstanding == 0 && b->sealed)
			pthread_cond_signal(&p->ready);
	}
}

/* Report and free the sealed batches whose barrier has run (p->lock held;
 * released while each is reported). */
static void reap_done(struct rs_ctx *c, struct rs_pool *p)
{
	struct rs_batch **at = &p->sealed;
	while (*at) {
		struct rs_batch *b = *at;
		if (!b->done) {
			at = &b->next;
			continue;
		}
		*at = b->next;
		p->nsealed--;
		p->sealed_tail = NULL;
		for (struct rs_batch *t = p->sealed; t; t = t->next)
			p->sealed_tail = t;
		pthread_mutex_unlock(&p->lock);
		rs_batch_reap(c, b);
		pthread_mutex_lock(&p->lock);
		at = &p->sealed; /* the list may be walked afresh: it is short */
	}
}

int rs_pool_submit(struct rs_ctx *c, const struct node *n, int d, const char *name)
{
	struct rs_pool *p = c->pool;
	struct rs_job *j = calloc(1, sizeof *j);
	if (!j)
		return -ENOMEM;
	if (node_copy(n, &j->n) < 0 || !(j->name = strdup(name)) || !(j->path = strdup(c->path.s))) {
		job_free(j);
		return -ENOMEM;
	}
	j->b = c->batch;
	j->d = d;
	j->dirfd = rs_batch_dirfd(c, d);
	/* chown when root, unless the file is created with its owner already
	 * (the common case: a root restore of root's files). */
	bool owned = n->uid == c->uid && c->here.gid_known && n->gid == c->here.file_gid;
	j->how = (struct rs_fill){ .chown = c->as_root && !owned, .mode = rs_mode(c, n) };
	bool full = rs_batch_note(c, n->size);
	pthread_mutex_lock(&p->lock);
	take_back(c, p);
	while (p->inflight >= POOL_INFLIGHT) {
		pthread_cond_wait(&p->done, &p->lock);
		take_back(c, p);
	}
	if (p->todo_tail)
		p->todo_tail->next = j;
	else
		p->todo = j;
	p->todo_tail = j;
	p->inflight++;
	j->b->outstanding++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	if (full)
		rs_batch_cut(c);
	return 0;
}

void rs_pool_seal(struct rs_ctx *c, struct rs_batch *b)
{
	struct rs_pool *p = c->pool;
	pthread_mutex_lock(&p->lock);
	b->sealed = true;
	b->next = NULL;
	if (p->sealed_tail)
		p->sealed_tail->next = b;
	else
		p->sealed = b;
	p->sealed_tail = b;
	p->nsealed++;
	if (!b->outstanding)
		pthread_cond_signal(&p->ready);
	/* Files coming back make batches ready; a barrier done frees one. */
	take_back(c, p);
	reap_done(c, p);
	while (p->nsealed >= SEALED_MAX) {
		pthread_cond_wait(&p->done, &p->lock);
		take_back(c, p);
		reap_done(c, p);
	}
	pthread_mutex_unlock(&p->lock);
}

void rs_pool_finish(struct rs_ctx *c)
{
	struct rs_pool *p = c->pool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	take_back(c, p);
	reap_done(c, p);
	while (p->inflight > 0 || p->nsealed > 0) {
		pthread_cond_wait(&p->done, &p->lock);
		take_back(c, p);
		reap_done(c, p);
	}
	pthread_mutex_unlock(&p->lock);
}

void rs_pool_free(struct rs_ctx *c)
{
	struct rs_pool *p = c->pool;
	if (!p)
		return;
	/* Every file in flight back, every sealed batch through its barrier
	 * (they are complete: renaming them is what they wait for). */
	rs_pool_finish(c);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	p->bstop = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_join(p->barrier, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->ready);
	free(p);
	c->pool = NULL;
}
