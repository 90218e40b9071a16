/* engine_postgres.c — PostgreSQL: pg_dump's custom format, checked by
 * pg_restore --list (engine.h). */
#include "dumpers/engine.h"

static void pg_compose_login(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret)
{
	/* The official image: POSTGRES_USER (default postgres), its
	 * database POSTGRES_DB (default: the user's name). */
	const char *user = get(ctx, "POSTGRES_USER"), *db = get(ctx, "POSTGRES_DB");
	ret->user = user ? user : "postgres";
	ret->password = get(ctx, "POSTGRES_PASSWORD");
	ret->dbname = db ? db : ret->user;
}

const struct dumper_engine dumper_engine_postgres = {
	.kind = DUMPER_POSTGRES,
	.name = "postgres",
	.aliases = (const char *const[]){"postgres", "postgresql", "postgis", "pg", "pgsql", NULL},
	.ext = ".dump",
	.default_port = 5432,
	.images = (const char *const[]){"postgres", "postgis", "timescal", NULL},
	.how = "pg_dump --format=custom, checked with pg_restore --list",
	.compose_login = pg_compose_login,
};
