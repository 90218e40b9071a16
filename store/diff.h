/* diff.h — what changed between two snapshots.
 *
 * Subtrees with equal ids are skipped unread, so the cost follows what
 * changed, not the size of the project.
 */
#ifndef CKPTFS_STORE_DIFF_H
#define CKPTFS_STORE_DIFF_H

#include "store/id.h"
#include "store/tree.h"

struct repo;

enum diff_kind { DIFF_ADDED = 'A', DIFF_MODIFIED = 'M', DIFF_DELETED = 'D' };

/* Call fn for every path (relative, '/'-separated) that differs between
 * the trees old_root (may be NULL: everything is added) and new_root, in
 * path order (depth first, a directory before its contents, siblings
 * sorted by name).  n is the new node (the old one for DIFF_DELETED).  An
 * entry is modified if its type, mode, uid, gid, size, mtime, rdev, chunk
 * list, symlink target or xattrs differ (not ctime, dev, ino); a type
 * change is DIFF_MODIFIED followed by the contents of the directory that
 * went or came.  An added or deleted directory is reported, then all it
 * held.  A non-zero return from fn stops the diff and is returned. */
int diff_trees(struct repo *repo, const blob_id *old_root, const blob_id *new_root,
	       int (*fn)(void *ctx, enum diff_kind kind, const char *path, const struct node *n),
	       void *ctx);

/* The same, fn getting both sides: old is NULL for DIFF_ADDED, new NULL
 * for DIFF_DELETED, both set for DIFF_MODIFIED. */
typedef int (*diff_pair_fn)(void *ctx, enum diff_kind kind, const char *path,
			    const struct node *old_node, const struct node *new_node);
int diff_trees_pair(struct repo *repo, const blob_id *old_root, const blob_id *new_root,
		    diff_pair_fn fn, void *ctx);

/* A project's working tree against a snapshot (diff_work.c). */
struct diff_work_opts {
	const char *root;           /* absolute project root */
	int64_t snap_time_ns;       /* the snapshot's start (racy threshold) */
	const char *const *excludes; /* --exclude patterns, as for walk_run */
	size_t nexcludes;
	const char *reserved; /* a top-level name the snapshot holds and the tree never does
			       * (the databases folder), or NULL */
};

/* What differs between snapshot tree old_root and the directory o->root,
 * walked with the rules of walk_run (default excludes, .ckptignore,
 * --exclude, one filesystem, never the repository).  The working side's
 * nodes hold metadata only (no chunks; a symlink's target).  A file whose
 * (dev, ino, size, mtime, ctime) equal the snapshot's entry and are not
 * racy is unchanged without being read (the files cache's rule); another
 * of equal size is compared byte by byte, and if its content is the same
 * it is reported only if its mode or owner changed.  A directory is
 * reported modified only when its mode or owner changed.  xattrs are not
 * compared.  Same order and type-change rules as diff_trees.  An entry
 * that cannot be read is reported modified. */
int diff_worktree(struct repo *repo, const blob_id *old_root, const struct diff_work_opts *o,
		  diff_pair_fn fn, void *ctx);

#endif
