/* writer_internal.h — what writer.c, writer_pack.c and writer_stream.c
 * share.
 *
 * The writer is a two-stage pipeline.  The caller's thread reads, chunks,
 * hashes and deduplicates; each new blob is copied into a slot of a small
 * bounded queue.  One worker thread compresses and seals queued blobs,
 * appends them to the open pack, and finishes and indexes each full pack.
 * Hashing and sealing are the two big costs, so on two cores the stages
 * run side by side.  The pending id set belongs to the caller's thread;
 * the pack writer belongs to the worker except while the queue is drained
 * (writer_drain), when the caller's thread may finish the pack itself.
 */
#ifndef CKPTFS_STORE_WRITER_INTERNAL_H
#define CKPTFS_STORE_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/blob.h"
#include "store/id.h"
#include "store/writer.h"

struct pack_writer;

/* Ids this writer has stored that the catalog may not know yet.  Open
 * addressing keyed by the id's first 8 bytes: ids are keyed hashes, so
 * those bytes are already uniform. */
/* A blob is what the index keys it by: its id and its type (catalog_schema.c). */
struct typed_id {
	blob_id id;
	uint8_t type; /* enum blob_type; 0 = empty slot */
};

struct idset {
	struct typed_id *slots;
	size_t cap, n; /* cap is a power of two */
};

#define WRITER_QUEUE 8 /* slots: enough to ride out one pack finish */

struct writer_job {
	blob_id id;
	uint8_t type;
	uint8_t *data; /* slot buffer, reused */
	size_t len, cap;
};

struct writer {
	struct repo *repo;
	struct idset pending;
	/* Blobs found in the catalog by writer_put_blob since it was last
	 * cleared: writer_has (the reference check of writer_put_tree) then
	 * costs no second index seek for a chunk just deduplicated. */
	struct idset known;
	uint8_t *read_buf; /* writer_put_stream's buffer */
	uint64_t new_blobs;
	_Atomic uint64_t new_bytes; /* added by the worker */
	int failed; /* something failed: the writer can only be freed */

	/* The worker and its queue (writer_pack.c). */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* any change of head/count/busy/stop */
	struct writer_job jobs[WRITER_QUEUE];
	size_t head, count; /* ring: jobs[head] is the oldest queued */
	bool busy;          /* the worker holds a job it popped */
	bool stop;
	int worker_err;      /* first failure in the worker, then jobs are dropped */
	char worker_msg[512]; /* its message (messages are per thread) */
	/* Owned by the worker (by the caller's thread while drained). */
	struct blob_codec *codec;
	struct pack_writer *pack; /* NULL until the first blob of a pack */
	uint8_t *seal_buf;
	size_t seal_cap;
};

/* Store one blob unless the repository or this writer already has it.
 * *ret_id (may be NULL) gets its id. */
int writer_put_blob(struct writer *w, uint8_t type, const void *data, size_t len,
		    blob_id *ret_id);

/* Start / stop the worker (stop drops queued jobs). */
int writer_worker_start(struct writer *w);
void writer_worker_stop(struct writer *w);

/* Queue a copy of a new blob, waiting for a free slot.  Returns a worker
 * failure if one happened (with its message). */
int writer_enqueue(struct writer *w, const blob_id *id, uint8_t type, const void *data,
		   size_t len);

/* Wait until every queued blob is in the pack, then finish and index the
 * open pack.  Returns a worker failure if one happened. */
int writer_drain(struct writer *w);

#endif
