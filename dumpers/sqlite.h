/* sqlite.h — consistent copies of SQLite databases and their drills
 * (dumpers-internal; the CLI uses dumpers.h).
 *
 * A copy is made with the online backup API into a file in a private temp
 * directory, never in the project.  Reading the source leaves the project as
 * it was: no -wal/-shm/-journal is created, nothing is checkpointed or
 * rolled back in place (see sqlite_capture.c for how each case is read).
 */
#ifndef CKPTFS_DUMPERS_SQLITE_H
#define CKPTFS_DUMPERS_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "dumpers/migration.h"

#define DUMPER_SQLITE_HEADER "SQLite format 3" /* + its NUL: 16 bytes */

/* true if fd (a regular file of stat st) starts with the 16-byte SQLite
 * header and is at least one minimal page long.  Reads with pread only. */
bool dumper_sqlite_is_db(int fd, const struct stat *st);

struct dumper_sqlite_limits {
	int step_pages;        /* pages per backup step (default 128) */
	int busy_ms;           /* total wait for locks before giving up (5000) */
	int max_restarts;      /* backup restarts by foreign writers (8) */
	uint64_t hold_max;     /* rollback-mode db size read whole under its
				* shared lock once restarts are exhausted (4 MiB:
				* a few ms of writers waiting at ~1 GB/s) */
};

/* Fill lim with the defaults above. */
void dumper_sqlite_limits_default(struct dumper_sqlite_limits *lim);

struct dumper_sqlite_copy {
	char *path;         /* the copy, in the caller's temp dir (malloc'd) */
	const char *method; /* static: "backup", "backup-held", "immutable",
			     * "private-recovery", "read-locked" */
	bool wal;           /* the source is in WAL mode */
	unsigned restarts;  /* backup restarts caused by other writers */
	uint64_t pages;     /* pages copied */
	int64_t max_step_us; /* longest single backup step (writers' worst wait) */
};

/* Make a consistent copy of the database at path (whose open fd the walk
 * holds with stat st: the path must still name that file) into a new file
 * in tmpdir.  Returns 0 with *ret filled (dumper_sqlite_copy_clear it);
 * -EAGAIN if no consistent copy could be made within lim (busy, or
 * restarted too often; the message says which); other negative errno on
 * errors.  The message is recorded with store_fail. */
int dumper_sqlite_capture(const char *path, const struct stat *st, const char *tmpdir,
			  const struct dumper_sqlite_limits *lim, struct dumper_sqlite_copy *ret);

/* Remove the copy (and any side file of it) and free what ret owns. */
void dumper_sqlite_copy_clear(struct dumper_sqlite_copy *c);

struct dumper_table_count {
	char *name;
	int64_t rows; /* -1 if it could not be counted (e.g. virtual table) */
};

struct dumper_drill {
	bool ok;
	struct dumper_schema schema; /* the migration version, if any (migration.h) */
	char *check;      /* "ok", or the check's first lines / the error */
	const char *how;  /* static: "integrity_check" or "quick_check" */
	struct dumper_table_count *tables;
	size_t ntables;
};

/* Files up to this size get PRAGMA integrity_check, larger ones
 * quick_check (which skips index/row cross checks but reads every page). */
#define DUMPER_INTEGRITY_MAX (64ull << 20)

/* Open the copy at path (immutable, read-only), run the check and count
 * the rows of every ordinary table.  A failed check is not an error:
 * ret->ok says it.  Returns a negative errno only when the drill itself
 * could not run (message recorded). */
int dumper_sqlite_drill(const char *path, struct dumper_drill *ret);

void dumper_drill_clear(struct dumper_drill *d);

/* A "file:" URI for path with the given query ("mode=ro&immutable=1"),
 * escaping what URIs need.  malloc'd, NULL on ENOMEM. */
char *dumper_sqlite_uri(const char *path, const char *query);

#endif
