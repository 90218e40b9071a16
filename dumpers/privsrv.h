/* privsrv.h — a private temporary database server for the full drill,
 * when the user may not create a scratch database on the real one
 * (dumpers-internal).
 *
 * The full drill (drill.h) restores a dump into a scratch database.  A
 * role without CREATEDB (MySQL: without CREATE) cannot make one; then, if
 * the server tools are installed, the drill starts a server of its own:
 *   - in a dir "ckptfs-drillsrv-<pid>-XXXXXX" under $TMPDIR (or /tmp),
 *     mode 0700, holding a file "lock" that its process keeps an flock
 *     on, the data dir "data", the server's log and "server.pid";
 *   - listening only on a Unix socket in that dir (no TCP), so only the
 *     invoking user reaches it; trust / unix_socket authentication for
 *     that user; durability off (a throwaway);
 *   - with the engine's tools (engine.h, struct dumper_privsrv_kind):
 *     Postgres initdb + postgres from PATH or /usr/lib/postgresql/N/bin,
 *     the highest N not older than the dumped server; MariaDB
 *     mariadb-install-db + mariadbd;
 *   - never as root (initdb refuses, and dropping privileges behind the
 *     user's back is not ours to do): said instead.
 * It is stopped and its dir removed when the drill ends, failed or not.
 *
 * SIGINT, SIGTERM or SIGHUP to ckptfs stops the server too (tmpdir.h's
 * handler).  A server whose ckptfs was killed (kill -9) lives on: the
 * server is a daemon of its own, no parent-death signal reaches it (and
 * pg_ctl's would not stay our child anyway).  Every full drill
 * first reaps such leftovers: a dir of ours whose owner pid is not running
 * and whose lock is free has its server stopped — only a process whose
 * working directory is that dir's data dir, so a reused pid is never
 * killed — and is removed.
 */
#ifndef CKPTFS_DUMPERS_PRIVSRV_H
#define CKPTFS_DUMPERS_PRIVSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "dumpers/target.h"

struct cmdb;
struct dumper_engine;

#define DUMPER_PRIVSRV_PREFIX "ckptfs-drillsrv-"

/* The server tools found on this machine (malloc'd strings). */
struct dumper_privsrv_tools {
	char *init;     /* absolute path: initdb, mariadb-install-db */
	char *server;   /* absolute path: postgres, mariadbd */
	int major;      /* its major version (0: not known) */
	char *version;  /* for the verdict: "PostgreSQL 15", "MariaDB 10.11" */
};

void dumper_privsrv_tools_clear(struct dumper_privsrv_tools *tl);

/* What an engine row gives for its private server. */
struct dumper_privsrv_kind {
	/* The live server's major version, asked before choosing the tools
	 * (one row, one number), or NULL: any version restores the dump. */
	const char *major_sql;
	/* Find the tools, the highest major version not below want (0: any):
	 * 0 with *ret, or -ENOENT with why not recorded. */
	int (*find)(int want, struct dumper_privsrv_tools *ret);
	/* Make the data dir dir/data for superuser user. */
	int (*init)(const struct dumper_privsrv_tools *tl, const char *dir, const char *user,
		    struct cmdb *b);
	/* Run the server in the foreground on its socket in dir. */
	int (*serve)(const struct dumper_privsrv_tools *tl, const char *dir, struct cmdb *b);
	/* true once the server in dir takes connections. */
	bool (*ready)(const char *dir);
	/* The socket for a client (target host): dir + this ("" : the dir). */
	const char *socket;
	/* Stops it at once (its data is thrown away). */
	int stop_signal;
	/* Extra arguments of the restore into it (roles of the real server
	 * do not exist there), NULL-terminated, or NULL. */
	const char *const *restore_args;
};

/* The engines' kinds (privsrv_pg.c, privsrv_my.c). */
extern const struct dumper_privsrv_kind dumper_privsrv_postgres;
extern const struct dumper_privsrv_kind dumper_privsrv_mysql;

/* A running private server. */
struct dumper_privsrv {
	char *dir;          /* its private dir (malloc'd) */
	int lock_fd;        /* flock held while it is ours */
	pid_t pid;          /* the server, our child */
	int stop_signal;
	struct dumper_target target; /* how to reach it: socket, our user */
	char *version;      /* "PostgreSQL 15" (malloc'd) */
};

/* Start a private server of kind k for a drill of t (t's live server is
 * asked its version when k says so).  0 with *ret; or a negative errno
 * with why not in the message recorded (as root, no tools, no fitting
 * version, initdb or the server failing); -ENOMEM. */
int dumper_privsrv_start(const struct dumper_privsrv_kind *k, const struct dumper_target *t,
			 const char *tmpdir, struct dumper_privsrv *ret);

/* Stop the server, remove its dir, free s.  Safe on a zeroed s. */
void dumper_privsrv_stop(struct dumper_privsrv *s);

/* ---- the reaper ---- */

/* What the reaper saw of one entry of the temp dir. */
struct dumper_privsrv_seen {
	long owner;          /* the pid in its name; 0: not a name of ours */
	bool ours;           /* a real dir (not a link) owned by our user */
	bool owner_runs;     /* the owner pid is a running process (or ours) */
	bool lock_held;      /* its lock is held by someone */
	pid_t server;        /* the pid its files name, 0 if none */
	bool server_its;     /* that process runs with the dir's data dir as cwd */
};

enum dumper_reap {
	DUMPER_REAP_LEAVE,        /* not ours, or its owner lives */
	DUMPER_REAP_REMOVE,       /* owner gone, no server of its running */
	DUMPER_REAP_STOP_REMOVE,  /* owner gone, its server runs: stop it, then remove */
};

/* The decision alone (unit-tested). */
enum dumper_reap dumper_privsrv_decide(const struct dumper_privsrv_seen *s);

/* The pid in "ckptfs-drillsrv-<pid>-XXXXXX", or 0. */
long dumper_privsrv_name_pid(const char *name);

struct dumper_privsrv_reaped {
	unsigned stopped;   /* servers stopped */
	unsigned removed;   /* dirs removed */
	unsigned kept;      /* dirs of live owners */
};

/* Reap the leftovers in the temp dir (see above).  0, or a negative errno
 * if the temp dir cannot be read. */
int dumper_privsrv_reap(struct dumper_privsrv_reaped *ret);

/* ---- helpers for the engines' find ---- */

/* The index of the highest of majors[0..n) not below want (0: any), or
 * -1 if none fits. */
int dumper_privsrv_pick(const int *majors, size_t n, int want);

/* The first of names found as an executable, on PATH first, then in the
 * NULL-terminated dirs: its absolute path, symlinks resolved (malloc'd),
 * or NULL. */
char *dumper_privsrv_which(const char *const *names, const char *const *dirs);

/* The first number after "needle" in text (0 if none): "15" of
 * "postgres (PostgreSQL) 15.4"; *ret_minor the one after its '.'. */
int dumper_privsrv_version_after(const char *text, const char *needle, int *ret_minor);

#endif
