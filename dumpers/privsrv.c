/* privsrv.c — starting, stopping and reaping private drill servers
 * (privsrv.h). */
#include "dumpers/privsrv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dumpers/cmdbuild.h"
#include "dumpers/proc.h"
#include "dumpers/server.h"
#include "dumpers/tmpdir.h"
#include "store/err.h"

#define INIT_TIMEOUT_MS (5 * 60 * 1000)
#define START_TIMEOUT_MS (2 * 60 * 1000)
#define STOP_TIMEOUT_MS (30 * 1000)
#define VERSION_TIMEOUT_MS 15000

void dumper_privsrv_tools_clear(struct dumper_privsrv_tools *tl)
{
	free(tl->init);
	free(tl->server);
	free(tl->version);
	memset(tl, 0, sizeof *tl);
}

int dumper_privsrv_pick(const int *majors, size_t n, int want)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		if (majors[i] >= want && (best < 0 || majors[i] > majors[best]))
			best = (int)i;
	return best;
}

int dumper_privsrv_version_after(const char *text, const char *needle, int *ret_minor)
{
	const char *p = text ? strstr(text, needle) : NULL;
	if (ret_minor)
		*ret_minor = 0;
	if (!p)
		return 0;
	p += strlen(needle);
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	long major = strtol(p, (char **)&p, 10);
	if (*p == '.' && p[1] >= '0' && p[1] <= '9' && ret_minor)
		*ret_minor = (int)strtol(p + 1, NULL, 10);
	return major > 0 && major < 100000 ? (int)major : 0;
}

static char *resolved_exec(const char *path)
{
	char buf[PATH_MAX];
	if (access(path, X_OK) != 0 || !realpath(path, buf))
		return NULL;
	struct stat st;
	if (stat(buf, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	return strdup(buf);
}

char *dumper_privsrv_which(const char *const *names, const char *const *dirs)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (size_t i = 0; names[i]; i++) {
		for (const char *p = path ? path : ""; *p;) {
			size_t n = strcspn(p, ":");
			if (n && p[0] == '/' && (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, names[i]) < sizeof buf) {
				char *r = resolved_exec(buf);
				if (r)
					return r;
			}
			p += n + (p[n] == ':');
		}
		for (size_t d = 0; dirs && dirs[d]; d++) {
			if ((size_t)snprintf(buf, sizeof buf, "%s/%s", dirs[d], names[i]) >= sizeof buf)
				continue;
			char *r = resolved_exec(buf);
			if (r)
				return r;
		}
	}
	return NULL;
}

/* ---- the reaper ---- */

long dumper_privsrv_name_pid(const char *name)
{
	size_t pl = strlen(DUMPER_PRIVSRV_PREFIX);
	if (strncmp(name, DUMPER_PRIVSRV_PREFIX, pl) != 0)
		return 0;
	const char *p = name + pl;
	char *end;
	if (*p < '1' || *p > '9')
		return 0;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (errno || pid <= 0 || *end != '-' || strlen(end + 1) != 6)
		return 0;
	for (const char *q = end + 1; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
			return 0;
	return pid;
}

enum dumper_reap dumper_privsrv_decide(const struct dumper_privsrv_seen *s)
{
	/* A dir that is not one of ours, or whose owner may still use it
	 * (running, or holding the lock from another pid namespace), stays. */
	if (!s->owner || !s->ours || s->owner_runs || s->lock_held)
		return DUMPER_REAP_LEAVE;
	/* A pid named by its files is stopped only if that process is the
	 * server of this very dir: a reused pid is left alone. */
	return s->server > 0 && s->server_its ? DUMPER_REAP_STOP_REMOVE : DUMPER_REAP_REMOVE;
}

/* The first number in file path, or 0. */
static pid_t read_pid(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long v = strtol(buf, NULL, 10);
	return v > 1 && v < INT32_MAX ? (pid_t)v : 0;
}

/* Whether process pid runs with cwd as its working directory. */
static bool runs_in(pid_t pid, const char *cwd)
{
	char link[64], buf[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%ld/cwd", (long)pid);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, cwd);
}

/* A process that is gone, or a zombie waiting for its reaper. */
static bool gone(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Stop pid with sig, then SIGKILL if it outlives the timeout.  child: it
 * is ours to wait for. */
static void stop_process(pid_t pid, int sig, bool child)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	for (int waited = 0;; waited += 20) {
		if (child) {
			pid_t w = waitpid(pid, NULL, WNOHANG);
			if (w == pid || (w < 0 && errno == ECHILD))
				return;
		} else if (gone(pid)) {
			return;
		}
		if (waited == STOP_TIMEOUT_MS)
			kill(pid, SIGKILL);
		sleep_ms(20);
		if (waited > STOP_TIMEOUT_MS * 2 && !child)
			return; /* unkillable (D state): its dir is removed anyway */
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Remove the tree at path without following links.  Crash safe: a dir
 * left half removed is still a leftover of a dead owner, and the next
 * reaper finishes it. */
static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The server pids a dir's files name: ours (server.pid), then the
 * server's own (postmaster.pid), for a kill between spawn and ours. */
static pid_t dir_server(const char *dir, char *data, size_t cap, bool *ret_its)
{
	static const char *const files[] = {"server.pid", "data/postmaster.pid", "mysqld.pid"};
	char path[PATH_MAX + 32];
	snprintf(data, cap, "%s/data", dir);
	*ret_its = false;
	pid_t first = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		pid_t p = read_pid(path);
		if (!p)
			continue;
		if (!first)
			first = p;
		if (runs_in(p, data)) {
			*ret_its = true;
			return p;
		}
	}
	return first;
}

int dumper_privsrv_reap(struct dumper_privsrv_reaped *ret)
{
	const char *base = dumper_tmp_base();
	DIR *d = opendir(base);
	if (!d)
		return store_failp(-errno, "%s", base);
	uid_t me = geteuid();
	struct dirent *e;
	while ((e = readdir(d))) {
		struct dumper_privsrv_seen s = {.owner = dumper_privsrv_name_pid(e->d_name)};
		if (!s.owner)
			continue;
		char dir[PATH_MAX], data[PATH_MAX + 8];
		if ((size_t)snprintf(dir, sizeof dir, "%s/%s", base, e->d_name) >= sizeof dir)
			continue;
		struct stat st;
		s.ours = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == me;
		s.owner_runs = s.owner == (long)getpid() || kill((pid_t)s.owner, 0) == 0 || errno != ESRCH;
		int lfd = -1;
		if (s.ours && !s.owner_runs) {
			char lp[PATH_MAX + 8];
			snprintf(lp, sizeof lp, "%s/lock", dir);
			lfd = open(lp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			/* Held from here on: two reapers never work on one dir. */
			s.lock_held = lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0;
		}
		if (s.ours && !s.owner_runs && !s.lock_held)
			s.server = dir_server(dir, data, sizeof data, &s.server_its);
		switch (dumper_privsrv_decide(&s)) {
		case DUMPER_REAP_LEAVE:
			ret->kept += s.ours && s.owner != (long)getpid();
			break;
		case DUMPER_REAP_STOP_REMOVE:
			/* SIGQUIT: Postgres's immediate shutdown (its children
			 * go with it); MariaDB ends on it too. */
			stop_process(s.server, SIGQUIT, false);
			ret->stopped++;
			/* fall through */
		case DUMPER_REAP_REMOVE:
			rm_tree(dir);
			ret->removed++;
			break;
		}
		if (lfd >= 0)
			close(lfd);
	}
	closedir(d);
	return 0;
}

/* ---- start and stop ---- */

void dumper_privsrv_stop(struct dumper_privsrv *s)
{
	if (s->pid > 0) {
		/* Unwatched first: a signal never goes to a pid reaped here. */
		dumper_tmp_unwatch_child(s->pid);
		stop_process(s->pid, s->stop_signal ? s->stop_signal : SIGKILL, true);
	}
	if (s->dir)
		rm_tree(s->dir);
	if (s->lock_fd > 0)
		close(s->lock_fd); /* after the removal: a reaper sees it held */
	free(s->dir);
	free(s->version);
	dumper_target_clear(&s->target);
	memset(s, 0, sizeof *s);
}

/* The last non-empty line of file path (at most cap bytes), for a
 * server's reason. */
static const char *last_line(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return buf;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (*line) {
			size_t n = strlen(line) < cap - 1 ? strlen(line) : cap - 1;
			memcpy(buf, line, n);
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

/* Write text to dir/name through a temp name and rename. */
static int write_file(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return -e;
	}
	return 0;
}

/* The live server's major version, 0 if it cannot say. */
static int live_major(const struct dumper_privsrv_kind *k, const struct dumper_target *t,
		      const char *tmpdir)
{
	char *rows = NULL;
	if (!k->major_sql || dumper_query(t, tmpdir, k->major_sql, VERSION_TIMEOUT_MS, &rows) < 0) {
		store_error_clear();
		return 0;
	}
	long v = strtol(rows, NULL, 10);
	free(rows);
	return v > 0 && v < 100000 ? (int)v : 0;
}

/* Spawn the server with stdout and stderr to dir/server.log, in dir. */
static int spawn_server(const struct dumper_cmd *c, const char *dir, pid_t *ret_pid)
{
	char log[PATH_MAX];
	snprintf(log, sizeof log, "%s/server.log", dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	int rc = posix_spawn(ret_pid, c->argv[0], &fa, NULL, c->argv, c->envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return store_fail(-rc, "%s: %s", c->argv[0], strerror(rc));
	return 0;
}

int dumper_privsrv_start(const struct dumper_privsrv_kind *k, const struct dumper_target *t,
			 const char *tmpdir, struct dumper_privsrv *ret)
{
	struct dumper_privsrv s = {.lock_fd = -1, .stop_signal = k->stop_signal};
	struct dumper_privsrv_tools tl = {0};
	struct dumper_cmd init = {0}, serve = {0};
	struct dumper_proc_out o = {0};
	struct cmdb b = {0};
	char line[256];
	int r;

	if (geteuid() == 0)
		return store_fail(-EPERM, "cannot start a private server as root");
	int want = live_major(k, t, tmpdir);
	if ((r = k->find(want, &tl)) < 0)
		return r;
	struct passwd *pw = getpwuid(geteuid());
	if (!pw || !pw->pw_name || !dumper_plain_name(pw->pw_name)) {
		r = store_fail(-EINVAL, "no plain user name for uid %ld to own a private server",
			       (long)geteuid());
		goto fail;
	}
	const char *base = dumper_tmp_base();
	if (strpbrk(base, ",'\"\\ ")) {
		r = store_fail(-EINVAL, "%s: a temp dir with quotes, commas or spaces cannot hold a "
					"server socket", base);
		goto fail;
	}
	if (asprintf(&s.dir, "%s/" DUMPER_PRIVSRV_PREFIX "%ld-XXXXXX", base, (long)getpid()) < 0) {
		s.dir = NULL;
		r = -ENOMEM;
		goto fail;
	}
	/* The socket's path must fit sun_path (with Postgres's
	 * ".s.PGSQL.NNNNN"). */
	if (strlen(s.dir) + 24 >= sizeof ((struct sockaddr_un *)0)->sun_path) {
		r = store_fail(-ENAMETOOLONG, "%s: too long a temp dir for a server socket", base);
		goto fail;
	}
	if (!mkdtemp(s.dir)) {
		r = store_failp(-errno, "%s: a private server's dir", base);
		free(s.dir);
		s.dir = NULL;
		goto fail;
	}
	char lp[PATH_MAX];
	snprintf(lp, sizeof lp, "%s/lock", s.dir);
	s.lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s.lock_fd < 0 || flock(s.lock_fd, LOCK_EX) < 0) {
		r = store_failp(-errno, "%s", lp);
		goto fail;
	}
	if ((r = cmdb_finish(&b, k->init(&tl, s.dir, pw->pw_name, &b), &init)) < 0)
		goto fail;
	if ((r = dumper_proc_run(init.argv, init.envp, s.dir, INIT_TIMEOUT_MS, &o)) < 0)
		goto fail;
	if (!dumper_proc_ok(&o)) {
		const char *tool = strrchr(tl.init, '/') + 1;
		dumper_first_line(*o.err ? o.err : o.out, line, sizeof line);
		r = store_fail(-EIO, "%s: %s", tool, o.timed_out ? "no answer in time" : *line ? line : "failed");
		goto fail;
	}
	memset(&b, 0, sizeof b);
	if ((r = cmdb_finish(&b, k->serve(&tl, s.dir, &b), &serve)) < 0)
		goto fail;
	if ((r = spawn_server(&serve, s.dir, &s.pid)) < 0)
		goto fail;
	/* SIGINT, SIGTERM or SIGHUP to us stops it too (its dir is then the
	 * next reaper's). */
	dumper_tmp_watch_child(s.pid, s.stop_signal);
	char pidtext[32];
	snprintf(pidtext, sizeof pidtext, "%ld\n", (long)s.pid);
	if ((r = write_file(s.dir, "server.pid", pidtext)) < 0) {
		r = store_fail(r, "%s/server.pid: %s", s.dir, strerror(-r));
		goto fail;
	}
	/* Up to START_TIMEOUT_MS: a bound for a loaded machine, not a
	 * threshold; a server that exits ends the wait at once. */
	for (int waited = 0; !k->ready(s.dir); waited += 20) {
		int st;
		pid_t w = waitpid(s.pid, &st, WNOHANG);
		if (w == s.pid || waited >= START_TIMEOUT_MS) {
			char log[PATH_MAX];
			snprintf(log, sizeof log, "%s/server.log", s.dir);
			if (w == s.pid)
				s.pid = 0;
			last_line(log, line, sizeof line);
			r = store_fail(-EIO, "%s did not start%s%s", strrchr(tl.server, '/') + 1,
				       *line ? ": " : "", line);
			goto fail;
		}
		sleep_ms(20);
	}
	s.target.kind = t->kind;
	s.target.local = true;
	if (!(s.target.name = strdup(t->name)) || !(s.target.source = strdup("private server")) ||
	    !(s.target.user = strdup(pw->pw_name)) ||
	    asprintf(&s.target.host, "%s%s", s.dir, k->socket) < 0) {
		s.target.host = NULL;
		r = -ENOMEM;
		goto fail;
	}
	s.version = tl.version;
	tl.version = NULL;
	dumper_privsrv_tools_clear(&tl);
	dumper_cmd_clear(&init);
	dumper_cmd_clear(&serve);
	dumper_proc_out_clear(&o);
	*ret = s;
	return 0;
fail:
	dumper_privsrv_stop(&s);
	dumper_privsrv_tools_clear(&tl);
	dumper_cmd_clear(&init);
	dumper_cmd_clear(&serve);
	dumper_proc_out_clear(&o);
	return r;
}
