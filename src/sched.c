/* sched.c — systemd user units and child processes (see sched.h). */
#include "src/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/duration.h"
#include "src/shquote.h"
#include "store/err.h"

/* What the scheduled run does after `snap --all`, each a ckptfs argument
 * vector run as its own ExecStart= line (a oneshot service runs them in
 * order and stops at the first failure).  forget --if-configured does
 * nothing unless config.toml has a [retention] table (and no auto =
 * false): retention is on by default only for a user who set a policy,
 * and the switch is read at each run, not when the unit is written.
 * gc --if-due runs at most once a week (what it frees comes back as trash
 * windows end); push --if-configured sends every remote what it lacks,
 * and does nothing while no remote is added.  The order matters: push
 * after gc, so a remote sees the packs gc rewrote in the same run, and
 * deletes the ones gc removed only after its grace period. */
static const char *const forget_policy[] = {"forget", "--all", "--policy", "--if-configured",
					    NULL};
static const char *const gc_if_due[] = {"gc", "--if-due", NULL};
static const char *const push_if_configured[] = {"push", "--if-configured", NULL};
static const char *const *const sched_after_snap[] = {
	forget_policy,
	gc_if_due,
	push_if_configured,
	NULL,
};

int sched_calendar(int64_t s, char buf[48])
{
	if (s <= 0 || s % 60)
		return -EINVAL;
	int64_t m = s / 60;
	if (m == 1)
		snprintf(buf, 48, "*-*-* *:*:00");
	else if (m < 60 && 60 % m == 0)
		snprintf(buf, 48, "*-*-* *:00/%lld:00", (long long)m);
	else if (s % 3600 == 0 && s / 3600 == 1)
		snprintf(buf, 48, "*-*-* *:00:00");
	else if (s % 3600 == 0 && s / 3600 < 24 && 24 % (s / 3600) == 0)
		snprintf(buf, 48, "*-*-* 00/%lld:00:00", (long long)(s / 3600));
	else if (s == 86400)
		snprintf(buf, 48, "*-*-* 00:00:00");
	else if (s == 7 * 86400)
		snprintf(buf, 48, "Mon *-*-* 00:00:00");
	else
		return -EINVAL;
	return 0;
}

int sched_cron_line(int64_t s, const char *exe, const char *repo, char **ret)
{
	char when[32];
	if (s <= 0 || s % 60)
		return -EINVAL;
	int64_t m = s / 60, h = s / 3600;
	if (m < 60 && 60 % m == 0)
		snprintf(when, sizeof when, m == 1 ? "* * * * *" : "*/%lld * * * *", (long long)m);
	else if (s % 3600 == 0 && h < 24 && 24 % h == 0)
		snprintf(when, sizeof when, h == 1 ? "0 * * * *" : "0 */%lld * * *", (long long)h);
	else if (s == 86400)
		snprintf(when, sizeof when, "0 0 * * *");
	else if (s == 7 * 86400)
		snprintf(when, sizeof when, "0 0 * * 1");
	else
		return -EINVAL;
	char *env = NULL, *cmd = NULL;
	char *argv_env[] = {NULL, NULL};
	int r = -ENOMEM;
	if (repo) {
		if (asprintf(&argv_env[0], "CKPTFS_REPO=%s", repo) < 0)
			return -ENOMEM;
		env = shquote_argv(1, argv_env);
		free(argv_env[0]);
		if (!env)
			return -ENOMEM;
	}
	/* The same steps as the service, in its order, each after the one
	 * before succeeded (&&, as a oneshot stops at its first failing
	 * ExecStart=); an assignment before a command is that command's
	 * environment only, so each step gets it. */
	char *steps = NULL;
	size_t steps_len = 0;
	FILE *f = open_memstream(&steps, &steps_len);
	if (!f)
		goto out;
	static const char *const snap_all[] = {"snap", "--all", "-q", NULL};
	for (size_t i = 0; !ferror(f) && (i == 0 || sched_after_snap[i - 1]); i++) {
		const char *const *step = i == 0 ? snap_all : sched_after_snap[i - 1];
		char *argv[8] = {(char *)exe};
		int argc = 1;
		while (step[argc - 1] && argc < 7) {
			argv[argc] = (char *)step[argc - 1];
			argc++;
		}
		char *q = shquote_argv(argc, argv);
		if (!q) {
			fclose(f);
			free(steps);
			goto out;
		}
		fprintf(f, "%s%s%s%s", i ? " && " : "", env ? env : "", env ? " " : "", q);
		free(q);
	}
	bool bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(steps);
		goto out;
	}
	cmd = steps;
	/* cron turns an unescaped % into a newline. */
	if (strchr(cmd, '%')) {
		r = store_fail(-EINVAL, "%s: a path with %% cannot go into a crontab line", exe);
		goto out;
	}
	if (asprintf(ret, "%s %s # ckptfs schedule", when, cmd) < 0)
		goto out;
	r = 0;
out:
	free(env);
	free(cmd);
	return r;
}

/* s quoted for a unit file's command line or Environment=: in double
 * quotes, with \ and " escaped, % as %% (specifier) and $ as $$. */
static int unit_quote(FILE *f, const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return store_fail(-EINVAL, "%s: a control character cannot go into a unit file", s);
	fputc('"', f);
	for (const char *p = s; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '%' || *p == '$')
			fputc(*p, f);
		fputc(*p, f);
	}
	fputc('"', f);
	return 0;
}

static int exec_line(FILE *f, const char *exe, const char *const *args)
{
	fputs("ExecStart=", f);
	int r = unit_quote(f, exe);
	for (size_t i = 0; r == 0 && args[i]; i++)
		fprintf(f, " %s", args[i]); /* our own fixed words */
	fputc('\n', f);
	return r;
}

/* A service unit running this ckptfs with args (and after[] after it). */
static int service_text(const char *exe, const char *repo, const char *desc, bool oneshot,
			const char *const *args, const char *const *const *after, char **ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# Written by `ckptfs schedule enable`; `ckptfs schedule disable` removes it.\n"
		"[Unit]\n"
		"Description=ckptfs: %s\n"
		"Documentation=man:ckptfs(1)\n"
		"\n"
		"[Service]\n"
		"Type=%s\n",
		desc, oneshot ? "oneshot" : "simple");
	int r = 0;
	if (repo) {
		fputs("Environment=", f);
		char *kv = NULL;
		if (asprintf(&kv, "CKPTFS_REPO=%s", repo) < 0)
			r = -ENOMEM;
		else
			r = unit_quote(f, kv);
		free(kv);
		fputc('\n', f);
	}
	if (r == 0)
		r = exec_line(f, exe, args);
	for (size_t i = 0; r == 0 && after && after[i]; i++)
		r = exec_line(f, exe, after[i]);
	/* 5: some project roots are gone, the rest taken — not a failure of
	 * the unit (status reports them). */
	if (oneshot) {
		/* After the run, whatever its result: a desktop notification of
		 * projects stale or failing (ignored when it fails). */
		fputs("ExecStopPost=-", f);
		if (r == 0)
			r = unit_quote(f, exe);
		fputs(" status --notify -q\n"
		      "SuccessExitStatus=5\n",
		      f);
	}
	else
		fputs("Restart=on-failure\n"
		      "RestartSec=30\n",
		      f);
	fputs("Nice=10\n"
	      "IOSchedulingClass=idle\n",
	      f);
	if (!oneshot)
		fputs("\n[Install]\n"
		      "WantedBy=default.target\n",
		      f);
	if (fclose(f) != 0 || !text) {
		free(text);
		return r < 0 ? r : -ENOMEM;
	}
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}

int sched_service_text(const char *exe, const char *repo, char **ret)
{
	static const char *const snap_all[] = {"snap", "--all", NULL};
	return service_text(exe, repo, "snapshot every registered project", true, snap_all,
			    sched_after_snap, ret);
}

int sched_watch_text(const char *exe, const char *repo, char **ret)
{
	static const char *const watch_all[] = {"watch", "--all", NULL};
	return service_text(exe, repo, "snapshot every registered project as it goes quiet", false,
			    watch_all, NULL, ret);
}

int sched_timer_text(int64_t every_s, char **ret)
{
	char cal[48], dur[32];
	int r = sched_calendar(every_s, cal);
	if (r < 0)
		return r;
	dur_format(every_s, dur);
	if (asprintf(ret,
		     "# Written by `ckptfs schedule enable`; `ckptfs schedule disable` removes it.\n"
		     "# ckptfs-every: %lld\n"
		     "[Unit]\n"
		     "Description=ckptfs: snapshot every registered project every %s\n"
		     "Documentation=man:ckptfs(1)\n"
		     "\n"
		     "[Timer]\n"
		     "OnCalendar=%s\n"
		     "Persistent=true\n"
		     "AccuracySec=1min\n"
		     "Unit=" SCHED_SERVICE "\n"
		     "\n"
		     "[Install]\n"
		     "WantedBy=timers.target\n",
		     (long long)every_s, dur, cal) < 0)
		return -ENOMEM;
	return 0;
}

int sched_unit_dir(char **ret)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (x && *x == '/')
		n = asprintf(ret, "%s/systemd/user", x);
	else if (home && *home)
		n = asprintf(ret, "%s/.config/systemd/user", home);
	else
		return store_fail(-ENOENT, "neither XDG_CONFIG_HOME nor HOME is set");
	return n < 0 ? -ENOMEM : 0;
}

int sched_installed(int64_t *ret_every_s)
{
	char *dir = NULL, *path = NULL, line[256];
	int r = sched_unit_dir(&dir);
	if (r < 0)
		return r;
	FILE *f = NULL;
	if (asprintf(&path, "%s/" SCHED_TIMER, dir) < 0) {
		path = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (!(f = fopen(path, "re"))) {
		r = errno == ENOENT ? -ENOENT : store_failp(-errno, "%s", path);
		goto out;
	}
	r = store_fail(-EINVAL, "%s: not written by ckptfs schedule", path);
	while (fgets(line, sizeof line, f)) {
		long long n;
		if (sscanf(line, "# ckptfs-every: %lld", &n) == 1 && n > 0) {
			store_error_clear();
			*ret_every_s = n;
			r = 0;
			break;
		}
	}
out:
	if (f)
		fclose(f);
	free(path);
	free(dir);
	return r;
}

int sched_exec(char *const argv[], const char *input, char **ret_out)
{
	int out[2] = {-1, -1}, in[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) < 0 || (input && pipe2(in, O_CLOEXEC) < 0)) {
		int e = -errno;
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return store_failp(e, "%s", argv[0]);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(out[0]);
		close(out[1]);
		if (in[0] >= 0) {
			close(in[0]);
			close(in[1]);
		}
		return store_failp(e, "%s: fork", argv[0]);
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		dup2(input ? in[0] : nul, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		/* Timestamps in UTC and messages untranslated, for parsing. */
		setenv("TZ", "UTC", 1);
		setenv("LC_ALL", "C", 1);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(out[1]);
	if (input) {
		close(in[0]);
		/* Small inputs (a crontab) fit the pipe buffer. */
		size_t len = strlen(input), off = 0;
		signal(SIGPIPE, SIG_IGN);
		while (off < len) {
			ssize_t w = write(in[1], input + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(in[1]);
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = len + 8192);
			if (!p)
				break;
			buf = p;
		}
		ssize_t n = read(out[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(out[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (buf) {
		buf[len] = '\0';
		while (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
	}
	int st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (st == 127 && WIFEXITED(ws) && (!buf || !*buf)) {
		free(buf);
		return store_fail(-ENOENT, "%s: command not found", argv[0]);
	}
	if (ret_out)
		*ret_out = buf;
	else
		free(buf);
	return st;
}

bool sched_have_manager(char **ret_why)
{
	char *argv[] = {(char *)"systemctl", (char *)"--user", (char *)"show-environment", NULL};
	char *out = NULL;
	int st = sched_exec(argv, NULL, &out);
	if (st == 0) {
		free(out);
		return true;
	}
	if (ret_why) {
		const char *m = st < 0 ? store_error() : out;
		char *nl;
		*ret_why = strdup(m && *m ? m : "systemctl --user failed");
		if (*ret_why && (nl = strchr(*ret_why, '\n')))
			*nl = '\0';
	}
	store_error_clear();
	free(out);
	return false;
}

char *sched_unit_prop(const char *unit, const char *prop)
{
	char *argv[] = {(char *)"systemctl", (char *)"--user", (char *)"show", (char *)unit,
			(char *)"-p", (char *)prop, (char *)"--value", NULL};
	char *out = NULL;
	int st = sched_exec(argv, NULL, &out);
	if (st != 0) {
		store_error_clear();
		free(out);
		return NULL;
	}
	/* A timestamp: "Thu 2026-12-03 07:27:00 UTC" (TZ=UTC in sched_exec). */
	struct tm tm = {0};
	char *end = out ? strptime(out, "%a %Y-%m-%d %H:%M:%S UTC", &tm) : NULL;
	if (end && !*end) {
		char *at = NULL;
		if (asprintf(&at, "@%lld", (long long)timegm(&tm)) >= 0) {
			free(out);
			return at;
		}
	}
	return out ? out : strdup("");
}

/* What is installed and running; the interval from the timer or the
 * crontab line. */
void sched_probe(struct sched_state *s)
{
	memset(s, 0, sizeof *s);
	char *dir = NULL, *wpath = NULL;
	if (sched_unit_dir(&dir) == 0 && asprintf(&wpath, "%s/" SCHED_WATCH, dir) >= 0) {
		s->watch = access(wpath, F_OK) == 0;
		free(wpath);
	}
	free(dir);
	if (s->watch && sched_have_manager(NULL)) {
		char *st = sched_unit_prop(SCHED_WATCH, "ActiveState");
		s->watch_active = st && !strcmp(st, "active");
		free(st);
	}
	if (sched_installed(&s->every_s) == 0) {
		s->enabled = true;
		if (sched_have_manager(NULL)) {
			s->state = sched_unit_prop(SCHED_TIMER, "ActiveState");
			s->active = s->state && !strcmp(s->state, "active");
			char *v = sched_unit_prop(SCHED_TIMER, "NextElapseUSecRealtime");
			if (v && v[0] == '@')
				s->next_s = strtoll(v + 1, NULL, 10);
			free(v);
			v = sched_unit_prop(SCHED_TIMER, "LastTriggerUSec");
			if (v && v[0] == '@')
				s->last_s = strtoll(v + 1, NULL, 10);
			free(v);
		}
	} else {
		char *argv[] = {(char *)"crontab", (char *)"-l", NULL}, *out = NULL;
		if (sched_exec(argv, NULL, &out) == 0 && out && strstr(out, SCHED_CRON_MARK)) {
			s->enabled = s->cron = s->active = true;
			/* Our own line: "*\/N * * * *", "0 *\/N * * *", ... */
			char *l = strstr(out, SCHED_CRON_MARK);
			while (l > out && l[-1] != '\n')
				l--;
			int n;
			if (sscanf(l, "*/%d ", &n) == 1)
				s->every_s = n * 60LL;
			else if (!strncmp(l, "* * * * *", 9))
				s->every_s = 60;
			else if (sscanf(l, "0 */%d ", &n) == 1)
				s->every_s = n * 3600LL;
			else if (!strncmp(l, "0 * * * *", 9))
				s->every_s = 3600;
			else if (!strncmp(l, "0 0 * * 1", 9))
				s->every_s = 7 * 86400;
			else if (!strncmp(l, "0 0 * * *", 9))
				s->every_s = 86400;
		}
		free(out);
	}
	store_error_clear();
}

void sched_state_clear(struct sched_state *s)
{
	free(s->state);
	s->state = NULL;
}

