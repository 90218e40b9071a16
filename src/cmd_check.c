/* cmd_check.c — ckptfs check: verify the repository, optionally repair it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/check_drill.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "src/take.h"
#include "store/check.h"
#include "store/err.h"
#include "store/remote.h"
#include "store/remote_conf.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs check [--read-data[=PERCENT]] [--repair] [-q] [--json]\n"
	"       ckptfs check --remote NAME [--read-data[=PERCENT]] [-q] [--json]\n"
	"       ckptfs check --drill [--project NAME] [--db NAME] [-q]\n"
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
	"      --remote NAME    check remote NAME instead (ckptfs remote list): its\n"
	"                       manifest, key and format, every pack present with its\n"
	"                       size; --read-data downloads packs and verifies every\n"
	"                       blob; damage names the pack, snapshots and files\n"
	"      --drill          instead: the full drill of the latest snapshot of each\n"
	"                       project: every Postgres and MySQL/MariaDB dump restored\n"
	"                       into a scratch database on its server (created, then\n"
	"                       dropped), its row counts compared with those recorded\n"
	"                       at dump time; for a scheduled job (monthly, say)\n"
	"  -p, --project NAME   with --drill: only this project\n"
	"      --db NAME        with --drill: only this database\n"
	"  -q, --quiet          print only problems\n"
	"      --json           one JSON object: healthy, the counts, and every\n"
	"                       finding with its level (damage, notice, info)\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 healthy, 1 damage found (or the check could not run),\n"
	"2 usage, 3 with --drill: a drill failed, 4 the repository stayed locked\n"
	"(--repair).\n";

struct out_ctx {
	bool quiet;
	bool json;
	size_t nfindings; /* --json: findings written so far */
};

static const char *level_name(enum check_level level)
{
	return level == CHECK_DAMAGE ? "damage" : level == CHECK_NOTICE ? "notice" : "info";
}

static void report(void *ctx, enum check_level level, const char *line)
{
	struct out_ctx *o = ctx;
	if (o->json) {
		/* Findings stream out as the check goes: the array is opened
		 * before check_run and closed after. */
		printf("%s\n  {\"level\": \"%s\", \"text\": ", o->nfindings++ ? "," : "",
		       level_name(level));
		out_json_str(stdout, line);
		fputc('}', stdout);
		fflush(stdout);
		return;
	}
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

static void print_json(const struct check_result *r, bool repair)
{
	printf("\n ],\n \"healthy\": %s, \"repair\": %s,\n", r->healthy ? "true" : "false",
	       repair ? "true" : "false");
	const struct {
		const char *name;
		uint64_t v;
	} n[] = {
		{"packs", r->packs},
		{"packs_read", r->packs_read},
		{"blobs", r->blobs},
		{"blobs_read", r->blobs_read},
		{"bytes_read", r->bytes_read},
		{"trees", r->trees},
		{"chunks", r->chunks},
		{"snapshots", r->snapshots},
		{"damaged_packs", r->damaged_packs},
		{"damaged_blobs", r->damaged_blobs},
		{"damaged_snapshots", r->damaged_snapshots},
		{"damaged_files", r->damaged_files},
		{"unindexed_packs", r->unindexed_packs},
		{"leftovers", r->leftovers},
		{"catalog_rows_invalid", r->catalog_rows_invalid},
		{"packs_indexed", r->packs_indexed},
		{"rows_fixed", r->rows_fixed},
		{"blobs_restored", r->blobs_restored},
		{"snapshots_recovered", r->snapshots_recovered},
		{"snapshots_marked", r->snapshots_marked},
		{"leftovers_removed", r->leftovers_removed},
		{"catalog_rows_quarantined", r->catalog_rows_quarantined},
		{"catalog_rows_fixed", r->catalog_rows_fixed},
	};
	for (size_t i = 0; i < sizeof n / sizeof *n; i++)
		printf(" \"%s\": %llu,\n", n[i].name, (unsigned long long)n[i].v);
	printf(" \"catalog_damaged\": %s\n}\n", r->catalog_damaged ? "true" : "false");
}

/* check --remote NAME. */
static int check_remote(const char *name, const struct check_opts *opts, struct out_ctx *o)
{
	struct repo *repo = NULL;
	struct remote_list l = {0};
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == 0)
		r = remote_conf_load(repo, &l);
	const struct remote *rem = r == 0 ? remote_list_find(&l, name) : NULL;
	if (r == 0 && !rem)
		r = store_fail(-ENOENT, "remote %s: no such remote (ckptfs remote list)", name);
	if (r < 0) {
		int st = out_store_err(r, "check");
		remote_list_clear(&l);
		repo_close(repo);
		return st;
	}
	struct remote_check_opts ro = {.read_data = opts->read_data,
				       .read_percent = opts->read_percent,
				       .seed = opts->seed,
				       .ctx = o,
				       .report = report};
	struct remote_check_result res = {0};
	if (o->json)
		fputs("{\"findings\": [", stdout);
	store_error_clear();
	r = remote_check(repo, rem, &ro, &res);
	remote_list_clear(&l);
	repo_close(repo);
	char a[OUT_BUF], b[OUT_BUF], d[OUT_BUF];
	if (o->json) {
		if (r >= 0)
			printf("\n ],\n \"remote\": \"%s\", \"healthy\": %s, \"packs\": %llu, "
			       "\"packs_read\": %llu, \"bytes_read\": %llu, \"blobs_read\": %llu, "
			       "\"damaged_packs\": %llu\n}\n",
			       name, res.healthy ? "true" : "false", (unsigned long long)res.packs,
			       (unsigned long long)res.packs_read, (unsigned long long)res.bytes_read,
			       (unsigned long long)res.blobs_read,
			       (unsigned long long)res.damaged_packs);
		else
			fputs("]}\n", stdout);
	} else if (r >= 0 && !o->quiet) {
		printf("remote %s: %s packs checked", name, out_count(res.packs, a));
		if (res.packs_read)
			printf("; read %s packs (%s), %s blobs", out_count(res.packs_read, a),
			       out_size(res.bytes_read, b), out_count(res.blobs_read, d));
		putchar('\n');
	}
	int st = EXIT_OK;
	if (r < 0) {
		st = out_store_err(r, "check");
	} else if (!res.healthy) {
		if (!o->json)
			printf("DAMAGED: remote %s: %s packs\n", name, out_count(res.damaged_packs, a));
		out_err("check: remote %s is damaged (details above); push re-sends a missing or "
			"cut pack, a corrupt one once removed from the remote", name);
		st = EXIT_ERROR;
	} else if (!o->quiet && !o->json) {
		printf("no problems found\n");
	}
	remote_check_clear(&res);
	return st;
}

/* The human summary of a local check (and repair); the exit status. */
static int print_text(const struct check_result *rs, bool repair, bool quiet)
{
	char a[OUT_BUF], b[OUT_BUF], d[OUT_BUF], e[OUT_BUF], f[OUT_BUF], g[OUT_BUF];
	if (!quiet) {
		printf("%s packs, %s blobs, %s trees, %s chunk references, %s snapshots checked",
		       out_count(rs->packs, a), out_count(rs->blobs, b), out_count(rs->trees, d),
		       out_count(rs->chunks, e), out_count(rs->snapshots, f));
		if (rs->packs_read)
			printf("; read %s blobs (%s) in %s packs", out_count(rs->blobs_read, a),
			       out_size(rs->bytes_read, b), out_count(rs->packs_read, d));
		putchar('\n');
		if (repair)
			printf("repair: %s packs indexed, %s rows corrected, %s blobs stored again, "
			       "%s snapshots re-created, %s marked damaged, %s leftovers removed\n",
			       out_count(rs->packs_indexed, a), out_count(rs->rows_fixed, b),
			       out_count(rs->blobs_restored, g), out_count(rs->snapshots_recovered, d),
			       out_count(rs->snapshots_marked, e), out_count(rs->leftovers_removed, f));
		if (repair && rs->catalog_rows_invalid)
			printf("repair: %s invalid catalog rows: %s quarantined, %s fixed\n",
			       out_count(rs->catalog_rows_invalid, a),
			       out_count(rs->catalog_rows_quarantined, b),
			       out_count(rs->catalog_rows_fixed, d));
	}
	if (rs->healthy) {
		if (!quiet)
			printf("no problems found\n");
		return EXIT_OK;
	}
	printf("DAMAGED: %s packs, %s blobs, %s snapshots (%s files)%s",
	       out_count(rs->damaged_packs, a), out_count(rs->damaged_blobs, b),
	       out_count(rs->damaged_snapshots, d), out_count(rs->damaged_files, e),
	       rs->catalog_damaged && !repair ? "; catalog damaged" : "");
	if (rs->catalog_rows_invalid && !repair)
		printf("; %s invalid catalog rows", out_count(rs->catalog_rows_invalid, a));
	putchar('\n');
	out_err("check: the repository is damaged (details above)%s",
		repair ? "" : "; ckptfs check --repair rebuilds what the packs still hold");
	return EXIT_ERROR;
}

/* check [--read-data] [--repair] [--json] of the local repository. */
static int check_local(struct check_opts *opts, struct out_ctx *o)
{
	struct repo *repo = NULL;
	int r;
	r = cli_open_repo(opts->repair ? REPO_REPAIR : REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "opening the repository");
	struct check_result res;
	store_error_clear();
	if (o->json)
		fputs("{\"findings\": [", stdout);
	r = check_run(repo, opts, &res);
	repo_close(repo);
	/* Not the repository's, but what a killed snap leaves: its plaintext
	 * database copies in the temp dir (said in a line, but not into
	 * --json output). */
	if (r >= 0 && opts->repair)
		take_sweep_db_temps(o->quiet || o->json);
	if (o->json && r >= 0) {
		print_json(&res, opts->repair);
		if (res.healthy)
			return EXIT_OK;
		out_err("check: the repository is damaged (see \"findings\")");
		return EXIT_ERROR;
	}
	if (o->json)
		fputs("]}\n", stdout); /* valid JSON even when the check could not run */
	if (r < 0)
		return out_store_err(r, "check");

	return print_text(&res, opts->repair, o->quiet);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"read-data", optional_argument, NULL, 'R'},
		{"repair", no_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'j'},
		{"seed", required_argument, NULL, 'S'},
		{"remote", required_argument, NULL, 'M'},
		{"drill", no_argument, NULL, 'D'},
		{"project", required_argument, NULL, 'p'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct check_opts opts = { 0 };
	struct out_ctx o = { 0 };
	const char *remote = NULL;
	bool drill = false;
	const char *project = NULL, *db = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":qp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			drill = true;
			break;
		case 'p':
			project = optarg;
			break;
		case 'd':
			db = optarg;
			break;
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
		case 'j':
			o.json = true;
			break;
		case 'S':
			opts.seed = strtoull(optarg, NULL, 10);
			break;
		case 'M':
			remote = optarg;
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
	if ((project || db) && !drill)
		return cli_usage_error("check", "--project and --db go with --drill");
	if (drill && (opts.read_data || opts.repair || o.json || remote))
		return cli_usage_error("check", "--drill goes alone (no --read-data, --repair, --json or "
						"--remote)");
	if (drill)
		return check_drill(project, db, o.quiet);
	opts.ctx = &o;
	opts.report = report;
	if (remote && opts.repair)
		return cli_usage_error("check", "--repair is for the local repository, not --remote");
	if (remote)
		return check_remote(remote, &opts, &o);
	return check_local(&opts, &o);
}
