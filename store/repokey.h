/* repokey.h — the repository's key files, plain and passphrase-wrapped.
 *
 *   key          the plain master key (keys.h, kind 0), mode 0600
 *   key.wrapped  the same master key sealed under a passphrase (keywrap.h,
 *                kind 1), written by `ckptfs key passphrase`
 *
 * The wrapped form is what leaves the machine (remotes, the recovery
 * sheet).  The plain key stays by default so that snapshots from a timer
 * or a watcher, mount and restore never stop to ask for a passphrase: on
 * the machine itself the key sits next to the data it opens, so a
 * passphrase there protects little beyond what the file mode does, and a
 * forgotten one would lock the owner out of their own backups.  A user
 * who wants it anyway removes the plain key (`key passphrase --require`);
 * every open then unwraps key.wrapped with the passphrase from the
 * source registered below (the CLI: CKPTFS_PASSPHRASE_FILE or the
 * terminal).
 */
#ifndef CKPTFS_STORE_REPOKEY_H
#define CKPTFS_STORE_REPOKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"
#include "store/keywrap.h"

#define REPOKEY_PLAIN "key"
#define REPOKEY_WRAPPED "key.wrapped"

struct repo;

/* Where a passphrase comes from when the plain key is gone: fill a
 * malloc'd *ret_pass of *ret_len bytes (caller wipes and frees), or fail
 * with a recorded message.  what names the file ("key.wrapped of
 * repository PATH").  Set once by the program before any repo_open; NULL
 * (the default) means "no way to ask": such a repository fails to open
 * with a message saying so. */
typedef int (*repokey_pass_fn)(const char *what, char **ret_pass, size_t *ret_len);
void repokey_set_pass_source(repokey_pass_fn fn);

/* Load the keys of the repository open at dirfd (path for messages): the
 * plain key, else key.wrapped unwrapped with a passphrase from the
 * source.  -EACCES for a wrong passphrase. */
int repokey_load(int dirfd, const char *path, struct keys *ret);

/* Read key.wrapped of the repository (checked with keywrap_parse).
 * -ENOENT (with a message saying to run `ckptfs key passphrase`) if none. */
int repokey_read_wrapped(struct repo *repo, uint8_t ret_buf[KEYWRAP_BYTES]);

/* Whether the plain key file is absent (key passphrase --require). */
bool repokey_required(struct repo *repo);

/* Seal the repository's master key under pass with params p, write it as
 * key.wrapped (temp, fsync, rename, fsync of the directory; 0600), then
 * with require remove the plain key (only once the wrapped one is
 * durable), without it write the plain key back if it was removed.  The
 * repository must be open REPO_WRITE. */
int repokey_set_passphrase(struct repo *repo, const char *pass, size_t passlen,
			   const struct keywrap_params *p, bool require);

/* The repository id (keys_repo_id) of an open repository. */
void repokey_repo_id(struct repo *repo, char out[KEYS_REPO_ID_LEN + 1]);

#endif
