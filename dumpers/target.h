/* target.h — server databases to dump, and finding them (dumpers-internal).
 *
 * Sources, in order: the project's .env files, Rails config/database.yml,
 * Compose files, then .ckptfs.toml (which adds, renames, disables).  Each
 * parser is pure (text in, targets out) so it is tested table-driven.
 */
#ifndef CKPTFS_DUMPERS_TARGET_H
#define CKPTFS_DUMPERS_TARGET_H

#include <stdbool.h>
#include <stddef.h>

/* Each kind has its row in the table of engines (engine.h). */
enum dumper_kind { DUMPER_NONE = 0, DUMPER_POSTGRES, DUMPER_MYSQL, DUMPER_MONGO };
#define DUMPER_NKINDS (DUMPER_MONGO + 1) /* keep it the last kind + 1 */

struct dumper_target {
	char *name;        /* "postgres-myapp": dump file stem, --db NAME */
	enum dumper_kind kind;
	char *host;        /* NULL: the tool's default; "/dir": Unix socket dir/path */
	int port;          /* 0: default */
	char *user, *password, *dbname;
	char *uri;         /* mongo: the connection string without password */
	char *container;   /* dump with `docker exec CONTAINER …` */
	char *service;     /* dump with `docker compose -f COMPOSE exec -T SERVICE …` */
	char *compose;     /* compose file, relative to the project root */
	char *source;      /* where it was found: ".env: DATABASE_URL" */
	bool local;        /* loopback, Unix socket or a local container */
	bool explicit_;    /* listed in .ckptfs.toml (remote allowed) */
	bool disabled;
	bool required;     /* .ckptfs.toml required = true: a skip is a failure */
	bool compose_v1;   /* reach the service through docker-compose (probe) */
};

struct dumper_targets {
	struct dumper_target *v;
	size_t n;
};

void dumper_target_clear(struct dumper_target *t);
void dumper_targets_clear(struct dumper_targets *ts);

/* Append a deep copy of t, unless a target with the same kind, host, port
 * and database (or container/service and database) is there already.
 * 0, 1 if it was a duplicate, -ENOMEM. */
int dumper_targets_add(struct dumper_targets *ts, const struct dumper_target *t);

/* The engine row's name ("postgres"; "none"), its kind from any alias
 * (postgresql, mariadb, mongodb+srv …; DUMPER_NONE), its extension. */
const char *dumper_kind_name(enum dumper_kind k);
enum dumper_kind dumper_kind_parse(const char *s);
const char *dumper_kind_ext(enum dumper_kind k);

/* Parse a connection URL (postgres[ql]://, mysql[2]://, mariadb://,
 * mongodb[+srv]://) into t's kind/host/port/user/password/dbname (and uri
 * for mongo).  Percent-escapes are decoded; ?host= (postgres) and ?socket=
 * (mysql) give a socket.  -EINVAL if it is not such a URL. */
int dumper_url_parse(const char *url, struct dumper_target *t);

/* true if the host is the local machine: empty/NULL, "localhost",
 * 127.0.0.0/8, ::1, or a Unix socket path.  Containers are local too. */
bool dumper_host_is_local(const char *host);

/* The local-only decision on the final parsed target: a container or
 * service, or a local host (a Mongo SRV URI never is). */
bool dumper_target_is_local(const struct dumper_target *t);

/* Fill t->name as "<kind>-<dbname>" (or "<kind>-<service>"), keeping only
 * [A-Za-z0-9._-].  0 or -ENOMEM. */
int dumper_target_name(struct dumper_target *t);

/* ---- parsers of project files (text in, targets appended) ---- */

/* One KEY=VALUE file (.env syntax: comments, `export`, quotes).  cb gets
 * each pair; returns 0 or cb's negative result. */
int dumper_env_parse(const char *text, int (*cb)(void *ctx, const char *key, const char *val),
		     void *ctx);

/* Targets from the variables of one .env file; file names the source. */
int dumper_env_targets(const char *text, const char *file, struct dumper_targets *ts);

/* Targets from Rails config/database.yml (its development section). */
int dumper_rails_targets(const char *text, struct dumper_targets *ts);

/* Targets from a compose file: services whose image is postgres, mysql,
 * mariadb or mongo, with credentials from their environment. */
int dumper_compose_targets(const char *text, const char *file, struct dumper_targets *ts);

/* All of it for a project root: read the files that exist, keep local
 * targets and explicit ones, drop disabled ones. */
int dumper_discover(const char *root, struct dumper_targets *ret);

#endif
