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

#define RESTORE_PIECE (1u << 20) /* content is copied in pieces of at most this */

/* What restore knows of the directory whose entries it is making: each
 * fact saves a system call per file. */
struct rs_here {
	bool fresh;      /* made by this restore (0700, ours): nothing was there */
	bool gid_known;  /* file_gid is what a file created there gets */
	gid_t file_gid;
	int batch_dir;   /* its index in the batch (restore_batch.c), or -1 */
};

struct rs_ctx {
	struct repo *repo;
	const struct restore_opts *opts;
	const struct node *top; /* the node restore_node was given */
	struct restore_stats stats;
	bool as_root; /* restore owners */
	struct relpath path; /* of the node being restored */
	uint8_t *buf; /* RESTORE_PIECE bytes */
	char msg[512]; /* room for a composed failure text */
	int first_err;
	char *first_msg; /* "PATH: what" of first_err */
	struct timespec start; /* CLOCK_REALTIME when the restore began */
	struct rs_batch *batch;       /* files written, not yet renamed (restore_batch.c) */
	struct rs_dirmetas *dirmetas; /* directory metadata to set at the end */
	uid_t uid;                    /* what a file we create is owned by... */
	gid_t gid;                    /* ...outside a setgid directory */
	struct rs_here here;          /* the directory being filled */
	uint8_t rnd[48];              /* random bytes for temp names */
	size_t rnd_left;              /* unused at the end of rnd */
};

/* ---- restore_batch.c: durability with few barriers ---- */

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
