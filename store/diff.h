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

#endif
