/* writer_internal.h — what writer.c and writer_stream.c share. */
#ifndef CKPTFS_STORE_WRITER_INTERNAL_H
#define CKPTFS_STORE_WRITER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/blob.h"
#include "store/id.h"
#include "store/writer.h"

struct pack_writer;

/* Ids this writer has stored that the catalog does not know yet (they are
 * in the open pack).  Open addressing keyed by the id's first 8 bytes:
 * ids are keyed hashes, so those bytes are already uniform. */
struct idset {
	blob_id *slots; /* all-zero = empty (a real id is never all zero) */
	size_t cap, n;  /* cap is a power of two */
};

struct writer {
	struct repo *repo;
	struct blob_codec *codec;
	struct pack_writer *pack; /* NULL until the first new blob of a pack */
	struct idset pending;
	uint8_t *seal_buf; /* blob_sealed_bound(BLOB_MAX_RAW)-sized on demand */
	size_t seal_cap;
	uint8_t *read_buf; /* writer_put_stream's buffer */
	uint64_t new_blobs, new_bytes;
	int failed; /* a pack operation failed: the writer can only be freed */
};

/* Store one blob unless the repository or this writer already has it.
 * *ret_id (may be NULL) gets its id. */
int writer_put_blob(struct writer *w, uint8_t type, const void *data, size_t len,
		    blob_id *ret_id);

#endif
