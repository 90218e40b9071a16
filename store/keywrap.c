/* keywrap.c — passphrase-wrapped master key (see keywrap.h). */
#include "store/keywrap.h"

#include <sodium.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/le.h"

#define WRAP_MAGIC "CKPTKEY"
#define WRAP_VERSION 1
#define WRAP_KIND 1
#define OFF_OPS 16
#define OFF_MEM 20
#define OFF_SALT 24
#define OFF_NONCE (OFF_SALT + crypto_pwhash_SALTBYTES)
#define OFF_CT (OFF_NONCE + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define CT_BYTES (KEY_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define OFF_SUM (OFF_CT + CT_BYTES)

_Static_assert(OFF_SUM + 8 == KEYWRAP_BYTES, "wrapped key layout");
_Static_assert(crypto_pwhash_SALTBYTES == 16, "salt size");

static int derive_kek(const char *pass, size_t passlen, const uint8_t *salt,
		      const struct keywrap_params *p, uint8_t kek[KEY_BYTES])
{
	if (sodium_init() < 0)
		return store_fail(-ENOSYS, "libsodium: initialisation failed");
	if (crypto_pwhash(kek, KEY_BYTES, pass, passlen, salt, p->opslimit,
			  (size_t)p->memlimit_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return store_fail(-ENOMEM, "passphrase: Argon2id needs %u MiB of memory",
				  p->memlimit_kib / 1024);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int keywrap_tune(unsigned target_ms, struct keywrap_params *ret)
{
	/* One timed hash at the minimum cost; Argon2id's time is linear in
	 * opslimit, so scale from it, then bound. */
	struct keywrap_params p = {crypto_pwhash_OPSLIMIT_INTERACTIVE, KEYWRAP_MEM_KIB};
	uint8_t salt[crypto_pwhash_SALTBYTES] = {0}, kek[KEY_BYTES];
	double t0 = now_ms();
	int r = derive_kek("tune", 4, salt, &p, kek);
	if (r < 0)
		return r;
	double per_op = (now_ms() - t0) / p.opslimit;
	sodium_memzero(kek, sizeof kek);
	if (per_op > 0 && target_ms / per_op > p.opslimit)
		p.opslimit = (uint32_t)(target_ms / per_op);
	if (p.opslimit > KEYWRAP_OPS_MAX)
		p.opslimit = KEYWRAP_OPS_MAX;
	*ret = p;
	return 0;
}

int keywrap_seal(const uint8_t master[KEY_BYTES], const char *pass, size_t passlen,
		 const struct keywrap_params *p, uint8_t out[KEYWRAP_BYTES])
{
	uint8_t kek[KEY_BYTES];
	memcpy(out, WRAP_MAGIC, 8);
	le_put32(out + 8, WRAP_VERSION);
	le_put32(out + 12, WRAP_KIND);
	le_put32(out + OFF_OPS, p->opslimit);
	le_put32(out + OFF_MEM, p->memlimit_kib);
	if (sodium_init() < 0)
		return store_fail(-ENOSYS, "libsodium: initialisation failed");
	randombytes_buf(out + OFF_SALT, crypto_pwhash_SALTBYTES);
	randombytes_buf(out + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	int r = derive_kek(pass, passlen, out + OFF_SALT, p, kek);
	if (r < 0)
		return r;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + OFF_CT, NULL, master, KEY_BYTES, out,
						   OFF_NONCE, NULL, out + OFF_NONCE, kek);
	sodium_memzero(kek, sizeof kek);
	le_put64(out + OFF_SUM, XXH3_64bits(out, OFF_SUM));
	return 0;
}

int keywrap_parse(const char *what, const uint8_t *buf, size_t len,
		  struct keywrap_params *ret_params)
{
	if (len < 16 || memcmp(buf, WRAP_MAGIC, 8) != 0)
		return store_fail(-STORE_ECORRUPT, "%s: not a ckptfs key file", what);
	uint32_t version = le_get32(buf + 8), kind = le_get32(buf + 12);
	if (version > WRAP_VERSION)
		return store_fail(-STORE_ENEWER, "%s: key file version %u is newer than this ckptfs",
				  what, version);
	if (version != WRAP_VERSION || kind != WRAP_KIND)
		return store_fail(-STORE_ECORRUPT,
				  "%s: not a passphrase-wrapped key (version %u, kind %u)", what,
				  version, kind);
	if (len != KEYWRAP_BYTES)
		return store_fail(-STORE_ECORRUPT, "%s: wrong size %zu (expected %d)", what, len,
				  KEYWRAP_BYTES);
	if (XXH3_64bits(buf, OFF_SUM) != le_get64(buf + OFF_SUM))
		return store_fail(-STORE_ECORRUPT, "%s: checksum mismatch", what);
	struct keywrap_params p = {le_get32(buf + OFF_OPS), le_get32(buf + OFF_MEM)};
	if (p.opslimit < crypto_pwhash_OPSLIMIT_MIN || p.opslimit > KEYWRAP_OPS_MAX ||
	    (size_t)p.memlimit_kib * 1024 < crypto_pwhash_MEMLIMIT_MIN ||
	    p.memlimit_kib > KEYWRAP_MEM_MAX_KIB)
		return store_fail(-STORE_ECORRUPT, "%s: Argon2id cost out of range (ops %u, %u KiB)",
				  what, p.opslimit, p.memlimit_kib);
	if (ret_params)
		*ret_params = p;
	return 0;
}

int keywrap_open(const char *what, const uint8_t *buf, size_t len, const char *pass,
		 size_t passlen, uint8_t ret_master[KEY_BYTES])
{
	struct keywrap_params p;
	uint8_t kek[KEY_BYTES], master[KEY_BYTES];
	int r = keywrap_parse(what, buf, len, &p);
	if (r < 0)
		return r;
	r = derive_kek(pass, passlen, buf + OFF_SALT, &p, kek);
	if (r < 0)
		return r;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(master, NULL, NULL, buf + OFF_CT, CT_BYTES,
						       buf, OFF_NONCE, buf + OFF_NONCE, kek) != 0)
		r = store_fail(-EACCES, "%s: wrong passphrase", what);
	else
		memcpy(ret_master, master, KEY_BYTES);
	sodium_memzero(kek, sizeof kek);
	sodium_memzero(master, sizeof master);
	return r;
}
