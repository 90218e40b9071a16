/* cmd_trash.c — ckptfs trash: the snapshots forget set aside — list them
 * with their expiry, restore them, or empty the trash early. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/duration.h"
#include "src/output.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/snaprec.h"

#define NS 1000000000LL

static const char usage_text[] =
	"usage: ckptfs trash [list] [--project NAME] [--json]\n"
	"       ckptfs trash restore NAME... [--project NAME] [--dry-run] [--json]\n"
	"       ckptfs trash empty [--older-than DURATION] [--project NAME] [--dry-run] [--json]\n"
	"\n"
	"The snapshots forget moved to the trash.  list (the default) shows each\n"
	"with when it was forgotten and when its window ends; restore brings the\n"
	"named ones back as they were (same names, same data); empty ends the\n"
	"window now, for all of them or those forgotten more than DURATION ago:\n"
	"they cannot be restored after that, and gc may collect their data.\n"
	"\n"
	"  -p, --project NAME   the project NAME (list, empty: default every project;\n"
	"                       restore: default the one containing the current\n"
	"                       directory)\n"
	"      --older-than D   empty: only those forgotten more than D ago (3d, 12h)\n"
	"  -n, --dry-run        say what would be done, change nothing\n"
	"      --json           JSON: list an array of snapshots; restore and empty an\n"
	"                       object naming the snapshots\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 done, 1 error (restore: a name not in the trash: nothing\n"
	"is restored), 2 usage, 4 the repository stayed locked by a writer.\n";

enum verb { VERB_LIST, VERB_RESTORE, VERB_EMPTY };

struct opts {
	enum verb verb;
	const char *project;
	bool dry_run, json;
	int64_t older_than_ns; /* -1: not given */
	char **names;
	int nnames;
};

enum { OPT_JSON = 1000, OPT_OLDER };

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'},
		{"older-than", required_argument, NULL, OPT_OLDER},
		{"dry-run", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	int64_t secs;
	o->older_than_ns = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->project = optarg; break;
		case OPT_OLDER:
			if (dur_parse(optarg, &secs) < 0)
				return cli_usage_error("trash", "--older-than '%s': not a duration",
						       optarg);
			o->older_than_ns = secs * NS;
			break;
		case 'n': o->dry_run = true; break;
		case OPT_JSON: o->json = true; break;
		case 'h': fputs(usage_text, stdout); return -1;
		default: return cli_bad_option("trash", c, optopt, argv, optind);
		}
	}
	const char *verb = optind < argc ? argv[optind++] : "list";
	if (!strcmp(verb, "list"))
		o->verb = VERB_LIST;
	else if (!strcmp(verb, "restore"))
		o->verb = VERB_RESTORE;
	else if (!strcmp(verb, "empty"))
		o->verb = VERB_EMPTY;
	else
		return cli_usage_error("trash", "%s: not list, restore or empty", verb);
	o->names = argv + optind;
	o->nnames = argc - optind;
	if (o->verb == VERB_RESTORE && !o->nnames)
		return cli_usage_error("trash", "restore: which snapshots? (see ckptfs trash)");
	if (o->verb != VERB_RESTORE && o->nnames)
		return cli_usage_error("trash", "unexpected argument '%s'", o->names[0]);
	if (o->verb != VERB_EMPTY && o->older_than_ns >= 0)
		return cli_usage_error("trash", "--older-than goes with empty");
	if (o->verb == VERB_LIST && o->dry_run)
		return cli_usage_error("trash", "--dry-run goes with restore or empty");
	return 0;
}

/* "in 7 days", "expired" — the window's end as the list shows it. */
static const char *expiry_words(int64_t expires, int64_t now, char buf[OUT_BUF])
{
	return expires <= now ? "expired" : out_time_left(expires - now, buf);
}

static void json_entry(const struct snapshot *s, int64_t now)
{
	char t[OUT_BUF], a[OUT_BUF], e[OUT_BUF];
	fputs("{\"project\": ", stdout);
	out_json_str(stdout, s->project);
	fputs(", \"name\": ", stdout);
	out_json_str(stdout, s->name);
	printf(", \"time\": \"%s\", \"trashed_at\": \"%s\", \"expires_at\": \"%s\", \"expired\": %s",
	       out_utc_iso(s->time_ns, t), out_utc_iso(s->trashed_at_ns, a),
	       out_utc_iso(s->expires_at_ns, e), s->expires_at_ns <= now ? "true" : "false");
	fputs(", \"message\": ", stdout);
	out_json_str(stdout, s->message);
	fputs(", \"tag\": ", stdout);
	out_json_str(stdout, s->tag);
	fputs("}", stdout);
}

static void print_list(const struct snapshot *s, size_t n, int64_t now)
{
	if (!n) {
		puts("the trash is empty");
		return;
	}
	size_t wp = strlen("PROJECT"), wn = strlen("SNAPSHOT");
	for (size_t i = 0; i < n; i++) {
		wp = strlen(s[i].project) > wp ? strlen(s[i].project) : wp;
		wn = strlen(s[i].name) > wn ? strlen(s[i].name) : wn;
	}
	printf("%-*s  %-*s  %-14s  %s\n", (int)wp, "PROJECT", (int)wn, "SNAPSHOT", "FORGOTTEN",
	       "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		char ago[OUT_BUF], exp[OUT_BUF], when[OUT_BUF];
		printf("%-*s  %-*s  %-14s  %s (%s)\n", (int)wp, s[i].project, (int)wn, s[i].name,
		       out_age(now - s[i].trashed_at_ns, ago), expiry_words(s[i].expires_at_ns, now, exp),
		       out_local_time(s[i].expires_at_ns, false, when));
	}
}

/* The trash of --project (0: every project), into *ret. */
static int trash_of(struct repo *repo, const char *project, struct project *p,
		    struct snapshot **ret, size_t *ret_n)
{
	int r = project ? catalog_project_by_name(repo, project, p) : 0;
	return r < 0 ? r : catalog_trash_list(repo, project ? p->id : 0, ret, ret_n);
}

/* restore/empty's summary: lines per snapshot, then one line (or JSON). */
static void report(const struct opts *o, const char *verb_done, const char *verb_would,
		   const struct snapshot *s, const size_t *pick, size_t n, int64_t now,
		   const char *project, const char *tail)
{
	if (o->json) {
		printf("{\"dry_run\": %s, \"snapshots\": [", o->dry_run ? "true" : "false");
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n " : "\n ", stdout);
			json_entry(&s[pick[i]], now);
		}
		fputs(n ? "\n]}\n" : "]}\n", stdout);
		return;
	}
	const char *v = o->dry_run ? verb_would : verb_done;
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s\n", v, s[pick[i]].project, s[pick[i]].name);
	char c[OUT_BUF];
	printf("%s %s snapshot%s%s%s%s\n", v, out_count(n, c), n == 1 ? "" : "s",
	       project ? " of " : "", project ? project : "", n && !o->dry_run ? tail : "");
}

static int do_restore(struct repo *repo, const struct opts *o, int64_t now)
{
	struct project p = {0};
	struct snapshot *s = NULL;
	size_t n = 0, k = 0;
	size_t *pick = calloc((size_t)o->nnames, sizeof *pick);
	int64_t *ids = calloc((size_t)o->nnames, sizeof *ids);
	int status = EXIT_ERROR, r;
	if (!pick || !ids) {
		out_err("trash: out of memory");
		goto out;
	}
	if ((r = cli_find_project(repo, NULL, o->project, &p)) < 0 ||
	    (r = catalog_trash_list(repo, p.id, &s, &n)) < 0) {
		status = out_store_err(r, "trash restore");
		goto out;
	}
	for (int i = 0; i < o->nnames; i++) {
		size_t j = 0;
		while (j < n && strcmp(s[j].name, o->names[i]))
			j++;
		if (j == n) {
			char *name = out_printable(o->names[i]);
			out_err("trash restore: %s %s: not in the trash (see ckptfs trash); nothing "
				"restored",
				p.name, name ? name : "");
			free(name);
			goto out;
		}
		bool dup = false;
		for (size_t m = 0; m < k; m++)
			dup |= pick[m] == j;
		if (!dup) {
			pick[k] = j;
			ids[k++] = s[j].id;
		}
	}
	if (!o->dry_run && ((r = snaprec_state_put(repo, ids, k, SNAPREC_LIVE, 0, 0)) < 0 ||
			    (r = catalog_trash_restore(repo, ids, k)) < 0)) {
		status = out_store_err(r, "trash restore");
		goto out;
	}
	report(o, "restored", "would restore", s, pick, k, now, p.name, "");
	status = EXIT_OK;
out:
	snapshots_free(s, n);
	project_clear(&p);
	free(pick);
	free(ids);
	return status;
}

static int do_empty(struct repo *repo, const struct opts *o, int64_t now)
{
	struct project p = {0};
	struct snapshot *s = NULL;
	size_t n = 0, k = 0, *pick = NULL;
	int64_t *ids = NULL;
	int status = EXIT_ERROR, r;
	if ((r = trash_of(repo, o->project, &p, &s, &n)) < 0) {
		status = out_store_err(r, "trash empty");
		goto out;
	}
	pick = calloc(n ? n : 1, sizeof *pick);
	ids = calloc(n ? n : 1, sizeof *ids);
	if (!pick || !ids) {
		out_err("trash: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (o->older_than_ns < 0 || s[i].trashed_at_ns <= now - o->older_than_ns) {
			pick[k] = i;
			ids[k++] = s[i].id;
		}
	if (!o->dry_run && k &&
	    ((r = snaprec_state_put(repo, ids, k, SNAPREC_EMPTIED, 0, 0)) < 0 ||
	     (r = catalog_trash_delete(repo, ids, k)) < 0)) {
		status = out_store_err(r, "trash empty");
		goto out;
	}
	report(o, "emptied", "would empty", s, pick, k, now, NULL,
	       " from the trash (they cannot be restored now; gc may collect their data)");
	status = EXIT_OK;
out:
	snapshots_free(s, n);
	project_clear(&p);
	free(pick);
	free(ids);
	return status;
}

static int do_list(struct repo *repo, const struct opts *o, int64_t now)
{
	struct project p = {0};
	struct snapshot *s = NULL;
	size_t n = 0;
	int r = trash_of(repo, o->project, &p, &s, &n);
	project_clear(&p);
	if (r < 0)
		return out_store_err(r, "trash");
	if (o->json) {
		fputs("[", stdout);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n " : "\n ", stdout);
			json_entry(&s[i], now);
		}
		fputs(n ? "\n]\n" : "]\n", stdout);
	} else {
		print_list(s, n, now);
	}
	snapshots_free(s, n);
	return EXIT_OK;
}

int cmd_trash(int argc, char **argv)
{
	struct opts o = {0};
	int status = parse_args(argc, argv, &o);
	if (status != 0)
		return status < 0 ? EXIT_OK : status;
	/* Only a change takes the writer lock; a list reads alongside a snap. */
	bool write = o.verb != VERB_LIST && !o.dry_run;
	struct repo *repo = NULL;
	int r = cli_open_repo(write ? REPO_WRITE : REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	int64_t now = out_clock_ns();
	status = o.verb == VERB_RESTORE ? do_restore(repo, &o, now)
		 : o.verb == VERB_EMPTY ? do_empty(repo, &o, now)
					: do_list(repo, &o, now);
	cli_close_repo(repo, false);
	return status;
}
