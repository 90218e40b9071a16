/* server_schema.c — SQL questions to a server database: running its
 * client (server.h), and the migration version (migration.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/engine.h"
#include "dumpers/migration.h"
#include "dumpers/proc.h"
#include "dumpers/server.h"
#include "dumpers/session.h"
#include "store/err.h"

int dumper_query(const struct dumper_target *t, const char *tmpdir, const char *sql,
		 int timeout_ms, char **ret_rows)
{
	struct dumper_cmd c = {0};
	struct dumper_proc_out o = {0};
	int r = dumper_query_cmd(t, tmpdir, sql, &c);
	if (r < 0)
		return r;
	if ((r = dumper_proc_run(c.argv, c.envp, NULL, timeout_ms, &o)) < 0)
		goto out;
	if (!dumper_proc_ok(&o)) {
		char line[256];
		dumper_first_line(o.err, line, sizeof line);
		r = store_fail(-EIO, "%s: %s", c.tool,
			       o.timed_out ? "no answer in time" : *line ? line : "failed");
		goto out;
	}
	*ret_rows = o.out;
	o.out = NULL;
out:
	dumper_proc_out_clear(&o);
	dumper_cmd_clear(&c);
	return r;
}

int dumper_schema_ask(const char *schema_sql, dumper_ask_fn ask, void *ctx,
		      struct dumper_schema *ret)
{
	struct dumper_schema s = {0};
	char *sql = NULL, *cols = NULL, *rows = NULL;
	int r = -ENOMEM;
	if (asprintf(&sql, "SELECT table_name, column_name FROM information_schema.columns WHERE "
			   "table_schema = %s AND table_name IN (%s)",
		     schema_sql, dumper_migration_tables_sql()) < 0) {
		sql = NULL;
		goto out;
	}
	if ((r = ask(ctx, sql, &cols)) < 0)
		goto out;
	size_t n;
	const struct dumper_migration_probe *p = dumper_migration_probes(&n);
	int i = dumper_migration_pick(cols);
	r = 0;
	if (i < 0)
		goto out;
	if ((r = ask(ctx, p[i].query, &rows)) < 0)
		goto out;
	if (!(s.tool = strdup(p[i].tool)) || (r = dumper_migration_format(rows, &s.version)) < 0) {
		r = -ENOMEM;
		goto out;
	}
out:
	free(sql);
	free(cols);
	free(rows);
	if (r < 0) {
		dumper_schema_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

struct client_ask {
	const struct dumper_target *t;
	const char *tmpdir;
};

static int client_ask(void *ctx, const char *sql, char **ret_rows)
{
	struct client_ask *c = ctx;
	return dumper_query(c->t, c->tmpdir, sql, 30000, ret_rows);
}

int dumper_server_schema(const struct dumper_target *t, const char *tmpdir,
			 struct dumper_schema *ret)
{
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (!e || !e->schema_sql) { /* no SQL: no migration tables to ask */
		memset(ret, 0, sizeof *ret);
		return 0;
	}
	struct client_ask c = {.t = t, .tmpdir = tmpdir};
	return dumper_schema_ask(e->schema_sql, client_ask, &c, ret);
}
