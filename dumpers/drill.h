/* drill.h — full drills: a dump restored into a throwaway database on the
 * same server and counted (dumpers-internal).
 *
 * The cheap check at every snapshot (pg_restore --list, the mysqldump
 * trailer) proves the dump is whole; it does not prove it restores.  A
 * full drill does: it creates a uniquely named scratch database
 * (ckptfs_drill_<pid>_<random>), restores the dump into it with the same
 * tool `restore --db` uses, counts the rows of every table there and
 * compares them with the counts taken at dump time — for Postgres in the
 * dump's own snapshot (pg_export_snapshot, a psql session holding it while
 * pg_dump runs with --snapshot), for MySQL/MariaDB from the dump stream
 * itself (sqlcount.h) — and drops the scratch database, also when any
 * step failed.  When the scratch database cannot be created (no right to),
 * the same drill runs in a private temporary server (privsrv.h), and the
 * verdict says so.  Databases in docker are not drilled (said so).
 */
#ifndef CKPTFS_DUMPERS_DRILL_H
#define CKPTFS_DUMPERS_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dumpers/server.h"
#include "dumpers/sqlite.h"

struct dumper_full_drill {
	bool ran;          /* false: not drilled (result says why) */
	bool ok;           /* restored, and every count as at dump time */
	char *result;      /* "proven" or the failure, one line (malloc'd) */
	size_t ntables;
	int64_t rows;      /* rows restored */
	int64_t ms;        /* the drill's duration */
	bool private_server; /* it ran in a private server (privsrv.h), not a
			      * scratch database on the real one */
};

void dumper_full_drill_clear(struct dumper_full_drill *d);

/* Feed the dump into cmd's stdin (the restore into the scratch database):
 * 0, or a negative errno with the tool's message recorded. */
typedef int (*dumper_feed_fn)(void *ctx, const struct dumper_cmd *cmd);

/* Drill the dump of t that feed gives, against want (the counts at dump
 * time; NULL/0: none recorded, then only "restored" is proven).  Never
 * fails for the drill's own reasons (ret says them); a negative errno only
 * for -ENOMEM. */
int dumper_drill_full(const struct dumper_target *t, const char *tmpdir, dumper_feed_fn feed,
		      void *fctx, const struct dumper_table_count *want, size_t nwant,
		      struct dumper_full_drill *ret);

/* Rows of every ordinary table of t's database (or of db, if not NULL),
 * by its engine's counts (engine.h): Postgres as "schema.table", MySQL
 * as "table".  *ret malloc'd. */
int dumper_table_counts(const struct dumper_target *t, const char *tmpdir, const char *db,
			struct dumper_table_count **ret, size_t *ret_n);

void dumper_table_counts_free(struct dumper_table_count *v, size_t n);

/* How long counting every table may take. */
#define DUMPER_COUNT_TIMEOUT_MS (10 * 60 * 1000)

/* The counting query for Postgres, also run inside the dump's snapshot. */
extern const char dumper_pg_counts_sql[];

/* Parse "name\tcount" lines into counts.  0 or -ENOMEM. */
int dumper_counts_parse(const char *rows, struct dumper_table_count **ret, size_t *ret_n);

/* ---- the Postgres session that holds the dump's snapshot ---- */

struct dumper_pg_hold {
	pid_t pid;
	int in, out;        /* psql's stdin and stdout */
	char snapshot[64];  /* pg_export_snapshot()'s id */
	struct dumper_cmd cmd;
};

/* Start psql on t's database, begin a REPEATABLE READ transaction and
 * export its snapshot (h->snapshot) for pg_dump --snapshot.  0, or a
 * negative errno with why (message recorded). */
int dumper_pg_hold_start(const struct dumper_target *t, const char *tmpdir,
			 struct dumper_pg_hold *h);

/* Run sql (one statement, no ';') in the held snapshot: its rows, fields
 * split by tabs, in *ret_rows (malloc'd).  0, or a negative errno
 * (message recorded; a failed statement ends the session). */
int dumper_pg_hold_query(struct dumper_pg_hold *h, const char *sql, char **ret_rows);

/* Count every table in the held snapshot, end the transaction and the
 * session.  0 or a negative errno (message recorded); h is released
 * either way. */
int dumper_pg_hold_counts(struct dumper_pg_hold *h, struct dumper_table_count **ret,
			  size_t *ret_n);

/* End the session without counting (also after a failed start). */
void dumper_pg_hold_release(struct dumper_pg_hold *h);

#endif
