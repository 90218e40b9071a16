/* fuzz_catalog_rows.c — catalog rows that point anywhere in (or past) a pack.
 *
 * A small real repository is made once (a file of a few chunks and a tree,
 * committed as a snapshot).  Each input rewrites the blob index row of one
 * of its blobs with hostile offset, lengths, type and checksum:
 *
 *   which[1] | type[1] | offset[u64] | length[u32] | raw_length[u32] | xxh[u64]
 *
 * repo_load_blob must then fail cleanly or return exactly the blob's real
 * plaintext — never other bytes, never a crash or an over-read. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo_internal.h"
#include "store/tree.h"
#include "store/writer.h"
#include "tests/fuzz/fuzz.h"

#define NBLOBS_MAX 16

static struct repo *repo;
static char dir[64];
static blob_id ids[NBLOBS_MAX];
static uint8_t types[NBLOBS_MAX];
static uint8_t *plain[NBLOBS_MAX];
static size_t plain_len[NBLOBS_MAX];
static size_t nids;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void cleanup(void)
{
	repo_close(repo);
	for (size_t i = 0; i < nids; i++)
		free(plain[i]);
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct src {
	size_t left;
	uint32_t x;
};

static int gen(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct src *s = ctx;
	size_t n = cap < s->left ? cap : s->left;
	uint8_t *b = buf;
	for (size_t i = 0; i < n; i++) {
		s->x = s->x * 1103515245u + 12345u;
		b[i] = (uint8_t)(s->x >> 16);
	}
	s->left -= n;
	*ret_n = n;
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_catalog_rows: %s: %s\n", what, store_error() ? store_error() : "?");
	abort();
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/ckptfs-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	char path[128];
	snprintf(path, sizeof path, "%s/repo", dir);
	if (repo_open(path, REPO_WRITE, 0, &repo) < 0)
		die("repo_open");
	struct writer *w;
	if (writer_open(repo, &w) < 0)
		die("writer_open");
	struct node file = { .name = "f", .type = NODE_FILE, .mode = 0644 };
	struct src s = { 300 * 1024, 42 };
	if (writer_put_stream(w, gen, &s, &file) < 0)
		die("writer_put_stream");
	struct tree t = { .nodes = &file, .n = 1 };
	blob_id root;
	if (writer_put_tree(w, &t, &root) < 0)
		die("writer_put_tree");
	struct project p;
	if (catalog_project_register(repo, "fuzz", dir, &p) < 0)
		die("catalog_project_register");
	struct snapshot_new sn = { .project_id = p.id, .time_ns = 1, .root = root };
	struct snapshot snap;
	if (writer_commit(w, &sn, &snap) < 0)
		die("writer_commit");
	snapshot_clear(&snap);
	project_clear(&p);
	for (size_t i = 0; i < file.nchunks && nids < NBLOBS_MAX - 1; i++)
		types[nids] = BLOB_DATA, ids[nids++] = file.chunks[i].id;
	types[nids] = BLOB_TREE, ids[nids++] = root;
	node_clear(&(struct node){ .chunks = file.chunks, .nchunks = file.nchunks });
	writer_free(w);
	for (size_t i = 0; i < nids; i++)
		if (repo_load_blob(repo, &ids[i], types[i], &plain[i], &plain_len[i]) < 0)
			die("repo_load_blob");
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!repo)
		setup();
	if (size < 2 + 8 + 4 + 4 + 8)
		return 0;
	size_t which = data[0] % nids;
	sqlite3_stmt *st;
	pthread_mutex_lock(&repo->db_lock);
	if (sqlite3_prepare_v2(repo->db,
			       "UPDATE blobs SET type = ?2, offset = ?3, length = ?4, raw_length = ?5, "
			       "xxh = ?6 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_blob(st, 1, ids[which].b, ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, data[1]);
	sqlite3_bind_int64(st, 3, (int64_t)le(data + 2, 8));
	sqlite3_bind_int64(st, 4, (int64_t)le(data + 10, 4));
	sqlite3_bind_int64(st, 5, (int64_t)le(data + 14, 4));
	sqlite3_bind_int64(st, 6, (int64_t)le(data + 18, 8));
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	if (rc != SQLITE_DONE)
		return 0;
	uint8_t *out = NULL;
	size_t len = 0;
	if (repo_load_blob(repo, &ids[which], types[which], &out, &len) == 0) {
		if (len != plain_len[which] || memcmp(out, plain[which], len))
			abort();
		free(out);
	}
	store_error_clear();
	return 0;
}
