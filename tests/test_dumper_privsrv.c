/* test_dumper_privsrv.c — private drill servers (dumpers/privsrv.h): the
 * command lines of initdb, postgres, mariadb-install-db and mariadbd; the
 * choice of a Postgres version; the reaper's decisions, and the reaper
 * itself on real dirs and processes in a private $TMPDIR (a "server" that
 * is a child sleeping in the dir's data dir).  Starting real servers is
 * tests/e2e/t_db_drill_private.sh's part. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/privsrv.h"

static void assert_argv(char **argv, const char *const *want)
{
	size_t i = 0;
	for (; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
}

static void build(int (*fn)(struct cmdb *b, void *ctx), void *ctx, struct dumper_cmd *ret)
{
	struct cmdb b = {0};
	assert_int_equal(cmdb_finish(&b, fn(&b, ctx), ret), 0);
	assert_non_null(ret->envp); /* the server gets our environment */
}

static const struct dumper_privsrv_tools pg_tools = {
	.init = "/usr/lib/postgresql/15/bin/initdb", .server = "/usr/lib/postgresql/15/bin/postgres",
	.major = 15};
static const struct dumper_privsrv_tools my_tools = {
	.init = "/usr/bin/mariadb-install-db", .server = "/usr/sbin/mariadbd", .major = 10};

struct built {
	const struct dumper_privsrv_kind *k;
	const struct dumper_privsrv_tools *tl;
	bool init;
};

static int build_one(struct cmdb *b, void *ctx)
{
	struct built *w = ctx;
	return w->init ? w->k->init(w->tl, "/tmp/ckptfs-drillsrv-7-abcdef", "alice", b)
		       : w->k->serve(w->tl, "/tmp/ckptfs-drillsrv-7-abcdef", b);
}

static void test_pg_argv(void **state)
{
	(void)state;
	struct dumper_cmd c = {0};
	struct built w = {&dumper_privsrv_postgres, &pg_tools, true};
	build(build_one, &w, &c);
	assert_argv(c.argv, (const char *const[]){
		"/usr/lib/postgresql/15/bin/initdb", "--pgdata=/tmp/ckptfs-drillsrv-7-abcdef/data",
		"--username=alice", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync", NULL});
	dumper_cmd_clear(&c);
	w.init = false;
	build(build_one, &w, &c);
	assert_argv(c.argv, (const char *const[]){
		"/usr/lib/postgresql/15/bin/postgres", "-D/tmp/ckptfs-drillsrv-7-abcdef/data",
		"-clisten_addresses=", "-cunix_socket_directories=/tmp/ckptfs-drillsrv-7-abcdef",
		"-cunix_socket_permissions=0700", "-cfsync=off", "-cfull_page_writes=off",
		"-csynchronous_commit=off", "-cshared_buffers=32MB", "-cmax_connections=20", NULL});
	dumper_cmd_clear(&c);
	/* The socket is the dir; the restore leaves out the real server's
	 * grants; an immediate stop. */
	assert_string_equal(dumper_privsrv_postgres.socket, "");
	assert_string_equal(dumper_privsrv_postgres.restore_args[0], "--no-acl");
	assert_null(dumper_privsrv_postgres.restore_args[1]);
	assert_int_equal(dumper_privsrv_postgres.stop_signal, SIGQUIT);
	assert_non_null(dumper_privsrv_postgres.major_sql);
}

static void test_my_argv(void **state)
{
	(void)state;
	struct dumper_cmd c = {0};
	struct built w = {&dumper_privsrv_mysql, &my_tools, true};
	build(build_one, &w, &c);
	assert_argv(c.argv, (const char *const[]){
		"/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=/tmp/ckptfs-drillsrv-7-abcdef/data",
		"--tmpdir=/tmp/ckptfs-drillsrv-7-abcdef", "--skip-test-db",
		"--auth-root-authentication-method=socket", "--auth-root-socket-user=alice", NULL});
	dumper_cmd_clear(&c);
	w.init = false;
	build(build_one, &w, &c);
	assert_argv(c.argv, (const char *const[]){
		"/usr/sbin/mariadbd", "--no-defaults", "--datadir=/tmp/ckptfs-drillsrv-7-abcdef/data",
		"--socket=/tmp/ckptfs-drillsrv-7-abcdef/sock", "--skip-networking",
		"--pid-file=/tmp/ckptfs-drillsrv-7-abcdef/mysqld.pid",
		"--log-error=/tmp/ckptfs-drillsrv-7-abcdef/server.log",
		"--tmpdir=/tmp/ckptfs-drillsrv-7-abcdef", "--innodb-buffer-pool-size=32M",
		"--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--max-allowed-packet=1G", NULL});
	dumper_cmd_clear(&c);
	assert_string_equal(dumper_privsrv_mysql.socket, "/sock");
	assert_null(dumper_privsrv_mysql.restore_args);
	assert_null(dumper_privsrv_mysql.major_sql);
}

static void test_pick(void **state)
{
	(void)state;
	const int v[] = {13, 16, -1, 15};
	assert_int_equal(dumper_privsrv_pick(v, 4, 0), 1);
	assert_int_equal(dumper_privsrv_pick(v, 4, 14), 1);
	assert_int_equal(dumper_privsrv_pick(v, 4, 16), 1);
	assert_int_equal(dumper_privsrv_pick(v, 4, 17), -1);  /* none new enough */
	assert_int_equal(dumper_privsrv_pick(v, 0, 0), -1);
	const int missing[] = {-1, -1};
	assert_int_equal(dumper_privsrv_pick(missing, 2, 1), -1); /* incomplete bin dirs */
	const int one[] = {15};
	assert_int_equal(dumper_privsrv_pick(one, 1, 15), 0);
}

static void test_version_after(void **state)
{
	(void)state;
	int minor;
	assert_int_equal(dumper_privsrv_version_after("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n",
						      "(PostgreSQL)", &minor), 15);
	assert_int_equal(minor, 14);
	assert_int_equal(dumper_privsrv_version_after("mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for "
						      "debian-linux-gnu on x86_64", "Ver ", &minor), 10);
	assert_int_equal(minor, 11);
	assert_int_equal(dumper_privsrv_version_after("postgres (PostgreSQL) 17devel", "(PostgreSQL)", &minor), 17);
	assert_int_equal(minor, 0);
	assert_int_equal(dumper_privsrv_version_after("nothing here", "(PostgreSQL)", &minor), 0);
	assert_int_equal(dumper_privsrv_version_after("(PostgreSQL) x", "(PostgreSQL)", NULL), 0);
	assert_int_equal(dumper_privsrv_version_after(NULL, "Ver ", NULL), 0);
}

static void test_name_pid(void **state)
{
	(void)state;
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-1234-aB3xYz"), 1234);
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-1234-aB3xY"), 0);   /* short */
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-1234-aB3xYz1"), 0); /* long */
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-0123-aB3xYz"), 0);
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv--1-aB3xYz"), 0);
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-12-aB3x.z"), 0);
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-db-1234-aB3xYz"), 0);   /* tmpdir.h's */
	assert_int_equal(dumper_privsrv_name_pid("ckptfs-drillsrv-"), 0);
}

static void test_decide(void **state)
{
	(void)state;
	struct {
		struct dumper_privsrv_seen s;
		enum dumper_reap want;
	} cases[] = {
		/* Not ours: a name that is not one, another user's, a link. */
		{{.owner = 0, .ours = true}, DUMPER_REAP_LEAVE},
		{{.owner = 5, .ours = false, .server = 9, .server_its = true}, DUMPER_REAP_LEAVE},
		/* The owner runs, or holds the lock (another pid namespace). */
		{{.owner = 5, .ours = true, .owner_runs = true, .server = 9, .server_its = true},
		 DUMPER_REAP_LEAVE},
		{{.owner = 5, .ours = true, .lock_held = true, .server = 9, .server_its = true},
		 DUMPER_REAP_LEAVE},
		/* The owner is gone: its server is stopped, then the dir goes. */
		{{.owner = 5, .ours = true, .server = 9, .server_its = true}, DUMPER_REAP_STOP_REMOVE},
		/* A pid in its files that is another process now: never killed. */
		{{.owner = 5, .ours = true, .server = 9, .server_its = false}, DUMPER_REAP_REMOVE},
		/* No server (killed before it started, or it died). */
		{{.owner = 5, .ours = true}, DUMPER_REAP_REMOVE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		assert_int_equal(dumper_privsrv_decide(&cases[i].s), cases[i].want);
}

/* ---- the reaper on real dirs ---- */

static char base[PATH_MAX / 2];

static long dead_pid(void)
{
	/* Above pid_max: no process ever has it. */
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	long max = 4194304;
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	return max + 1;
}

static void make_dir(const char *name, char *ret, size_t cap)
{
	snprintf(ret, cap, "%s/%s", base, name);
	assert_int_equal(mkdir(ret, 0700), 0);
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/data", ret);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/lock", ret);
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof p, "%s/data/PG_VERSION", ret);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void write_pid(const char *dir, pid_t pid)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/server.pid", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

/* A child sleeping with dir/data as its cwd: a private server's shape. */
static pid_t fake_server(const char *dir)
{
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A real postgres handles SIGQUIT itself; a background job of a
		 * non-interactive shell (a CI runner) inherits it ignored. */
		signal(SIGQUIT, SIG_DFL);
		char p[PATH_MAX + 16];
		snprintf(p, sizeof p, "%s/data", dir);
		if (chdir(p) < 0)
			_exit(1);
		close(ready[0]);
		(void)!write(ready[1], "x", 1);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static void test_reap(void **state)
{
	(void)state;
	snprintf(base, sizeof base, "%s/privsrv-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(base));
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", base, 1);
	long dead = dead_pid();
	char name[64], orphan[PATH_MAX], gone_srv[PATH_MAX], live[PATH_MAX], locked[PATH_MAX],
		reused[PATH_MAX], other[PATH_MAX];

	/* The owner is dead and its server runs: stopped, removed. */
	snprintf(name, sizeof name, DUMPER_PRIVSRV_PREFIX "%ld-aaaaaa", dead);
	make_dir(name, orphan, sizeof orphan);
	pid_t srv = fake_server(orphan);
	write_pid(orphan, srv);
	/* The owner is dead, no server: removed. */
	snprintf(name, sizeof name, DUMPER_PRIVSRV_PREFIX "%ld-bbbbbb", dead);
	make_dir(name, gone_srv, sizeof gone_srv);
	/* The owner runs (our parent): kept, and its server too. */
	snprintf(name, sizeof name, DUMPER_PRIVSRV_PREFIX "%ld-cccccc", (long)getppid());
	make_dir(name, live, sizeof live);
	pid_t live_srv = fake_server(live);
	write_pid(live, live_srv);
	/* The owner's pid is dead but its lock is held: kept. */
	snprintf(name, sizeof name, DUMPER_PRIVSRV_PREFIX "%ld-dddddd", dead);
	make_dir(name, locked, sizeof locked);
	char lp[PATH_MAX + 16];
	snprintf(lp, sizeof lp, "%s/lock", locked);
	int lfd = open(lp, O_RDONLY);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	/* server.pid names a process that is not its server (a reused pid:
	 * this test's own): removed, the process left alone. */
	snprintf(name, sizeof name, DUMPER_PRIVSRV_PREFIX "%ld-eeeeee", dead);
	make_dir(name, reused, sizeof reused);
	write_pid(reused, getpid());
	/* Not a name of ours: left. */
	make_dir("ckptfs-db-12-ffffff", other, sizeof other);

	struct dumper_privsrv_reaped r = {0};
	assert_int_equal(dumper_privsrv_reap(&r), 0);
	assert_int_equal(r.stopped, 1);
	assert_int_equal(r.removed, 3);
	assert_int_equal(r.kept, 2);
	/* The orphan's server is gone (our child: its status is here). */
	int st;
	assert_int_equal(waitpid(srv, &st, 0), srv);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGQUIT);
	assert_false(exists(orphan));
	assert_false(exists(gone_srv));
	assert_false(exists(reused));
	assert_true(exists(live));
	assert_true(exists(locked));
	assert_true(exists(other));
	assert_int_equal(kill(live_srv, 0), 0); /* a live owner's server runs on */

	/* Once the lock is free, the locked one goes too. */
	close(lfd);
	memset(&r, 0, sizeof r);
	assert_int_equal(dumper_privsrv_reap(&r), 0);
	assert_int_equal(r.removed, 1);
	assert_false(exists(locked));

	kill(live_srv, SIGKILL);
	waitpid(live_srv, NULL, 0);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
	if (old) {
		setenv("TMPDIR", old, 1);
		free(old);
	} else {
		unsetenv("TMPDIR");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_argv),
		cmocka_unit_test(test_my_argv),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_version_after),
		cmocka_unit_test(test_name_pid),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
