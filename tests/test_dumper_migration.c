/* test_dumper_migration.c — the migration version of a database: which
 * tool's table is there (pick), the version text (format), and each
 * tool's layout in a real SQLite database, with the tables of the same
 * name that are not the tool's (golang-migrate's schema_migrations, a
 * "migrations" table of the application's own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/migration.h"

static void test_pick(void **state)
{
	(void)state;
	static const struct {
		const char *columns, *tool;
	} cases[] = {
		{"alembic_version\tversion_num\n", "alembic"},
		{"schema_migrations\tversion\n", "rails"},
		/* golang-migrate: same table name, a dirty flag */
		{"schema_migrations\tversion\nschema_migrations\tdirty\n", NULL},
		{"django_migrations\tid\ndjango_migrations\tapp\ndjango_migrations\tname\n", "django"},
		{"_prisma_migrations\tmigration_name\n", "prisma"},
		{"knex_migrations\tname\nknex_migrations\tbatch\n", "knex"},
		{"flyway_schema_history\tinstalled_rank\n", "flyway"},
		{"goose_db_version\tversion_id\n", "goose"},
		{"migrations\tmigration\nmigrations\tbatch\n", "laravel"},
		{"migrations\tid\nmigrations\tname\n", NULL}, /* an app's own table */
		{"", NULL},
		{"alembic_versionx\tversion_num\n", NULL},
		/* both: the first in the table's order wins */
		{"migrations\tbatch\nalembic_version\tversion_num\n", "alembic"},
		{"schema_migrations\tversion\r\n", "rails"},
	};
	size_t n;
	const struct dumper_migration_probe *p = dumper_migration_probes(&n);
	assert_int_equal(n, 8);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int k = dumper_migration_pick(cases[i].columns);
		if (!cases[i].tool)
			assert_int_equal(k, -1);
		else
			assert_string_equal(p[k].tool, cases[i].tool);
	}
}

static void test_format(void **state)
{
	(void)state;
	char *v;
	assert_int_equal(dumper_migration_format("3f2a1b9c0d1e\n", &v), 0);
	assert_string_equal(v, "3f2a1b9c0d1e");
	free(v);
	assert_int_equal(dumper_migration_format("admin\t0003_logentry\nauth\t0012_alter\n", &v), 0);
	assert_string_equal(v, "admin 0003_logentry, auth 0012_alter");
	free(v);
	assert_int_equal(dumper_migration_format("", &v), 0);
	assert_null(v);
	assert_int_equal(dumper_migration_format("\n\n", &v), 0);
	assert_null(v);
	assert_int_equal(dumper_migration_format("a\x01" "b\n", &v), 0);
	assert_string_equal(v, "a?b");
	free(v);
	/* Long lists are cut, on a character boundary. */
	char big[1200] = "";
	for (int i = 0; i < 100; i++)
		strcat(big, "é12345\n");
	assert_int_equal(dumper_migration_format(big, &v), 0);
	assert_true(strlen(v) <= 200 + strlen("…"));
	assert_non_null(strstr(v, "…"));
	assert_int_equal(strcmp(v + strlen(v) - strlen("…"), "…"), 0);
	free(v);
}

static void schema_of(const char *sql, struct dumper_schema *ret)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	char *err = NULL;
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK);
	assert_int_equal(dumper_sqlite_schema(db, ret), 0);
	sqlite3_close(db);
}

/* Each tool's own table, as the tool creates it, in SQLite. */
static void test_sqlite_layouts(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *tool, *version;
	} cases[] = {
		{"CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
		 "INSERT INTO alembic_version VALUES ('3f2a1b9c0d1e');",
		 "alembic", "3f2a1b9c0d1e"},
		{"CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);"
		 "CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar);"
		 "INSERT INTO schema_migrations VALUES ('20240101000000'), ('20260301120000'), ('9');",
		 "rails", "20260301120000"},
		{"CREATE TABLE django_migrations (id integer PRIMARY KEY AUTOINCREMENT, app varchar(255),"
		 " name varchar(255), applied datetime);"
		 "INSERT INTO django_migrations(app, name, applied) VALUES"
		 " ('contenttypes', '0001_initial', 0), ('auth', '0001_initial', 0),"
		 " ('auth', '0012_alter_user_first_name_max_length', 0), ('contenttypes', '0002_remove', 0);",
		 "django", "auth 0012_alter_user_first_name_max_length, contenttypes 0002_remove"},
		{"CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY, checksum TEXT, finished_at DATETIME,"
		 " migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME, started_at DATETIME,"
		 " applied_steps_count INTEGER);"
		 "INSERT INTO _prisma_migrations(id, migration_name, finished_at, rolled_back_at) VALUES"
		 " ('a', '20250101000000_init', 1, NULL), ('b', '20250201000000_users', 2, NULL),"
		 " ('c', '20250301000000_bad', 3, 4), ('d', '20250401000000_failed', NULL, NULL);",
		 "prisma", "20250201000000_users"},
		{"CREATE TABLE knex_migrations (id integer PRIMARY KEY AUTOINCREMENT, name varchar(255),"
		 " batch integer, migration_time datetime);"
		 "INSERT INTO knex_migrations(name, batch) VALUES ('20240101_init.js', 1), ('20240202_add.js', 2);",
		 "knex", "20240202_add.js"},
		{"CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50),"
		 " description VARCHAR(200), script VARCHAR(1000), success BOOLEAN);"
		 "INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'V1__init.sql', 1),"
		 " (2, '1.1', 'more', 'V1_1__more.sql', 1), (3, '2', 'broken', 'V2__broken.sql', 0),"
		 " (4, NULL, 'repeatable', 'R__views.sql', 1);",
		 "flyway", "1.1"},
		{"CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER,"
		 " is_applied INTEGER, tstamp TIMESTAMP);"
		 "INSERT INTO goose_db_version(version_id, is_applied) VALUES (0, 1), (20240101, 1), (20240505, 1),"
		 " (20240505, 0);",
		 "goose", "20240101"},
		{"CREATE TABLE migrations (id integer PRIMARY KEY AUTOINCREMENT, migration varchar, batch integer);"
		 "INSERT INTO migrations(migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1),"
		 " ('2024_05_01_000000_add_orders', 2);",
		 "laravel", "2024_05_01_000000_add_orders"},
		/* the table is there, nothing run yet */
		{"CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);", "alembic", NULL},
		/* none */
		{"CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean);"
		 "INSERT INTO schema_migrations VALUES (3, 0);"
		 "CREATE TABLE migrations (id integer, name text);",
		 NULL, NULL},
		{"CREATE TABLE users (id integer);", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct dumper_schema s = {0};
		schema_of(cases[i].sql, &s);
		if (!cases[i].tool) {
			assert_null(s.tool);
		} else {
			assert_non_null(s.tool);
			assert_string_equal(s.tool, cases[i].tool);
		}
		if (cases[i].version)
			assert_string_equal(s.version, cases[i].version);
		else
			assert_null(s.version);
		char *text = NULL;
		assert_int_equal(dumper_schema_text(&s, &text), 0);
		if (cases[i].tool && cases[i].version) {
			char want[512];
			snprintf(want, sizeof want, "%s %s", cases[i].tool, cases[i].version);
			assert_string_equal(text, want);
		}
		free(text);
		dumper_schema_clear(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_sqlite_layouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
