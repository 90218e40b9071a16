/* cmdbuild.h — building a tool's command line and environment
 * (dumpers-internal), for the engine rows (engine_*.c) and server_cmd.c.
 *
 * A cmdb collects argv, the environment and the struct dumper_cmd being
 * built; any allocation failure is kept (cmdb.err) and reported once by
 * cmdb_finish, so a builder pushes without checking each call.
 */
#ifndef CKPTFS_DUMPERS_CMDBUILD_H
#define CKPTFS_DUMPERS_CMDBUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "dumpers/server.h"

struct cmdb_vec {
	char **v;   /* NULL-terminated once anything is pushed */
	size_t n;
};

struct cmdb {
	struct cmdb_vec a, e;  /* argv, environment */
	struct dumper_cmd c;   /* tool and secret_file as the builder sets them */
	int err;               /* the first -ENOMEM */
};

/* Append one argument (a copy), or one printf-formatted. */
void cmdb_arg(struct cmdb *b, const char *s);
void cmdb_argf(struct cmdb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The environment of this process without variable name (NULL: all of
 * it), plus name=value if value is not NULL. */
void cmdb_env_with(struct cmdb *b, const char *name, const char *value);

/* Append NAME=VALUE to the environment as given. */
void cmdb_env(struct cmdb *b, const char *name_value);

/* A 0600 file in tmpdir holding text, as b's secret file (removed by
 * dumper_cmd_clear).  0 or a negative errno (message recorded). */
int cmdb_secret(struct cmdb *b, const char *tmpdir, const char *text);

/* s in double quotes with " and \ escaped (an option file's or YAML's
 * quoting); malloc'd, NULL on ENOMEM. */
char *cmdb_dquote(const char *s);

/* `docker exec [-i] CONTAINER sh -c` or `docker compose --file=F exec -T
 * SERVICE sh -c` (docker-compose for v1): the caller adds the script and
 * its arguments, which run inside the container with its own secrets. */
void cmdb_docker_sh(struct cmdb *b, const struct dumper_target *t, bool input);

/* The end: r (a builder's result), or b's own error, decides — 0 with
 * the command handed to *ret, or everything freed and the error
 * returned. */
int cmdb_finish(struct cmdb *b, int r, struct dumper_cmd *ret);

#endif
