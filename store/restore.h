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
};

struct restore_stats {
	uint64_t files, dirs, symlinks, other, bytes, errors;
};

/* Restore node n as dest_name inside the directory dest_dirfd (a directory
 * node recursively, merging into an existing directory: files it holds are
 * replaced, files it does not hold are left alone). */
int restore_node(struct repo *repo, const struct node *n, int dest_dirfd, const char *dest_name,
		 const struct restore_opts *opts, struct restore_stats *ret_stats);

#endif
