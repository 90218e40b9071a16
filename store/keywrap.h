/* keywrap.h — the master key sealed under a passphrase (key file kind 1).
 *
 * This is the form of the key that may leave the machine (remotes, the
 * recovery sheet): without the passphrase it reveals nothing, and the
 * Argon2id cost stored with it makes guessing slow.  Layout, little endian,
 * KEYWRAP_BYTES in all:
 *
 *   magic "CKPTKEY\0"  u32 version (1)  u32 kind (1)       (as keys.c)
 *   u32 Argon2id opslimit  u32 memlimit in KiB  salt[16]
 *   nonce[24]  XChaCha20-Poly1305(master key[32]) + tag[16]
 *   u64 XXH3-64 of every byte before it
 *
 * The AEAD's associated data is every byte before the nonce, so the stored
 * cost parameters cannot be changed without the open failing.  The XXH3
 * sum tells a damaged file (STORE_ECORRUPT) from a wrong passphrase
 * (-EACCES) before any expensive hashing.
 */
#ifndef CKPTFS_STORE_KEYWRAP_H
#define CKPTFS_STORE_KEYWRAP_H

#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"

#define KEYWRAP_BYTES (16 + 8 + 16 + 24 + KEY_BYTES + 16 + 8)

/* Argon2id cost.  memlimit_kib is bounded on load (KEYWRAP_MEM_MAX_KIB) so
 * a crafted file cannot make the loader allocate without limit. */
struct keywrap_params {
	uint32_t opslimit;
	uint32_t memlimit_kib;
};
#define KEYWRAP_MEM_KIB (64u * 1024)          /* what keywrap_tune uses */
#define KEYWRAP_MEM_MAX_KIB (1024u * 1024)    /* 1 GiB: refused above */
#define KEYWRAP_OPS_MAX 64u

/* Choose params whose unwrapping takes about target_ms on this machine
 * (at least the libsodium interactive minimum), by timing real hashes. */
int keywrap_tune(unsigned target_ms, struct keywrap_params *ret);

/* Seal master under pass with params p into out (random salt and nonce). */
int keywrap_seal(const uint8_t master[KEY_BYTES], const char *pass, size_t passlen,
		 const struct keywrap_params *p, uint8_t out[KEYWRAP_BYTES]);

/* Check the structure of a wrapped key file's bytes (no hashing): 0, or
 * STORE_ECORRUPT / STORE_ENEWER with a message naming what.  *ret_params
 * (may be NULL) gets the stored cost. */
int keywrap_parse(const char *what, const uint8_t *buf, size_t len,
		  struct keywrap_params *ret_params);

/* Parse and open: the master key into ret_master.  -EACCES ("wrong
 * passphrase") if the passphrase does not open it. */
int keywrap_open(const char *what, const uint8_t *buf, size_t len, const char *pass,
		 size_t passlen, uint8_t ret_master[KEY_BYTES])
	__attribute__((warn_unused_result));

#endif
