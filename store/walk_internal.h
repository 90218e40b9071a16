/* walk_internal.h — what walk*.c and ignore.c share.  Not for other modules:
 * they use walk.h. */
#ifndef CKPTFS_STORE_WALK_INTERNAL_H
#define CKPTFS_STORE_WALK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store/relpath.h"
#include "store/walk.h"
#include "store/ignore.h"

/* Racy-entry windows of the files cache (see walk_file.c). */
#define WALK_RACY_NS (100 * 1000 * 1000LL)         /* fine-grained timestamps */
#define WALK_RACY_COARSE_NS (2 * 1000 * 1000 * 1000LL) /* whole-second filesystems */
#define WALK_READ_TRIES 3 /* reads of a file that keeps changing */

#define WALK_DENTS_BUF (32u * 1024)

/* Entries between looks at getrusage, and the disk reads (512-byte blocks)
 * that make a cache cold (walk_scout_if_cold): a warm walk reads none,
 * while a cold one reads tens of thousands of blocks (inode tables,
 * directories, the parent's trees); a few stray reads stay below. */
#define WALK_COLD_EVERY 64
#define WALK_COLD_BLOCKS 256

/* The read-ahead thread of a walk (walk_scout.c). */
struct walk_scout;

struct walk_scout_opts {
	const char *root;             /* absolute project root */
	dev_t root_dev;               /* its filesystem: the scout stays on it */
	bool have_repo;               /* the repository's directory, never entered */
	dev_t repo_dev;
	ino_t repo_ino;
	const char *const *excludes;  /* as walk_opts */
	size_t nexcludes;
	int64_t since_ns;             /* the parent snapshot's start; 0: every file */
	uint64_t ahead_max;           /* bytes asked for beyond those read; 0 = default */
};

struct walk_scout_stats {
	uint64_t files, bytes; /* files and bytes asked for */
};

/* Files asked for so far (any thread; cheap).  0 for NULL. */
uint64_t walk_scout_asked(const struct walk_scout *s);

/* Start the scout over o->root: it asks the kernel to read ahead the files
 * of at least 8 MiB changed since o->since_ns (by ctime or mtime) that the
 * walk will meet, in the walk's order, at most ahead_max bytes beyond what
 * walk_scout_consumed last said (at most an eighth of the memory).  0 or a
 * negative errno (message recorded; the walk then goes without). */
int walk_scout_start(const struct walk_scout_opts *o, struct walk_scout **ret);

/* The walk has read bytes so far (any thread; cheap). */
void walk_scout_consumed(struct walk_scout *s, uint64_t bytes);

/* Around hooks->capture: pause returns once the scout has no file open,
 * and it opens none until resume.  Closing any fd of a file drops every
 * fcntl lock this process holds on it, and a capture holds SQLite's
 * locks on the database it copies (a read transaction a checkpoint must
 * respect): an fd of the scout's on that file, closed meanwhile, would
 * silently release them.  The kernel goes on reading what the scout
 * asked for before.  NULL is a no-op. */
void walk_scout_pause(struct walk_scout *s);
void walk_scout_resume(struct walk_scout *s);

/* Stop the scout (finish: let it walk to its end first — it then waits
 * while it is ahead_max ahead, so only with a bound it cannot reach) and
 * free it; *ret_stats (may be NULL) gets what it asked for.  NULL is a
 * no-op. */
void walk_scout_free(struct walk_scout *s, bool finish, struct walk_scout_stats *ret_stats);

/* State of one walk_run. */
struct walk_ctx {
	struct writer *w;
	struct repo *repo;
	const struct walk_opts *opts;
	const struct walk_hooks *hooks; /* never NULL (an empty one if none) */
	struct ignore *ig;
	dev_t root_dev;
	bool have_repo_id;
	dev_t repo_dev;
	ino_t repo_ino;
	blob_id empty_tree; /* id of a tree with no entries, made on demand */
	bool have_empty_tree;
	struct walk_result res;
	struct walk_progress prog;
	struct relpath path; /* of the entry being handled */
	/* The read-ahead scout, started by walk_scout_begin at the first file
	 * that changed (at once for a first snapshot); NULL until then, or if
	 * it could not be started. */
	struct walk_scout *scout;
	struct walk_scout_opts scout_opts;
	bool scout_tried;
	char *dents; /* WALK_DENTS_BUF bytes for getdents64 (walk_dir lists a
		      * directory whole before it recurses: one buffer is enough) */
	long inblock0;      /* the walk's thread's ru_inblock when it began */
	unsigned cold_skip; /* entries until walk_scout_if_cold looks again */
};

/* Start the scout unless it was started (or tried) already: the walk has
 * met a file it will read.  A scout that cannot start is only a missed
 * hint (the error is cleared). */
void walk_scout_begin(struct walk_ctx *c);

/* Now and then (every few dozen entries): start the scout if the walk's
 * thread has had to read from the disk (a cold cache), where the scout's
 * stat pass, a second reader of the same inodes, is what saves time. */
void walk_scout_if_cold(struct walk_ctx *c);

/* Record a warning about the current path (c->path.s). */
void walk_warn(struct walk_ctx *c, int err, const char *what);

/* Id of the empty tree (for directories that could not be read). */
int walk_empty_tree(struct walk_ctx *c, blob_id *ret_id);

/* Fill n (name already set) from st and store a regular file; prev is the
 * entry of the same name in the parent snapshot or NULL.  Returns 0 when
 * n is complete, 1 when the entry vanished or changed type and is to be
 * left out, or a negative errno that fails the walk. */
int walk_file(struct walk_ctx *c, int dirfd, const struct stat *st, const struct node *prev,
	      struct node *n);

/* The same for a symlink, FIFO, device or socket (never opened). */
int walk_special(struct walk_ctx *c, int dirfd, const struct stat *st, struct node *n);

/* Read fd's user.* xattrs into n (sorted).  0, or a negative errno for
 * which the caller warns. */
int walk_read_xattrs(int fd, struct node *n);

/* Whether a files-cache entry with these times was written too close to
 * the parent snapshot's start to be trusted. */
bool walk_racy(const struct walk_ctx *c, int64_t mtime_ns, int64_t ctime_ns);

/* The same rule against a given snapshot start (diff against the working
 * tree asks it without a walk). */
bool walk_racy_at(int64_t snap_time_ns, int64_t mtime_ns, int64_t ctime_ns);

/* Metadata common to every type, from st. */
void walk_fill_meta(struct node *n, const struct stat *st);

/* Walk the directory open as fd (ownership passes), whose entry in the
 * parent snapshot has tree prev with id prev_id (both or neither NULL), and
 * store it: *ret_id gets the tree's id.  extras are merged in and self (the
 * folder's own mode and owner) recorded at the root only: NULL below it. */
int walk_dir(struct walk_ctx *c, int fd, const struct tree *prev, const blob_id *prev_id,
	     const struct node *extras, size_t nextras, const struct tree_self *self,
	     blob_id *ret_id);

/* Decide one entry whose parent directories are known not to be excluded
 * (the walk asks in depth-first order).  relpath is relative to the root,
 * dirlen the length of its parent part (0 at the root, else the index of
 * the last '/'), dirfd an open fd of that parent (used to read its
 * .ckptignore and to look for toolchain marker files).  Returns 1 to leave
 * the entry out, 0 to keep it, or a negative errno (-ENOMEM). */
int ignore_entry(struct ignore *ig, int dirfd, const char *relpath, size_t dirlen, bool is_dir);

/* Tell the matcher the walk entered directory dir (dirlen bytes, relative
 * to the root), open as dirfd, and whether its listing holds a .ckptignore:
 * when it does not, none is opened.  0 or -ENOMEM. */
int ignore_enter(struct ignore *ig, int dirfd, const char *dir, size_t dirlen, bool has_file);

/* Gitignore-style glob match of a processed pattern (escapes kept,
 * leading '/' and trailing '/' removed) against text: '*' and '?' do not
 * match '/', "**" between slashes matches any number of directories.
 * Exposed for tests. */
bool ignore_glob(const char *pattern, const char *text);

#endif
