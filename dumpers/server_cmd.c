/* server_cmd.c — building dump and restore commands (see server.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/server.h"
#include "store/err.h"

extern char **environ;

struct vec {
	char **v;
	size_t n;
	int err;
};

static void vpush(struct vec *a, const char *s)
{
	if (a->err)
		return;
	char **v = realloc(a->v, (a->n + 2) * sizeof *v);
	char *d = s ? strdup(s) : NULL;
	if (!v || (s && !d)) {
		free(d);
		if (v)
			a->v = v;
		a->err = -ENOMEM;
		return;
	}
	a->v = v;
	v[a->n++] = d;
	v[a->n] = NULL;
}

static void vpushf(struct vec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vpushf(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) {
		a->err = -ENOMEM;
	} else {
		vpush(a, s);
		free(s);
	}
	va_end(ap);
}

static void vfree(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The end of building command c from argv a and environment e: handed
 * over to *ret (0), or, if r or either vector failed, all freed and the
 * error returned. */
static int finish(int r, struct vec *a, struct vec *e, struct dumper_cmd *c, struct dumper_cmd *ret)
{
	if (r == 0)
		r = a->err ? a->err : e->err;
	if (r < 0) {
		vfree(a->v);
		vfree(e->v);
		dumper_cmd_clear(c);
		return r;
	}
	c->argv = a->v;
	c->envp = e->v;
	*ret = *c;
	return 0;
}

void dumper_cmd_clear(struct dumper_cmd *c)
{
	if (c->secret_file) {
		unlink(c->secret_file);
		free(c->secret_file);
	}
	vfree(c->argv);
	for (size_t i = 0; c->envp && c->envp[i]; i++)
		memset(c->envp[i], 0, strlen(c->envp[i])); /* may hold a password */
	vfree(c->envp);
	memset(c, 0, sizeof *c);
}

/* The environment, minus variables we set, plus extra (may be NULL). */
static void env_with(struct vec *e, const char *name, const char *value)
{
	size_t nl = name ? strlen(name) : 0;
	for (char **p = environ; p && *p; p++)
		if (!name || strncmp(*p, name, nl) || (*p)[nl] != '=')
			vpush(e, *p);
	if (name && value)
		vpushf(e, "%s=%s", name, value);
}

bool dumper_in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, tool);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* A 0600 file in tmpdir holding text; *ret_path malloc'd. */
static int secret_file(const char *tmpdir, const char *text, char **ret_path)
{
	char *p;
	if (asprintf(&p, "%s/secret-XXXXXX", tmpdir) < 0)
		return -ENOMEM;
	int fd = mkstemp(p); /* 0600 */
	if (fd < 0) {
		int r = store_failp(-errno, "%s", p);
		free(p);
		return r;
	}
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n;
	close(fd);
	if (!ok) {
		unlink(p);
		free(p);
		return store_fail(-EIO, "%s: cannot write", tmpdir);
	}
	*ret_path = p;
	return 0;
}

/* Quote for an option file / YAML double-quoted string. */
static char *dq(const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(2 * n + 3), *p = o;
	if (!o)
		return NULL;
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return o;
}


static const char *mysql_tool(void)
{
	return dumper_in_path("mariadb-dump") ? "mariadb-dump" : "mysqldump";
}

static const char *mysql_client(void)
{
	return dumper_in_path("mariadb") ? "mariadb" : "mysql";
}

/* [client] option file for mysqldump/mysql: user, password, host/socket. */
static int mysql_defaults(const struct dumper_target *t, const char *tmpdir, char **ret_path)
{
	char *text = NULL, *pw = t->password ? dq(t->password) : NULL, *user = t->user ? dq(t->user) : NULL;
	char *host = t->host ? dq(t->host) : NULL;
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
	r = secret_file(tmpdir, text, ret_path);
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

/* docker exec / docker compose exec prefix, running `sh -c SCRIPT sh ARGS`
 * inside the container (secrets come from the container's environment). */
/* The MySQL/MariaDB client, its credentials in a 0600 defaults file (the
 * first option, as the client requires); the caller adds the rest. */
static int mysql_client_cmd(const struct dumper_target *t, const char *tmpdir, struct vec *a,
			    struct vec *e, struct dumper_cmd *c)
{
	c->tool = mysql_client();
	int r = mysql_defaults(t, tmpdir, &c->secret_file);
	if (r < 0)
		return r;
	vpush(a, c->tool);
	vpushf(a, "--defaults-extra-file=%s", c->secret_file);
	env_with(e, "MYSQL_PWD", NULL);
	return 0;
}

static void container_prefix(struct vec *a, const struct dumper_target *t, bool input)
{
	if (t->container) {
		vpush(a, "docker");
		vpush(a, "exec");
		if (input)
			vpush(a, "-i");
		vpush(a, t->container);
	} else {
		if (t->compose_v1) {
			vpush(a, "docker-compose");
		} else {
			vpush(a, "docker");
			vpush(a, "compose");
		}
		if (t->compose)
			vpushf(a, "--file=%s", t->compose);
		vpush(a, "exec");
		vpush(a, "-T");
		vpush(a, t->service);
	}
	vpush(a, "sh");
	vpush(a, "-c");
}

static const char *db_or(const struct dumper_target *t, const char *into)
{
	return into ? into : t->dbname;
}

/* Postgres host options (no password: that is PGPASSWORD). */
static void pg_conn(struct vec *a, const struct dumper_target *t)
{
	vpush(a, "--no-password");
	if (t->host)
		vpushf(a, "--host=%s", t->host);
	if (t->port)
		vpushf(a, "--port=%d", t->port);
	if (t->user)
		vpushf(a, "--username=%s", t->user);
}

/* --dbname=… as a connection string holding only the database name: a
 * bare name with '=' in it would be read as a whole connection string
 * (host=…), overriding --host.  Quoted per libpq: '…' with \\ and \'. */
static void pg_dbname(struct vec *a, const char *prefix, const char *db)
{
	size_t n = strlen(db);
	char *o = malloc(2 * n + 3), *p = o;
	if (!o) {
		a->err = -ENOMEM;
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
	vpushf(a, "%sdbname=%s", prefix, o);
	free(o);
}

/* A database inside a container: `docker exec` (container_prefix) of a
 * shell line that runs the engine's tool with the container's own
 * credentials ($1, $2 are the user and database). */
static int container_cmd(const struct dumper_target *t, const char *db, bool restore,
			 struct vec *a, struct dumper_cmd *c)
{
	container_prefix(a, t, restore);
	switch (t->kind) {
	case DUMPER_POSTGRES:
		c->tool = restore ? "pg_restore" : "pg_dump";
		vpush(a, restore ? "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec pg_restore --clean "
				   "--if-exists --no-owner -U \"$1\" --dbname=\"$2\""
				 : "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec pg_dump --format=custom "
				   "-U \"$1\" --dbname=\"$2\"");
		vpush(a, "sh");
		vpush(a, t->user ? t->user : "postgres");
		pg_dbname(a, "", db ? db : (t->user ? t->user : "postgres"));
		return 0;
	case DUMPER_MYSQL:
		c->tool = restore ? "mysql" : "mysqldump";
		vpush(a, restore ? "export MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}\";"
				   " exec \"$(command -v mariadb || command -v mysql)\" -uroot \"$1\""
				 : "export MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}\";"
				   " exec \"$(command -v mariadb-dump || command -v mysqldump)\" -uroot"
				   " --single-transaction --routines --triggers --events \"$1\"");
		vpush(a, "sh");
		vpush(a, db ? db : "");
		return 0;
	case DUMPER_MONGO:
		c->tool = restore ? "mongorestore" : "mongodump";
		vpush(a, restore ? "umask 077; f=$(mktemp); printf 'password: \"%s\"\\n' "
				   "\"${MONGO_INITDB_ROOT_PASSWORD:-}\" >\"$f\"; "
				   "if [ -n \"${MONGO_INITDB_ROOT_USERNAME:-}\" ]; then set -- --config \"$f\" "
				   "--username \"$MONGO_INITDB_ROOT_USERNAME\" --authenticationDatabase admin; "
				   "else set --; fi; mongorestore --archive --drop \"$@\"; rc=$?; rm -f \"$f\"; "
				   "exit $rc"
				 : "umask 077; f=$(mktemp); printf 'password: \"%s\"\\n' "
				   "\"${MONGO_INITDB_ROOT_PASSWORD:-}\" >\"$f\"; "
				   "if [ -n \"${MONGO_INITDB_ROOT_USERNAME:-}\" ]; then set -- --config \"$f\" "
				   "--username \"$MONGO_INITDB_ROOT_USERNAME\" --authenticationDatabase admin; "
				   "else set --; fi; mongodump --archive \"$@\"; rc=$?; rm -f \"$f\"; exit $rc");
		return 0;
	case DUMPER_NONE:
		break;
	}
	return store_fail(-EINVAL, "database %s: unknown kind", t->name);
}

/* pg_dump --format=custom / pg_restore --clean against a server. */
static void pg_cmd(const struct dumper_target *t, const char *db, bool restore, struct vec *a,
		   struct vec *e, struct dumper_cmd *c)
{
	c->tool = restore ? "pg_restore" : "pg_dump";
	vpush(a, c->tool);
	if (restore) {
		vpush(a, "--clean");
		vpush(a, "--if-exists");
		vpush(a, "--no-owner");
	} else {
		vpush(a, "--format=custom");
		/* A table locked by a long migration fails the dump
		 * (reported) instead of hanging the snapshot. */
		vpush(a, "--lock-wait-timeout=60s");
	}
	pg_conn(a, t);
	pg_dbname(a, "--dbname=", db ? db : "postgres");
	env_with(e, "PGPASSWORD", t->password);
	/* An unreachable host fails in seconds, not minutes. */
	if (!getenv("PGCONNECT_TIMEOUT"))
		vpush(e, "PGCONNECT_TIMEOUT=15");
}

/* mariadb-dump / mysqldump, or the client for a restore; the credentials
 * in a 0600 defaults file, never in argv or the environment. */
static int mysql_cmd(const struct dumper_target *t, const char *tmpdir, const char *db,
		     bool restore, struct vec *a, struct vec *e, struct dumper_cmd *c)
{
	c->tool = restore ? mysql_client() : mysql_tool();
	int r = mysql_defaults(t, tmpdir, &c->secret_file);
	if (r < 0)
		return r;
	vpush(a, c->tool);
	/* Must be the first option. */
	vpushf(a, "--defaults-extra-file=%s", c->secret_file);
	if (!restore) {
		vpush(a, "--single-transaction");
		vpush(a, "--routines");
		vpush(a, "--triggers");
		vpush(a, "--events");
	}
	vpush(a, db ? db : "");
	env_with(e, "MYSQL_PWD", NULL);
	return 0;
}

/* mongodump / mongorestore --archive; the password in a 0600 config file. */
static int mongo_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		     bool restore, struct vec *a, struct vec *e, struct dumper_cmd *c)
{
	c->tool = restore ? "mongorestore" : "mongodump";
	if (t->password) {
		char *pw = dq(t->password), *text = NULL;
		if (!pw || asprintf(&text, "password: %s\n", pw) < 0) {
			free(pw);
			return -ENOMEM;
		}
		int r = secret_file(tmpdir, text, &c->secret_file);
		memset(text, 0, strlen(text));
		memset(pw, 0, strlen(pw));
		free(text);
		free(pw);
		if (r < 0)
			return r;
	}
	vpush(a, c->tool);
	vpush(a, "--archive");
	if (restore)
		vpush(a, "--drop");
	if (t->uri)
		vpushf(a, "--uri=%s", t->uri);
	if (c->secret_file)
		vpushf(a, "--config=%s", c->secret_file);
	if (restore && into && t->dbname) {
		vpushf(a, "--nsFrom=%s.*", t->dbname);
		vpushf(a, "--nsTo=%s.*", into);
	}
	env_with(e, NULL, NULL);
	return 0;
}

/* The dump (or restore) command of t: argv and environment only; running
 * it is server_dump.c's job. */
static int build(const struct dumper_target *t, const char *tmpdir, bool restore, const char *into,
		 struct dumper_cmd *ret)
{
	struct vec a = {0}, e = {0};
	struct dumper_cmd c = {0};
	const char *db = db_or(t, into);
	int r = dumper_target_check(t);
	if (r < 0)
		return r;
	if (t->container || t->service) {
		env_with(&e, NULL, NULL);
		r = container_cmd(t, db, restore, &a, &c);
	} else {
		switch (t->kind) {
		case DUMPER_POSTGRES: pg_cmd(t, db, restore, &a, &e, &c); break;
		case DUMPER_MYSQL: r = mysql_cmd(t, tmpdir, db, restore, &a, &e, &c); break;
		case DUMPER_MONGO: r = mongo_cmd(t, tmpdir, into, restore, &a, &e, &c); break;
		case DUMPER_NONE: r = store_fail(-EINVAL, "database %s: unknown kind", t->name); break;
		}
	}
	return finish(r, &a, &e, &c, ret);
}

int dumper_dump_cmd(const struct dumper_target *t, const char *tmpdir, struct dumper_cmd *ret)
{
	return build(t, tmpdir, false, NULL, ret);
}

int dumper_restore_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		       struct dumper_cmd *ret)
{
	return build(t, tmpdir, true, into, ret);
}

int dumper_query_cmd(const struct dumper_target *t, const char *tmpdir, const char *sql,
		     struct dumper_cmd *ret)
{
	struct vec a = {0}, e = {0};
	struct dumper_cmd c = {0};
	int r;
	if ((r = dumper_target_check(t)) < 0)
		return r;
	bool pg = t->kind == DUMPER_POSTGRES;
	if (!pg && t->kind != DUMPER_MYSQL)
		return store_fail(-EINVAL, "database %s: no SQL client for this kind", t->name);
	if (!sql && (!pg || t->container || t->service))
		return store_fail(-EINVAL, "database %s: a session on stdin is for local Postgres", t->name);
	if (t->container || t->service) {
		container_prefix(&a, t, false);
		env_with(&e, NULL, NULL);
		c.tool = pg ? "psql" : "mysql";
		vpush(&a, pg ? "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec psql -X -q -A -t -F \"$(printf '\\t')\" "
			       "-v ON_ERROR_STOP=1 -U \"$1\" --dbname=\"$2\" -c \"$3\""
			     : "export MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}\";"
			       " exec \"$(command -v mariadb || command -v mysql)\" -uroot -N -B -e \"$3\" \"$2\"");
		vpush(&a, "sh");
		vpush(&a, t->user ? t->user : "postgres");
		if (pg)
			pg_dbname(&a, "", t->dbname ? t->dbname : (t->user ? t->user : "postgres"));
		else
			vpush(&a, t->dbname ? t->dbname : "");
		vpush(&a, sql);
	} else if (pg) {
		c.tool = "psql";
		vpush(&a, c.tool);
		vpush(&a, "-X");
		vpush(&a, "-q");
		vpush(&a, "-A");
		vpush(&a, "-t");
		vpush(&a, "-F");
		vpush(&a, "\t");
		vpush(&a, "-v");
		vpush(&a, "ON_ERROR_STOP=1");
		pg_conn(&a, t);
		pg_dbname(&a, "--dbname=", t->dbname ? t->dbname : "postgres");
		if (sql)
			vpushf(&a, "--command=%s", sql);
		env_with(&e, "PGPASSWORD", t->password);
		if (!getenv("PGCONNECT_TIMEOUT"))
			vpush(&e, "PGCONNECT_TIMEOUT=15");
	} else {
		if ((r = mysql_client_cmd(t, tmpdir, &a, &e, &c)) < 0)
			goto fail;
		vpush(&a, "-N");
		vpush(&a, "-B");
		vpushf(&a, "--execute=%s", sql);
		vpush(&a, t->dbname ? t->dbname : "");
	}
	r = 0;
fail:
	return finish(r, &a, &e, &c, ret);
}

static bool plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

int dumper_create_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		      struct dumper_cmd *ret)
{
	struct vec a = {0}, e = {0};
	struct dumper_cmd c = {0};
	int r;
	if (!plain_name(into))
		return store_fail(-EINVAL, "database name '%s': use letters, digits, '_', '-' and '.'",
				  into ? into : "");
	if ((r = dumper_target_check(t)) < 0)
		return r;
	if (t->kind == DUMPER_MONGO) {
		*ret = c;
		return 0;
	}
	if (t->kind != DUMPER_POSTGRES && t->kind != DUMPER_MYSQL)
		return store_fail(-EINVAL, "database %s: unknown kind", t->name);
	bool pg = t->kind == DUMPER_POSTGRES;
	if (t->container || t->service) {
		container_prefix(&a, t, false);
		env_with(&e, NULL, NULL);
		c.tool = pg ? "createdb" : "mysql";
		vpush(&a, pg ? "PGPASSWORD=\"${POSTGRES_PASSWORD:-}\" exec createdb -U \"$1\" \"$2\""
			     : "export MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}\";"
			       " exec \"$(command -v mariadb || command -v mysql)\" -uroot"
			       " -e \"CREATE DATABASE IF NOT EXISTS \\`$2\\`\"");
		vpush(&a, "sh");
		vpush(&a, t->user ? t->user : "postgres");
		vpush(&a, into);
	} else if (pg) {
		c.tool = "createdb";
		vpush(&a, c.tool);
		pg_conn(&a, t);
		vpush(&a, "--");
		vpush(&a, into);
		env_with(&e, "PGPASSWORD", t->password);
	} else {
		if ((r = mysql_client_cmd(t, tmpdir, &a, &e, &c)) < 0)
			goto fail;
		vpushf(&a, "--execute=CREATE DATABASE IF NOT EXISTS `%s`", into);
	}
	r = 0;
fail:
	return finish(r, &a, &e, &c, ret);
}

int dumper_drop_cmd(const struct dumper_target *t, const char *tmpdir, const char *name,
		    struct dumper_cmd *ret)
{
	struct vec a = {0}, e = {0};
	struct dumper_cmd c = {0};
	int r;
	if (!plain_name(name))
		return store_fail(-EINVAL, "database name '%s': use letters, digits, '_', '-' and '.'",
				  name ? name : "");
	if ((r = dumper_target_check(t)) < 0)
		return r;
	if (t->container || t->service || (t->kind != DUMPER_POSTGRES && t->kind != DUMPER_MYSQL))
		return store_fail(-EINVAL, "database %s: cannot drop a database of this kind here", t->name);
	if (t->kind == DUMPER_POSTGRES) {
		c.tool = "dropdb";
		vpush(&a, c.tool);
		vpush(&a, "--if-exists");
		pg_conn(&a, t);
		vpush(&a, "--");
		vpush(&a, name);
		env_with(&e, "PGPASSWORD", t->password);
	} else {
		if ((r = mysql_client_cmd(t, tmpdir, &a, &e, &c)) < 0)
			goto fail;
		vpushf(&a, "--execute=DROP DATABASE IF EXISTS `%s`", name);
	}
	r = 0;
fail:
	return finish(r, &a, &e, &c, ret);
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
	struct vec a = {0}, e = {0}, a2 = {0}, e2 = {0};
	struct dumper_cmd x = {0}, l = {0};
	char *trunc = NULL;
	size_t tlen = 0;
	int r;
	if ((r = dumper_target_check(t)) < 0)
		return r;
	if (t->kind != DUMPER_POSTGRES || t->container || t->service)
		return store_fail(-EINVAL, "database %s: tables can be restored alone only from a local "
					   "Postgres dump (restore the whole database with --into)", t->name);
	if (into && !plain_name(into))
		return store_fail(-EINVAL, "database name '%s': use letters, digits, '_', '-' and '.'", into);
	FILE *f = open_memstream(&trunc, &tlen);
	if (!f)
		return -ENOMEM;
	fputs("TRUNCATE TABLE ", f);
	x.tool = "pg_restore";
	vpush(&a, "pg_restore");
	vpush(&a, "--data-only");
	vpush(&a, "--no-owner");
	vpush(&a, "--file=-");
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(tables[i], '.');
		bool bad = !*tables[i] || tables[i][0] == '-' || (dot && (dot == tables[i] || !dot[1]));
		for (const char *c = tables[i]; *c && !bad; c++)
			bad = (unsigned char)*c < 0x20 || *c == 0x7f;
		if (bad) {
			fclose(f);
			free(trunc);
			vfree(a.v);
			return store_fail(-EINVAL, "--table '%s': not a table name", tables[i]);
		}
		if (i)
			fputs(", ", f);
		if (dot) {
			vpushf(&a, "--schema=%.*s", (int)(dot - tables[i]), tables[i]);
			vpushf(&a, "--table=%s", dot + 1);
			sql_ident(f, tables[i], (size_t)(dot - tables[i]));
			fputc('.', f);
			sql_ident(f, dot + 1, strlen(dot + 1));
		} else {
			vpushf(&a, "--table=%s", tables[i]);
			sql_ident(f, tables[i], strlen(tables[i]));
		}
	}
	if (fclose(f) != 0) {
		free(trunc);
		vfree(a.v);
		return -ENOMEM;
	}
	env_with(&e, NULL, NULL);
	if ((r = finish(0, &a, &e, &x, ret_extract)) < 0) {
		free(trunc);
		return r;
	}
	l.tool = "psql";
	vpush(&a2, "psql");
	vpush(&a2, "-X");
	vpush(&a2, "-q");
	vpush(&a2, "-v");
	vpush(&a2, "ON_ERROR_STOP=1");
	vpush(&a2, "--single-transaction");
	pg_conn(&a2, t);
	pg_dbname(&a2, "--dbname=", into ? into : t->dbname ? t->dbname : "postgres");
	vpushf(&a2, "--command=%s", trunc);
	vpush(&a2, "--file=-");
	env_with(&e2, "PGPASSWORD", t->password);
	if (!getenv("PGCONNECT_TIMEOUT"))
		vpush(&e2, "PGCONNECT_TIMEOUT=15");
	free(trunc);
	if ((r = finish(0, &a2, &e2, &l, ret_load)) < 0)
		dumper_cmd_clear(ret_extract);
	(void)tmpdir;
	return r;
}

int dumper_cmd_add_arg(struct dumper_cmd *c, const char *arg)
{
	struct vec a = {.v = c->argv};
	while (a.v && a.v[a.n])
		a.n++;
	vpush(&a, arg);
	c->argv = a.v;
	return a.err;
}

char *dumper_restore_hint(const struct dumper_target *t, const char *file)
{
	char pre[512] = "", conn[512] = "";
	size_t n = 0;
	if (t->container)
		snprintf(pre, sizeof pre, "docker exec -i %s ", t->container);
	else if (t->service)
		snprintf(pre, sizeof pre, "docker compose%s%s exec -T %s ", t->compose ? " -f " : "",
			 t->compose ? t->compose : "", t->service);
	bool my = t->kind == DUMPER_MYSQL, ctn = t->container || t->service;
	if (t->host && !ctn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " %s%s",
				      my && t->host[0] == '/' ? "--socket=" : "-h ", t->host);
	if (t->port && !ctn && n < sizeof conn)
		n += (size_t)snprintf(conn + n, sizeof conn - n, " %s %d", my ? "-P" : "-p", t->port);
	if (t->user && n < sizeof conn)
		snprintf(conn + n, sizeof conn - n, " %s %s", my ? "-u" : "-U", t->user);
	const char *db = t->dbname ? t->dbname : "";
	char *s = NULL;
	int r = -1;
	switch (t->kind) {
	case DUMPER_POSTGRES:
		r = asprintf(&s, "%spg_restore --clean --if-exists --no-owner%s -d %s < %s", pre, conn, db,
			     file);
		break;
	case DUMPER_MYSQL:
		r = asprintf(&s, "%smysql%s -p %s < %s", pre, conn, db, file);
		break;
	case DUMPER_MONGO:
		r = asprintf(&s, "%smongorestore --archive --drop%s%s < %s", pre,
			     t->uri && !ctn ? " --uri=" : "", t->uri && !ctn ? t->uri : "", file);
		break;
	default:
		break;
	}
	return r < 0 ? NULL : s;
}
