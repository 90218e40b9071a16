/* test_dumper_sqlmigr.c — the migration version read from a mysqldump
 * stream (dumpers/sqlmigr.h): each tool's table as mariadb-dump writes it
 * (a tuple a line, and the older one-line layout), fed whole, byte by
 * byte and cut at every offset; strings with quotes, backslashes, ';' and
 * ')'; numbers ordered as numbers; look-alike tables not taken for the
 * tool's; a dump without a migration table, or one too large to keep,
 * says "not found" so the version is asked elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/sqlmigr.h"

#define HEAD "-- MariaDB dump 10.19-11.4.2-MariaDB, for debian-linux-gnu (x86_64)\n" \
	     "/*!40101 SET NAMES utf8mb4 */;\n" \
	     "DROP TABLE IF EXISTS `item`;\n" \
	     "CREATE TABLE `item` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n" \
	     "INSERT INTO `item` VALUES\n(1),\n(2);\n"
#define TAIL "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed on 2026-12-03 18:00:00\n"

static void read_all(const char *text, size_t piece, struct dumper_schema *ret, bool *found)
{
	struct dumper_sqlmigr c;
	assert_int_equal(dumper_sqlmigr_init(&c), 0);
	size_t n = strlen(text);
	for (size_t i = 0; i < n; i += piece)
		dumper_sqlmigr_feed(&c, text + i, piece < n - i ? piece : n - i);
	assert_int_equal(dumper_sqlmigr_schema(&c, ret, found), 0);
	dumper_sqlmigr_clear(&c);
}

/* Whole, byte by byte, and cut in two at every offset: the same answer. */
static void expect(const char *text, const char *tool, const char *version, bool want_found)
{
	size_t n = strlen(text);
	for (size_t cut = 0; cut <= n + 1; cut++) {
		struct dumper_schema s;
		bool found;
		if (cut == n + 1) {
			read_all(text, 1, &s, &found);
		} else {
			struct dumper_sqlmigr c;
			assert_int_equal(dumper_sqlmigr_init(&c), 0);
			dumper_sqlmigr_feed(&c, text, cut);
			dumper_sqlmigr_feed(&c, text + cut, n - cut);
			assert_int_equal(dumper_sqlmigr_schema(&c, &s, &found), 0);
			dumper_sqlmigr_clear(&c);
		}
		assert_int_equal(found, want_found);
		if (tool) {
			assert_non_null(s.tool);
			assert_string_equal(s.tool, tool);
		} else {
			assert_null(s.tool);
		}
		if (version) {
			assert_non_null(s.version);
			assert_string_equal(s.version, version);
		} else {
			assert_null(s.version);
		}
		dumper_schema_clear(&s);
	}
}

static void test_alembic(void **state)
{
	(void)state;
	expect(HEAD "DROP TABLE IF EXISTS `alembic_version`;\n"
		    "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
		    "CREATE TABLE `alembic_version` (\n"
		    "  `version_num` varchar(32) NOT NULL,\n"
		    "  PRIMARY KEY (`version_num`)\n"
		    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
		    "LOCK TABLES `alembic_version` WRITE;\n"
		    "/*!40000 ALTER TABLE `alembic_version` DISABLE KEYS */;\n"
		    "INSERT INTO `alembic_version` VALUES\n"
		    "('3f2a1b9c0d1e');\n"
		    "/*!40000 ALTER TABLE `alembic_version` ENABLE KEYS */;\n"
		    "UNLOCK TABLES;\n" TAIL,
	       "alembic", "3f2a1b9c0d1e", true);
}

static void test_rails_old_layout(void **state)
{
	(void)state;
	/* mysqldump's one line per INSERT; numbers-as-text ordered by
	 * length then value, as on the server. */
	expect(HEAD "CREATE TABLE `schema_migrations` (\n"
		    "  `version` varchar(255) NOT NULL,\n"
		    "  PRIMARY KEY (`version`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `schema_migrations` VALUES ('20240101000000'),('9'),('20231231235959');\n"
		    "INSERT INTO `schema_migrations` VALUES ('20240202000000');\n" TAIL,
	       "rails", "20240202000000", true);
}

static void test_django(void **state)
{
	(void)state;
	expect(HEAD "CREATE TABLE `django_migrations` (\n"
		    "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
		    "  `app` varchar(255) NOT NULL,\n"
		    "  `name` varchar(255) NOT NULL,\n"
		    "  `applied` datetime(6) NOT NULL,\n"
		    "  PRIMARY KEY (`id`)\n"
		    ") ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4;\n"
		    "INSERT INTO `django_migrations` VALUES\n"
		    "(1,'contenttypes','0001_initial','2026-01-01 00:00:00.000000'),\n"
		    "(2,'auth','0001_initial','2026-01-01 00:00:01.000000'),\n"
		    "(3,'auth','0002_alter; it''s (tricky)','2026-01-02 00:00:00.000000'),\n"
		    "(4,'shop','0001_a\\\\b\\'c','2026-01-03 00:00:00.000000');\n" TAIL,
	       "django", "auth 0002_alter; it's (tricky), contenttypes 0001_initial, shop 0001_a\\b'c", true);
}

static void test_numbers_order(void **state)
{
	(void)state;
	/* knex: the last by id, where id 10 comes after 9. */
	expect(HEAD "CREATE TABLE `knex_migrations` (\n"
		    "  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,\n"
		    "  `name` varchar(255) DEFAULT NULL,\n"
		    "  `batch` int(11) DEFAULT NULL,\n"
		    "  `migration_time` timestamp NULL DEFAULT NULL,\n"
		    "  PRIMARY KEY (`id`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `knex_migrations` VALUES\n"
		    "(9,'20240109_nine.js',1,'2026-01-09 00:00:00'),\n"
		    "(10,'20240110_ten.js',2,NULL);\n" TAIL,
	       "knex", "20240110_ten.js", true);
	/* goose: a version whose latest row is a rollback is not applied. */
	expect(HEAD "CREATE TABLE `goose_db_version` (\n"
		    "  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n"
		    "  `version_id` bigint(20) NOT NULL,\n"
		    "  `is_applied` tinyint(1) NOT NULL,\n"
		    "  `tstamp` timestamp NULL DEFAULT current_timestamp(),\n"
		    "  PRIMARY KEY (`id`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `goose_db_version` VALUES\n"
		    "(1,0,1,'2026-01-01 00:00:00'),\n"
		    "(2,20240101,1,'2026-01-01 00:00:00'),\n"
		    "(3,20240202,1,'2026-01-02 00:00:00'),\n"
		    "(4,20240202,0,'2026-01-03 00:00:00');\n" TAIL,
	       "goose", "20240101", true);
	/* flyway: the last success. */
	expect(HEAD "CREATE TABLE `flyway_schema_history` (\n"
		    "  `installed_rank` int(11) NOT NULL,\n"
		    "  `version` varchar(50) DEFAULT NULL,\n"
		    "  `description` varchar(200) NOT NULL,\n"
		    "  `success` tinyint(1) NOT NULL,\n"
		    "  PRIMARY KEY (`installed_rank`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `flyway_schema_history` VALUES\n"
		    "(1,'1','init',1),\n"
		    "(2,'2','add',1),\n"
		    "(3,'3','broken',0);\n" TAIL,
	       "flyway", "2", true);
}

static void test_prisma_laravel(void **state)
{
	(void)state;
	expect(HEAD "CREATE TABLE `_prisma_migrations` (\n"
		    "  `id` varchar(36) NOT NULL,\n"
		    "  `checksum` varchar(64) NOT NULL,\n"
		    "  `finished_at` datetime(3) DEFAULT NULL,\n"
		    "  `migration_name` varchar(255) NOT NULL,\n"
		    "  `logs` text DEFAULT NULL,\n"
		    "  `rolled_back_at` datetime(3) DEFAULT NULL,\n"
		    "  `started_at` datetime(3) NOT NULL DEFAULT current_timestamp(3),\n"
		    "  `applied_steps_count` int(10) unsigned NOT NULL DEFAULT 0,\n"
		    "  PRIMARY KEY (`id`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `_prisma_migrations` VALUES\n"
		    "('a','x','2026-01-01 00:00:00.000','20240101_init',NULL,NULL,'2026-01-01 00:00:00.000',1),\n"
		    "('b','y',NULL,'20240301_failed','error:\\nline2',NULL,'2026-03-01 00:00:00.000',0),\n"
		    "('c','z','2026-02-01 00:00:00.000','20240201_more',NULL,NULL,'2026-02-01 00:00:00.000',1);\n" TAIL,
	       "prisma", "20240201_more", true);
	expect(HEAD "CREATE TABLE `migrations` (\n"
		    "  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,\n"
		    "  `migration` varchar(255) NOT NULL,\n"
		    "  `batch` int(11) NOT NULL,\n"
		    "  PRIMARY KEY (`id`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `migrations` VALUES\n"
		    "(1,'2014_10_12_000000_create_users_table',1),\n"
		    "(2,'2019_08_19_000000_create_failed_jobs_table',1);\n" TAIL,
	       "laravel", "2019_08_19_000000_create_failed_jobs_table", true);
}

static void test_not_the_tools(void **state)
{
	(void)state;
	/* golang-migrate's schema_migrations (with "dirty") is not Rails's:
	 * the table was read, no tool. */
	expect(HEAD "CREATE TABLE `schema_migrations` (\n"
		    "  `version` bigint(20) NOT NULL,\n"
		    "  `dirty` tinyint(1) NOT NULL,\n"
		    "  PRIMARY KEY (`version`)\n"
		    ") ENGINE=InnoDB;\n"
		    "INSERT INTO `schema_migrations` VALUES\n(7,0);\n" TAIL,
	       NULL, NULL, true);
	/* No migration table at all: not found (asked elsewhere). */
	expect(HEAD TAIL, NULL, NULL, false);
	/* A name that only starts like one is not read. */
	expect(HEAD "CREATE TABLE `alembic_version_old` (\n  `version_num` varchar(32)\n) ENGINE=InnoDB;\n"
		    "INSERT INTO `alembic_version_old` VALUES ('zz');\n" TAIL,
	       NULL, NULL, false);
	/* The table there, nothing run yet. */
	expect(HEAD "CREATE TABLE `alembic_version` (\n  `version_num` varchar(32) NOT NULL\n) ENGINE=InnoDB;\n" TAIL,
	       "alembic", NULL, true);
	/* A view's stand-in (/\*!50001 CREATE TABLE …) is not a table. */
	expect(HEAD "/*!50001 CREATE TABLE `alembic_version` (\n  `version_num` tinyint NOT NULL\n) ENGINE=MyISAM */;\n" TAIL,
	       NULL, NULL, false);
	/* Text it does not understand (a value of no known form): not found. */
	expect(HEAD "CREATE TABLE `alembic_version` (\n  `version_num` varchar(32) NOT NULL\n) ENGINE=InnoDB;\n"
		    "INSERT INTO `alembic_version` VALUES (0xABCD);\n" TAIL,
	       NULL, NULL, false);
	/* More values than columns: not understood either. */
	expect(HEAD "CREATE TABLE `alembic_version` (\n  `version_num` varchar(32) NOT NULL\n) ENGINE=InnoDB;\n"
		    "INSERT INTO `alembic_version` VALUES ('a','b');\n" TAIL,
	       NULL, NULL, false);
}

static void test_too_large(void **state)
{
	(void)state;
	/* More than SQLMIGR_MAX bytes of the tables' rows: not read. */
	struct dumper_sqlmigr c;
	assert_int_equal(dumper_sqlmigr_init(&c), 0);
	const char *head = "CREATE TABLE `schema_migrations` (\n  `version` varchar(255) NOT NULL\n) ENGINE=InnoDB;\n"
			   "INSERT INTO `schema_migrations` VALUES ";
	dumper_sqlmigr_feed(&c, head, strlen(head));
	const char *row = "('20240101000000'),";
	for (size_t kept = 0; kept <= SQLMIGR_MAX; kept += strlen(row))
		dumper_sqlmigr_feed(&c, row, strlen(row));
	dumper_sqlmigr_feed(&c, "('1');\n", 7);
	struct dumper_schema s;
	bool found = true;
	assert_int_equal(dumper_sqlmigr_schema(&c, &s, &found), 0);
	assert_false(found);
	assert_null(s.tool);
	dumper_sqlmigr_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alembic),
		cmocka_unit_test(test_rails_old_layout),
		cmocka_unit_test(test_django),
		cmocka_unit_test(test_numbers_order),
		cmocka_unit_test(test_prisma_laravel),
		cmocka_unit_test(test_not_the_tools),
		cmocka_unit_test(test_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
