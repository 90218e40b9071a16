/* fileio.h — durable file I/O, written once (git's wrapper.c is the model).
 *
 * The rules.  A file the repository (or a restore) depends on becomes
 * visible only complete and durable:
 *
 *   1. write it under a temp name nobody reads (O_EXCL or O_TRUNC,
 *      O_NOFOLLOW, mode 0600);
 *   2. fsync the file (its data and size are on disk);
 *   3. rename it over the final name (atomic: readers see old or new);
 *   4. fsync the directory that holds the final name (the rename itself
 *      is on disk; before that a crash may undo it);
 *   5. only then record it anywhere else (catalog commit, a later file
 *      that names it).
 *
 * fio_write_atomic does 1-4 for a small buffer.  What callers may skip,
 * and why:
 *
 *   - packs (pack_write.c): all five, plus a journal entry in tmp/ made
 *     durable before the rename (fsync of tmp/), so an interrupted writer's
 *     renamed pack is found and indexed; the fan-out and packs/ directories
 *     are fsynced too, because mkdir of a new fan-out is itself a directory
 *     entry.
 *   - the key file (keys.c): created in place with O_EXCL instead of a
 *     temp name and rename.  Creation's commit point is the format file
 *     written after it (repo_open.c): a torn key without a format file
 *     belongs to a creation that never finished and is thrown away.
 *   - journal entries (tmp/<pack>.pending): empty, only their existence
 *     counts, so step 2 is skipped; step 4 (fsync of tmp/) is kept.
 *   - the lock file: its pid is only for a waiter's message; no fsync.
 *   - catalog.db: SQLite keeps its own rules (WAL, synchronous=FULL).
 *   - restored files (restore_file.c): 1-3 per file; step 4 once per
 *     directory after all its entries (restore.c), not once per file.
 *
 * Every function returns 0 or a negative errno and records no message:
 * the caller knows which file it is and says so (store/err.h).
 */
#ifndef CKPTFS_STORE_FILEIO_H
#define CKPTFS_STORE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* write(2) until all len bytes of buf are written, retrying on EINTR and
 * short writes.  0 or -errno. */
int fio_write_all(int fd, const void *buf, size_t len);

/* The whole of the small regular file open at fd, read from offset 0 into
 * a malloc'd buffer with a NUL after the last byte (*ret_len bytes, which
 * may hold NULs of their own).  -EINVAL when fd is not a regular file,
 * -EFBIG when it holds (or grows while read to) more than max bytes,
 * -ENOMEM, or the read's -errno; nothing recorded, the caller names the
 * file.  For configuration, hints and manifests: files ckptfs reads
 * whole, never data. */
int fio_read_small(int fd, size_t max, char **ret, size_t *ret_len);

/* fsync the directory path (relative to dirfd; "." is dirfd itself, an
 * absolute path ignores dirfd).  0 or -errno. */
int fio_fsync_dir(int dirfd, const char *path);

/* fsync the directory that holds name (relative to dirfd): "a/b" syncs
 * "a", "b" syncs dirfd itself.  0 or -errno. */
int fio_fsync_parent(int dirfd, const char *name);

/* mkdir -p: create path and every missing parent with mode (filtered by
 * the umask, as mkdir(2) is; follows symlinks of existing parents).  An
 * existing entry is taken as it is: the caller's open with O_DIRECTORY
 * finds out if it is not a directory.  If ret_created is not NULL it tells whether
 * the last component was created by this call.  0 or -errno. */
int fio_mkdir_p(const char *path, mode_t mode, bool *ret_created);

/* Rules 1-4 above: write len bytes of buf to tmpname (relative to dirfd,
 * in the same directory as name), fsync, rename over name, fsync name's
 * directory.  The file gets exactly mode (fchmod, whatever the umask).
 * On failure the temp file is removed and name is untouched (or, if only
 * the directory fsync failed, already renamed but perhaps not durable).
 * 0 or -errno. */
int fio_write_atomic(int dirfd, const char *name, const char *tmpname, const void *buf,
		     size_t len, mode_t mode);

/* Wall clock (CLOCK_REALTIME) in ns since the epoch: for timestamps that
 * are stored or shown. */
int64_t fio_now_ns(void);

/* CLOCK_MONOTONIC in ns: for measuring intervals (never goes back). */
int64_t fio_mono_ns(void);

#endif
