/* remote_conf.h — the remotes a repository pushes to, in the file
 * `remotes` beside catalog.db.
 *
 * Kept out of catalog.db on purpose: it is settings, not an index over the
 * packs, and a recover writes it before any catalog exists.  No secrets:
 * an rclone remote is only its name here, rclone keeps its own
 * credentials.  Text, one remote a line:
 *
 *   ckptfs-remotes 1
 *   remote <name> <flags> <target>        flags: "-" or "append-only"
 *
 * A name is 1..32 of [A-Za-z0-9_-]; a target is an absolute directory
 * or rclone:REMOTE:PATH, without control characters.  Written whole
 * (temp, fsync, rename) by the writer (REPO_WRITE holds the lock).
 */
#ifndef CKPTFS_STORE_REMOTE_CONF_H
#define CKPTFS_STORE_REMOTE_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct repo;

#define REMOTE_NAME_MAX 32
#define REMOTE_TARGET_MAX 4096
#define REMOTE_CONF_FILE "remotes"

struct remote {
	char name[REMOTE_NAME_MAX + 1];
	char *target; /* malloc'd */
	bool append_only;
};

struct remote_list {
	struct remote *r;
	size_t n;
};

bool remote_name_ok(const char *name);
/* An absolute path or rclone:REMOTE:PATH (REMOTE non-empty), no control
 * characters, at most REMOTE_TARGET_MAX bytes. */
bool remote_target_ok(const char *target);

/* Parse the file's bytes (fuzzed).  STORE_ECORRUPT naming the line. */
int remote_conf_parse(const char *what, const char *buf, size_t len, struct remote_list *ret);

/* Load repo's remotes (none when the file does not exist). */
int remote_conf_load(struct repo *repo, struct remote_list *ret);

/* Replace the file with list (REPO_WRITE). */
int remote_conf_save(struct repo *repo, const struct remote_list *list);

/* Add a remote (copied); -EEXIST if the name is taken. */
int remote_list_add(struct remote_list *list, const char *name, const char *target,
		    bool append_only);

/* The remote named name, or NULL. */
const struct remote *remote_list_find(const struct remote_list *list, const char *name);

/* Remove by name; -ENOENT if there is none. */
int remote_list_remove(struct remote_list *list, const char *name);

void remote_list_clear(struct remote_list *list);

#endif
