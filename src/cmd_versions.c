/* cmd_versions.c — ckptfs versions: every distinct version of one path
 * across a project's history, with the gaps where it did not exist. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/history_cli.h"
#include "src/output.h"
#include "store/err.h"
#include "store/history.h"

static const char usage_text[] =
	"usage: ckptfs versions PATH [--project NAME] [--json]\n"
	"\n"
	"List the distinct versions of PATH (relative to the current directory\n"
	"inside the project, or to the project root) over the project's whole\n"
	"history, oldest first: each stretch of snapshots holding one version,\n"
	"with the first and last snapshot of it, its size and mode, and the\n"
	"stretches where PATH did not exist (deleted).  A version is the same\n"
	"content and mode (a symlink's target; a directory's whole contents);\n"
	"content that comes back is the same version again.\n"
	"\n"
	"  -p, --project NAME   the project NAME (PATH relative to its root)\n"
	"      --json           a JSON object: versions and runs\n"
	"  -h, --help           this help\n";

/* The size column: a size, "dir", or "-> target". */
static char *size_col(const struct node *n)
{
	char buf[OUT_BUF];
	if (n->type == NODE_DIR)
		return strdup("dir");
	if (n->type == NODE_SYMLINK) {
		char *t = out_printable(n->target ? n->target : "");
		char *s = NULL;
		if (t && asprintf(&s, "-> %s", t) < 0)
			s = NULL;
		free(t);
		return s;
	}
	if (n->type != NODE_FILE)
		return strdup(hcli_type_name(n->type));
	return strdup(out_size(n->size, buf));
}

static void print_text(const struct hcli_history *hh, const struct hist_versions *v)
{
	size_t wname = 0;
	for (size_t i = 0; i < v->nruns; i++) {
		size_t l = strlen(hh->s[v->runs[i].first].name);
		wname = l > wname ? l : wname;
	}
	for (size_t i = 0; i < v->nruns; i++) {
		const struct hist_run *run = &v->runs[i];
		size_t count = run->last - run->first + 1;
		char cb[OUT_BUF], mb[8];
		if (run->version == HIST_ABSENT) {
			printf("  %-*s  deleted  (%s snapshot%s without it)\n", (int)wname,
			       hh->s[run->first].name, out_count(count, cb), count == 1 ? "" : "s");
			continue;
		}
		const struct hist_version *ver = &v->v[run->version];
		char *size = size_col(&ver->node);
		printf("  %-*s  -> %-*s  %9s  %s  (%s snapshot%s)  v%zu%s\n", (int)wname,
		       hh->s[run->first].name, (int)wname, hh->s[run->last].name, size ? size : "",
		       hcli_mode(ver->node.mode, mb), out_count(count, cb), count == 1 ? "" : "s",
		       run->version + 1,
		       i > 0 && v->runs[i - 1].version == HIST_ABSENT ? "  back" : "");
		free(size);
	}
}

static void json_snap(const struct hcli_history *hh, size_t i)
{
	out_json_str(stdout, hh->s[i].name);
}

static void print_json(const struct project *p, const char *rel, const struct hcli_history *hh,
		       const struct hist_versions *v)
{
	char buf[OUT_BUF], mb[8], hex[ID_HEX_LEN + 1];
	fputs("{\"project\": ", stdout);
	out_json_str(stdout, p->name);
	fputs(", \"path\": ", stdout);
	out_json_str(stdout, rel);
	printf(", \"snapshots\": %zu, \"versions\": [", hh->n);
	for (size_t i = 0; i < v->nv; i++) {
		const struct hist_version *ver = &v->v[i];
		printf("%s\n  {\"version\": %zu, \"type\": \"%s\", \"mode\": \"%s\", \"size\": %llu"
		       ", \"mtime\": \"%s\", \"count\": %zu, \"first\": ",
		       i ? "," : "", i + 1, hcli_type_name(ver->node.type),
		       hcli_mode(ver->node.mode, mb), (unsigned long long)ver->node.size,
		       out_utc_iso(ver->node.mtime_ns, buf), ver->count);
		json_snap(hh, ver->first);
		fputs(", \"last\": ", stdout);
		json_snap(hh, ver->last);
		if (ver->node.type == NODE_SYMLINK) {
			fputs(", \"target\": ", stdout);
			out_json_str(stdout, ver->node.target);
		} else if (ver->node.type == NODE_DIR) {
			id_to_hex(&ver->node.subtree, hex);
			printf(", \"tree\": \"%s\"", hex);
		}
		fputs("}", stdout);
	}
	fputs(v->nv ? "\n ], \"runs\": [" : "], \"runs\": [", stdout);
	for (size_t i = 0; i < v->nruns; i++) {
		const struct hist_run *run = &v->runs[i];
		printf("%s\n  {\"version\": ", i ? "," : "");
		if (run->version == HIST_ABSENT)
			fputs("null", stdout);
		else
			printf("%zu", run->version + 1);
		printf(", \"deleted\": %s, \"first\": ",
		       run->version == HIST_ABSENT ? "true" : "false");
		json_snap(hh, run->first);
		fputs(", \"last\": ", stdout);
		json_snap(hh, run->last);
		printf(", \"count\": %zu}", run->last - run->first + 1);
	}
	fputs(v->nruns ? "\n ]}\n" : "]}\n", stdout);
}

int cmd_versions(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *project = NULL;
	bool json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			project = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("versions", c, optopt, argv, optind);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("versions", "give one PATH");
	const char *path = argv[optind];

	struct repo *repo = NULL;
	struct project p = {0};
	struct hcli_history hh = {0};
	struct hist *h = NULL;
	struct hist_versions v = {0};
	char rel[PATH_MAX], rel_root[PATH_MAX];
	int status = EXIT_ERROR;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = cli_find_project_of_path(repo, path, project, &p)) < 0 ||
	    (r = hcli_path("versions", &p, path, rel, rel_root)) < 0 ||
	    (r = hcli_history_load(repo, &p, 0, 0, &hh)) < 0 || (r = hist_open(repo, &h)) < 0) {
		status = out_store_err(r, "versions");
		goto out;
	}
	if (hh.n == 0) {
		out_err("versions: %s: no snapshots yet", p.name);
		goto out;
	}
	r = hist_versions(h, hh.roots, hh.n, rel, &v);
	if (r == -ENOENT && strcmp(rel, rel_root) != 0 && path[0] != '/') {
		store_error_clear();
		if ((r = hist_versions(h, hh.roots, hh.n, rel_root, &v)) == 0)
			strcpy(rel, rel_root);
	}
	if (r == -ENOENT) {
		char *pr = out_printable(*rel ? rel : ".");
		out_err("versions: %s: in no snapshot of %s", pr ? pr : "", p.name);
		free(pr);
		goto out;
	}
	if (r < 0) {
		status = out_store_err(r, "versions");
		goto out;
	}
	if (json)
		print_json(&p, rel, &hh, &v);
	else
		print_text(&hh, &v);
	status = EXIT_OK;
out:
	hist_versions_clear(&v);
	hist_free(h);
	hcli_history_clear(&hh);
	project_clear(&p);
	repo_close(repo);
	return status;
}
