/* test_writer.c — storing streams and trees, dedup, commit and abort,
 * tree_load and tree_resolve against a real repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>

#include "store/blob.h"
#include "store/writer_internal.h"
#include "repo_fixture.h"
#include "store/chunker.h"
#include "store/catalog_internal.h"
#include "store/content.h"
#include "store/repo_internal.h"

#define MiB (1024u * 1024)

static void put_stream_chunks(void **state)
{
	struct fixture *f = *state;
	size_t len = 5 * MiB;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 1);
	struct node n = file_node("f");
	put_mem(f, data, len, &n);
	assert_int_equal(n.size, len);
	assert_true(n.nchunks >= len / CHUNKER_MAX);
	uint64_t off = 0;
	for (size_t i = 0; i < n.nchunks; i++) {
		assert_int_equal(n.chunks[i].off, off);
		if (i + 1 < n.nchunks) {
			assert_true(n.chunks[i].len >= CHUNKER_MIN);
			assert_true(n.chunks[i].len <= CHUNKER_MAX);
		}
		off += n.chunks[i].len;
	}
	assert_int_equal(off, len);

	/* Chunking is a function of the content: another reader step gives
	 * the same chunks. */
	struct node n2 = file_node("f");
	struct mem_reader m = { .p = data, .len = len, .step = 1 << 20 };
	CHECK(writer_put_stream(f->w, mem_read, &m, &n2));
	assert_int_equal(n2.nchunks, n.nchunks);
	for (size_t i = 0; i < n.nchunks; i++)
		assert_true(id_equal(&n.chunks[i].id, &n2.chunks[i].id));
	node_clear(&n);
	node_clear(&n2);
	free(data);
}

static void dedup_within_and_across_commits(void **state)
{
	struct fixture *f = *state;
	size_t len = 5 * MiB;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 2);
	struct node n = file_node("f");
	uint64_t b1, s1, b2, s2;

	put_mem(f, data, len, &n);
	writer_stats(f->w, &b1, &s1);
	assert_true(b1 > 0 && b1 <= n.nchunks);
	assert_true(s1 < len + b1 * 64); /* bytes lag while the worker seals */
	put_mem(f, data, len, &n); /* pending (open pack) */
	writer_stats(f->w, &b2, &s2);
	assert_int_equal(b1, b2);

	blob_id root;
	put_tree(f, &n, 1, &root);
	struct snapshot snap;
	fixture_commit(f, &root, 1000, &snap);
	assert_int_equal(snap.stats.new_blobs, b1 + 2); /* chunks, the tree, the snapshot record */
	assert_true(snap.stats.new_bytes > 0 && snap.stats.new_bytes < len);
	assert_true(snap.stats.new_bytes >= s1);
	snapshot_clear(&snap);

	/* After commit the counters restart and the catalog dedups. */
	writer_stats(f->w, &b2, &s2);
	assert_int_equal(b2, 0);
	struct node again = file_node("f");
	put_mem(f, data, len, &again);
	writer_stats(f->w, &b2, &s2);
	assert_int_equal(b2, 0);
	assert_int_equal(s2, 0);
	node_clear(&again);

	/* One changed byte in the middle adds one or two chunks, not five MiB. */
	data[len / 2] ^= 0x55;
	struct node changed = file_node("f");
	put_mem(f, data, len, &changed);
	writer_stats(f->w, &b2, &s2);
	assert_true(b2 >= 1 && b2 <= 3);
	node_clear(&changed);
	free(data);
}

static void empty_and_tiny_streams(void **state)
{
	struct fixture *f = *state;
	struct node n = file_node("e");
	put_mem(f, (const uint8_t *)"", 0, &n);
	assert_int_equal(n.size, 0);
	assert_int_equal(n.nchunks, 0);
	put_mem(f, (const uint8_t *)"x", 1, &n);
	assert_int_equal(n.size, 1);
	assert_int_equal(n.nchunks, 1);
	assert_int_equal(n.chunks[0].len, 1);
	node_clear(&n);
}

static void put_fd_reads_file(void **state)
{
	struct fixture *f = *state;
	char path[128];
	size_t len = 700 * 1024 + 3;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 3);
	snprintf(path, sizeof path, "%s/file", f->dir);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct node a = file_node("a"), b = file_node("b");
	CHECK(writer_put_fd(f->w, fd, &a));
	close(fd);
	put_mem(f, data, len, &b);
	assert_int_equal(a.size, len);
	assert_int_equal(a.nchunks, b.nchunks);
	for (size_t i = 0; i < a.nchunks; i++)
		assert_true(id_equal(&a.chunks[i].id, &b.chunks[i].id));
	node_clear(&a);
	node_clear(&b);
	free(data);

	fd = open(f->dir, O_RDONLY | O_DIRECTORY); /* read() fails: EISDIR */
	struct node d = file_node("d");
	assert_int_equal(writer_put_fd(f->w, fd, &d), -EISDIR);
	assert_non_null(strstr(store_error(), "reading"));
	close(fd);
	node_clear(&d);
}

static int failing_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	int *calls = ctx;
	if ((*calls)++ == 3)
		return store_fail(-EIO, "test source: broken");
	memset(buf, 'z', cap < 1000 ? cap : 1000);
	*ret_n = cap < 1000 ? cap : 1000;
	return 0;
}

static void reader_error_is_returned(void **state)
{
	struct fixture *f = *state;
	int calls = 0;
	struct node n = file_node("f");
	assert_int_equal(writer_put_stream(f->w, failing_read, &calls, &n), -EIO);
	assert_string_equal(store_error(), "test source: broken");
	assert_null(n.chunks); /* untouched on failure */
	node_clear(&n);
}

static void commit_makes_snapshot_visible(void **state)
{
	struct fixture *f = *state;
	/* Past 4 MiB a stream is sealed at the bulk level (writer_stream.c):
	 * the read-back below covers chunks of both levels. */
	size_t len = 6 * MiB;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 4);

	struct node inner[2] = { file_node("data.bin"), { 0 } };
	put_mem(f, data, len, &inner[0]);
	inner[1] = file_node("empty");
	blob_id sub, root;
	put_tree(f, inner, 2, &sub);
	struct node top[2] = { dir_node("src", &sub), { 0 } };
	top[1] = file_node("README");
	put_mem(f, (const uint8_t *)"hello\n", 6, &top[1]);
	put_tree(f, top, 2, &root);

	struct snapshot latest;
	assert_int_equal(catalog_snapshot_latest(f->repo, f->project_id, &latest), -ENOENT);
	struct snapshot snap;
	fixture_commit(f, &root, 1771065000000000000, &snap);
	assert_non_null(snap.name);
	CHECK(catalog_snapshot_latest(f->repo, f->project_id, &latest));
	assert_true(id_equal(&latest.root, &root));
	assert_int_equal(latest.stats.new_blobs, snap.stats.new_blobs);
	assert_true(latest.stats.new_blobs >= 4);
	snapshot_clear(&latest);
	snapshot_clear(&snap);

	/* A separate reader sees it all. */
	struct repo *rd;
	CHECK(repo_open(f->repo_path, REPO_READ, 0, &rd));
	struct tree *t;
	CHECK(tree_load(rd, &root, &t));
	assert_int_equal(t->n, 2);
	assert_string_equal(t->nodes[0].name, "README");
	assert_string_equal(t->nodes[1].name, "src");
	assert_true(id_equal(&t->nodes[1].subtree, &sub));
	tree_free(t);

	struct node n;
	CHECK(tree_resolve(rd, &root, "src/data.bin", &n));
	assert_int_equal(n.size, len);
	uint8_t *back = malloc(len);
	assert_int_equal(content_read(rd, &n, 0, back, len), (ssize_t)len);
	assert_memory_equal(back, data, len);
	node_clear(&n);
	free(back);
	free(data);
	repo_close(rd);
}

static void resolve_paths(void **state)
{
	struct fixture *f = *state;
	blob_id c, b, root;
	struct node leaf[1] = { file_node("c") };
	put_mem(f, (const uint8_t *)"content", 7, &leaf[0]);
	put_tree(f, leaf, 1, &c);
	struct node mid[2] = { dir_node("b", &c), { 0 } };
	mid[1] = file_node("file");
	put_tree(f, mid, 2, &b);
	struct node top[1] = { dir_node("a", &b) };
	put_tree(f, top, 1, &root);
	struct snapshot snap;
	fixture_commit(f, &root, 5, &snap);
	snapshot_clear(&snap);

	struct node n;
	static const char *const to_c[] = { "a/b/c", "./a//b/c", "a/b/c/", "/a/./b//c" };
	for (size_t i = 0; i < 4; i++) {
		CHECK(tree_resolve(f->repo, &root, to_c[i], &n));
		assert_string_equal(n.name, "c");
		assert_int_equal(n.size, 7);
		node_clear(&n);
	}
	CHECK(tree_resolve(f->repo, &root, "./a//b/", &n));
	assert_string_equal(n.name, "b");
	assert_int_equal(n.type, NODE_DIR);
	assert_true(id_equal(&n.subtree, &c));
	node_clear(&n);
	static const char *const to_root[] = { "", ".", "./", "//" };
	for (size_t i = 0; i < 4; i++) {
		CHECK(tree_resolve(f->repo, &root, to_root[i], &n));
		assert_string_equal(n.name, "");
		assert_int_equal(n.type, NODE_DIR);
		assert_true(id_equal(&n.subtree, &root));
		node_clear(&n);
	}
	assert_int_equal(tree_resolve(f->repo, &root, "a/../a", &n), -EINVAL);
	assert_int_equal(tree_resolve(f->repo, &root, "..", &n), -EINVAL);
	assert_int_equal(tree_resolve(f->repo, &root, "a/x", &n), -ENOENT);
	assert_string_equal(store_error(), "a/x: no such file or directory in the snapshot");
	assert_int_equal(tree_resolve(f->repo, &root, "a/b/c/d", &n), -ENOTDIR);
	assert_string_equal(store_error(), "a/b/c: not a directory");
	assert_int_equal(tree_resolve(f->repo, &root, "a/file/x", &n), -ENOTDIR);

	/* A subtree id that is not in the repository is damage, not ENOENT. */
	blob_id bogus;
	memset(&bogus, 0x42, sizeof bogus);
	assert_int_equal(tree_resolve(f->repo, &bogus, "a", &n), -STORE_ECORRUPT);
	struct tree *t;
	assert_int_equal(tree_load(f->repo, &bogus, &t), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "missing"));
}

static uint64_t distinct_chunks(const struct node *n)
{
	uint64_t d = 0;
	for (size_t i = 0; i < n->nchunks; i++) {
		size_t j = 0;
		while (j < i && !id_equal(&n->chunks[j].id, &n->chunks[i].id))
			j++;
		d += j == i;
	}
	return d;
}

static void free_without_commit_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * MiB;
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 5);
	struct node n = file_node("f");
	put_mem(f, data, len, &n);
	blob_id root;
	put_tree(f, &n, 1, &root);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s/tmp", f->repo_path);
	/* The sealing worker opens the pack shortly after the first blob. */
	for (int i = 0; i < 3000 && count_entries(tmp) < 1; i++) /* 30 s at most */
		usleep(10000);
	assert_true(count_entries(tmp) >= 1);
	writer_free(f->w);
	f->w = NULL;
	assert_int_equal(count_entries(tmp), 0);
	struct snapshot s;
	assert_int_equal(catalog_snapshot_latest(f->repo, f->project_id, &s), -ENOENT);
	/* Nothing was indexed: a new writer stores everything again. */
	CHECK(writer_open(f->repo, &f->w));
	struct node again = file_node("f");
	put_mem(f, data, len, &again);
	uint64_t blobs;
	writer_stats(f->w, &blobs, NULL);
	assert_int_equal(blobs, distinct_chunks(&again));
	node_clear(&again);
	free(data);
}

static void full_packs_are_indexed_at_once(void **state)
{
	struct fixture *f = *state;
	/* Incompressible data past PACK_TARGET_SIZE finishes a pack midway;
	 * it is indexed at once, so an abort keeps it reusable. */
	size_t len = 34 * MiB;
	uint8_t *data = malloc(len);
	uint64_t s = 99;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rng_next(&s);
		memcpy(data + i, &v, 8);
	}
	struct node n = file_node("big");
	put_mem(f, data, len, &n);
	writer_free(f->w);
	f->w = NULL;
	CHECK(writer_open(f->repo, &f->w));
	struct node again = file_node("big");
	put_mem(f, data, len, &again);
	uint64_t blobs;
	writer_stats(f->w, &blobs, NULL);
	assert_true(blobs < n.nchunks / 2); /* most came from the finished pack */
	assert_true(blobs > 0);             /* the tail was in the aborted pack */
	node_clear(&n);
	node_clear(&again);
	free(data);
}

/* Several workers seal side by side, but blobs reach the pack in the order
 * they were put: the pack layout is what one worker would write.  Mixed
 * data makes the workers finish out of order (random chunks are sealed
 * faster than text ones). */
static void packs_keep_the_order_blobs_were_put(void **state)
{
	struct fixture *f = *state;
	size_t len = 8 * MiB; /* one pack: below PACK_TARGET_SIZE even if stored raw */
	uint8_t *data = malloc(len);
	fill_mixed(data, len, 7);
	struct node n = file_node("f");
	put_mem(f, data, len, &n);
	CHECK(writer_flush(f->w));
	struct blob_loc first, loc;
	CHECK(catalog_blob_lookup(f->repo, &n.chunks[0].id, BLOB_DATA, &first));
	uint64_t last = first.offset;
	size_t fresh = 1;
	for (size_t i = 1; i < n.nchunks; i++) {
		bool seen = false; /* a repeated chunk is stored once, where it first came */
		for (size_t k = 0; k < i && !seen; k++)
			seen = id_equal(&n.chunks[k].id, &n.chunks[i].id);
		if (seen)
			continue;
		CHECK(catalog_blob_lookup(f->repo, &n.chunks[i].id, BLOB_DATA, &loc));
		assert_string_equal(loc.pack, first.pack);
		assert_true(loc.offset > last);
		last = loc.offset;
		fresh++;
	}
	assert_true(fresh > 2 * WRITER_SLOTS); /* more blobs than the ring holds */
	node_clear(&n);
	free(data);
}

/* A writer killed after renaming a finished pack into packs/ and before
 * the catalog indexed it: the next writer's repo_open indexes that pack
 * (from its journal entry), so its blobs are reused at once. */
static void killed_between_rename_and_index(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "a blob in a pack the catalog never heard of";
	blob_id id;
	keys_blob_id(&f->repo->keys, text, sizeof text, &id);
	struct blob_codec *codec;
	CHECK(blob_codec_new(&f->repo->keys, BLOB_ZSTD_LEVEL, &codec));
	uint8_t sealed[512];
	size_t slen;
	CHECK(blob_seal(codec, &id, BLOB_DATA, text, sizeof text, sealed, &slen));
	struct pack_writer *pw;
	CHECK(pack_writer_open(f->repo->dirfd, codec, &pw));
	struct pack_entry e;
	CHECK(pack_writer_add(pw, &id, BLOB_DATA, sealed, slen, sizeof text, &e));
	char name[PACK_NAME_LEN + 1];
	const struct pack_entry *entries;
	size_t n;
	uint64_t size;
	/* Finished and renamed, then "killed": no catalog_pack_add. */
	CHECK(pack_writer_finish(pw, name, &entries, &n, &size));
	pack_writer_free(pw);
	blob_codec_free(codec);
	struct blob_loc loc;
	assert_int_equal(catalog_blob_lookup(f->repo, &id, BLOB_DATA, &loc), -ENOENT);
	writer_free(f->w);
	f->w = NULL;
	repo_close(f->repo);
	f->repo = NULL;

	/* A reader does not touch it (it holds no lock)... */
	struct repo *rd;
	CHECK(repo_open(f->repo_path, REPO_READ, 0, &rd));
	assert_int_equal(catalog_blob_lookup(rd, &id, BLOB_DATA, &loc), -ENOENT);
	repo_close(rd);
	/* ...the next writer indexes it and clears the journal. */
	CHECK(repo_open(f->repo_path, REPO_WRITE, 0, &f->repo));
	CHECK(catalog_blob_lookup(f->repo, &id, BLOB_DATA, &loc));
	assert_string_equal(loc.pack, name);
	assert_int_equal(loc.offset, e.offset);
	assert_int_equal(loc.type, BLOB_DATA);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s/tmp", f->repo_path);
	assert_int_equal(count_entries(tmp), 0);
	/* And the blob reads back through the catalog. */
	uint8_t *back;
	size_t blen;
	CHECK(repo_load_blob(f->repo, &id, BLOB_DATA, &back, &blen));
	assert_int_equal(blen, sizeof text);
	assert_memory_equal(back, text, sizeof text);
	free(back);
	CHECK(writer_open(f->repo, &f->w));
}

/* The journal of a pack that was never renamed (killed before the rename)
 * names nothing: the next writer just drops it. */
static void journal_without_pack_is_dropped(void **state)
{
	struct fixture *f = *state;
	char path[200];
	snprintf(path, sizeof path, "%s/tmp/0123456789abcdef0123456789abcdef" PACK_JOURNAL_SUFFIX,
		 f->repo_path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	writer_free(f->w);
	f->w = NULL;
	repo_close(f->repo);
	f->repo = NULL;
	CHECK(repo_open(f->repo_path, REPO_WRITE, 0, &f->repo));
	assert_int_equal(access(path, F_OK), -1);
	CHECK(writer_open(f->repo, &f->w));
}

static void rejects_read_only_repo(void **state)
{
	struct fixture *f = *state;
	struct repo *rd;
	struct writer *w = NULL;
	CHECK(repo_open(f->repo_path, REPO_READ, 0, &rd));
	assert_true(writer_open(rd, &w) < 0);
	assert_null(w);
	repo_close(rd);
	writer_free(NULL);
}

/* The same bytes as a data chunk, a tree and a snapshot record, stored in
 * every order: each is its own blob (one id, three index rows), each
 * loads as its type, and none is deduplicated against another. */
static void same_bytes_every_type_pair(void **state)
{
	struct fixture *f = *state;
	static const uint8_t types[3] = { BLOB_DATA, BLOB_TREE, BLOB_SNAPSHOT };
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					  { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	for (int o = 0; o < 6; o++) {
		uint8_t bytes[2] = { 1, (uint8_t)o }; /* {1, 0} is the encoded empty tree */
		blob_id ids[3];
		for (int k = 0; k < 3; k++) {
			uint8_t t = types[orders[o][k]];
			uint64_t before, after;
			writer_stats(f->w, &before, NULL);
			CHECK(writer_put_blob(f->w, t, bytes, sizeof bytes, &ids[k]));
			writer_stats(f->w, &after, NULL);
			assert_int_equal(after, before + 1); /* never deduplicated across types */
			if (k)
				assert_memory_equal(&ids[k], &ids[0], sizeof ids[0]);
			assert_true(writer_has(f->w, &ids[0], t));
		}
		/* Again, after the blobs are durable: every type is found. */
		CHECK(writer_flush(f->w));
		for (int k = 0; k < 3; k++) {
			uint64_t before, after;
			writer_stats(f->w, &before, NULL);
			CHECK(writer_put_blob(f->w, types[k], bytes, sizeof bytes, NULL));
			writer_stats(f->w, &after, NULL);
			assert_int_equal(after, before);
			struct blob_loc loc;
			CHECK(catalog_blob_lookup(f->repo, &ids[0], types[k], &loc));
			assert_int_equal(loc.type, types[k]);
			uint8_t *back;
			size_t blen;
			CHECK(repo_load_blob(f->repo, &ids[0], types[k], &back, &blen));
			assert_int_equal(blen, sizeof bytes);
			assert_memory_equal(back, bytes, sizeof bytes);
			free(back);
		}
	}
}

/* The writer's thread looks blobs up on its own connection, many lookups
 * to one read transaction (catalog_reader.c).  Rows the shared connection
 * adds meanwhile (check --repair indexing packs, the appender indexing a
 * finished pack) must be seen by the very next lookup, as if it ran on the
 * shared connection: a held snapshot that missed them would store a blob
 * twice, or refuse a tree that names one. */
static void held_lookups_see_rows_added_meanwhile(void **state)
{
	struct fixture *f = *state;
	blob_id ids[3];
	for (int i = 0; i < 3; i++) {
		uint8_t seed[8] = { 'h', 'e', 'l', 'd', (uint8_t)i };
		repo_blob_id(f->repo, seed, sizeof seed, &ids[i]);
	}
	/* The read transaction is open after a first lookup that misses. */
	assert_false(writer_has(f->w, &ids[0], BLOB_DATA));
	assert_false(writer_has(f->w, &ids[1], BLOB_DATA));
	for (int i = 0; i < 3; i++) {
		char name[PACK_NAME_LEN + 1];
		snprintf(name, sizeof name, "%031d%d", 0, i);
		struct pack_entry e = { .id = ids[i], .type = BLOB_DATA, .offset = PACK_HEADER_SIZE,
					.length = BLOB_OVERHEAD + 8, .raw_length = 8 };
		CHECK(catalog_pack_add(f->repo, name, 4096, &e, 1));
		/* Seen at once, by the lookup of the writer's thread. */
		assert_true(writer_has(f->w, &ids[i], BLOB_DATA));
		struct blob_loc loc;
		CHECK(catalog_blob_lookup(f->repo, &ids[i], BLOB_DATA, &loc));
		assert_string_equal(loc.pack, name);
	}
}

/* writer_put_tree and writer_commit refuse references to blobs that are
 * missing or held only under another type, so a snapshot can never be
 * committed with one. */
static void trees_refuse_wrong_type_references(void **state)
{
	struct fixture *f = *state;
	static const uint8_t empty_tree[2] = { 1, 0 };
	blob_id as_data;
	CHECK(writer_put_blob(f->w, BLOB_DATA, empty_tree, sizeof empty_tree, &as_data));
	CHECK(writer_flush(f->w));
	/* A directory whose subtree id is only a data chunk. */
	struct node d = { .name = strdup("d"), .type = NODE_DIR, .mode = 0755, .subtree = as_data };
	struct tree t = { .nodes = &d, .n = 1 };
	blob_id root;
	store_error_clear();
	assert_int_equal(writer_put_tree(f->w, &t, &root), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "is not in the repository as a tree"));
	/* A file whose chunk is only a tree. */
	static const uint8_t tree_bytes[2] = { 1, 9 };
	blob_id tree_id;
	CHECK(writer_put_blob(f->w, BLOB_TREE, tree_bytes, sizeof tree_bytes, &tree_id));
	struct node_chunk ch = { .id = tree_id, .len = 2 };
	struct node file = { .name = strdup("f"), .type = NODE_FILE, .mode = 0644, .size = 2,
			     .chunks = &ch, .nchunks = 1 };
	struct tree t2 = { .nodes = &file, .n = 1 };
	assert_int_equal(writer_put_tree(f->w, &t2, &root), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "is not in the repository as a data chunk"));
	/* A root that is only a data chunk. */
	struct snapshot_new sn = { .project_id = f->project_id, .time_ns = 5, .root = as_data };
	struct snapshot s;
	(void)tree_id;
	CHECK(writer_put_blob(f->w, BLOB_DATA, "xyz", 3, &sn.root));
	assert_int_equal(writer_commit(f->w, &sn, &s), -STORE_ECORRUPT);
	assert_non_null(strstr(store_error(), "root tree"));
	/* Once the data chunk is stored, the file is accepted. */
	CHECK(writer_put_blob(f->w, BLOB_DATA, tree_bytes, sizeof tree_bytes, NULL));
	CHECK(writer_put_tree(f->w, &t2, &root));
	free(d.name);
	free(file.name);
}

/* A schema-1 catalog (index keyed by id alone) is migrated by the first
 * writer: every row kept under (id, type), its snapshots marked legacy,
 * new ones not; a reader of an unmigrated one treats all as legacy. */
static void schema1_catalog_is_migrated(void **state)
{
	struct fixture *f = *state;
	struct node n = file_node("f");
	put_mem(f, (const uint8_t *)"hello", 5, &n);
	struct tree t = { .nodes = &n, .n = 1 };
	blob_id root;
	CHECK(writer_put_tree(f->w, &t, &root));
	struct snapshot s1;
	fixture_commit(f, &root, 10, &s1);
	node_clear(&n);
	const char *to_v1 =
		"BEGIN;"
		/* schema 3 -> 2: the trash columns go */
		"DROP TRIGGER snapshots_forgotten; DROP TABLE forgotten;"
		"DROP INDEX snapshots_trash;"
		"ALTER TABLE snapshots DROP COLUMN trashed_at_ns;"
		"ALTER TABLE snapshots DROP COLUMN expires_at_ns;"
		"CREATE TABLE b1(id BLOB PRIMARY KEY, pack_id INTEGER NOT NULL REFERENCES packs(id),"
		" offset INTEGER NOT NULL, length INTEGER NOT NULL, raw_length INTEGER NOT NULL,"
		" type INTEGER NOT NULL, xxh INTEGER NOT NULL) WITHOUT ROWID;"
		"INSERT INTO b1 SELECT id, pack_id, offset, length, raw_length, type, xxh FROM blobs;"
		"DROP TABLE blobs; ALTER TABLE b1 RENAME TO blobs;"
		"CREATE INDEX blobs_pack ON blobs(pack_id);"
		"UPDATE meta SET value = '1' WHERE key = 'schema_version';"
		"DELETE FROM meta WHERE key = 'legacy_below';"
		"COMMIT;";
	assert_int_equal(sqlite3_exec(f->repo->db, to_v1, NULL, NULL, NULL), SQLITE_OK);
	writer_free(f->w);
	f->w = NULL;
	repo_close(f->repo);
	f->repo = NULL;

	struct repo *rd;
	CHECK(repo_open(f->repo_path, REPO_READ, 0, &rd));
	assert_true(repo_snapshot_is_legacy(rd, s1.id));
	assert_true(repo_snapshot_is_legacy(rd, s1.id + 1000));
	uint8_t *back;
	size_t blen;
	CHECK(repo_load_blob(rd, &root, BLOB_TREE, &back, &blen));
	free(back);
	repo_close(rd);

	CHECK(repo_open(f->repo_path, REPO_WRITE, 0, &f->repo));
	assert_true(repo_snapshot_is_legacy(f->repo, s1.id));
	assert_false(repo_snapshot_is_legacy(f->repo, s1.id + 1));
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->repo->db,
					    "SELECT (SELECT value FROM meta WHERE key = 'schema_version'),"
					    " (SELECT count(*) FROM pragma_index_list('blobs')"
					    "  WHERE origin = 'pk')",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "3");
	sqlite3_finalize(st);
	CHECK(repo_load_blob(f->repo, &root, BLOB_TREE, &back, &blen));
	free(back);
	/* Reopening does not move the boundary. */
	repo_close(f->repo);
	CHECK(repo_open(f->repo_path, REPO_WRITE, 0, &f->repo));
	assert_false(repo_snapshot_is_legacy(f->repo, s1.id + 1));
	CHECK(writer_open(f->repo, &f->w));
	snapshot_clear(&s1);
}

/* The bytes of a file. */
static uint8_t *slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*ret_len = (size_t)n;
	return b;
}

static void sql(sqlite3 *db, const char *q)
{
	char *err = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err ? err : "?");
}

/* Real SQLite databases of every page size are cut on page boundaries:
 * every chunk but the last is one unit long, a one-row update stores only
 * the chunks of the pages it changed (the row's and the header's), and
 * the file reads back byte for byte; a file that stops being a database
 * is cut by content again. */
static void sqlite_databases_chunk_by_page(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/db.sqlite", f->dir);
	for (uint32_t page = 512; page <= 65536; page *= 2) {
		unlink(path);
		sqlite3 *db;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		char q[160];
		snprintf(q, sizeof q, "PRAGMA page_size = %u; PRAGMA journal_mode = DELETE;", page);
		sql(db, q);
		sql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)"
			" INSERT INTO t SELECT i, hex(randomblob(60)) FROM n;");
		sqlite3_close(db);
		size_t len;
		uint8_t *a = slurp(path, &len);
		size_t unit = page < CHUNKER_SQLITE_MIN ? CHUNKER_SQLITE_MIN : page;
		assert_int_equal(chunker_sqlite_unit(a, len), unit);
		struct node na = file_node("db");
		put_mem(f, a, len, &na);
		assert_int_equal(na.size, len);
		for (size_t i = 0; i < na.nchunks; i++) {
			assert_int_equal(na.chunks[i].off, i * unit);
			if (i + 1 < na.nchunks)
				assert_int_equal(na.chunks[i].len, unit);
		}

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sql(db, "UPDATE t SET v = 'changed' WHERE id = 3000;");
		sqlite3_close(db);
		size_t blen;
		uint8_t *b = slurp(path, &blen);
		uint64_t before, after;
		writer_stats(f->w, &before, NULL);
		struct node nb = file_node("db");
		put_mem(f, b, blen, &nb);
		writer_stats(f->w, &after, NULL);
		/* The row's page and the header page (its change counter); each
		 * may share a unit when pages are smaller than the unit. */
		assert_true(after - before >= 1 && after - before <= 2);
		struct tree t = { .nodes = &nb, .n = 1 };
		blob_id root;
		CHECK(writer_put_tree(f->w, &t, &root));
		struct snapshot s;
		fixture_commit(f, &root, (int64_t)page, &s);
		uint8_t *back = malloc(blen);
		assert_non_null(back);
		assert_int_equal(content_read(f->repo, &nb, 0, back, blen), (ssize_t)blen);
		assert_memory_equal(back, b, blen);
		free(back);
		snapshot_clear(&s);

		/* No longer a database: content-defined chunks, same bytes. The
		 * count of chunks can match the page cut by chance (the average
		 * chunk is 64 KiB, like the largest page), so what is checked is
		 * where they are cut: some cut falls off a unit boundary. */
		b[0] = 'X';
		struct node nc = file_node("db");
		put_mem(f, b, blen, &nc);
		assert_int_equal(nc.size, blen);
		bool off_unit = blen <= CHUNKER_MIN;
		for (size_t i = 1; i < nc.nchunks; i++)
			off_unit |= nc.chunks[i].off % unit != 0;
		assert_true(off_unit);
		node_clear(&na);
		node_clear(&nb);
		node_clear(&nc);
		free(a);
		free(b);
	}
}

/* ---- ids hashed beside the caller (writer_hash.c) ----------------------- */

/* The chunks of data[0..len) as the chunker cuts them in one piece, with
 * the ids hashed here: what any reader step and any helper timing must
 * give. */
static size_t expected_chunks(struct fixture *f, const uint8_t *data, size_t len,
			      struct node_chunk **ret)
{
	size_t unit = chunker_sqlite_unit(data, len), n = 0;
	struct node_chunk *v = malloc((len / CHUNKER_SQLITE_MIN + 2) * sizeof *v);
	assert_non_null(v);
	for (size_t pos = 0; pos < len; n++) {
		size_t left = len - pos;
		size_t c = unit ? (left < unit ? left : unit) : chunker_cut(data + pos, left);
		v[n].off = pos;
		v[n].len = (uint32_t)c;
		repo_blob_id(f->repo, data + pos, c, &v[n].id);
		pos += c;
	}
	*ret = v;
	return n;
}

/* n is data's chunk list, and every chunk reads back (repo_load_blob
 * checks the id against the bytes) as data's bytes at its offset. */
static void assert_stored_as(struct fixture *f, const struct node *n, const uint8_t *data,
			     size_t len)
{
	struct node_chunk *want;
	size_t nwant = expected_chunks(f, data, len, &want);
	assert_int_equal(n->size, len);
	assert_int_equal(n->nchunks, nwant);
	for (size_t i = 0; i < nwant; i++) {
		assert_int_equal(n->chunks[i].off, want[i].off);
		assert_int_equal(n->chunks[i].len, want[i].len);
		assert_true(id_equal(&n->chunks[i].id, &want[i].id));
	}
	free(want);
	CHECK(writer_flush(f->w));
	for (size_t i = 0; i < n->nchunks; i++) {
		uint8_t *got;
		size_t glen;
		CHECK(repo_load_blob(f->repo, &n->chunks[i].id, BLOB_DATA, &got, &glen));
		assert_int_equal(glen, n->chunks[i].len);
		assert_memory_equal(got, data + n->chunks[i].off, glen);
		free(got);
	}
}

/* A stream of many buffers: its ids are hashed on the helper and the
 * caller together while the next buffer is read (writer_stream.c); the
 * chunk list must be the one-piece one whatever the reader's step, and no
 * chunk stored under an id not its own. */
static void streamed_ids_are_the_stored_bytes(void **state)
{
	struct fixture *f = *state;
	size_t len = 21 * MiB + 12345;
	uint8_t *data = malloc(len);
	assert_non_null(data);
	static const size_t steps[] = {0, 4093, 3 * MiB + 1, 256 * 1024};
	for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
		fill_mixed(data, len, 100 + k);
		struct node n = file_node("f");
		struct mem_reader m = {.p = data, .len = len, .step = steps[k]};
		CHECK(writer_put_stream(f->w, mem_read, &m, &n));
		assert_true(writer_hash_idle(f->w));
		assert_stored_as(f, &n, data, len);
		node_clear(&n);
	}
	/* A SQLite file is cut on its pages, across buffers as well. */
	fill_mixed(data, len, 7);
	memcpy(data, "SQLite format 3", 16);
	data[16] = 0x10; /* page size 4096 */
	data[17] = 0x00;
	size_t dblen = 9 * MiB + 3 * 4096;
	struct node n = file_node("db");
	struct mem_reader m = {.p = data, .len = dblen, .step = 65536 + 7};
	CHECK(writer_put_stream(f->w, mem_read, &m, &n));
	assert_int_equal(n.nchunks, dblen / 4096);
	assert_stored_as(f, &n, data, dblen);
	node_clear(&n);
	free(data);
}

/* A reader that fails after limit bytes. */
struct failing_mem {
	struct mem_reader m;
	size_t limit;
};

static int failing_mem_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct failing_mem *fm = ctx;
	if (fm->m.pos >= fm->limit)
		return store_fail(-EIO, "test source: broken");
	return mem_read(&fm->m, buf, cap, ret_n);
}

/* A source error in the middle of a long stream leaves the writer usable:
 * the helper is off both buffers before the next stream fills them.  The
 * error comes right after a buffer was handed to the helper (limit on a
 * buffer's end) and the next stream starts at once, into that buffer. */
static void stream_error_mid_way_then_stream(void **state)
{
	struct fixture *f = *state;
	size_t len = 17 * MiB;
	uint8_t *bad = malloc(len), *good = malloc(len);
	assert_non_null(bad);
	assert_non_null(good);
	fill_mixed(bad, len, 31);
	static const size_t limits[] = {4 * MiB, 8 * MiB, 4 * MiB + 5, 12 * MiB, 7 * MiB - 3};
	for (int round = 0; round < 20; round++) {
		size_t limit = limits[round % 5];
		fill_mixed(good, len, 32 + (uint64_t)round);
		struct node n = file_node("f");
		struct failing_mem fm = {.m = {.p = bad, .len = len, .step = 1 << 20}, .limit = limit};
		assert_int_equal(writer_put_stream(f->w, failing_mem_read, &fm, &n), -EIO);
		assert_true(writer_hash_idle(f->w));
		assert_null(n.chunks);
		node_clear(&n);
		struct node n2 = file_node("g");
		put_mem(f, good, len, &n2);
		assert_stored_as(f, &n2, good, len);
		node_clear(&n2);
	}
	free(bad);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(put_stream_chunks, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(streamed_ids_are_the_stored_bytes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(stream_error_mid_way_then_stream, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(sqlite_databases_chunk_by_page, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(held_lookups_see_rows_added_meanwhile, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(same_bytes_every_type_pair, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(trees_refuse_wrong_type_references, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(schema1_catalog_is_migrated, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(dedup_within_and_across_commits, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(empty_and_tiny_streams, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(put_fd_reads_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reader_error_is_returned, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(commit_makes_snapshot_visible, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(resolve_paths, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(free_without_commit_leaves_nothing, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(packs_keep_the_order_blobs_were_put, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(full_packs_are_indexed_at_once, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(killed_between_rename_and_index, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(journal_without_pack_is_dropped, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(rejects_read_only_repo, fixture_setup,
						fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
