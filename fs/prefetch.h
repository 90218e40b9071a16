/* prefetch.h — reading ahead of a walk through a snapshot, on a worker.
 *
 * A walk (`cp -a`, `find`, tar) asks for one folder or one small file at a
 * time, and each one cold is a wait for the disk: a tree or a chunk is a
 * random read in a pack.  Restore reads the same blobs many at a time.
 * Here a worker thread, told where the walk is, asks the kernel to read
 * what comes next (POSIX_FADV_WILLNEED, repo_hint_blob) so the disk
 * serves many reads at once, and loads the next trees into the tree
 * cache:
 *   - PREFETCH_TREES (a folder was opened): the trees of its subfolders,
 *     breadth first, up to PREFETCH_TREES_MAX of them;
 *   - PREFETCH_FILES (a file in it was read): also the chunks of its
 *     files of at most PREFETCH_FILE_MAX bytes, and of its subfolders',
 *     up to PREFETCH_BYTES_MAX.
 * Nothing is decoded ahead and nothing is trusted: each read does its own
 * lookup and every check, so a blob gc moved meanwhile costs a wasted
 * hint, never a wrong byte.  A folder already covered (a table of the
 * last few thousand trees) is not queued again; when the queue is full a
 * request is dropped.  Internal to fs/.
 */
#ifndef CKPTFS_FS_PREFETCH_H
#define CKPTFS_FS_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/tcache.h"
#include "store/id.h"

struct repo;
struct prefetch;

enum prefetch_kind {
	PREFETCH_TREES = 1,
	PREFETCH_FILES = 2,
};

#define PREFETCH_TREES_MAX 64                     /* trees per request */
#define PREFETCH_BYTES_MAX ((uint64_t)8 << 20)    /* file content per request */
#define PREFETCH_FILE_MAX ((uint64_t)1 << 20)     /* bigger files: the kernel reads ahead */
#define PREFETCH_CATALOG_MAX ((uint64_t)64 << 20) /* catalog read whole up to this: a
						   few hundred thousand blobs */

/* Start the worker.  0 or -ENOMEM / a pthread error (negative). */
int prefetch_new(struct repo *repo, struct tcache *trees, struct prefetch **ret);

/* Stop the worker (it finishes the tree it is on) and free p.  NULL: no-op. */
void prefetch_free(struct prefetch *p);

/* The walk is in the folder whose tree is id: queue what kind says,
 * unless it was done for this tree lately.  Never blocks on I/O. */
void prefetch_folder(struct prefetch *p, const blob_id *id, enum prefetch_kind kind);

/* Requests taken by the worker, and requests it skipped as already done
 * (for tests). */
void prefetch_stats(struct prefetch *p, size_t *ret_done, size_t *ret_skipped);

/* Wait until the worker has nothing queued (for tests). */
void prefetch_drain(struct prefetch *p);

#endif
