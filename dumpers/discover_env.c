/* discover_env.c — databases named in .env files.
 *
 * The syntax is the common dotenv one: KEY=value lines, `export ` allowed,
 * # comments, 'literal', "escaped \n" and bare values (an inline comment
 * starts at " #"), ${VAR} / $VAR expanded from earlier lines of the same
 * file.  Recognised: DATABASE_URL and *_DATABASE_URL, POSTGRES[QL]_URL,
 * MYSQL_URL, MARIADB_URL, MONGO[DB]_UR[IL]; the PG* set (PGDATABASE with
 * PGHOST, PGPORT, PGUSER, PGPASSWORD); Laravel's DB_CONNECTION set.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/target.h"

struct kv {
	char *k, *v;
};

struct env {
	struct kv *v;
	size_t n;
};

static const char *env_get(const struct env *e, const char *k)
{
	for (size_t i = e->n; i-- > 0;)
		if (!strcmp(e->v[i].k, k))
			return e->v[i].v;
	return NULL;
}

static void env_clear(struct env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].k);
		free(e->v[i].v);
	}
	free(e->v);
}

struct buf {
	char *s;
	size_t n, cap;
};

static int buf_putn(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *t = realloc(b->s, cap);
		if (!t)
			return -ENOMEM;
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
	return 0;
}

/* Expand $VAR and ${VAR} from env (unknown: empty). */
static char *expand(const char *v, const struct env *env)
{
	struct buf b = {0};
	if (buf_putn(&b, "", 0))
		return NULL;
	for (const char *p = v; *p;) {
		if (*p == '$' && (p[1] == '{' || isalpha((unsigned char)p[1]) || p[1] == '_')) {
			bool brace = p[1] == '{';
			const char *s = p + 1 + brace, *e = s;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			if (brace && *e != '}') {
				/* ${VAR:-default} and friends: keep as is. */
				if (buf_putn(&b, p, 1))
					goto fail;
				p++;
				continue;
			}
			char name[128];
			snprintf(name, sizeof name, "%.*s", (int)(e - s), s);
			const char *val = env ? env_get(env, name) : NULL;
			if (val && buf_putn(&b, val, strlen(val)))
				goto fail;
			p = e + brace;
			continue;
		}
		if (buf_putn(&b, p, 1))
			goto fail;
		p++;
	}
	return b.s;
fail:
	free(b.s);
	return NULL;
}

/* Parse one line's value starting at p; *ret malloc'd; *ret_expand says
 * whether $VAR expansion applies (not in single quotes). */
static int parse_value(const char *p, char **ret, bool *ret_expand)
{
	struct buf b = {0};
	int r = buf_putn(&b, "", 0);
	*ret_expand = true;
	if (r)
		return r;
	if (*p == '\'') {
		const char *e = strchr(p + 1, '\'');
		size_t n = e ? (size_t)(e - p - 1) : strcspn(p + 1, "\n");
		r = buf_putn(&b, p + 1, n);
		*ret_expand = false;
	} else if (*p == '"') {
		for (p++; *p && *p != '"' && !r; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				char c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
				r = buf_putn(&b, &c, 1);
			} else {
				r = buf_putn(&b, p, 1);
			}
		}
	} else {
		size_t n = strcspn(p, "\n");
		for (size_t i = 0; i < n; i++)
			if (p[i] == '#' && i > 0 && isspace((unsigned char)p[i - 1])) {
				n = i;
				break;
			}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		r = buf_putn(&b, p, n);
	}
	if (r) {
		free(b.s);
		return r;
	}
	*ret = b.s;
	return 0;
}

/* The parser proper, also recording pairs in env for expansion. */
static int parse(const char *text, struct env *env,
		 int (*cb)(void *ctx, const char *key, const char *val), void *ctx)
{
	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');
		const char *p = line;
		line = next ? next + 1 : NULL;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "export ", 7))
			for (p += 7; *p == ' ';)
				p++;
		const char *k = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
			p++;
		size_t kl = (size_t)(p - k);
		while (*p == ' ' || *p == '\t')
			p++;
		if (!kl || *p != '=' || isdigit((unsigned char)*k))
			continue; /* comment, blank or not an assignment */
		for (p++; *p == ' ' || *p == '\t';)
			p++;
		char *raw, *val;
		bool exp;
		int r = parse_value(p, &raw, &exp);
		if (r)
			return r;
		val = exp ? expand(raw, env) : raw;
		if (exp)
			free(raw);
		if (!val)
			return -ENOMEM;
		char *key = strndup(k, kl);
		struct kv *v = key ? realloc(env->v, (env->n + 1) * sizeof *v) : NULL;
		if (!v) {
			free(key);
			free(val);
			return -ENOMEM;
		}
		env->v = v;
		env->v[env->n++] = (struct kv){key, val};
		if (cb && (r = cb(ctx, key, val)) < 0)
			return r;
	}
	return 0;
}

int dumper_env_parse(const char *text, int (*cb)(void *ctx, const char *key, const char *val),
		     void *ctx)
{
	struct env env = {0};
	int r = parse(text, &env, cb, ctx);
	env_clear(&env);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_url_key(const char *k)
{
	static const char *const exact[] = {
		"DATABASE_URL", "POSTGRES_URL", "POSTGRESQL_URL", "PG_URL",   "MYSQL_URL",
		"MARIADB_URL",  "MONGODB_URI",  "MONGODB_URL",    "MONGO_URL", "MONGO_URI",
	};
	for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
		if (!strcmp(k, exact[i]))
			return true;
	return ends_with(k, "_DATABASE_URL") || ends_with(k, "_MONGODB_URI");
}

static int add(struct dumper_targets *ts, struct dumper_target *t, const char *file, const char *what)
{
	int r = 0;
	if (asprintf(&t->source, "%s: %s", file, what) < 0)
		t->source = NULL, r = -ENOMEM;
	if (!r)
		r = dumper_target_name(t);
	t->local = dumper_target_is_local(t);
	if (!r)
		r = dumper_targets_add(ts, t);
	dumper_target_clear(t);
	return r < 0 ? r : 0;
}

static int set(char **dst, const char *v)
{
	if (!v || !*v)
		return 0;
	return (*dst = strdup(v)) ? 0 : -ENOMEM;
}

int dumper_env_targets(const char *text, const char *file, struct dumper_targets *ts)
{
	struct env env = {0};
	int r = parse(text, &env, NULL, NULL);
	for (size_t i = 0; !r && i < env.n; i++) {
		/* Later assignments win, as in dotenv: skip shadowed ones. */
		if (env_get(&env, env.v[i].k) != env.v[i].v || !is_url_key(env.v[i].k))
			continue;
		struct dumper_target t = {0};
		if (dumper_url_parse(env.v[i].v, &t) == 0)
			r = add(ts, &t, file, env.v[i].k);
		else
			dumper_target_clear(&t);
	}
	const char *db = env_get(&env, "PGDATABASE");
	if (!r && db && *db) {
		struct dumper_target t = {.kind = DUMPER_POSTGRES};
		const char *port = env_get(&env, "PGPORT");
		t.port = port ? atoi(port) : 0;
		if (!(r = set(&t.dbname, db)) && !(r = set(&t.host, env_get(&env, "PGHOST"))) &&
		    !(r = set(&t.user, env_get(&env, "PGUSER"))) &&
		    !(r = set(&t.password, env_get(&env, "PGPASSWORD"))))
			r = add(ts, &t, file, "PGDATABASE");
		else
			dumper_target_clear(&t);
	}
	const char *conn = env_get(&env, "DB_CONNECTION");
	db = env_get(&env, "DB_DATABASE");
	enum dumper_kind k = conn ? dumper_kind_parse(conn) : DUMPER_NONE; /* pgsql is an alias */
	if (!r && k && db && *db) {
		struct dumper_target t = {.kind = k};
		const char *port = env_get(&env, "DB_PORT");
		t.port = port ? atoi(port) : 0;
		if (!(r = set(&t.dbname, db)) && !(r = set(&t.host, env_get(&env, "DB_HOST"))) &&
		    !(r = set(&t.user, env_get(&env, "DB_USERNAME"))) &&
		    !(r = set(&t.password, env_get(&env, "DB_PASSWORD"))))
			r = add(ts, &t, file, "DB_CONNECTION");
		else
			dumper_target_clear(&t);
	}
	env_clear(&env);
	return r;
}
