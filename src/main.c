/* main.c — the ckptfs command: dispatch to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "src/commands.h"
#include "src/complete.h"
#include "src/output.h"
#include "src/passphrase.h"
#include "store/repokey.h"

/* One line per command; usage lists exactly these. */
static const struct command commands[] = {
	{"snap", cmd_snap, "take a snapshot of a project"},
	{"run", cmd_run, "take a snapshot, then run a command (fails closed)"},
	{"log", cmd_log, "list the snapshots of a project, newest first"},
	{"projects", cmd_projects, "list every registered project"},
	{"show", cmd_show, "show one snapshot: why, what, what changed"},
	{"search", cmd_search, "find paths by glob in every snapshot of every project"},
	{"diff", cmd_diff, "what changed: snapshot vs working tree, or two snapshots"},
	{"versions", cmd_versions, "every distinct version of a file, with its snapshots"},
	{"restore", cmd_restore, "bring files back from a snapshot"},
	{"forget", cmd_forget, "move snapshots to the trash, by a keep policy or by name"},
	{"trash", cmd_trash, "list forgotten snapshots, restore them, or empty the trash"},
	{"check", cmd_check, "verify the repository (--read-data: every blob), --repair it"},
	{"gc", cmd_gc, "delete data no snapshot needs, rewrite sparse packs (--dry-run)"},
	{"key", cmd_key, "wrap the master key with a passphrase; print a recovery sheet"},
	{"remote", cmd_remote, "add, list or remove offsite copies (a directory, rclone:...)"},
	{"push", cmd_push, "send every remote what it lacks (packs, wrapped key, manifest)"},
	{"recover", cmd_recover, "rebuild the repository from a remote (new machine)"},
	{"status", cmd_status, "is every project backed up? (stale, failing; exit 1 if not)"},
	{"schedule", cmd_schedule, "run snap --all on a timer (systemd user timer, or cron)"},
	{"watch", cmd_watch, "take a snapshot whenever the project goes quiet"},
	{"mount", cmd_mount, "show every snapshot as a read-only folder tree"},
	{"umount", cmd_umount, "unmount a ckptfs mount"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: ckptfs <command> [options]\n"
	      "       ckptfs --help | --version\n"
	      "       ckptfs help <command>\n"
	      "\n"
	      "Snapshots of developer project folders, deduplicated, in one repository\n"
	      "($CKPTFS_REPO, else $XDG_DATA_HOME/ckptfs, else ~/.local/share/ckptfs).\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].name)
			fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'ckptfs <command> --help' describes a command; man ckptfs has it all.\n", f);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].name && !strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("ckptfs %s\n", CKPTFS_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(name, "help")) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		const struct command *c = find(argv[2]);
		if (!c) {
			out_err("help: no command '%s' (see ckptfs --help)", argv[2]);
			return EXIT_USAGE;
		}
		char *help_argv[] = {argv[2], (char *)"--help", NULL};
		return c->run(2, help_argv);
	}
	if (!strcmp(name, "__complete")) /* for the shell scripts; not a command */
		return complete_run(commands, NCOMMANDS, argc - 1, argv + 1);
	/* A repository whose plain key was removed (key passphrase --require)
	 * asks for its passphrase on open. */
	repokey_set_pass_source(pass_repo_source);
	const struct command *c = find(name);
	if (!c) {
		if (name[0] == '-')
			out_err("%s: unknown option (see ckptfs --help)", name);
		else
			out_err("%s: no such command (see ckptfs --help)", name);
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
