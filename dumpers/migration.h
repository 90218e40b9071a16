/* migration.h — which schema migration a database is at
 * (dumpers-internal).
 *
 * Restoring a two-week-old dump under today's code fails when the schema
 * moved on, so every capture records the migration version it holds, if
 * the database has one of the migration tools' bookkeeping tables:
 *
 *   alembic   alembic_version.version_num (every head, sorted)
 *   rails     schema_migrations.version, the highest (no "dirty" column:
 *             that is golang-migrate's table of the same name)
 *   django    django_migrations: the latest name per app
 *   prisma    _prisma_migrations: the latest finished, not rolled back
 *   knex      knex_migrations: the name of the last one run
 *   flyway    flyway_schema_history: the version of the last success
 *   goose     goose_db_version: the last version applied and not rolled back
 *   laravel   migrations (with a "batch" column): the last one run
 *
 * The first of these the database has is the one recorded.  The SQL is the
 * same for SQLite, Postgres and MySQL/MariaDB; which tables and columns
 * exist is asked first (sqlite_schema / information_schema), so a query
 * never runs against a table of the same name that is not the tool's.
 * Choosing and formatting are pure functions, tested table-driven.
 */
#ifndef CKPTFS_DUMPERS_MIGRATION_H
#define CKPTFS_DUMPERS_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>

struct dumper_migration_probe {
	const char *tool;   /* "alembic" */
	const char *table;  /* "alembic_version" */
	const char *need;   /* a column the tool's table has (NULL: any) */
	const char *avoid;  /* a column it must not have (NULL: none) */
	const char *query;  /* rows of one value, or (app, name) for django */
};

/* The probes, in the order they are tried; *ret_n gets their number. */
const struct dumper_migration_probe *dumper_migration_probes(size_t *ret_n);

/* The SQL IN list of the probes' table names: "'alembic_version', …". */
const char *dumper_migration_tables_sql(void);

/* Pick the probe from "table\tcolumn" lines (one per column of the
 * candidate tables, any order): its index, or -1 if none fits. */
int dumper_migration_pick(const char *columns);

/* The version from the query's output, rows as lines with fields split by
 * tabs: the values joined by ", ", django's as "app name, app name".
 * Empty output (no migration run yet) gives NULL with 0.  At most 200
 * bytes, cut with "…".  0 or -ENOMEM; *ret malloc'd. */
int dumper_migration_format(const char *rows, char **ret);

/* For messages: "alembic 3f2a1b9c0d1e". */
struct dumper_schema {
	char *tool;     /* NULL: no migration table found */
	char *version;  /* NULL with tool: the table is there, nothing run yet */
};

void dumper_schema_clear(struct dumper_schema *s);

/* "alembic 3f2a1b9c0d1e" (malloc'd), NULL for no tool.  0 or -ENOMEM. */
int dumper_schema_text(const struct dumper_schema *s, char **ret);

/* The schema of the SQLite database open as db (a sqlite3 *).  A
 * database without a migration table gives tool NULL.  0 or -ENOMEM. */
int dumper_sqlite_schema(void *db, struct dumper_schema *ret);

struct dumper_target;

/* Answers sql with rows as lines, fields split by tabs (malloc'd): 0 or
 * a negative errno (message recorded). */
typedef int (*dumper_ask_fn)(void *ctx, const char *sql, char **ret_rows);

/* The schema as ask answers the probes' questions, schema_sql naming the
 * current schema in information_schema ("current_schema()").  0, or a
 * negative errno from ask. */
int dumper_schema_ask(const char *schema_sql, dumper_ask_fn ask, void *ctx,
		      struct dumper_schema *ret);

/* The schema of server database t (Postgres, MySQL; others give tool
 * NULL), asked through its SQL client (server.h), secrets in tmpdir.
 * 0, or a negative errno when the client fails (message recorded). */
int dumper_server_schema(const struct dumper_target *t, const char *tmpdir,
			 struct dumper_schema *ret);

#endif
