/* walk_internal.h — what walk*.c and ignore.c share.  Not for other modules:
 * they use walk.h. */
#ifndef CKPTFS_STORE_WALK_INTERNAL_H
#define CKPTFS_STORE_WALK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "store/walk.h"

/* Decide one entry whose parent directories are known not to be excluded
 * (the walk asks in depth-first order).  relpath is relative to the root,
 * dirlen the length of its parent part (0 at the root, else the index of
 * the last '/'), dirfd an open fd of that parent (used to read its
 * .ckptignore and to look for toolchain marker files).  Returns 1 to leave
 * the entry out, 0 to keep it, or a negative errno (-ENOMEM). */
int ignore_entry(struct ignore *ig, int dirfd, const char *relpath, size_t dirlen, bool is_dir);

/* Gitignore-style glob match of a processed pattern (escapes kept,
 * leading '/' and trailing '/' removed) against text: '*' and '?' do not
 * match '/', "**" between slashes matches any number of directories.
 * Exposed for tests. */
bool ignore_glob(const char *pattern, const char *text);

#endif
