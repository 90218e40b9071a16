/* writer_internal.h — what writer.c, writer_pack.c and writer_stream.c
 * share.
 *
 * The writer is a pipeline.  The caller's thread reads, chunks, hashes and
 * deduplicates (a long stream's hashing shared with a helper, below); each new blob is copied into a slot of a bounded ring.  A
 * few sealing workers (one per CPU, at most WRITER_MAX_WORKERS) take slots
 * in ring order and compress and seal them side by side, each with its own
 * codec; whichever worker finds the oldest slot sealed becomes the appender
 * and appends sealed slots to the open pack strictly in ring order (one
 * appender at a time), finishing and indexing each full pack.  So packs
 * hold blobs in exactly the order the caller stored them, as with one
 * worker, and memory is bounded by the slots in flight.  The pending id
 * set belongs to the caller's thread; the pack writer and w->codec belong
 * to the appender, or to the caller's thread while the ring is drained
 * (writer_drain), when it may finish the pack itself.
 *
 * A stream longer than one buffer has its chunk ids hashed on a helper
 * thread (writer_hash.c), one buffer behind the caller's reading and
 * cutting, one ahead of its lookups.
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

#define WRITER_SLOTS 16      /* ring slots: blobs in flight, enough to ride out a pack finish */
#define WRITER_MAX_WORKERS 4 /* sealing threads */

enum writer_job_state { JOB_FREE, JOB_QUEUED, JOB_SEALING, JOB_SEALED };

struct writer_job {
	blob_id id;
	uint8_t type;
	int level; /* zstd level, 0 = the codec's (BLOB_ZSTD_LEVEL) */
	enum writer_job_state state;
	uint8_t *data; /* plaintext copy; buffer reused */
	size_t len, cap;
	uint8_t *sealed; /* its sealed form once JOB_SEALED; buffer reused */
	size_t slen, scap;
};

struct writer;
struct writer_hasher;

/* One chunk of a stream buffer. */
struct writer_span {
	size_t off, len;
};

/* A buffer of writer_put_stream cut into chunks, and their ids. */
struct writer_batch {
	uint8_t *buf;              /* WRITER_STREAM_BUF bytes */
	struct writer_span *spans; /* WRITER_STREAM_SPANS each */
	blob_id *ids;
	size_t n;            /* spans in use */
	_Atomic size_t next; /* the next span to hash (writer_hash.c) */
};

/* 16 * CHUNKER_MAX (kept literal: chunker.h is not needed here) */
#define WRITER_STREAM_BUF (16u * 256 * 1024)
/* Every chunk but a stream's last is at least CHUNKER_SQLITE_MIN (4 KiB). */
#define WRITER_STREAM_SPANS (WRITER_STREAM_BUF / (4u * 1024) + 1)

struct writer_worker {
	struct writer *w;
	pthread_t thread;
	struct blob_codec *codec; /* this worker's own: zstd contexts are per thread */
};

struct writer {
	struct repo *repo;
	struct idset pending;
	/* Blobs found in the catalog by writer_put_blob since it was last
	 * cleared: writer_has (the reference check of writer_put_tree) then
	 * costs no second index seek for a chunk just deduplicated. */
	struct idset known;
	struct writer_batch batch[2]; /* writer_put_stream's buffers, made on first use */
	struct writer_hasher *hasher; /* started on first use (writer_hash.c) */
	bool hasher_off;              /* none: one CPU, or it could not start */
	pthread_t lookup_thread; /* opened the writer: holds its catalog reader */
	uint64_t new_blobs;
	_Atomic uint64_t new_bytes; /* added by the appender */
	int failed; /* something failed: the writer can only be freed */

	/* The workers and their ring (writer_pack.c).  Positions count blobs
	 * since writer_open; a position's slot is pos % WRITER_SLOTS, and
	 * appended <= sealing <= queued <= appended + WRITER_SLOTS. */
	struct writer_worker workers[WRITER_MAX_WORKERS];
	size_t nworkers;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* any change of the positions, states, appending or stop */
	struct writer_job jobs[WRITER_SLOTS];
	uint64_t queued;   /* blobs put in the ring */
	uint64_t sealing;  /* blobs taken by a worker to seal */
	uint64_t appended; /* blobs appended to the pack (or dropped after a failure) */
	bool appending;    /* a worker is appending: the pack is its */
	bool stop;
	int worker_err;      /* first failure in a worker, then jobs are dropped */
	char worker_msg[512]; /* its message (messages are per thread) */
	/* Owned by the appender (by the caller's thread while drained). */
	struct blob_codec *codec; /* seals pack indexes */
	struct pack_writer *pack; /* NULL until the first blob of a pack */
};

/* Store one blob unless the repository or this writer already has it.
 * *ret_id (may be NULL) gets its id. */
int writer_put_blob(struct writer *w, uint8_t type, const void *data, size_t len,
		    blob_id *ret_id);

/* The same, sealed at zstd level level if it is new (0 = the default). */
int writer_put_blob_level(struct writer *w, uint8_t type, int level, const void *data,
			  size_t len, blob_id *ret_id);

/* The same for a blob whose id, repo_blob_id of data, the caller made. */
int writer_put_blob_id(struct writer *w, uint8_t type, int level, const void *data, size_t len,
		       const blob_id *id);

/* Hash b's spans into b->ids: submit lets the helper thread start on
 * them (if there is one) and returns at once; finish hashes those left on
 * the calling thread, side by side with the helper, and returns once
 * every id is in.  Submit a batch only after finishing the one before.
 * Between the two b's bytes must not change and its ids not be read. */
void writer_hash_submit(struct writer *w, struct writer_batch *b);
void writer_hash_finish(struct writer *w, struct writer_batch *b);

/* Hash b's spans on the calling thread. */
void writer_hash_here(const struct repo *repo, struct writer_batch *b);

/* The helper holds no batch (always so once writer_put_stream returns:
 * the next stream refills both).  For tests. */
bool writer_hash_idle(struct writer *w);

/* Stop the helper, if any (writer_free). */
void writer_hasher_free(struct writer *w);

/* Start / stop the workers (stop drops queued jobs).  The count is the
 * number of CPUs, at most WRITER_MAX_WORKERS. */
int writer_worker_start(struct writer *w);
void writer_worker_stop(struct writer *w);

/* Queue a copy of a new blob, waiting for a free slot.  Returns a worker
 * failure if one happened (with its message). */
int writer_enqueue(struct writer *w, const blob_id *id, uint8_t type, int level,
		   const void *data, size_t len);

/* Wait until every queued blob is in the pack, then finish and index the
 * open pack.  Returns a worker failure if one happened. */
int writer_drain(struct writer *w);

#endif
