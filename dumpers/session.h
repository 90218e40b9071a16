/* session.h — the state of a dumper session, shared by session*.c
 * (dumpers-internal; the CLI uses dumpers.h). */
#ifndef CKPTFS_DUMPERS_SESSION_H
#define CKPTFS_DUMPERS_SESSION_H

#include <stdbool.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpers/dumpers.h"
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
};

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
