/* test_content.c — reading file contents back through content_read:
 * random offsets and lengths, chunk boundaries, the end of the file,
 * the cache, and trees that lie about their chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "repo_fixture.h"
#include "store/content.h"
#include "store/repo_internal.h"

#define LEN (5u * 1024 * 1024)

struct cfix {
	struct fixture *f;
	uint8_t *data;
	struct node file;
	struct repo *rd; /* a separate reader, as the mount has */
};

static int setup(void **state)
{
	void *fs;
	if (fixture_setup(&fs) < 0)
		return -1;
	struct cfix *c = calloc(1, sizeof *c);
	c->f = fs;
	c->data = malloc(LEN);
	fill_mixed(c->data, LEN, 7);
	c->file = file_node("f");
	put_mem(c->f, c->data, LEN, &c->file);
	struct node copy;
	CHECK(node_copy(&c->file, &copy));
	blob_id root;
	put_tree(c->f, &copy, 1, &root);
	struct snapshot snap;
	fixture_commit(c->f, &root, 1, &snap);
	snapshot_clear(&snap);
	CHECK(repo_open(c->f->repo_path, REPO_READ, 0, &c->rd));
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cfix *c = *state;
	repo_close(c->rd);
	node_clear(&c->file);
	free(c->data);
	void *fs = c->f;
	fixture_teardown(&fs);
	free(c);
	return 0;
}

static void expect_read(struct cfix *c, uint64_t off, size_t len)
{
	static uint8_t buf[LEN + 100];
	size_t want = off >= LEN ? 0 : (len < LEN - off ? len : (size_t)(LEN - off));
	memset(buf, 0xee, len + 1);
	ssize_t n = content_read(c->rd, &c->file, off, buf, len);
	if (n < 0)
		fail_store("content_read", (int)n);
	assert_int_equal(n, want);
	if (want)
		assert_memory_equal(buf, c->data + off, want);
	assert_int_equal(buf[want], 0xee); /* nothing written past the result */
}

static void whole_file(void **state)
{
	struct cfix *c = *state;
	assert_true(c->file.nchunks > 10);
	expect_read(c, 0, LEN);
	expect_read(c, 0, LEN + 50); /* asking for more stops at the end */
}

static void random_ranges(void **state)
{
	struct cfix *c = *state;
	uint64_t s = 12345;
	for (int i = 0; i < 300; i++) {
		uint64_t off = rng_next(&s) % LEN;
		size_t len = (size_t)(rng_next(&s) % (i % 3 == 0 ? 600000 : 5000)) + 1;
		expect_read(c, off, len);
	}
}

static void chunk_boundaries(void **state)
{
	struct cfix *c = *state;
	for (size_t i = 0; i < c->file.nchunks; i++) {
		uint64_t b = c->file.chunks[i].off;
		expect_read(c, b, 1);
		expect_read(c, b, c->file.chunks[i].len);
		expect_read(c, b, c->file.chunks[i].len + 1);
		if (b) {
			expect_read(c, b - 1, 2);
			expect_read(c, b - 1, 1);
			expect_read(c, b - 100, 300000); /* spans up to three chunks */
		}
	}
}

static void end_of_file(void **state)
{
	struct cfix *c = *state;
	expect_read(c, LEN - 1, 10);
	expect_read(c, LEN, 10);
	expect_read(c, LEN + 12345, 10);
	expect_read(c, UINT64_MAX, 10);
	expect_read(c, 17, 0);
}

static void cache_and_prefetch(void **state)
{
	struct cfix *c = *state;
	repo_set_cache_bytes(c->rd, 0); /* start empty */
	repo_set_cache_bytes(c->rd, 64u << 20);
	size_t before = chunk_cache_bytes(c->rd->cache);
	content_prefetch(c->rd, &c->file, c->file.chunks[3].off + 5);
	size_t after = chunk_cache_bytes(c->rd->cache);
	assert_int_equal(after - before, c->file.chunks[3].len);
	content_prefetch(c->rd, &c->file, c->file.chunks[3].off);
	assert_int_equal(chunk_cache_bytes(c->rd->cache), after); /* already there */
	content_prefetch(c->rd, &c->file, LEN + 1);                /* nothing to do */
	expect_read(c, c->file.chunks[3].off, 100);
	/* A small cache still reads correctly. */
	repo_set_cache_bytes(c->rd, 300 * 1024);
	expect_read(c, 0, LEN);
	assert_true(chunk_cache_bytes(c->rd->cache) <= 300 * 1024 + 256 * 1024);
}

static void lying_tree_is_corruption(void **state)
{
	struct cfix *c = *state;
	uint8_t buf[64];
	struct node n;
	/* With every chunk cached, the lengths are still checked. */
	repo_set_cache_bytes(c->rd, 64u << 20);
	expect_read(c, 0, LEN);
	CHECK(node_copy(&c->file, &n));
	/* Chunk 1 claimed one byte longer than it is. */
	n.chunks[1].len += 1;
	for (size_t i = 2; i < n.nchunks; i++)
		n.chunks[i].off += 1;
	n.size += 1;
	assert_int_equal(content_read(c->rd, &n, n.chunks[1].off, buf, 10), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "chunk "));
	assert_non_null(strstr(store_error(), "the tree says"));
	/* Chunk 0 still reads. */
	ssize_t r0 = content_read(c->rd, &n, 0, buf, 10);
	if (r0 < 0)
		fail_store("chunk 0", (int)r0);
	assert_memory_equal(buf, c->data, 10);
	/* A chunk id the repository does not have. */
	memset(&n.chunks[2].id, 0x5a, sizeof n.chunks[2].id);
	assert_int_equal(content_read(c->rd, &n, n.chunks[2].off, buf, 10), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "missing"));
	node_clear(&n);

	struct node u = file_node("u");
	u.flags = NODE_F_UNREADABLE;
	u.size = 100;
	assert_int_equal(content_read(c->rd, &u, 0, buf, 10), -EIO);
	node_clear(&u);
	struct node d = dir_node("d", &c->file.chunks[0].id);
	assert_int_equal(content_read(c->rd, &d, 0, buf, 10), -EINVAL);
	node_clear(&d);
}

/* content_load_chunk: every chunk whole and in order, the cache left
 * alone, and the same checks as content_read. */
static void load_chunk_uncached(void **state)
{
	struct cfix *c = *state;
	repo_set_cache_bytes(c->rd, 0); /* empty, then room for everything */
	repo_set_cache_bytes(c->rd, 64u << 20);
	uint64_t off = 0;
	for (size_t i = 0; i < c->file.nchunks; i++) {
		uint8_t *data;
		int r = content_load_chunk(c->rd, &c->file, i, &data);
		if (r < 0)
			fail_store("load chunk", r);
		assert_int_equal(c->file.chunks[i].off, off);
		assert_memory_equal(data, c->data + off, c->file.chunks[i].len);
		off += c->file.chunks[i].len;
		free(data);
	}
	assert_int_equal(off, LEN);
	assert_int_equal(chunk_cache_bytes(c->rd->cache), 0);

	uint8_t *data = NULL;
	struct node n;
	CHECK(node_copy(&c->file, &n));
	n.chunks[1].len += 1;
	assert_int_equal(content_load_chunk(c->rd, &n, 1, &data), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "the tree says"));
	memset(&n.chunks[2].id, 0x5a, sizeof n.chunks[2].id);
	assert_int_equal(content_load_chunk(c->rd, &n, 2, &data), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "missing"));
	assert_int_equal(content_load_chunk(c->rd, &n, n.nchunks, &data), -EINVAL);
	assert_null(data);
	node_clear(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_file),
		cmocka_unit_test(random_ranges),
		cmocka_unit_test(chunk_boundaries),
		cmocka_unit_test(end_of_file),
		cmocka_unit_test(cache_and_prefetch),
		cmocka_unit_test(lying_tree_is_corruption),
		cmocka_unit_test(load_chunk_uncached),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
