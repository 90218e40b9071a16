/* test_keys.c — key file create/load, permissions, parser robustness,
 * golden subkey derivation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/keys.h"

struct fixture {
	char dir[64];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_keys.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->dirfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlinkat(f->dirfd, "key", 0);
	close(f->dirfd);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A version 1, kind 0 key file built by hand: the format is the contract. */
static void make_keyfile(uint8_t out[56], uint32_t version, uint32_t kind)
{
	memcpy(out, "CKPTKEY", 8);
	for (int i = 0; i < 4; i++) {
		out[8 + i] = (uint8_t)(version >> (8 * i));
		out[12 + i] = (uint8_t)(kind >> (8 * i));
	}
	for (int i = 0; i < 32; i++)
		out[16 + i] = (uint8_t)i;
	uint64_t h = XXH3_64bits(out, 48);
	for (int i = 0; i < 8; i++)
		out[48 + i] = (uint8_t)(h >> (8 * i));
}

static void create_then_load(void **state)
{
	struct fixture *f = *state;
	struct keys a, b;
	struct stat st;
	assert_int_equal(keyfile_create(f->dirfd, "key", &a), 0);
	assert_int_equal(fstatat(f->dirfd, "key", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 56);
	assert_int_equal(keyfile_load(f->dirfd, "key", &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_memory_not_equal(a.id_key, a.seal_key, KEY_BYTES);
	keys_wipe(&a);
	static const uint8_t zero[sizeof a];
	assert_memory_equal(&a, zero, sizeof a);
}

static void create_refuses_existing(void **state)
{
	struct fixture *f = *state;
	struct keys a;
	assert_int_equal(keyfile_create(f->dirfd, "key", &a), 0);
	store_error_clear();
	assert_int_equal(keyfile_create(f->dirfd, "key", &a), -EEXIST);
	assert_non_null(strstr(store_error(), f->dir));
	assert_non_null(strstr(store_error(), "/key"));
}

static void load_rejects_group_readable(void **state)
{
	struct fixture *f = *state;
	struct keys a;
	char want[256];
	assert_int_equal(keyfile_create(f->dirfd, "key", &a), 0);
	assert_int_equal(fchmodat(f->dirfd, "key", 0640, 0), 0);
	assert_int_equal(keyfile_load(f->dirfd, "key", &a), -EPERM);
	snprintf(want, sizeof want, "key %s/key: readable by group or others (chmod 600 %s/key)",
		 f->dir, f->dir);
	assert_string_equal(store_error(), want);
	assert_int_equal(fchmodat(f->dirfd, "key", 0604, 0), 0);
	assert_int_equal(keyfile_load(f->dirfd, "key", &a), -EPERM);
}

static void load_missing_and_damaged(void **state)
{
	struct fixture *f = *state;
	struct keys a;
	assert_int_equal(keyfile_load(f->dirfd, "key", &a), -ENOENT);
	assert_non_null(strstr(store_error(), "/key"));

	assert_int_equal(keyfile_create(f->dirfd, "key", &a), 0);
	/* Flip a key byte (writing a fixed value would be a no-op when the
	 * random key already holds it). */
	int fd = openat(f->dirfd, "key", O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, 20), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, 20), 1);
	close(fd);
	assert_int_equal(keyfile_load(f->dirfd, "key", &a), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "checksum mismatch"));
	assert_non_null(strstr(store_error(), f->dir));
}

/* Golden: the subkeys of master key 00 01 … 1f, computed independently
 * with Python's hashlib.blake2b (crypto_kdf is BLAKE2b keyed with the
 * master key, salt = subkey id, personal = context).  A change breaks
 * every existing repository's ids and seals. */
#define GOLDEN_HELLO_ID "8c50d27142349de82146dfd67698ae2e1994e48753dd45e2e63445b73f707940"
#define GOLDEN_SEAL_KEY "c6dc60c9320ad8f3db8291a8eaaebc3857a190e7b6ff98cb8bf649410bdfef1b"
static void golden_derivation(void **state)
{
	(void)state;
	uint8_t file[56];
	struct keys k;
	blob_id id;
	char hex[ID_HEX_LEN + 1];
	make_keyfile(file, 1, 0);
	assert_int_equal(keyfile_parse(file, sizeof file, &k), 0);
	keys_blob_id(&k, "hello", 5, &id);
	id_to_hex(&id, hex);
	assert_string_equal(hex, GOLDEN_HELLO_ID);
	id_to_hex((const blob_id *)k.seal_key, hex);
	assert_string_equal(hex, GOLDEN_SEAL_KEY);
}

static void parse_rejects_bad_input(void **state)
{
	(void)state;
	uint8_t file[56], bad[64];
	struct keys k;
	make_keyfile(file, 1, 0);
	for (size_t len = 0; len < sizeof file; len++)
		assert_int_equal(keyfile_parse(file, len, &k), -STORE_ECORRUPT);
	memcpy(bad, file, sizeof file);
	bad[56] = 0;
	assert_int_equal(keyfile_parse(bad, 57, &k), -STORE_ECORRUPT);
	for (size_t bit = 0; bit < 8 * sizeof file; bit++) {
		memcpy(bad, file, sizeof file);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int r = keyfile_parse(bad, sizeof file, &k);
		assert_true(r == -STORE_ECORRUPT || r == -STORE_ENEWER);
	}
	make_keyfile(bad, 2, 0);
	assert_int_equal(keyfile_parse(bad, 56, &k), -STORE_ENEWER);
	make_keyfile(bad, 1, 1);
	assert_int_equal(keyfile_parse(bad, 56, &k), -STORE_ENEWER);
	make_keyfile(bad, 0, 0);
	assert_int_equal(keyfile_parse(bad, 56, &k), -STORE_ECORRUPT);
}

static void ids_depend_on_key(void **state)
{
	(void)state;
	struct keys a, b;
	blob_id ia, ib, ia2;
	memset(&a, 1, sizeof a);
	memset(&b, 2, sizeof b);
	keys_blob_id(&a, "data", 4, &ia);
	keys_blob_id(&a, "data", 4, &ia2);
	keys_blob_id(&b, "data", 4, &ib);
	assert_true(id_equal(&ia, &ia2));
	assert_false(id_equal(&ia, &ib));
	keys_blob_id(&a, "datb", 4, &ib);
	assert_false(id_equal(&ia, &ib));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(create_refuses_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(load_rejects_group_readable, setup, teardown),
		cmocka_unit_test_setup_teardown(load_missing_and_damaged, setup, teardown),
		cmocka_unit_test(golden_derivation),
		cmocka_unit_test(parse_rejects_bad_input),
		cmocka_unit_test(ids_depend_on_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
