/* complete.c — see complete.h. */
#include "src/complete.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/cli.h"
#include "store/catalog.h"
#include "store/repo.h"

static void offer(const char *cand, const char *cur)
{
	if (!strncmp(cand, cur, strlen(cur)))
		printf("%s\n", cand);
}

/* The options named in `ckptfs CMD --help`, read from a child so the text
 * is exactly what the user sees and no command code runs in this process. */
static void offer_options(const struct command *c, const char *cur)
{
	int fd[2];
	if (pipe(fd) < 0)
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return;
	}
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[1]);
		char *argv[] = {(char *)c->name, (char *)"--help", NULL};
		int rc = c->run(2, argv);
		fflush(stdout);
		_exit(rc == 0 ? 0 : 1);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	if (!f) {
		close(fd[0]);
		waitpid(pid, NULL, 0);
		return;
	}
	char line[1024], seen[4096] = " ";
	while (fgets(line, sizeof line, f)) {
		if (line[0] != ' ')
			continue; /* options are the indented lines */
		for (char *p = line; (p = strchr(p, '-'));) {
			bool at_word = p == line || p[-1] == ' ' || p[-1] == ',';
			size_t n = 1;
			if (p[1] == '-')
				n = 2;
			while (isalnum((unsigned char)p[n]) || (n > 2 && p[n] == '-'))
				n++;
			bool ok = at_word && ((n == 2 && p[1] != '-') || n > 3);
			if (ok && (p[n] == '\0' || p[n] == ' ' || p[n] == ',' || p[n] == '=' ||
				   p[n] == '[' || p[n] == '\n')) {
				char opt[66];
				if (n + 2 < sizeof opt) {
					/* " --opt " in seen: the usage line and the list
					 * below it name the same options. */
					opt[0] = ' ';
					memcpy(opt + 1, p, n);
					opt[n + 1] = ' ';
					opt[n + 2] = '\0';
					if (!strstr(seen, opt) &&
					    strlen(seen) + n + 1 < sizeof seen) {
						strcat(seen, opt + 1);
						opt[n + 1] = '\0';
						offer(opt + 1, cur);
					}
				}
			}
			p += n;
		}
	}
	fclose(f);
	waitpid(pid, NULL, 0);
}

static void offer_projects(struct repo *repo, const char *cur)
{
	struct project *ps;
	size_t n;
	if (catalog_projects(repo, &ps, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		offer(ps[i].name, cur);
	projects_free(ps, n);
}

/* Names, tags and "latest" of the project given with -p/--project among
 * the words, else of the project containing the current directory. */
static void offer_snapshots(struct repo *repo, int nw, char **w, const char *cur)
{
	const char *name = NULL;
	for (int i = 1; i + 1 < nw; i++)
		if (!strcmp(w[i], "-p") || !strcmp(w[i], "--project"))
			name = w[i + 1];
	struct project p;
	if (cli_find_project(repo, NULL, name, &p) < 0)
		return;
	struct snapshot *ss;
	size_t n;
	if (catalog_snapshots(repo, p.id, &ss, &n) == 0) {
		offer("latest", cur);
		for (size_t i = 0; i < n; i++) {
			offer(ss[i].name, cur);
			if (ss[i].tag && ss[i].tag[0])
				offer(ss[i].tag, cur);
		}
		snapshots_free(ss, n);
	}
	project_clear(&p);
}

/* Which kind of value the word under the cursor is, from the word before
 * it and the command: projects, snapshots, or nothing (files). */
enum want { WANT_FILES, WANT_PROJECTS, WANT_SNAPSHOTS };

static enum want what_is_wanted(const char *cmd, const char *prev, bool positional)
{
	if (!strcmp(prev, "-p") || !strcmp(prev, "--project"))
		return WANT_PROJECTS;
	if (!strcmp(prev, "--from") || !strcmp(prev, "--since") || !strcmp(prev, "--until"))
		return WANT_SNAPSHOTS;
	/* diff's words are WHENs first; none matching, bash offers files. */
	if (positional && (!strcmp(cmd, "show") || !strcmp(cmd, "diff") || !strcmp(cmd, "forget")))
		return WANT_SNAPSHOTS;
	return WANT_FILES;
}

int complete_run(const struct command *cmds, size_t ncmds, int argc, char **argv)
{
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	int nw = argc - i;
	char **w = argv + i;
	if (nw < 1)
		return 0;
	const char *cur = w[nw - 1];
	if (nw == 1) {
		for (size_t k = 0; k < ncmds; k++)
			if (cmds[k].name)
				offer(cmds[k].name, cur);
		offer("help", cur);
		offer("--help", cur);
		offer("--version", cur);
		return 0;
	}
	const struct command *c = NULL;
	const char *cmd = !strcmp(w[0], "help") ? NULL : w[0];
	for (size_t k = 0; k < ncmds && cmd; k++)
		if (cmds[k].name && !strcmp(cmds[k].name, cmd))
			c = &cmds[k];
	if (!c) {
		if (!strcmp(w[0], "help") && nw == 2)
			for (size_t k = 0; k < ncmds; k++)
				if (cmds[k].name)
					offer(cmds[k].name, cur);
		return 0;
	}
	if (cur[0] == '-') {
		offer_options(c, cur);
		return 0;
	}
	/* Commands whose first word is a verb of their own. */
	static const struct {
		const char *cmd;
		const char *const verbs[4];
	} verbs[] = {{"schedule", {"enable", "disable", "status", NULL}},
		     {"trash", {"list", "restore", "empty", NULL}}};
	for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++) {
		if (strcmp(cmd, verbs[k].cmd))
			continue;
		bool have_verb = false;
		for (int j = 1; j < nw - 1; j++)
			have_verb |= w[j][0] != '-';
		for (size_t v = 0; !have_verb && verbs[k].verbs[v]; v++)
			offer(verbs[k].verbs[v], cur);
		return 0;
	}
	const char *prev = w[nw - 2];
	enum want want = what_is_wanted(cmd, prev, prev[0] != '-' || nw == 2);
	if (want == WANT_FILES)
		return 0;
	/* Completion must never take the writer lock or create a repository. */
	struct repo *repo;
	if (cli_open_repo(REPO_READ, &repo) < 0)
		return 0;
	if (want == WANT_PROJECTS)
		offer_projects(repo, cur);
	else
		offer_snapshots(repo, nw, w, cur);
	repo_close(repo);
	return 0;
}
