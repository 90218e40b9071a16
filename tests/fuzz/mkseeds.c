/* mkseeds.c — write the seed corpora of the fuzz targets.
 *
 *   mkseeds DIR      (DIR = tests/fuzz/corpus; `make fuzz-seeds`)
 *
 * Seeds are small valid encodings made with the store's own writers, so a
 * fuzzer starts from inputs that pass the outer checks and mutates its way
 * into the inner ones.  Run again after a format change and commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/keys.h"
#include "store/keywrap.h"
#include "store/pack.h"
#include "store/snaprec.h"
#include "store/tree.h"
#include "tests/fuzz/fuzzkey.h"

static const char *out_dir;

static void die(const char *what)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, store_error() ? store_error() : strerror(errno));
	exit(1);
}

static void save(const char *target, const char *name, const void *a, size_t alen, const void *b,
		 size_t blen)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", out_dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/seed-%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
	    fclose(f) != 0)
		die(path);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A small tree of every node type. */
static void trees(const struct keys *k)
{
	static const uint8_t val[] = "v";
	struct node_xattr xa = { "user.comment", (uint8_t *)val, 1 };
	struct node_chunk ch[3];
	for (int i = 0; i < 3; i++) {
		memset(&ch[i], 0, sizeof ch[i]);
		keys_blob_id(k, &i, sizeof i, &ch[i].id);
		ch[i].len = 1000u * (unsigned)(i + 1);
	}
	struct node n[6];
	memset(n, 0, sizeof n);
	n[0] = (struct node){ .name = "a.txt", .type = NODE_FILE, .mode = 0644, .size = 6000,
			      .mtime_ns = 1700000000000000000, .chunks = ch, .nchunks = 3,
			      .xattrs = &xa, .nxattrs = 1 };
	n[1] = (struct node){ .name = "dev", .type = NODE_CHR, .mode = 0600, .rdev = 0x0103 };
	n[2] = (struct node){ .name = "empty", .type = NODE_FILE, .mode = 0600 };
	n[3] = (struct node){ .name = "link", .type = NODE_SYMLINK, .mode = 0777, .size = 5,
			      .target = "a.txt" };
	n[4] = (struct node){ .name = "pipe", .type = NODE_FIFO, .mode = 0644 };
	n[5] = (struct node){ .name = "sub", .type = NODE_DIR, .mode = 04755 };
	keys_blob_id(k, "sub", 3, &n[5].subtree);
	struct tree t = { .nodes = n, .n = 6 };
	uint8_t *buf;
	size_t len;
	if (tree_encode(&t, &buf, &len) < 0)
		die("tree_encode");
	save("tree_decode", "all-types", buf, len, NULL, 0);
	free(buf);
	struct tree empty = { 0 };
	if (tree_encode(&empty, &buf, &len) < 0)
		die("tree_encode");
	save("tree_decode", "empty", buf, len, NULL, 0);
	free(buf);
	struct tree one = { .nodes = &n[0], .n = 1 };
	if (tree_encode(&one, &buf, &len) < 0)
		die("tree_encode");
	save("tree_decode", "one-file", buf, len, NULL, 0);
	free(buf);
	struct tree root = { .nodes = n, .n = 6, .has_self = true,
			     .self = { .mode = 0755, .uid = 1000, .gid = 1000, .reach = 0700 } };
	if (tree_encode(&root, &buf, &len) < 0)
		die("tree_encode");
	save("tree_decode", "root-self", buf, len, NULL, 0);
	free(buf);
}

/* Wrapped keys at the minimum cost (the fuzz target opens only those). */
static void keywrap(void)
{
	uint8_t master[KEY_BYTES] = {7}, buf[KEYWRAP_BYTES];
	struct keywrap_params p = {1, 8};
	if (keywrap_seal(master, "pass", 4, &p, buf) < 0)
		die("keywrap_seal");
	save("keywrap_parse", "min-cost", buf, sizeof buf, NULL, 0);
	p.memlimit_kib = 64;
	if (keywrap_seal(master, "other", 5, &p, buf) < 0)
		die("keywrap_seal");
	save("keywrap_parse", "other-pass", buf, sizeof buf, NULL, 0);
}

static void keyfile(void)
{
	char dir[] = "/tmp/mkseeds-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct keys k;
	if (dfd < 0 || keyfile_create(dfd, "key", &k) < 0)
		die("keyfile_create");
	uint8_t buf[4096];
	int fd = openat(dfd, "key", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
	if (n <= 0)
		die("reading the key file");
	save("keyfile_parse", "plain", buf, (size_t)n, NULL, 0);
	close(fd);
	unlinkat(dfd, "key", 0);
	close(dfd);
	rmdir(dir);
}

/* Seal plain as type; save as a blob_open input: id | type | raw | stored. */
static void sealed(struct blob_codec *c, const struct keys *k, const char *name, uint8_t type,
		   const void *plain, size_t len)
{
	blob_id id;
	keys_blob_id(k, plain, len, &id);
	size_t cap = blob_sealed_bound(len), slen;
	uint8_t *out = malloc(cap + ID_BYTES + 5);
	if (!out || blob_seal(c, &id, type, plain, len, out + ID_BYTES + 5, &slen) < 0)
		die("blob_seal");
	memcpy(out, id.b, ID_BYTES);
	out[ID_BYTES] = type;
	put_le(out + ID_BYTES + 1, len, 4);
	save("blob_open", name, out, ID_BYTES + 5 + slen, NULL, 0);
	free(out);
}

static void blobs(struct blob_codec *c, const struct keys *k)
{
	uint8_t text[4096];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (uint8_t)"ckptfs seeds "[i % 13];
	sealed(c, k, "data-zstd", BLOB_DATA, text, sizeof text);
	uint8_t noise[300];
	uint32_t x = 7;
	for (size_t i = 0; i < sizeof noise; i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 16);
	}
	sealed(c, k, "data-raw", BLOB_DATA, noise, sizeof noise);
	sealed(c, k, "data-empty", BLOB_DATA, "", 0);
	sealed(c, k, "tree", BLOB_TREE, text, 100);
}

/* A real pack holding three blobs; the seed is its footer, its size and
 * its decrypted index. */
static void pack(struct blob_codec *c, const struct keys *k)
{
	char dir[] = "/tmp/mkseeds-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die(dir);
	mkdirat(dfd, "tmp", 0700);
	mkdirat(dfd, "packs", 0700);
	struct pack_writer *pw;
	if (pack_writer_open(dfd, c, &pw) < 0)
		die("pack_writer_open");
	for (int i = 0; i < 3; i++) {
		uint8_t plain[200];
		memset(plain, 'a' + i, sizeof plain);
		blob_id id;
		keys_blob_id(k, plain, sizeof plain, &id);
		uint8_t st[512];
		size_t slen;
		struct pack_entry e;
		if (blob_seal(c, &id, i == 2 ? BLOB_TREE : BLOB_DATA, plain, sizeof plain, st,
			      &slen) < 0 ||
		    pack_writer_add(pw, &id, i == 2 ? BLOB_TREE : BLOB_DATA, st, slen, sizeof plain,
				    &e) < 0)
			die("pack_writer_add");
	}
	char name[PACK_NAME_LEN + 1];
	const struct pack_entry *ents;
	size_t n;
	uint64_t size;
	if (pack_writer_finish(pw, name, &ents, &n, &size) < 0)
		die("pack_writer_finish");
	pack_writer_free(pw);
	char path[128];
	pack_path(name, path, sizeof path);
	int fd = openat(dfd, path, O_RDONLY);
	uint8_t *file = malloc(size);
	if (fd < 0 || !file || pread(fd, file, size, 0) != (ssize_t)size)
		die("reading the pack");
	close(fd);
	const uint8_t *footer = file + size - PACK_FOOTER_SIZE;
	uint64_t ioff, ixxh;
	uint32_t ilen, count;
	if (pack_parse_footer(footer, size, &ioff, &ilen, &count, &ixxh) < 0)
		die("pack_parse_footer");
	static const blob_id zero;
	uint8_t *plain;
	size_t plen;
	if (blob_open(c, &zero, BLOB_PACK_INDEX, file + ioff, ilen, 0, &plain, &plen) < 0)
		die("opening the pack index");
	uint8_t head[PACK_FOOTER_SIZE + 8];
	memcpy(head, footer, PACK_FOOTER_SIZE);
	put_le(head + PACK_FOOTER_SIZE, size, 8);
	save("pack_parse", "three-blobs", head, sizeof head, plain, plen);
	free(plain);
	free(file);
	unlinkat(dfd, path, 0);
	path[8] = 0; /* "packs/xx" */
	unlinkat(dfd, path, AT_REMOVEDIR);
	unlinkat(dfd, "packs", AT_REMOVEDIR);
	unlinkat(dfd, "tmp", AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}

static void snaprecs(const struct keys *k)
{
	struct snaprec r = { .project = "myapp", .project_root = "/home/dev/code/myapp",
			     .time_ns = 1771065000000000000, .message = "before migration",
			     .git_commit = "0123456789abcdef0123456789abcdef01234567",
			     .git_branch = "main", .status = SNAP_COMPLETE,
			     .stats = { 12, 3, 45678, 9, 40000, 45678, 1234567 },
			     .notes = "{\"databases\":[]}" };
	keys_blob_id(k, "root", 4, &r.root);
	uint8_t *buf;
	size_t len;
	if (snaprec_encode(&r, &buf, &len) < 0)
		die("snaprec_encode");
	save("snaprec_decode", "full", buf, len, NULL, 0);
	free(buf);
	struct snaprec m = { .project = "p", .project_root = "/p", .time_ns = 1,
			     .status = SNAP_PARTIAL, .root = r.root };
	if (snaprec_encode(&m, &buf, &len) < 0)
		die("snaprec_encode");
	save("snaprec_decode", "minimal", buf, len, NULL, 0);
	free(buf);
}

/* A trashed, a live and an emptied state record (snaprec.h). */
static void save_state(const char *name, const struct snaprec_state_rec *r)
{
	uint8_t *buf;
	size_t len;
	if (snaprec_state_encode(r, &buf, &len) < 0)
		die("snaprec_state_encode");
	save("snaprec_state_decode", name, buf, len, NULL, 0);
	free(buf);
}

static void snaprec_states(const struct keys *k)
{
	struct snaprec_state_rec r = { .time_ns = 1771065000000000000, .name = "2026-02-14T10:30",
				       .state = SNAPREC_TRASHED, .trashed_at_ns = 1771100000000000000,
				       .expires_at_ns = 1771704800000000000,
				       .changed_ns = 1771100000123456789 };
	keys_blob_id(k, "root", 4, &r.root);
	save_state("trashed", &r);
	r.trashed_at_ns = r.expires_at_ns = 0;
	r.state = SNAPREC_LIVE;
	save_state("live", &r);
	r.state = SNAPREC_EMPTIED;
	save_state("emptied", &r);
}

/* Hostile rows for a blob of the small repository fuzz_catalog_rows makes:
 * which | type | offset | length | raw_length | xxh. */
static void rows(void)
{
	static const struct {
		const char *name;
		uint8_t which, type;
		uint64_t off;
		uint32_t len, raw;
	} r[] = {
		{ "header", 0, 1, 0, 100, 100 },
		{ "past-end", 1, 1, 1u << 30, 4096, 4096 },
		{ "huge-length", 0, 1, 16, 0xffffffffu, 0xffffffffu },
		{ "zero-length", 2, 2, 16, 0, 0 },
		{ "wrong-type", 3, 3, 16, 200, 100 },
		{ "overflow", 0, 1, UINT64_MAX - 10, 100, 100 },
	};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		uint8_t b[26];
		b[0] = r[i].which;
		b[1] = r[i].type;
		put_le(b + 2, r[i].off, 8);
		put_le(b + 10, r[i].len, 4);
		put_le(b + 14, r[i].raw, 4);
		put_le(b + 18, 0x1234, 8);
		save("catalog_rows", r[i].name, b, sizeof b, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds CORPUS_DIR\n");
		return 2;
	}
	out_dir = argv[1];
	mkdir(out_dir, 0755);
	struct keys k;
	fuzz_keys(&k);
	struct blob_codec *c;
	if (blob_codec_new(&k, BLOB_ZSTD_LEVEL, &c) < 0)
		die("blob_codec_new");
	trees(&k);
	keyfile();
	keywrap();
	blobs(c, &k);
	pack(c, &k);
	snaprecs(&k);
	snaprec_states(&k);
	rows();
	blob_codec_free(c);
	return 0;
}
