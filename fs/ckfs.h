/* ckfs.h — the state of one mount, handed to every FUSE request as its
 * userdata.  There is no process-wide state: two mounts in one process
 * would each have their own.  Internal to fs/.
 */
#ifndef CKPTFS_FS_CKFS_H
#define CKPTFS_FS_CKFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fs/inode.h"
#include "fs/prefetch.h"
#include "fs/tcache.h"
#include "fs/view.h"

struct repo;
struct fuse_session;
struct ckfs;

/* Timeouts the kernel may cache answers for (seconds).  Root and project
 * folders change as snapshots are taken and forgotten: a name the kernel
 * holds for CKFS_DYNAMIC_TIMEOUT, plus the view's poll interval
 * (VIEW_POLL_NS, 0.5 s), is how long a forgotten snapshot can still be
 * seen, so the two add up to about a second.  A lookup there is one
 * in-memory list search, so revalidating twice a second costs nothing. */
#define CKFS_DYNAMIC_TIMEOUT 0.5     /* root and project folders: lists change */
#define CKFS_IMMUTABLE_TIMEOUT 86400.0 /* inside a snapshot: never changes */

/* A handle the kernel holds open (ops_dir, ops_file), linked into its
 * mount so that those still open when the session ends — the kernel may
 * drop RELEASE/RELEASEDIR requests in flight at unmount — are freed by
 * ckfs_clear. */
struct ckfs_handle {
	struct ckfs_handle *prev, *next;
	void (*free)(struct ckfs *fs, struct ckfs_handle *h);
};

struct ckfs {
	struct repo *repo;
	struct inode_table *inodes;
	struct view *view;
	struct tcache *trees;
	struct fuse_session *se;
	struct prefetch *prefetch; /* NULL if its thread could not start */
	uid_t uid;       /* the mounting user owns the synthetic folders */
	gid_t gid;
	bool foreground; /* log to stderr, else syslog */
	/* The kernel opens files without asking (FUSE_CAP_NO_OPEN_SUPPORT):
	 * ops_open answers ENOSYS once, and from then on no OPEN or RELEASE
	 * is sent; a read finds its file's node in the parent's cached tree.
	 * Set in init, before any request. */
	bool open_free;

	/* statfs figures, recomputed at most every few seconds */
	pthread_mutex_t usage_lock;
	int64_t usage_at_ns;
	uint64_t usage_bytes, usage_files;

	pthread_mutex_t handles_lock;
	struct ckfs_handle *handles; /* open handles (ckfs_handle_add) */
};

/* Link h (its free set) into fs's open handles before replying to the
 * open; unlink it on release (or when the reply failed). */
void ckfs_handle_add(struct ckfs *fs, struct ckfs_handle *h);
void ckfs_handle_del(struct ckfs *fs, struct ckfs_handle *h);

/* Log one line: to stderr as "ckptfs: ..." in the foreground, else to
 * syslog at priority prio. */
void ckfs_log(struct ckfs *fs, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Bytes of pack files in the repository and the number of projects and
 * snapshots (for statfs; cached a few seconds: file managers ask often). */
void ckfs_usage(struct ckfs *fs, uint64_t *ret_bytes, uint64_t *ret_files);

/* Set up fs around an open repository (REPO_READ).  tree_cache_bytes
 * bounds the decoded-tree cache. */
int ckfs_init(struct ckfs *fs, struct repo *repo, size_t tree_cache_bytes, bool foreground);

/* Free what ckfs_init made (not the repository). */
void ckfs_clear(struct ckfs *fs);

#endif
