/* restore_internal.h — what restore.c and restore_file.c share. */
#ifndef CKPTFS_STORE_RESTORE_INTERNAL_H
#define CKPTFS_STORE_RESTORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "store/relpath.h"
#include "store/restore.h"

#define RESTORE_PIECE (1u << 20) /* content is written in pieces of about this */

/* What restore knows of the directory whose entries it is making: each
 * fact saves a system call per file. */
struct rs_here {
	bool fresh;      /* made by this restore (0700, ours): nothing was there */
	bool gid_known;  /* file_gid is what a file created there gets */
	gid_t file_gid;
	int batch_dir;   /* its index in the batch (restore_batch.c), or -1 */
};

/* Random bytes for temp names, drawn 48 at a time. */
struct rs_rand {
	uint8_t b[48];
	size_t left; /* unused at the end of b */
};

struct rs_ctx {
	struct repo *repo;
	const struct restore_opts *opts;
	const struct node *top; /* the node restore_node was given */
	struct restore_stats stats;
	bool as_root; /* restore owners */
	struct relpath path; /* of the node being restored */
	char msg[512]; /* room for a composed failure text */
	int first_err;
	char *first_msg; /* "PATH: what" of first_err */
	struct timespec start; /* CLOCK_REALTIME when the restore began */
	struct rs_batch *batch;       /* files written, not yet renamed (restore_batch.c) */
	struct rs_dirmetas *dirmetas; /* directory metadata to set at the end */
	uid_t uid;                    /* what a file we create is owned by... */
	gid_t gid;                    /* ...outside a setgid directory */
	struct rs_here here;          /* the directory being filled */
	struct rs_rand rnd;           /* for temp names made by this thread */
	struct rs_pool *pool;         /* writers of file contents, or NULL (restore_pool.c) */
};

/* ---- restore_batch.c: durability with few barriers ---- */

/* The batch's index of directory dirfd, the one being filled (c->here),
 * looked up once per directory; flushes first when the batch holds too
 * many directories.  The batch keeps its own descriptor of it until the
 * next flush.  An index, or a negative errno. */
int rs_batch_dir(struct rs_ctx *c, int dirfd);

/* The batch's descriptor of directory index d. */
int rs_batch_dirfd(struct rs_ctx *c, int d);

/* Queue the finished temp file tmp in batch directory d, to be renamed
 * over name once durable; path is for messages.  Never flushes.  0, or
 * -ENOMEM. */
int rs_batch_queue(struct rs_ctx *c, int d, const char *tmp, const char *name, const char *path,
		   uint64_t size);

/* Count a file of size bytes about to be written into the batch (queued
 * later, by the pool): true when the batch should be flushed now. */
bool rs_batch_note(struct rs_ctx *c, uint64_t size);

/* Queue the finished temp file tmp (size bytes, already counted as
 * restored) in dirfd, to be renamed over name once durable.  May flush.
 * 0, or -ENOMEM. */
int rs_batch_add(struct rs_ctx *c, int dirfd, const char *tmp, const char *name, uint64_t size);

/* Make every queued file durable (one syncfs per file system), then
 * rename each over its target; failures are reported per path. */
int rs_batch_flush(struct rs_ctx *c);

/* Record directory node n's metadata (at c->path) to be set at the end. */
int rs_dirmeta_add(struct rs_ctx *c, const struct node *n);

/* Set the recorded directory metadata, children before parents. */
void rs_dirmeta_apply(struct rs_ctx *c, int dest_dirfd);

/* Owner, mode, xattrs and mtime of directory node n on fd (restore.c);
 * failures are reported with rs_fail. */
void rs_set_dir_meta(struct rs_ctx *c, int fd, const struct node *n);

/* The last barrier: every file system the restore wrote to. */
void rs_sync_all(struct rs_ctx *c, int dest_dirfd);

/* Free the queue (removing temps never renamed) and the metadata list. */
void rs_batch_free(struct rs_ctx *c);

/* Remove the temp files a killed restore left in dirfd (restore_temp.c):
 * names restore_is_temp_name() accepts (only those of the entry named
 * only, if not NULL), regular files owned by us and unchanged since
 * c->start.  Best effort: failures are ignored. */
void rs_clean_temps(struct rs_ctx *c, int dirfd, const char *only);

/* ---- restore_pool.c: file contents written on every core ---- */

/* Start threads writers (at most RS_POOL_MAX; none for threads <= 1:
 * then c->pool stays NULL and files are written in line).  0, or a
 * negative errno. */
int rs_pool_start(struct rs_ctx *c, unsigned threads);

/* Hand file node n, to be made as name in batch directory d, to a writer:
 * it makes the temp file, writes content and metadata; the result is
 * taken back in this thread (queued in the batch, or failed under path
 * c->path) by a later rs_pool_submit or rs_pool_drain.  Waits while too
 * many files are in flight.  0, or -ENOMEM. */
int rs_pool_submit(struct rs_ctx *c, const struct node *n, int d, const char *name);

/* Wait for every file in flight and take their results back.  Called
 * before the batch is flushed: nothing may be renamed, nor a batch
 * directory closed, while a writer works in it. */
void rs_pool_drain(struct rs_ctx *c);

/* Stop and free the writers (after rs_pool_drain).  NULL pool: no-op. */
void rs_pool_free(struct rs_ctx *c);

#define RS_POOL_MAX 8

/* How a writer completes a file: everything rs_file decides in advance. */
struct rs_fill {
	bool chown;    /* set n's owner (root, not created so) */
	uint32_t mode; /* rs_mode */
};

/* Make a temp file for n as ".<name>.ckptfs-XXXXXX" in dirfd (name in
 * tmp), write n's content into it, set how's
 * metadata and n's xattrs and mtime, close it.  NULL, or a failure text
 * (composed in msg, cap bytes) with *ret_err; tmp is "" if no temp file
 * is left to remove.  Touches nothing but its arguments and the
 * repository's thread-safe read path: writers call it in parallel. */
const char *rs_fill_file(struct repo *repo, struct rs_rand *rnd, int dirfd, const char *name,
			 const struct node *n, const struct rs_fill *how, char *msg,
			 size_t cap, char tmp[256], int *ret_err);

/* Count file n as restored and report it (at c->path). */
void rs_count(struct rs_ctx *c, const struct node *n);

/* A path that could not be restored: warn, count, remember the first. */
void rs_fail(struct rs_ctx *c, int err, const char *what);

/* Report c->path.s as written (or to be written). */
void rs_report(struct rs_ctx *c, const struct node *n);

/* A name that is safe to use with *at() calls: one component. */
bool rs_name_ok(const char *name);

/* Mode bits to restore: setuid/setgid only with allow_special. */
uint32_t rs_mode(const struct rs_ctx *c, const struct node *n);

/* What the entry name in dirfd is, lst its lstat, for messages: "a
 * directory", "a character device", "a symlink to a FIFO", "a dangling
 * symlink"...  Written into out (cap bytes); returns out. */
const char *rs_describe(int dirfd, const char *name, const struct stat *lst, char *out, size_t cap);

/* NULL if node n may replace what is at name in dirfd (nothing, a regular
 * file, a symlink that dangles or leads to a regular file; for a symlink
 * node also one leading to a directory or reading the same), else why not
 * ("exists and is a FIFO: left alone", composed in buf) with *ret_err
 * (restore_file.c).  Checked when a temp entry is made and again just
 * before it is renamed over name. */
const char *rs_refusal(int dirfd, const char *name, const struct node *n, char *buf, size_t cap,
		       int *ret_err);

/* Set user.* xattrs of n on fd.  0 or a negative errno. */
int rs_set_xattrs(int fd, const struct node *n);

/* Restore a non-directory node as name in dirfd (see restore_file.c).
 * Failures of the path are reported with rs_fail and return 0; a negative
 * return (-ENOMEM) stops the whole restore. */
int rs_file(struct rs_ctx *c, const struct node *n, int dirfd, const char *name);
int rs_symlink(struct rs_ctx *c, const struct node *n, int dirfd, const char *name);
int rs_special(struct rs_ctx *c, const struct node *n, int dirfd, const char *name);

#endif
