/* keys.c — the key file and subkey derivation (see keys.h).
 *
 * Key file format, version 1 (little endian), 56 bytes for kind 0:
 *
 *   magic "CKPTKEY\0"  u32 version (1)  u32 kind
 *   kind 0 (plain):  master key[32]
 *   u64 XXH3-64 of every byte before it
 *
 * Kind 1, the master key wrapped by a passphrase, is keywrap.h's; it lives
 * in its own file (key.wrapped, see repokey.h), never in place of this
 * one's loader.  A loader that does not know a kind or version refuses the
 * file as too new rather than guessing.
 */
#include "store/keys.h"

#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/le.h"

#define KEYFILE_MAGIC "CKPTKEY"     /* 8 bytes with its NUL */
#define KEYFILE_VERSION 1
#define KEYFILE_KIND_PLAIN 0
#define KEYFILE_HEAD 16             /* magic, version, kind */
#define KEYFILE_PLAIN_SIZE (KEYFILE_HEAD + KEY_BYTES + 8)
#define KEYFILE_MAX_SIZE 4096       /* any future kind stays far below */

/* crypto_kdf context and subkey ids: fixed forever, they define the ids
 * and the sealing key of every existing repository. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'c', 'k', 'p', 't', 'f', 's', 'k', '1'};
enum { SUBKEY_ID = 1, SUBKEY_SEAL = 2 };

/* Display path of name under dirfd for messages: the directory's real
 * path when /proc knows it, so "chmod 600 FILE" can be pasted. */
static void display_path(int dirfd, const char *name, char *out, size_t outlen)
{
	char link[64], dir[PATH_MAX];
	ssize_t n = -1;
	if (name[0] != '/') {
		if (dirfd == AT_FDCWD)
			snprintf(link, sizeof link, "/proc/self/cwd");
		else
			snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
		n = readlink(link, dir, sizeof dir - 1);
	}
	if (n > 0) {
		dir[n] = '\0';
		snprintf(out, outlen, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
	} else {
		snprintf(out, outlen, "%s", name);
	}
}

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return store_fail(-ENOSYS, "libsodium: initialisation failed");
	return 0;
}

static void plain_bytes(const uint8_t master[KEY_BYTES], uint8_t buf[KEYFILE_PLAIN_SIZE]);

static void derive(const uint8_t master[KEY_BYTES], struct keys *ret)
{
	memmove(ret->master, master, KEY_BYTES);
	crypto_kdf_derive_from_key(ret->id_key, KEY_BYTES, SUBKEY_ID, kdf_context, master);
	crypto_kdf_derive_from_key(ret->seal_key, KEY_BYTES, SUBKEY_SEAL, kdf_context, master);
}

/* Parse with a name for messages. */
static int parse_named(const char *what, const uint8_t *buf, size_t len, struct keys *ret)
{
	if (len < KEYFILE_HEAD || memcmp(buf, KEYFILE_MAGIC, 8) != 0)
		return store_fail(-STORE_ECORRUPT, "%s: not a ckptfs key file", what);
	uint32_t version = le_get32(buf + 8), kind = le_get32(buf + 12);
	if (version > KEYFILE_VERSION)
		return store_fail(-STORE_ENEWER, "%s: key file version %u is newer than this ckptfs",
				  what, version);
	if (version != KEYFILE_VERSION)
		return store_fail(-STORE_ECORRUPT, "%s: bad key file version %u", what, version);
	if (kind != KEYFILE_KIND_PLAIN)
		return store_fail(-STORE_ENEWER, "%s: key kind %u not supported by this ckptfs",
				  what, kind);
	if (len != KEYFILE_PLAIN_SIZE)
		return store_fail(-STORE_ECORRUPT, "%s: wrong size %zu (expected %d)", what, len,
				  KEYFILE_PLAIN_SIZE);
	if (XXH3_64bits(buf, len - 8) != le_get64(buf + len - 8))
		return store_fail(-STORE_ECORRUPT, "%s: checksum mismatch", what);
	int r = sodium_ready();
	if (r < 0)
		return r;
	struct keys k;
	derive(buf + KEYFILE_HEAD, &k);
	*ret = k;
	sodium_memzero(&k, sizeof k);
	return 0;
}

int keyfile_parse(const uint8_t *buf, size_t len, struct keys *ret)
{
	return parse_named("key file", buf, len, ret);
}

int keyfile_create(int dirfd, const char *name, struct keys *ret)
{
	char path[PATH_MAX + 256];
	uint8_t buf[KEYFILE_PLAIN_SIZE];
	struct keys k;
	int r = sodium_ready();
	if (r < 0)
		return r;
	display_path(dirfd, name, path, sizeof path);

	uint8_t fresh[KEY_BYTES];
	randombytes_buf(fresh, KEY_BYTES);
	plain_bytes(fresh, buf);
	sodium_memzero(fresh, sizeof fresh);

	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = store_failp(-errno, "key %s: create", path);
		goto out;
	}
	r = fio_write_all(fd, buf, sizeof buf);
	if (r < 0) {
		store_failp(r, "key %s: write", path);
		goto fail_file;
	}
	if (fsync(fd) < 0) {
		r = store_failp(-errno, "key %s: fsync", path);
		goto fail_file;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = store_failp(-errno, "key %s: close", path);
		goto fail_file;
	}
	fd = -1;
	r = fio_fsync_parent(dirfd, name);
	if (r < 0) {
		store_failp(r, "key %s: fsync of its directory", path);
		goto fail_file;
	}
	derive(buf + KEYFILE_HEAD, &k);
	*ret = k;
	sodium_memzero(&k, sizeof k);
	goto out;

fail_file:
	/* A half-written key file would make the next attempt fail with
	 * EEXIST or ECORRUPT: remove it. */
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
out:
	sodium_memzero(buf, sizeof buf);
	return r;
}

int keyfile_load(int dirfd, const char *name, struct keys *ret)
{
	char path[PATH_MAX + 256];
	uint8_t buf[KEYFILE_MAX_SIZE];
	struct stat st;
	size_t len = 0;
	int r;
	display_path(dirfd, name, path, sizeof path);

	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return store_failp(-errno, "key %s", path);
	if (fstat(fd, &st) < 0) {
		r = store_failp(-errno, "key %s: stat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = store_fail(-STORE_ECORRUPT, "key %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		r = store_fail(-EPERM, "key %s: readable by group or others (chmod 600 %s)", path,
			       path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = store_failp(-errno, "key %s: read", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf) {
			r = store_fail(-STORE_ECORRUPT, "key %s: file too large", path);
			goto out;
		}
	}
	char what[sizeof path + 8];
	snprintf(what, sizeof what, "key %s", path);
	r = parse_named(what, buf, len, ret);
out:
	sodium_memzero(buf, sizeof buf);
	close(fd);
	return r;
}

void keys_blob_id(const struct keys *k, const void *data, size_t len, blob_id *ret)
{
	crypto_generichash(ret->b, ID_BYTES, data, len, k->id_key, KEY_BYTES);
}

void keys_wipe(struct keys *k)
{
	sodium_memzero(k, sizeof *k);
}

void keys_derive(const uint8_t master[KEY_BYTES], struct keys *ret)
{
	if (sodium_init() < 0)
		abort(); /* cannot happen once a key file was read */
	derive(master, ret);
}

static void plain_bytes(const uint8_t master[KEY_BYTES], uint8_t buf[KEYFILE_PLAIN_SIZE])
{
	memcpy(buf, KEYFILE_MAGIC, 8);
	le_put32(buf + 8, KEYFILE_VERSION);
	le_put32(buf + 12, KEYFILE_KIND_PLAIN);
	memcpy(buf + KEYFILE_HEAD, master, KEY_BYTES);
	le_put64(buf + KEYFILE_HEAD + KEY_BYTES, XXH3_64bits(buf, KEYFILE_HEAD + KEY_BYTES));
}

int keyfile_write(int dirfd, const char *name, const struct keys *k)
{
	char path[PATH_MAX + 256], tmp[256];
	uint8_t buf[KEYFILE_PLAIN_SIZE];
	display_path(dirfd, name, path, sizeof path);
	if (snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp)
		return store_fail(-ENAMETOOLONG, "key %s: name too long", path);
	plain_bytes(k->master, buf);
	int r = fio_write_atomic(dirfd, name, tmp, buf, sizeof buf, 0600);
	sodium_memzero(buf, sizeof buf);
	if (r < 0)
		return store_failp(r, "key %s: write", path);
	return 0;
}

void keys_repo_id(const struct keys *k, char out[KEYS_REPO_ID_LEN + 1])
{
	static const char label[] = "ckptfs repository id";
	uint8_t h[KEYS_REPO_ID_LEN / 2];
	crypto_generichash(h, sizeof h, (const uint8_t *)label, sizeof label - 1, k->id_key,
			   KEY_BYTES);
	for (size_t i = 0; i < sizeof h; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}
