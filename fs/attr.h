/* attr.h — struct stat for what a snapshot recorded. */
#ifndef CKPTFS_FS_ATTR_H
#define CKPTFS_FS_ATTR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store/tree.h"

/* Attributes of a recorded node: type | mode, uid, gid, size, mtime and
 * ctime (atime = mtime), rdev, st_blocks from the size, nlink 1 (callers
 * set a folder's link count with attr_subdirs).  st_ino is left 0. */
void attr_from_node(const struct node *n, struct stat *st);

/* Number of subfolders in t (a folder's link count is 2 + this). */
size_t attr_subdirs(const struct tree *t);

/* The mode, uid and gid of a snapshot's folder, from its root tree: what
 * the project root had when the snapshot was taken (tree->self), less the
 * group and other bits the folders above it did not let through (reach).  A
 * snapshot from before that was recorded gets 0700 and the given owner
 * (the mounting user): nothing says who else could read the project, so
 * with `mount -o allow_other` nobody else can. */
void attr_snapshot_root(const struct tree *root, uid_t owner, gid_t group, struct stat *st);

/* S_IF* bits of a node type (S_IFREG for unknown types). */
mode_t attr_type_bits(uint8_t type);

/* Set st's mtime, ctime and atime to ns since the epoch. */
void attr_set_times(struct stat *st, int64_t mtime_ns, int64_t ctime_ns);

#endif
