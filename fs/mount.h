/* mount.h — mounting the read-only view and unmounting it.
 *
 * Errors follow the store's convention (store/err.h): a negative errno,
 * with a one-line message recorded by store_fail() for the CLI to print.
 */
#ifndef CKPTFS_FS_MOUNT_H
#define CKPTFS_FS_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

/* Default size of the decoded-chunk cache.  File data read once stays in
 * the kernel's page cache (keep_cache: snapshots never change), so this
 * cache only has to hold the chunks readers are in the middle of — a
 * chunk is at most 256 KiB and the kernel reads it in 128 KiB pieces —
 * for every worker thread at once, with room for the small random reads
 * of a database opened in the mount.  64 MiB filled up on every `cp -a`
 * with chunks nobody read again (peak RSS 149 MB in make bench); 16 MiB
 * copied as fast. */
#define FS_DEFAULT_CACHE_BYTES ((size_t)16 << 20)

struct fs_mount_opts {
	const char *mountpoint;
	const char *repo_path;  /* an existing repository */
	size_t cache_bytes;     /* decoded-chunk LRU; 0 = FS_DEFAULT_CACHE_BYTES */
	bool foreground;        /* serve in this process, log to stderr */
	bool allow_other;       /* let other users in (needs user_allow_other) */
	bool debug;             /* libfuse's request trace on stderr (foreground) */
};

/* Bytes of the tree cache that goes with a chunk cache of cache_bytes. */
size_t fs_tree_cache_bytes(size_t cache_bytes);

/* Whether mountpoint can be mounted on: it exists, is a directory, is not
 * a mount point already and is empty; and /dev/fuse can be opened.
 * 0 or a negative errno with a message naming the problem. */
int fs_mount_check(const char *mountpoint);

/* Mount the repository on mountpoint and serve it.  In the foreground,
 * returns when unmounted (or on SIGINT/SIGTERM/SIGHUP, after unmounting)
 * with 0.  In the background, forks a server process first and returns 0
 * in the caller once the mount is ready, or the server's error; the
 * server process never returns.  The repository is opened in the process
 * that serves (an SQLite connection must not cross a fork). */
int fs_mount_run(const struct fs_mount_opts *o);

/* Unmount a ckptfs mount: fusermount3 -u, or umount2() as root.  -EINVAL
 * "not mounted" if mountpoint is not a ckptfs mount point, -EBUSY if it is
 * in use. */
int fs_umount(const char *mountpoint);

/* Whether path is a ckptfs mount point (from /proc/self/mountinfo);
 * *ret_other_type gets the file system type if something else is mounted
 * there (malloc'd, may be NULL). */
bool fs_is_mounted(const char *abs_path, char **ret_other_type);

/* Absolute form of path; for a dead mount point (which cannot be
 * stat'ed) its parent is resolved instead.  *ret malloc'd. */
int fs_abs_path(const char *path, char **ret);

#endif
