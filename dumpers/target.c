/* target.c — server database targets: URLs, names, locality. */
#include "dumpers/target.h"

#include "dumpers/engine.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dumper_target_clear(struct dumper_target *t)
{
	free(t->name);
	free(t->host);
	free(t->user);
	if (t->password)
		memset(t->password, 0, strlen(t->password));
	free(t->password);
	free(t->dbname);
	free(t->uri);
	free(t->container);
	free(t->service);
	free(t->compose);
	free(t->source);
	memset(t, 0, sizeof *t);
}

void dumper_targets_clear(struct dumper_targets *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		dumper_target_clear(&ts->v[i]);
	free(ts->v);
	ts->v = NULL;
	ts->n = 0;
}

static bool streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_db(const struct dumper_target *a, const struct dumper_target *b)
{
	if (a->kind != b->kind || !streq(a->dbname, b->dbname))
		return false;
	if (a->container || b->container || a->service || b->service)
		return streq(a->container, b->container) && streq(a->service, b->service);
	bool la = dumper_host_is_local(a->host), lb = dumper_host_is_local(b->host);
	return (la && lb) || streq(a->host, b->host) ? a->port == b->port : false;
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

int dumper_targets_add(struct dumper_targets *ts, const struct dumper_target *t)
{
	for (size_t i = 0; i < ts->n; i++)
		if (same_db(&ts->v[i], t))
			return 1;
	struct dumper_target *v = realloc(ts->v, (ts->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	ts->v = v;
	struct dumper_target *c = &v[ts->n];
	*c = *t;
	if (dup_str(&c->name, t->name) || dup_str(&c->host, t->host) || dup_str(&c->user, t->user) ||
	    dup_str(&c->password, t->password) || dup_str(&c->dbname, t->dbname) ||
	    dup_str(&c->uri, t->uri) || dup_str(&c->container, t->container) ||
	    dup_str(&c->service, t->service) || dup_str(&c->compose, t->compose) ||
	    dup_str(&c->source, t->source)) {
		dumper_target_clear(c);
		return -ENOMEM;
	}
	ts->n++;
	return 0;
}

/* Names, extensions and aliases are the engine's row (engine.h). */
const char *dumper_kind_name(enum dumper_kind k)
{
	const struct dumper_engine *e = dumper_engine_of(k);
	return e ? e->name : "none";
}

const char *dumper_kind_ext(enum dumper_kind k)
{
	const struct dumper_engine *e = dumper_engine_of(k);
	return e ? e->ext : "";
}

enum dumper_kind dumper_kind_parse(const char *s)
{
	const struct dumper_engine *e = dumper_engine_by_alias(s);
	return e ? e->kind : DUMPER_NONE;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Decode percent-escapes of [s, s+n) into a new string. */
static char *pct_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1), *p = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*p++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return o;
}

static int set_dec(char **dst, const char *s, size_t n)
{
	free(*dst);
	*dst = NULL;
	if (!n)
		return 0;
	return (*dst = pct_decode(s, n)) ? 0 : -ENOMEM;
}

/* ?key=value&… : the socket/host parameters (Postgres ?host=, MySQL
 * ?socket=; a URI that goes to its tool whole, Mongo's, may hold a host=
 * that must not change what the local-only rule looks at). */
static int parse_query(const char *q, struct dumper_target *t, const struct dumper_engine *e)
{
	if (e->whole_uri)
		return 0;
	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', (size_t)(end - q));
		if (eq) {
			size_t kl = (size_t)(eq - q);
			bool host = (kl == 4 && !strncmp(q, "host", 4)) || (kl == 6 && !strncmp(q, "socket", 6));
			if (host && set_dec(&t->host, eq + 1, (size_t)(end - eq - 1)))
				return -ENOMEM;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

int dumper_url_parse(const char *url, struct dumper_target *t)
{
	const char *sep = strstr(url, "://");
	if (!sep || sep == url || sep - url > 16)
		return -EINVAL;
	char scheme[17];
	memcpy(scheme, url, (size_t)(sep - url));
	scheme[sep - url] = '\0';
	const struct dumper_engine *e = dumper_engine_by_alias(scheme);
	if (!e)
		return -EINVAL;
	t->kind = e->kind;
	const char *p = sep + 3;
	const char *path = p + strcspn(p, "/?#");
	const char *at = memrchr(p, '@', (size_t)(path - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *uend = colon ? colon : at;
		if (set_dec(&t->user, p, (size_t)(uend - p)))
			return -ENOMEM;
		if (colon && set_dec(&t->password, colon + 1, (size_t)(at - colon - 1)))
			return -ENOMEM;
		p = at + 1;
	}
	/* host[:port]; [v6]:port; mongo may list several hosts (kept in uri). */
	const char *hend = path, *port = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(path - p));
		if (!rb)
			return -EINVAL;
		if (set_dec(&t->host, p + 1, (size_t)(rb - p - 1)))
			return -ENOMEM;
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		const char *colon = memrchr(p, ':', (size_t)(hend - p));
		if (colon && !memchr(p, ',', (size_t)(hend - p))) {
			port = colon + 1;
			hend = colon;
		}
		if (set_dec(&t->host, p, (size_t)(hend - p)))
			return -ENOMEM;
	}
	t->port = 0;
	if (port && isdigit((unsigned char)*port)) {
		long v = strtol(port, NULL, 10);
		if (v <= 0 || v > 65535)
			return -EINVAL;
		t->port = (int)v;
	}
	if (*path == '/') {
		const char *dend = path + 1 + strcspn(path + 1, "?#");
		if (set_dec(&t->dbname, path + 1, (size_t)(dend - path - 1)))
			return -ENOMEM;
		path = dend;
	}
	if (*path == '?' && parse_query(path + 1, t, e))
		return -ENOMEM;
	if (e->whole_uri) {
		/* Keep the URI for the tool, minus the password (it goes in a
		 * private config file). */
		free(t->uri);
		if (t->password) {
			const char *colon = memchr(sep + 3, ':', (size_t)(at - sep - 3));
			if (asprintf(&t->uri, "%.*s%s", (int)(colon - url), url, at) < 0)
				t->uri = NULL;
		} else {
			t->uri = strdup(url);
		}
		if (!t->uri)
			return -ENOMEM;
	}
	return 0;
}

bool dumper_host_is_local(const char *host)
{
	if (host && strchr(host, ','))
		return false; /* several hosts, tried in turn */
	if (!host || !*host || host[0] == '/' || !strcasecmp(host, "localhost") ||
	    !strcasecmp(host, "localhost.localdomain"))
		return true;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

bool dumper_target_is_local(const struct dumper_target *t)
{
	if (t->container || t->service)
		return true;
	/* An SRV record (a "+srv" scheme, mongodb+srv://) names other
	 * hosts, whatever this one is. */
	const char *sep = t->uri ? strstr(t->uri, "://") : NULL;
	if (sep && sep - t->uri >= 4 && !strncasecmp(sep - 4, "+srv", 4))
		return false;
	return dumper_host_is_local(t->host);
}

int dumper_target_name(struct dumper_target *t)
{
	const char *base = t->dbname ? t->dbname : t->service ? t->service : t->container ? t->container : "default";
	char *n;
	if (asprintf(&n, "%s-%s", dumper_kind_name(t->kind), base) < 0)
		return -ENOMEM;
	for (char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
			*c = '_';
	if (n[strlen(n) - 1] == '.')
		n[strlen(n) - 1] = '_';
	free(t->name);
	t->name = n;
	return 0;
}
