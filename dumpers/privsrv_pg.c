/* privsrv_pg.c — the private drill server of Postgres: initdb and
 * postgres, from PATH or Debian's /usr/lib/postgresql/N/bin (privsrv.h). */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/proc.h"
#include "store/err.h"

#define PG_CANDIDATES 16

/* The major version of the postgres binary at path (0: unknown). */
static int pg_major(const char *server)
{
	struct dumper_proc_out o = {0};
	char *argv[] = {(char *)server, "--version", NULL};
	int major = 0;
	if (dumper_proc_run(argv, NULL, NULL, 10000, &o) == 0 && dumper_proc_ok(&o))
		major = dumper_privsrv_version_after(o.out, "(PostgreSQL)", NULL);
	dumper_proc_out_clear(&o);
	store_error_clear();
	return major;
}

/* dir/name if it is an executable file (malloc'd), else NULL. */
static char *in_dir(const char *dir, const char *name)
{
	char buf[PATH_MAX];
	if ((size_t)snprintf(buf, sizeof buf, "%s/%s", dir, name) >= sizeof buf || access(buf, X_OK))
		return NULL;
	return strdup(buf);
}

static int pg_find(int want, struct dumper_privsrv_tools *ret)
{
	char *dirs[PG_CANDIDATES];
	int majors[PG_CANDIDATES];
	size_t n = 0;
	int r = 0;
	/* initdb on PATH (perhaps a link into a versioned bin dir), then each
	 * of Debian's installed versions. */
	char *onpath = dumper_privsrv_which((const char *const[]){"initdb", NULL}, NULL);
	if (onpath) {
		*strrchr(onpath, '/') = '\0';
		dirs[n++] = onpath;
	}
	glob_t g = {0};
	if (glob("/usr/lib/postgresql/*/bin", GLOB_NOSORT, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc && n < PG_CANDIDATES; i++) {
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(dirs[k], g.gl_pathv[i]);
			if (!dup && !(dirs[n++] = strdup(g.gl_pathv[i]))) {
				n--;
				r = -ENOMEM;
			}
		}
	globfree(&g);
	for (size_t i = 0; i < n; i++) {
		char *srv = in_dir(dirs[i], "postgres"), *ini = in_dir(dirs[i], "initdb");
		majors[i] = srv && ini ? pg_major(srv) : -1;
		free(srv);
		free(ini);
	}
	int best = r < 0 ? -1 : dumper_privsrv_pick(majors, n, want > 0 ? want : 1);
	if (r == 0 && best < 0) {
		int newest = dumper_privsrv_pick(majors, n, 1);
		if (newest < 0)
			r = store_fail(-ENOENT, "initdb and postgres not found (on PATH or in "
						"/usr/lib/postgresql/*/bin)");
		else
			r = store_fail(-ENOENT, "the dump is from PostgreSQL %d and the newest server "
						"here is %d (%s): no private server fits", want,
				       majors[newest], dirs[newest]);
	}
	if (r == 0) {
		ret->init = in_dir(dirs[best], "initdb");
		ret->server = in_dir(dirs[best], "postgres");
		ret->major = majors[best];
		if (!ret->init || !ret->server || asprintf(&ret->version, "PostgreSQL %d", majors[best]) < 0) {
			ret->version = NULL;
			dumper_privsrv_tools_clear(ret);
			r = -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	return r;
}

static int pg_init(const struct dumper_privsrv_tools *tl, const char *dir, const char *user,
		   struct cmdb *b)
{
	cmdb_arg(b, tl->init);
	cmdb_argf(b, "--pgdata=%s/data", dir);
	cmdb_argf(b, "--username=%s", user);
	/* Only the invoking user reaches the socket (its dir is 0700). */
	cmdb_arg(b, "--auth=trust");
	cmdb_arg(b, "--encoding=UTF8");
	cmdb_arg(b, "--no-locale");
	cmdb_arg(b, "--no-sync");
	cmdb_env_with(b, NULL, NULL);
	return 0;
}

static int pg_serve(const struct dumper_privsrv_tools *tl, const char *dir, struct cmdb *b)
{
	cmdb_arg(b, tl->server);
	cmdb_argf(b, "-D%s/data", dir);
	/* No TCP at all; the socket in the private dir only. */
	cmdb_arg(b, "-clisten_addresses=");
	cmdb_argf(b, "-cunix_socket_directories=%s", dir);
	cmdb_arg(b, "-cunix_socket_permissions=0700");
	/* A throwaway: no durability. */
	cmdb_arg(b, "-cfsync=off");
	cmdb_arg(b, "-cfull_page_writes=off");
	cmdb_arg(b, "-csynchronous_commit=off");
	cmdb_arg(b, "-cshared_buffers=32MB");
	cmdb_arg(b, "-cmax_connections=20");
	cmdb_env_with(b, NULL, NULL);
	return 0;
}

/* postmaster.pid's 8th line is "ready" once connections are taken (what
 * pg_ctl -w waits for). */
static bool pg_ready(const char *dir)
{
	char path[PATH_MAX], line[128];
	snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ready = false;
	for (int i = 1; fgets(line, sizeof line, f); i++)
		if (i == 8) {
			ready = !strncmp(line, "ready", 5);
			break;
		}
	fclose(f);
	return ready;
}

const struct dumper_privsrv_kind dumper_privsrv_postgres = {
	.major_sql = "SELECT current_setting('server_version_num')::int / 10000",
	.find = pg_find,
	.init = pg_init,
	.serve = pg_serve,
	.ready = pg_ready,
	.socket = "",
	/* The postmaster's immediate shutdown. */
	.stop_signal = SIGQUIT,
	/* The real server's roles and grants are not there. */
	.restore_args = (const char *const[]){"--no-acl", NULL},
};
