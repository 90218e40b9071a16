/* test_dumper_server.c — dump commands (no secret on any command line) and
 * the streaming/verification of their output, with stand-in tools (sh -c)
 * where no live server can run (MongoDB, Docker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpers/server.h"
#include "store/err.h"

static char tmpdir[] = "/tmp/ckptfs-tdv-XXXXXX";

static bool argv_has(char **argv, const char *needle)
{
	for (size_t i = 0; argv[i]; i++)
		if (strstr(argv[i], needle))
			return true;
	return false;
}

static bool env_has(char **envp, const char *kv)
{
	for (size_t i = 0; envp[i]; i++)
		if (!strcmp(envp[i], kv))
			return true;
	return false;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void no_secret_in_argv(void **state)
{
	(void)state;
	struct dumper_target t = {.name = "x", .host = "127.0.0.1", .port = 5433, .user = "app",
				  .password = "Pa$$\"w0rd", .dbname = "myapp"};
	struct dumper_cmd c;

	t.kind = DUMPER_POSTGRES;
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_string_equal(c.argv[0], "pg_dump");
	assert_true(argv_has(c.argv, "--format=custom"));
	assert_true(argv_has(c.argv, "--host=127.0.0.1"));
	assert_true(argv_has(c.argv, "--port=5433"));
	assert_true(argv_has(c.argv, "--username=app"));
	assert_true(argv_has(c.argv, "--dbname=dbname='myapp'"));
	assert_false(argv_has(c.argv, "w0rd"));
	assert_true(env_has(c.envp, "PGPASSWORD=Pa$$\"w0rd"));
	assert_true(argv_has(c.argv, "--lock-wait-timeout=60s"));
	if (!getenv("PGCONNECT_TIMEOUT"))
		assert_true(env_has(c.envp, "PGCONNECT_TIMEOUT=15"));
	assert_null(c.secret_file);
	dumper_cmd_clear(&c);

	t.kind = DUMPER_MYSQL;
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_true(!strcmp(c.argv[0], "mysqldump") || !strcmp(c.argv[0], "mariadb-dump"));
	assert_true(!strncmp(c.argv[1], "--defaults-extra-file=", 22));
	assert_true(argv_has(c.argv, "--single-transaction"));
	assert_true(argv_has(c.argv, "--routines"));
	assert_true(argv_has(c.argv, "--events"));
	assert_false(argv_has(c.argv, "w0rd"));
	assert_false(env_has(c.envp, "MYSQL_PWD=Pa$$\"w0rd"));
	struct stat st;
	assert_int_equal(stat(c.secret_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_string_equal(slurp(c.secret_file),
			    "[client]\nuser=\"app\"\npassword=\"Pa$$\\\"w0rd\"\nhost=\"127.0.0.1\"\nport=5433\n");
	char *sf = strdup(c.secret_file);
	dumper_cmd_clear(&c);
	assert_int_equal(access(sf, F_OK), -1); /* removed */
	free(sf);

	t.kind = DUMPER_MONGO;
	t.uri = "mongodb://app@127.0.0.1:5433/myapp";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_string_equal(c.argv[0], "mongodump");
	assert_true(argv_has(c.argv, "--archive"));
	assert_true(argv_has(c.argv, "--uri=mongodb://app@127.0.0.1:5433/myapp"));
	assert_true(argv_has(c.argv, "--config="));
	assert_false(argv_has(c.argv, "w0rd"));
	assert_string_equal(slurp(c.secret_file), "password: \"Pa$$\\\"w0rd\"\n");
	dumper_cmd_clear(&c);
	t.uri = NULL;

	/* Containers: the tool runs inside and reads the container's env. */
	t.kind = DUMPER_POSTGRES;
	t.service = "db";
	t.compose = "compose.yaml";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	const char *want[] = {"docker", "compose", "--file=compose.yaml", "exec", "-T", "db", "sh", "-c"};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		assert_string_equal(c.argv[i], want[i]);
	assert_non_null(strstr(c.argv[8], "pg_dump --format=custom"));
	assert_false(argv_has(c.argv, "w0rd"));
	dumper_cmd_clear(&c);
	t.kind = DUMPER_MYSQL;
	t.service = NULL;
	t.container = "shopdb";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_string_equal(c.argv[1], "exec");
	assert_string_equal(c.argv[2], "shopdb");
	assert_non_null(strstr(c.argv[5], "MYSQL_PWD="));
	assert_false(argv_has(c.argv, "w0rd"));
	dumper_cmd_clear(&c);
	t.kind = DUMPER_MONGO;
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_non_null(strstr(c.argv[5], "mongodump --archive"));
	assert_non_null(strstr(c.argv[5], "--config"));
	assert_false(argv_has(c.argv, "w0rd"));
	dumper_cmd_clear(&c);
}

/* Values from a hostile project file never reach a tool: every field of
 * every engine, in and out of containers (issue 8, item 3). */
static void hostile_values_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"a\nb", "a\rb", "x\t", "\x1b[0m", "a\x7f"};
	static const char *const opt[] = {"-x", "--result-file=/tmp/v"};
	enum dumper_kind kinds[] = {DUMPER_POSTGRES, DUMPER_MYSQL, DUMPER_MONGO};
	for (size_t k = 0; k < 3; k++) {
		for (int field = 0; field < 8; field++) {
			for (size_t b = 0; b < 7; b++) {
				const char *v = b < 5 ? bad[b] : opt[b - 5];
				if (field == 2 && b >= 5)
					continue; /* a password may start with '-' */
				if (field == 4 && b >= 5)
					continue; /* so may the whole mongo uri (it is --uri=) */
				struct dumper_target t = {.name = "x", .kind = kinds[k], .host = "127.0.0.1",
							  .user = "app", .password = "pw", .dbname = "db",
							  .source = ".env: DATABASE_URL"};
				const char **f[] = {(const char **)&t.host,   (const char **)&t.user,
						    (const char **)&t.password, (const char **)&t.dbname,
						    (const char **)&t.uri,    (const char **)&t.container,
						    (const char **)&t.service, (const char **)&t.compose};
				*f[field] = v;
				if (field == 7)
					t.service = "db";
				struct dumper_cmd c = {0};
				store_error_clear();
				assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), -EINVAL);
				assert_int_equal(dumper_restore_cmd(&t, tmpdir, NULL, &c), -EINVAL);
				assert_non_null(strstr(store_error(), ".env: DATABASE_URL: "));
				assert_non_null(strstr(store_error(), "refused"));
				assert_null(c.argv);
			}
		}
	}
	/* Several hosts (one judged local, the next tried after it). */
	struct dumper_target t = {.name = "x", .kind = DUMPER_POSTGRES, .host = "/tmp,evil.example",
				  .dbname = "db"};
	struct dumper_cmd c = {0};
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), -EINVAL);
	assert_false(dumper_host_is_local("/tmp,evil.example"));
	/* A Postgres database name that is a connection string (another
	 * host) is refused. */
	t.host = NULL;
	t.dbname = "host=evil.example dbname=x";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), -EINVAL);
	t.dbname = "postgres://evil.example/x";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), -EINVAL);
	t.dbname = "it's\\";
	assert_int_equal(dumper_dump_cmd(&t, tmpdir, &c), 0);
	assert_true(argv_has(c.argv, "--dbname=dbname='it\\'s\\\\'"));
	dumper_cmd_clear(&c);
}

static void restore_hints(void **state)
{
	(void)state;
	struct dumper_target t = {.kind = DUMPER_POSTGRES, .host = "/tmp/pg", .port = 5444, .user = "me",
				  .dbname = "app"};
	char *h = dumper_restore_hint(&t, "postgres-app.dump");
	assert_string_equal(h, "pg_restore --clean --if-exists --no-owner -h /tmp/pg -p 5444 -U me -d app < postgres-app.dump");
	free(h);
	t.kind = DUMPER_MYSQL;
	h = dumper_restore_hint(&t, "mysql-app.sql");
	assert_string_equal(h, "mysql --socket=/tmp/pg -P 5444 -u me -p app < mysql-app.sql");
	free(h);
	t.kind = DUMPER_MONGO;
	t.container = "ev";
	h = dumper_restore_hint(&t, "mongo-app.archive");
	assert_string_equal(h, "docker exec -i ev mongorestore --archive --drop < mongo-app.archive");
	free(h);
}

struct sink {
	char buf[1 << 16];
	size_t n;
};

static int consume(void *cctx, dumper_read_fn rd, void *rctx)
{
	struct sink *s = cctx;
	for (;;) {
		size_t n;
		int r = rd(rctx, s->buf + s->n, sizeof s->buf - s->n, &n);
		if (r < 0)
			return r;
		if (!n)
			return 0;
		s->n += n;
	}
}

/* Run a stand-in tool (sh -c SCRIPT) as a dump of the given kind. */
static void run_fake(enum dumper_kind k, const char *script, struct sink *s,
		     struct dumper_dump_result *res)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct dumper_cmd c = {.argv = argv, .envp = envp, .tool = "faketool"};
	struct dumper_target t = {.kind = k, .name = "fake"};
	memset(s, 0, sizeof *s);
	assert_int_equal(dumper_dump_run(&t, &c, consume, s, res), 0);
}

static void streaming_and_checks(void **state)
{
	(void)state;
	struct sink s;
	struct dumper_dump_result res;

	run_fake(DUMPER_MYSQL, "echo 'CREATE TABLE t(x int);'; echo '-- Dump completed on 2026-01-01'", &s, &res);
	assert_true(res.ok);
	assert_int_equal(s.n, res.bytes);
	assert_non_null(strstr(s.buf, "CREATE TABLE"));
	dumper_dump_result_clear(&res);

	run_fake(DUMPER_MYSQL, "echo 'CREATE TABLE t(x int);'", &s, &res);
	assert_false(res.ok);
	assert_non_null(strstr(res.error, "incomplete"));
	dumper_dump_result_clear(&res);

	/* A refusal: the tool's own message, one line. */
	run_fake(DUMPER_MYSQL, "echo 'faketool: Got error: 1045: Access denied for user' >&2; exit 2", &s, &res);
	assert_false(res.ok);
	assert_string_equal(res.error, "faketool: Got error: 1045: Access denied for user");
	dumper_dump_result_clear(&res);

	run_fake(DUMPER_MONGO, "printf '\\155\\342\\231\\201header-and-data\\377\\377\\377\\377'", &s, &res);
	assert_true(res.ok);
	dumper_dump_result_clear(&res);
	run_fake(DUMPER_MONGO, "printf '\\155\\342\\231\\201truncated'", &s, &res);
	assert_false(res.ok);
	dumper_dump_result_clear(&res);

	/* Lots of stderr while producing lots of stdout: no deadlock. */
	run_fake(DUMPER_MYSQL,
		 "i=0; while [ $i -lt 2000 ]; do echo line $i; echo noise $i >&2; i=$((i+1)); done;"
		 " echo '-- Dump completed'",
		 &s, &res);
	assert_true(res.ok);
	dumper_dump_result_clear(&res);

	/* A tool that is not installed. */
	char *argv[] = {"ckptfs-no-such-tool", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct dumper_cmd c = {.argv = argv, .envp = envp, .tool = "ckptfs-no-such-tool"};
	struct dumper_target t = {.kind = DUMPER_POSTGRES, .name = "fake"};
	assert_int_equal(dumper_dump_run(&t, &c, consume, &s, &res), 0);
	assert_false(res.ok);
	assert_non_null(strstr(res.error, "not found"));
	dumper_dump_result_clear(&res);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_secret_in_argv),
		cmocka_unit_test(hostile_values_refused),
		cmocka_unit_test(restore_hints),
		cmocka_unit_test(streaming_and_checks),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
