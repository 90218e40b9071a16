/* cmd_gc.c — ckptfs gc: delete the data no snapshot needs any more. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/duration.h"
#include "src/output.h"
#include "src/runlog.h"
#include "store/err.h"
#include "store/gc.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs gc [--dry-run] [--repack-threshold PCT] [--if-due] [--json]\n"
	"\n"
	"Delete the packs no snapshot needs and rewrite the mostly dead ones, then\n"
	"say what it freed.  Every snapshot in the catalog is kept, forgotten ones\n"
	"in the trash included.  Holds the writer lock: a snap started meanwhile\n"
	"waits.  Killed at any point, nothing a snapshot needs is lost; the next gc\n"
	"finishes the job.\n"
	"\n"
	"      --dry-run        list every pack gc would delete or rewrite, change\n"
	"                       nothing\n"
	"      --repack-threshold PCT\n"
	"                       rewrite a pack when less than PCT% of its bytes are\n"
	"                       live (0..100, default 50)\n"
	"      --if-due         only if no gc has finished in the last 7 days (the\n"
	"                       scheduled run's step); else say so and exit 0\n"
	"      --json           one JSON object: the counts, sizes and every pack\n"
	"                       acted on\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 done, 1 stopped by an error (a full disk: what was freed\n"
	"stays freed; a snapshot tree that cannot be read: nothing deleted),\n"
	"2 usage, 4 the repository stayed locked by another writer.\n";

/* gc --if-due: a week between runs.  What gc frees comes back as the
 * trash's windows end (7 days by default), hour by hour for an hourly
 * history; a run each hour would mark the whole repository every hour for
 * a few packs' worth, a run a week frees a week of expired snapshots at
 * once. */
#define GC_DUE_AFTER_NS (7 * 86400 * INT64_C(1000000000))
#define GC_STATE "last-gc.json"

/* When the last gc finished, from <repository>/state/last-gc.json; 0 when
 * never (or the record is unreadable: then gc runs, which rewrites it). */
static int64_t last_gc_ns(void)
{
	struct jv v;
	if (runlog_state_read(GC_STATE, &v) < 0) {
		store_error_clear();
		return 0;
	}
	int64_t t = (int64_t)jv_num(&v, "time_ns", 0);
	jv_clear(&v);
	return t;
}

static void record_gc(int64_t now_ns)
{
	char text[64];
	int n = snprintf(text, sizeof text, "{\"time_ns\": %lld}\n", (long long)now_ns);
	/* A convenience: losing it only makes the next --if-due run early. */
	if (runlog_state_write(GC_STATE, text, (size_t)n) < 0)
		store_error_clear();
}

struct out_ctx {
	bool json, dry_run;
	size_t nactions;
};

static const char *action_name(enum gc_action a)
{
	return a == GC_DELETE ? "delete" : a == GC_REPACK ? "repack" : "unindexed";
}

static void report(void *ctx, const char *pack, enum gc_action a, uint64_t size, uint64_t live)
{
	struct out_ctx *o = ctx;
	if (o->json) {
		/* Streamed: the array is opened before gc_run, closed after. */
		printf("%s\n  {\"pack\": \"%s\", \"action\": \"%s\", \"size\": %llu, \"live\": %llu}",
		       o->nactions++ ? "," : "", pack, action_name(a), (unsigned long long)size,
		       (unsigned long long)live);
		fflush(stdout);
		return;
	}
	if (!o->dry_run)
		return;
	char s[OUT_BUF], l[OUT_BUF];
	switch (a) {
	case GC_DELETE:
		printf("would delete pack %s (%s, nothing live)\n", pack, out_size(size, s));
		break;
	case GC_REPACK:
		printf("would repack pack %s (%s live of %s, %llu%%)\n", pack, out_size(live, l),
		       out_size(size, s),
		       (unsigned long long)(size ? live * 100 / size : 0));
		break;
	case GC_UNINDEXED:
		printf("would delete pack file %s (%s, not in the catalog)\n", pack,
		       out_size(size, s));
		break;
	}
}

static void print_json(const struct gc_result *r, bool dry_run, int err)
{
	printf("\n ],\n \"dry_run\": %s,\n", dry_run ? "true" : "false");
	const struct {
		const char *name;
		uint64_t v;
	} n[] = {
		{"trash_expired", r->trash_expired},
		{"snapshots", r->snapshots},
		{"trees", r->trees},
		{"live_ids", r->live_blobs},
		{"mark_set_bytes", r->mark_bytes},
		{"packs", r->packs},
		{"packs_deleted", r->packs_deleted},
		{"packs_repacked", r->packs_repacked},
		{"packs_written", r->packs_written},
		{"unindexed_deleted", r->unindexed_deleted},
		{"bytes_before", r->bytes_before},
		{"bytes_after", r->bytes_after},
		{"bytes_live", r->bytes_live},
		{"bytes_rewritten", r->bytes_rewritten},
		{"bytes_freed", r->bytes_freed},
	};
	for (size_t i = 0; i < sizeof n / sizeof *n; i++)
		printf(" \"%s\": %llu,\n", n[i].name, (unsigned long long)n[i].v);
	printf(" \"seconds\": %.3f,\n \"phase_seconds\": {\"mark\": %.3f, \"plan\": %.3f, "
	       "\"sweep\": %.3f, \"repack\": %.3f},\n \"error\": ",
	       (double)r->duration_ns / 1e9, (double)r->mark_ns / 1e9, (double)r->plan_ns / 1e9,
	       (double)r->sweep_ns / 1e9, (double)r->repack_ns / 1e9);
	if (err < 0)
		out_json_str(stdout, store_error() ? store_error() : strerror(-err));
	else
		fputs("null", stdout);
	fputs("\n}\n", stdout);
}

static void print_summary(const struct gc_result *r, bool dry_run)
{
	char a[OUT_BUF], b[OUT_BUF], c[OUT_BUF], d[OUT_BUF], e[OUT_BUF], f[OUT_BUF];
	printf("gc%s: %s packs, %s %srepacked, %s deleted; %s -> %s; %s",
	       dry_run ? " (dry run)" : "", out_count(r->packs, a), out_count(r->packs_repacked, b),
	       dry_run ? "would be " : "", out_count(r->packs_deleted, c),
	       out_size(r->bytes_before, d), out_size(r->bytes_after, e),
	       out_duration(r->duration_ns, f));
	if (r->unindexed_deleted)
		printf("; %s pack files not in the catalog deleted",
		       out_count(r->unindexed_deleted, a));
	if (r->trash_expired)
		printf("; %s expired snapshots %s the trash", out_count(r->trash_expired, a),
		       dry_run ? "would leave" : "left");
	putchar('\n');
}

static int parse_threshold(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end == '%')
		end++;
	if (errno || end == s || *end || v < 0 || v > 100)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"repack-threshold", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"if-due", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct gc_opts opts = { .threshold = GC_DEFAULT_THRESHOLD };
	struct out_ctx o = { 0 };
	bool if_due = false;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opts.dry_run = true;
			break;
		case 't':
			if (parse_threshold(optarg, &opts.threshold) < 0)
				return cli_usage_error("gc",
						       "--repack-threshold %s: want a percentage from 0 to 100",
						       optarg);
			break;
		case 'j':
			o.json = true;
			break;
		case 'D':
			if_due = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("gc", c, optopt, argv, optind);
		}
	}
	if (optind < argc)
		return cli_usage_error("gc", "unexpected argument '%s'", argv[optind]);
	o.dry_run = opts.dry_run;
	int64_t now = out_clock_ns(), last = if_due ? last_gc_ns() : 0;
	if (if_due && last > 0 && now - last < GC_DUE_AFTER_NS && now >= last) {
		char ago[32];
		dur_format((now - last) / 1000000000, ago);
		if (o.json)
			printf("{\"due\": false, \"last_ns\": %lld}\n", (long long)last);
		else
			printf("gc: not due (the last one finished %s ago; next after 7 days)\n", ago);
		return EXIT_OK;
	}
	opts.ctx = &o;
	opts.report = report;

	struct repo *repo = NULL;
	int r = cli_open_repo(REPO_WRITE, &repo);
	if (r < 0)
		return out_store_err(r, "opening the repository");
	struct gc_result res;
	store_error_clear();
	if (o.json)
		fputs("{\"actions\": [", stdout);
	r = gc_run(repo, &opts, &res);
	if (o.json)
		print_json(&res, opts.dry_run, r);
	else if (r >= 0 || res.packs_deleted || res.packs_repacked || res.unindexed_deleted)
		print_summary(&res, opts.dry_run);
	int status = r < 0 ? out_store_err(r, "gc") : EXIT_OK;
	if (r >= 0 && !opts.dry_run)
		record_gc(now);
	repo_close(repo);
	return status;
}
