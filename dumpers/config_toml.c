/* config_toml.c — the project's .ckptfs.toml, [databases] part.
 *
 * The TOML subset read: [table] and [databases.NAME] headers (NAME bare or
 * "quoted"), key = value with "basic" strings (\" \\ \n \t escapes),
 * 'literal' strings, integers and true/false, # comments.  Other tables
 * are skipped (they may belong to other parts of ckptfs); a line that is
 * not valid in the subset is an error naming the file and line, so a typo
 * never silently drops a database.
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

enum vtype { V_STR, V_INT, V_BOOL };

struct value {
	enum vtype type;
	char *s;
	long i;
	bool b;
};

/* Parse the value at p (to end of line); -EINVAL if malformed. */
static int parse_value(const char *p, struct value *v)
{
	memset(v, 0, sizeof *v);
	const char *rest;
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		size_t cap = strlen(p) + 1, n = 0;
		char *s = malloc(cap);
		if (!s)
			return -ENOMEM;
		for (; *p && *p != q && *p != '\n'; p++) {
			if (q == '"' && *p == '\\' && p[1] && p[1] != '\n') {
				p++;
				s[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			} else {
				s[n++] = *p;
			}
		}
		s[n] = '\0';
		if (*p != q) {
			free(s);
			return -EINVAL;
		}
		v->type = V_STR;
		v->s = s;
		rest = p + 1;
	} else if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5)) {
		v->type = V_BOOL;
		v->b = *p == 't';
		rest = p + (v->b ? 4 : 5);
	} else if (isdigit((unsigned char)*p) || *p == '-' || *p == '+') {
		char *e;
		v->type = V_INT;
		v->i = strtol(p, &e, 10);
		if (e == p)
			return -EINVAL;
		rest = e;
	} else {
		return -EINVAL;
	}
	while (*rest == ' ' || *rest == '\t' || *rest == '\r')
		rest++;
	if (*rest && *rest != '\n' && *rest != '#') {
		free(v->s);
		v->s = NULL;
		return -EINVAL;
	}
	return 0;
}

static int str_field(char **dst, struct value *v)
{
	if (v->type != V_STR)
		return -EINVAL;
	free(*dst);
	*dst = v->s;
	v->s = NULL;
	return 0;
}

static int set_key(struct cfg *c, struct entry *e, const char *k, struct value *v)
{
	if (!e) {
		if (!strcmp(k, "auto") && v->type == V_BOOL) {
			c->no_auto = !v->b;
			return 0;
		}
		return -EINVAL;
	}
	struct dumper_target *t = &e->t;
	if (!strcmp(k, "url")) {
		if (v->type != V_STR || dumper_url_parse(v->s, t) < 0)
			return -EINVAL;
		e->has_port = t->port != 0;
		return 0;
	}
	if (!strcmp(k, "kind")) {
		if (v->type != V_STR || !(t->kind = dumper_kind_parse(v->s)))
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "port")) {
		if (v->type != V_INT || v->i <= 0 || v->i > 65535)
			return -EINVAL;
		t->port = (int)v->i;
		e->has_port = true;
		return 0;
	}
	if (!strcmp(k, "disabled")) {
		if (v->type != V_BOOL)
			return -EINVAL;
		e->disabled = v->b;
		e->has_disabled = true;
		return 0;
	}
	if (!strcmp(k, "required")) {
		if (v->type != V_BOOL)
			return -EINVAL;
		e->required = v->b;
		e->has_required = true;
		return 0;
	}
	if (!strcmp(k, "password_env")) {
		if (v->type != V_STR)
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

static int parse_cfg(const char *text, const char *file, struct cfg *c)
{
	int lineno = 0;
	bool in_db = false;
	struct entry *cur = NULL;
	for (const char *line = text; line && *line;) {
		const char *p = line;
		const char *next = strchr(line, '\n');
		line = next ? next + 1 : NULL;
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '#' || *p == '\r')
			continue;
		if (*p == '[') {
			size_t n = strcspn(p, "]\n");
			if (p[n] != ']' || p[1] == '[')
				goto bad;
			char hdr[256];
			snprintf(hdr, sizeof hdr, "%.*s", (int)(n - 1), p + 1);
			cur = NULL;
			in_db = !strcmp(hdr, "databases");
			if (!strncmp(hdr, "databases.", 10)) {
				char *name = hdr + 10;
				size_t nl = strlen(name);
				if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') {
					name[nl - 1] = '\0';
					name++;
				}
				for (char *q = name; *q; q++)
					if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.')
						goto bad;
				if (!*name)
					goto bad;
				struct entry *v = realloc(c->v, (c->n + 1) * sizeof *v);
				if (!v)
					return -ENOMEM;
				c->v = v;
				cur = &v[c->n++];
				memset(cur, 0, sizeof *cur);
				if (!(cur->name = strdup(name)))
					return -ENOMEM;
				in_db = true;
			}
			continue;
		}
		const char *k = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			p++;
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)(p - k), k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (p == k || *p != '=')
			goto bad;
		for (p++; *p == ' ' || *p == '\t';)
			p++;
		struct value v;
		int r = parse_value(p, &v);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			goto bad;
		if (in_db)
			r = set_key(c, cur, key, &v);
		free(v.s);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return store_fail(-EINVAL, "%s:%d: unknown key or bad value for %s", file, lineno, key);
	}
	return 0;
bad:
	return store_fail(-EINVAL, "%s:%d: not understood (see the README, Databases)", file, lineno);
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
