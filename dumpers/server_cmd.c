/* server_cmd.c — the dump, restore and SQL commands of a target
 * (server.h): checked here, built by the target's engine row (engine.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/engine.h"
#include "dumpers/server.h"
#include "store/err.h"

void dumper_cmd_clear(struct dumper_cmd *c)
{
	if (c->secret_file) {
		unlink(c->secret_file);
		free(c->secret_file);
	}
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free(c->argv[i]);
	free(c->argv);
	for (size_t i = 0; c->envp && c->envp[i]; i++) {
		memset(c->envp[i], 0, strlen(c->envp[i])); /* may hold a password */
		free(c->envp[i]);
	}
	free(c->envp);
	memset(c, 0, sizeof *c);
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

bool dumper_plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* t checked, and its engine row (-EINVAL for a kind without one). */
static int engine_for(const struct dumper_target *t, const struct dumper_engine **ret)
{
	int r = dumper_target_check(t);
	if (r < 0)
		return r;
	if (!(*ret = dumper_engine_of(t->kind)))
		return store_fail(-EINVAL, "database %s: unknown kind", t->name);
	return 0;
}

/* The dump (or restore) command of t: argv and environment only; running
 * it is server_dump.c's job. */
static int build(const struct dumper_target *t, const char *tmpdir, bool restore, const char *into,
		 struct dumper_cmd *ret)
{
	const struct dumper_engine *e;
	struct cmdb b = {0};
	const char *db = into ? into : t->dbname;
	int r = engine_for(t, &e);
	if (r < 0)
		return r;
	const struct dumper_engine_cmds *c = t->container || t->service ? &e->docker : &e->server;
	r = restore ? c->restore(t, tmpdir, db, into, &b) : c->dump(t, tmpdir, db, &b);
	return cmdb_finish(&b, r, ret);
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
	const struct dumper_engine *e;
	struct cmdb b = {0};
	int r = engine_for(t, &e);
	if (r < 0)
		return r;
	if (!e->query)
		return store_fail(-EINVAL, "database %s: %s", t->name, e->no_sql);
	return cmdb_finish(&b, e->query(t, tmpdir, sql, &b), ret);
}

static int bad_name(const char *name)
{
	return store_fail(-EINVAL, "database name '%s': use letters, digits, '_', '-' and '.'",
			  name ? name : "");
}

int dumper_create_cmd(const struct dumper_target *t, const char *tmpdir, const char *into,
		      struct dumper_cmd *ret)
{
	const struct dumper_engine *e;
	struct cmdb b = {0};
	if (!dumper_plain_name(into))
		return bad_name(into);
	int r = engine_for(t, &e);
	if (r < 0)
		return r;
	if (!e->create) { /* made on its first write */
		memset(ret, 0, sizeof *ret);
		return 0;
	}
	return cmdb_finish(&b, e->create(t, tmpdir, into, &b), ret);
}

int dumper_drop_cmd(const struct dumper_target *t, const char *tmpdir, const char *name,
		    struct dumper_cmd *ret)
{
	const struct dumper_engine *e;
	struct cmdb b = {0};
	if (!dumper_plain_name(name))
		return bad_name(name);
	int r = engine_for(t, &e);
	if (r < 0)
		return r;
	if (t->container || t->service || !e->drop)
		return store_fail(-EINVAL, "database %s: cannot drop a database of this kind here", t->name);
	return cmdb_finish(&b, e->drop(t, tmpdir, name, &b), ret);
}

int dumper_cmd_add_arg(struct dumper_cmd *c, const char *arg)
{
	size_t n = 0;
	while (c->argv && c->argv[n])
		n++;
	char **v = realloc(c->argv, (n + 2) * sizeof *v);
	if (!v)
		return -ENOMEM;
	c->argv = v;
	if (!(v[n] = strdup(arg)))
		return -ENOMEM;
	v[n + 1] = NULL;
	return 0;
}

char *dumper_restore_hint(const struct dumper_target *t, const char *file)
{
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	char pre[512] = "";
	if (!e)
		return NULL;
	if (t->container)
		snprintf(pre, sizeof pre, "docker exec -i %s ", t->container);
	else if (t->service)
		snprintf(pre, sizeof pre, "docker compose%s%s exec -T %s ", t->compose ? " -f " : "",
			 t->compose ? t->compose : "", t->service);
	return e->hint(t, pre, file);
}
