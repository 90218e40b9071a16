/* cmd_projects.c — ckptfs projects: every registered project. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs projects [--json]\n"
	"\n"
	"List every registered project: name, number of snapshots, age of the\n"
	"newest one, root folder.\n"
	"\n"
	"      --json           a JSON array of project objects\n"
	"  -h, --help           this help\n";

int cmd_projects(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("projects", c, optopt, argv, optind);
		}
	}
	if (optind < argc)
		return cli_usage_error("projects", "unexpected argument '%s'", argv[optind]);

	struct repo *repo = NULL;
	struct project *ps = NULL;
	size_t n = 0;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == -ENOENT && !json) {
		/* No repository yet is not an error here: there are no projects. */
		store_error_clear();
		puts("no projects yet (ckptfs snap in a project folder registers it)");
		return EXIT_OK;
	}
	if (r == -ENOENT) {
		store_error_clear();
		puts("[]");
		return EXIT_OK;
	}
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = catalog_projects(repo, &ps, &n)) < 0) {
		int st = out_store_err(r, "projects");
		repo_close(repo);
		return st;
	}
	int64_t now = out_now_ns();
	char buf[OUT_BUF], age[OUT_BUF];
	if (json) {
		fputs("[", stdout);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", stdout);
			out_json_str(stdout, ps[i].name);
			fputs(", \"root\": ", stdout);
			out_json_str(stdout, ps[i].root);
			fprintf(stdout, ", \"created\": \"%s\", \"snapshots\": %lld, \"last\": ",
				out_utc_iso(ps[i].created_ns, buf), (long long)ps[i].nsnapshots);
			if (ps[i].last_time_ns)
				printf("\"%s\"}", out_utc_iso(ps[i].last_time_ns, buf));
			else
				fputs("null}", stdout);
		}
		fputs(n ? "\n]\n" : "]\n", stdout);
	} else if (n == 0) {
		puts("no projects yet (ckptfs snap in a project folder registers it)");
	} else {
		size_t wname = strlen("PROJECT"), wage = strlen("LAST");
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(ps[i].name);
			wname = l > wname ? l : wname;
			l = strlen(ps[i].last_time_ns ? out_age(now - ps[i].last_time_ns, age) : "never");
			wage = l > wage ? l : wage;
		}
		printf("%-*s  %9s  %-*s  %s\n", (int)wname, "PROJECT", "SNAPSHOTS", (int)wage, "LAST",
		       "ROOT");
		for (size_t i = 0; i < n; i++) {
			char *name = out_printable(ps[i].name), *root = out_printable(ps[i].root);
			printf("%-*s  %9s  %-*s  %s\n", (int)wname, name ? name : "",
			       out_count((uint64_t)ps[i].nsnapshots, buf), (int)wage,
			       ps[i].last_time_ns ? out_age(now - ps[i].last_time_ns, age) : "never",
			       root ? root : "");
			free(name);
			free(root);
		}
	}
	projects_free(ps, n);
	cli_close_repo(repo, false);
	return EXIT_OK;
}
