/* chunker.h — FastCDC content-defined chunking (gear hash, normalized).
 *
 * Pure: no allocation, no state between calls.  Cut points depend only on
 * content, so an insertion early in a file changes only the chunks around
 * it.  Sizes: min 16 KiB, average ~64 KiB, max 256 KiB.
 */
#ifndef CKPTFS_STORE_CHUNKER_H
#define CKPTFS_STORE_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define CHUNKER_MIN (16u * 1024)
#define CHUNKER_AVG (64u * 1024)
#define CHUNKER_MAX (256u * 1024)

/* Length of the first chunk of buf[0..len).  buf must hold either at least
 * CHUNKER_MAX bytes or all the remaining bytes of the stream.  Returns len
 * when len <= CHUNKER_MIN; otherwise a value in [CHUNKER_MIN, min(len,
 * CHUNKER_MAX)]. */
size_t chunker_cut(const uint8_t *buf, size_t len);

#endif
