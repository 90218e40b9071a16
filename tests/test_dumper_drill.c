/* test_dumper_drill.c — the pure parts of full drills: rows per table
 * counted in a mysqldump stream (both layouts mariadb-dump writes, strings
 * holding '(' ';' quotes and backslashes, fed in pieces cut at every
 * offset) and "name\tcount" rows parsed.  The drill itself runs against
 * real servers in tests/e2e/t_db_drill.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dumpers/drill.h"
#include "dumpers/sqlcount.h"
#include "dumpers/sqlsection.h"

static const char dump[] =
	"-- MariaDB dump 10.19\n"
	"/*!40101 SET NAMES utf8mb4 */;\n"
	"DROP TABLE IF EXISTS `item`;\n"
	"CREATE TABLE `item` (\n  `id` int(11) NOT NULL,\n  `note` text\n);\n"
	"-- INSERT INTO `item` VALUES (99) in a comment is not data\n"
	"LOCK TABLES `item` WRITE;\n"
	"INSERT INTO `item` VALUES\n"
	"(1,'a(b'),\n"
	"(2,'semi;colon'),\n"
	"(3,'it''s (here)'),\n"
	"(4,'back\\\\slash\\\\'),\n"
	"(5,'esc\\'aped (x'),\n"
	"(6,NULL);\n"
	"INSERT INTO `odd``name` VALUES (1,'x'),(2,'y');\n"
	"INSERT INTO `item` VALUES (7,'more'),(8,'(');\n"
	"INSERT INTO `cols` (`a`) VALUES (1);\n"
	"UNLOCK TABLES;\n"
	"-- Dump completed on 2026-12-03\n";

static void check_counts(const struct dumper_sqlcount *c)
{
	assert_int_equal(c->err, 0);
	assert_int_equal(c->ntables, 2);
	assert_string_equal(c->tables[0].name, "item");
	assert_int_equal(c->tables[0].rows, 8);
	assert_string_equal(c->tables[1].name, "odd`name");
	assert_int_equal(c->tables[1].rows, 2);
}

static void test_sqlcount_whole(void **state)
{
	(void)state;
	struct dumper_sqlcount c = {0};
	dumper_sqlcount_feed(&c, dump, strlen(dump));
	check_counts(&c);
	dumper_sqlcount_clear(&c);
}

/* The stream arrives in pieces of any size: cut in two at every offset,
 * and byte by byte. */
static void test_sqlcount_split(void **state)
{
	(void)state;
	size_t n = strlen(dump);
	for (size_t cut = 0; cut <= n; cut++) {
		struct dumper_sqlcount c = {0};
		dumper_sqlcount_feed(&c, dump, cut);
		dumper_sqlcount_feed(&c, dump + cut, n - cut);
		check_counts(&c);
		dumper_sqlcount_clear(&c);
	}
	struct dumper_sqlcount c = {0};
	for (size_t i = 0; i < n; i++)
		dumper_sqlcount_feed(&c, dump + i, 1);
	check_counts(&c);
	dumper_sqlcount_clear(&c);
}

static void test_counts_parse(void **state)
{
	(void)state;
	struct dumper_table_count *v;
	size_t n;
	assert_int_equal(dumper_counts_parse("public.acct\t5000\npublic.e\t0\nbad line\nx\tnan\n", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "public.acct");
	assert_int_equal(v[0].rows, 5000);
	assert_int_equal(v[1].rows, 0);
	assert_int_equal(v[2].rows, -1);
	dumper_table_counts_free(v, n);
	assert_int_equal(dumper_counts_parse("", &v, &n), 0);
	assert_int_equal(n, 0);
	dumper_table_counts_free(v, n);
}

static const char sections[] =
	"/*!40101 SET NAMES utf8mb4 */;\n"
	"/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
	"--\n-- Table structure for table `item`\n--\n\n"
	"DROP TABLE IF EXISTS `item`;\nCREATE TABLE `item` (`id` int);\n"
	"INSERT INTO `item` VALUES\n(1),\n(2);\n"
	"--\n-- Table structure for table `log`\n--\n\n"
	"DROP TABLE IF EXISTS `log`;\nINSERT INTO `log` VALUES (9);\n"
	"--\n-- Table structure for table `it``em`\n--\n"
	"DROP TABLE IF EXISTS `it``em`;\n"
	"--\n-- Temporary table structure for view `named`\n--\nCREATE VIEW x;\n"
	"--\n-- Dumping routines for database 'shop'\n--\nCREATE FUNCTION f;\n"
	"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
	"/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
	"-- Dump completed on 2026-12-03";

struct collect {
	char buf[4096];
	size_t n;
};

static int collect(void *ctx, const char *buf, size_t n)
{
	struct collect *c = ctx;
	assert_true(c->n + n < sizeof c->buf);
	memcpy(c->buf + c->n, buf, n);
	c->n += n;
	c->buf[c->n] = '\0';
	return 0;
}

static void check_sections(const char *out)
{
	assert_non_null(strstr(out, "SET NAMES utf8mb4"));
	assert_non_null(strstr(out, "FOREIGN_KEY_CHECKS=0"));
	assert_non_null(strstr(out, "DROP TABLE IF EXISTS `item`;\nCREATE TABLE `item` (`id` int);\n"
				    "INSERT INTO `item` VALUES\n(1),\n(2);\n"));
	assert_null(strstr(out, "`log`"));
	assert_null(strstr(out, "CREATE VIEW"));
	assert_null(strstr(out, "CREATE FUNCTION"));
	assert_non_null(strstr(out, "SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS"));
	assert_non_null(strstr(out, "-- Dump completed on 2026-12-03"));
}

/* Only the asked tables' sections, with header and footer; the same
 * however the stream is cut; a table with no section is told. */
static void test_sqlsection(void **state)
{
	(void)state;
	const char *want[] = {"item"};
	size_t n = strlen(sections);
	for (size_t cut = 0; cut <= n; cut++) {
		struct dumper_sqlsection s;
		struct collect c = {.n = 0};
		assert_int_equal(dumper_sqlsection_init(&s, want, 1), 0);
		assert_int_equal(dumper_sqlsection_feed(&s, sections, cut, collect, &c), 0);
		assert_int_equal(dumper_sqlsection_feed(&s, sections + cut, n - cut, collect, &c), 0);
		assert_int_equal(dumper_sqlsection_end(&s, collect, &c), 0);
		check_sections(c.buf);
		assert_null(dumper_sqlsection_missing(&s));
		dumper_sqlsection_clear(&s);
	}
	const char *odd[] = {"it`em", "nope"};
	struct dumper_sqlsection s;
	struct collect c = {.n = 0};
	assert_int_equal(dumper_sqlsection_init(&s, odd, 2), 0);
	assert_int_equal(dumper_sqlsection_feed(&s, sections, n, collect, &c), 0);
	assert_non_null(strstr(c.buf, "DROP TABLE IF EXISTS `it``em`;"));
	assert_null(strstr(c.buf, "CREATE TABLE `item`"));
	assert_string_equal(dumper_sqlsection_missing(&s), "nope");
	dumper_sqlsection_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlcount_whole),
		cmocka_unit_test(test_sqlcount_split),
		cmocka_unit_test(test_counts_parse),
		cmocka_unit_test(test_sqlsection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
