/* blob.c — the blob codec: zstd, then XChaCha20-Poly1305 (see blob.h).
 *
 * Stored form:  nonce[24] || ciphertext of (codec[1] || payload) || tag[16]
 * The associated data is id[32] || type[1], so a blob cannot be moved to
 * another id or reinterpreted as another type without failing to open.
 * The payload is compressed straight into the output buffer with a
 * capacity of len - 1 bytes: zstd then fails exactly when compression
 * would not shrink the data, and the blob is stored raw instead.  So a
 * sealed blob is never larger than BLOB_OVERHEAD + len.
 */
#include "store/blob.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store/err.h"

#define CODEC_RAW 0
#define CODEC_ZSTD 1
#define AD_BYTES (ID_BYTES + 1)

struct blob_codec {
	struct keys keys;
	int level;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

_Static_assert(BLOB_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(BLOB_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

int blob_codec_new(const struct keys *k, int zstd_level, struct blob_codec **ret)
{
	if (sodium_init() < 0)
		return store_fail(-ENOSYS, "libsodium: initialisation failed");
	struct blob_codec *c = calloc(1, sizeof *c);
	if (!c)
		return store_fail(-ENOMEM, "blob codec: out of memory");
	c->keys = *k;
	c->level = zstd_level;
	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx) {
		blob_codec_free(c);
		return store_fail(-ENOMEM, "blob codec: cannot allocate zstd contexts");
	}
	*ret = c;
	return 0;
}

void blob_codec_free(struct blob_codec *c)
{
	if (!c)
		return;
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	keys_wipe(&c->keys);
	free(c);
}

size_t blob_sealed_bound(size_t len)
{
	return BLOB_OVERHEAD + len;
}

static void make_ad(uint8_t ad[AD_BYTES], const blob_id *id, uint8_t type)
{
	memcpy(ad, id->b, ID_BYTES);
	ad[ID_BYTES] = type;
}

int blob_seal(struct blob_codec *c, const blob_id *id, uint8_t type, const void *plain,
	      size_t len, uint8_t *out, size_t *ret_len)
{
	return blob_seal_level(c, 0, id, type, plain, len, out, ret_len);
}

int blob_seal_level(struct blob_codec *c, int level, const blob_id *id, uint8_t type,
		    const void *plain, size_t len, uint8_t *out, size_t *ret_len)
{
	char hex[ID_HEX_LEN + 1];
	if (len > BLOB_MAX_RAW) {
		id_to_hex(id, hex);
		return store_fail(-EFBIG, "blob %s: %zu bytes is over the %u byte limit", hex, len,
				  BLOB_MAX_RAW);
	}
	uint8_t *nonce = out, *msg = out + BLOB_NONCE_BYTES, *payload = msg + 1;
	size_t plen = len;
	msg[0] = CODEC_RAW;
	if (len > 1) {
		size_t z = ZSTD_compressCCtx(c->cctx, payload, len - 1, plain, len,
					     level ? level : c->level);
		if (!ZSTD_isError(z)) {
			msg[0] = CODEC_ZSTD;
			plen = z;
		}
	}
	if (msg[0] == CODEC_RAW && len > 0)
		memcpy(payload, plain, len);

	uint8_t ad[AD_BYTES];
	make_ad(ad, id, type);
	randombytes_buf(nonce, BLOB_NONCE_BYTES);
	unsigned long long clen;
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg, &clen, msg, 1 + plen, ad, sizeof ad, NULL,
						   nonce, c->keys.seal_key);
	*ret_len = BLOB_NONCE_BYTES + (size_t)clen;
	return 0;
}

int blob_open(struct blob_codec *c, const blob_id *id, uint8_t type, const uint8_t *stored,
	      size_t stored_len, size_t expect_raw, uint8_t **ret_plain, size_t *ret_len)
{
	return blob_open_flags(c, id, type, stored, stored_len, expect_raw, 0, ret_plain, ret_len);
}

static int check_sizes(const char *hex, size_t stored_len, size_t expect_raw)
{
	if (stored_len < BLOB_OVERHEAD)
		return store_fail(-STORE_ECORRUPT, "blob %s: truncated (%zu bytes)", hex, stored_len);
	if (stored_len > BLOB_OVERHEAD + BLOB_MAX_RAW)
		return store_fail(-STORE_ECORRUPT, "blob %s: impossible size %zu", hex, stored_len);
	if (expect_raw > BLOB_MAX_RAW)
		return store_fail(-STORE_ECORRUPT, "blob %s: impossible raw size %zu", hex,
				  expect_raw);
	return 0;
}

/* Decrypt stored into msg (msg may be stored + BLOB_NONCE_BYTES: in
 * place); *ret_mlen is the length of codec byte + payload. */
static int decrypt(struct blob_codec *c, const char *hex, const blob_id *id, uint8_t type,
		   const uint8_t *stored, size_t stored_len, uint8_t *msg, size_t *ret_mlen)
{
	uint8_t ad[AD_BYTES];
	make_ad(ad, id, type);
	unsigned long long mlen;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    msg, &mlen, NULL, stored + BLOB_NONCE_BYTES, stored_len - BLOB_NONCE_BYTES, ad,
		    sizeof ad, stored, c->keys.seal_key) != 0)
		return store_fail(-STORE_ECORRUPT, "blob %s: authentication failed", hex);
	*ret_mlen = (size_t)mlen;
	return 0;
}

/* From the decrypted message at msg + skip (codec byte, payload) in the
 * malloc'd buffer base, which this takes over: decompress, check, and
 * return the plaintext (base itself for raw blobs, else base is freed). */
static int finish(struct blob_codec *c, const char *hex, const blob_id *id, uint8_t type,
		  uint8_t *base, size_t skip, size_t mlen, size_t expect_raw, unsigned flags,
		  uint8_t **ret_plain, size_t *ret_len)
{
	const uint8_t *msg = base + skip;
	const uint8_t *payload = msg + 1;
	size_t plen = mlen - 1;
	uint8_t *plain;
	size_t len;
	int r;
	if (msg[0] == CODEC_RAW) {
		if (expect_raw && plen != expect_raw) {
			r = store_fail(-STORE_ECORRUPT, "blob %s: %zu bytes, index says %zu", hex, plen,
				       expect_raw);
			goto fail_base;
		}
		/* Reuse the buffer for the result. */
		memmove(base, payload, plen);
		plain = base;
		len = plen;
		base = NULL;
	} else if (msg[0] == CODEC_ZSTD) {
		unsigned long long fcs = ZSTD_getFrameContentSize(payload, plen);
		if (fcs == ZSTD_CONTENTSIZE_ERROR || fcs == ZSTD_CONTENTSIZE_UNKNOWN) {
			r = store_fail(-STORE_ECORRUPT, "blob %s: bad zstd frame header", hex);
			goto fail_base;
		}
		if (fcs > BLOB_MAX_RAW || (expect_raw && fcs != expect_raw)) {
			r = store_fail(-STORE_ECORRUPT, "blob %s: zstd frame of %llu bytes, expected %zu",
				       hex, fcs, expect_raw);
			goto fail_base;
		}
		len = (size_t)fcs;
		plain = malloc(len ? len : 1);
		if (!plain) {
			r = store_fail(-ENOMEM, "blob %s: out of memory", hex);
			goto fail_base;
		}
		size_t z = ZSTD_decompressDCtx(c->dctx, plain, len, payload, plen);
		if (ZSTD_isError(z) || z != len) {
			free(plain);
			r = store_fail(-STORE_ECORRUPT, "blob %s: decompression failed (%s)", hex,
				       ZSTD_isError(z) ? ZSTD_getErrorName(z) : "size mismatch");
			goto fail_base;
		}
	} else {
		r = store_fail(-STORE_ECORRUPT, "blob %s: unknown codec %u", hex, msg[0]);
		goto fail_base;
	}
	free(base);

	/* Pack indexes have no content id (id all zero); everything else must
	 * hash back to its id, or the wrong data would be returned — unless
	 * the caller relies on the authentication alone (see blob.h). */
	if (type != BLOB_PACK_INDEX && !(flags & BLOB_OPEN_NO_REHASH)) {
		blob_id got;
		keys_blob_id(&c->keys, plain, len, &got);
		if (!id_equal(&got, id)) {
			free(plain);
			return store_fail(-STORE_ECORRUPT, "blob %s: content does not match its id",
					  hex);
		}
	}
	*ret_plain = plain;
	*ret_len = len;
	return 0;

fail_base:
	free(base);
	return r;
}

int blob_open_flags(struct blob_codec *c, const blob_id *id, uint8_t type, const uint8_t *stored,
		    size_t stored_len, size_t expect_raw, unsigned flags, uint8_t **ret_plain,
		    size_t *ret_len)
{
	char hex[ID_HEX_LEN + 1];
	id_to_hex(id, hex);
	int r = check_sizes(hex, stored_len, expect_raw);
	if (r < 0)
		return r;
	uint8_t *msg = malloc(stored_len - BLOB_NONCE_BYTES - BLOB_TAG_BYTES);
	if (!msg)
		return store_fail(-ENOMEM, "blob %s: out of memory", hex);
	size_t mlen;
	r = decrypt(c, hex, id, type, stored, stored_len, msg, &mlen);
	if (r < 0) {
		free(msg);
		return r;
	}
	return finish(c, hex, id, type, msg, 0, mlen, expect_raw, flags, ret_plain, ret_len);
}

int blob_open_take(struct blob_codec *c, const blob_id *id, uint8_t type, uint8_t *stored,
		   size_t stored_len, size_t expect_raw, unsigned flags, uint8_t **ret_plain,
		   size_t *ret_len)
{
	char hex[ID_HEX_LEN + 1];
	id_to_hex(id, hex);
	int r = check_sizes(hex, stored_len, expect_raw);
	size_t mlen;
	if (r == 0)
		r = decrypt(c, hex, id, type, stored, stored_len, stored + BLOB_NONCE_BYTES, &mlen);
	if (r < 0) {
		free(stored);
		return r;
	}
	return finish(c, hex, id, type, stored, BLOB_NONCE_BYTES, mlen, expect_raw, flags,
		      ret_plain, ret_len);
}
