/* privsrv_my.c — the private drill server of MySQL/MariaDB:
 * mariadb-install-db and mariadbd (privsrv.h).
 *
 * MariaDB only: Oracle MySQL's mysqld --initialize has no install-db
 * script and is not tried (said so).  Any MariaDB restores a mysqldump of
 * an older server, so no version is asked of the live one.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/proc.h"
#include "store/err.h"

static const char *const sbin[] = {"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin",
				   "/usr/libexec", NULL};

static int my_find(int want, struct dumper_privsrv_tools *ret)
{
	(void)want;
	struct dumper_proc_out o = {0};
	int r = 0;
	ret->init = dumper_privsrv_which((const char *const[]){"mariadb-install-db", "mysql_install_db",
								NULL}, sbin);
	ret->server = dumper_privsrv_which((const char *const[]){"mariadbd", "mysqld", NULL}, sbin);
	if (!ret->init || !ret->server) {
		r = store_fail(-ENOENT, "%s not found (on PATH or in /usr/sbin)",
			       !ret->init ? "mariadb-install-db" : "mariadbd");
		goto out;
	}
	char *argv[] = {ret->server, "--version", NULL};
	if ((r = dumper_proc_run(argv, NULL, NULL, 10000, &o)) < 0)
		goto out;
	int minor = 0;
	ret->major = dumper_privsrv_version_after(o.out, "Ver ", &minor);
	if (!dumper_proc_ok(&o) || !strstr(o.out ? o.out : "", "MariaDB")) {
		r = store_fail(-ENOENT, "%s is not MariaDB's (a private Oracle MySQL server is not "
					"supported)", ret->server);
		goto out;
	}
	if (asprintf(&ret->version, "MariaDB %d.%d", ret->major, minor) < 0) {
		ret->version = NULL;
		r = -ENOMEM;
	}
out:
	dumper_proc_out_clear(&o);
	if (r < 0)
		dumper_privsrv_tools_clear(ret);
	return r;
}

static int my_init(const struct dumper_privsrv_tools *tl, const char *dir, const char *user,
		   struct cmdb *b)
{
	cmdb_arg(b, tl->init);
	cmdb_arg(b, "--no-defaults");
	cmdb_argf(b, "--datadir=%s/data", dir);
	cmdb_argf(b, "--tmpdir=%s", dir);
	cmdb_arg(b, "--skip-test-db");
	/* The invoking user, through the socket, with no password. */
	cmdb_arg(b, "--auth-root-authentication-method=socket");
	cmdb_argf(b, "--auth-root-socket-user=%s", user);
	cmdb_env_with(b, NULL, NULL);
	return 0;
}

static int my_serve(const struct dumper_privsrv_tools *tl, const char *dir, struct cmdb *b)
{
	cmdb_arg(b, tl->server);
	cmdb_arg(b, "--no-defaults"); /* must come first */
	cmdb_argf(b, "--datadir=%s/data", dir);
	cmdb_argf(b, "--socket=%s/sock", dir);
	cmdb_arg(b, "--skip-networking");
	cmdb_argf(b, "--pid-file=%s/mysqld.pid", dir);
	cmdb_argf(b, "--log-error=%s/server.log", dir);
	cmdb_argf(b, "--tmpdir=%s", dir);
	/* A throwaway: small and without durability. */
	cmdb_arg(b, "--innodb-buffer-pool-size=32M");
	cmdb_arg(b, "--innodb-flush-log-at-trx-commit=0");
	cmdb_arg(b, "--skip-log-bin");
	cmdb_arg(b, "--max-allowed-packet=1G");
	cmdb_env_with(b, NULL, NULL);
	return 0;
}

/* mariadbd makes its socket when it takes connections. */
static bool my_ready(const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir) >= sizeof a.sun_path)
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

const struct dumper_privsrv_kind dumper_privsrv_mysql = {
	.find = my_find,
	.init = my_init,
	.serve = my_serve,
	.ready = my_ready,
	.socket = "/sock",
	.stop_signal = SIGKILL,
};
