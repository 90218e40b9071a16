/* cmd_status.c — ckptfs status: is every project's backup up to date?
 * One line per project (health.h says what each state means), the
 * schedule above them; exit 1 when anything is stale or failing, so it
 * can sit in a shell prompt or a monitoring check.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dumpers/dumpers.h"
#include "src/check_drill.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/duration.h"
#include "src/health.h"
#include "src/notify.h"
#include "src/output.h"
#include "src/runlog.h"
#include "src/sched.h"
#include "store/err.h"
#include "store/repo.h"

#define NS 1000000000LL

static const char usage_text[] =
	"usage: ckptfs status [--stale-after DURATION] [-q] [--json] [--notify]\n"
	"\n"
	"Every project: age of its newest snapshot, the last scheduled run's result\n"
	"for it, and its state: ok, stale (newest snapshot older than twice the\n"
	"schedule's interval; a week without a schedule), failing (newest snapshot\n"
	"partial or damaged — a database not captured, a path not read — or the\n"
	"last scheduled run failed), or missing (root folder gone).  A database in\n"
	"docker that was not running is named in WHY of a project that is ok, else\n"
	"its latest full drill (snap --drill=full); a latest full drill that failed\n"
	"makes the project failing.\n"
	"\n"
	"  -s, --stale-after DURATION  stale when the newest snapshot is older\n"
	"                       (e.g. 2h, 1d)\n"
	"  -q, --quiet          print only projects that are not ok\n"
	"      --json           a JSON object: schedule, threshold, projects\n"
	"      --notify         a desktop notification (notify-send) per project that\n"
	"                       is stale or failing, at most once a day each, when a\n"
	"                       session bus is there (the scheduled run does this)\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 all ok (or missing), 1 something stale or failing (or\n"
	"status could not be read), 2 usage.\n";

struct row {
	struct project *p;
	struct snapshot newest;
	bool have_newest;
	struct health h;
	const struct jv *run; /* the project's entry in the last run, or NULL */
	const char *run_result;
	char *dbs; /* JSON array of failing databases */
	char *skipped; /* JSON array of databases skipped (not running in docker) */
	const char *drill;  /* the latest full drill: "proven", "drill failed", … or NULL */
	char *drill_snap;   /* the snapshot it is recorded in (malloc'd) */
	int64_t drill_ns;
	bool root_ok;
};

/* The databases the notes record as failed (skipped: false) or as
 * skipped (not running in docker; skipped: true), as a JSON array. */
static char *notes_dbs(const char *notes, bool skipped)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	struct jv v;
	fputc('[', f);
	if (notes && jv_parse(notes, &v) == 0) {
		const struct jv *dbs = jv_get(&v, "databases");
		int k = 0;
		for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
			if (jv_bool(&dbs->items[i], "ok") || jv_bool(&dbs->items[i], "skipped") != skipped)
				continue;
			fputs(k++ ? ", {\"name\": " : "{\"name\": ", f);
			out_json_str(f, jv_str(&dbs->items[i], "name"));
			fputs(", \"result\": ", f);
			out_json_str(f, jv_str(&dbs->items[i], "result"));
			fputc('}', f);
		}
		jv_clear(&v);
	}
	fputc(']', f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* "database NAME (compose service db): not running — skipped" for the
 * first database the notes record as skipped; *ret stays NULL if none. */
static int skip_line(const char *notes, char **ret)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return 0;
	const struct jv *dbs = jv_get(&v, "databases");
	int r = 0;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
		const struct jv *d = &dbs->items[i];
		if (!jv_bool(d, "skipped"))
			continue;
		const char *name = jv_str(d, "name"), *where = jv_str(d, "where");
		const char *why = jv_str(d, "result");
		if (asprintf(ret, "database %s (%s): %s — skipped", name ? name : "?",
			     where ? where : "docker", why ? why : "not reachable") < 0) {
			*ret = NULL;
			r = -ENOMEM;
		}
		break;
	}
	jv_clear(&v);
	return r;
}

/* The latest snapshot of p whose notes record a full drill. */
static int latest_drill(struct repo *repo, struct row *row)
{
	struct snapshot *v = NULL;
	size_t n = 0;
	int r = catalog_snapshots(repo, row->p->id, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const char *d = dumper_notes_drill(v[i].notes);
		if (!d || (row->drill && v[i].time_ns <= row->drill_ns))
			continue;
		free(row->drill_snap);
		if (!(row->drill_snap = strdup(v[i].name))) {
			r = -ENOMEM;
			break;
		}
		row->drill = d;
		row->drill_ns = v[i].time_ns;
	}
	snapshots_free(v, n);
	return r;
}

/* A newer verdict of check --drill (its state file) for the project. */
static int checked_drill(const struct jv *drills, struct row *row)
{
	const struct jv *ps = drills ? jv_get(drills, "projects") : NULL;
	for (size_t i = 0; ps && ps->t == J_ARR && i < ps->n; i++) {
		const struct jv *e = &ps->items[i];
		const char *name = jv_str(e, "project"), *res = jv_str(e, "result");
		const char *sn = jv_str(e, "snapshot"), *tn = jv_str(e, "time_ns");
		int64_t t = tn ? strtoll(tn, NULL, 10) : 0;
		if (!name || strcmp(name, row->p->name) || !res || !sn || (row->drill && t <= row->drill_ns))
			continue;
		static const char *const words[] = {"proven", "proven in a private server", "restored",
						    "drill failed"};
		const char *w = NULL;
		for (size_t k = 0; k < sizeof words / sizeof *words; k++)
			if (!strcmp(res, words[k]))
				w = words[k];
		if (!w)
			continue;
		free(row->drill_snap);
		if (!(row->drill_snap = strdup(sn)))
			return -ENOMEM;
		row->drill = w;
		row->drill_ns = t;
	}
	return 0;
}

static int fill_row(struct repo *repo, const struct jv *log, const struct jv *drills, int64_t now,
		    int64_t stale_s, struct row *row)
{
	struct stat st;
	struct project *p = row->p;
	int r = catalog_snapshot_latest(repo, p->id, &row->newest);
	if (r < 0 && r != -ENOENT)
		return r;
	row->have_newest = r == 0;
	row->run = log ? runlog_project(log, p->name) : NULL;
	row->run_result = row->run ? jv_str(row->run, "result") : NULL;
	row->root_ok = stat(p->root, &st) == 0 && S_ISDIR(st.st_mode);
	struct health_in in = {
		.root_exists = row->root_ok,
		.newest = row->have_newest ? &row->newest : NULL,
		.run_result = row->run_result,
		.run_reason = row->run ? jv_str(row->run, "reason") : NULL,
		.run_time_ns = log ? (int64_t)jv_num(log, "time_ns", 0) : 0,
		.now_ns = now,
		.stale_after_s = stale_s,
	};
	if ((r = health_judge(&in, &row->h)) < 0)
		return r;
	const char *notes = row->have_newest ? row->newest.notes : NULL;
	row->dbs = notes_dbs(notes, false);
	row->skipped = notes_dbs(notes, true);
	if (!row->dbs || !row->skipped)
		return -ENOMEM;
	if (row->root_ok && (r = latest_drill(repo, row)) < 0)
		return r;
	if ((r = checked_drill(drills, row)) < 0)
		return r;
	/* The latest full drill failing means the backups are not proven to
	 * restore, whatever came after it. */
	if (row->drill && !strcmp(row->drill, "drill failed") && row->h.state != HEALTH_MISSING &&
	    !row->h.failing) {
		free(row->h.problem);
		row->h.failing = true;
		row->h.state = HEALTH_FAILING;
		if (asprintf(&row->h.problem, "the latest full drill failed (snapshot %s; see ckptfs show)",
			     row->drill_snap) < 0) {
			row->h.problem = NULL;
			return -ENOMEM;
		}
	}
	/* A project that is ok says which database its snapshots leave out,
	 * else how its latest full drill went. */
	if (!row->h.problem && (r = skip_line(notes, &row->h.problem)) < 0)
		return r;
	if (!row->h.problem && row->drill &&
	    asprintf(&row->h.problem, "full drill %s in snapshot %s", row->drill, row->drill_snap) < 0) {
		row->h.problem = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void print_json(const struct sched_state *s, int64_t stale_s, bool ok, struct row *rows,
		       size_t n, const struct jv *log, int64_t now)
{
	char buf[OUT_BUF];
	printf("{\"ok\": %s, \"stale_after_s\": %lld, \"schedule\": {\"enabled\": %s, \"via\": ",
	       ok ? "true" : "false", (long long)stale_s, s->enabled ? "true" : "false");
	out_json_str(stdout, !s->enabled ? NULL : s->cron ? "cron" : "systemd");
	printf(", \"every_s\": ");
	if (s->enabled && s->every_s)
		printf("%lld", (long long)s->every_s);
	else
		fputs("null", stdout);
	printf(", \"active\": %s, \"watch\": %s, \"watch_active\": %s}, \"last_run\": ",
	       s->active ? "true" : "false", s->watch ? "true" : "false",
	       s->watch_active ? "true" : "false");
	if (log)
		printf("{\"time\": \"%s\", \"exit\": %d}",
		       out_utc_iso((int64_t)jv_num(log, "time_ns", 0), buf), (int)jv_num(log, "exit", -1));
	else
		fputs("null", stdout);
	fputs(", \"projects\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		fputs(i ? ",\n {\"project\": " : "\n {\"project\": ", stdout);
		out_json_str(stdout, r->p->name);
		fputs(", \"root\": ", stdout);
		out_json_str(stdout, r->p->root);
		printf(", \"state\": \"%s\", \"stale\": %s, \"failing\": %s, \"problem\": ",
		       health_name(r->h.state), r->h.stale ? "true" : "false",
		       r->h.failing ? "true" : "false");
		out_json_str(stdout, r->h.problem);
		fputs(", \"newest\": ", stdout);
		if (r->have_newest) {
			fputs("{\"name\": ", stdout);
			out_json_str(stdout, r->newest.name);
			printf(", \"time\": \"%s\", \"age_s\": %lld, \"status\": \"%s\"}",
			       out_utc_iso(r->newest.time_ns, buf),
			       (long long)((now - r->newest.time_ns) / NS),
			       cli_status_name(r->newest.status));
		} else {
			fputs("null", stdout);
		}
		fputs(", \"last_run\": ", stdout);
		if (r->run) {
			fputs("{\"result\": ", stdout);
			out_json_str(stdout, r->run_result);
			fputs(", \"reason\": ", stdout);
			out_json_str(stdout, jv_str(r->run, "reason"));
			fputc('}', stdout);
		} else {
			fputs("null", stdout);
		}
		printf(", \"databases_failing\": %s, \"databases_skipped\": %s, \"drill\": ", r->dbs,
		       r->skipped);
		if (r->drill) {
			fputs("{\"result\": ", stdout);
			out_json_str(stdout, r->drill);
			fputs(", \"snapshot\": ", stdout);
			out_json_str(stdout, r->drill_snap);
			printf(", \"time\": \"%s\"}}", out_utc_iso(r->drill_ns, buf));
		} else {
			fputs("null}", stdout);
		}
	}
	fputs(n ? "\n]}\n" : "]}\n", stdout);
}

static void print_table(const struct sched_state *s, int64_t stale_s, bool quiet, struct row *rows,
			size_t n, int64_t now)
{
	char dur[32], age[OUT_BUF];
	if (!quiet) {
		if (s->enabled)
			printf("schedule: every %s by %s, %s; ", dur_format(s->every_s, dur),
			       s->cron ? "cron" : "systemd user timer",
			       s->active ? "active" : "not active");
		else
			printf("schedule: none (ckptfs schedule enable); ");
		if (s->watch)
			printf("watch %s; ", s->watch_active ? "running" : "not running");
		printf("stale after %s\n", dur_format(stale_s, age));
	}
	size_t wname = strlen("PROJECT"), wage = strlen("NEWEST");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(rows[i].p->name);
		wname = l > wname ? l : wname;
		l = strlen(rows[i].have_newest ? out_age(now - rows[i].newest.time_ns, age) : "never");
		wage = l > wage ? l : wage;
	}
	bool header = false;
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		if (quiet && (r->h.state == HEALTH_OK || r->h.state == HEALTH_MISSING))
			continue;
		if (!header) {
			printf("%-*s  %-*s  %-7s  %s\n", (int)wname, "PROJECT", (int)wage, "NEWEST",
			       "STATE", "WHY");
			header = true;
		}
		char *name = out_printable(r->p->name);
		char *why = r->h.problem ? out_printable(r->h.problem) : NULL;
		printf("%-*s  %-*s  %-*s%s%s\n", (int)wname, name ? name : "", (int)wage,
		       r->have_newest ? out_age(now - r->newest.time_ns, age) : "never",
		       why ? 7 : 0, health_name(r->h.state), why ? "  " : "", why ? why : "");
		free(name);
		free(why);
	}
}

/* A notification for each project that is stale or failing (if due). */
static void notify_rows(const struct row *rows, size_t n)
{
	struct notify_item *items = calloc(n, sizeof *items);
	size_t k = 0;
	for (size_t i = 0; items && i < n; i++) {
		if (rows[i].h.state != HEALTH_STALE && rows[i].h.state != HEALTH_FAILING)
			continue;
		items[k++] = (struct notify_item){.project = rows[i].p->name,
						  .state = health_name(rows[i].h.state),
						  .problem = rows[i].h.problem};
	}
	int r = items ? notify_send_due(items, k, out_clock_ns()) : -ENOMEM;
	if (r < 0) {
		out_store_err(r, "status --notify");
		store_error_clear();
	}
	free(items);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"stale-after", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'J'},
		{"notify", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int64_t stale_arg = 0;
	bool json = false, quiet = false, notify = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (dur_parse(optarg, &stale_arg) < 0)
				return cli_usage_error("status", "--stale-after %s: not a duration "
								 "(e.g. 2h, 1d)",
						       optarg);
			break;
		case 'q': quiet = true; break;
		case 'J': json = true; break;
		case 'N': notify = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("status", c, optopt, argv, optind);
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);

	struct sched_state s;
	sched_probe(&s);
	int64_t stale_s = health_stale_after(stale_arg, s.enabled ? s.every_s : 0);
	int64_t now = out_clock_ns();
	struct repo *repo = NULL;
	struct project *ps = NULL;
	struct row *rows = NULL;
	struct jv log, drills;
	bool have_log = false, have_drills = false;
	size_t n = 0;
	int status = EXIT_ERROR;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == -ENOENT) {
		store_error_clear(); /* no repository: no projects, nothing behind */
	} else if (r < 0 || (r = catalog_projects(repo, &ps, &n)) < 0) {
		status = out_store_err(r, "status");
		goto out;
	}
	have_drills = runlog_state_read(CHECK_DRILL_STATE, &drills) == 0;
	store_error_clear();
	if ((r = runlog_read(&log)) == 0)
		have_log = true;
	else if (r != -ENOENT)
		out_store_err(r, "status"); /* said; the catalog still answers */
	store_error_clear();
	if (n && !(rows = calloc(n, sizeof *rows))) {
		out_err("status: out of memory");
		goto out;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		rows[i].p = &ps[i];
		if ((r = fill_row(repo, have_log ? &log : NULL, have_drills ? &drills : NULL, now, stale_s,
				  &rows[i])) < 0) {
			status = out_store_err(r, "status");
			goto out;
		}
		ok &= rows[i].h.state == HEALTH_OK || rows[i].h.state == HEALTH_MISSING;
	}
	if (json)
		print_json(&s, stale_s, ok, rows, n, have_log ? &log : NULL, now);
	else if (n == 0 && !quiet)
		puts("no projects yet (ckptfs snap in a project folder registers it)");
	else
		print_table(&s, stale_s, quiet, rows, n, now);
	if (notify && !ok && notify_have_bus())
		notify_rows(rows, n);
	status = ok ? EXIT_OK : EXIT_ERROR;
out:
	for (size_t i = 0; rows && i < n; i++) {
		if (rows[i].have_newest)
			snapshot_clear(&rows[i].newest);
		health_clear(&rows[i].h);
		free(rows[i].dbs);
		free(rows[i].skipped);
		free(rows[i].drill_snap);
	}
	free(rows);
	if (have_log)
		jv_clear(&log);
	if (have_drills)
		jv_clear(&drills);
	projects_free(ps, n);
	repo_close(repo);
	sched_state_clear(&s);
	return status;
}
