/* cmd_recover.c — ckptfs recover TARGET: a repository back from a remote
 * on a machine that has none (store/remote.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/keysheet.h"
#include "src/output.h"
#include "src/passphrase.h"
#include "store/err.h"
#include "store/keywrap.h"
#include "store/remote.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs recover TARGET [--repo DIR] [--key SHEET] [--passphrase-stdin]\n"
	"\n"
	"Rebuild a repository from a remote (a directory or rclone:REMOTE:PATH, as\n"
	"given to `ckptfs remote add`) on a machine that has none: the manifest and\n"
	"the wrapped key are fetched, the passphrase asked, every pack fetched and\n"
	"verified, the catalog rebuilt from the packs (projects, snapshots with\n"
	"their names, tags and messages) and the remote added again under its\n"
	"name.  log, mount, restore and push then work as before.  A wrong\n"
	"passphrase or a damaged remote: one line, nothing written locally.\n"
	"\n"
	"      --repo DIR       where the repository goes (default $CKPTFS_REPO, else\n"
	"                       ~/.local/share/ckptfs); must not exist or be empty\n"
	"      --key SHEET      the wrapped key from a recovery sheet (ckptfs key\n"
	"                       recovery-sheet), when the remote lost its copy\n"
	"      --passphrase-stdin read the passphrase from standard input\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 recovered, 1 error (nothing written), 2 usage.\n";

struct ask {
	bool from_stdin;
	const char *target;
	struct out_progress prog;
};

static int ask_pass(void *ctx, char **ret, size_t *ret_len)
{
	struct ask *a = ctx;
	char what[4200];
	snprintf(what, sizeof what, "passphrase of %s", a->target);
	return pass_get(what, false, a->from_stdin, ret, ret_len);
}

static void on_progress(void *ctx, const struct remote_progress *p)
{
	struct ask *a = ctx;
	char x[OUT_BUF], y[OUT_BUF];
	out_progress_update(&a->prog, "recover: %llu/%llu packs, %s of %s",
			    (unsigned long long)p->packs_done, (unsigned long long)p->packs_total,
			    out_size(p->bytes_done, x), out_size(p->bytes_total, y));
}

/* The key block of a recovery sheet (or a raw key.wrapped file). */
static int read_sheet(const char *path, uint8_t out[KEYWRAP_BYTES])
{
	FILE *f = fopen(path, "re");
	if (!f)
		return store_failp(-errno, "--key %s", path);
	char line[512], b64[1024] = "";
	size_t n = 0;
	bool in = false, done = false;
	uint8_t raw[KEYWRAP_BYTES + 1];
	size_t rawlen = fread(raw, 1, sizeof raw, f);
	if (rawlen == KEYWRAP_BYTES && !memcmp(raw, "CKPTKEY", 8)) {
		fclose(f);
		memcpy(out, raw, KEYWRAP_BYTES);
		return keywrap_parse(path, out, KEYWRAP_BYTES, NULL);
	}
	rewind(f);
	while (!done && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strcmp(line, KEYSHEET_BEGIN))
			in = true;
		else if (!strcmp(line, KEYSHEET_END))
			done = in;
		else if (in && n + strlen(line) < sizeof b64 - 1)
			n += (size_t)snprintf(b64 + n, sizeof b64 - n, "%s", line);
	}
	fclose(f);
	size_t len = 0;
	if (!done || sodium_base642bin(out, KEYWRAP_BYTES, b64, n, " \t", &len, NULL,
				       sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != KEYWRAP_BYTES)
		return store_fail(-STORE_ECORRUPT, "--key %s: no wrapped key block in it", path);
	return keywrap_parse(path, out, KEYWRAP_BYTES, NULL);
}

int cmd_recover(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"repo", required_argument, NULL, 'r'},
		{"key", required_argument, NULL, 'k'},
		{"passphrase-stdin", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *repo_arg = NULL, *key_arg = NULL;
	struct ask a = {0};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': repo_arg = optarg; break;
		case 'k': key_arg = optarg; break;
		case 'S': a.from_stdin = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("recover", c, optopt, argv, optind);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("recover", optind >= argc ? "which TARGET?"
								 : "one TARGET only");
	char *path = NULL, *target = NULL, cwd[PATH_MAX];
	uint8_t wrapped[KEYWRAP_BYTES];
	int r = 0;
	if (repo_arg)
		path = strdup(repo_arg);
	else
		r = repo_default_path(&path);
	const char *t = argv[optind];
	if (r == 0 && path && path[0] != '/' && getcwd(cwd, sizeof cwd)) {
		char *abs = NULL;
		if (asprintf(&abs, "%s/%s", cwd, path) > 0) {
			free(path);
			path = abs;
		}
	}
	if (strncmp(t, "rclone:", 7) && t[0] != '/' && getcwd(cwd, sizeof cwd)) {
		if (asprintf(&target, "%s/%s", cwd, t) < 0)
			target = NULL;
	} else {
		target = strdup(t);
	}
	if (r == 0 && (!path || !target))
		r = store_fail(-ENOMEM, "out of memory");
	if (r == 0 && key_arg)
		r = read_sheet(key_arg, wrapped);
	if (r < 0) {
		free(path);
		free(target);
		return out_store_err(r, "recover");
	}
	a.target = target;
	out_progress_init(&a.prog, false);
	struct recover_opts o = {.target = target, .repo_path = path,
				 .wrapped = key_arg ? wrapped : NULL, .passphrase = ask_pass,
				 .progress = on_progress, .ctx = &a};
	struct recover_result res = {0};
	int64_t t0 = out_mono_ns();
	r = remote_recover(&o, &res);
	out_progress_clear(&a.prog);
	int st = EXIT_OK;
	if (r < 0) {
		st = out_store_err(r, "recover");
	} else {
		char x[OUT_BUF], y[OUT_BUF], z[OUT_BUF], w[OUT_BUF], d[OUT_BUF];
		printf("recovered %s: %s packs, %s, %s projects, %s snapshots, %s; remote %s added\n",
		       path, out_count(res.packs, x), out_size(res.bytes, y),
		       out_count(res.projects, z), out_count(res.snapshots, w),
		       out_duration(out_mono_ns() - t0, d), res.remote);
	}
	sodium_memzero(wrapped, sizeof wrapped);
	free(path);
	free(target);
	return st;
}
