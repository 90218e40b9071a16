/* dest.h — paths for restore: a user's PATH as a path inside the project,
 * and the destination directories a restore writes into.
 */
#ifndef CKPTFS_SRC_DEST_H
#define CKPTFS_SRC_DEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* The path inside the project (relative, no "." or ".." components, "" for
 * the root) that path names: path is absolute, or relative to base (itself
 * relative to root, "" for the root).  ".." is resolved lexically: the
 * path may name something that no longer exists.  0; -EXDEV if an absolute
 * path is outside root; -EINVAL if ".." climbs above the root;
 * -ENAMETOOLONG if out (cap bytes) is too small. */
int dest_relpath(const char *root, const char *base, const char *path, char *out, size_t cap);

/* Make the directories of rel (relative, '/'-separated) below dirfd as
 * needed (mode 0755 before umask) and open the innermost one, never
 * following a symlink: a symlink planted in the project cannot redirect a
 * restore.  An fd (caller closes) or a negative errno. */
int dest_open_dirs_below(int dirfd, const char *rel);

/* mkdir -p of a path the user chose (symlinks in it are followed, as the
 * user's own path).  0 or a negative errno. */
int dest_mkdir_p(const char *path);

/* Make path's parent directory if missing and open it; its last component
 * (trailing slashes ignored) goes into name_out (NAME_MAX + 1 bytes).  An
 * fd, or -EINVAL when the last component is empty, "." or "..", or another
 * negative errno. */
int dest_open_parent(const char *path, char *name_out);

/* The directory part of path, for messages: "a/b/c" -> "a/b", "c" -> ".",
 * "/c" -> "/", trailing slashes ignored. */
void dest_parent_of(const char *path, char *out, size_t cap);

/* Where one restore writes: the entry named name inside the directory open
 * as dirfd (-1 in a dry run whose directories are still to be made: there
 * is nothing to check there yet). */
struct dest {
	int dirfd;
	char name[NAME_MAX + 1];
	char dir[PATH_MAX];  /* dirfd's path, ending in '/': restore reports paths
			      * relative to it, from name on */
	char show[PATH_MAX]; /* the destination as the summary names it */
	char err[PATH_MAX + 64]; /* on failure: "PATH: why" */
};

/* Into the project at root: rel is the path inside it ("" for the whole
 * project, which is merged into root itself).  Missing directories on the
 * way are made (never following a symlink below root), unless dry_run.
 * 0 or a negative errno (d->err says what failed). */
int dest_in_project(const char *root, const char *rel, bool dry_run, struct dest *d);

/* To the user's DEST (--to): a directory node becomes DEST; anything else
 * goes into DEST if DEST is a directory or ends in '/', else it is written
 * as DEST.  rel names the node in the snapshot (its last component is the
 * name in the first case).  0 or a negative errno (d->err). */
int dest_to(const char *to, const char *rel, bool node_is_dir, bool dry_run, struct dest *d);

#endif
