/* cmd_schedule.c — ckptfs schedule enable | disable | status: `snap --all`
 * on a timer, through a systemd user manager (sched.h) or, where there is
 * none, a crontab line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/duration.h"
#include "src/output.h"
#include "src/runlog.h"
#include "src/sched.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs schedule enable [--every DURATION] [--watch | --cron]\n"
	"       ckptfs schedule disable\n"
	"       ckptfs schedule status [--json]\n"
	"\n"
	"Run `ckptfs snap --all` on a timer: a systemd user timer and service\n"
	"(ckptfs.timer, ckptfs.service in $XDG_CONFIG_HOME/systemd/user), enabled\n"
	"with systemctl --user.  A run missed while the machine was off or asleep\n"
	"happens when it is back (Persistent=true); runs are niced and idle-I/O.\n"
	"\n"
	"  -e, --every DURATION how often (default 1h): whole minutes dividing an\n"
	"                       hour (15min, 30min), whole hours dividing a day\n"
	"                       (2h, 6h), 1d or 1w\n"
	"      --watch          also a service running `ckptfs watch --all`\n"
	"                       (ckptfs-watch.service, restarted if it fails)\n"
	"      --cron           install a crontab line instead (where there is no\n"
	"                       systemd user manager: containers, WSL, CI)\n"
	"      --json           status as a JSON object\n"
	"  -h, --help           this help\n"
	"\n"
	"disable stops the timer and removes everything enable created (units,\n"
	"crontab line).  status shows the interval, next run, last run and result.\n"
	"\n"
	"Exit status: 0 done (status: enabled and active), 1 error (status: not\n"
	"enabled, or the timer is not active), 2 usage.\n";

/* The absolute path of this binary and of the repository, malloc'd. */
static int self_paths(char **ret_exe, char **ret_repo)
{
	char *exe = realpath("/proc/self/exe", NULL), *repo = NULL;
	if (!exe)
		return store_failp(-errno, "/proc/self/exe");
	int r = repo_default_path(&repo);
	if (r < 0) {
		free(exe);
		return r;
	}
	if (repo[0] != '/') {
		char cwd[PATH_MAX], *abs = NULL;
		if (!getcwd(cwd, sizeof cwd) || asprintf(&abs, "%s/%s", cwd, repo) < 0) {
			free(exe);
			free(repo);
			return store_failp(-errno ? -errno : -ENOMEM, "current directory");
		}
		free(repo);
		repo = abs;
	}
	*ret_exe = exe;
	*ret_repo = repo;
	return 0;
}

/* ---- crontab ---- */

/* The user's crontab ("" when there is none), malloc'd; NULL on error
 * (printed). */
static char *crontab_read(void)
{
	char *argv[] = {(char *)"crontab", (char *)"-l", NULL}, *out = NULL;
	int st = sched_exec(argv, NULL, &out);
	if (st == 0)
		return out ? out : strdup("");
	if (st > 0 && out && strstr(out, "no crontab")) {
		free(out);
		return strdup("");
	}
	if (st < 0)
		out_store_err(st, "schedule: crontab");
	else
		out_err("schedule: crontab -l: %s", out && *out ? out : "failed");
	free(out);
	return NULL;
}

/* The crontab without our line, plus line if not NULL; installs it.
 * Returns 1 if our line was there before, 0 if not, -1 on error (printed). */
static int crontab_update(const char *line)
{
	char *old = crontab_read();
	if (!old)
		return -1;
	char *text = NULL;
	size_t len = 0;
	int had = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		free(old);
		return -1;
	}
	for (char *save = NULL, *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(l), m = strlen(SCHED_CRON_MARK);
		if (n >= m && !strcmp(l + n - m, SCHED_CRON_MARK)) {
			had = 1;
			continue;
		}
		fprintf(f, "%s\n", l);
	}
	if (line)
		fprintf(f, "%s\n", line);
	fclose(f);
	free(old);
	if (!had && !line) {
		free(text);
		return 0;
	}
	char *argv[] = {(char *)"crontab", (char *)"-", NULL}, *out = NULL;
	int st = sched_exec(argv, text ? text : "", &out);
	free(text);
	if (st != 0) {
		if (st < 0)
			out_store_err(st, "schedule: crontab");
		else
			out_err("schedule: crontab -: %s", out && *out ? out : "failed");
		free(out);
		return -1;
	}
	free(out);
	return had;
}

/* ---- systemd ---- */

/* systemctl --user ARGS; on failure prints its first line and returns -1. */
static int systemctl(const char *a, const char *b, const char *c)
{
	char *argv[] = {(char *)"systemctl", (char *)"--user", (char *)a, (char *)b, (char *)c, NULL};
	char *out = NULL;
	int st = sched_exec(argv, NULL, &out);
	if (st != 0) {
		char *nl = out ? strchr(out, '\n') : NULL;
		if (nl)
			*nl = '\0';
		if (st < 0)
			out_store_err(st, "schedule");
		else
			out_err("schedule: systemctl --user %s%s%s: %s", a, b ? " " : "", b ? b : "",
				out && *out ? out : "failed");
	}
	free(out);
	return st == 0 ? 0 : -1;
}

static int write_unit(int dfd, const char *dir, const char *name, const char *text)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
	int r = fio_write_atomic(dfd, name, tmp, text, strlen(text), 0644);
	if (r < 0)
		out_err("schedule: %s/%s: %s", dir, name, strerror(-r));
	return r;
}

static int install_units(const char *dir, int64_t every, const char *exe, const char *repo,
			 bool watch)
{
	char *svc = NULL, *tmr = NULL, *wsvc = NULL;
	int r, dfd = -1;
	if ((r = sched_service_text(exe, repo, &svc)) < 0 || (r = sched_timer_text(every, &tmr)) < 0 ||
	    (watch && (r = sched_watch_text(exe, repo, &wsvc)) < 0)) {
		out_store_err(r, "schedule");
		goto out;
	}
	if ((r = fio_mkdir_p(dir, 0755, NULL)) < 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		out_err("schedule: %s: %s", dir, strerror(r < 0 ? -r : errno));
		r = -1;
		goto out;
	}
	if ((r = write_unit(dfd, dir, SCHED_SERVICE, svc)) < 0 ||
	    (r = write_unit(dfd, dir, SCHED_TIMER, tmr)) < 0 ||
	    (watch && (r = write_unit(dfd, dir, SCHED_WATCH, wsvc)) < 0))
		goto out;
out:
	if (dfd >= 0)
		close(dfd);
	free(svc);
	free(tmr);
	free(wsvc);
	return r;
}

/* Remove the unit files and, when empty, the folders enable may have made.
 * Returns how many unit files there were. */
static int remove_units(const char *dir)
{
	static const char *const names[] = {SCHED_TIMER, SCHED_SERVICE, SCHED_WATCH};
	int n = 0;
	for (size_t i = 0; i < 3; i++) {
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
			continue;
		if (unlink(p) == 0)
			n++;
		else if (errno != ENOENT)
			out_err("schedule: %s: %s", p, strerror(errno));
		free(p);
	}
	if (n) {
		fio_fsync_dir(AT_FDCWD, dir);
		/* user/ and systemd/ go if nothing else is in them. */
		if (rmdir(dir) == 0) {
			char *parent = strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;
			if (slash) {
				*slash = '\0';
				rmdir(parent);
			}
			free(parent);
		}
	}
	return n;
}

/* ---- the three subcommands ---- */

/* systemctl --user disable --now UNIT, quietly: not loaded is fine. */
static void stop_unit(const char *unit)
{
	char *argv[] = {(char *)"systemctl", (char *)"--user", (char *)"disable", (char *)"--now",
			(char *)unit, NULL};
	char *out = NULL;
	sched_exec(argv, NULL, &out);
	store_error_clear();
	free(out);
}

static int sched_enable(int64_t every, bool cron, bool watch)
{
	char *exe = NULL, *repo = NULL, *dir = NULL, *line = NULL, *why = NULL;
	char dur[32];
	int status = EXIT_ERROR, r;
	if ((r = self_paths(&exe, &repo)) < 0 || (r = sched_unit_dir(&dir)) < 0) {
		status = out_store_err(r, "schedule");
		goto out;
	}
	if ((r = sched_cron_line(every, exe, repo, &line)) < 0) {
		status = out_store_err(r, "schedule");
		goto out;
	}
	if (cron) {
		if (crontab_update(line) < 0)
			goto out;
		printf("schedule: every %s by cron: %s\n", dur_format(every, dur), line);
		status = EXIT_OK;
		goto out;
	}
	if (!sched_have_manager(&why)) {
		out_err("schedule: no systemd user manager running (%s); nothing installed.  "
			"`ckptfs schedule enable --cron` installs this crontab line instead: %s",
			why ? why : "systemctl --user failed", line);
		goto out;
	}
	/* Enabling again replaces: a watch service not asked for this time goes. */
	char *wpath = NULL;
	if (!watch && asprintf(&wpath, "%s/" SCHED_WATCH, dir) >= 0) {
		if (access(wpath, F_OK) == 0) {
			stop_unit(SCHED_WATCH);
			unlink(wpath);
		}
		free(wpath);
	}
	if (install_units(dir, every, exe, repo, watch) < 0)
		goto out;
	if (systemctl("daemon-reload", NULL, NULL) < 0 ||
	    systemctl("enable", "--now", SCHED_TIMER) < 0 ||
	    (watch && systemctl("enable", "--now", SCHED_WATCH) < 0)) {
		out_err("schedule: the units are in %s; `ckptfs schedule disable` removes them", dir);
		goto out;
	}
	char *next = sched_unit_prop(SCHED_TIMER, "NextElapseUSecRealtime");
	char when[OUT_BUF] = "";
	if (next && next[0] == '@')
		out_local_time(strtoll(next + 1, NULL, 10) * 1000000000LL, false, when);
	printf("schedule: every %s (systemd user timer %s; next run %s)\n", dur_format(every, dur),
	       SCHED_TIMER, *when ? when : "when the timer says");
	if (watch)
		printf("watch: every registered project (%s, running)\n", SCHED_WATCH);
	free(next);
	status = EXIT_OK;
out:
	free(exe);
	free(repo);
	free(dir);
	free(line);
	free(why);
	return status;
}

static int sched_disable(void)
{
	char *dir = NULL;
	int r = sched_unit_dir(&dir);
	if (r < 0)
		return out_store_err(r, "schedule");
	bool manager = sched_have_manager(NULL);
	int status = EXIT_OK;
	if (manager) {
		/* Not loaded (never enabled here) is fine: there is nothing to stop. */
		stop_unit(SCHED_TIMER);
		stop_unit(SCHED_WATCH);
	}
	int units = remove_units(dir);
	/* The manager's record of the last trigger (Persistent=true). */
	const char *xd = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *stamp = NULL;
	if ((xd && *xd == '/' && asprintf(&stamp, "%s/systemd/timers/stamp-" SCHED_TIMER, xd) >= 0) ||
	    (!(xd && *xd == '/') && home && *home &&
	     asprintf(&stamp, "%s/.local/share/systemd/timers/stamp-" SCHED_TIMER, home) >= 0)) {
		/* ...and timers/, systemd/ under it if that left them empty. */
		if (unlink(stamp) == 0)
			for (int up = 0; up < 2; up++) {
				char *slash = strrchr(stamp, '/');
				if (!slash)
					break;
				*slash = '\0';
				if (rmdir(stamp) < 0)
					break;
			}
		free(stamp);
	}
	if (manager && units && systemctl("daemon-reload", NULL, NULL) < 0)
		status = EXIT_ERROR;
	int cron = 0;
	char *argv[] = {(char *)"crontab", (char *)"-l", NULL}, *out = NULL;
	if (sched_exec(argv, NULL, &out) == 0 && out && strstr(out, SCHED_CRON_MARK))
		cron = crontab_update(NULL);
	store_error_clear();
	free(out);
	if (cron < 0)
		status = EXIT_ERROR;
	if (units || cron > 0)
		printf("schedule: disabled (%s%s%s removed)\n", units ? "units in " : "",
		       units ? dir : "", cron > 0 ? (units ? " and crontab line" : "crontab line") : "");
	else
		printf("schedule: was not enabled\n");
	free(dir);
	return status;
}

static void json_time(FILE *f, int64_t s)
{
	char buf[OUT_BUF];
	if (s)
		fprintf(f, "\"%s\"", out_utc_iso(s * 1000000000LL, buf));
	else
		fputs("null", f);
}

static int sched_status(bool json)
{
	struct sched_state s;
	struct jv log;
	bool have_log = runlog_read(&log) == 0;
	store_error_clear();
	sched_probe(&s);
	int64_t now = out_now_ns();
	char dur[32], when[OUT_BUF], age[OUT_BUF];
	const char *via = !s.enabled ? NULL : s.cron ? "cron" : "systemd";
	if (json) {
		printf("{\"enabled\": %s, \"via\": ", s.enabled ? "true" : "false");
		out_json_str(stdout, via);
		printf(", \"every_s\": ");
		if (s.enabled && s.every_s)
			printf("%lld", (long long)s.every_s);
		else
			fputs("null", stdout);
		printf(", \"active\": %s, \"watch\": %s, \"watch_active\": %s, \"next\": ",
		       s.active ? "true" : "false", s.watch ? "true" : "false",
		       s.watch_active ? "true" : "false");
		json_time(stdout, s.next_s);
		fputs(", \"last_trigger\": ", stdout);
		json_time(stdout, s.last_s);
		fputs(", \"last_run\": ", stdout);
		if (have_log)
			printf("{\"time\": \"%s\", \"exit\": %d}",
			       jv_str(&log, "time") ? jv_str(&log, "time") : "",
			       (int)jv_num(&log, "exit", -1));
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
	} else {
		if (!s.enabled)
			puts("schedule: not enabled (ckptfs schedule enable)");
		else
			printf("schedule: every %s by %s, %s\n", dur_format(s.every_s, dur),
			       s.cron ? "cron" : "systemd user timer " SCHED_TIMER,
			       s.active ? "active" : s.state ? s.state : "no user manager to ask");
		if (s.next_s)
			printf("next run: %s\n", out_local_time(s.next_s * 1000000000LL, false, when));
		if (s.watch)
			printf("watch: %s %s\n", SCHED_WATCH, s.watch_active ? "running" : "not running");
		if (have_log) {
			int64_t t = (int64_t)jv_num(&log, "time_ns", 0);
			const struct jv *ps = jv_get(&log, "projects");
			int counts[4] = {0};
			static const char *const names[4] = {"complete", "partial", "failed", "missing"};
			for (size_t i = 0; ps && ps->t == J_ARR && i < ps->n; i++) {
				const char *res = jv_str(&ps->items[i], "result");
				for (int k = 0; k < 4; k++)
					counts[k] += res && !strcmp(res, names[k]);
			}
			printf("last run: %s (%s), exit %d:", out_local_time(t, false, when),
			       out_age(now - t, age), (int)jv_num(&log, "exit", -1));
			for (int k = 0, first = 1; k < 4; k++)
				if (counts[k]) {
					printf("%s %d %s", first ? "" : ",", counts[k], names[k]);
					first = 0;
				}
			putchar('\n');
		} else {
			puts("last run: none recorded");
		}
	}
	if (have_log)
		jv_clear(&log);
	int status = s.enabled && s.active ? EXIT_OK : EXIT_ERROR;
	sched_state_clear(&s);
	return status;
}

int cmd_schedule(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"every", required_argument, NULL, 'e'},
		{"cron", no_argument, NULL, 'C'},
		{"watch", no_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *every_arg = NULL;
	bool cron = false, json = false, watch = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': every_arg = optarg; break;
		case 'C': cron = true; break;
		case 'w': watch = true; break;
		case 'J': json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("schedule", c, optopt, argv, optind);
		}
	}
	if (optind >= argc)
		return cli_usage_error("schedule", "enable, disable or status?");
	const char *verb = argv[optind];
	if (argc - optind > 1)
		return cli_usage_error("schedule", "unexpected argument '%s'", argv[optind + 1]);
	bool is_enable = !strcmp(verb, "enable"), is_status = !strcmp(verb, "status");
	if (!is_enable && !is_status && strcmp(verb, "disable"))
		return cli_usage_error("schedule", "%s: not enable, disable or status", verb);
	if (!is_enable && (every_arg || cron || watch))
		return cli_usage_error("schedule", "--every, --cron and --watch go with enable");
	if (cron && watch)
		return cli_usage_error("schedule", "--watch needs a systemd user manager, not --cron");
	if (!is_status && json)
		return cli_usage_error("schedule", "--json goes with status");
	if (is_status)
		return sched_status(json);
	if (!is_enable)
		return sched_disable();
	int64_t every = 3600;
	char cal[48];
	if (every_arg && dur_parse(every_arg, &every) < 0)
		return cli_usage_error("schedule", "--every %s: not a duration (e.g. 30min, 1h, 1d)",
				       every_arg);
	if (sched_calendar(every, cal) < 0)
		return cli_usage_error("schedule",
				       "--every %s: not whole minutes dividing an hour, whole hours "
				       "dividing a day, 1d or 1w",
				       every_arg);
	return sched_enable(every, cron, watch);
}
