/* walk.h — turning a project directory into trees.
 *
 * The walk opens every directory with openat(O_NOFOLLOW|O_DIRECTORY), stats
 * entries with fstatat(AT_SYMLINK_NOFOLLOW), never follows symlinks, stays
 * on the root's filesystem, skips the repository itself and any FUSE mount,
 * and reads files with O_NOATIME where permitted: it never writes to the
 * project.
 *
 * Files cache: a file whose (dev, ino, size, mtime, ctime) equal its entry
 * in the parent snapshot's tree reuses that entry's chunk list unread —
 * unless the entry is racy (mtime or ctime not safely before the parent
 * snapshot's start time), in which case it is re-read.  A file whose stat
 * changes while it is being read is read again (a few times, then stored as
 * read and flagged NODE_F_CHANGING).  A file or directory that cannot be
 * read is reported through hooks->warn, recorded as metadata with
 * NODE_F_UNREADABLE, and makes the result partial.
 */
#ifndef CKPTFS_STORE_WALK_H
#define CKPTFS_STORE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store/id.h"
#include "store/tree.h"

struct writer;
struct repo;

struct walk_progress {
	uint64_t files, dirs, bytes; /* seen so far */
	uint64_t read_bytes;         /* read so far (not from the files cache) */
	uint64_t read_ahead_files;   /* big files the read-ahead asked for so far */
	const char *current;         /* path being read, relative to the root */
};

/* Ways for an outer layer (dumpers, the CLI) to take part without the store
 * knowing about databases or terminals.  Every member may be NULL. */
struct walk_hooks {
	void *ctx;
	/* Offered each regular file (open read-only as fd, stat st) before the
	 * walk reads it.  Return 0 to let the walk store it normally; 1 after
	 * filling node's content yourself (writer_put_stream/fd) and any
	 * NODE_F_* flags; a negative errno to fail the whole walk. */
	int (*capture)(void *ctx, struct writer *w, const char *relpath, int fd,
		       const struct stat *st, struct node *node);
	/* true to leave an entry out (after the built-in and ignore rules). */
	bool (*skip)(void *ctx, const char *relpath, const struct stat *st);
	/* A path that could not be stored as it is; err is a negative errno.
	 * what is a short reason ("cannot read", "changed while read"). */
	void (*warn)(void *ctx, const char *relpath, int err, const char *what);
	/* Called now and then (at most a few times a second is the caller's
	 * business: it gets every file). */
	void (*progress)(void *ctx, const struct walk_progress *p);
};

struct walk_opts {
	const char *root;              /* absolute project root */
	const blob_id *parent_root;    /* previous snapshot's root tree or NULL */
	int64_t parent_time_ns;        /* its start time (racy-entry threshold) */
	/* The parent is a schema-1 snapshot (repo_snapshot_is_legacy): what
	 * the files cache reuses from it is used only if every chunk is held
	 * as a data chunk (else the file is read again), and unchanged trees
	 * are stored again through writer_put_tree's reference check. */
	bool verify_reused;
	const char *const *excludes;   /* extra gitignore-style patterns (--exclude) */
	size_t nexcludes;
	const struct walk_hooks *hooks; /* or NULL */
	/* Extra entries placed at the root (e.g. the databases folder).  An
	 * entry of the project with the same name is left out and reported. */
	const struct node *extra_root;
	size_t nextra;
};

struct walk_result {
	blob_id root;
	uint64_t files, dirs, bytes, read_bytes, reused_files;
	uint64_t warnings; /* hooks->warn calls */
	bool partial;      /* something could not be stored as it is */
	/* The read-ahead of big files ran (a first snapshot, or a file had
	 * changed), and how many files it asked the kernel for. */
	bool read_ahead;
	uint64_t read_ahead_files;
};

/* Walk opts->root, storing file contents and trees through w. */
int walk_run(struct writer *w, const struct walk_opts *opts, struct walk_result *ret);

#endif
