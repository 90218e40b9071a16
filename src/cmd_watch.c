/* cmd_watch.c — ckptfs watch: snapshots as the project goes quiet
 * (the engine is watch.c). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "src/project.h"
#include "src/watch.h"
#include "store/err.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs watch [DIR | --all] [--quiet SECONDS] [--max-wait SECONDS]\n"
	"                    [--exclude PAT]...\n"
	"\n"
	"Watch the project containing DIR (default: the current directory) and take\n"
	"a snapshot (tagged watch) once its files have been quiet for --quiet\n"
	"seconds, or --max-wait seconds after the first change while they keep\n"
	"changing.  Excluded paths (defaults, .ckptignore, --exclude) and the\n"
	"repository are not watched; new folders are.  Runs until SIGINT or SIGTERM\n"
	"(a snapshot in flight is finished first).\n"
	"\n"
	"      --all            every registered project whose root exists, and those\n"
	"                       registered later (one another watch holds is left to it)\n"
	"      --quiet SECONDS  quiet time before a snapshot (default 10)\n"
	"      --max-wait SECONDS  longest wait after a change (default 60)\n"
	"  -x, --exclude PAT    leave out paths matching PAT (as snap does)\n"
	"  -h, --help           this help\n"
	"\n"
	"When inotify watches run out it says so once (with the sysctl to raise\n"
	"fs.inotify.max_user_watches) and scans the project every few seconds\n"
	"instead.\n"
	"\n"
	"Exit status: 0 stopped by a signal, 1 error (or the folder is gone),\n"
	"2 usage, 4 another watch is running on the project.\n";

static int parse_secs(const char *opt, const char *s, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return cli_usage_error("watch", "%s %s: not a number of seconds (0 < N <= 86400)",
				       opt, s);
	*ret = v;
	return 0;
}

/* The roots of every registered project whose root still exists. */
static int all_roots(char ***ret, size_t *ret_n)
{
	struct repo *repo = NULL;
	struct project *ps = NULL;
	size_t n = 0, k = 0;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == 0)
		r = catalog_projects(repo, &ps, &n);
	repo_close(repo);
	if (r < 0)
		return out_store_err(r, "watch --all");
	char **roots = calloc(n ? n : 1, sizeof *roots);
	for (size_t i = 0; roots && i < n; i++) {
		struct stat st;
		if (stat(ps[i].root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			out_err("%s: skipped: %s: root folder no longer exists", ps[i].name, ps[i].root);
			continue;
		}
		roots[k++] = ps[i].root;
		ps[i].root = NULL;
	}
	projects_free(ps, n);
	if (!roots) {
		out_err("watch: out of memory");
		return EXIT_ERROR;
	}
	if (k == 0) {
		free(roots);
		out_err("watch --all: no registered project to watch (ckptfs snap registers one)");
		return EXIT_ERROR;
	}
	*ret = roots;
	*ret_n = k;
	return EXIT_OK;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"all", no_argument, NULL, 'a'},
		{"quiet", required_argument, NULL, 'Q'},
		{"max-wait", required_argument, NULL, 'W'},
		{"exclude", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct watch_req req = {.quiet_s = 10, .max_wait_s = 60};
	const char **excludes = calloc((size_t)argc, sizeof *excludes);
	char **roots = NULL;
	size_t nroots = 0;
	bool all = false;
	int c, status = EXIT_USAGE;
	if (!excludes) {
		out_err("watch: out of memory");
		return EXIT_ERROR;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":x:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'Q':
			if (parse_secs("--quiet", optarg, &req.quiet_s))
				goto out;
			break;
		case 'W':
			if (parse_secs("--max-wait", optarg, &req.max_wait_s))
				goto out;
			break;
		case 'x': excludes[req.nexcludes++] = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			status = EXIT_OK;
			goto out;
		default: status = cli_bad_option("watch", c, optopt, argv, optind); goto out;
		}
	}
	if (argc - optind > (all ? 0 : 1)) {
		status = cli_usage_error("watch", all ? "--all takes no DIR" : "one DIR at most");
		goto out;
	}
	req.excludes = excludes;
	const char *lim = getenv("CKPTFS_WATCH_MAX_WATCHES"); /* a test hook */
	if (lim && *lim)
		req.max_watches = strtoul(lim, NULL, 10);
	const char *refresh = getenv("CKPTFS_WATCH_REFRESH"); /* a test hook */
	if (refresh && *refresh)
		req.refresh_s = strtod(refresh, NULL);
	if (all) {
		if ((status = all_roots(&roots, &nroots)) != EXIT_OK)
			goto out;
	} else {
		char *root = NULL;
		int r = proj_find_root(optind < argc ? argv[optind] : ".", &root);
		if (r < 0) {
			status = out_store_err(r, "watch");
			goto out;
		}
		if (!(roots = calloc(1, sizeof *roots))) {
			free(root);
			status = EXIT_ERROR;
			goto out;
		}
		roots[nroots++] = root;
	}
	req.skip_locked = all;
	req.roots = (const char *const *)roots;
	req.nroots = nroots;
	status = watch_run(&req);
out:
	for (size_t i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
	free(excludes);
	return status;
}
