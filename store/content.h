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

/* Decode the chunk holding off into the cache if it is not there yet
 * (read-ahead for sequential readers).  Errors are ignored: the read
 * that needs the chunk will report them. */
void content_prefetch(struct repo *repo, const struct node *file, uint64_t off);

#endif
