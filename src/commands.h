/* commands.h — the subcommands of ckptfs.
 *
 * Each command is one function in its own file, src/cmd_<name>.c, called
 * with argv[0] = "<name>" and the command's own arguments.  It parses them
 * with getopt_long, prints its usage for --help (on stdout, status 0) and
 * for bad arguments (on stderr, status 2), and returns an exit status from
 * output.h (EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL, EXIT_LOCKED).
 *
 * To add a command: declare it here and add one line to the table in
 * src/main.c.
 */
#ifndef CKPTFS_SRC_COMMANDS_H
#define CKPTFS_SRC_COMMANDS_H

#define CKPTFS_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for `ckptfs --help` */
};

int cmd_snap(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_projects(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_versions(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_trash(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_remote(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_recover(int argc, char **argv);

#endif
