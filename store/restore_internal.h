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
	struct rs_batch *batch;       /* the batch being filled (restore_batch.c) */
	struct rs_devs *devs;         /* for the last sync (restore_batch.c) */
	struct rs_dirmetas *dirmetas; /* directory metadata to set at the end */
	uid_t uid;                    /* what a file we create is owned by... */
	gid_t gid;                    /* ...outside a setgid directory */
	struct rs_here here;          /* the directory being filled */
	struct rs_rand rnd;           /* for temp names made by this thread */
	struct rs_pool *pool;         /* writers of file contents, or NULL (restore_pool.c) */
};

/* ---- restore_batch.c: durability with few barriers ---- */

/* A file written under its temp name, waiting for its batch's barrier. */
struct rs_pending {
	int dir;        /* index into its batch's dirs */
	char *tmp;      /* temp name in that directory */
	char *name;     /* target name */
	char *path;     /* for messages */
	uint64_t size;  /* counted as restored: taken back if the rename fails */
	/* Set by the barrier when it was not renamed: reported by the walk. */
	int err;
	const char *what;
	bool what_owned;
};

struct rs_dirref {
	int fd;
	dev_t dev;
	ino_t ino;
};

/* Files written, not yet renamed, with the directories they are in. */
struct rs_batch {
	struct rs_pending *v;
	size_t n, cap;
	uint64_t bytes;
	size_t noted;        /* files announced by rs_batch_note */
	uint64_t noted_bytes;
	struct rs_dirref *dirs; /* our own dups, for the renames */
	size_t ndirs, dircap;
	struct rs_dirref *syncs; /* one per file system, opened for this batch */
	size_t nsyncs, synccap;
	/* restore_pool.c's, under its lock: */
	size_t outstanding; /* files of it handed to writers, not taken back */
	bool sealed;        /* cut: no file is added but those outstanding */
	bool busy, done;    /* its barrier is running / has run */
	struct rs_batch *next; /* among the sealed ones */
};

#define MAX_DEVS 16

/* A directory of each file system the restore wrote to, for the last
 * sync; more than MAX_DEVS: many, and sync(). */
struct rs_devs {
	struct rs_dirref v[MAX_DEVS];
	size_t n;
	bool many;
};

/* The current batch's index of directory dirfd, the one being filled
 * (c->here), looked up once per directory; cuts the batch first when it
 * holds too many directories.  The batch keeps its own descriptor of it
 * until its barrier.  An index, or a negative errno. */
int rs_batch_dir(struct rs_ctx *c, int dirfd);

/* The current batch's descriptor of directory index d. */
int rs_batch_dirfd(struct rs_ctx *c, int d);

/* Queue the finished temp file tmp in directory d of batch b (not yet past
 * its barrier), to be renamed over name once durable; path is for
 * messages.  Never cuts.  0, or -ENOMEM. */
int rs_batch_queue(struct rs_ctx *c, struct rs_batch *b, int d, const char *tmp,
		   const char *name, const char *path, uint64_t size);

/* Count a file of size bytes about to be written into the current batch
 * (queued later, by the pool): true when the batch should be cut now. */
bool rs_batch_note(struct rs_ctx *c, uint64_t size);

/* Queue the finished temp file tmp (size bytes, already counted as
 * restored) of directory d of the current batch (from rs_batch_dir before
 * it was written; negative: the batch could not hold the directory, and
 * the file is synced alone), dirfd, to be renamed over name once durable.
 * May cut.  0, or -ENOMEM. */
int rs_batch_add(struct rs_ctx *c, int d, int dirfd, const char *tmp, const char *name,
		 uint64_t size);

/* Cut the current batch: with a pool, handed to its barrier thread
 * (rs_pool_seal); else made durable and renamed now. */
void rs_batch_cut(struct rs_ctx *c);

/* Cut, and wait until every batch is durable and renamed and its failures
 * reported. */
void rs_batch_finish(struct rs_ctx *c);

/* The barrier of batch b, every file of it written: one syncfs per file
 * system, then each file renamed over its target, or why not recorded in
 * it; its descriptors closed.  Touches nothing but b: runs on the pool's
 * barrier thread. */
void rs_batch_barrier(struct rs_batch *b);

/* Report b's failures (walk thread) and free it. */
void rs_batch_reap(struct rs_ctx *c, struct rs_batch *b);

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

/* Hand file node n, to be made as name in directory d of the current
 * batch, to a writer: it makes the temp file, writes content and
 * metadata; the result is taken back in this thread (queued in that
 * batch, or failed under path c->path) by a later call here.  Waits while
 * too many files are in flight.  0, or -ENOMEM. */
int rs_pool_submit(struct rs_ctx *c, const struct node *n, int d, const char *name);

/* Batch b was cut: its barrier thread makes it durable and renames its
 * files once every file of it in flight is back.  Waits while too many
 * cut batches are not done yet, reporting those that are. */
void rs_pool_seal(struct rs_ctx *c, struct rs_batch *b);

/* Wait for every file in flight and every cut batch, and report them.
 * No pool: nothing. */
void rs_pool_finish(struct rs_ctx *c);

/* Finish, then stop and free the writers.  NULL pool: no-op. */
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
