/* engine_postgres.c — PostgreSQL: pg_dump's custom format, checked by
 * pg_restore --list; psql, createdb and dropdb for SQL (engine.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/drill.h"
#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/migration.h"
#include "store/err.h"

static void pg_compose_login(dumper_env_get_fn get, void *ctx, struct dumper_compose_login *ret)
{
	/* The official image: POSTGRES_USER (default postgres), its
	 * database POSTGRES_DB (default: the user's name). */
	const char *user = get(ctx, "POSTGRES_USER"), *db = get(ctx, "POSTGRES_DB");
	ret->user = user ? user : "postgres";
	ret->password = get(ctx, "POSTGRES_PASSWORD");
	ret->dbname = db ? db : ret->user;
}

/* Host options (no password: that is PGPASSWORD). */
static void pg_conn(struct cmdb *b, const struct dumper_target *t)
{
	cmdb_arg(b, "--no-password");
	if (t->host)
		cmdb_argf(b, "--host=%s", t->host);
	if (t->port)
		cmdb_argf(b, "--port=%d", t->port);
	if (t->user)
		cmdb_argf(b, "--username=%s", t->user);
}

/* PGPASSWORD, and an unreachable host failing in seconds, not minutes. */
static void pg_env(struct cmdb *b, const struct dumper_target *t)
{
	cmdb_env_with(b, "PGPASSWORD", t->password);
	if (!getenv("PGCONNECT_TIMEOUT"))
		cmdb_env(b, "PGCONNECT_TIMEOUT=15");
}

/* --dbname=… as a connection string holding only the database name: a
 * bare name with '=' in it would be read as a whole connection string
 * (host=…), overriding --host.  Quoted per libpq: '…' with \\ and \'. */
static void pg_dbname(struct cmdb *b, const char *prefix, const char *db)
{
	size_t n = strlen(db);
	char *o = malloc(2 * n + 3), *p = o;
	if (!o) {
		b->err = -ENOMEM;
		return;
	}
	*p++ = '\'';
	for (; *db; db++) {
		if (*db == '\'' || *db == '\\')
			*p++ = '\\';
		*p++ = *db;
	}
	*p++ = '\'';
	*p = '\0';
	cmdb_argf(b, "%sdbname=%s", prefix, o);
	free(o);
}

static int pg_dump(const struct dumper_target *t, const char *tmpdir, const char *db, struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "pg_dump";
	cmdb_arg(b, "pg_dump");
	cmdb_arg(b, "--format=custom");
	/* A table locked by a long migration fails the dump (reported)
	 * instead of hanging the snapshot. */
	cmdb_arg(b, "--lock-wait-timeout=60s");
	pg_conn(b, t);
	pg_dbname(b, "--dbname=", db ? db : "postgres");
	pg_env(b, t);
	return 0;
}

static int pg_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
		      const char *into, struct cmdb *b)
{
	(void)tmpdir, (void)into;
	b->c.tool = "pg_restore";
	cmdb_arg(b, "pg_restore");
	cmdb_arg(b, "--clean");
	cmdb_arg(b, "--if-exists");
	cmdb_arg(b, "--no-owner");
	pg_conn(b, t);
	pg_dbname(b, "--dbname=", db ? db : "postgres");
	pg_env(b, t);
	return 0;
}

/* In a container: the tool with the container's POSTGRES_PASSWORD; $1
 * and $2 are the user and the database. */
static void pg_docker(struct cmdb *b, const struct dumper_target *t, const char *db, bool input,
		      const char *script)
{
	cmdb_env_with(b, NULL, NULL);
	cmdb_docker_sh(b, t, input);
	cmdb_arg(b, script);
	cmdb_arg(b, "sh");
	cmdb_arg(b, t->user ? t->user : "postgres");
	pg_dbname(b, "", db ? db : (t->user ? t->user : "postgres"));
}

static int pg_docker_dump(const struct dumper_target *t, const char *tmpdir, const char *db,
			  struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "pg_dump";
	pg_docker(b, t, db, false,
		  "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec pg_dump --format=custom -U \"$1\" "
		  "--dbname=\"$2\"");
	return 0;
}

static int pg_docker_restore(const struct dumper_target *t, const char *tmpdir, const char *db,
			     const char *into, struct cmdb *b)
{
	(void)tmpdir, (void)into;
	b->c.tool = "pg_restore";
	pg_docker(b, t, db, true,
		  "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec pg_restore --clean --if-exists "
		  "--no-owner -U \"$1\" --dbname=\"$2\"");
	return 0;
}

static int64_t count_entries(int fd)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	FILE *f = fdopen(dup(fd), "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int64_t n = 0;
	while (getline(&line, &cap, f) > 0)
		if (line[0] != ';' && line[0] != '\n')
			n++;
	free(line);
	fclose(f);
	return n;
}

/* pg_restore --list read the header and table of contents of the very
 * bytes stored; its listing counts the entries. */
static bool pg_judge(const struct dumper_dump_seen *d, int64_t *ret_entries, char **ret_why)
{
	if (!d->tee_ran)
		return true; /* said in the check's name: pg_restore missing */
	if (!WIFEXITED(d->tee_status) || WEXITSTATUS(d->tee_status) != 0) {
		if (asprintf(ret_why, "pg_restore --list cannot read the dump (status %d)",
			     WIFEXITED(d->tee_status) ? WEXITSTATUS(d->tee_status) : -1) < 0)
			*ret_why = NULL;
		return false;
	}
	*ret_entries = count_entries(d->tee_out);
	return true;
}

static char *pg_hint(const struct dumper_target *t, const char *pre, const char *file)
{
	bool ctn = t->container || t->service;
	char conn[512] = "";
	size_t n = 0;
	if (t->host && !ctn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " -h %s", t->host);
	if (t->port && !ctn && n < sizeof conn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " -p %d", t->port);
	if (t->user && n < sizeof conn)
		snprintf(conn + n, sizeof conn - n, " -U %s", t->user);
	char *s;
	if (asprintf(&s, "%spg_restore --clean --if-exists --no-owner%s -d %s < %s", pre, conn,
		     t->dbname ? t->dbname : "", file) < 0)
		return NULL;
	return s;
}

static int pg_query(const struct dumper_target *t, const char *tmpdir, const char *sql,
		    struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "psql";
	if (t->container || t->service) {
		if (!sql)
			return store_fail(-EINVAL, "database %s: a session on stdin is for local Postgres",
					  t->name);
		pg_docker(b, t, t->dbname, false,
			  "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec psql -X -q -A -t -F \"$(printf "
			  "'\\t')\" -v ON_ERROR_STOP=1 -U \"$1\" --dbname=\"$2\" -c \"$3\"");
		cmdb_arg(b, sql);
		return 0;
	}
	cmdb_arg(b, "psql");
	cmdb_arg(b, "-X");
	cmdb_arg(b, "-q");
	cmdb_arg(b, "-A");
	cmdb_arg(b, "-t");
	cmdb_arg(b, "-F");
	cmdb_arg(b, "\t");
	cmdb_arg(b, "-v");
	cmdb_arg(b, "ON_ERROR_STOP=1");
	pg_conn(b, t);
	pg_dbname(b, "--dbname=", t->dbname ? t->dbname : "postgres");
	if (sql)
		cmdb_argf(b, "--command=%s", sql);
	pg_env(b, t);
	return 0;
}

static int pg_create(const struct dumper_target *t, const char *tmpdir, const char *name,
		     struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "createdb";
	if (t->container || t->service) {
		cmdb_env_with(b, NULL, NULL);
		cmdb_docker_sh(b, t, false);
		cmdb_arg(b, "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec createdb -U \"$1\" \"$2\"");
		cmdb_arg(b, "sh");
		cmdb_arg(b, t->user ? t->user : "postgres");
		cmdb_arg(b, name);
		return 0;
	}
	cmdb_arg(b, "createdb");
	pg_conn(b, t);
	cmdb_arg(b, "--");
	cmdb_arg(b, name);
	cmdb_env_with(b, "PGPASSWORD", t->password);
	return 0;
}

static int pg_drop(const struct dumper_target *t, const char *tmpdir, const char *name,
		   struct cmdb *b)
{
	(void)tmpdir;
	b->c.tool = "dropdb";
	cmdb_arg(b, "dropdb");
	cmdb_arg(b, "--if-exists");
	pg_conn(b, t);
	cmdb_arg(b, "--");
	cmdb_arg(b, name);
	cmdb_env_with(b, "PGPASSWORD", t->password);
	return 0;
}

/* "schema"."name" or "name", quoted for SQL. */
static void sql_ident(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++)
		fputs(s[i] == '"' ? "\"\"" : (char[]){s[i], 0}, f);
	fputc('"', f);
}

int dumper_table_restore_cmds(const struct dumper_target *t, const char *tmpdir,
			      const char *const *tables, size_t n, const char *into,
			      struct dumper_cmd *ret_extract, struct dumper_cmd *ret_load)
{
	struct cmdb x = {0}, l = {0};
	char *trunc = NULL;
	size_t tlen = 0;
	int r;
	(void)tmpdir;
	if ((r = dumper_target_check(t)) < 0)
		return r;
	if (t->kind != DUMPER_POSTGRES || t->container || t->service)
		return store_fail(-EINVAL, "database %s: tables can be restored alone only from a local "
					   "Postgres dump (restore the whole database with --into)", t->name);
	if (into && !dumper_plain_name(into))
		return store_fail(-EINVAL, "database name '%s': use letters, digits, '_', '-' and '.'", into);
	FILE *f = open_memstream(&trunc, &tlen);
	if (!f)
		return -ENOMEM;
	fputs("TRUNCATE TABLE ", f);
	x.c.tool = "pg_restore";
	cmdb_arg(&x, "pg_restore");
	cmdb_arg(&x, "--data-only");
	cmdb_arg(&x, "--no-owner");
	cmdb_arg(&x, "--file=-");
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(tables[i], '.');
		bool bad = !*tables[i] || tables[i][0] == '-' || (dot && (dot == tables[i] || !dot[1]));
		for (const char *c = tables[i]; *c && !bad; c++)
			bad = (unsigned char)*c < 0x20 || *c == 0x7f;
		if (bad) {
			fclose(f);
			free(trunc);
			cmdb_finish(&x, -EINVAL, ret_extract);
			return store_fail(-EINVAL, "--table '%s': not a table name", tables[i]);
		}
		if (i)
			fputs(", ", f);
		if (dot) {
			cmdb_argf(&x, "--schema=%.*s", (int)(dot - tables[i]), tables[i]);
			cmdb_argf(&x, "--table=%s", dot + 1);
			sql_ident(f, tables[i], (size_t)(dot - tables[i]));
			fputc('.', f);
			sql_ident(f, dot + 1, strlen(dot + 1));
		} else {
			cmdb_argf(&x, "--table=%s", tables[i]);
			sql_ident(f, tables[i], strlen(tables[i]));
		}
	}
	if (fclose(f) != 0) {
		free(trunc);
		cmdb_finish(&x, -ENOMEM, ret_extract);
		return -ENOMEM;
	}
	cmdb_env_with(&x, NULL, NULL);
	if ((r = cmdb_finish(&x, 0, ret_extract)) < 0) {
		free(trunc);
		return r;
	}
	l.c.tool = "psql";
	cmdb_arg(&l, "psql");
	cmdb_arg(&l, "-X");
	cmdb_arg(&l, "-q");
	cmdb_arg(&l, "-v");
	cmdb_arg(&l, "ON_ERROR_STOP=1");
	cmdb_arg(&l, "--single-transaction");
	pg_conn(&l, t);
	pg_dbname(&l, "--dbname=", into ? into : t->dbname ? t->dbname : "postgres");
	cmdb_argf(&l, "--command=%s", trunc);
	cmdb_arg(&l, "--file=-");
	pg_env(&l, t);
	free(trunc);
	if ((r = cmdb_finish(&l, 0, ret_load)) < 0)
		dumper_cmd_clear(ret_extract);
	return r;
}

static int pg_counts(const struct dumper_target *t0, const char *tmpdir, const char *db,
		     struct dumper_table_count **ret, size_t *ret_n)
{
	struct dumper_target t = *t0; /* shallow: only dbname differs */
	if (db)
		t.dbname = (char *)db;
	char *rows = NULL;
	int r = dumper_query(&t, tmpdir, dumper_pg_counts_sql, DUMPER_COUNT_TIMEOUT_MS, &rows);
	if (r == 0)
		r = dumper_counts_parse(rows, ret, ret_n);
	free(rows);
	return r;
}

/* The counts in the dump's own snapshot: a psql session exports it and
 * pg_dump --snapshot dumps exactly it (drill_pg.c). */
static int pg_count_begin(const struct dumper_target *t, const char *tmpdir, struct dumper_cmd *cmd,
			  void **ret_state)
{
	struct dumper_pg_hold *h = malloc(sizeof *h);
	if (!h)
		return -ENOMEM;
	int r = dumper_pg_hold_start(t, tmpdir, h);
	if (r < 0) {
		free(h);
		return r;
	}
	char arg[96];
	snprintf(arg, sizeof arg, "--snapshot=%s", h->snapshot);
	if (dumper_cmd_add_arg(cmd, arg) < 0) {
		dumper_pg_hold_release(h);
		free(h);
		return -ENOMEM;
	}
	*ret_state = h;
	return 0;
}

static int hold_ask(void *ctx, const char *sql, char **ret_rows)
{
	return dumper_pg_hold_query(ctx, sql, ret_rows);
}

/* In the transaction whose snapshot pg_dump dumped: the migration
 * version, then the rows of every table; then it ends. */
static int pg_count_end(void *state, struct dumper_table_count **ret, size_t *ret_n,
			struct dumper_schema *ret_schema)
{
	struct dumper_pg_hold *h = state;
	int r = 0;
	if (ret_schema && (r = dumper_schema_ask("current_schema()", hold_ask, h, ret_schema)) < 0) {
		dumper_pg_hold_release(h);
		free(h);
		return r;
	}
	r = dumper_pg_hold_counts(h, ret, ret_n);
	free(h);
	if (r < 0 && ret_schema)
		dumper_schema_clear(ret_schema);
	return r;
}

static void pg_count_abort(void *state)
{
	dumper_pg_hold_release(state);
	free(state);
}

/* Only the tables: `pg_restore --data-only` of them piped into `psql
 * --single-transaction` that truncates them first. */
static int pg_restore_tables(const struct dumper_tables_job *j)
{
	struct dumper_cmd x = {0}, l = {0};
	int r = dumper_table_restore_cmds(j->t, j->tmpdir, j->tables, j->n, j->into, &x, &l);
	if (r < 0)
		return r;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	r = j->feed(j->ctx, &x, &l, NULL);
	sigaction(SIGPIPE, &old, NULL);
	dumper_cmd_clear(&x);
	dumper_cmd_clear(&l);
	return r;
}

const struct dumper_engine dumper_engine_postgres = {
	.kind = DUMPER_POSTGRES,
	.name = "postgres",
	.aliases = (const char *const[]){"postgres", "postgresql", "postgis", "pg", "pgsql", NULL},
	.ext = ".dump",
	.default_port = 5432,
	.images = (const char *const[]){"postgres", "postgis", "timescal", NULL},
	.how = "pg_dump --format=custom, checked with pg_restore --list",
	.dbname_conninfo = true,
	.compose_login = pg_compose_login,
	.server = {.dump = pg_dump, .restore = pg_restore},
	.docker = {.dump = pg_docker_dump, .restore = pg_docker_restore},
	.verify = {.name = "pg_restore --list",
		   .tee_argv = (const char *const[]){"pg_restore", "--list", NULL},
		   .tee_missing = "pg_restore --list (not run: pg_restore missing)",
		   .judge = pg_judge},
	.hint = pg_hint,
	.query = pg_query,
	.create = pg_create,
	.create_exists = "already exists", /* createdb has no IF NOT EXISTS */
	.drop = pg_drop,
	.counts = pg_counts,
	.schema_sql = "current_schema()",
	.counter = {.begin = pg_count_begin, .end = pg_count_end, .abort = pg_count_abort,
		    .local_only = true, .schema = true},
	.restore_tables = pg_restore_tables,
	.private_server = &dumper_privsrv_postgres,
};
