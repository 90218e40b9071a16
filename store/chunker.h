/* chunker.h — FastCDC content-defined chunking (gear hash, normalized).
 *
 * Pure: no allocation, no state between calls.  Cut points depend only on
 * content, so an insertion early in a file changes only the chunks around
 * it.  Sizes: min 16 KiB, average ~64 KiB, max 256 KiB.  SQLite databases
 * are the exception (chunker_sqlite_unit).
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

/* SQLite database files are cut on page boundaries instead: a database
 * changes page by page, scattered over the file (1% of rows updated at
 * random touches about a third of its pages), so content-defined chunks
 * of 64 KiB nearly all change while page-sized ones change only where a
 * page did.  Given the first bytes of a stream (at least 100, or all of
 * it), the chunk size to use: the page size from the header (bytes 16-17,
 * 1 meaning 65536), at least CHUNKER_SQLITE_MIN (so 512-byte pages do not
 * cost one blob each); 0 if it is not a SQLite database (then use
 * chunker_cut).  Every chunk but the last is exactly that long. */
#define CHUNKER_SQLITE_MIN (4u * 1024)
size_t chunker_sqlite_unit(const uint8_t *head, size_t len);

#endif
