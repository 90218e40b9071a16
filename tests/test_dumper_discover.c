/* test_dumper_discover.c — finding server databases in project files:
 * URLs, locality, .env, database.yml, compose, .ckptfs.toml (table-driven). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpers/config_toml.h"
#include "dumpers/target.h"
#include "store/err.h"

/* Expected target, as "name kind host port user password db local" with
 * "-" for NULL/0. */
static void expect(const struct dumper_target *t, const char *want)
{
	char got[1024];
	snprintf(got, sizeof got, "%s %s %s %d %s %s %s %s%s%s%s%s", t->name ? t->name : "-",
		 dumper_kind_name(t->kind), t->host ? t->host : "-", t->port, t->user ? t->user : "-",
		 t->password ? t->password : "-", t->dbname ? t->dbname : "-", t->local ? "local" : "remote",
		 t->container ? " container=" : "", t->container ? t->container : "",
		 t->service ? " service=" : "", t->service ? t->service : "");
	assert_string_equal(got, want);
}

static void urls(void **state)
{
	(void)state;
	static const struct {
		const char *url, *want;
	} cases[] = {
		{"postgres://app:s3cr%40t@localhost:5433/myapp?sslmode=disable",
		 "postgres-myapp postgres localhost 5433 app s3cr@t myapp local"},
		{"postgresql:///myapp?host=/var/run/postgresql",
		 "postgres-myapp postgres /var/run/postgresql 0 - - myapp local"},
		{"mysql2://root@127.0.0.1/shop", "mysql-shop mysql 127.0.0.1 0 root - shop local"},
		{"mariadb://u:p@[::1]:3307/x", "mysql-x mysql ::1 3307 u p x local"},
		{"mysql://u@db.example.com/shop", "mysql-shop mysql db.example.com 0 u - shop remote"},
		{"mongodb://u:pw@localhost:27017/events", "mongo-events mongo localhost 27017 u pw events local"},
		{"postgres://10.0.0.5/prod", "postgres-prod postgres 10.0.0.5 0 - - prod remote"},
		{"postgres://127.9.9.9/a%2Fb", "postgres-a_b postgres 127.9.9.9 0 - - a/b local"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct dumper_target t = {0};
		assert_int_equal(dumper_url_parse(cases[i].url, &t), 0);
		assert_int_equal(dumper_target_name(&t), 0);
		t.local = dumper_host_is_local(t.host);
		expect(&t, cases[i].want);
		dumper_target_clear(&t);
	}
	static const char *const bad[] = {"sqlite3:///db.sqlite3", "redis://localhost", "localhost:5432",
					  "postgres://h:99999/x", ""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct dumper_target t = {0};
		assert_int_equal(dumper_url_parse(bad[i], &t), -EINVAL);
		dumper_target_clear(&t);
	}
	/* The mongo URI handed to mongodump carries no password. */
	struct dumper_target t = {0};
	assert_int_equal(dumper_url_parse("mongodb://u:pw@h1:1,h2:2/db?replicaSet=rs", &t), 0);
	assert_string_equal(t.uri, "mongodb://u@h1:1,h2:2/db?replicaSet=rs");
	assert_string_equal(t.password, "pw");
	dumper_target_clear(&t);
}

static void locality(void **state)
{
	(void)state;
	const char *local[] = {NULL, "", "localhost", "127.0.0.1", "127.1.2.3", "::1", "/tmp/sock",
			       "::ffff:127.0.0.1"};
	const char *remote[] = {"10.0.0.1", "db", "example.com", "::2", "128.0.0.1", "localhost.evil.com"};
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		assert_true(dumper_host_is_local(local[i]));
	for (size_t i = 0; i < sizeof remote / sizeof *remote; i++)
		assert_false(dumper_host_is_local(remote[i]));
}

static int collect(void *ctx, const char *k, const char *v)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 1024 - n, "%s=[%s]\n", k, v);
	return 0;
}

static void env_syntax(void **state)
{
	(void)state;
	char out[1024] = "";
	const char *text = "# comment\n"
			   "export A=1\n"
			   "B = 'lit $A # not comment'\n"
			   "C=\"q\\\"x\\ny $A\"\n"
			   "D=bare value # comment\n"
			   "E=${A}-$B\n"
			   "  not an assignment\n"
			   "9X=no\n"
			   "F=\n";
	assert_int_equal(dumper_env_parse(text, collect, out), 0);
	assert_string_equal(out, "A=[1]\n"
				 "B=[lit $A # not comment]\n"
				 "C=[q\"x\ny 1]\n"
				 "D=[bare value]\n"
				 "E=[1-lit $A # not comment]\n"
				 "F=[]\n");
}

static void env_targets(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t n;
		const char *want[3];
	} cases[] = {
		{"DATABASE_URL=postgres://app:pw@localhost/myapp\n", 1,
		 {"postgres-myapp postgres localhost 0 app pw myapp local"}},
		{"DB_USER=app\nDB_PW=pw\nDATABASE_URL=\"postgres://${DB_USER}:${DB_PW}@127.0.0.1:5432/x\"\n"
		 "CACHE_DATABASE_URL=mysql://root@localhost/cache\nREDIS_URL=redis://localhost\n",
		 2,
		 {"postgres-x postgres 127.0.0.1 5432 app pw x local", "mysql-cache mysql localhost 0 root - cache local"}},
		{"PGHOST=/tmp/pg\nPGDATABASE=dev\nPGUSER=me\nPGPASSWORD=pw\n", 1,
		 {"postgres-dev postgres /tmp/pg 0 me pw dev local"}},
		{"DB_CONNECTION=pgsql\nDB_HOST=db.internal\nDB_DATABASE=lara\nDB_USERNAME=u\n", 1,
		 {"postgres-lara postgres db.internal 0 u - lara remote"}},
		{"MONGODB_URI=mongodb://localhost/ev\nDATABASE_URL=sqlite3:db/dev.sqlite3\n", 1,
		 {"mongo-ev mongo localhost 0 - - ev local"}},
		/* The same database twice is one target. */
		{"DATABASE_URL=postgres://localhost/a\nPOSTGRES_URL=postgres://127.0.0.1/a\n", 1,
		 {"postgres-a postgres localhost 0 - - a local"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct dumper_targets ts = {0};
		assert_int_equal(dumper_env_targets(cases[i].text, ".env", &ts), 0);
		assert_int_equal(ts.n, cases[i].n);
		for (size_t j = 0; j < ts.n; j++)
			expect(&ts.v[j], cases[i].want[j]);
		dumper_targets_clear(&ts);
	}
}

static void rails(void **state)
{
	(void)state;
	const char *yml = "default: &default\n"
			  "  adapter: postgresql\n"
			  "  encoding: unicode\n"
			  "  host: localhost\n"
			  "  username: rails   # comment\n"
			  "  password: <%= ENV['DB_PASSWORD'] %>\n"
			  "\n"
			  "development:\n"
			  "  <<: *default\n"
			  "  database: \"blog_development\"\n"
			  "test:\n"
			  "  <<: *default\n"
			  "  database: blog_test\n"
			  "production:\n"
			  "  url: postgres://prod.example.com/blog\n";
	struct dumper_targets ts = {0};
	assert_int_equal(dumper_rails_targets(yml, &ts), 0);
	assert_int_equal(ts.n, 1);
	expect(&ts.v[0], "postgres-blog_development postgres localhost 0 rails - blog_development local");
	dumper_targets_clear(&ts);

	const char *multi = "development:\n"
			    "  primary:\n"
			    "    adapter: mysql2\n"
			    "    database: app_dev\n"
			    "    socket: /tmp/mysql.sock\n"
			    "  queue:\n"
			    "    adapter: sqlite3\n"
			    "    database: storage/queue.sqlite3\n";
	assert_int_equal(dumper_rails_targets(multi, &ts), 0);
	assert_int_equal(ts.n, 1);
	expect(&ts.v[0], "mysql-app_dev mysql /tmp/mysql.sock 0 - - app_dev local");
	dumper_targets_clear(&ts);
}

static void compose(void **state)
{
	(void)state;
	const char *yml = "services:\n"
			  "  web:\n"
			  "    image: node:20\n"
			  "  db:\n"
			  "    image: postgres:16-alpine\n"
			  "    environment:\n"
			  "      POSTGRES_USER: app\n"
			  "      POSTGRES_PASSWORD: \"pw\"\n"
			  "  shop:\n"
			  "    image: docker.io/library/mariadb:11\n"
			  "    container_name: shopdb\n"
			  "    environment:\n"
			  "    - MARIADB_DATABASE=shop\n"
			  "    - MARIADB_ROOT_PASSWORD=${ROOT_PW}\n"
			  "  events:\n"
			  "    image: mongo\n"
			  "volumes:\n"
			  "  data:\n";
	struct dumper_targets ts = {0};
	assert_int_equal(dumper_compose_targets(yml, "compose.yaml", &ts), 0);
	assert_int_equal(ts.n, 3);
	expect(&ts.v[0], "postgres-app postgres - 0 app pw app local service=db");
	assert_string_equal(ts.v[0].compose, "compose.yaml");
	expect(&ts.v[1], "mysql-shop mysql - 0 root - shop local container=shopdb");
	expect(&ts.v[2], "mongo-events mongo - 0 - - - local service=events");
	dumper_targets_clear(&ts);
}

static void config(void **state)
{
	(void)state;
	struct dumper_targets ts = {0};
	assert_int_equal(dumper_env_targets("DATABASE_URL=postgres://localhost/a\n"
					    "CACHE_DATABASE_URL=mysql://localhost/c\n"
					    "REPORTS_DATABASE_URL=postgres://reports.example.com/r\n",
					    ".env", &ts),
			 0);
	assert_int_equal(ts.n, 3);
	assert_false(ts.v[2].local);
	setenv("CKPTFS_TEST_PW", "envpw", 1);
	const char *toml = "# project config\n"
			   "[snap]\n"
			   "whatever = 1\n"
			   "[databases.main]\n"
			   "from = \"postgres-a\"   # rename\n"
			   "[databases.mysql-c]\n"
			   "disabled = true\n"
			   "[databases.\"postgres-r\"]\n"
			   "password_env = 'CKPTFS_TEST_PW'\n"
			   "[databases.extra]\n"
			   "kind = \"postgresql\"\n"
			   "host = \"/run/pg\"\n"
			   "port = 5444\n"
			   "database = \"x\"\n"
			   "[databases.gone]\n"
			   "disabled = true\n";
	assert_int_equal(dumper_config_apply(toml, ".ckptfs.toml", &ts), 0);
	assert_int_equal(ts.n, 4);
	expect(&ts.v[0], "main postgres localhost 0 - - a local");
	assert_true(ts.v[0].explicit_);
	assert_true(ts.v[1].disabled);
	expect(&ts.v[2], "postgres-r postgres reports.example.com 0 - envpw r remote");
	assert_true(ts.v[2].explicit_);
	expect(&ts.v[3], "extra postgres /run/pg 5444 - - x local");
	dumper_targets_clear(&ts);

	assert_int_equal(dumper_config_apply("[databases]\nauto = false\n", "c", &ts), 0);
	assert_int_equal(ts.n, 0);

	/* A table with no keys lists a discovered database by its name (a
	 * remote one is then dumped); arrays in other tables are theirs. */
	assert_int_equal(dumper_env_targets("REPORTS_DATABASE_URL=postgres://reports.example.com/r\n",
					    ".env", &ts), 0);
	assert_int_equal(dumper_config_apply("[retention]\nkeep = [\"a\", 'b']\n"
					     "[databases.postgres-r]\n# listed: dump it\n",
					     ".ckptfs.toml", &ts), 0);
	assert_int_equal(ts.n, 1);
	assert_true(ts.v[0].explicit_);
	assert_string_equal(ts.v[0].source, ".ckptfs.toml: [databases.postgres-r]");
	dumper_targets_clear(&ts);

	static const char *const bad[] = {
		"[databases.x]\nurl = \"postgres://h/x\n",   /* unterminated */
		"[databases.x]\nport = \"5432\"\nkind='pg'\n", /* wrong type */
		"[databases.x]\nnonsense = 1\n",              /* unknown key */
		"[databases.x y]\n",                          /* bad name */
		"[databases.x]\nhost = \"h\"\n",              /* no kind */
		"[databases.x]\nkind = 'pg' trailing\n",
		"[databases.x]\nkind = ['pg']\n",           /* an array where one value goes */
		"[databases.nokind]\n",                      /* listed, not found, no kind */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		store_error_clear();
		assert_int_equal(dumper_config_apply(bad[i], ".ckptfs.toml", &ts), -EINVAL);
		assert_non_null(strstr(store_error(), ".ckptfs.toml"));
		dumper_targets_clear(&ts);
	}
}

static void discover_root(void **state)
{
	(void)state;
	char dir[] = "/tmp/ckptfs-tdd-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof p, "%s/.env", dir);
	FILE *f = fopen(p, "w");
	fputs("DATABASE_URL=postgres://localhost/one\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/.env.local", dir);
	f = fopen(p, "w");
	fputs("MYSQL_URL=mysql://localhost/two\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/config", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/config/database.yml", dir);
	f = fopen(p, "w");
	fputs("development:\n  adapter: postgresql\n  database: one\n", f);
	fclose(f);
	struct dumper_targets ts = {0};
	assert_int_equal(dumper_discover(dir, &ts), 0);
	assert_int_equal(ts.n, 2);
	assert_string_equal(ts.v[0].name, "postgres-one");
	assert_string_equal(ts.v[1].name, "mysql-two");
	dumper_targets_clear(&ts);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls),        cmocka_unit_test(locality), cmocka_unit_test(env_syntax),
		cmocka_unit_test(env_targets), cmocka_unit_test(rails),    cmocka_unit_test(compose),
		cmocka_unit_test(config),      cmocka_unit_test(discover_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
