/* config_toml.c — the project's .ckptfs.toml, [databases] part.
 *
 * Read by ckptfs's one TOML reader (store/toml_lite.h): [databases] and
 * [databases.NAME] tables (NAME bare or "quoted", of letters, digits, '-',
 * '_' and '.').  Other tables are skipped (they belong to other parts of
 * ckptfs); a line that is not valid TOML of the subset, an unknown key or
 * a value of the wrong type is an error naming the file and line, so a
 * typo never silently drops a database.
 *
 *   [databases]
 *   auto = false                # ignore everything discovered
 *   [databases.main]
 *   url = "postgres://app@db.example.com/app"   # remote: allowed here
 *   password_env = "MAIN_DB_PASSWORD"           # taken from ckptfs's env
 *   [databases.cache]
 *   from = "postgres-cache_dev"  # rename a discovered one
 *   [databases.mysql-legacy]
 *   disabled = true
 *   [databases.postgres-app]
 *   required = true              # not running in docker: snapshot partial
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/config_toml.h"
#include "dumpers/target.h"
#include "store/err.h"
#include "store/toml_lite.h"

struct entry {
	char *name;
	struct dumper_target t; /* fields given */
	char *from;
	bool disabled, has_disabled, has_port, required, has_required;
};

struct cfg {
	struct entry *v;
	size_t n;
	bool no_auto;
};

static void cfg_clear(struct cfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].from);
		dumper_target_clear(&c->v[i].t);
	}
	free(c->v);
}

static int str_field(char **dst, const struct toml_value *v)
{
	if (v->type != TOML_STRING || v->in_array)
		return -EINVAL;
	char *d = strdup(v->s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int set_key(struct cfg *c, struct entry *e, const char *k, const struct toml_value *v)
{
	if (v->in_array)
		return -EINVAL;
	if (!e) {
		if (!strcmp(k, "auto") && v->type == TOML_BOOL) {
			c->no_auto = !v->b;
			return 0;
		}
		return -EINVAL;
	}
	struct dumper_target *t = &e->t;
	if (!strcmp(k, "url")) {
		if (v->type != TOML_STRING || dumper_url_parse(v->s, t) < 0)
			return -EINVAL;
		e->has_port = t->port != 0;
		return 0;
	}
	if (!strcmp(k, "kind")) {
		if (v->type != TOML_STRING || !(t->kind = dumper_kind_parse(v->s)))
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "port")) {
		if (v->type != TOML_INT || v->i <= 0 || v->i > 65535)
			return -EINVAL;
		t->port = (int)v->i;
		e->has_port = true;
		return 0;
	}
	if (!strcmp(k, "disabled")) {
		if (v->type != TOML_BOOL)
			return -EINVAL;
		e->disabled = v->b;
		e->has_disabled = true;
		return 0;
	}
	if (!strcmp(k, "required")) {
		if (v->type != TOML_BOOL)
			return -EINVAL;
		e->required = v->b;
		e->has_required = true;
		return 0;
	}
	if (!strcmp(k, "password_env")) {
		if (v->type != TOML_STRING)
			return -EINVAL;
		const char *pw = getenv(v->s);
		free(t->password);
		t->password = pw ? strdup(pw) : NULL;
		return pw && !t->password ? -ENOMEM : 0;
	}
	static const struct {
		const char *k;
		size_t off;
	} strs[] = {
		{"host", offsetof(struct dumper_target, host)},
		{"user", offsetof(struct dumper_target, user)},
		{"password", offsetof(struct dumper_target, password)},
		{"database", offsetof(struct dumper_target, dbname)},
		{"container", offsetof(struct dumper_target, container)},
		{"service", offsetof(struct dumper_target, service)},
		{"compose", offsetof(struct dumper_target, compose)},
	};
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		if (!strcmp(k, strs[i].k))
			return str_field((char **)((char *)t + strs[i].off), v);
	if (!strcmp(k, "from"))
		return str_field(&e->from, v);
	return -EINVAL;
}

struct parse_ctx {
	struct cfg *c;
	const char *file;
	char *table;          /* the table of cur (malloc'd), to see a new one */
	struct entry *cur;    /* [databases.NAME] being read, or NULL */
};

/* The entry of table "databases.NAME", made on its first key.  NAME as
 * toml_lite hands it (quotes removed): letters, digits, '-', '_', '.'. */
static int entry_for(struct parse_ctx *x, const char *table, int line, struct entry **ret)
{
	if (x->table && !strcmp(x->table, table)) {
		*ret = x->cur;
		return 0;
	}
	const char *name = table + strlen("databases.");
	for (const char *q = name; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.')
			return store_fail(-EINVAL, "%s:%d: [%s]: a database name is letters, digits, "
						   "'-', '_' and '.'", x->file, line, table);
	struct entry *v = realloc(x->c->v, (x->c->n + 1) * sizeof *v);
	char *t = strdup(table);
	if (!v || !t) {
		if (v)
			x->c->v = v;
		free(t);
		return -ENOMEM;
	}
	x->c->v = v;
	x->cur = &v[x->c->n];
	memset(x->cur, 0, sizeof *x->cur);
	if (!(x->cur->name = strdup(name))) {
		free(t);
		return -ENOMEM;
	}
	x->c->n++;
	free(x->table);
	x->table = t;
	*ret = x->cur;
	return 0;
}

/* [databases.NAME]: its entry exists from its header on, keys or not. */
static int on_table(void *ctx, const char *table, int line)
{
	struct entry *e;
	if (strncmp(table, "databases.", strlen("databases.")) != 0)
		return 0;
	if (!table[strlen("databases.")])
		return store_fail(-EINVAL, "%s:%d: [databases.]: a database needs a name",
				  ((struct parse_ctx *)ctx)->file, line);
	return entry_for(ctx, table, line, &e);
}

static int on_key(void *ctx, const char *table, const char *key, const struct toml_value *v,
		  int line)
{
	struct parse_ctx *x = ctx;
	struct entry *e = NULL;
	int r;
	/* Other tables belong to other parts of ckptfs. */
	if (strcmp(table, "databases") != 0) {
		if (strncmp(table, "databases.", strlen("databases.")) != 0 || !table[strlen("databases.")])
			return 0;
		if ((r = entry_for(x, table, line, &e)) < 0)
			return r;
	}
	r = set_key(x->c, e, key, v);
	if (r == -EINVAL)
		return store_fail(-EINVAL, "%s:%d: unknown key or bad value for %s", x->file, line, key);
	return r;
}

static int parse_cfg(const char *text, const char *file, struct cfg *c)
{
	struct parse_ctx x = {.c = c, .file = file};
	int r = toml_parse_tables(text, strlen(text), file, on_key, on_table, &x);
	free(x.table);
	return r;
}

static struct dumper_target *find(struct dumper_targets *ts, const char *name)
{
	for (size_t i = 0; name && i < ts->n; i++)
		if (!strcmp(ts->v[i].name, name))
			return &ts->v[i];
	return NULL;
}

/* Move the given fields of src over dst. */
static void override(struct dumper_target *dst, struct entry *e)
{
	struct dumper_target *s = &e->t;
	char **pairs[][2] = {
		{&dst->host, &s->host},       {&dst->user, &s->user},       {&dst->password, &s->password},
		{&dst->dbname, &s->dbname},   {&dst->uri, &s->uri},         {&dst->container, &s->container},
		{&dst->service, &s->service}, {&dst->compose, &s->compose},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
		if (*pairs[i][1]) {
			free(*pairs[i][0]);
			*pairs[i][0] = *pairs[i][1];
			*pairs[i][1] = NULL;
		}
	if (s->kind)
		dst->kind = s->kind;
	if (e->has_port)
		dst->port = s->port;
	if (e->has_disabled)
		dst->disabled = e->disabled;
	if (e->has_required)
		dst->required = e->required;
}

int dumper_config_apply(const char *text, const char *file, struct dumper_targets *ts)
{
	struct cfg c = {0};
	int r = parse_cfg(text, file, &c);
	if (r < 0)
		goto out;
	if (c.no_auto)
		dumper_targets_clear(ts);
	for (size_t i = 0; i < c.n && !r; i++) {
		struct entry *e = &c.v[i];
		struct dumper_target *t = find(ts, e->from ? e->from : e->name);
		if (!t) {
			if (e->has_disabled && e->disabled)
				continue;
			if (!e->t.kind) {
				r = store_fail(-EINVAL, "%s: [databases.%s]: needs url or kind", file, e->name);
				break;
			}
			struct dumper_target n = {.kind = e->t.kind};
			if ((r = dumper_targets_add(ts, &n)) < 0)
				break;
			t = &ts->v[ts->n - 1];
		}
		override(t, e);
		free(t->name);
		free(t->source);
		t->name = strdup(e->name);
		if (asprintf(&t->source, "%s: [databases.%s]", file, e->name) < 0)
			t->source = NULL;
		if (!t->name || !t->source)
			r = -ENOMEM;
		t->explicit_ = true;
		t->local = dumper_target_is_local(t);
	}
out:
	cfg_clear(&c);
	return r;
}
