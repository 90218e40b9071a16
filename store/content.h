/* content.h — reading file contents out of a snapshot.
 *
 * Reads locate the chunk by binary search over the file's chunk offsets
 * and go through the repository's bounded LRU of decoded chunks, so
 * sequential and repeated reads decode each chunk once.  Safe to call from
 * many threads on a repo opened REPO_READ.
 */
#ifndef CKPTFS_STORE_CONTENT_H
#define CKPTFS_STORE_CONTENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct repo;
struct node;

/* Copy up to len bytes of file's content starting at off into buf.
 * Returns the number of bytes copied (0 at or past the end), or a negative
 * errno: STORE_ECORRUPT if a chunk fails its checks (the message names the
 * chunk and pack; the caller adds the file and snapshot). */
ssize_t content_read(struct repo *repo, const struct node *file, uint64_t off, void *buf,
		     size_t len);

/* Bytes of file content held where they were decoded (in the chunk
 * cache), for replying without a copy.  Private: ref. */
struct content_piece {
	const void *data;
	size_t len;
	void *ref;
};

/* Pin the bytes [off, off + len) of file (clipped to its size) as up to
 * max pieces, in order, without copying them.  Returns the number of
 * pieces (0 at or past the end), -E2BIG if they need more than max pieces
 * (use content_read), or a negative errno as content_read.  Pieces stay
 * valid until content_unpin, even if the cache drops them meanwhile. */
ssize_t content_pin(struct repo *repo, const struct node *file, uint64_t off, size_t len,
		    struct content_piece *pieces, size_t max);

/* Release n pieces from content_pin. */
void content_unpin(struct repo *repo, struct content_piece *pieces, size_t n);

/* Decode chunk i of file into *ret_data (malloc'd, caller frees; exactly
 * file->chunks[i].len bytes), not through the chunk cache: for a reader
 * that uses each chunk once (restore), for which the cache would only
 * cost its lock and memory.  0, or a negative errno as content_read. */
int content_load_chunk(struct repo *repo, const struct node *file, size_t i, uint8_t **ret_data);

/* Hint (repo_hint_blob) the chunks of file, in order, until max_bytes
 * of content: the bytes of content hinted. */
uint64_t content_hint(struct repo *repo, const struct node *file, uint64_t max_bytes);

/* Decode the chunk holding off into the cache if it is not there yet
 * (read-ahead for sequential readers).  Errors are ignored: the read
 * that needs the chunk will report them. */
void content_prefetch(struct repo *repo, const struct node *file, uint64_t off);

#endif
