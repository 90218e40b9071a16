/* ignore.h — which entries a snapshot leaves out: the built-in excludes,
 * .ckptignore files and --exclude patterns (store/ignore.c). */
#ifndef CKPTFS_STORE_IGNORE_H
#define CKPTFS_STORE_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

/* Default exclusions and .ckptignore, exposed for tests and --dry-run:
 * true if relpath (a directory if is_dir) would be left out when walking
 * root, also because a directory above it is.  Uses the same rules as
 * walk_run (the list of default excludes is in store/ignore.c).  dirfd is
 * an open fd of the directory holding relpath's last component, or -1 to
 * open it from the root (never following symlinks).  ignore_open fails
 * (recorded message) if root cannot be opened. */
struct ignore;
int ignore_open(const char *root, const char *const *excludes, size_t nexcludes,
		struct ignore **ret);
bool ignore_match(struct ignore *ig, int dirfd, const char *relpath, bool is_dir);
void ignore_free(struct ignore *ig);

#endif
