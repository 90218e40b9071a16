/* cli.h — what the commands share: opening the repository, finding the
 * project a command is about, turning WHEN into a snapshot, option errors
 * and the JSON form of a snapshot.
 *
 * Functions returning int follow the store's convention (0 or a negative
 * errno with the message recorded by store_fail); the command prints it
 * with out_store_err() and picks the exit status.
 */
#ifndef CKPTFS_SRC_CLI_H
#define CKPTFS_SRC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store/catalog.h"
#include "store/repo.h"

/* Default lock wait, seconds; $CKPTFS_LOCK_WAIT overrides it. */
#define CLI_LOCK_WAIT_S 10

/* Open the default repository (repo_default_path).  REPO_WRITE waits for
 * the writer lock as long as $CKPTFS_LOCK_WAIT says (seconds, fractions
 * allowed; -EINVAL with a message if it is not a number).  REPO_READ on a
 * path with no repository gives -ENOENT with "no repository at PATH (take
 * a snapshot first: ckptfs snap)". */
int cli_open_repo(enum repo_mode mode, struct repo **ret_repo);

/* Say once, on stderr, when this command's reads skipped invalid catalog
 * rows ("ckptfs: warning: invalid catalog rows were skipped (ckptfs check
 * lists them, …)"), then repo_close.
 * With scan, first read every project's snapshots (for mount, whose reads
 * happen later in the serving process).  NULL is a no-op. */
void cli_close_repo(struct repo *repo, bool scan);

/* The project a command is about: by name if name is given, else the
 * registered project containing dir (NULL: the current directory) — the
 * one registered at dir's project root, else the one whose root is the
 * nearest ancestor of dir.  -ENOENT with a message saying how to register
 * it when there is none. */
int cli_find_project(struct repo *repo, const char *dir, const char *name, struct project *ret);

/* The project a PATH argument is about (restore, versions): by name if
 * name is given; for an absolute path, the registered project whose root
 * holds it — found from the path's text, so a file or folder that no longer
 * exists (the usual reason to restore it) still names its project, and the
 * current directory does not matter; else cli_find_project's rule for the
 * current directory. */
int cli_find_project_of_path(struct repo *repo, const char *path, const char *name,
			     struct project *ret);

/* The snapshot WHEN names in project p: "latest" (also when is NULL), an
 * exact snapshot name, a tag, else a time phrase (when.h) meaning the
 * newest snapshot at or before it.  now_ns anchors relative phrases.
 * -ENOENT / -EINVAL with a message naming WHEN. */
int cli_resolve_when(struct repo *repo, const struct project *p, const char *when,
		     int64_t now_ns, struct snapshot *ret);

/* Report a getopt failure ('?' or ':' from an optstring starting with ':')
 * as "ckptfs: <cmd>: …" and return EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, int optopt_value, char **argv, int optind_value);

/* "<cmd>: <why> (see ckptfs <cmd> --help)" and EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The snapshot as a JSON object (no trailing newline). */
void cli_json_snapshot(FILE *f, const struct snapshot *s);

/* "main@0123abc", "0123abc" (detached), "main" (unborn), or "" — into a
 * buffer of at least 128 bytes (branch names are cut to fit). */
const char *cli_git_label(const struct snapshot *s, char buf[128]);

/* "complete", "partial", "damaged". */
const char *cli_status_name(enum snap_status st);

#endif
