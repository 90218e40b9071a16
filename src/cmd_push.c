/* cmd_push.c — ckptfs push [NAME...]: send what each remote lacks
 * (store/remote.h), one line per remote; one failing never stops the
 * others. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/err.h"
#include "store/remote.h"
#include "store/remote_conf.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs push [NAME...] [--json] [--no-delete] [--bwlimit RATE] [--if-configured]\n"
	"\n"
	"Send every remote (or those named) what it lacks: the packs, the\n"
	"passphrase-wrapped key, the format file, then a manifest naming them,\n"
	"so the remote is valid at every instant.  Each upload goes to a temp\n"
	"name, is verified (size and checksum) and renamed; a killed push resumes\n"
	"without sending anything complete again.  Packs gc removed locally are\n"
	"deleted on the remote 14 days after a push first saw them gone.\n"
	"\n"
	"      --no-delete      delete nothing on the remote this time\n"
	"      --bwlimit RATE   bandwidth limit, rclone's syntax (512K, 10M: bytes\n"
	"                       per second; passed to rclone, applied natively to\n"
	"                       a directory)\n"
	"      --if-configured  with no remote added, do nothing and exit 0 (the\n"
	"                       scheduled run's step)\n"
	"      --json           a JSON array, one object per remote\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 every remote pushed, 1 an error (the other remotes were\n"
	"still pushed), 2 usage, 4 locked (another push of that remote).\n";

/* "now": the clock, or $CKPTFS_NOW (UTC seconds; for tests of the grace
 * period). */
static int64_t now_ns(void)
{
	const char *e = getenv("CKPTFS_NOW");
	if (e && *e) {
		char *end;
		long long s = strtoll(e, &end, 10);
		if (!*end && s > 0)
			return s * 1000000000LL;
	}
	return out_now_ns();
}

struct shown {
	struct out_progress prog;
	const char *name;
};

static void on_progress(void *ctx, const struct remote_progress *p)
{
	struct shown *s = ctx;
	char a[OUT_BUF], b[OUT_BUF];
	out_progress_update(&s->prog, "%s: %llu/%llu packs, %s of %s", s->name,
			    (unsigned long long)p->packs_done, (unsigned long long)p->packs_total,
			    out_size(p->bytes_done, a), out_size(p->bytes_total, b));
}

static void print_line(const struct remote *rem, const struct push_result *res, int64_t ns,
		       bool no_delete)
{
	char a[OUT_BUF], b[OUT_BUF], c[OUT_BUF], d[OUT_BUF];
	printf("%s: %s new pack%s, %s, %s; %s deleted", rem->name, out_count(res->new_packs, a),
	       res->new_packs == 1 ? "" : "s", out_size(res->new_bytes, b), out_duration(ns, c),
	       out_count(res->deleted, d));
	if (res->kept_gone)
		printf(", %s kept until %s", out_count(res->kept_gone, b),
		       out_local_time(res->next_delete_ns, false, c));
	if (rem->append_only)
		puts(" (append-only remote)");
	else if (no_delete)
		puts(" (--no-delete)");
	else
		puts(" (14-day grace)");
}

static void print_json(const struct remote *rem, const struct push_result *res, int64_t ns,
		       int r, bool first)
{
	fputs(first ? "\n {\"remote\": " : ",\n {\"remote\": ", stdout);
	out_json_str(stdout, rem->name);
	if (r < 0) {
		fputs(", \"ok\": false, \"error\": ", stdout);
		out_json_str(stdout, store_error() ? store_error() : strerror(-r));
		fputs("}", stdout);
		return;
	}
	printf(", \"ok\": true, \"new_packs\": %llu, \"new_bytes\": %llu, \"seconds\": %.3f, "
	       "\"packs\": %llu, \"bytes\": %llu, \"deleted\": %llu, \"deleted_bytes\": %llu, "
	       "\"kept_gone\": %llu}",
	       (unsigned long long)res->new_packs, (unsigned long long)res->new_bytes, ns / 1e9,
	       (unsigned long long)res->packs, (unsigned long long)res->bytes,
	       (unsigned long long)res->deleted, (unsigned long long)res->deleted_bytes,
	       (unsigned long long)res->kept_gone);
}

static int push_all(struct repo *repo, const struct remote_list *l, char **names, int nnames,
		    struct push_opts *o, bool json)
{
	int st = EXIT_OK;
	bool first = true;
	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < l->n; i++) {
		const struct remote *rem = &l->r[i];
		bool chosen = nnames == 0;
		for (int k = 0; k < nnames; k++)
			chosen |= !strcmp(names[k], rem->name);
		if (!chosen)
			continue;
		struct shown sh = {.name = rem->name};
		out_progress_init(&sh.prog, json);
		o->ctx = &sh;
		o->progress = on_progress;
		struct push_result res = {0};
		int64_t t0 = out_mono_ns();
		store_error_clear();
		int r = remote_push(repo, rem, o, &res);
		out_progress_clear(&sh.prog);
		int64_t ns = out_mono_ns() - t0;
		if (json)
			print_json(rem, &res, ns, r, first);
		if (r < 0) {
			int s = out_store_err(r, rem->name);
			if (st == EXIT_OK || s == EXIT_ERROR)
				st = s;
		} else if (!json) {
			print_line(rem, &res, ns, o->no_delete);
		}
		fflush(stdout);
		first = false;
	}
	if (json)
		fputs(first ? "]\n" : "\n]\n", stdout);
	return st;
}

int cmd_push(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'J'},
		{"no-delete", no_argument, NULL, 'N'},
		{"bwlimit", required_argument, NULL, 'B'},
		{"if-configured", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool json = false, if_configured = false;
	struct push_opts o = {.grace_ns = REMOTE_GRACE_NS};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'I': if_configured = true; break;
		case 'N': o.no_delete = true; break;
		case 'B':
			if (rio_parse_rate(optarg, &o.rio.bw_bytes) < 0)
				return cli_usage_error("push", "%s", store_error());
			o.rio.bwlimit = optarg;
			break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("push", c, optopt, argv, optind);
		}
	}
	o.now_ns = now_ns();
	struct repo *repo = NULL;
	struct remote_list l = {0};
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == 0)
		r = remote_conf_load(repo, &l);
	if (r == 0 && l.n == 0 && if_configured && optind == argc) {
		if (json)
			puts("[]");
		repo_close(repo);
		return EXIT_OK;
	}
	if (r == 0 && l.n == 0)
		r = store_fail(-ENOENT, "no remotes to push to (add one: ckptfs remote add NAME TARGET)");
	for (int i = optind; r == 0 && i < argc; i++)
		if (!remote_list_find(&l, argv[i]))
			r = store_fail(-ENOENT, "remote %s: no such remote (ckptfs remote list)", argv[i]);
	if (r < 0) {
		int st = out_store_err(r, "push");
		remote_list_clear(&l);
		repo_close(repo);
		return st;
	}
	int st = push_all(repo, &l, argv + optind, argc - optind, &o, json);
	remote_list_clear(&l);
	cli_close_repo(repo, false);
	return st;
}
