/* dumpers.h — databases in snapshots: the one header the CLI uses.
 *
 * A session belongs to one snapshot of one project:
 *
 *   dumper_session_new(root)        finds the project's server databases
 *   dumper_session_dump(s, w)       dumps them into the store, building the
 *                                   reserved top-level folder @databases
 *   walk_opts.extra_root            = dumper_session_extra(s)
 *   walk_opts.hooks                 = dumper_session_hooks(s, outer)
 *   walk_run(...)                   SQLite files are captured as the walk
 *                                   meets them (consistent copy + drill)
 *   snapshot_new.notes              gets dumper_session_notes(s)
 *   dumper_session_result(s)        what failed, to set the exit status
 *
 * A SQLite database (any regular file starting with the SQLite header) is
 * stored as a consistent online-backup copy at its own path, flagged
 * NODE_F_DB_COPY; its -wal, -shm and -journal siblings are left out.  One
 * that cannot be captured consistently within the busy limits is stored as
 * it is, flagged NODE_F_INCONSISTENT, with a warning (and its -wal/-journal
 * kept, which a raw copy needs).  Server databases (Postgres, MySQL/MariaDB,
 * MongoDB) are dumped by their own tools into @databases/NAME.dump|.sql|
 * .archive, next to a RESTORE.txt with the restore commands.  Every capture
 * is drilled at once (a SQLite copy's drill on a thread of its own, while
 * the walk goes on) and the results go into the snapshot's notes.
 */
#ifndef CKPTFS_DUMPERS_DUMPERS_H
#define CKPTFS_DUMPERS_DUMPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/id.h"
#include "store/walk.h"

struct dumper_session;
struct writer;
struct repo;
struct node;

/* The reserved folder at the top of every snapshot that has server dumps. */
#define DUMPER_FOLDER "@databases"

/* Start a session for the project at root (absolute): read its database
 * hints (.env*, config/database.yml, compose files, .ckptfs.toml).  A
 * private 0700 temp dir (dumpers/tmpdir.h: removed on signals too) for SQLite copies and
 * secret files is made when first needed.  A syntax error in .ckptfs.toml fails with -EINVAL and
 * "…/.ckptfs.toml:LINE: why". */
int dumper_session_new(const char *root, struct dumper_session **ret);

/* Remove the temp dir and free.  dumper_session_free(NULL) is a no-op. */
void dumper_session_free(struct dumper_session *s);

/* The parent snapshot (the walk's parent; all may be NULL/0 for none):
 * a SQLite database whose file is unchanged since it was captured there
 * (same device, inode, size, mtime and ctime, not written to close to the
 * parent's start, no -wal or -journal beside it now) and whose drill there
 * passed is not copied and checked again: its capture is reused, recorded
 * with method "unchanged".  Any sign of activity means a fresh capture.
 * legacy: the parent is a version-1 snapshot (repo_snapshot_is_legacy),
 * whose chunks are then each looked up before they are reused.  repo,
 * root and notes must stay valid for the session's walk. */
void dumper_session_set_parent(struct dumper_session *s, struct repo *repo, const blob_id *root,
			       int64_t time_ns, const char *notes, bool legacy);

/* snap --drill=full: every server database dumped is also restored into
 * a scratch database on its server and its row counts compared with
 * those at dump time (drill.h); the verdict goes into the notes, and a
 * failed drill makes the snapshot partial.  Call before dumper_session_dump. */
void dumper_session_set_drill_full(struct dumper_session *s, bool full);

/* Hooks for walk_run: the session's capture and skip; warn and progress
 * are passed on to outer's (outer may be NULL), and so are the session's
 * own warnings about databases it stores raw.  *ret is valid while s and
 * outer are. */
void dumper_session_hooks(struct dumper_session *s, const struct walk_hooks *outer,
			  struct walk_hooks *ret);

/* Dump every enabled server database (not disabled, and local or listed
 * in .ckptfs.toml) through w, streaming each tool's output into the store,
 * and build the @databases folder entry.  Progress goes to the outer
 * hooks given to dumper_session_hooks, if that was called first.  A database that refuses is not
 * an error here: it is recorded (dumper_session_result, the notes).
 * Returns a negative errno only when the store fails. */
int dumper_session_dump(struct dumper_session *s, struct writer *w);

/* The entries to pass as walk_opts.extra_root (the @databases folder, or
 * none if there are no server databases). */
const struct node *dumper_session_extra(const struct dumper_session *s, size_t *ret_n);

struct dumper_result {
	unsigned sqlite;        /* SQLite databases captured consistently */
	unsigned reused;        /* of those, unchanged: the parent's capture reused */
	unsigned inconsistent;  /* SQLite databases stored raw */
	unsigned dumped;        /* server databases dumped and verified */
	unsigned refused;       /* server databases that could not be dumped */
	unsigned drill_failed;  /* captures whose check failed */
	unsigned skipped;       /* in docker and not running (or docker not usable):
				 * not dumped, not a failure unless required */
	/* One line per problem, "database NAME: why", in the order found;
	 * the CLI prints each as "ckptfs: <line>". */
	const char *const *problems;
	size_t nproblems;
	/* One line per database skipped, "database NAME (compose service
	 * SVC): not running — skipped": said, but the snapshot is complete. */
	const char *const *notices;
	size_t nnotices;
};

/* What happened so far, once the drill still running beside the walk (if
 * any) has given its verdict.  The pointers stay valid until the next
 * session call that captures or dumps, or until dumper_session_free.
 * Returns 0, or -ENOMEM (*ret is filled either way). */
int dumper_session_result(struct dumper_session *s, struct dumper_result *ret);

/* The databases part of the snapshot notes: the text of one JSON member,
 * `"databases": [...]`, to put inside the notes object, or NULL when
 * there were no databases.  malloc'd; NULL with -ENOMEM in *ret_err. */
char *dumper_session_notes(struct dumper_session *s, int *ret_err);

/* Print the databases of a notes JSON object (as stored with a snapshot)
 * for people, one line each plus a line of table counts:
 *   "  sqlite    data/app.db  ok (integrity_check; 3 tables, 1,024 rows)"
 * Nothing when notes is NULL or has no databases member; notes that are
 * not valid JSON print one line saying so.  Returns the number printed. */
int dumper_notes_print(FILE *f, const char *notes);

/* true if the notes record a failed drill or an inconsistent capture. */
bool dumper_notes_failed(const char *notes);

/* The full drill the notes record, summed over their databases, as a
 * word for `log` and `status`: "drill failed" if any drill failed,
 * "proven" if every drill that ran proved its database ("proven in a
 * private server" if one of them ran in one, privsrv.h), "restored" if
 * some could only be restored (no counts to compare), NULL if no full
 * drill is recorded. */
const char *dumper_notes_drill(const char *notes);

/* true if the notes record a server database (dumped or failed): the
 * snapshot's top-level DUMPER_FOLDER is then ckptfs's own (dumps and
 * RESTORE.txt), not the project's. */
bool dumper_notes_have_folder(const char *notes);

/* The notes' record of database name: 1 captured and checked, 0 recorded
 * as failed (*ret_why, if not NULL, gets the reason, malloc'd), -ENOENT
 * not recorded. */
int dumper_notes_db_status(const char *notes, const char *name, char **ret_why);

/* The migration version the notes record for database name, as
 * "alembic 3f2a1b9c0d1e" (malloc'd); *ret NULL if none is recorded.
 * 0 or -ENOMEM. */
int dumper_notes_db_schema(const char *notes, const char *name, char **ret);

/* `snap --dry-run`: print what would be captured and how — each server
 * database (with where it was found, and why it would be skipped: remote
 * and not listed, disabled) and each SQLite file the walk would meet
 * (honouring the ignore rules and the extra exclude patterns).
 * Returns 0 or a negative errno. */
int dumper_session_plan(struct dumper_session *s, const char *const *excludes, size_t nexcludes,
			FILE *f);

/* ---- restore --db ---- */

/* Names of the enabled server databases, for messages ("known: a, b"). */
size_t dumper_session_ndbs(const struct dumper_session *s);
const char *dumper_session_db_name(const struct dumper_session *s, size_t i);

/* The file name of NAME's dump inside @databases ("postgres-app.dump"),
 * or -ENOENT (message lists the known names) if the session has no such
 * server database.  malloc'd. */
int dumper_session_dump_file(const struct dumper_session *s, const char *name, char **ret);

/* The migration version server database NAME is at now, asked live, in
 * the same form ("alembic 3f2a1b9c0d1e"); NULL if it has none.  0, or a
 * negative errno (not found, the client failed: message recorded). */
int dumper_session_live_schema(struct dumper_session *s, const char *name, char **ret);

/* Restore server database NAME from file, a node of a snapshot of repo
 * (its @databases/NAME.ext): stream its content into the database's own
 * restore tool (pg_restore --clean --if-exists, mariadb, mongorestore
 * --drop).  into, if not NULL, is another database to restore into; it is
 * created first (Postgres, MySQL) if it does not exist.  0, or a negative
 * errno with the tool's message. */
int dumper_session_restore(struct dumper_session *s, struct repo *repo, const struct node *file,
			   const char *name, const char *into);

/* restore --db NAME --table T: only tables of server database NAME
 * (Postgres) from file, its dump in a snapshot: in one transaction, the
 * live tables truncated and their rows loaded from the dump (pg_restore
 * --data-only | psql --single-transaction), so their schema stays the
 * live one; a foreign key from another table, or a column the live table
 * lacks, refuses it all with the server's words.  into: another database
 * that has the tables.  0, or a negative errno (message recorded). */
int dumper_session_restore_tables(struct dumper_session *s, struct repo *repo,
				  const struct node *file, const char *name,
				  const char *const *tables, size_t n, const char *into);

/* Whether tables of server database NAME can be restored alone (a local
 * Postgres or MySQL): 0, or -EINVAL / -ENOENT with why recorded — asked
 * before the safety snapshot, so a refusal costs nothing. */
int dumper_session_tables_ok(const struct dumper_session *s, const char *name);

/* ---- restore FILE.db --table T ---- */

struct dumper_table_restore {
	struct {
		const char *name;     /* the caller's string */
		int64_t live_rows;    /* before */
		int64_t snap_rows;    /* in the snapshot's copy */
		int64_t restored_rows; /* after (0 on a dry run) */
	} *tables;
	size_t n;
};

/* Replace the rows of tables in the live SQLite database at live_path with
 * those of the snapshot's copy at copy_path (file: the database's path in
 * the project, for messages), in one transaction; every table must be in
 * both with the same CREATE statement, else nothing is done (-EINVAL or
 * -ENOENT, naming the table).  dry_run: only the checks and counts.  0
 * with *ret filled (dumper_table_restore_clear), or a negative errno
 * (message recorded). */
int dumper_sqlite_restore_tables(const char *live_path, const char *copy_path, const char *file,
				 const char *const *tables, size_t n, bool dry_run,
				 struct dumper_table_restore *ret);

void dumper_table_restore_clear(struct dumper_table_restore *r);

/* ---- check --drill ---- */

struct dumper_drill_verdict {
	bool ran;        /* false: not drilled (result says why) */
	bool ok;         /* restored, and the counts as at dump time if recorded */
	char *result;    /* one line (malloc'd) */
	int64_t ms;
};

void dumper_drill_verdict_clear(struct dumper_drill_verdict *v);

/* The full drill of server database NAME's dump in a snapshot of repo
 * (file: its @databases/NAME.ext node), the snapshot's notes giving the
 * row counts at dump time (if recorded: MySQL always, Postgres with snap
 * --drill=full): restored into a scratch database on the server the
 * project names now, counted, dropped (drill.h).  0 with *ret filled, or
 * a negative errno (unknown NAME, -ENOMEM; message recorded). */
int dumper_session_drill(struct dumper_session *s, struct repo *repo, const struct node *file,
			 const char *name, const char *notes, struct dumper_drill_verdict *ret);

#endif
