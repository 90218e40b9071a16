/* engine_mysql.c — MySQL and MariaDB: mariadb-dump/mysqldump in one
 * transaction, checked by its "-- Dump completed" trailer; the mariadb
 * (mysql) client for SQL (engine.h).  Credentials go in a 0600 defaults
 * file, never in argv or the environment (MYSQL_PWD is cleared). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/drill.h"
#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/sqlcount.h"
#include "dumpers/sqlmigr.h"
#include "dumpers/sqlsection.h"
#include "store/err.h"

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

static const char *my_dump_tool(void)
{
	return dumper_in_path("mariadb-dump") ? "mariadb-dump" : "mysqldump";
}

static const char *my_client(void)
{
	return dumper_in_path("mariadb") ? "mariadb" : "mysql";
}

/* The [client] option file: user, password, host or socket, port. */
static int my_defaults(struct cmdb *b, const struct dumper_target *t, const char *tmpdir)
{
	char *text = NULL, *pw = t->password ? cmdb_dquote(t->password) : NULL;
	char *user = t->user ? cmdb_dquote(t->user) : NULL, *host = t->host ? cmdb_dquote(t->host) : NULL;
	int r = -ENOMEM;
	if ((t->password && !pw) || (t->user && !user) || (t->host && !host))
		goto out;
	bool sock = t->host && t->host[0] == '/';
	char port[32] = "";
	if (t->port)
		snprintf(port, sizeof port, "port=%d\n", t->port);
	if (asprintf(&text, "[client]\n%s%s\n%s%s\n%s%s\n%s", user ? "user=" : "#", user ? user : "",
		     pw ? "password=" : "#", pw ? pw : "", host ? (sock ? "socket=" : "host=") : "#",
		     host ? host : "", port) < 0) {
		text = NULL;
		goto out;
	}
	r = cmdb_secret(b, tmpdir, text);
out:
	if (text)
		memset(text, 0, strlen(text));
	if (pw)
		memset(pw, 0, strlen(pw));
	free(text);
	free(pw);
	free(user);
	free(host);
	return r;
}

/* tool with the defaults file as its first option (the clients require
 * it first); the caller adds the rest. */
static int my_tool(struct cmdb *b, const struct dumper_target *t, const char *tmpdir,
		   const char *tool)
{
	b->c.tool = tool;
	int r = my_defaults(b, t, tmpdir);
	if (r < 0)
		return r;
	cmdb_arg(b, tool);
	cmdb_argf(b, "--defaults-extra-file=%s", b->c.secret_file);
	cmdb_env_with(b, "MYSQL_PWD", NULL);
	return 0;
}

static int my_dump(const struct dumper_target *t, const char *tmpdir, const char *db, struct cmdb *b)
{
	int r = my_tool(b, t, tmpdir, my_dump_tool());
	if (r < 0)
		return r;
	cmdb_arg(b, "--single-transaction");
	cmdb_arg(b, "--routines");
	cmdb_arg(b, "--triggers");
	cmdb_arg(b, "--events");
	cmdb_arg(b, db ? db : "");
	return 0;
}

static int my_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
		      const char *into, struct cmdb *b)
{
	(void)into;
	int r = my_tool(b, t, tmpdir, my_client());
	if (r < 0)
		return r;
	cmdb_arg(b, db ? db : "");
	return 0;
}

/* In a container: root with the container's own root password. */
#define MY_DOCKER_PWD "export MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}\"; "

static void my_docker(struct cmdb *b, const struct dumper_target *t, bool input, const char *script)
{
	cmdb_env_with(b, NULL, NULL);
	cmdb_docker_sh(b, t, input);
	cmdb_arg(b, script);
	cmdb_arg(b, "sh");
}

static int my_docker_dump(const struct dumper_target *t, const char *tmpdir, const char *db,
			  struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "mysqldump";
	my_docker(b, t, false,
		  MY_DOCKER_PWD "exec \"$(command -v mariadb-dump || command -v mysqldump)\" -uroot"
				" --single-transaction --routines --triggers --events \"$1\"");
	cmdb_arg(b, db ? db : "");
	return 0;
}

static int my_docker_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
			     const char *into, struct cmdb *b)
{
	(void)tmpdir, (void)into;
	b->c.tool = "mysql";
	my_docker(b, t, true, MY_DOCKER_PWD "exec \"$(command -v mariadb || command -v mysql)\" -uroot \"$1\"");
	cmdb_arg(b, db ? db : "");
	return 0;
}

static bool my_judge(const struct dumper_dump_seen *d, int64_t *ret_entries, char **ret_why)
{
	(void)ret_entries;
	static const char mark[] = "-- Dump completed";
	for (size_t i = 0; i + sizeof mark - 1 <= d->tail_len; i++)
		if (!memcmp(d->tail + i, mark, sizeof mark - 1))
			return true;
	if (asprintf(ret_why, "%s: dump is incomplete (no \"-- Dump completed\" at its end)", d->tool) < 0)
		*ret_why = NULL;
	return false;
}

static char *my_hint(const struct dumper_target *t, const char *pre, const char *file)
{
	bool ctn = t->container || t->service;
	char conn[512] = "";
	size_t n = 0;
	if (t->host && !ctn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " %s%s",
				      t->host[0] == '/' ? "--socket=" : "-h ", t->host);
	if (t->port && !ctn && n < sizeof conn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " -P %d", t->port);
	if (t->user && n < sizeof conn)
		snprintf(conn + n, sizeof conn - n, " -u %s", t->user);
	char *s;
	if (asprintf(&s, "%smysql%s -p %s < %s", pre, conn, t->dbname ? t->dbname : "", file) < 0)
		return NULL;
	return s;
}

static int my_query(const struct dumper_target *t, const char *tmpdir, const char *sql,
		    struct cmdb *b)
{
	if (!sql)
		return store_fail(-EINVAL, "database %s: a session on stdin is for local Postgres", t->name);
	if (t->container || t->service) {
		b->c.tool = "mysql";
		my_docker(b, t, false,
			  MY_DOCKER_PWD "exec \"$(command -v mariadb || command -v mysql)\" -uroot -N -B "
					"-e \"$3\" \"$2\"");
		cmdb_arg(b, t->user ? t->user : "postgres"); /* $1, unused */
		cmdb_arg(b, t->dbname ? t->dbname : "");
		cmdb_arg(b, sql);
		return 0;
	}
	int r = my_tool(b, t, tmpdir, my_client());
	if (r < 0)
		return r;
	cmdb_arg(b, "-N");
	cmdb_arg(b, "-B");
	cmdb_argf(b, "--execute=%s", sql);
	cmdb_arg(b, t->dbname ? t->dbname : "");
	return 0;
}

static int my_create(const struct dumper_target *t, const char *tmpdir, const char *name,
		     struct cmdb *b)
{
	if (t->container || t->service) {
		b->c.tool = "mysql";
		my_docker(b, t, false,
			  MY_DOCKER_PWD "exec \"$(command -v mariadb || command -v mysql)\" -uroot"
					" -e \"CREATE DATABASE IF NOT EXISTS \\`$2\\`\"");
		cmdb_arg(b, t->user ? t->user : "postgres"); /* $1, unused */
		cmdb_arg(b, name);
		return 0;
	}
	int r = my_tool(b, t, tmpdir, my_client());
	if (r < 0)
		return r;
	cmdb_argf(b, "--execute=CREATE DATABASE IF NOT EXISTS `%s`", name);
	return 0;
}

static int my_drop(const struct dumper_target *t, const char *tmpdir, const char *name,
		   struct cmdb *b)
{
	int r = my_tool(b, t, tmpdir, my_client());
	if (r < 0)
		return r;
	cmdb_argf(b, "--execute=DROP DATABASE IF EXISTS `%s`", name);
	return 0;
}

/* MySQL: the base tables, then one UNION ALL of their counts, rows given
 * by index (so no name has to be quoted as a string). */
static int my_counts_in(const struct dumper_target *t, const char *tmpdir,
			struct dumper_table_count **ret, size_t *ret_n)
{
	char *list = NULL, *sql = NULL, *rows = NULL;
	struct dumper_table_count *v = NULL;
	size_t n = 0;
	int r = dumper_query(t, tmpdir, "SELECT table_name FROM information_schema.tables WHERE "
					"table_schema = DATABASE() AND table_type = 'BASE TABLE' "
					"ORDER BY table_name", DUMPER_COUNT_TIMEOUT_MS, &list);
	if (r < 0)
		return r;
	FILE *f = NULL;
	size_t sql_len = 0;
	r = -ENOMEM;
	if (!(f = open_memstream(&sql, &sql_len)))
		goto out;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, "\n");
		if (len) {
			struct dumper_table_count *nv = realloc(v, (n + 1) * sizeof *nv);
			if (!nv || !(nv[n].name = strndup(p, len))) {
				if (nv)
					v = nv;
				goto out;
			}
			v = nv;
			v[n].rows = -1;
			fprintf(f, "%sSELECT %zu, COUNT(*) FROM `", n ? " UNION ALL " : "", n);
			for (size_t i = 0; i < len; i++)
				fputs(p[i] == '`' ? "``" : (char[]){p[i], 0}, f);
			fputc('`', f);
			n++;
		}
		p += len;
		if (*p)
			p++;
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (n) {
		if ((r = dumper_query(t, tmpdir, sql, DUMPER_COUNT_TIMEOUT_MS, &rows)) < 0)
			goto out;
		for (const char *p = rows; *p;) {
			char *end;
			unsigned long long i = strtoull(p, &end, 10);
			if (*end == '\t' && i < n)
				v[i].rows = strtoll(end + 1, NULL, 10);
			p += strcspn(p, "\n");
			if (*p)
				p++;
		}
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	n = 0;
	r = 0;
out:
	if (f)
		fclose(f);
	dumper_table_counts_free(v, n);
	free(list);
	free(sql);
	free(rows);
	return r;
}

static int my_counts(const struct dumper_target *t0, const char *tmpdir, const char *db,
		     struct dumper_table_count **ret, size_t *ret_n)
{
	struct dumper_target t = *t0; /* shallow: only dbname differs */
	if (db)
		t.dbname = (char *)db;
	return my_counts_in(&t, tmpdir, ret, ret_n);
}

/* The rows of each table counted in the dump stream itself (sqlcount.h):
 * exactly what the dump's own transaction saw, at no cost to the server;
 * and the migration version read from the same stream (sqlmigr.h), since
 * MySQL cannot share that transaction's snapshot with another session. */
struct my_counter {
	struct dumper_sqlcount count;
	struct dumper_sqlmigr migr;
	const struct dumper_target *t; /* for asking the version after the dump */
	const char *tmpdir;
};

static void my_counter_free(struct my_counter *c)
{
	dumper_sqlcount_clear(&c->count);
	dumper_sqlmigr_clear(&c->migr);
	free(c);
}

static int my_count_begin(const struct dumper_target *t, const char *tmpdir, struct dumper_cmd *cmd,
			  void **ret_state)
{
	(void)cmd;
	struct my_counter *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	if (dumper_sqlmigr_init(&c->migr) < 0) {
		my_counter_free(c);
		return -ENOMEM;
	}
	c->t = t;
	c->tmpdir = tmpdir;
	*ret_state = c;
	return 0;
}

static void my_count_bytes(void *state, const void *buf, size_t n)
{
	struct my_counter *c = state;
	dumper_sqlcount_feed(&c->count, buf, n);
	dumper_sqlmigr_feed(&c->migr, buf, n);
}

static int my_count_end(void *state, struct dumper_table_count **ret, size_t *ret_n,
			struct dumper_schema *ret_schema)
{
	struct my_counter *c = state;
	int r = c->count.err;
	bool found = false;
	if (r == 0 && ret_schema && (r = dumper_sqlmigr_schema(&c->migr, ret_schema, &found)) == 0 &&
	    !found) {
		/* No migration table in the stream (or one too large to keep):
		 * asked right after the dump, as the only way left. */
		if ((r = dumper_server_schema(c->t, c->tmpdir, ret_schema)) < 0 && r != -ENOMEM) {
			store_error_clear();
			memset(ret_schema, 0, sizeof *ret_schema);
			r = 0;
		}
	}
	if (r == 0) {
		*ret = c->count.tables;
		*ret_n = c->count.ntables;
		c->count.tables = NULL;
		c->count.ntables = 0;
	} else if (ret_schema) {
		dumper_schema_clear(ret_schema);
	}
	my_counter_free(c);
	return r;
}

static void my_count_abort(void *state)
{
	my_counter_free(state);
}

/* The dump's sections of the tables (DROP, CREATE, rows, triggers) into
 * the client; a table the dump has no section for is refused before
 * anything is sent.  Not one transaction: MySQL commits each DROP and
 * CREATE (the safety snapshot is the undo). */
static int my_restore_tables(const struct dumper_tables_job *j)
{
	struct dumper_sqlsection flt;
	struct dumper_cmd c = {0};
	int r = dumper_sqlsection_init(&flt, j->tables, j->n);
	if (r < 0)
		return r;
	/* First pass: every table must have its section (nothing sent). */
	r = j->scan(j->ctx, &flt);
	const char *missing = r == 0 ? dumper_sqlsection_missing(&flt) : NULL;
	if (missing)
		r = store_fail(-ENOENT, "database %s: table %s: not in the snapshot's dump; nothing restored",
			       j->t->name, missing);
	dumper_sqlsection_clear(&flt);
	if (r < 0 || (r = dumper_sqlsection_init(&flt, j->tables, j->n)) < 0)
		return r;
	if ((r = dumper_restore_cmd(j->t, j->tmpdir, j->into, &c)) == 0) {
		struct sigaction ign = {.sa_handler = SIG_IGN}, old;
		sigaction(SIGPIPE, &ign, &old);
		r = j->feed(j->ctx, &c, NULL, &flt);
		sigaction(SIGPIPE, &old, NULL);
	}
	dumper_cmd_clear(&c);
	dumper_sqlsection_clear(&flt);
	return r;
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
	.server = {.dump = my_dump, .restore = my_restore},
	.docker = {.dump = my_docker_dump, .restore = my_docker_restore},
	.verify = {.name = "-- Dump completed", .judge = my_judge},
	.hint = my_hint,
	.query = my_query,
	.create = my_create,
	.drop = my_drop,
	.counts = my_counts,
	.schema_sql = "DATABASE()",
	.counter = {.begin = my_count_begin, .bytes = my_count_bytes, .end = my_count_end,
		    .abort = my_count_abort, .schema = true},
	.restore_tables = my_restore_tables,
	.private_server = &dumper_privsrv_mysql,
};
