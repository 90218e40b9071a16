/* restore_pool.c — writing restored files on every core.
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
 * What does not change: results come back to the walking thread, which
 * alone touches the batch, the counters and the messages; a file is
 * queued for its rename only once its writer is done, and the batch is
 * flushed (barrier, renames, directories closed) only after every file in
 * flight is back (rs_pool_drain).  The directory a writer creates in is
 * the batch's own descriptor, open until that flush.  A bounded number of
 * files is in flight, each with a copy of its node.
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

struct rs_job {
	struct node n;   /* a copy: the tree it came from is freed meanwhile */
	int d;           /* batch directory */
	int dirfd;       /* its descriptor (the batch's) */
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
	for (; p->nth < want; p->nth++)
		if (pthread_create(&p->th[p->nth], NULL, writer_main, p) != 0)
			break;
	if (p->nth == 0) {
		/* No thread to be had: write in line. */
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
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
		if (!what && (err = rs_batch_queue(c, j->d, j->tmp, j->name, j->path, j->n.size)) < 0)
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
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	if (full)
		rs_batch_flush(c);
	return 0;
}

void rs_pool_drain(struct rs_ctx *c)
{
	struct rs_pool *p = c->pool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	take_back(c, p);
	while (p->inflight > 0) {
		pthread_cond_wait(&p->done, &p->lock);
		take_back(c, p);
	}
	pthread_mutex_unlock(&p->lock);
}

void rs_pool_free(struct rs_ctx *c)
{
	struct rs_pool *p = c->pool;
	if (!p)
		return;
	rs_pool_drain(c);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
	c->pool = NULL;
}
