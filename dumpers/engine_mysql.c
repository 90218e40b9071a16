/* engine_mysql.c — MySQL and MariaDB: mariadb-dump/mysqldump in one
 * transaction, checked by its "-- Dump completed" trailer (engine.h). */
#include "dumpers/engine.h"

static const char *either(dumper_env_get_fn get, void *ctx, const char *a, const char *b)
{
	const char *v = get(ctx, a);
	return v ? v : get(ctx, b);
}

static void my_compose_login(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret)
{
	/* The official images (MYSQL_* or MARIADB_*): the application user
	 * if one is made, else root. */
	ret->dbname = either(get, ctx, "MYSQL_DATABASE", "MARIADB_DATABASE");
	ret->user = either(get, ctx, "MYSQL_USER", "MARIADB_USER");
	ret->password = either(get, ctx, "MYSQL_PASSWORD", "MARIADB_PASSWORD");
	if (!ret->user) {
		ret->user = "root";
		ret->password = either(get, ctx, "MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD");
	}
}

const struct dumper_engine dumper_engine_mysql = {
	.kind = DUMPER_MYSQL,
	.name = "mysql",
	.aliases = (const char *const[]){"mysql", "mysql2", "mariadb", "trilogy", NULL},
	.ext = ".sql",
	.default_port = 3306,
	.images = (const char *const[]){"mysql", "mariadb", "percona", NULL},
	.how = "mariadb-dump/mysqldump --single-transaction --routines --triggers --events",
	.compose_login = my_compose_login,
};
