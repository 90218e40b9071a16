/* retcfg.c — retention and trash settings from config.toml and
 * .ckptfs.toml (retcfg.h). */
#include "src/retcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/forget.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/toml_lite.h"

#define MAX_CONFIG_BYTES (1 << 20)

/* The whole file into a malloc'd buffer; -ENOENT (nothing recorded) if it
 * does not exist. */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) /* a FIFO must not hang */;
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : store_failp(-errno, "%s", path);
	int r = fio_read_small(fd, MAX_CONFIG_BYTES, ret, ret_len);
	close(fd);
	if (r == -EINVAL || r == -EFBIG)
		return store_fail(-EINVAL, "%s: not a configuration file (a regular file up to 1 MiB)",
				  path);
	return r < 0 ? store_fail(r, "%s: %s", path, strerror(-r)) : 0;
}

static const char *const unit_key[RETENTION_UNITS] = {"last",   "hourly",  "daily",
						      "weekly", "monthly", "yearly"};

/* Collecting one retention table of one file. */
struct collect {
	const char *file;
	const char *want; /* table to collect, or NULL: only check every table */
	bool top;         /* config.toml (auto and [trash] allowed) */
	struct retcfg_policy *into;
	size_t ntags;
	bool found;
	int days;
	int auto_forget; /* -1 unset */
};

static int add_tag(struct collect *c, const char *tag, int line)
{
	if (!c->into)
		return 0;
	char **t = realloc(c->into->tags, (c->ntags + 2) * sizeof *t);
	if (!t)
		return store_fail(-ENOMEM, "%s: out of memory", c->file);
	c->into->tags = t;
	if (!(t[c->ntags] = strdup(tag)))
		return store_fail(-ENOMEM, "%s: out of memory", c->file);
	t[++c->ntags] = NULL;
	c->into->policy.tags = (const char *const *)t;
	c->into->policy.ntags = c->ntags;
	(void)line;
	return 0;
}

/* key = v of a retention table into policy (NULL: only check). */
static int retention_key(struct collect *c, struct retention_policy *pol, const char *key,
			 const struct toml_value *v, int line)
{
	struct retention_policy scratch = {0};
	if (!pol)
		pol = &scratch;
	if (!strcmp(key, "keep_tag")) {
		if (v->type != TOML_STRING || !*v->s)
			return store_fail(-EINVAL, "%s:%d: keep_tag: a tag (string) or an array of them",
					  c->file, line);
		return pol == &scratch ? 0 : add_tag(c, v->s, line);
	}
	if (v->in_array)
		return store_fail(-EINVAL, "%s:%d: %s: not an array", c->file, line, key);
	if (!strcmp(key, "keep_within")) {
		if (v->type != TOML_STRING || forget_parse_within(v->s, &pol->within_ns) < 0)
			return store_fail(-EINVAL, "%s:%d: keep_within: a duration (\"2d\", \"36h\")",
					  c->file, line);
		return 0;
	}
	for (int u = 0; u < RETENTION_UNITS; u++) {
		char k[64];
		snprintf(k, sizeof k, "keep_%s", unit_key[u]);
		if (!strcmp(key, k)) {
			if (v->type == TOML_INT && v->i >= 0) {
				pol->keep[u] = v->i;
				return 0;
			}
			if (v->type == TOML_STRING && !strcmp(v->s, "unlimited")) {
				pol->keep[u] = RETENTION_UNLIMITED;
				return 0;
			}
			return store_fail(-EINVAL, "%s:%d: %s: a count (0 and up) or \"unlimited\"",
					  c->file, line, key);
		}
		snprintf(k, sizeof k, "keep_within_%s", unit_key[u]);
		if (u != RETENTION_LAST && !strcmp(key, k)) {
			if (v->type != TOML_STRING ||
			    forget_parse_within(v->s, &pol->within_unit_ns[u]) < 0)
				return store_fail(-EINVAL, "%s:%d: %s: a duration (\"30d\")", c->file,
						  line, key);
			return 0;
		}
	}
	return store_fail(-EINVAL, "%s:%d: [retention] has no key %s", c->file, line, key);
}

static int on_key(void *ctx, const char *table, const char *key, const struct toml_value *v,
		  int line)
{
	struct collect *c = ctx;
	if (c->top && !strcmp(table, "trash")) {
		if (strcmp(key, "days") || v->type != TOML_INT || v->i < 1 || v->i > 3650)
			return store_fail(-EINVAL, "%s:%d: [trash] takes days = 1..3650", c->file,
					  line);
		c->days = (int)v->i;
		return 0;
	}
	bool retention = !strcmp(table, "retention") || !strncmp(table, "retention.", 10);
	if (!retention)
		return 0; /* other tables belong to other parts of ckptfs */
	if (c->top && !strcmp(table, "retention") && !strcmp(key, "auto")) {
		if (v->type != TOML_BOOL)
			return store_fail(-EINVAL, "%s:%d: auto: true or false", c->file, line);
		c->auto_forget = v->b;
		return 0;
	}
	if (!c->top && strcmp(table, "retention") != 0)
		return store_fail(-EINVAL, "%s:%d: [%s]: a project's file has [retention] only",
				  c->file, line, table);
	bool mine = c->want && !strcmp(table, c->want);
	if (mine)
		c->found = true;
	return retention_key(c, mine && c->into ? &c->into->policy : NULL, key, v, line);
}

static int parse(struct collect *c, const char *text, size_t len)
{
	return toml_parse(text, len, c->file, on_key, c);
}

/* Collect table want of text into ret; *ret_found whether it has keys. */
static int collect_table(const char *file, const char *text, size_t len, bool top,
			 const char *want, struct retcfg_policy *ret, bool *ret_found)
{
	struct collect c = {.file = file, .want = want, .top = top, .into = ret,
			    .auto_forget = -1};
	int r = parse(&c, text, len);
	if (r < 0)
		return r;
	*ret_found = c.found;
	if (c.found && retention_policy_empty(&ret->policy))
		return store_fail(-EINVAL, "%s: [%s] keeps nothing: every rule is 0", file, want);
	return 0;
}

int retcfg_load(struct retcfg *ret)
{
	struct retcfg c = {.days = FORGET_TRASH_DAYS};
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int r = 0;
	if (x && *x == '/')
		r = asprintf(&c.file, "%s/ckptfs/config.toml", x);
	else if (home && *home)
		r = asprintf(&c.file, "%s/.config/ckptfs/config.toml", home);
	if (r < 0)
		return store_fail(-ENOMEM, "config: out of memory");
	if (c.file) {
		r = read_file(c.file, &c.text, &c.len);
		if (r == -ENOENT)
			r = 0;
		if (r < 0)
			goto fail;
	}
	if (c.text) {
		struct retcfg_policy scratch = {0};
		struct collect k = {.file = c.file, .want = "retention", .top = true,
				    .into = &scratch, .auto_forget = -1};
		r = parse(&k, c.text, c.len);
		if (r == 0 && k.found && retention_policy_empty(&scratch.policy))
			r = store_fail(-EINVAL, "%s: [retention] keeps nothing: every rule is 0",
				       c.file);
		retcfg_policy_clear(&scratch);
		if (r < 0)
			goto fail;
		c.days = k.days ? k.days : c.days;
		c.has_retention = k.found;
		c.auto_forget = k.auto_forget < 0 ? k.found : k.auto_forget;
	}
	*ret = c;
	return 0;
fail:
	retcfg_clear(&c);
	return r;
}

void retcfg_clear(struct retcfg *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->text);
	memset(c, 0, sizeof *c);
}

void retcfg_policy_clear(struct retcfg_policy *p)
{
	if (!p)
		return;
	free(p->source);
	for (size_t i = 0; p->tags && p->tags[i]; i++)
		free(p->tags[i]);
	free(p->tags);
	memset(p, 0, sizeof *p);
}

static void set_source(struct retcfg_policy *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Where the policy came from, for messages (NULL if out of memory). */
static void set_source(struct retcfg_policy *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(p->source);
	if (vasprintf(&p->source, fmt, ap) < 0)
		p->source = NULL;
	va_end(ap);
}

/* [retention.NAME] matches [retention."NAME"] too: toml_lite hands over
 * quoted parts unquoted. */
int retcfg_policy(const struct retcfg *c, const struct project *p, struct retcfg_policy *ret)
{
	memset(ret, 0, sizeof *ret);
	char want[300];
	bool found = false;
	int r = 0;
	snprintf(want, sizeof want, "retention.%s", p->name);
	if (c->text) {
		r = collect_table(c->file, c->text, c->len, true, want, ret, &found);
		if (r < 0 || found) {
			set_source(ret, "%s [%s]", c->file, want);
			return r;
		}
	}
	char *pfile = NULL, *ptext = NULL;
	size_t plen = 0;
	if (asprintf(&pfile, "%s/.ckptfs.toml", p->root) < 0)
		return store_fail(-ENOMEM, "config: out of memory");
	r = read_file(pfile, &ptext, &plen);
	if (r == 0) {
		r = collect_table(pfile, ptext, plen, false, "retention", ret, &found);
		set_source(ret, "%s [retention]", pfile);
	} else if (r == -ENOENT) {
		r = 0;
	}
	free(ptext);
	free(pfile);
	if (r < 0 || found)
		return r;
	if (c->has_retention) {
		r = collect_table(c->file, c->text, c->len, true, "retention", ret, &found);
		set_source(ret, "%s [retention]", c->file);
		return r;
	}
	retention_policy_default(&ret->policy);
	set_source(ret, "built-in default");
	return 0;
}
