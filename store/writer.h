/* writer.h — adding data to the repository and committing a snapshot.
 *
 * A writer deduplicates blobs against the catalog and against what it has
 * written itself, seals new ones (zstd, then XChaCha20-Poly1305) and appends
 * them to pack files of ~32 MiB.  Each pack is written under tmp/, fsynced,
 * renamed into packs/ (directory fsynced) and only then indexed in the
 * catalog, so an index row never points at data that is not durable.  The
 * snapshot row is inserted last, in one transaction: killing the process at
 * any instant leaves either no snapshot or a complete one; finished packs of
 * an aborted run are indexed and reused by the next.
 */
#ifndef CKPTFS_STORE_WRITER_H
#define CKPTFS_STORE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/catalog.h"
#include "store/id.h"
#include "store/tree.h"

struct writer;
struct repo;

/* repo must be opened REPO_WRITE. */
int writer_open(struct repo *repo, struct writer **ret_writer);

/* Abort what is not committed and free.  writer_free(NULL) is a no-op. */
void writer_free(struct writer *w);

/* Source of a byte stream: put up to cap bytes in buf, *ret_n = 0 at EOF.
 * Returns 0 or a negative errno (which writer_put_stream returns). */
typedef int (*writer_read_fn)(void *ctx, void *buf, size_t cap, size_t *ret_n);

/* Chunk (FastCDC), dedup and store a stream; on success file->chunks,
 * file->nchunks and file->size describe it (previous chunks are freed). */
int writer_put_stream(struct writer *w, writer_read_fn read, void *ctx, struct node *file);

/* Same, reading fd from its current offset to EOF. */
int writer_put_fd(struct writer *w, int fd, struct node *file);

/* Store one tree (sorted, see tree_sort) and return its id.  Refused
 * (STORE_ECORRUPT) unless every chunk and subtree it names is already in
 * the repository (or queued by this writer) as a data chunk or a tree:
 * with writer_commit's check of the root, a committed snapshot can never
 * reference a blob missing or stored only under another type. */
int writer_put_tree(struct writer *w, const struct tree *t, blob_id *ret_id);

/* Whether the repository holds (or this writer has queued) the blob with
 * this id as type (enum blob_type). */
bool writer_has(struct writer *w, const blob_id *id, uint8_t type);

/* Make everything queued durable and indexed, without a snapshot
 * (check --repair stores blobs it re-creates this way). */
int writer_flush(struct writer *w);

/* Counters since writer_open or the last writer_commit.  new_bytes counts
 * sealed bytes as stored in packs; blobs are sealed in the background, so
 * it lags behind new_blobs until writer_commit. */
void writer_stats(const struct writer *w, uint64_t *ret_new_blobs, uint64_t *ret_new_bytes);

struct snapshot_new {
	int64_t project_id;
	int64_t time_ns;
	const char *message, *tag, *git_commit, *git_branch; /* may be NULL */
	blob_id root;
	enum snap_status status;
	struct snap_stats stats; /* new_blobs/new_bytes are filled in by commit */
	const char *notes;       /* JSON object text or NULL */
	const char *name;        /* a name to keep (repair, recover), or NULL */
};

/* Make every pending blob durable, then insert the snapshot with a fresh
 * name (snapname_make) in one transaction.  *ret gets the stored row.
 * After commit the writer may be used for another snapshot. */
int writer_commit(struct writer *w, const struct snapshot_new *s, struct snapshot *ret);

#endif
