/* cmd_forget.c — ckptfs forget: move snapshots to the trash, by a keep
 * policy (store/retention.h) or by name.  Nothing is deleted: the trash
 * keeps them (and gc keeps their data) for a window; `ckptfs trash`
 * lists and restores them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/forget.h"
#include "src/output.h"
#include "src/retcfg.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/snaprec.h"

#define NS 1000000000LL

static const char usage_text[] =
	"usage: ckptfs forget [--project NAME | --all] POLICY [--dry-run] [--json] [--force]\n"
	"       ckptfs forget [--project NAME] WHEN... [--dry-run] [--json]\n"
	"\n"
	"Move snapshots to the trash: those a keep policy does not keep, or the\n"
	"ones named (a snapshot name, a tag, latest, or a time phrase, as show\n"
	"reads WHEN).  Forgotten snapshots leave log, show, restore, diff and the\n"
	"mount at once, and stay in the trash (ckptfs trash) for a window\n"
	"([trash] days in config.toml, default 7) before gc may collect them.\n"
	"A policy never forgets a project's newest snapshot, a snapshot with a\n"
	"tag you gave, or a safety snapshot of restore; naming one does.\n"
	"\n"
	"POLICY (each rule keeps what it keeps; kept by any rule = kept; local time):\n"
	"  -l, --keep-last N        the N newest\n"
	"  -H, --keep-hourly N      the newest of each of the N newest hours with one\n"
	"  -d, --keep-daily N       ... days\n"
	"  -w, --keep-weekly N      ... ISO weeks\n"
	"  -m, --keep-monthly N     ... months\n"
	"  -y, --keep-yearly N      ... years (N may be 'unlimited')\n"
	"      --keep-within D      all within D of the newest snapshot (2d, 36h)\n"
	"      --keep-within-hourly D   the newest of each hour within D of the newest;\n"
	"      --keep-within-daily D    likewise -weekly, -monthly, -yearly\n"
	"      --keep-within-weekly D\n"
	"      --keep-within-monthly D\n"
	"      --keep-within-yearly D\n"
	"      --keep-tag TAG       every snapshot tagged TAG (repeatable)\n"
	"      --policy             the configured policy (config.toml, .ckptfs.toml\n"
	"                           [retention]; built in: hourly for 24 h, daily for\n"
	"                           30 days, weekly for 26 weeks, monthly beyond)\n"
	"\n"
	"  -p, --project NAME   the project NAME (default: the one containing the\n"
	"                       current directory)\n"
	"  -a, --all            every project (a policy only)\n"
	"  -n, --dry-run        list what would be forgotten, change nothing\n"
	"      --json           a JSON object: per project, forgotten and kept\n"
	"      --force          accept a policy with no rule (it keeps only the\n"
	"                       snapshots a policy never forgets)\n"
	"      --if-configured  with --policy: do nothing unless config.toml has a\n"
	"                       [retention] table (and no auto = false); the\n"
	"                       scheduled run uses it after snap --all\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 done (also when nothing was to go), 1 error (an unknown\n"
	"snapshot: nothing is forgotten), 2 usage (also a policy with no rule\n"
	"without --force), 4 the repository stayed locked by a writer.\n";

enum {
	OPT_WITHIN = 1000,
	OPT_WITHIN_UNIT, /* + enum retention_unit */
	OPT_TAG = OPT_WITHIN_UNIT + RETENTION_UNITS,
	OPT_POLICY,
	OPT_JSON,
	OPT_FORCE,
	OPT_IF_CONFIGURED,
};

struct opts {
	const char *project;
	bool all, dry_run, json, force, use_policy, have_rule, if_configured;
	struct retention_policy policy;
	const char **tags;
	size_t ntags;
	char **whens;
	int nwhens;
};

static const char *const unit_flag[RETENTION_UNITS] = {"--keep-last",   "--keep-hourly",
						       "--keep-daily",  "--keep-weekly",
						       "--keep-monthly", "--keep-yearly"};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"keep-last", required_argument, NULL, 'l'},
		{"keep-hourly", required_argument, NULL, 'H'},
		{"keep-daily", required_argument, NULL, 'd'},
		{"keep-weekly", required_argument, NULL, 'w'},
		{"keep-monthly", required_argument, NULL, 'm'},
		{"keep-yearly", required_argument, NULL, 'y'},
		{"keep-within", required_argument, NULL, OPT_WITHIN},
		{"keep-within-hourly", required_argument, NULL, OPT_WITHIN_UNIT + RETENTION_HOURLY},
		{"keep-within-daily", required_argument, NULL, OPT_WITHIN_UNIT + RETENTION_DAILY},
		{"keep-within-weekly", required_argument, NULL, OPT_WITHIN_UNIT + RETENTION_WEEKLY},
		{"keep-within-monthly", required_argument, NULL, OPT_WITHIN_UNIT + RETENTION_MONTHLY},
		{"keep-within-yearly", required_argument, NULL, OPT_WITHIN_UNIT + RETENTION_YEARLY},
		{"keep-tag", required_argument, NULL, OPT_TAG},
		{"policy", no_argument, NULL, OPT_POLICY},
		{"project", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"dry-run", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, OPT_JSON},
		{"force", no_argument, NULL, OPT_FORCE},
		{"if-configured", no_argument, NULL, OPT_IF_CONFIGURED},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static const char units[] = "lHdwmy";
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:H:d:w:m:y:p:anh", longopts, NULL)) != -1) {
		const char *u = c > 0 && c < 256 ? strchr(units, c) : NULL;
		if (u) {
			int unit = (int)(u - units);
			if (forget_parse_count(optarg, &o->policy.keep[unit]) < 0)
				return cli_usage_error("forget", "%s '%s': not a count (or 'unlimited')",
						       unit_flag[unit], optarg);
			o->have_rule = true;
			continue;
		}
		if (c >= OPT_WITHIN_UNIT + 1 && c < OPT_WITHIN_UNIT + RETENTION_UNITS) {
			int unit = c - OPT_WITHIN_UNIT;
			if (forget_parse_within(optarg, &o->policy.within_unit_ns[unit]) < 0)
				return cli_usage_error("forget", "--keep-within-%s '%s': not a duration",
						       unit_flag[unit] + 7, optarg);
			o->have_rule = true;
			continue;
		}
		switch (c) {
		case OPT_WITHIN:
			if (forget_parse_within(optarg, &o->policy.within_ns) < 0)
				return cli_usage_error("forget", "--keep-within '%s': not a duration",
						       optarg);
			o->have_rule = true;
			break;
		case OPT_TAG: {
			const char **t = realloc(o->tags, (o->ntags + 1) * sizeof *t);
			if (!t) {
				out_err("forget: out of memory");
				return EXIT_ERROR;
			}
			t[o->ntags++] = optarg;
			o->tags = t;
			o->have_rule = true;
			break;
		}
		case OPT_POLICY: o->use_policy = true; break;
		case 'p': o->project = optarg; break;
		case 'a': o->all = true; break;
		case 'n': o->dry_run = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_IF_CONFIGURED: o->if_configured = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK + 100;
		default: return cli_bad_option("forget", c, optopt, argv, optind);
		}
	}
	o->policy.tags = o->tags;
	o->policy.ntags = o->ntags;
	o->whens = argv + optind;
	o->nwhens = argc - optind;
	if (o->project && o->all)
		return cli_usage_error("forget", "give --project NAME or --all, not both");
	if (o->nwhens && (o->have_rule || o->use_policy))
		return cli_usage_error("forget", "give a policy or snapshot names, not both");
	if (o->if_configured && !o->use_policy)
		return cli_usage_error("forget", "--if-configured goes with --policy");
	if (o->have_rule && o->use_policy)
		return cli_usage_error("forget", "give --policy or --keep-* rules, not both");
	if (o->nwhens && o->all)
		return cli_usage_error("forget", "--all takes a policy, not snapshot names");
	if (!o->nwhens && !o->have_rule && !o->use_policy)
		return cli_usage_error("forget", "give a policy (--keep-*, --policy) or snapshots");
	if (o->have_rule && retention_policy_empty(&o->policy) && !o->force)
		return cli_usage_error("forget",
				       "the policy keeps nothing (every rule is 0): give a rule of "
				       "at least 1, or --force to keep only the newest, tagged and "
				       "safety snapshots");
	return EXIT_OK;
}

/* "37 snapshots" / "1 snapshot". */
static const char *count_words(size_t n, char buf[OUT_BUF + 16])
{
	char c[OUT_BUF];
	snprintf(buf, OUT_BUF + 16, "%s snapshot%s", out_count(n, c), n == 1 ? "" : "s");
	return buf;
}

static void print_done(const struct opts *o, const char *project, size_t ngo, size_t nkept,
		       int days)
{
	char w[OUT_BUF + 16];
	if (!ngo)
		printf("%s: nothing to forget (%s kept)\n", project, count_words(nkept, w));
	else if (o->dry_run)
		printf("would forget %s of %s (keeping %zu)\n", count_words(ngo, w), project, nkept);
	else
		printf("forgot %s of %s (in the trash for %d day%s: ckptfs trash)\n",
		       count_words(ngo, w), project, days, days == 1 ? "" : "s");
}

static void json_reasons(uint32_t bits)
{
	char buf[256];
	retention_reasons_text(bits, buf, sizeof buf);
	fputs("[", stdout);
	bool first = true;
	for (char *p = buf, *tok; (tok = strsep(&p, ","));) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		printf("%s\"%s\"", first ? "" : ", ", tok);
		first = false;
	}
	fputs("]", stdout);
}

/* One project's part of the JSON object. */
static void json_plan(const struct forget_plan *pl, bool first)
{
	fputs(first ? "\n  {\"project\": " : ",\n  {\"project\": ", stdout);
	out_json_str(stdout, pl->project.name);
	fputs(", \"forgotten\": [", stdout);
	size_t k = 0;
	for (size_t i = 0; i < pl->n; i++)
		if (!pl->kept[i]) {
			fputs(k++ ? ", " : "", stdout);
			out_json_str(stdout, pl->snaps[i].name);
		}
	fputs("], \"kept\": [", stdout);
	k = 0;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->kept[i]) {
			fputs(k++ ? ", " : "", stdout);
			fputs("{\"name\": ", stdout);
			out_json_str(stdout, pl->snaps[i].name);
			fputs(", \"reasons\": ", stdout);
			json_reasons(pl->kept[i]);
			fputs("}", stdout);
		}
	fputs("]}", stdout);
}

static void json_open(const struct opts *o, int days, int64_t expires)
{
	char t[OUT_BUF];
	printf("{\"dry_run\": %s, \"trash_days\": %d, \"expires_at\": \"%s\", \"projects\": [",
	       o->dry_run ? "true" : "false", days, out_utc_iso(expires, t));
}

/* Collect the ids of what goes (every plan) and move them in one
 * transaction, or (dry run) nothing. */
static int trash_plans(struct repo *repo, const struct opts *o, struct forget_plan *plans,
		       size_t np, int64_t now, int64_t expires)
{
	if (o->dry_run)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < np; i++)
		total += plans[i].ngo;
	if (!total)
		return 0;
	int64_t *ids = malloc(total * sizeof *ids);
	if (!ids)
		return store_fail(-ENOMEM, "forget: out of memory");
	size_t k = 0;
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < plans[i].n; j++)
			if (!plans[i].kept[j])
				ids[k++] = plans[i].snaps[j].id;
	int r = snaprec_state_put(repo, ids, k, SNAPREC_TRASHED, now, expires);
	if (r >= 0)
		r = catalog_trash_put(repo, ids, k, now, expires);
	free(ids);
	return r;
}

/* The projects a policy run covers: --all, --project, or the one here. */
static int policy_projects(struct repo *repo, const struct opts *o, struct project **ret,
			   size_t *ret_n)
{
	if (o->all)
		return catalog_projects(repo, ret, ret_n);
	struct project *p = calloc(1, sizeof *p);
	if (!p)
		return store_fail(-ENOMEM, "forget: out of memory");
	int r = cli_find_project(repo, NULL, o->project, p);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	*ret_n = 1;
	return 0;
}

static int by_policy(struct repo *repo, const struct opts *o, const struct retcfg *tc,
		     int64_t now)
{
	struct project *ps = NULL;
	struct forget_plan *plans = NULL;
	char **sources = NULL; /* where each project's policy came from (--policy) */
	size_t np = 0, made = 0;
	struct retcfg_policy tp = {0};
	int64_t expires = now + (int64_t)tc->days * 86400 * NS;
	int status = EXIT_ERROR;
	int r = policy_projects(repo, o, &ps, &np);
	if (r < 0)
		return out_store_err(r, "forget");
	plans = calloc(np ? np : 1, sizeof *plans);
	sources = calloc(np ? np : 1, sizeof *sources);
	if (!plans || !sources) {
		out_err("forget: out of memory");
		goto out;
	}
	for (; made < np; made++) {
		const struct retention_policy *pol = &o->policy;
		if (o->use_policy) {
			retcfg_policy_clear(&tp);
			if ((r = retcfg_policy(tc, &ps[made], &tp)) < 0) {
				status = out_store_err(r, "forget");
				goto out;
			}
			pol = &tp.policy;
			if (tp.source && !(sources[made] = strdup(tp.source))) {
				out_err("forget: out of memory");
				goto out;
			}
		}
		if ((r = forget_plan_make(repo, &ps[made], pol, &plans[made])) < 0) {
			status = out_store_err(r, "forget");
			goto out;
		}
	}
	if ((r = trash_plans(repo, o, plans, np, now, expires)) < 0) {
		status = out_store_err(r, "forget");
		goto out;
	}
	if (o->json)
		json_open(o, tc->days, expires);
	for (size_t i = 0; i < np; i++) {
		const struct forget_plan *pl = &plans[i];
		if (o->json) {
			json_plan(pl, i == 0);
			continue;
		}
		if (o->dry_run && o->use_policy && sources[i])
			printf("%s: policy from %s\n", pl->project.name, sources[i]);
		if (o->dry_run)
			for (size_t j = 0; j < pl->n; j++)
				if (!pl->kept[j])
					printf("would forget %s %s\n", pl->project.name, pl->snaps[j].name);
		print_done(o, pl->project.name, pl->ngo, pl->n - pl->ngo, tc->days);
	}
	if (o->json)
		fputs(np ? "\n]}\n" : "]}\n", stdout);
	status = EXIT_OK;
out:
	retcfg_policy_clear(&tp);
	for (size_t i = 0; i < made && plans; i++)
		forget_plan_clear(&plans[i]);
	for (size_t i = 0; i < np && sources; i++)
		free(sources[i]);
	free(sources);
	free(plans);
	projects_free(ps, np);
	return status;
}

/* forget WHEN...: every WHEN resolved first (one unknown: nothing goes),
 * each snapshot once. */
static int by_name(struct repo *repo, const struct opts *o, const struct retcfg *tc,
		   int64_t now)
{
	struct project p = {0};
	struct snapshot *s = calloc((size_t)o->nwhens, sizeof *s);
	int64_t *ids = calloc((size_t)o->nwhens, sizeof *ids);
	size_t n = 0;
	int64_t expires = now + (int64_t)tc->days * 86400 * NS;
	int status = EXIT_ERROR, r;
	if (!s || !ids) {
		out_err("forget: out of memory");
		goto out;
	}
	if ((r = cli_find_project(repo, NULL, o->project, &p)) < 0) {
		status = out_store_err(r, "forget");
		goto out;
	}
	for (int i = 0; i < o->nwhens; i++) {
		struct snapshot one;
		if ((r = cli_resolve_when(repo, &p, o->whens[i], out_now_ns(), &one)) < 0) {
			status = out_store_err(r, "forget");
			goto out;
		}
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup |= ids[j] == one.id;
		if (dup) {
			snapshot_clear(&one);
			continue;
		}
		ids[n] = one.id;
		s[n++] = one;
	}
	if (!o->dry_run && ((r = snaprec_state_put(repo, ids, n, SNAPREC_TRASHED, now, expires)) < 0 ||
			    (r = catalog_trash_put(repo, ids, n, now, expires)) < 0)) {
		status = out_store_err(r, "forget");
		goto out;
	}
	if (o->json) {
		json_open(o, tc->days, expires);
		fputs("\n  {\"project\": ", stdout);
		out_json_str(stdout, p.name);
		fputs(", \"forgotten\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ", " : "", stdout);
			out_json_str(stdout, s[i].name);
		}
		fputs("], \"kept\": []}\n]}\n", stdout);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s %s %s\n", o->dry_run ? "would forget" : "forgot", p.name, s[i].name);
		char w[OUT_BUF + 16];
		if (o->dry_run)
			printf("would forget %s of %s\n", count_words(n, w), p.name);
		else
			printf("forgot %s of %s (in the trash for %d day%s: ckptfs trash)\n",
			       count_words(n, w), p.name, tc->days, tc->days == 1 ? "" : "s");
	}
	status = EXIT_OK;
out:
	if (s)
		snapshots_free(s, n);
	free(ids);
	project_clear(&p);
	return status;
}

int cmd_forget(int argc, char **argv)
{
	struct opts o = {0};
	int status = parse_args(argc, argv, &o);
	if (status != EXIT_OK) {
		free(o.tags);
		return status == EXIT_OK + 100 ? EXIT_OK : status;
	}
	struct retcfg tc = {0};
	struct repo *repo = NULL;
	int r = retcfg_load(&tc);
	if (r < 0) {
		status = out_store_err(r, "forget");
		goto out;
	}
	/* The scheduled run's step: retention only for a user who set it. */
	if (o.if_configured && !tc.auto_forget)
		goto out;
	/* A dry run changes nothing: it reads alongside a running writer. */
	if ((r = cli_open_repo(o.dry_run ? REPO_READ : REPO_WRITE, &repo)) < 0) {
		status = out_store_err(r, "repository");
		goto out;
	}
	int64_t now = out_clock_ns();
	status = o.nwhens ? by_name(repo, &o, &tc, now) : by_policy(repo, &o, &tc, now);
out:
	cli_close_repo(repo, false);
	retcfg_clear(&tc);
	free(o.tags);
	return status;
}
