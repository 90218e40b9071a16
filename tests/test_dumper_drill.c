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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlcount_whole),
		cmocka_unit_test(test_sqlcount_split),
		cmocka_unit_test(test_counts_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
