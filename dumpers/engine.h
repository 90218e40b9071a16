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

#include "dumpers/target.h"

/* A variable of a compose service's environment, or NULL. */
typedef const char *(*dumper_env_get_fn)(void *ctx, const char *key);

/* Credentials and database of a compose service, from its environment
 * (the variables the engine's official image reads).  Strings borrowed
 * from get's answers or static. */
struct dumper_compose_login {
	const char *user, *password, *dbname;
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
	void (*compose_login)(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret);
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
