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
	"       ckptfs snap [DIR] --dry-run [--exclude PAT]...\n"
	"       ckptfs snap --all [-m MSG] [-t TAG] [-q] [--exclude PAT]... [--json]\n"
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

int cmd_snap(int argc, char **argv)
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
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct take_req req = {0};
	const char **excludes = NULL;
	char *root = NULL;
	struct repo *repo = NULL;
	struct take_result res = {0};
	int c, status = EXIT_ERROR;
	bool dry_run = false, all = false, json = false;

	excludes = calloc((size_t)argc, sizeof *excludes);
	if (!excludes) {
		out_err("snap: out of memory");
		return EXIT_ERROR;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:t:qx:nah", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': req.message = optarg; break;
		case 't': req.tag = optarg; break;
		case 'q': req.quiet = true; break;
		case 'x': excludes[req.nexcludes++] = optarg; break;
		case 'N': req.name = optarg; break;
		case 'n': dry_run = true; break;
		case 'a': all = true; break;
		case 'J': json = true; break;
		case 'h':
			fputs(usage_text, stdout);
			status = EXIT_OK;
			goto out;
		default:
			status = cli_bad_option("snap", c, optopt, argv, optind);
			goto out;
		}
	}
	if (all && (optind < argc || req.name || dry_run)) {
		status = cli_usage_error("snap", "--all takes no DIR, --name or --dry-run");
		goto out;
	}
	if (json && !all) {
		status = cli_usage_error("snap", "--json goes with --all");
		goto out;
	}
	if (argc - optind > 1) {
		status = cli_usage_error("snap", "one DIR at most, got '%s' too", argv[optind + 1]);
		goto out;
	}
	if (req.name && (!*req.name || strchr(req.name, '/') || !strcmp(req.name, ".") ||
			 !strcmp(req.name, ".."))) {
		/* It becomes a directory name in the mount. */
		status = cli_usage_error("snap", "--name '%s': not usable as a folder name", req.name);
		goto out;
	}
	if (req.tag && !*req.tag) {
		status = cli_usage_error("snap", "--tag: empty");
		goto out;
	}
	req.excludes = excludes;
	if (all) {
		struct snap_all_req q = {.message = req.message, .tag = req.tag,
					 .excludes = excludes, .nexcludes = req.nexcludes,
					 .quiet = req.quiet, .json = json};
		status = snap_all(&q);
		goto out;
	}

	/* Find (and check) DIR before the repository is opened, so a typo
	 * writes nothing — not even a new repository. */
	int r = proj_find_root(optind < argc ? argv[optind] : ".", &root);
	if (r < 0) {
		status = out_store_err(r, "snap");
		goto out;
	}
	req.root = root;
	if (dry_run) {
		/* Neither the repository nor the project is written. */
		struct dumper_session *ds = NULL;
		if ((r = dumper_session_new(root, &ds)) < 0 ||
		    (r = dumper_session_plan(ds, req.excludes, req.nexcludes, stdout)) < 0) {
			status = out_store_err(r, "snap --dry-run");
		} else {
			status = EXIT_OK;
		}
		dumper_session_free(ds);
		goto out;
	}
	if ((r = cli_open_repo(REPO_WRITE, &repo)) < 0) {
		status = out_store_err(r, "repository");
		goto out;
	}
	if ((r = take_snapshot(repo, &req, &res)) < 0) {
		status = out_store_err(r, "snap");
		goto out;
	}
	if (!req.quiet) {
		take_print_summary(&res);
		dumper_notes_print(stdout, res.snap.notes);
	}
	status = res.partial ? EXIT_PARTIAL : EXIT_OK;
	take_result_clear(&res);
out:
	cli_close_repo(repo, false);
	free(root);
	free(excludes);
	return status;
}
