/* cmd_key.c — ckptfs key passphrase | recovery-sheet: the passphrase-wrapped
 * copy of the master key (store/repokey.h) and the sheet that, with the
 * passphrase and a remote, gets everything back. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/keysheet.h"
#include "src/output.h"
#include "src/passphrase.h"
#include "store/err.h"
#include "store/keywrap.h"
#include "store/repo.h"
#include "store/repokey.h"

static const char usage_text[] =
	"usage: ckptfs key passphrase [--require] [--passphrase-stdin]\n"
	"       ckptfs key recovery-sheet\n"
	"\n"
	"passphrase     seal the master key under a passphrase (Argon2id, about\n"
	"               half a second to open on this machine) into key.wrapped,\n"
	"               beside the plain key; run again to change it.  The wrapped\n"
	"               key is what push copies to remotes; the plain key never\n"
	"               leaves the machine.  The passphrase is asked twice on the\n"
	"               terminal, or read from $CKPTFS_PASSPHRASE_FILE.\n"
	"recovery-sheet print what a person needs to recover with nothing but a\n"
	"               remote and the passphrase: repository id, wrapped key,\n"
	"               remotes, the steps.  Print it; keep it off this machine.\n"
	"\n"
	"      --require          also remove the plain key: every command then\n"
	"                         asks for the passphrase (without it, passphrase\n"
	"                         puts the plain key back)\n"
	"      --passphrase-stdin read the new passphrase from standard input\n"
	"  -h, --help             this help\n"
	"\n"
	"Exit status: 0 done, 1 error, 2 usage, 4 repository locked.\n";

/* Argon2id cost for ~0.7 s ($CKPTFS_KEYWRAP_MS overrides it, for tests). */
static int tune(struct keywrap_params *ret)
{
	unsigned ms = 700;
	const char *e = getenv("CKPTFS_KEYWRAP_MS");
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (*end || v < 1 || v > 60000)
			return store_fail(-EINVAL, "CKPTFS_KEYWRAP_MS=%s: not a number of ms", e);
		ms = (unsigned)v;
	}
	return keywrap_tune(ms, ret);
}

static int existing_repo(struct repo **ret)
{
	char *path = NULL;
	struct stat st;
	int r = repo_default_path(&path);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		r = store_fail(-ENOENT, "no repository at %s (take a snapshot first: ckptfs snap)",
			       path);
		free(path);
		return r;
	}
	free(path);
	return cli_open_repo(REPO_WRITE, ret);
}

static int set_passphrase(bool require, bool from_stdin)
{
	struct repo *repo = NULL;
	struct keywrap_params p;
	char *pass = NULL;
	size_t len = 0;
	int r = existing_repo(&repo);
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = pass_get("new passphrase", true, from_stdin, &pass, &len)) < 0 ||
	    (r = tune(&p)) < 0 || (r = repokey_set_passphrase(repo, pass, len, &p, require)) < 0) {
		pass_free(pass, len);
		int st = out_store_err(r, "key");
		repo_close(repo);
		return st;
	}
	pass_free(pass, len);
	printf("key: passphrase set (Argon2id, %u passes over %u MiB); %s\n", p.opslimit,
	       p.memlimit_kib / 1024,
	       require ? "the plain key is removed: every command asks for the passphrase"
		       : "the plain key stays for local use");
	repo_close(repo);
	return EXIT_OK;
}

static int recovery_sheet(void)
{
	struct repo *repo = NULL;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	r = keysheet_print(stdout, repo);
	int st = r < 0 ? out_store_err(r, "recovery sheet") : EXIT_OK;
	repo_close(repo);
	return st;
}

int cmd_key(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"require", no_argument, NULL, 'R'},
		{"passphrase-stdin", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool require = false, from_stdin = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'R': require = true; break;
		case 'S': from_stdin = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("key", c, optopt, argv, optind);
		}
	}
	if (optind >= argc)
		return cli_usage_error("key", "which: passphrase or recovery-sheet");
	const char *verb = argv[optind++];
	if (optind < argc)
		return cli_usage_error("key", "unexpected argument '%s'", argv[optind]);
	if (!strcmp(verb, "passphrase"))
		return set_passphrase(require, from_stdin);
	if (require || from_stdin)
		return cli_usage_error("key", "--require and --passphrase-stdin are for passphrase");
	if (!strcmp(verb, "recovery-sheet"))
		return recovery_sheet();
	return cli_usage_error("key", "no verb '%s' (passphrase or recovery-sheet)", verb);
}
