/* session.h — the state of a dumper session, shared by session*.c
 * (dumpers-internal; the CLI uses dumpers.h). */
#ifndef CKPTFS_DUMPERS_SESSION_H
#define CKPTFS_DUMPERS_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpers/dumpers.h"
#include "dumpers/drill.h"
#include "dumpers/migration.h"
#include "dumpers/sqlcount.h"
#include "dumpers/sqlite.h"
#include "dumpers/target.h"
#include "store/tree.h"

/* One database met by the session: a SQLite file or a server database. */
struct dumper_db {
	char *name;        /* SQLite: its path in the project; server: target name */
	const char *kind;  /* static: "sqlite", "postgres", "mysql", "mongo" */
	char *file;        /* where it is in the snapshot ("@databases/x.dump") */
	char *source;      /* server: where it was found */
	const char *method; /* static: capture method or the dump tool */
	const char *how;   /* static: the drill ("integrity_check", …) */
	bool ok;           /* captured (or dumped) and the drill passed */
	bool inconsistent; /* SQLite stored raw */
	bool skipped;      /* server in docker, not reachable now: not dumped, not a failure */
	char *where;       /* in docker: "compose service db" (skipped ones) */
	char *check;       /* "ok", the drill's failure, or why it was not captured */
	struct dumper_table_count *tables;
	size_t ntables;
	struct dumper_schema schema; /* migration version at capture (migration.h) */
	struct dumper_full_drill drill; /* server, snap --drill=full: the verdict */
	uint64_t bytes;
	int64_t entries;   /* pg_restore --list entries, -1 if none */
	int64_t max_step_us;
	unsigned restarts;
	/* SQLite in WAL mode: the -wal file as it was when the capture began
	 * (notes "wal": "ino:size:mtime_ns:ctime_ns"), so the next snapshot
	 * can tell that nothing committed since (session_reuse.c). */
	bool have_wal;
	/* SQLite: the size of the database file itself (a capture of a WAL
	 * database is larger: it holds the -wal's pages); -1 if unknown. */
	int64_t src_size;
	struct dumper_file_stamp {
		uint64_t ino, size;
		int64_t mtime_ns, ctime_ns;
	} wal;
};

/* The stamp of a file's stat. */
void dumper_file_stamp(const struct stat *st, struct dumper_file_stamp *ret);

/* The drill of a SQLite capture running beside the walk
 * (session_sqdrill.c). */
struct session_sqdrill {
	bool busy;     /* a drill was started and its verdict not yet recorded */
	bool threaded; /* it runs on thread (else it ran at the start) */
	pthread_t thread;
	size_t db;     /* its record: dbs[db] */
	struct dumper_sqlite_copy copy; /* the drill's own; removed when it ends */
	struct dumper_drill dr;         /* the verdict */
	int err;                        /* -ENOMEM, else 0 */
};

struct dumper_session {
	char *root;
	char *tmpdir; /* private 0700 temp dir, NULL until dumper_session_tmpdir */
	struct dumper_targets targets; /* everything discovered */
	struct dumper_sqlite_limits lim;
	const struct walk_hooks *outer;
	struct dumper_db *dbs;
	size_t ndbs;
	char **problems;
	size_t nproblems;
	char **notices; /* databases skipped: "database NAME (WHERE): why — skipped" */
	size_t nnotices;
	struct dumper_result res;
	char **raw; /* SQLite files stored raw: their -wal/-journal are kept */
	size_t nraw;
	struct node folder; /* @databases, valid when have_folder */
	bool have_folder;
	/* the parent snapshot, for reusing unchanged captures */
	struct repo *repo;
	const blob_id *parent_root;
	int64_t parent_time_ns;
	const char *parent_notes;
	bool parent_legacy; /* a version-1 snapshot: check its chunks before reuse */
	bool drill_full; /* snap --drill=full */
	struct session_sqdrill sqdrill;
};

/* What a server dump carries along for its counts and its full drill
 * (session_drill.c): the engine's counter at dump time (engine.h: the
 * Postgres session holding the dump's snapshot, the MySQL stream's row
 * counter), the dump teed to a private temp file. */
struct session_drill {
	const struct dumper_dump_counter *counter; /* NULL: not counting */
	void *counter_state;
	int tee_fd;            /* -1: not teed */
	char *error;           /* why the drill cannot run (malloc'd) */
};

/* Before the dump of tg with cmd: set up what the drill needs (cmd may
 * get --snapshot).  Problems go into dc->error, not the result: 0 or
 * -ENOMEM. */
int session_drill_begin(struct dumper_session *s, const struct dumper_target *tg,
			const char *tmpdir, struct dumper_cmd *cmd, struct session_drill *dc);

/* The dump's bytes as they stream into the store. */
void session_drill_bytes(struct session_drill *dc, const void *buf, size_t n);

/* After the dump (dumped: it succeeded and passed its check): the counts
 * at dump time into d->tables, and with --drill=full the drill's verdict
 * into d->drill (a failure clears d->ok).  0 or -ENOMEM. */
int session_drill_end(struct dumper_session *s, const struct dumper_target *tg,
		      const char *tmpdir, struct session_drill *dc, bool dumped, struct dumper_db *d);

/* Release what dc holds (also after a failed begin). */
void session_drill_clear(struct session_drill *dc);

/* Drill copy (moved in; its files are removed once drilled) for the
 * record dbs[db] on a thread of its own, after waiting for the previous
 * drill (session_sqdrill_wait).  Without a thread the drill runs here.
 * 0, or the previous drill's -ENOMEM (copy then removed). */
int session_sqdrill_start(struct dumper_session *s, size_t db, struct dumper_sqlite_copy *copy);

/* Wait for the drill started last, if its verdict is not recorded yet,
 * and record it in its dbs[] entry (how, ok, check, tables, schema); a
 * failed check counts in res.drill_failed and adds a problem.  0, or
 * -ENOMEM. */
int session_sqdrill_wait(struct dumper_session *s);

/* Reuse the parent snapshot's capture of the database at relpath (open
 * as fd with stat st) if it is certainly unchanged: 1 with node's content
 * and the record filled, 0 to capture afresh, -ENOMEM. */
int dumper_session_reuse(struct dumper_session *s, const char *relpath, const struct stat *st,
			 struct node *node);

/* The session's private temp dir (for SQLite copies and secret files),
 * made on first call.  0 or a negative errno (message recorded). */
int dumper_session_tmpdir(struct dumper_session *s, const char **ret);

/* Whether target t is dumped by default (not disabled; local or explicit). */
bool dumper_target_enabled(const struct dumper_target *t);

/* Append a database record (fields moved in: d is zeroed). */
int dumper_session_add_db(struct dumper_session *s, struct dumper_db *d);

/* Append "database NAME: why" to the problems (printf-style). */
int dumper_session_problem(struct dumper_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append a line to the notices (databases skipped; printf-style). */
int dumper_session_notice(struct dumper_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void dumper_db_clear(struct dumper_db *d);

#endif
