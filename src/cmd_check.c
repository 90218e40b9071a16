/* cmd_check.c — ckptfs check: verify the repository, optionally repair it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/check.h"
#include "store/err.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs check [--read-data[=PERCENT]] [--repair] [-q]\n"
	"\n"
	"Verify the repository: the catalog, every pack's index, every snapshot's\n"
	"trees and that every chunk they need is indexed in a sound pack.  Each\n"
	"problem is printed on its own line naming the pack, chunk, snapshot and\n"
	"file it concerns.  Runs alongside snapshots and mounts.\n"
	"\n"
	"      --read-data[=PERCENT]  also read every blob (or a random PERCENT of\n"
	"                       the packs) and verify its checksum, authenticity\n"
	"                       and id: the restore drill, without restoring\n"
	"      --repair         rebuild the blob index from the packs (also a lost\n"
	"                       catalog.db, with its projects and snapshots), index\n"
	"                       packs of interrupted runs, remove their temp files\n"
	"                       and mark snapshots with missing data as damaged;\n"
	"                       fix invalid catalog rows (status, counts, a\n"
	"                       project name) or move them into its quarantine\n"
	"                       table.  Never deletes a pack or a snapshot.\n"
	"  -q, --quiet          print only problems\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 healthy, 1 damage found (or the check could not run),\n"
	"2 usage, 4 the repository stayed locked (--repair).\n";

struct out_ctx {
	bool quiet;
};

static void report(void *ctx, enum check_level level, const char *line)
{
	struct out_ctx *o = ctx;
	char *p = out_printable(line);
	const char *s = p ? p : line;
	switch (level) {
	case CHECK_DAMAGE:
		printf("damaged: %s\n", s);
		break;
	case CHECK_NOTICE:
		if (!o->quiet)
			printf("notice: %s\n", s);
		break;
	case CHECK_INFO:
		if (!o->quiet)
			printf("%s\n", s);
		break;
	}
	free(p);
	fflush(stdout);
}

static int parse_percent(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end == '%')
		end++;
	if (errno || end == s || *end || v < 1 || v > 100)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"read-data", optional_argument, NULL, 'R'},
		{"repair", no_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"seed", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct check_opts opts = { 0 };
	struct out_ctx o = { 0 };
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'R':
			opts.read_data = true;
			if (optarg && parse_percent(optarg, &opts.read_percent) < 0)
				return cli_usage_error("check",
						       "--read-data=%s: want a percentage from 1 to 100",
						       optarg);
			break;
		case 'r':
			opts.repair = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'S':
			opts.seed = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("check", c, optopt, argv, optind);
		}
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
	opts.ctx = &o;
	opts.report = report;

	struct repo *repo = NULL;
	int r;
	r = cli_open_repo(opts.repair ? REPO_REPAIR : REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "opening the repository");
	struct check_result res;
	store_error_clear();
	r = check_run(repo, &opts, &res);
	repo_close(repo);
	if (r < 0)
		return out_store_err(r, "check");

	char a[OUT_BUF], b[OUT_BUF], d[OUT_BUF], e[OUT_BUF], f[OUT_BUF], g[OUT_BUF];
	if (!o.quiet) {
		printf("%s packs, %s blobs, %s trees, %s chunk references, %s snapshots checked",
		       out_count(res.packs, a), out_count(res.blobs, b), out_count(res.trees, d),
		       out_count(res.chunks, e), out_count(res.snapshots, f));
		if (res.packs_read)
			printf("; read %s blobs (%s) in %s packs", out_count(res.blobs_read, a),
			       out_size(res.bytes_read, b), out_count(res.packs_read, d));
		putchar('\n');
		if (opts.repair)
			printf("repair: %s packs indexed, %s rows corrected, %s blobs stored again, "
			       "%s snapshots re-created, %s marked damaged, %s leftovers removed\n",
			       out_count(res.packs_indexed, a), out_count(res.rows_fixed, b),
			       out_count(res.blobs_restored, g), out_count(res.snapshots_recovered, d),
			       out_count(res.snapshots_marked, e), out_count(res.leftovers_removed, f));
		if (opts.repair && res.catalog_rows_invalid)
			printf("repair: %s invalid catalog rows: %s quarantined, %s fixed\n",
			       out_count(res.catalog_rows_invalid, a),
			       out_count(res.catalog_rows_quarantined, b),
			       out_count(res.catalog_rows_fixed, d));
	}
	if (res.healthy) {
		if (!o.quiet)
			printf("no problems found\n");
		return EXIT_OK;
	}
	printf("DAMAGED: %s packs, %s blobs, %s snapshots (%s files)%s",
	       out_count(res.damaged_packs, a), out_count(res.damaged_blobs, b),
	       out_count(res.damaged_snapshots, d), out_count(res.damaged_files, e),
	       res.catalog_damaged && !opts.repair ? "; catalog damaged" : "");
	if (res.catalog_rows_invalid && !opts.repair)
		printf("; %s invalid catalog rows", out_count(res.catalog_rows_invalid, a));
	putchar('\n');
	out_err("check: the repository is damaged (details above)%s",
		opts.repair ? "" : "; ckptfs check --repair rebuilds what the packs still hold");
	return EXIT_ERROR;
}
