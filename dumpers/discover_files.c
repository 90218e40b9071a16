/* discover_files.c — databases described by Rails' config/database.yml
 * and by Compose files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/engine.h"
#include "dumpers/target.h"
#include "dumpers/yaml_lite.h"

/* ERB (<%= ENV[...] %>) and compose ${VAR} values are not known here. */
static const char *known(const char *v)
{
	return v && !strstr(v, "<%") && !strstr(v, "${") ? v : NULL;
}

static int set(char **dst, const char *v)
{
	free(*dst);
	*dst = NULL;
	if (!known(v))
		return 0;
	return (*dst = strdup(v)) ? 0 : -ENOMEM;
}

static const struct yl_node *anchor(const struct yl_node *root, const char *name)
{
	for (size_t i = 0; i < root->n; i++)
		if (root->kids[i]->anchor && !strcmp(root->kids[i]->anchor, name))
			return root->kids[i];
	return NULL;
}

/* key in section, following "<<: *anchor" merges (a few levels deep). */
static const char *rails_get(const struct yl_node *root, const struct yl_node *sec, const char *key,
			     int depth)
{
	const char *v = yl_str(sec, key);
	if (v || depth > 4)
		return known(v);
	const char *merge = yl_str(sec, "<<");
	if (merge && merge[0] == '*') {
		const struct yl_node *a = anchor(root, merge + 1);
		if (a)
			return rails_get(root, a, key, depth + 1);
	}
	return NULL;
}

static int finish(struct dumper_targets *ts, struct dumper_target *t, const char *src, bool local)
{
	int r = (t->source = strdup(src)) ? dumper_target_name(t) : -ENOMEM;
	t->local = local;
	if (!r)
		r = dumper_targets_add(ts, t);
	dumper_target_clear(t);
	return r < 0 ? r : 0;
}

int dumper_rails_targets(const char *text, struct dumper_targets *ts)
{
	struct yl_node *root;
	int r = yl_parse(text, &root);
	if (r)
		return r;
	const struct yl_node *dev = yl_get(root, "development");
	/* Rails 6 multi-db: development: { primary: {...}, cache: {...} } */
	const struct yl_node *secs[16];
	size_t nsecs = 0;
	if (dev && (rails_get(root, dev, "adapter", 0) || rails_get(root, dev, "url", 0)))
		secs[nsecs++] = dev;
	else
		for (size_t i = 0; dev && i < dev->n && nsecs < 16; i++)
			if (dev->kids[i]->key && dev->kids[i]->n)
				secs[nsecs++] = dev->kids[i];
	for (size_t i = 0; i < nsecs && !r; i++) {
		const struct yl_node *s = secs[i];
		struct dumper_target t = {0};
		const char *url = rails_get(root, s, "url", 0);
		if (url && dumper_url_parse(url, &t) != 0) {
			dumper_target_clear(&t);
			continue;
		}
		if (!url)
			t.kind = dumper_kind_parse(rails_get(root, s, "adapter", 0));
		const char *port = rails_get(root, s, "port", 0);
		if (port)
			t.port = atoi(port);
		const char *sock = rails_get(root, s, "socket", 0);
		if (t.kind == DUMPER_NONE ||
		    (rails_get(root, s, "database", 0) && (r = set(&t.dbname, rails_get(root, s, "database", 0)))) ||
		    (rails_get(root, s, "host", 0) && (r = set(&t.host, rails_get(root, s, "host", 0)))) ||
		    (sock && (r = set(&t.host, sock))) ||
		    (rails_get(root, s, "username", 0) && (r = set(&t.user, rails_get(root, s, "username", 0)))) ||
		    (rails_get(root, s, "password", 0) && (r = set(&t.password, rails_get(root, s, "password", 0)))) ||
		    !t.dbname) {
			dumper_target_clear(&t);
			continue;
		}
		r = finish(ts, &t, "config/database.yml: development", dumper_target_is_local(&t));
	}
	yl_free(root);
	return r;
}

/* A variable of a service's environment (map or "- K=V" list form). */
static const char *svc_env(const struct yl_node *svc, const char *key)
{
	const struct yl_node *env = yl_get(svc, "environment");
	size_t kl = strlen(key);
	for (size_t i = 0; env && i < env->n; i++) {
		const struct yl_node *e = env->kids[i];
		if (e->key && !strcmp(e->key, key))
			return known(e->value);
		if (!e->key && e->value && !strncmp(e->value, key, kl) && e->value[kl] == '=')
			return known(e->value + kl + 1);
	}
	return NULL;
}

/* svc_env as the engine rows ask it (dumper_env_get_fn). */
static const char *svc_env_get(void *svc, const char *key)
{
	return svc_env(svc, key);
}

int dumper_compose_targets(const char *text, const char *file, struct dumper_targets *ts)
{
	struct yl_node *root;
	int r = yl_parse(text, &root);
	if (r)
		return r;
	const struct yl_node *svcs = yl_get(root, "services");
	for (size_t i = 0; svcs && i < svcs->n && !r; i++) {
		const struct yl_node *svc = svcs->kids[i];
		const struct dumper_engine *eng = svc->key ? dumper_engine_by_image(yl_str(svc, "image")) : NULL;
		if (!eng)
			continue;
		struct dumper_target t = {.kind = eng->kind};
		struct dumper_compose_login login = {0};
		eng->compose_login(svc_env_get, (void *)svc, &login);
		const char *user = login.user, *pw = login.password, *db = login.dbname;
		char src[512];
		snprintf(src, sizeof src, "%s: service %s", file, svc->key);
		const char *cname = known(yl_str(svc, "container_name"));
		if ((r = set(&t.user, user)) || (r = set(&t.password, pw)) || (r = set(&t.dbname, db)) ||
		    (r = set(&t.container, cname)) || (!cname && (r = set(&t.service, svc->key))) ||
		    (!cname && (r = set(&t.compose, file)))) {
			dumper_target_clear(&t);
			break;
		}
		r = finish(ts, &t, src, true);
	}
	yl_free(root);
	return r;
}
