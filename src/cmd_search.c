/* cmd_search.c — ckptfs search: paths matching a glob in every snapshot
 * of every project (or one), each once with the snapshots holding it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/history_cli.h"
#include "src/output.h"
#include "src/when.h"
#include "store/err.h"
#include "store/glob.h"
#include "store/history.h"

static const char usage_text[] =
	"usage: ckptfs search PATTERN [--project NAME] [--since WHEN] [--until WHEN]\n"
	"                     [--type f|d|l] [--json]\n"
	"\n"
	"Find the paths matching PATTERN in every snapshot of every project: each\n"
	"distinct path once, with the first and last snapshot holding it, how many\n"
	"hold it, and the snapshot it was gone in if it is not in the latest.\n"
	"PATTERN is a glob ('*', '?', '[a-z]', '**' across folders): with a '/' it\n"
	"matches the whole path from the project root, without one the name.\n"
	"Exit status 0 if something matched, 1 if nothing did, 2 on trouble.\n"
	"\n"
	"  -p, --project NAME   only the project NAME\n"
	"      --since WHEN     only snapshots taken at or after WHEN (a time phrase)\n"
	"      --until WHEN     only snapshots taken at or before WHEN\n"
	"  -t, --type f|d|l     only files, directories or symlinks\n"
	"      --json           a JSON array of matches\n"
	"  -h, --help           this help\n";

/* As grep: 0 found, 1 nothing found, 2 trouble. */
#define SEARCH_EXIT_TROUBLE 2

struct opts {
	const char *pattern, *project;
	int64_t since, until;
	uint8_t type;
	bool json;
	size_t printed;
};

static void print_match(struct opts *o, const struct project *p, const struct hcli_history *hh,
			const struct hist_match *m)
{
	char cb[OUT_BUF], sb[OUT_BUF];
	bool present = m->last + 1 == hh->n;
	const char *gone = present ? NULL : hh->s[m->last + 1].name;
	if (o->json) {
		fputs(o->printed ? ",\n {\"project\": " : "\n {\"project\": ", stdout);
		out_json_str(stdout, p->name);
		fputs(", \"path\": ", stdout);
		out_json_str(stdout, m->path);
		printf(", \"type\": \"%s\", \"size\": %llu, \"first\": ", hcli_type_name(m->type),
		       (unsigned long long)m->size);
		out_json_str(stdout, hh->s[m->first].name);
		fputs(", \"last\": ", stdout);
		out_json_str(stdout, hh->s[m->last].name);
		printf(", \"count\": %zu, \"present\": %s, \"gone_in\": ", m->count,
		       present ? "true" : "false");
		out_json_str(stdout, gone);
		fputs("}", stdout);
	} else {
		char *pn = out_printable(p->name), *pp = out_printable(m->path);
		printf("%s  %s%s  %s  %s -> %s  (%s snapshot%s)", pn ? pn : "", pp ? pp : "",
		       m->type == NODE_DIR ? "/" : "",
		       m->type == NODE_FILE ? out_size(m->size, sb) : hcli_type_name(m->type),
		       hh->s[m->first].name, hh->s[m->last].name, out_count(m->count, cb),
		       m->count == 1 ? "" : "s");
		if (gone)
			printf("  gone in %s", gone);
		putchar('\n');
		free(pn);
		free(pp);
	}
	o->printed++;
}

static int search_project(struct repo *repo, struct opts *o, const struct project *p)
{
	struct hcli_history hh = {0};
	struct hist *h = NULL;
	struct hist_match *m = NULL;
	size_t n = 0;
	int r = hcli_history_load(repo, p, o->since, o->until, &hh);
	if (r == 0)
		r = hist_open(repo, &h);
	if (r == 0)
		r = hist_search(h, hh.roots, hh.n, o->pattern, o->type, &m, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		print_match(o, p, &hh, &m[i]);
	hist_matches_free(m, n);
	hist_free(h);
	hcli_history_clear(&hh);
	return r;
}

static int parse_time(const char *opt, const char *s, int64_t *ret)
{
	if (when_parse_time(s, out_now_ns(), ret) < 0)
		return cli_usage_error("search",
				       "%s '%s': not a time (try '2026-02-14', "
				       "'yesterday 14:00', '3 days ago')",
				       opt, s);
	return 0;
}

int cmd_search(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"type", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct opts o = {0};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.project = optarg;
			break;
		case 'S':
			if (parse_time("--since", optarg, &o.since))
				return EXIT_USAGE;
			break;
		case 'U':
			if (parse_time("--until", optarg, &o.until))
				return EXIT_USAGE;
			break;
		case 't':
			if (!strcmp(optarg, "f"))
				o.type = NODE_FILE;
			else if (!strcmp(optarg, "d"))
				o.type = NODE_DIR;
			else if (!strcmp(optarg, "l"))
				o.type = NODE_SYMLINK;
			else
				return cli_usage_error("search", "--type '%s': f, d or l", optarg);
			break;
		case 'J':
			o.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("search", c, optopt, argv, optind);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("search", "give one PATTERN");
	o.pattern = argv[optind];
	if (glob_check(o.pattern) < 0)
		return cli_usage_error("search", "%s", store_error());

	struct repo *repo = NULL;
	struct project *ps = NULL, one = {0};
	size_t np = 0;
	int status = SEARCH_EXIT_TROUBLE;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0) {
		out_store_err(r, "repository");
		return SEARCH_EXIT_TROUBLE;
	}
	if (o.project) {
		r = cli_find_project(repo, NULL, o.project, &one);
		ps = &one;
		np = r == 0 ? 1 : 0;
	} else {
		r = catalog_projects(repo, &ps, &np);
	}
	if (r < 0) {
		out_store_err(r, "search");
		status = SEARCH_EXIT_TROUBLE;
		goto out;
	}
	if (o.json)
		fputs("[", stdout);
	for (size_t i = 0; i < np && r == 0; i++)
		r = search_project(repo, &o, &ps[i]);
	if (o.json && r == 0)
		fputs(o.printed ? "\n]\n" : "]\n", stdout);
	if (r < 0) {
		out_store_err(r, "search");
		status = SEARCH_EXIT_TROUBLE;
	} else
		status = o.printed ? EXIT_OK : EXIT_ERROR;
out:
	if (o.project)
		project_clear(&one);
	else
		projects_free(ps, np);
	repo_close(repo);
	return status;
}
