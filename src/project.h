/* project.h — where a project starts, and what git says about it.
 *
 * A project's root is the enclosing git work tree of the directory given
 * (the nearest ancestor, or the directory itself, holding a `.git`
 * directory or `.git` file), else the directory itself.  Git's HEAD is
 * read from the files under .git directly (loose refs, packed-refs, the
 * `.git` file and commondir of linked worktrees and submodules): no git
 * program is needed and nothing is written.
 */
#ifndef CKPTFS_SRC_PROJECT_H
#define CKPTFS_SRC_PROJECT_H

/* Canonical absolute path of the project root containing dir into
 * *ret_root (malloc'd).  dir must exist and be a directory that can be
 * opened for reading: -ENOENT, -ENOTDIR, -EACCES otherwise, with the
 * message "<dir>: <strerror>" recorded (store_error()).  A root on a kernel
 * pseudo file system (/proc, /sys, /dev: src/pseudofs.h) is -EXDEV. */
int proj_find_root(const char *dir, char **ret_root);

/* HEAD of the git work tree at root: *ret_commit the full hex commit id
 * (NULL on an unborn branch), *ret_branch the branch name without
 * "refs/heads/" (NULL when HEAD is detached).  Both malloc'd.  Returns 0
 * with both NULL when root is not a git work tree; -EINVAL (message
 * recorded) when the git files cannot be made sense of; -ENOMEM. */
int proj_git_head(const char *root, char **ret_commit, char **ret_branch);

#endif
