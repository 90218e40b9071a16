/* cmd_snap.c — ckptfs snap: take a snapshot of a project. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "src/project.h"
#include "src/snap_all.h"
#include "src/take.h"
#include "store/err.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs snap [DIR] [-m MSG] [-t TAG] [-q] [--exclude PAT]... [--name NAME]\n"
	"                   [--drill=quick|full]\n"
	"       ckptfs snap [DIR] --dry-run [--exclude PAT]...\n"
	"       ckptfs snap --all [-m MSG] [-t TAG] [-q] [--exclude PAT]... [--json]\n"
	"                   [--drill=quick|full]\n"
	"\n"
	"Take a snapshot of the project containing DIR (default: the current\n"
	"directory).  The project root is the enclosing git work tree, else DIR.\n"
	"The first snapshot registers the project under its folder name.\n"
	"\n"
	"  -m, --message MSG    say why (shown by log and show)\n"
	"  -t, --tag TAG        a name to find this snapshot by (restore --from TAG)\n"
	"  -q, --quiet          print nothing on success\n"
	"  -x, --exclude PAT    leave out paths matching PAT (gitignore syntax; repeatable)\n"
	"      --name NAME      register the project under NAME (for a folder-name clash)\n"
	"      --drill=MODE     quick (default): each dump's own check (pg_restore --list,\n"
	"                       the dump's trailer); full: also restore each server dump\n"
	"                       into a scratch database on its server and compare its\n"
	"                       row counts with those at dump time (then drop it)\n"
	"  -n, --dry-run        list the databases that would be captured and how\n"
	"                       (SQLite files, server dumps), write nothing\n"
	"  -a, --all            every registered project, one line each (what the\n"
	"                       schedule runs); a project whose root is gone is skipped\n"
	"      --json           with --all: the run's record as JSON on stdout\n"
	"  -h, --help           this help\n"
	"\n"
	"Databases are captured consistently: SQLite files by online backup, server\n"
	"databases named in .env, config/database.yml, compose files or .ckptfs.toml\n"
	"by their own dump tools into the snapshot's @databases folder; each is\n"
	"checked at once and the result printed.\n"
	"\n"
	"Exit status: 0 done, 1 error (nothing written), 2 usage, 3 written but\n"
	"partial (some paths could not be read, or a database could not be\n"
	"captured as it is or failed its check), 4 repository locked.  With --all:\n"
	"1 if any project failed, else 3 if any is partial, else 5 if any project's\n"
	"root is gone (every other project was taken), else 0.\n";

/* What the command line asked for. */
struct snap_args {
	struct take_req req;
	const char **excludes; /* argc slots */
	const char *dir;       /* NULL: the current directory */
	bool dry_run, all, json;
};

/* Parse and check argv into *a: -1 when all is well, else the exit
 * status (after the usage message, or --help's text). */
static int parse_args(int argc, char **argv, struct snap_args *a)
{
	static const struct option longopts[] = {
		{"message", required_argument, NULL, 'm'},
		{"tag", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"exclude", required_argument, NULL, 'x'},
		{"name", required_argument, NULL, 'N'},
		{"dry-run", no_argument, NULL, 'n'},
		{"all", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'J'},
		{"drill", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct take_req *req = &a->req;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:t:qx:nah", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': req->message = optarg; break;
		case 't': req->tag = optarg; break;
		case 'q': req->quiet = true; break;
		case 'x': a->excludes[req->nexcludes++] = optarg; break;
		case 'N': req->name = optarg; break;
		case 'n': a->dry_run = true; break;
		case 'a': a->all = true; break;
		case 'J': a->json = true; break;
		case 'D':
			if (strcmp(optarg, "quick") && strcmp(optarg, "full"))
				return cli_usage_error("snap", "--drill=%s: quick or full", optarg);
			req->drill_full = !strcmp(optarg, "full");
			break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("snap", c, optopt, argv, optind);
		}
	}
	if (a->all && (optind < argc || req->name || a->dry_run))
		return cli_usage_error("snap", "--all takes no DIR, --name or --dry-run");
	if (a->json && !a->all)
		return cli_usage_error("snap", "--json goes with --all");
	if (argc - optind > 1)
		return cli_usage_error("snap", "one DIR at most, got '%s' too", argv[optind + 1]);
	if (req->name && (!*req->name || strchr(req->name, '/') || !strcmp(req->name, ".") ||
			  !strcmp(req->name, "..")))
		/* It becomes a directory name in the mount. */
		return cli_usage_error("snap", "--name '%s': not usable as a folder name", req->name);
	if (req->tag && !*req->tag)
		return cli_usage_error("snap", "--tag: empty");
	req->excludes = a->excludes;
	a->dir = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* snap --dry-run: what would be captured; neither the repository nor the
 * project is written. */
static int snap_plan(const struct take_req *req)
{
	struct dumper_session *ds = NULL;
	int r = dumper_session_new(req->root, &ds);
	if (r == 0)
		r = dumper_session_plan(ds, req->excludes, req->nexcludes, stdout);
	dumper_session_free(ds);
	return r < 0 ? out_store_err(r, "snap --dry-run") : EXIT_OK;
}

static int snap_one(const struct take_req *req)
{
	struct repo *repo = NULL;
	struct take_result res = {0};
	int r = cli_open_repo(REPO_WRITE, &repo), status;
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = take_snapshot(repo, req, &res)) < 0) {
		status = out_store_err(r, "snap");
	} else {
		if (!req->quiet) {
			take_print_summary(&res);
			dumper_notes_print(stdout, res.snap.notes);
		}
		status = res.partial ? EXIT_PARTIAL : EXIT_OK;
		take_result_clear(&res);
	}
	cli_close_repo(repo, false);
	return status;
}

int cmd_snap(int argc, char **argv)
{
	struct snap_args a = {.excludes = calloc((size_t)argc, sizeof(const char *))};
	if (!a.excludes) {
		out_err("snap: out of memory");
		return EXIT_ERROR;
	}
	char *root = NULL;
	int status = parse_args(argc, argv, &a);
	if (status >= 0)
		goto out;
	if (a.all) {
		struct snap_all_req q = {.message = a.req.message, .tag = a.req.tag,
					 .excludes = a.excludes, .nexcludes = a.req.nexcludes,
					 .quiet = a.req.quiet, .json = a.json,
					 .drill_full = a.req.drill_full};
		status = snap_all(&q);
		goto out;
	}
	/* Find (and check) DIR before the repository is opened, so a typo
	 * writes nothing — not even a new repository. */
	int r = proj_find_root(a.dir ? a.dir : ".", &root);
	if (r < 0) {
		status = out_store_err(r, "snap");
		goto out;
	}
	a.req.root = root;
	status = a.dry_run ? snap_plan(&a.req) : snap_one(&a.req);
out:
	free(root);
	free(a.excludes);
	return status;
}
