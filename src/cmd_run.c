/* cmd_run.c — ckptfs run: a snapshot first, then the command; fail closed.
 *
 * The snapshot is committed and the repository closed (its lock released)
 * before CMD starts, so CMD can never outrun it and may itself call
 * ckptfs.  Without --after, run execs CMD in its own place: same pid,
 * stdin/stdout/stderr, environment and directory, and CMD's exit status or
 * signal is the caller's to see directly.  With --after, run waits for CMD
 * as a shell does (ignoring the terminal's SIGINT/SIGQUIT, which reach CMD
 * anyway; passing SIGTERM/SIGHUP on to it), then takes the second snapshot.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "src/project.h"
#include "src/shquote.h"
#include "src/take.h"
#include "store/err.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs run [-m MSG] [-t TAG] [-q] [--after] [--best-effort] -- CMD [ARGS...]\n"
	"\n"
	"Take a snapshot of the project containing the current directory, then run\n"
	"CMD in its place (same stdin/stdout/stderr, environment and directory) and\n"
	"exit with CMD's status (128+N when a signal N ended it).  Fail closed: when\n"
	"no snapshot could be taken (error, repository locked or unusable, a\n"
	"database not captured), CMD is not run.\n"
	"\n"
	"  -m, --message MSG    say why (default: the command line, shell-quoted)\n"
	"  -t, --tag TAG        the snapshot's tag (default: run)\n"
	"  -q, --quiet          no line about the snapshot (errors are still printed)\n"
	"      --after          another snapshot when CMD has exited, tagged run-after\n"
	"                       (ckptfs show of it lists what CMD changed)\n"
	"      --best-effort    run CMD even when the snapshot failed (with a warning)\n"
	"  -h, --help           this help\n"
	"\n"
	"A snapshot that is partial only because some paths could not be read counts\n"
	"as taken (a line says so); one that lacks a database does not.\n"
	"\n"
	"Exit status: CMD's; else 1 no snapshot (CMD not run), 2 usage, 3 snapshot\n"
	"written but a database not captured (CMD not run), 4 repository locked\n"
	"(CMD not run), 126 CMD not executable, 127 CMD not found.\n";

struct run_opts {
	const char *message, *tag;
	bool quiet, after, best_effort;
	char **cmd; /* NULL-terminated */
	int ncmd;
};

/* Take one snapshot of the project at root.  Returns EXIT_OK when it
 * counts as taken, else the exit status saying why not (already printed). */
static int snap_once(const char *root, const char *message, const char *tag, bool quiet)
{
	struct take_req req = {.root = root, .message = message, .tag = tag, .quiet = quiet};
	struct take_result res = {0};
	struct repo *repo = NULL;
	int r, status;

	if ((r = cli_open_repo(REPO_WRITE, &repo)) < 0)
		return out_store_err(r, "repository");
	r = take_snapshot(repo, &req, &res);
	repo_close(repo);
	if (r < 0)
		return out_store_err(r, "snapshot");
	if (res.db_problems) {
		/* The problems were printed; the snapshot is there but lacks
		 * what a migration is most likely to break. */
		out_err("run: snapshot %s lacks %zu %s", res.snap.name, res.db_problems,
			res.db_problems == 1 ? "database" : "databases");
		status = EXIT_PARTIAL;
	} else {
		if (res.partial)
			out_err("run: snapshot %s is partial (%llu %s not stored as they are); "
				"every database was captured, so it counts",
				res.snap.name, (unsigned long long)res.warnings,
				res.warnings == 1 ? "path" : "paths");
		else if (!quiet)
			out_err("run: snapshot %s of %s taken", res.snap.name, res.project.name);
		status = EXIT_OK;
	}
	if (!quiet && status == EXIT_OK)
		dumper_notes_print(stderr, res.snap.notes);
	take_result_clear(&res);
	return status;
}

/* The exit status a shell gives for a command it could not exec. */
static int exec_failed(const char *cmd, int err)
{
	out_err("run: %s: %s", cmd, strerror(err));
	return err == ENOENT ? 127 : 126;
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* Fork CMD, wait for it, and return its status as a shell would. */
static int run_and_wait(char **cmd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward}, old[4];
	static const int sigs[4] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
	int wstatus;

	fflush(NULL);
	sigemptyset(&fwd.sa_mask);
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], i < 2 ? &ign : &fwd, &old[i]);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		out_err("run: fork: %s", strerror(err));
		return EXIT_ERROR;
	}
	if (pid == 0) {
		for (int i = 0; i < 4; i++)
			sigaction(sigs[i], &old[i], NULL);
		execvp(cmd[0], cmd);
		_exit(exec_failed(cmd[0], errno));
	}
	child_pid = pid;
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return EXIT_ERROR;
	child_pid = 0;
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus);
}

/* The snapshot after CMD: its failure is reported, CMD's status stands. */
static void snap_after(const char *root, const char *cmdline, int status, bool quiet)
{
	char *msg = NULL;
	if (asprintf(&msg, "after: %s (exit %d)", cmdline, status) < 0) {
		out_err("run: out of memory");
		return;
	}
	if (snap_once(root, msg, "run-after", quiet) != EXIT_OK)
		out_err("run: the snapshot after the command was not taken as it should");
	free(msg);
}

static int run(const struct run_opts *o)
{
	char *root = NULL, *cmdline = NULL;
	int r, status;

	if ((r = proj_find_root(".", &root)) < 0)
		return out_store_err(r, "run");
	if (!(cmdline = shquote_argv(o->ncmd, o->cmd))) {
		out_err("run: out of memory");
		status = EXIT_ERROR;
		goto out;
	}
	status = snap_once(root, o->message ? o->message : cmdline, o->tag ? o->tag : "run",
			   o->quiet);
	if (status != EXIT_OK) {
		if (!o->best_effort) {
			out_err("run: not running %s: %s", cmdline,
				status == EXIT_PARTIAL ? "not every database was captured"
						       : "no snapshot to go back to");
			goto out;
		}
		out_err("run: running %s without a usable snapshot (--best-effort)", cmdline);
	}
	if (!o->after) {
		fflush(NULL);
		execvp(o->cmd[0], o->cmd);
		status = exec_failed(o->cmd[0], errno);
		goto out;
	}
	status = run_and_wait(o->cmd);
	snap_after(root, cmdline, status, o->quiet);
out:
	free(cmdline);
	free(root);
	return status;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"message", required_argument, NULL, 'm'},
		{"tag", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{"after", no_argument, NULL, 'A'},
		{"best-effort", no_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct run_opts o = {0};
	int c;

	optind = 0;
	opterr = 0;
	/* '+': options end at the first word that is not one, so CMD's own
	 * options are never taken for run's. */
	while ((c = getopt_long(argc, argv, "+:m:t:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.message = optarg; break;
		case 't': o.tag = optarg; break;
		case 'q': o.quiet = true; break;
		case 'A': o.after = true; break;
		case 'B': o.best_effort = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("run", c, optopt, argv, optind);
		}
	}
	if (optind < 1 || strcmp(argv[optind - 1], "--") != 0 || optind >= argc) {
		if (optind < argc)
			return cli_usage_error("run", "put -- before the command: ckptfs run -- %s ...",
					       argv[optind]);
		return cli_usage_error("run", "no command to run after --");
	}
	if (o.tag && !*o.tag)
		return cli_usage_error("run", "--tag: empty");
	o.cmd = argv + optind;
	o.ncmd = argc - optind;
	return run(&o);
}
