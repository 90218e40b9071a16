/* server.h — dumping server databases through their own tools
 * (dumpers-internal).
 *
 * A dump is a child process whose stdout is a pipe read straight into the
 * store (no copy of the dump on disk); its stderr is kept (the last few KiB)
 * to report a refusal with the tool's own words.  Secrets never go on a
 * command line: PGPASSWORD in the child's environment, a 0600
 * --defaults-extra-file for mysqldump, a 0600 --config file for mongodump,
 * all in the session's private temp dir.  For a container the tool runs
 * inside it and takes the password from the container's own environment.
 */
#ifndef CKPTFS_DUMPERS_SERVER_H
#define CKPTFS_DUMPERS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpers/target.h"

struct dumper_cmd {
	char **argv;     /* NULL-terminated; argv[0] looked up in PATH */
	char **envp;     /* NULL-terminated: the environment plus secrets */
	char *secret_file; /* temp file to remove after the run, or NULL */
	const char *tool;  /* name for messages: "pg_dump", "mariadb-dump" … */
};

/* Refuse values no honest project file has before they reach a tool's
 * option file, environment or arguments: control characters anywhere, a
 * leading '-' where an argument could become an option, several hosts
 * where one was judged local, container and service names that are not
 * names.  0, or -EINVAL with "SOURCE: FIELD why; refused" recorded.  The
 * command builders below call it. */
int dumper_target_check(const struct dumper_target *t);

/* Build the dump command for t.  tmpdir is the private (0700) temp dir for
 * secret files.  0 or a negative errno (message recorded). */
int dumper_dump_cmd(const struct dumper_target *t, const char *tmpdir, struct dumper_cmd *ret);

/* Build the restore command for t reading the dump on stdin; into, if not
 * NULL, names another database to restore into (created by the caller's
 * command for Postgres: see dumper_create_cmd). */
int dumper_restore_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		       struct dumper_cmd *ret);

/* Build the command that creates database into on t's server if it does
 * not exist (createdb, which fails with "already exists" if it does:
 * the caller ignores that; CREATE DATABASE IF NOT EXISTS for MySQL).
 * Mongo creates databases on first write: 0 with ret->argv NULL.  into
 * must be a plain name ([A-Za-z0-9_.-]), else -EINVAL. */
int dumper_create_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		      struct dumper_cmd *ret);

/* true if s can name a database in a command line as it is: 1 to 63 of
 * [A-Za-z0-9_.-]. */
bool dumper_plain_name(const char *s);

/* true if tool is an executable file in one of $PATH's folders. */
bool dumper_in_path(const char *tool);

/* Build a command that runs sql (one or more statements) on t's database
 * with the SQL client (psql, mariadb/mysql) and prints its rows without
 * headers, fields split by tabs.  Postgres and MySQL only (-EINVAL
 * otherwise).  sql NULL (local Postgres only): psql reads its statements
 * from stdin, a session the caller drives.  0 or a negative errno (message recorded). */
int dumper_query_cmd(const struct dumper_target *t, const char *tmpdir, const char *sql,
		     struct dumper_cmd *ret);

/* Run sql on t's database (dumper_query_cmd) for at most timeout_ms: its
 * rows in *ret_rows (malloc'd), or -EIO with the client's first line of
 * stderr recorded. */
int dumper_query(const struct dumper_target *t, const char *tmpdir, const char *sql,
		 int timeout_ms, char **ret_rows);

/* Build the command that drops database name on t's server if it exists
 * (dropdb --if-exists; DROP DATABASE IF EXISTS).  Not in docker. */
int dumper_drop_cmd(const struct dumper_target *t, const char *tmpdir, const char *name,
		    struct dumper_cmd *ret);

/* Append one argument to c's argv.  0 or -ENOMEM. */
int dumper_cmd_add_arg(struct dumper_cmd *c, const char *arg);

/* Remove the secret file and free. */
void dumper_cmd_clear(struct dumper_cmd *c);

/* The restore command line for RESTORE.txt (secrets left to the user). */
char *dumper_restore_hint(const struct dumper_target *t, const char *file);

/* How a dump stream is consumed: called once with a reader that yields the
 * dump's bytes; returns 0 or a negative errno.  (The session passes
 * writer_put_stream; tests collect into memory.) */
typedef int (*dumper_read_fn)(void *ctx, void *buf, size_t cap, size_t *ret_n);
typedef int (*dumper_consume_fn)(void *cctx, dumper_read_fn read, void *rctx);

struct dumper_dump_result {
	bool ok;          /* tool and verification succeeded */
	char *error;      /* why not: "pg_dump: connection refused …" (malloc'd) */
	uint64_t bytes;
	int64_t entries;  /* pg_restore --list entries; -1 if not counted */
	const char *check; /* static: "pg_restore --list", "trailer" */
};

/* Run cmd, stream its stdout to consume, verify the stream on the way
 * (Postgres: tee to `pg_restore --list`; MySQL: "-- Dump completed" at the
 * end; Mongo: archive magic and terminator).  A tool that fails or a dump
 * that fails verification is not an error of this function: ret->ok says
 * it.  Returns a negative errno only when consume fails (the store). */
int dumper_dump_run(const struct dumper_target *t, const struct dumper_cmd *cmd,
		    dumper_consume_fn consume, void *cctx, struct dumper_dump_result *ret);

void dumper_dump_result_clear(struct dumper_dump_result *r);

/* Run a | b with a's stdin fed from fd; 0, or -EIO with the message of
 * the one that failed (b's first). */
int dumper_run_pipe(const struct dumper_cmd *a, const struct dumper_cmd *b, int fd);

/* The two halves of a table restore (Postgres): extract, `pg_restore
 * --data-only` of tables out of the dump on stdin as SQL, and load, `psql
 * --single-transaction` running TRUNCATE of the tables then that SQL, so
 * the live tables' schema is kept and all of it commits or none.  A table
 * is "name" or "schema.name".  Into database into if not NULL.  Not in
 * docker, Postgres only (-EINVAL). */
int dumper_table_restore_cmds(const struct dumper_target *t, const char *tmpdir,
			      const char *const *tables, size_t n, const char *into,
			      struct dumper_cmd *ret_extract, struct dumper_cmd *ret_load);

/* Run cmd with its stdin fed from fd (a restore); 0, or -EIO with the
 * tool's stderr in the message. */
int dumper_run_with_input(const struct dumper_cmd *cmd, int fd);

#endif
