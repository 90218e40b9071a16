/* engine.h — the table of server database engines (dumpers-internal).
 *
 * Everything that differs between Postgres, MySQL/MariaDB and MongoDB is
 * one row of this table, defined in the engine's own file
 * (engine_postgres.c, engine_mysql.c, engine_mongo.c); the rest of
 * dumpers/ asks the row and never switches on the kind.  A new kind is one
 * value in enum dumper_kind (target.h), one file and one line in
 * engine.c's list.
 *
 * No operation is silently absent: each optional one is either there or
 * the row says why not (a `no_…` reason shown to the user), and
 * tests/test_dumper_engine.c walks the table: every kind has a row, every
 * row has its required operations, names, schemes, aliases and images
 * are unique and resolve back to their row.
 */
#ifndef CKPTFS_DUMPERS_ENGINE_H
#define CKPTFS_DUMPERS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpers/target.h"

struct cmdb;
struct dumper_cmd;

/* A variable of a compose service's environment, or NULL. */
typedef const char *(*dumper_env_get_fn)(void *ctx, const char *key);

/* Credentials and database of a compose service, from its environment
 * (the variables the engine's official image reads).  Strings borrowed
 * from get's answers or static. */
struct dumper_compose_login {
	const char *user, *password, *dbname;
};

/* Building one command into b (cmdbuild.h); the target is already
 * checked (dumper_target_check).  db: the database to act on (t's own, or
 * the `into` the caller chose); into: that other database, or NULL.
 * 0 or a negative errno (message recorded). */
struct dumper_engine_cmds {
	int (*dump)(const struct dumper_target *t, const char *tmpdir, const char *db,
		    struct cmdb *b);
	/* Reading the dump on stdin. */
	int (*restore)(const struct dumper_target *t, const char *tmpdir, const char *db,
		       const char *into, struct cmdb *b);
};

/* What the dump looked like when its tool exited 0, for the verifier. */
struct dumper_dump_seen {
	const char *tool;              /* the dump tool, for messages */
	const unsigned char *head;     /* its first bytes */
	size_t head_len;
	const unsigned char *tail;     /* its last bytes (up to 64) */
	size_t tail_len;
	uint64_t bytes;
	bool tee_ran;                  /* the checker below ran … */
	int tee_status;                /* … and exited so (waitpid status) */
	int tee_out;                   /* … having written this fd (a memfd) */
};

/* How a dump is proved whole as it streams. */
struct dumper_verify {
	const char *name;              /* for the notes: "pg_restore --list" */
	/* A checker run alongside the dump, fed a copy of its bytes on stdin
	 * (its stdout kept in a memfd), or NULL for none; and the check's name
	 * when it cannot be started. */
	const char *const *tee_argv;
	const char *tee_missing;
	/* true when the dump is whole (with *ret_entries, its table-of-
	 * contents count, if the engine has one); false with why not in
	 * *ret_why (malloc'd; NULL on ENOMEM, said as "dump failed"). */
	bool (*judge)(const struct dumper_dump_seen *d, int64_t *ret_entries, char **ret_why);
};

struct dumper_table_count;
struct dumper_schema;
struct dumper_sqlsection;
struct dumper_privsrv_kind;

/* Rows per table at dump time, as the dump itself saw them. */
struct dumper_dump_counter {
	/* Before the dump with cmd (which it may extend, e.g. with the
	 * snapshot to dump): 0 with *ret_state (freed by end or abort), or a
	 * negative errno (message recorded: no counts, the dump goes on). */
	int (*begin)(const struct dumper_target *t, const char *tmpdir, struct dumper_cmd *cmd,
		     void **ret_state);
	/* The dump's bytes as they stream (NULL: not needed). */
	void (*bytes)(void *state, const void *buf, size_t n);
	/* After a dump that passed its check: the counts (malloc'd; free
	 * with dumper_table_counts_free) and, if the row says schema, the
	 * migration version in the same snapshot (*ret_schema); state is
	 * freed.  0, -ENOMEM, or another negative errno with the message
	 * recorded. */
	int (*end)(void *state, struct dumper_table_count **ret, size_t *ret_n,
		   struct dumper_schema *ret_schema);
	/* After a dump that failed: state freed. */
	void (*abort)(void *state);
	/* Counting costs the server a scan of every table: only with
	 * snap --drill=full, whose drill needs them. */
	bool costly;
	/* Not for a database in docker (it runs the client here). */
	bool local_only;
	/* end also reads the migration version, in the dump's snapshot
	 * (else it is asked right after the dump). */
	bool schema;
};

/* restore --db NAME --table T: what the engine's table restore is given. */
struct dumper_tables_job {
	const struct dumper_target *t;
	const char *tmpdir;
	const char *const *tables;
	size_t n;
	const char *into;      /* another database, or NULL */
	/* The dump, streamed into a (piped into b if not NULL), through the
	 * line filter flt if not NULL; and read through flt sending nothing
	 * (a first pass that checks). */
	int (*feed)(void *ctx, const struct dumper_cmd *a, const struct dumper_cmd *b,
		    struct dumper_sqlsection *flt);
	int (*scan)(void *ctx, struct dumper_sqlsection *flt);
	void *ctx;
};

struct dumper_engine {
	enum dumper_kind kind;
	const char *name;        /* "postgres": dump names, notes, --json, kind = in .ckptfs.toml */
	/* Every word that names this engine, lowercase, NULL-terminated: URL
	 * schemes (postgresql://), Rails adapters, Laravel DB_CONNECTION and
	 * .ckptfs.toml's kind =.  The first is name. */
	const char *const *aliases;
	const char *ext;         /* dump file extension in @databases: ".dump" */
	int default_port;        /* the server's port when none is given */
	/* Compose images served by this engine: the last path component of
	 * the image, without tag, starting with one of these. */
	const char *const *images;
	const char *how;         /* snap --dry-run: how it is dumped and checked */
	/* The connection URL goes to the tool whole (minus its password, in
	 * t->uri): its query parameters and host list are the tool's, not
	 * read for the local-only rule (Mongo). */
	bool whole_uri;
	/* The client reads a database name holding '=' or "://" as a whole
	 * connection string, host included (libpq): such a name is refused. */
	bool dbname_conninfo;
	void (*compose_login)(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret);

	/* The dump and restore against the server, and inside a container
	 * (docker exec / compose exec: the container's own credentials). */
	struct dumper_engine_cmds server, docker;
	struct dumper_verify verify;
	/* The restore command for RESTORE.txt: pre is the docker prefix
	 * ("docker exec -i C " or ""), file the dump's name.  malloc'd. */
	char *(*hint)(const struct dumper_target *t, const char *pre, const char *file);

	/* SQL through the engine's client (migration versions, counts,
	 * drills, table restores), or why the engine has none. */
	const char *no_sql;
	/* Run sql (sql NULL: statements on stdin, where the engine allows a
	 * session) and print rows without headers, fields split by tabs;
	 * in a container too. */
	int (*query)(const struct dumper_target *t, const char *tmpdir, const char *sql,
		     struct cmdb *b);
	/* Create database name (its plain name checked), in a container too
	 * (NULL: the server makes a database on its first write);
	 * create_exists: the tool's words when it exists already (then it is
	 * not an error), NULL if the command does not fail then. */
	int (*create)(const struct dumper_target *t, const char *tmpdir, const char *name,
		      struct cmdb *b);
	const char *create_exists;
	/* Drop database name if it exists; not in docker. */
	int (*drop)(const struct dumper_target *t, const char *tmpdir, const char *name,
		    struct cmdb *b);
	/* The rows of every table of t's database db, asked through query. */
	int (*counts)(const struct dumper_target *t, const char *tmpdir, const char *db,
		      struct dumper_table_count **ret, size_t *ret_n);
	/* The SQL naming the current schema/database, for the migration
	 * probes' information_schema question ("current_schema()"). */
	const char *schema_sql;

	/* Counts at dump time (begin NULL: none; the drill can then only say
	 * "restored"). */
	struct dumper_dump_counter counter;

	/* The full drill (drill.h) needs create, drop, the restore and
	 * counts; or why the engine is not drilled. */
	const char *no_drill;
	/* The drill's fallback when the user may not create a scratch
	 * database: a private temporary server (privsrv.h), or why none. */
	const struct dumper_privsrv_kind *private_server;
	const char *no_private;

	/* restore --db --table: 0 or a negative errno (message recorded);
	 * or why the engine cannot (no_tables, said before the safety
	 * snapshot).  Local databases only: docker is refused before. */
	int (*restore_tables)(const struct dumper_tables_job *j);
	const char *no_tables;
};

/* The row of kind k, or NULL for DUMPER_NONE (or a kind without a row,
 * which the table test fails). */
const struct dumper_engine *dumper_engine_of(enum dumper_kind k);

/* The row named by word (any alias, case-insensitive), or NULL. */
const struct dumper_engine *dumper_engine_by_alias(const char *word);

/* The row serving compose image ("postgres:16", "docker.io/bitnami/
 * mariadb:11"), or NULL. */
const struct dumper_engine *dumper_engine_by_image(const char *image);

/* All rows, in the table's order; *ret_n their number. */
const struct dumper_engine *const *dumper_engines(size_t *ret_n);

/* The rows (each defined in its engine's file). */
extern const struct dumper_engine dumper_engine_postgres;
extern const struct dumper_engine dumper_engine_mysql;
extern const struct dumper_engine dumper_engine_mongo;

#endif
