/* cmdbuild.c — argv and environment of the tools (cmdbuild.h). */
#include "dumpers/cmdbuild.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/err.h"

extern char **environ;

static void vpush(struct cmdb *b, struct cmdb_vec *a, const char *s)
{
	if (b->err)
		return;
	char **v = realloc(a->v, (a->n + 2) * sizeof *v);
	char *d = s ? strdup(s) : NULL;
	if (!v || (s && !d)) {
		free(d);
		if (v)
			a->v = v;
		b->err = -ENOMEM;
		return;
	}
	a->v = v;
	v[a->n++] = d;
	v[a->n] = NULL;
}

static void vfree(struct cmdb_vec *a, bool secret)
{
	for (size_t i = 0; a->v && a->v[i]; i++) {
		if (secret)
			memset(a->v[i], 0, strlen(a->v[i])); /* may hold a password */
		free(a->v[i]);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

void cmdb_arg(struct cmdb *b, const char *s)
{
	vpush(b, &b->a, s);
}

void cmdb_argf(struct cmdb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) {
		b->err = -ENOMEM;
	} else {
		vpush(b, &b->a, s);
		free(s);
	}
	va_end(ap);
}

void cmdb_env(struct cmdb *b, const char *name_value)
{
	vpush(b, &b->e, name_value);
}

void cmdb_env_with(struct cmdb *b, const char *name, const char *value)
{
	size_t nl = name ? strlen(name) : 0;
	for (char **p = environ; p && *p; p++)
		if (!name || strncmp(*p, name, nl) || (*p)[nl] != '=')
			vpush(b, &b->e, *p);
	if (name && value) {
		char *s;
		if (asprintf(&s, "%s=%s", name, value) < 0) {
			b->err = -ENOMEM;
			return;
		}
		vpush(b, &b->e, s);
		memset(s, 0, strlen(s));
		free(s);
	}
}

int cmdb_secret(struct cmdb *b, const char *tmpdir, const char *text)
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
	b->c.secret_file = p;
	return 0;
}

char *cmdb_dquote(const char *s)
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

void cmdb_docker_sh(struct cmdb *b, const struct dumper_target *t, bool input)
{
	if (t->container) {
		cmdb_arg(b, "docker");
		cmdb_arg(b, "exec");
		if (input)
			cmdb_arg(b, "-i");
		cmdb_arg(b, t->container);
	} else {
		if (t->compose_v1) {
			cmdb_arg(b, "docker-compose");
		} else {
			cmdb_arg(b, "docker");
			cmdb_arg(b, "compose");
		}
		if (t->compose)
			cmdb_argf(b, "--file=%s", t->compose);
		cmdb_arg(b, "exec");
		cmdb_arg(b, "-T");
		cmdb_arg(b, t->service);
	}
	cmdb_arg(b, "sh");
	cmdb_arg(b, "-c");
}

int cmdb_finish(struct cmdb *b, int r, struct dumper_cmd *ret)
{
	if (r == 0)
		r = b->err;
	if (r < 0) {
		vfree(&b->a, false);
		vfree(&b->e, true);
		dumper_cmd_clear(&b->c);
		return r;
	}
	b->c.argv = b->a.v;
	b->c.envp = b->e.v;
	*ret = b->c;
	memset(b, 0, sizeof *b);
	return 0;
}
