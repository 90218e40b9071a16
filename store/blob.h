/* blob.h — the blob codec: compress, then seal.
 *
 * Stored form:  nonce[24] || XChaCha20-Poly1305(codec[1] || payload)
 * with the blob id and type as associated data.  codec 0 = raw, 1 = zstd;
 * zstd is used only when it shrinks the data.  Opening authenticates,
 * decompresses and re-computes the id: a blob either comes back exactly as
 * stored or the call fails with STORE_ECORRUPT — never wrong data.
 */
#ifndef CKPTFS_STORE_BLOB_H
#define CKPTFS_STORE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "store/id.h"
#include "store/keys.h"

/* BLOB_SNAPSHOT: a snapshot record (snaprec.h), so the catalog can be rebuilt. */
enum blob_type { BLOB_DATA = 1, BLOB_TREE = 2, BLOB_PACK_INDEX = 3, BLOB_SNAPSHOT = 4 };

#define BLOB_NONCE_BYTES 24
#define BLOB_TAG_BYTES 16
#define BLOB_OVERHEAD (BLOB_NONCE_BYTES + BLOB_TAG_BYTES + 1)
#define BLOB_MAX_RAW (64u * 1024 * 1024) /* trees of huge files stay below this */
#define BLOB_ZSTD_LEVEL 3
/* The level of the bulk of a big file (writer_stream.c says why). */
#define BLOB_ZSTD_LEVEL_BULK 1

/* Per-thread codec state (zstd contexts). */
struct blob_codec;

int blob_codec_new(const struct keys *k, int zstd_level, struct blob_codec **ret);
void blob_codec_free(struct blob_codec *c);

/* Upper bound of the sealed size of len plaintext bytes. */
size_t blob_sealed_bound(size_t len);

/* Seal plain[0..len) with id (its keyed hash) and type; out must hold
 * blob_sealed_bound(len) bytes; *ret_len is the stored size. */
int blob_seal(struct blob_codec *c, const blob_id *id, uint8_t type, const void *plain,
	      size_t len, uint8_t *out, size_t *ret_len);

/* blob_seal at zstd level level instead of the codec's (0 = the codec's).
 * The level changes only the stored bytes, never the id or what opens. */
int blob_seal_level(struct blob_codec *c, int level, const blob_id *id, uint8_t type,
		    const void *plain, size_t len, uint8_t *out, size_t *ret_len);

/* Open a stored blob.  *ret_plain is malloc'd (caller frees).  expect_raw
 * is the plaintext length recorded in the index (0 = unknown). */
int blob_open(struct blob_codec *c, const blob_id *id, uint8_t type, const uint8_t *stored,
	      size_t stored_len, size_t expect_raw, uint8_t **ret_plain, size_t *ret_len)
	__attribute__((warn_unused_result));

/* blob_open_flags: skip the re-computation of the id over the plaintext.
 *
 * Why the hot read path (mount, restore) may: the id and type are the
 * associated data of the AEAD, so a blob that authenticates was sealed by
 * a holder of the key under exactly that id — nobody without the key can
 * make bytes that open under an id, nor move a sealed blob to another id.
 * Everything an attacker without the key can do to a repository (flip,
 * swap, truncate, replay blobs between ids) still fails to open.  What
 * the re-hash adds is an end-to-end check of ckptfs itself: a writer that
 * sealed the wrong bytes under an id (a bug, bad RAM between hashing and
 * sealing) or a decompressor returning other bytes of the right length.
 * That is the job of `ckptfs check --read-data`, which keeps the full
 * check (blob_open / repo_load_blob); reads skip it and cost about 40%
 * less CPU per chunk (keyed BLAKE2b is slower than XChaCha20-Poly1305). */
#define BLOB_OPEN_NO_REHASH 1u

/* blob_open with flags (BLOB_OPEN_*; 0 is exactly blob_open). */
int blob_open_flags(struct blob_codec *c, const blob_id *id, uint8_t type, const uint8_t *stored,
		    size_t stored_len, size_t expect_raw, unsigned flags, uint8_t **ret_plain,
		    size_t *ret_len) __attribute__((warn_unused_result));

/* blob_open_flags on a malloc'd buffer that it takes over, decrypting in
 * place (no second buffer: the hot read path).  On success *ret_plain is
 * stored itself (raw blobs) or a new buffer (stored freed); on failure
 * stored is freed. */
int blob_open_take(struct blob_codec *c, const blob_id *id, uint8_t type, uint8_t *stored,
		   size_t stored_len, size_t expect_raw, unsigned flags, uint8_t **ret_plain,
		   size_t *ret_len) __attribute__((warn_unused_result));

#endif
