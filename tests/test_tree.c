/* test_tree.c — tree encoding round trips, the golden encoding, hostile
 * inputs to tree_decode, and the in-memory helpers (lookup, sort, copy,
 * node_chunk_at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob.h"
#include "store/chunker.h"
#include "store/err.h"
#include "store/tree.h"

/* ---- building trees ------------------------------------------------------ */

static void set_id(blob_id *id, uint8_t seed)
{
	for (int i = 0; i < ID_BYTES; i++)
		id->b[i] = (uint8_t)(seed + i);
}

static struct node mk(const char *name, uint8_t type)
{
	struct node n = { 0 };
	n.name = strdup(name);
	n.type = type;
	n.mode = 0644;
	return n;
}

static void add_chunks(struct node *n, size_t count, uint32_t len)
{
	n->chunks = calloc(count, sizeof *n->chunks);
	n->nchunks = count;
	n->size = 0;
	for (size_t i = 0; i < count; i++) {
		set_id(&n->chunks[i].id, (uint8_t)(i + 1));
		n->chunks[i].off = n->size;
		n->chunks[i].len = len + (uint32_t)i;
		n->size += n->chunks[i].len;
	}
}

static void add_xattr(struct node *n, const char *name, const char *value)
{
	n->xattrs = realloc(n->xattrs, (n->nxattrs + 1) * sizeof *n->xattrs);
	struct node_xattr *x = &n->xattrs[n->nxattrs++];
	x->name = strdup(name);
	x->value_len = strlen(value);
	x->value = malloc(x->value_len + 1);
	memcpy(x->value, value, x->value_len);
}

static struct tree *tree_of(struct node *nodes, size_t n)
{
	struct tree *t = calloc(1, sizeof *t);
	t->nodes = calloc(n ? n : 1, sizeof *t->nodes);
	memcpy(t->nodes, nodes, n * sizeof *nodes);
	t->n = n;
	tree_sort(t);
	return t;
}

/* Every type and every field set to something distinctive. */
static struct tree *full_tree(void)
{
	struct node n[10];
	size_t k = 0;

	n[k] = mk("file.txt", NODE_FILE);
	add_chunks(&n[k], 3, 70000);
	n[k].flags = NODE_F_CHANGING;
	n[k].uid = 1000;
	n[k].gid = 4294967295u;
	n[k].mtime_ns = 1771065000123456789;
	n[k].ctime_ns = 1771065001000000000;
	n[k].dev = 0x803;
	n[k].ino = 123456789012345ull;
	add_xattr(&n[k], "user.a", "first");
	add_xattr(&n[k], "user.b", "");
	add_xattr(&n[k], "user.c", "third\nvalue");
	k++;
	n[k] = mk("dir", NODE_DIR);
	n[k].mode = 01777;
	set_id(&n[k].subtree, 200);
	n[k].mtime_ns = -1500000000; /* before the epoch */
	n[k].ctime_ns = 5;
	k++;
	n[k] = mk("link", NODE_SYMLINK);
	n[k].mode = 0777;
	n[k].target = strdup("../some where/else");
	n[k].size = strlen(n[k].target);
	k++;
	n[k] = mk("fifo", NODE_FIFO);
	k++;
	n[k] = mk("chr", NODE_CHR);
	n[k].rdev = (1ull << 8) | 3;
	k++;
	n[k] = mk("blk", NODE_BLK);
	n[k].rdev = 0xffffffffffffffffull;
	k++;
	n[k] = mk("sock", NODE_SOCK);
	n[k].mode = 06755;
	k++;
	n[k] = mk("empty", NODE_FILE);
	k++;
	n[k] = mk("unreadable", NODE_FILE);
	n[k].flags = NODE_F_UNREADABLE;
	n[k].size = 4096;
	k++;
	n[k] = mk("db.sqlite", NODE_FILE);
	n[k].flags = NODE_F_DB_COPY | NODE_F_INCONSISTENT;
	add_chunks(&n[k], 1, 1);
	n[k].mtime_ns = INT64_MIN;
	n[k].ctime_ns = INT64_MAX;
	k++;
	return tree_of(n, k);
}

static void assert_node_equal(const struct node *a, const struct node *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->size, b->size);
	assert_true(a->mtime_ns == b->mtime_ns);
	assert_true(a->ctime_ns == b->ctime_ns);
	assert_int_equal(a->dev, b->dev);
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->rdev, b->rdev);
	if (a->target || b->target)
		assert_string_equal(a->target, b->target);
	assert_true(id_equal(&a->subtree, &b->subtree));
	assert_int_equal(a->nchunks, b->nchunks);
	for (size_t i = 0; i < a->nchunks; i++) {
		assert_true(id_equal(&a->chunks[i].id, &b->chunks[i].id));
		assert_int_equal(a->chunks[i].off, b->chunks[i].off);
		assert_int_equal(a->chunks[i].len, b->chunks[i].len);
	}
	assert_int_equal(a->nxattrs, b->nxattrs);
	for (size_t i = 0; i < a->nxattrs; i++) {
		assert_string_equal(a->xattrs[i].name, b->xattrs[i].name);
		assert_int_equal(a->xattrs[i].value_len, b->xattrs[i].value_len);
		assert_memory_equal(a->xattrs[i].value, b->xattrs[i].value,
				    a->xattrs[i].value_len);
	}
}

static void assert_tree_equal(const struct tree *a, const struct tree *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_node_equal(&a->nodes[i], &b->nodes[i]);
}

static struct tree *round_trip(const struct tree *t)
{
	uint8_t *buf;
	size_t len;
	struct tree *back = NULL;
	assert_int_equal(tree_encode(t, &buf, &len), 0);
	assert_int_equal(tree_decode(buf, len, &back), 0);
	assert_tree_equal(t, back);
	/* Deterministic: re-encoding the decoded tree gives the same bytes. */
	uint8_t *buf2;
	size_t len2;
	assert_int_equal(tree_encode(back, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	return back;
}

/* ---- round trips --------------------------------------------------------- */

static void round_trip_every_type(void **state)
{
	(void)state;
	struct tree *t = full_tree();
	assert_string_equal(t->nodes[0].name, "blk"); /* sorted by tree_of */
	tree_free(round_trip(t));
	tree_free(t);
}

static void round_trip_empty(void **state)
{
	(void)state;
	struct tree t = { 0 };
	uint8_t *buf;
	size_t len;
	assert_int_equal(tree_encode(&t, &buf, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 0);
	struct tree *back;
	assert_int_equal(tree_decode(buf, len, &back), 0);
	assert_int_equal(back->n, 0);
	tree_free(back);
	free(buf);
}

static void round_trip_odd_names(void **state)
{
	(void)state;
	char longname[256];
	memset(longname, 'x', 255);
	longname[255] = '\0';
	struct node n[7];
	n[0] = mk("with space", NODE_FILE);
	n[1] = mk("new\nline", NODE_FILE);
	n[2] = mk("\xff\xfe latin1 \xe9", NODE_FILE);
	n[3] = mk(longname, NODE_FILE);
	n[4] = mk("...", NODE_FILE);
	n[5] = mk(".env", NODE_FILE);
	n[6] = mk("\x01", NODE_FILE);
	struct tree *t = tree_of(n, 7);
	/* memcmp order: bytes >= 0x80 after ASCII. */
	assert_string_equal(t->nodes[0].name, "\x01");
	assert_string_equal(t->nodes[6].name, "\xff\xfe latin1 \xe9");
	tree_free(round_trip(t));
	assert_non_null(tree_lookup(t, longname));
	assert_non_null(tree_lookup(t, "new\nline"));
	assert_null(tree_lookup(t, "new"));
	tree_free(t);
}

static void round_trip_large_values(void **state)
{
	(void)state;
	struct node n[1];
	n[0] = mk("big", NODE_FILE);
	add_chunks(&n[0], 1000, CHUNKER_MAX);
	n[0].chunks[999].len = BLOB_MAX_RAW;
	n[0].size = n[0].chunks[999].off + BLOB_MAX_RAW;
	n[0].dev = UINT64_MAX;
	n[0].ino = UINT64_MAX - 1;
	char value[65536];
	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	add_xattr(&n[0], "user.big", value);
	struct tree *t = tree_of(n, 1);
	tree_free(round_trip(t));
	tree_free(t);
}

/* ---- golden encoding ----------------------------------------------------- */

/* The encoding of the tree built in golden_bytes(), field by field.  If
 * this test fails, the on-disk format changed: bump TREE_FORMAT_VERSION
 * and keep decoding version 1, or undo the change. */
static const char golden_hex[] =
	"0104" /* version 1, 4 entries */
	"05612e7478740100a403e807e8078080d0e2c6bfce972f0281102a" /* a.txt: file, 0644, 1000:1000, mtime, ctime +1, dev 2049, ino 42 */
	"c90102" /* size 201, 2 chunks */
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2064" /* chunk 1: 100 bytes */
	"02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202165" /* chunk 2: 101 bytes */
	"0106757365722e6b0176" /* 1 xattr: user.k = v */
	"026c6e0300ff0300000000000005612e74787400" /* ln -> a.txt, 0777 */
	"037375620200ed03000003010000" /* sub: dir, 0755, mtime -2, ctime -3 */
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00" /* subtree id */
	"037474790500a40300000000000081900200" /* tty: chr, rdev 0x8801 */;

static void golden_bytes(void **state)
{
	(void)state;
	struct node n[4];
	n[0] = mk("a.txt", NODE_FILE);
	add_chunks(&n[0], 2, 100);
	n[0].uid = 1000;
	n[0].gid = 1000;
	n[0].mtime_ns = 1700000000000000000;
	n[0].ctime_ns = 1700000000000000001;
	n[0].dev = 2049;
	n[0].ino = 42;
	add_xattr(&n[0], "user.k", "v");
	n[1] = mk("sub", NODE_DIR);
	n[1].mode = 0755;
	set_id(&n[1].subtree, 0xa0);
	n[1].mtime_ns = -2;
	n[1].ctime_ns = -3;
	n[2] = mk("ln", NODE_SYMLINK);
	n[2].mode = 0777;
	n[2].target = strdup("a.txt");
	n[2].size = 5;
	n[3] = mk("tty", NODE_CHR);
	n[3].rdev = 0x8801;
	struct tree *t = tree_of(n, 4);
	uint8_t *buf;
	size_t len;
	assert_int_equal(tree_encode(t, &buf, &len), 0);
	char *hex = malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", buf[i]);
	if (strcmp(hex, golden_hex) != 0)
		print_message("encoding changed; got\n%s\n", hex);
	assert_string_equal(hex, golden_hex);
	free(hex);
	free(buf);
	tree_free(t);
}

/* Format 3: the same entries after the folder's own mode, uid, gid and
 * reach; a tree without them keeps format 1 (the bytes above). */
static void golden_self(void **state)
{
	(void)state;
	struct node n[1];
	n[0] = mk("tty", NODE_CHR);
	n[0].rdev = 0x8801;
	struct tree *t = tree_of(n, 1);
	t->has_self = true;
	t->self = (struct tree_self){ .mode = 0700, .uid = 1000, .gid = 100, .reach = 0770 };
	uint8_t *buf;
	size_t len;
	assert_int_equal(tree_encode(t, &buf, &len), 0);
	static const uint8_t want[] = {
		0x03, 0xc0, 0x03, 0xe8, 0x07, 0x64, 0xf8, 0x03, /* version 3, 0700, 1000, 100, reach 0770 */
		0x01, /* 1 entry */
		0x03, 't', 't', 'y', 0x05, 0x00, 0xa4, 0x03, 0, 0, 0, 0, 0, 0, 0x81, 0x90, 0x02, 0x00,
	};
	assert_int_equal(len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	struct tree *back;
	assert_int_equal(tree_decode(buf, len, &back), 0);
	assert_true(back->has_self);
	assert_int_equal(back->self.mode, 0700);
	assert_int_equal(back->self.uid, 1000);
	assert_int_equal(back->self.gid, 100);
	assert_int_equal(back->self.reach, 0770);
	free(buf);
	tree_free(back);

	/* Without self: format 1, and decoding says there was none. */
	t->has_self = false;
	assert_int_equal(tree_encode(t, &buf, &len), 0);
	assert_int_equal(buf[0], 1);
	assert_int_equal(tree_decode(buf, len, &back), 0);
	assert_false(back->has_self);
	free(buf);
	tree_free(back);

	/* Type bits are not a folder's mode, nor a reach. */
	t->has_self = true;
	t->self.mode = 040700;
	assert_int_equal(tree_encode(t, &buf, &len), -EINVAL);
	t->self.mode = 0700;
	t->self.reach = 01777;
	assert_int_equal(tree_encode(t, &buf, &len), -EINVAL);
	tree_free(t);
}

/* ---- hostile inputs ------------------------------------------------------ */

struct raw {
	uint8_t b[4096];
	size_t len;
};

static void raw_u8(struct raw *r, uint8_t v)
{
	r->b[r->len++] = v;
}

static void raw_var(struct raw *r, uint64_t v)
{
	while (v >= 0x80) {
		raw_u8(r, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	raw_u8(r, (uint8_t)v);
}

static void raw_bytes(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

/* Name, type, flags, and zero metadata up to the type-specific body. */
static void raw_head(struct raw *r, const char *name, size_t nlen, uint8_t type, uint32_t flags)
{
	raw_var(r, nlen);
	raw_bytes(r, name, nlen);
	raw_u8(r, type);
	raw_var(r, flags);
	for (int i = 0; i < 7; i++) /* mode uid gid mtime ctime dev ino */
		raw_var(r, 0);
}

static void raw_fifo(struct raw *r, const char *name, size_t nlen)
{
	raw_head(r, name, nlen, NODE_FIFO, 0);
	raw_var(r, 0); /* xattrs */
}

static void expect_corrupt(const struct raw *r, const char *what)
{
	struct tree *t = NULL;
	store_error_clear();
	int rc = tree_decode(r->b, r->len, &t);
	if (rc != -STORE_ECORRUPT)
		fail_msg("%s: expected -STORE_ECORRUPT, got %d", what, rc);
	assert_null(t);
	assert_non_null(store_error());
	assert_non_null(strstr(store_error(), "tree"));
}

static void hostile_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		size_t len;
	} bad[] = {
		{ "", 0 }, { ".", 1 }, { "..", 2 }, { "a/b", 3 }, { "/", 1 }, { "a\0b", 3 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct raw r = { .len = 0 };
		raw_u8(&r, 1);
		raw_var(&r, 1);
		raw_fifo(&r, bad[i].name, bad[i].len);
		expect_corrupt(&r, bad[i].name);
	}
	char longname[256];
	memset(longname, 'y', sizeof longname);
	struct raw r = { .len = 0 };
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_fifo(&r, longname, 256);
	expect_corrupt(&r, "256-byte name");
	/* 255 is fine. */
	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_fifo(&r, longname, 255);
	struct tree *t;
	assert_int_equal(tree_decode(r.b, r.len, &t), 0);
	tree_free(t);
}

static void hostile_order(void **state)
{
	(void)state;
	struct raw r = { .len = 0 };
	raw_u8(&r, 1);
	raw_var(&r, 2);
	raw_fifo(&r, "b", 1);
	raw_fifo(&r, "a", 1);
	expect_corrupt(&r, "unsorted");
	assert_non_null(strstr(store_error(), "sorted"));

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 2);
	raw_fifo(&r, "a", 1);
	raw_fifo(&r, "a", 1);
	expect_corrupt(&r, "duplicate");
	assert_non_null(strstr(store_error(), "duplicate"));

	r.len = 0; /* a prefix sorts first */
	raw_u8(&r, 1);
	raw_var(&r, 2);
	raw_fifo(&r, "ab", 2);
	raw_fifo(&r, "a", 1);
	expect_corrupt(&r, "prefix after longer");
}

static void hostile_types_and_fields(void **state)
{
	(void)state;
	struct raw r = { .len = 0 };
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, 9, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "type 9");
	assert_non_null(strstr(store_error(), "type"));

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, 0, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "type 0");

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, NODE_FIFO, 0x100);
	raw_var(&r, 0);
	expect_corrupt(&r, "unknown flags");

	r.len = 0; /* mode with S_IFREG bits */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_var(&r, 1);
	raw_u8(&r, 'x');
	raw_u8(&r, NODE_FIFO);
	raw_var(&r, 0);
	raw_var(&r, 0100644);
	for (int i = 0; i < 6; i++)
		raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "mode");

	r.len = 0; /* uid > 32 bits */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_var(&r, 1);
	raw_u8(&r, 'x');
	raw_u8(&r, NODE_FIFO);
	raw_var(&r, 0);
	raw_var(&r, 0);
	raw_var(&r, 1ull << 32);
	for (int i = 0; i < 5; i++)
		raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "uid");

	r.len = 0; /* empty symlink target */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "l", 1, NODE_SYMLINK, 0);
	raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "empty target");

	r.len = 0; /* target with NUL */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "l", 1, NODE_SYMLINK, 0);
	raw_var(&r, 3);
	raw_bytes(&r, "a\0b", 3);
	raw_var(&r, 0);
	expect_corrupt(&r, "target NUL");

	r.len = 0; /* unsorted xattrs */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, NODE_FIFO, 0);
	raw_var(&r, 2);
	raw_var(&r, 6);
	raw_bytes(&r, "user.b", 6);
	raw_var(&r, 0);
	raw_var(&r, 6);
	raw_bytes(&r, "user.a", 6);
	raw_var(&r, 0);
	expect_corrupt(&r, "xattr order");

	r.len = 0; /* empty xattr name */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, NODE_FIFO, 0);
	raw_var(&r, 1);
	raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "xattr name");

	r.len = 0; /* wrong version */
	raw_u8(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "version 0");
	r.b[0] = 4;
	struct tree *t = NULL;
	assert_int_equal(tree_decode(r.b, r.len, &t), -STORE_ENEWER);

	r.len = 0; /* non-minimal varint */
	raw_u8(&r, 1);
	raw_u8(&r, 0x80);
	raw_u8(&r, 0x00);
	expect_corrupt(&r, "overlong varint");

	r.len = 0; /* 64-bit overflow */
	raw_u8(&r, 1);
	for (int i = 0; i < 9; i++)
		raw_u8(&r, 0xff);
	raw_u8(&r, 0x02);
	expect_corrupt(&r, "varint overflow");
}

static void raw_file(struct raw *r, uint64_t size, const uint32_t *lens, size_t n, uint32_t flags)
{
	raw_head(r, "f", 1, NODE_FILE, flags);
	raw_var(r, size);
	raw_var(r, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t id[ID_BYTES];
		memset(id, (int)i + 1, sizeof id);
		raw_bytes(r, id, sizeof id);
		raw_var(r, lens[i]);
	}
	raw_var(r, 0);
}

static void hostile_chunks(void **state)
{
	(void)state;
	uint32_t lens[3] = { 100, 200, 300 };
	struct raw r = { .len = 0 };
	struct tree *t;

	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 600, lens, 3, 0);
	assert_int_equal(tree_decode(r.b, r.len, &t), 0);
	assert_int_equal(t->nodes[0].chunks[2].off, 300);
	tree_free(t);

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 601, lens, 3, 0);
	expect_corrupt(&r, "size mismatch");
	assert_non_null(strstr(store_error(), "size 601"));

	r.len = 0; /* an unreadable file may have a size but then no chunks */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 601, lens, 3, NODE_F_UNREADABLE);
	expect_corrupt(&r, "unreadable with chunks");
	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 601, lens, 0, NODE_F_UNREADABLE);
	assert_int_equal(tree_decode(r.b, r.len, &t), 0);
	tree_free(t);

	lens[1] = 0;
	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 400, lens, 3, 0);
	expect_corrupt(&r, "zero-length chunk");

	lens[1] = BLOB_MAX_RAW + 1;
	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_file(&r, 400 + (uint64_t)BLOB_MAX_RAW + 1, lens, 3, 0);
	expect_corrupt(&r, "oversized chunk");

	r.len = 0; /* a huge chunk count must not allocate */
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "f", 1, NODE_FILE, 0);
	raw_var(&r, 0);
	raw_var(&r, 1ull << 60);
	expect_corrupt(&r, "huge chunk count");
	assert_non_null(strstr(store_error(), "chunk count"));
}

static void hostile_self(void **state)
{
	(void)state;
	struct raw r = { .len = 0 };
	raw_u8(&r, 2);
	raw_var(&r, 010000); /* a type bit */
	raw_var(&r, 0);
	raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "folder mode with type bits");
	assert_non_null(strstr(store_error(), "folder mode"));

	r.len = 0;
	raw_u8(&r, 2);
	raw_var(&r, 0700);
	raw_var(&r, 1ull << 32); /* uid past 32 bits */
	raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "folder uid");

	r.len = 0;
	raw_u8(&r, 2);
	raw_var(&r, 0700); /* truncated after the mode */
	expect_corrupt(&r, "truncated self");

	/* Format 2 (no reach) is read: its owner only. */
	r.len = 0;
	raw_u8(&r, 2);
	raw_var(&r, 0750);
	raw_var(&r, 0);
	raw_var(&r, 5);
	raw_var(&r, 1);
	raw_fifo(&r, "a", 1);
	struct tree *t;
	assert_int_equal(tree_decode(r.b, r.len, &t), 0);
	assert_true(t->has_self);
	assert_int_equal(t->self.mode, 0750);
	assert_int_equal(t->self.gid, 5);
	assert_int_equal(t->self.reach, 0700);
	assert_int_equal(t->n, 1);
	tree_free(t);

	/* Format 3: the reach, rwx bits only. */
	r.len = 0;
	raw_u8(&r, 3);
	raw_var(&r, 0755);
	raw_var(&r, 0);
	raw_var(&r, 0);
	raw_var(&r, 0707);
	raw_var(&r, 0);
	assert_int_equal(tree_decode(r.b, r.len, &t), 0);
	assert_int_equal(t->self.reach, 0707);
	tree_free(t);
	r.b[r.len - 3] = 0xff; /* reach 01777 */
	r.b[r.len - 2] = 0x07;
	expect_corrupt(&r, "folder reach");
	r.len = 0;
	raw_u8(&r, 3); /* without the reach */
	raw_var(&r, 0755);
	raw_var(&r, 0);
	raw_var(&r, 0);
	expect_corrupt(&r, "truncated reach");
}

static void hostile_counts_and_garbage(void **state)
{
	(void)state;
	struct raw r = { .len = 0 };
	raw_u8(&r, 1);
	raw_var(&r, UINT64_MAX);
	expect_corrupt(&r, "huge entry count");

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 2); /* says two, holds one */
	raw_fifo(&r, "a", 1);
	expect_corrupt(&r, "count larger than entries");

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_head(&r, "x", 1, NODE_FIFO, 0);
	raw_var(&r, 1ull << 40);
	expect_corrupt(&r, "huge xattr count");

	r.len = 0;
	raw_u8(&r, 1);
	raw_var(&r, 1);
	raw_fifo(&r, "a", 1);
	raw_u8(&r, 0);
	expect_corrupt(&r, "trailing garbage");
	assert_non_null(strstr(store_error(), "trailing"));

	struct tree *t = NULL;
	assert_int_equal(tree_decode(r.b, 0, &t), -STORE_ECORRUPT);
	assert_null(t);
}

/* Every prefix of a valid encoding is an error (never a crash or leak),
 * and so is every single-byte change that the checks can see. */
static void hostile_truncations(void **state)
{
	(void)state;
	struct tree *full = full_tree();
	uint8_t *buf;
	size_t len;
	assert_int_equal(tree_encode(full, &buf, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		struct tree *t = NULL;
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
		memcpy(copy, buf, cut);
		assert_int_equal(tree_decode(copy, cut, &t), -STORE_ECORRUPT);
		assert_null(t);
		free(copy);
	}
	/* Flip each byte: decoding must either fail cleanly or give a tree
	 * that re-encodes (it is then a valid, different tree). */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			struct tree *t = NULL;
			buf[i] ^= (uint8_t)(1u << bit);
			int rc = tree_decode(buf, len, &t);
			if (rc == 0) {
				uint8_t *b2;
				size_t l2;
				assert_int_equal(tree_encode(t, &b2, &l2), 0);
				free(b2);
				tree_free(t);
			} else {
				assert_true(rc == -STORE_ECORRUPT || rc == -STORE_ENEWER);
			}
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(buf);
	tree_free(full);
}

/* ---- helpers ------------------------------------------------------------- */

static void encode_rejects_invalid(void **state)
{
	(void)state;
	struct node n[2];
	n[0] = mk("b", NODE_FIFO);
	n[1] = mk("a", NODE_FIFO);
	struct tree t = { .nodes = n, .n = 2 };
	uint8_t *buf;
	size_t len;
	assert_int_equal(tree_encode(&t, &buf, &len), -EINVAL); /* unsorted */
	tree_sort(&t);
	assert_int_equal(tree_encode(&t, &buf, &len), 0);
	free(buf);
	free(n[0].name);
	n[0].name = strdup("..");
	assert_int_equal(tree_encode(&t, &buf, &len), -EINVAL);
	free(n[0].name);
	n[0].name = strdup("a");
	n[0].type = NODE_FILE;
	n[0].size = 5; /* no chunks */
	assert_int_equal(tree_encode(&t, &buf, &len), -EINVAL);
	node_clear(&n[0]);
	node_clear(&n[1]);
}

static void chunk_at(void **state)
{
	(void)state;
	struct node n = mk("f", NODE_FILE);
	assert_int_equal(node_chunk_at(&n, 0), 0); /* empty file: nchunks */
	add_chunks(&n, 4, 1000); /* lengths 1000 1001 1002 1003 */
	assert_int_equal(n.size, 4006);
	assert_int_equal(node_chunk_at(&n, 0), 0);
	assert_int_equal(node_chunk_at(&n, 999), 0);
	assert_int_equal(node_chunk_at(&n, 1000), 1);
	assert_int_equal(node_chunk_at(&n, 2000), 1);
	assert_int_equal(node_chunk_at(&n, 2001), 2);
	assert_int_equal(node_chunk_at(&n, 3003), 3);
	assert_int_equal(node_chunk_at(&n, 4005), 3);
	assert_int_equal(node_chunk_at(&n, 4006), 4);
	assert_int_equal(node_chunk_at(&n, UINT64_MAX), 4);
	/* Brute force against a linear scan. */
	for (uint64_t off = 0; off < n.size; off += 7) {
		size_t want = 0;
		while (off >= n.chunks[want].off + n.chunks[want].len)
			want++;
		assert_int_equal(node_chunk_at(&n, off), want);
	}
	node_clear(&n);
	n = mk("u", NODE_FILE);
	n.flags = NODE_F_UNREADABLE;
	n.size = 100;
	assert_int_equal(node_chunk_at(&n, 5), 0);
	node_clear(&n);
}

static void copy_and_lookup(void **state)
{
	(void)state;
	struct tree *t = full_tree();
	for (size_t i = 0; i < t->n; i++) {
		struct node c;
		assert_int_equal(node_copy(&t->nodes[i], &c), 0);
		assert_node_equal(&t->nodes[i], &c);
		if (c.name)
			assert_ptr_not_equal(c.name, t->nodes[i].name);
		node_clear(&c);
		assert_ptr_equal(tree_lookup(t, t->nodes[i].name), &t->nodes[i]);
	}
	assert_null(tree_lookup(t, "zzz"));
	assert_null(tree_lookup(t, "a"));
	assert_null(tree_lookup(t, ""));
	tree_free(t);
	tree_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_every_type),
		cmocka_unit_test(round_trip_empty),
		cmocka_unit_test(round_trip_odd_names),
		cmocka_unit_test(round_trip_large_values),
		cmocka_unit_test(golden_bytes),
		cmocka_unit_test(golden_self),
		cmocka_unit_test(hostile_self),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(hostile_order),
		cmocka_unit_test(hostile_types_and_fields),
		cmocka_unit_test(hostile_chunks),
		cmocka_unit_test(hostile_counts_and_garbage),
		cmocka_unit_test(hostile_truncations),
		cmocka_unit_test(encode_rejects_invalid),
		cmocka_unit_test(chunk_at),
		cmocka_unit_test(copy_and_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
