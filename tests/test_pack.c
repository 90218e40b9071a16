/* test_pack.c — pack files: write/read round trip, on-disk layout, the
 * temp-file life cycle, and corruption of blobs, index, footer and length. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/pack.h"
#include "store/pack_format.h"
#include "tests/tmpdir.h"

#define NBLOBS 300

struct fixture {
	char dir[64];
	int dirfd;
	struct keys keys;
	struct blob_codec *codec;
	/* filled by write_pack() */
	char name[PACK_NAME_LEN + 1];
	char path[128]; /* absolute path of the finished pack */
	struct pack_entry *entries;
	size_t n;
	uint64_t size;
	uint8_t *plain[NBLOBS];
	size_t plain_len[NBLOBS];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_pack.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(f->keys.id_key, 3, KEY_BYTES);
	memset(f->keys.seal_key, 4, KEY_BYTES);
	rng_state = 0x1234567;
	*state = f;
	if (f->dirfd < 0)
		return -1;
	return blob_codec_new(&f->keys, BLOB_ZSTD_LEVEL, &f->codec);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tmpdir_remove(f->dir);
	close(f->dirfd);
	blob_codec_free(f->codec);
	free(f->entries);
	for (int i = 0; i < NBLOBS; i++)
		free(f->plain[i]);
	free(f);
	return 0;
}

/* Write NBLOBS blobs (random and compressible, 0 to ~100 KB), finish. */
static void write_pack(struct fixture *f)
{
	struct pack_writer *pw;
	assert_int_equal(pack_writer_open(f->dirfd, f->codec, &pw), 0);
	uint64_t expect_off = PACK_HEADER_SIZE;
	for (int i = 0; i < NBLOBS; i++) {
		size_t len = i == 0 ? 0 : rnd() % 100000;
		uint8_t *p = malloc(len + 1);
		for (size_t j = 0; j < len; j++)
			p[j] = (uint8_t)(i % 2 ? rnd() : j / 100);
		f->plain[i] = p;
		f->plain_len[i] = len;
		blob_id id;
		keys_blob_id(&f->keys, p, len, &id);
		uint8_t *sealed = malloc(blob_sealed_bound(len));
		size_t slen;
		struct pack_entry e;
		uint8_t type = i % 7 ? BLOB_DATA : BLOB_TREE;
		assert_int_equal(blob_seal(f->codec, &id, type, p, len, sealed, &slen), 0);
		assert_int_equal(pack_writer_add(pw, &id, type, sealed, slen, (uint32_t)len, &e), 0);
		assert_true(id_equal(&e.id, &id));
		assert_int_equal(e.offset, expect_off);
		assert_int_equal(e.length, slen);
		assert_int_equal(e.raw_length, len);
		assert_int_equal(e.xxh, XXH3_64bits(sealed, slen));
		expect_off += slen;
		free(sealed);
	}
	assert_int_equal(pack_writer_count(pw), NBLOBS);
	assert_int_equal(pack_writer_size(pw), expect_off);

	const struct pack_entry *entries;
	size_t n;
	assert_int_equal(pack_writer_finish(pw, f->name, &entries, &n, &f->size), 0);
	assert_int_equal(n, NBLOBS);
	assert_int_equal(strlen(f->name), PACK_NAME_LEN);
	f->entries = malloc(n * sizeof *entries);
	memcpy(f->entries, entries, n * sizeof *entries);
	f->n = n;
	pack_writer_free(pw);
	char rel[64];
	pack_path(f->name, rel, sizeof rel);
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, rel);
}

static void assert_entries_equal(const struct pack_entry *a, const struct pack_entry *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(id_equal(&a[i].id, &b[i].id));
		assert_int_equal(a[i].type, b[i].type);
		assert_int_equal(a[i].offset, b[i].offset);
		assert_int_equal(a[i].length, b[i].length);
		assert_int_equal(a[i].raw_length, b[i].raw_length);
		assert_int_equal(a[i].xxh, b[i].xxh);
	}
}

static size_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void write_then_read_everything(void **state)
{
	struct fixture *f = *state;
	write_pack(f);

	/* The temp file is gone, the journal entry stays until the caller
	 * indexed the pack; the pack is at its fan-out path. */
	char p[160], rel[64], j[220];
	snprintf(p, sizeof p, "%s/tmp", f->dir);
	assert_int_equal(count_dir(p), 1);
	snprintf(j, sizeof j, "%s/%s" PACK_JOURNAL_SUFFIX, p, f->name);
	assert_int_equal(access(j, F_OK), 0);
	pack_journal_clear(f->dirfd, f->name);
	assert_int_equal(count_dir(p), 0);
	pack_path(f->name, rel, sizeof rel);
	assert_int_equal(strlen(rel), 46);
	assert_memory_equal(rel, "packs/", 6);
	assert_memory_equal(rel + 6, f->name, 2);
	assert_memory_equal(rel + 9, f->name, PACK_NAME_LEN);
	assert_string_equal(rel + 9 + PACK_NAME_LEN, ".pack");
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((uint64_t)st.st_size, f->size);
	snprintf(p, sizeof p, "%s/packs/%.2s", f->dir, f->name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	struct pack_entry *entries;
	size_t n;
	uint64_t size;
	assert_int_equal(pack_read_index(f->dirfd, f->name, f->codec, &entries, &n, &size), 0);
	assert_int_equal(n, NBLOBS);
	assert_int_equal(size, f->size);
	assert_entries_equal(entries, f->entries, n);
	free(entries);

	for (size_t i = 0; i < n; i++) {
		const struct pack_entry *e = &f->entries[i];
		uint8_t *buf = malloc(e->length), *plain;
		size_t len;
		assert_int_equal(pack_read_blob(f->dirfd, f->name, e->offset, e->length, buf), 0);
		assert_int_equal(XXH3_64bits(buf, e->length), e->xxh);
		assert_int_equal(blob_open(f->codec, &e->id, e->type, buf, e->length, e->raw_length,
					   &plain, &len),
				 0);
		assert_int_equal(len, f->plain_len[i]);
		assert_memory_equal(plain, f->plain[i], len);
		free(plain);
		free(buf);
	}
}

static void on_disk_layout(void **state)
{
	struct fixture *f = *state;
	write_pack(f);
	int fd = open(f->path, O_RDONLY);
	uint8_t h[PACK_HEADER_SIZE], foot[PACK_FOOTER_SIZE];
	assert_int_equal(pread(fd, h, sizeof h, 0), sizeof h);
	assert_int_equal(pread(fd, foot, sizeof foot, (off_t)f->size - PACK_FOOTER_SIZE),
			 sizeof foot);
	close(fd);
	assert_memory_equal(h, "CKPTPACK\1\0\0\0\0\0\0\0", 16);
	assert_memory_equal(foot + 24, "CKPTPEND", 8);
	const struct pack_entry *last = &f->entries[NBLOBS - 1];
	uint64_t index_off, xxh;
	uint32_t index_len, count;
	assert_int_equal(pack_parse_footer(foot, f->size, &index_off, &index_len, &count, &xxh), 0);
	assert_int_equal(index_off, last->offset + last->length);
	assert_int_equal(index_off + index_len + PACK_FOOTER_SIZE, f->size);
	assert_int_equal(count, NBLOBS);
	/* Little endian, as documented. */
	assert_int_equal(foot[0] | foot[1] << 8 | foot[2] << 16 | (uint32_t)foot[3] << 24,
			 (uint32_t)index_off);
}

static void free_without_finish_removes_temp(void **state)
{
	struct fixture *f = *state;
	struct pack_writer *pw;
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s/tmp", f->dir);
	assert_int_equal(pack_writer_open(f->dirfd, f->codec, &pw), 0);
	assert_int_equal(count_dir(tmp), 1);
	uint8_t sealed[BLOB_OVERHEAD + 5];
	size_t slen;
	blob_id id;
	keys_blob_id(&f->keys, "hello", 5, &id);
	assert_int_equal(blob_seal(f->codec, &id, BLOB_DATA, "hello", 5, sealed, &slen), 0);
	assert_int_equal(pack_writer_add(pw, &id, BLOB_DATA, sealed, slen, 5, NULL), 0);
	assert_int_equal(pack_writer_add(pw, &id, BLOB_PACK_INDEX, sealed, slen, 5, NULL), -EINVAL);
	pack_writer_free(pw);
	assert_int_equal(count_dir(tmp), 0);
	pack_writer_free(NULL);
}

static void empty_pack(void **state)
{
	struct fixture *f = *state;
	struct pack_writer *pw;
	const struct pack_entry *e;
	struct pack_entry *back;
	size_t n;
	uint64_t size;
	char name[PACK_NAME_LEN + 1];
	assert_int_equal(pack_writer_open(f->dirfd, f->codec, &pw), 0);
	assert_int_equal(pack_writer_finish(pw, name, &e, &n, &size), 0);
	assert_int_equal(n, 0);
	assert_int_equal(size, PACK_HEADER_SIZE + BLOB_OVERHEAD + PACK_FOOTER_SIZE);
	pack_writer_free(pw);
	assert_int_equal(pack_read_index(f->dirfd, name, f->codec, &back, &n, &size), 0);
	assert_int_equal(n, 0);
	free(back);
}

static void flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x20;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void expect_index_corrupt(struct fixture *f)
{
	struct pack_entry *entries = NULL;
	size_t n = 0;
	uint64_t size = 0;
	store_error_clear();
	assert_int_equal(pack_read_index(f->dirfd, f->name, f->codec, &entries, &n, &size),
			 -STORE_ECORRUPT);
	assert_null(entries);
	assert_non_null(strstr(store_error(), f->name));
}

static void flipped_blob_byte_detected(void **state)
{
	struct fixture *f = *state;
	write_pack(f);
	const struct pack_entry *e = &f->entries[17];
	flip_byte(f->path, e->offset + e->length / 2);
	uint8_t *buf = malloc(e->length), *plain = NULL;
	size_t len;
	assert_int_equal(pack_read_blob(f->dirfd, f->name, e->offset, e->length, buf), 0);
	assert_int_not_equal(XXH3_64bits(buf, e->length), e->xxh);
	assert_int_equal(blob_open(f->codec, &e->id, e->type, buf, e->length, e->raw_length, &plain,
				   &len),
			 -STORE_ECORRUPT);
	assert_null(plain);
	free(buf);
}

static void flipped_footer_or_index_detected(void **state)
{
	struct fixture *f = *state;
	write_pack(f);
	uint64_t index_off = f->entries[NBLOBS - 1].offset + f->entries[NBLOBS - 1].length;
	/* Every footer byte. */
	for (uint64_t off = f->size - PACK_FOOTER_SIZE; off < f->size; off++) {
		flip_byte(f->path, off);
		expect_index_corrupt(f);
		flip_byte(f->path, off);
	}
	/* Index bytes: the footer's checksum catches them. */
	for (uint64_t off = index_off; off < f->size - PACK_FOOTER_SIZE; off += 97) {
		flip_byte(f->path, off);
		expect_index_corrupt(f);
		flip_byte(f->path, off);
	}
	/* Header. */
	flip_byte(f->path, 3);
	expect_index_corrupt(f);
	flip_byte(f->path, 3);

	/* An index changed together with its checksum fails authentication. */
	flip_byte(f->path, index_off + 30);
	int fd = open(f->path, O_RDWR);
	uint64_t len = f->size - PACK_FOOTER_SIZE - index_off;
	uint8_t *idx = malloc(len), xxh[8];
	assert_int_equal(pread(fd, idx, len, (off_t)index_off), (ssize_t)len);
	uint64_t h = XXH3_64bits(idx, len);
	for (int i = 0; i < 8; i++)
		xxh[i] = (uint8_t)(h >> (8 * i));
	assert_int_equal(pwrite(fd, xxh, 8, (off_t)f->size - 16), 8);
	close(fd);
	free(idx);
	expect_index_corrupt(f);
	assert_non_null(strstr(store_error(), "authentication failed"));
}

static void truncated_pack_detected(void **state)
{
	struct fixture *f = *state;
	write_pack(f);
	assert_int_equal(truncate(f->path, (off_t)f->size - 1), 0);
	expect_index_corrupt(f);
	const struct pack_entry *e = &f->entries[NBLOBS - 1];
	assert_int_equal(truncate(f->path, (off_t)(e->offset + e->length / 2)), 0);
	expect_index_corrupt(f);
	uint8_t *buf = malloc(e->length);
	assert_int_equal(pack_read_blob(f->dirfd, f->name, e->offset, e->length, buf),
			 -STORE_ECORRUPT);
	char want[128];
	snprintf(want, sizeof want, "pack %s: truncated at offset %llu", f->name,
		 (unsigned long long)(e->offset + e->length / 2));
	assert_string_equal(store_error(), want);
	free(buf);
	assert_int_equal(truncate(f->path, 10), 0);
	expect_index_corrupt(f);
	assert_int_equal(truncate(f->path, 0), 0);
	expect_index_corrupt(f);
}

static void missing_pack(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8];
	struct pack_entry *e;
	size_t n;
	uint64_t size;
	const char *name = "0123456789abcdef0123456789abcdef";
	assert_int_equal(pack_read_blob(f->dirfd, name, 0, 8, buf), -ENOENT);
	assert_non_null(strstr(store_error(), name));
	assert_int_equal(pack_read_index(f->dirfd, name, f->codec, &e, &n, &size), -ENOENT);
}

/* Encode one index entry. */
static void put_entry(uint8_t *p, uint8_t type, uint64_t off, uint32_t len, uint32_t raw)
{
	memset(p, 0xab, 32);
	p[32] = type;
	for (int i = 0; i < 8; i++)
		p[33 + i] = (uint8_t)(off >> (8 * i));
	for (int i = 0; i < 4; i++) {
		p[41 + i] = (uint8_t)(len >> (8 * i));
		p[45 + i] = (uint8_t)(raw >> (8 * i));
	}
	memset(p + 49, 0, 8);
}

static void parse_index_rejects_malformed(void **state)
{
	(void)state;
	uint8_t idx[3 * 57];
	struct pack_entry *e = NULL;
	size_t n;
	const uint64_t index_off = 10000;
	put_entry(idx, BLOB_DATA, 16, 100, 200);
	put_entry(idx + 57, BLOB_TREE, 116, 100, 100);
	put_entry(idx + 114, BLOB_DATA, 216, 9784, 9743);
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[2].offset, 216);
	free(e);
	e = NULL;

	assert_int_equal(pack_parse_index(idx, sizeof idx - 1, 3, index_off, &e, &n),
			 -STORE_ECORRUPT);
	assert_int_equal(pack_parse_index(idx, sizeof idx, 2, index_off, &e, &n), -STORE_ECORRUPT);
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off - 1, &e, &n),
			 -STORE_ECORRUPT); /* last blob runs into the index */
	put_entry(idx + 57, BLOB_TREE, 115, 100, 100); /* overlaps the first */
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), -STORE_ECORRUPT);
	put_entry(idx + 57, BLOB_PACK_INDEX, 116, 100, 100);
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), -STORE_ECORRUPT);
	put_entry(idx + 57, BLOB_TREE, 116, 100, 10); /* sealed far larger than raw */
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), -STORE_ECORRUPT);
	put_entry(idx + 57, BLOB_TREE, UINT64_MAX - 50, 100, 100); /* wraps around */
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), -STORE_ECORRUPT);
	put_entry(idx, BLOB_DATA, 8, 100, 200); /* inside the header */
	put_entry(idx + 57, BLOB_TREE, 116, 100, 100);
	assert_int_equal(pack_parse_index(idx, sizeof idx, 3, index_off, &e, &n), -STORE_ECORRUPT);
	assert_null(e);
}

/* Random footers: never accepted with values outside the file. */
static void parse_footer_random_bytes(void **state)
{
	(void)state;
	uint8_t foot[PACK_FOOTER_SIZE];
	for (int iter = 0; iter < 200000; iter++) {
		for (int i = 0; i < PACK_FOOTER_SIZE; i++)
			foot[i] = (uint8_t)rnd();
		if (iter % 2)
			memcpy(foot + 24, "CKPTPEND", 8);
		if (iter % 4 == 1)
			memset(foot + 4, 0, 4), memset(foot + 10, 0, 2), memset(foot + 14, 0, 2);
		uint64_t fsize = rnd() % (1u << 20), off, xxh;
		uint32_t len, count;
		if (pack_parse_footer(foot, fsize, &off, &len, &count, &xxh) == 0) {
			assert_true(off >= PACK_HEADER_SIZE);
			assert_int_equal(off + len + PACK_FOOTER_SIZE, fsize);
			assert_true((uint64_t)count * PACK_ENTRY_SIZE + BLOB_OVERHEAD >= len);
		}
	}
}

/* ---- golden bytes ---------------------------------------------------------- */

/* The header, two index entries and the footer of a pack, byte for byte.
 * If this fails, the pack format changed: bump PACK_VERSION and keep
 * reading the old one. */
static void golden_bytes(void **state)
{
	(void)state;
	uint8_t h[PACK_HEADER_SIZE];
	pack_header_encode(h);
	assert_memory_equal(h, "CKPTPACK\1\0\0\0\0\0\0\0", PACK_HEADER_SIZE);

	struct pack_entry e[2] = {
		{ .type = BLOB_DATA, .offset = 16, .length = 0x1234, .raw_length = 0x5678,
		  .xxh = 0x0102030405060708ull },
		{ .type = BLOB_TREE, .offset = 0x100000000ull, .length = 41, .raw_length = 0,
		  .xxh = 0xfedcba9876543210ull },
	};
	for (int i = 0; i < ID_BYTES; i++) {
		e[0].id.b[i] = (uint8_t)i;
		e[1].id.b[i] = (uint8_t)(0xff - i);
	}
	static const char golden_hex[] =
		/* entry 0: id 00..1f, type 1, offset 16, length 0x1234, raw 0x5678, xxh */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"01" "1000000000000000" "34120000" "78560000" "0807060504030201"
		/* entry 1: id ff..e0, type 2, offset 2^32, length 41, raw 0, xxh */
		"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0"
		"02" "0000000001000000" "29000000" "00000000" "1032547698badcfe";
	uint8_t got[2 * PACK_ENTRY_SIZE];
	pack_entry_encode(&e[0], got);
	pack_entry_encode(&e[1], got + PACK_ENTRY_SIZE);
	char hex[sizeof golden_hex];
	for (size_t i = 0; i < sizeof got; i++)
		snprintf(hex + 2 * i, 3, "%02x", got[i]);
	assert_string_equal(hex, golden_hex);
	for (int i = 0; i < 2; i++) {
		struct pack_entry back;
		pack_entry_decode(got + i * PACK_ENTRY_SIZE, &back);
		assert_memory_equal(&back.id, &e[i].id, ID_BYTES);
		assert_int_equal(back.type, e[i].type);
		assert_true(back.offset == e[i].offset && back.xxh == e[i].xxh);
		assert_int_equal(back.length, e[i].length);
		assert_int_equal(back.raw_length, e[i].raw_length);
	}

	/* A footer: index at 1000, 98 bytes, 2 entries, its xxh3, the magic. */
	static const uint8_t footer[PACK_FOOTER_SIZE] = {
		0xe8, 0x03, 0, 0, 0, 0, 0, 0, 98, 0, 0, 0, 2, 0, 0, 0,
		1, 2, 3, 4, 5, 6, 7, 8, 'C', 'K', 'P', 'T', 'P', 'E', 'N', 'D',
	};
	uint64_t off, xxh;
	uint32_t len, count;
	assert_int_equal(pack_parse_footer(footer, 1000 + 98 + PACK_FOOTER_SIZE, &off, &len, &count,
					   &xxh),
			 0);
	assert_true(off == 1000 && xxh == 0x0807060504030201ull);
	assert_int_equal(len, 98);
	assert_int_equal(count, 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(write_then_read_everything),
		T(on_disk_layout),
		cmocka_unit_test(golden_bytes),
		T(free_without_finish_removes_temp),
		T(empty_pack),
		T(flipped_blob_byte_detected),
		T(flipped_footer_or_index_detected),
		T(truncated_pack_detected),
		T(missing_pack),
		T(parse_index_rejects_malformed),
		T(parse_footer_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
