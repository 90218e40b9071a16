/* keys.h — the repository master key and the subkeys derived from it.
 *
 * The key file holds a random 32-byte master key (mode 0600).  Subkeys are
 * derived with libsodium's crypto_kdf, one per purpose, so the id key and
 * the sealing key are independent.
 */
#ifndef CKPTFS_STORE_KEYS_H
#define CKPTFS_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "store/id.h"

#define KEY_BYTES 32

struct keys {
	uint8_t master[KEY_BYTES];   /* the random master key (to wrap it) */
	uint8_t id_key[KEY_BYTES];   /* BLAKE2b key for blob ids */
	uint8_t seal_key[KEY_BYTES]; /* XChaCha20-Poly1305 key for blobs */
};

/* Create a new key file at path (O_EXCL, 0600, fsynced) holding a fresh
 * random master key; derive the subkeys into *ret. */
int keyfile_create(int dirfd, const char *name, struct keys *ret);

/* Load and verify a key file; derive the subkeys.  STORE_ECORRUPT for a
 * damaged file, -EPERM if it is readable by group or others. */
int keyfile_load(int dirfd, const char *name, struct keys *ret);

/* Parse key file bytes (the fuzzable part of keyfile_load). */
int keyfile_parse(const uint8_t *buf, size_t len, struct keys *ret);

/* Derive the subkeys of master into *ret (ret->master = master). */
void keys_derive(const uint8_t master[KEY_BYTES], struct keys *ret);

/* Write a plain key file (kind 0) holding k->master at name under dirfd:
 * temp name name.tmp, fsync, rename, fsync of the directory; mode 0600.
 * For recover and for taking back `key passphrase --require`. */
int keyfile_write(int dirfd, const char *name, const struct keys *k);

/* The repository id: 32 hex characters (and NUL) derived from the id key,
 * so it is stable for the key's life, the same on every copy and says
 * nothing about the key.  Printed on the recovery sheet, kept in remote
 * manifests so a push never mixes two repositories on one remote. */
#define KEYS_REPO_ID_LEN 32
void keys_repo_id(const struct keys *k, char out[KEYS_REPO_ID_LEN + 1]);

/* Keyed BLAKE2b-256 of data. */
void keys_blob_id(const struct keys *k, const void *data, size_t len, blob_id *ret);

/* Wipe key material. */
void keys_wipe(struct keys *k);

#endif
