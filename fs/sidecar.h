/* sidecar.h — the -wal and -shm files SQLite needs to open a WAL-mode
 * database on a read-only mount.
 *
 * A database captured in WAL mode keeps that mode in its header (bytes
 * 18-19 = 2), so SQLite opens it in WAL mode and needs "<db>-wal" and
 * "<db>-shm" beside it; on a read-only file system it cannot create them
 * and the open fails with SQLITE_CANTOPEN (14).  The snapshot holds a
 * consistent copy (the backup API) and never its siblings.  So, inside a
 * snapshot, a lookup of "<db>-wal" or "<db>-shm" that the snapshot does not
 * hold, next to a regular file whose header says SQLite in WAL mode, finds
 * an empty, read-only file with the database's mode and owner
 * (fs/ops_sidecar.c); the same beside a version in @versions.
 *
 * Why this and not another way:
 *   - SQLite (3.22 and later; see https://sqlite.org/wal.html, "Read-Only
 *     Databases") opens a read-only WAL database when the -wal and -shm
 *     files exist.  The -shm it can only open read-only, finds no writer
 *     holding its DMS lock, and then keeps the wal-index in heap memory
 *     (SQLITE_READONLY_CANTINIT, walBeginShmUnreliable); an empty -wal
 *     holds no frames, so every page comes from the database file — the
 *     consistent copy, as is.  Measured with sqlite3 3.40.1, Python's
 *     sqlite3 and a "?mode=ro" URI on a read-only bind mount: no -wal,
 *     no -shm, or only one of them: "unable to open database file"; an
 *     empty -wal and an empty (or zero-filled) -shm: the query answers.
 *     Empty is the smallest that works: no bytes to serve.  A database
 *     that could not be captured is stored raw with its real -wal: that
 *     one is served as stored, and beside the empty -shm SQLite reads its
 *     frames (heap wal-index) — the raw state as it was.
 *   - The database's bytes stay what the snapshot holds and what restore
 *     writes: rewriting its header to rollback mode in the store would
 *     change what `cp` copies out of the mount.
 *   - They are not listed by readdir: `cp -a`, tar, rsync and diff -r of
 *     a snapshot see exactly what restore writes; only a lookup by name
 *     (what SQLite does) finds them.
 *   - Not for a database in rollback mode: it opens read-only as it is.
 */
#ifndef CKPTFS_FS_SIDECAR_H
#define CKPTFS_FS_SIDECAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the SQLite header that sidecar_wal_header looks at. */
#define SIDECAR_HEADER_BYTES 20

/* If name is "<base>-wal" or "<base>-shm" with a non-empty base, the
 * length of base; else 0. */
size_t sidecar_base_len(const char *name);

/* Whether the first len bytes of a file are the header of a SQLite
 * database that SQLite opens in WAL mode ("SQLite format 3\0", read
 * version, byte 19, = 2 — what btree.c tests). */
bool sidecar_wal_header(const uint8_t *hdr, size_t len);

#endif
