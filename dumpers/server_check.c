/* server_check.c — what a project file may hand to a database tool.
 *
 * Every target field comes from files in the project (.env, database.yml,
 * compose files, .ckptfs.toml), and a cloned repository may be hostile.
 * The values reach three channels: an option file (one option a line, so a
 * newline would add options or sections), the child's environment, and
 * its arguments (where a leading '-' is an option, and Postgres reads a
 * database name holding '=' as a whole connection string).  Rather than
 * escaping for each tool's dialect, values that no honest configuration
 * has are refused, once, before any command is built; what remains is
 * quoted for its channel by the builders (server_cmd.c). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dumpers/engine.h"
#include "dumpers/server.h"
#include "store/err.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A Docker container or Compose service name. */
static bool docker_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

static int refuse(const struct dumper_target *t, const char *field, const char *why)
{
	return store_fail(-EINVAL, "%s: %s %s; refused", t->source ? t->source : t->name ? t->name : "?",
			  field, why);
}

int dumper_target_check(const struct dumper_target *t)
{
	const struct {
		const char *name, *v;
		bool arg; /* may land where a leading '-' is an option */
	} f[] = {
		{"host", t->host, true},       {"user", t->user, true},
		{"password", t->password, false}, {"database", t->dbname, true},
		{"uri", t->uri, false},        {"container", t->container, true},
		{"service", t->service, true}, {"compose file", t->compose, true},
	};
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		if (!f[i].v)
			continue;
		if (has_control(f[i].v))
			return refuse(t, f[i].name, "holds a control character");
		if (f[i].arg && f[i].v[0] == '-')
			return refuse(t, f[i].name, "starts with '-'");
	}
	/* libpq and the MySQL clients take "a,b" as several hosts, tried in
	 * turn: the local-only rule judged one.  (A URI the tool gets whole,
	 * Mongo's, keeps its list; a list of hosts is never taken for local.) */
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (!(e && e->whole_uri) && t->host && strchr(t->host, ','))
		return refuse(t, "host", "lists several hosts");
	/* libpq reads a database name with '=' (or a URI) as a whole
	 * connection string, host included: quoting it is not enough. */
	if (e && e->dbname_conninfo && t->dbname &&
	    (strchr(t->dbname, '=') || strstr(t->dbname, "://")))
		return refuse(t, "database", "looks like a connection string");
	if (t->container && !docker_name(t->container))
		return refuse(t, "container", "is not a container name");
	if (t->service && !docker_name(t->service))
		return refuse(t, "service", "is not a service name");
	if (t->port < 0 || t->port > 65535)
		return refuse(t, "port", "is out of range");
	return 0;
}
