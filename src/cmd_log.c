/* cmd_log.c — ckptfs log: the snapshots of one project, newest first. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/catalog.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs log [DIR | --project NAME] [-n N] [--json]\n"
	"\n"
	"List the snapshots of the project containing DIR (default: the current\n"
	"directory), newest first: name, status, files, size, data it added,\n"
	"full drill (proven / drill failed, when snap --drill=full ran), git\n"
	"branch@commit, tag and message.\n"
	"\n"
	"  -p, --project NAME   the project NAME instead (see ckptfs projects)\n"
	"  -n, --max-count N    only the newest N\n"
	"      --json           a JSON array of snapshot objects\n"
	"  -h, --help           this help\n";

static void print_table(const struct snapshot *s, size_t n)
{
	size_t wname = 0, wfiles = 0, wsize = 0, wnew = 0, wgit = 0, wdrill = 0;
	char buf[OUT_BUF], git[128];
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(s[i].name);
		wname = l > wname ? l : wname;
		l = strlen(out_count(s[i].stats.files, buf));
		wfiles = l > wfiles ? l : wfiles;
		l = strlen(out_size(s[i].stats.bytes, buf));
		wsize = l > wsize ? l : wsize;
		l = strlen(out_size(s[i].stats.new_bytes, buf)) + 1;
		wnew = l > wnew ? l : wnew;
		l = strlen(cli_git_label(&s[i], git));
		wgit = l > wgit ? l : wgit;
		const char *dr = dumper_notes_drill(s[i].notes);
		l = dr ? strlen(dr) : 0;
		wdrill = l > wdrill ? l : wdrill;
	}
	for (size_t i = 0; i < n; i++) {
		char files[OUT_BUF], size[OUT_BUF], added[OUT_BUF + 1], nb[OUT_BUF];
		snprintf(added, sizeof added, "+%s", out_size(s[i].stats.new_bytes, nb));
		/* Status only when it is not the normal case, so it catches the eye. */
		const char *st = s[i].status == SNAP_COMPLETE ? "" : cli_status_name(s[i].status);
		printf("%-*s  %-8s %*s files  %*s  %*s", (int)wname, s[i].name, st, (int)wfiles,
		       out_count(s[i].stats.files, files), (int)wsize, out_size(s[i].stats.bytes, size),
		       (int)wnew, added);
		/* The drill column only when a full drill is in the list. */
		if (wdrill) {
			const char *dr = dumper_notes_drill(s[i].notes);
			printf("  %-*s", (int)wdrill, dr ? dr : "");
		}
		if (wgit)
			printf("  %-*s", (int)wgit, cli_git_label(&s[i], git));
		if (s[i].tag) {
			char *t = out_printable(s[i].tag);
			printf("  [%s]", t ? t : "");
			free(t);
		}
		if (s[i].message) {
			char *m = out_printable(s[i].message);
			printf("  %s", m ? m : "");
			free(m);
		}
		/* No trailing blanks from the padding of empty columns. */
		putchar('\n');
	}
}

int cmd_log(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'},
		{"max-count", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *project = NULL;
	long max = -1;
	bool json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': project = optarg; break;
		case 'n': {
			char *end;
			max = strtol(optarg, &end, 10);
			if (*end || end == optarg || max < 0)
				return cli_usage_error("log", "-n '%s': not a count", optarg);
			break;
		}
		case 'J': json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("log", c, optopt, argv, optind);
		}
	}
	if (argc - optind > 1 || (project && argc > optind))
		return cli_usage_error("log", "give one DIR or --project NAME");

	struct repo *repo = NULL;
	struct project p = {0};
	struct snapshot *snaps = NULL;
	size_t n = 0;
	int status = EXIT_ERROR;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = cli_find_project(repo, optind < argc ? argv[optind] : NULL, project, &p)) < 0 ||
	    (r = catalog_snapshots(repo, p.id, &snaps, &n)) < 0) {
		status = out_store_err(r, "log");
		goto out;
	}
	size_t shown = max >= 0 && (size_t)max < n ? (size_t)max : n;
	if (json) {
		fputs("[", stdout);
		for (size_t i = 0; i < shown; i++) {
			fputs(i ? ",\n " : "\n ", stdout);
			cli_json_snapshot(stdout, &snaps[i]);
		}
		fputs(shown ? "\n]\n" : "]\n", stdout);
	} else if (n == 0) {
		printf("%s: no snapshots yet\n", p.name);
	} else {
		print_table(snaps, shown);
	}
	status = EXIT_OK;
out:
	snapshots_free(snaps, n);
	project_clear(&p);
	cli_close_repo(repo, false);
	return status;
}
