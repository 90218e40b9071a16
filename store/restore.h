/* restore.h — writing nodes of a snapshot back to the filesystem.
 *
 * Every file is written under a temp name in its destination directory,
 * fsynced and renamed over the target: a failed or killed restore never
 * leaves a half-written file.  Destination components are opened with
 * O_NOFOLLOW|O_DIRECTORY relative to the destination root fd, so nothing
 * is written outside it and no symlink (planted by a snapshot or by someone
 * in the destination) is followed.  Contents, modes, mtimes, symlinks and
 * user.* xattrs are restored; uid/gid when running as root; setuid/setgid
 * bits and device nodes only with allow_special.  All-zero chunks are
 * written as holes.
 */
#ifndef CKPTFS_STORE_RESTORE_H
#define CKPTFS_STORE_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/tree.h"

struct repo;

struct restore_opts {
	bool dry_run;       /* report what would be written, write nothing */
	bool allow_special; /* restore setuid/setgid bits and device nodes */
	void *ctx;
	/* Called for each path written (or that would be); may be NULL. */
	void (*report)(void *ctx, const char *relpath, const struct node *n);
	/* A path that could not be restored (err negative); the restore goes
	 * on with the rest and returns the first error at the end. */
	void (*warn)(void *ctx, const char *relpath, int err, const char *what);
	/* Called for each entry of the restored directory itself (not
	 * deeper) before it is restored: true leaves it out (not restored,
	 * not reported, not counted).  May be NULL. */
	bool (*skip_top)(void *ctx, const struct node *n);
	/* Threads writing file contents for a directory: 0 two per CPU (at
	 * most 8), 1 none (the calling thread writes them). */
	unsigned threads;
};

struct restore_stats {
	uint64_t files, dirs, symlinks, other, bytes, errors;
	uint64_t temps_removed; /* stale temp files of a killed restore removed */
};

/* True for the temp names restore writes under, ".<name>.ckptfs-XXXXXX"
 * (X: [A-Za-z0-9]).  A restore killed mid-file leaves one; the walk leaves
 * such names out of snapshots (a built-in exclude), and the next restore
 * into that directory removes them (regular files owned by the user, not
 * changed since it began). */
bool restore_is_temp_name(const char *name);

/* Restore node n as dest_name inside the directory dest_dirfd (a directory
 * node recursively, merging into an existing directory: files it holds are
 * replaced, files it does not hold are left alone).  dest_name must be one
 * component (-EINVAL otherwise).  An existing entry is replaced only if it
 * is a regular file, a dangling symlink or a symlink to a regular file (for
 * a symlink node also a symlink to a directory or one reading the same),
 * and merged into only if it is a directory where a directory goes;
 * anything else (a device, FIFO, socket, a symlink to one, a directory
 * where a file goes, a file or a symlink where a directory goes) is never
 * touched: that path fails (warn: "exists and is TYPE...: left alone"),
 * also in a dry run.  The snapshot root as tree_resolve returns it
 * (a directory node named "") restores its contents only: the destination
 * directory keeps its own mode and mtime.  A file recorded as
 * NODE_F_UNREADABLE is not restored, a directory so recorded is made
 * (with its metadata) but empty; both are errors for that path.  Device nodes
 * without allow_special, and sockets, are skipped and reported through warn
 * but are not errors.  Returns 0, the first path's error (message "PATH:
 * what") after restoring everything else, or -ENOMEM.  *ret_stats (may be
 * NULL) is filled whenever the restore ran to the end, errors included. */
int restore_node(struct repo *repo, const struct node *n, int dest_dirfd, const char *dest_name,
		 const struct restore_opts *opts, struct restore_stats *ret_stats);

#endif
