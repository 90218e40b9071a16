/* cmd_remote.c — ckptfs remote add | list | remove: where push sends the
 * repository (store/remote_conf.h; no secrets: rclone keeps its own). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/err.h"
#include "store/remote.h"
#include "store/remote_conf.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs remote add NAME TARGET [--append-only]\n"
	"       ckptfs remote list [--json]\n"
	"       ckptfs remote remove NAME\n"
	"\n"
	"Remotes are where `ckptfs push` copies the repository: sealed packs, the\n"
	"passphrase-wrapped key and a manifest, never the plain key.  TARGET is a\n"
	"directory (a USB disk, a NAS mount) or rclone:REMOTE:PATH, any remote of\n"
	"the rclone command (S3, B2, sftp, Drive, ...; credentials stay in rclone's\n"
	"own config).  list shows the last push, what the remote holds and what is\n"
	"pending, from local state; remove forgets a remote (its data stays).\n"
	"\n"
	"      --append-only    push never deletes on this remote (not even after\n"
	"                       the 14-day grace period)\n"
	"      --json           list as a JSON array\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 done, 1 error, 2 usage, 4 repository locked.\n";

static int with_list(struct repo **ret_repo, struct remote_list *ret)
{
	int r = cli_open_repo(REPO_WRITE, ret_repo);
	if (r < 0)
		return r;
	r = remote_conf_load(*ret_repo, ret);
	if (r < 0) {
		repo_close(*ret_repo);
		*ret_repo = NULL;
	}
	return r;
}

/* A directory target as an absolute path (no trailing slash). */
static char *absolute_target(const char *t)
{
	char *out = NULL, cwd[PATH_MAX];
	if (!strncmp(t, "rclone:", 7) || t[0] == '/')
		out = strdup(t);
	else if (getcwd(cwd, sizeof cwd) && asprintf(&out, "%s/%s", cwd, t) < 0)
		out = NULL;
	if (out) {
		size_t n = strlen(out);
		while (n > 1 && out[n - 1] == '/' && strncmp(out, "rclone:", 7))
			out[--n] = '\0';
	}
	return out;
}

static int add(const char *name, const char *target_arg, bool append_only)
{
	char *target = absolute_target(target_arg);
	if (!target)
		return out_store_err(-ENOMEM, "remote add");
	struct repo *repo = NULL;
	struct remote_list l = {0};
	int r = with_list(&repo, &l);
	if (r == 0) {
		size_t rl = strlen(repo_path(repo));
		if (!strncmp(target, repo_path(repo), rl) && (target[rl] == '/' || !target[rl]))
			r = store_fail(-EINVAL, "remote %s: %s is inside the repository", name,
				       target);
	}
	if (r == 0)
		r = remote_list_add(&l, name, target, append_only);
	if (r == 0)
		r = remote_conf_save(repo, &l);
	int st = r < 0 ? out_store_err(r, "remote add") : EXIT_OK;
	if (r == 0)
		printf("remote %s: %s%s (ckptfs push %s sends to it)\n", name, target,
		       append_only ? ", append-only" : "", name);
	remote_list_clear(&l);
	repo_close(repo);
	free(target);
	return st;
}

static int rm(const char *name)
{
	struct repo *repo = NULL;
	struct remote_list l = {0};
	int r = with_list(&repo, &l);
	char *target = NULL;
	if (r == 0) {
		const struct remote *e = remote_list_find(&l, name);
		target = e ? strdup(e->target) : NULL;
		r = remote_list_remove(&l, name);
	}
	if (r == 0)
		r = remote_conf_save(repo, &l);
	if (r == 0)
		remote_forget_state(repo, name);
	int st = r < 0 ? out_store_err(r, "remote remove") : EXIT_OK;
	if (r == 0)
		printf("remote %s: removed (what it holds on %s is left as it is)\n", name,
		       target ? target : "?");
	free(target);
	remote_list_clear(&l);
	repo_close(repo);
	return st;
}

static void list_json(const struct remote *e, const struct remote_status *s, bool first)
{
	char buf[OUT_BUF];
	fputs(first ? "\n {\"name\": " : ",\n {\"name\": ", stdout);
	out_json_str(stdout, e->name);
	fputs(", \"target\": ", stdout);
	out_json_str(stdout, e->target);
	printf(", \"append_only\": %s, \"last_push\": ", e->append_only ? "true" : "false");
	if (s->pushed)
		printf("\"%s\"", out_utc_iso(s->last_ns, buf));
	else
		fputs("null", stdout);
	printf(", \"packs\": %llu, \"bytes\": %llu, \"gone_packs\": %llu, \"pending_packs\": %llu, "
	       "\"pending_bytes\": %llu}",
	       (unsigned long long)s->packs, (unsigned long long)s->bytes,
	       (unsigned long long)s->gone_packs, (unsigned long long)s->pending_packs,
	       (unsigned long long)s->pending_bytes);
}

static void list_line(const struct remote *e, const struct remote_status *s, int64_t now)
{
	char a[OUT_BUF], b[OUT_BUF], c[OUT_BUF], d[OUT_BUF], g[OUT_BUF], h[OUT_BUF];
	char *target = out_printable(e->target);
	printf("%s  %s%s\n", e->name, target ? target : "", e->append_only ? "  (append-only)" : "");
	free(target);
	if (!s->pushed)
		printf("  never pushed; pending: %s packs, %s\n", out_count(s->pending_packs, a),
		       out_size(s->pending_bytes, b));
	else
		printf("  last push %s: %s packs, %s%s%s; pending: %s packs, %s\n",
		       out_age(now - s->last_ns, a), out_count(s->packs, b), out_size(s->bytes, c),
		       s->gone_packs ? ", gone locally: " : "",
		       s->gone_packs ? out_count(s->gone_packs, g) : "",
		       out_count(s->pending_packs, d), out_size(s->pending_bytes, h));
}

static int list(bool json)
{
	struct repo *repo = NULL;
	struct remote_list l = {0};
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == 0)
		r = remote_conf_load(repo, &l);
	if (r < 0) {
		int st = out_store_err(r, "remote list");
		repo_close(repo);
		return st;
	}
	if (json)
		fputs("[", stdout);
	else if (!l.n)
		puts("no remotes (ckptfs remote add NAME TARGET)");
	int64_t now = out_now_ns();
	for (size_t i = 0; i < l.n && r == 0; i++) {
		struct remote_status s;
		if ((r = remote_status(repo, l.r[i].name, &s)) < 0)
			break;
		if (json)
			list_json(&l.r[i], &s, i == 0);
		else
			list_line(&l.r[i], &s, now);
	}
	if (json)
		fputs(l.n ? "\n]\n" : "]\n", stdout);
	int st = r < 0 ? out_store_err(r, "remote list") : EXIT_OK;
	remote_list_clear(&l);
	cli_close_repo(repo, false);
	return st;
}

int cmd_remote(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"append-only", no_argument, NULL, 'A'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool append_only = false, json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'A': append_only = true; break;
		case 'J': json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("remote", c, optopt, argv, optind);
		}
	}
	if (optind >= argc)
		return cli_usage_error("remote", "which: add, list or remove");
	const char *verb = argv[optind++];
	int nargs = argc - optind;
	if (!strcmp(verb, "add")) {
		if (nargs != 2 || json)
			return cli_usage_error("remote", "add takes NAME TARGET [--append-only]");
		return add(argv[optind], argv[optind + 1], append_only);
	}
	if (append_only)
		return cli_usage_error("remote", "--append-only is for add");
	if (!strcmp(verb, "list")) {
		if (nargs)
			return cli_usage_error("remote", "unexpected argument '%s'", argv[optind]);
		return list(json);
	}
	if (!strcmp(verb, "remove")) {
		if (nargs != 1 || json)
			return cli_usage_error("remote", "remove takes NAME");
		return rm(argv[optind]);
	}
	return cli_usage_error("remote", "no verb '%s' (add, list or remove)", verb);
}
