/* bench_gchist.c — the history gc is measured on (make bench-gc; not a
 * unit test).
 *
 *   make build/out/tests/bench_gchist
 *   build/out/tests/bench_gchist REPO [SNAPSHOTS [FILES [DB_MB]]]
 *
 * Writes into REPO (created if missing) a project "proj" and SNAPSHOTS
 * snapshots (default 1,000) an hour apart, holding what `ckptfs snap`
 * would store of scripts/bench-gc.sh's project: FILES small files
 * (default 30,000: 30 folders of 10 folders of FILES/300) of which 20
 * change before each snapshot; a SQLite database of DB_MB MiB (default
 * 64) in 4 KiB pages, stored page by page as snap stores one, of which
 * 100 pages (and the header page) change each time; a log growing by 86
 * KiB of text, chunked as FastCDC chunks it (only the chunks at its end
 * are new); a 2 MiB asset rewritten every 10th time; a .env every 50th.
 * Trees are built the way a snap builds them (only folders on the way to
 * a change get a new tree), each snapshot is committed with its record
 * in its own pack.
 *
 * Why not run ckptfs snap 1,000 times: each such snap re-reads the whole
 * database (online backup copy, quick_check, then hashing every page and
 * one catalog lookup per page), about 1.4 s with a 64 MiB database on the
 * shared VM, so the history took 45 min; gc only sees trees, chunks and
 * records, which this writes directly through the writer: 100 snapshots
 * in 40-60 s, 1,000 in 19 min at load 10-11 (each still commits a pack
 * with its fsyncs, and the writer checks that every one of the
 * database's chunks is stored before the root tree names them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog.h"
#include "store/chunker.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/writer.h"
#include "store/writer_internal.h" /* writer_put_blob: one page, one chunk */

#define TOP 30
#define MID 10
#define PAGE 4096u
#define DB_PAGES_CHANGED 100
#define LOG_GROWTH (64u << 10) /* random bytes, base64: 86 KiB of text */
#define ASSET_BYTES (2u << 20)
#define HOUR_NS 3600000000000LL

static struct writer *w;
static uint64_t rng = 88172645463325252ull;
static const int64_t t0_ns = 1767225600LL * 1000000000LL; /* 2026-01-01 UTC */

static uint64_t next_rand(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = next_rand();
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_gchist: %s: %s\n", what,
		store_error() ? store_error() : strerror(-r));
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die("memory", -12);
	return p;
}

struct mem_reader {
	const uint8_t *p;
	size_t len, pos;
};

static int mem_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct mem_reader *m = ctx;
	size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*ret_n = n;
	return 0;
}

static void node_init(struct node *n, const char *name, int64_t mtime_ns)
{
	memset(n, 0, sizeof *n);
	n->name = strdup(name);
	n->type = NODE_FILE;
	n->mode = 0644;
	n->mtime_ns = n->ctime_ns = mtime_ns;
}

static void put_bytes(struct node *n, const char *name, const uint8_t *p, size_t len,
		      int64_t mtime_ns)
{
	node_clear(n);
	node_init(n, name, mtime_ns);
	struct mem_reader m = {p, len, 0};
	int r = writer_put_stream(w, mem_read, &m, n);
	if (r < 0)
		die(name, r);
}

static void put_small(struct node *n, const char *name, unsigned id, unsigned version,
		      int64_t mtime_ns)
{
	char text[96];
	int len = snprintf(text, sizeof text, "file %u version %u\n", id, version);
	put_bytes(n, name, (const uint8_t *)text, (size_t)len, mtime_ns);
}

/* A file node over chunks [0, n) of ids with lengths lens. */
static void set_chunks(struct node *nd, const blob_id *ids, const uint32_t *lens, size_t n)
{
	free(nd->chunks);
	nd->chunks = xcalloc(n, sizeof *nd->chunks);
	nd->nchunks = n;
	nd->size = 0;
	for (size_t i = 0; i < n; i++) {
		nd->chunks[i].id = ids[i];
		nd->chunks[i].off = nd->size;
		nd->chunks[i].len = lens[i];
		nd->size += lens[i];
	}
}

static void put_blob(const uint8_t *p, size_t len, blob_id *ret)
{
	int r = writer_put_blob(w, BLOB_DATA, p, len, ret);
	if (r < 0)
		die("blob", r);
}

static void put_tree(struct node *nodes, size_t n, blob_id *ret)
{
	struct tree t = {.nodes = nodes, .n = n};
	int r = writer_put_tree(w, &t, ret);
	if (r < 0)
		die("tree", r);
}

static struct node dir(const char *name, const blob_id *id)
{
	struct node n = {0};
	n.name = strdup(name);
	n.type = NODE_DIR;
	n.mode = 0755;
	n.subtree = *id;
	return n;
}

/* ---- the database: pages, their ids ------------------------------------ */

struct db {
	uint8_t *bytes;
	size_t pages;
	blob_id *ids;
	uint32_t *lens;
};

static void db_page(struct db *d, size_t i)
{
	uint8_t *p = d->bytes + i * PAGE;
	fill_random(p, PAGE);
	if (i == 0) { /* a header chunker_sqlite_unit reads as 4 KiB pages */
		memcpy(p, "SQLite format 3", 16);
		p[16] = PAGE >> 8;
		p[17] = PAGE & 0xff;
	}
	put_blob(p, PAGE, &d->ids[i]);
}

/* ---- the log: content-defined chunks, only its end changes -------------- */

struct growing {
	blob_id *ids; /* fixed chunks, then the tail's */
	uint32_t *lens;
	size_t n, cap;
	uint8_t *tail; /* bytes after the last cut that is final */
	size_t tail_len;
};

static void grow_push(struct growing *g, const uint8_t *p, uint32_t len)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 256;
		g->ids = realloc(g->ids, g->cap * sizeof *g->ids);
		g->lens = realloc(g->lens, g->cap * sizeof *g->lens);
		if (!g->ids || !g->lens)
			die("memory", -12);
	}
	put_blob(p, len, &g->ids[g->n]);
	g->lens[g->n++] = len;
}

/* Append text; cut what FastCDC cuts before the end (a cut found with the
 * end in view is where a longer file has it too); the rest is the file's
 * last chunk this time.  Returns the chunk count including that tail. */
static size_t grow_append(struct growing *g, const uint8_t *p, size_t len)
{
	g->tail = realloc(g->tail, g->tail_len + len);
	if (!g->tail)
		die("memory", -12);
	memcpy(g->tail + g->tail_len, p, len);
	g->tail_len += len;
	size_t c;
	while (g->tail_len && (c = chunker_cut(g->tail, g->tail_len)) < g->tail_len) {
		grow_push(g, g->tail, (uint32_t)c);
		memmove(g->tail, g->tail + c, g->tail_len - c);
		g->tail_len -= c;
	}
	size_t fixed = g->n;
	if (g->tail_len)
		grow_push(g, g->tail, (uint32_t)g->tail_len);
	g->n = fixed; /* the tail chunk is re-cut next time */
	return fixed + (g->tail_len ? 1 : 0);
}

static void base64(const uint8_t *in, size_t n, uint8_t *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, col = 0;
	for (size_t i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = (uint8_t)a[v >> 18];
		out[o++] = (uint8_t)a[(v >> 12) & 63];
		out[o++] = (uint8_t)a[(v >> 6) & 63];
		out[o++] = (uint8_t)a[v & 63];
		if ((col += 4) == 76) {
			out[o++] = '\n';
			col = 0;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_gchist REPO [SNAPSHOTS [FILES [DB_MB]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines as they come */
	unsigned nsnap = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	unsigned nfiles = argc > 3 ? (unsigned)atoi(argv[3]) : 30000;
	unsigned db_mb = argc > 4 ? (unsigned)atoi(argv[4]) : 64;
	unsigned per = nfiles / (TOP * MID) ? nfiles / (TOP * MID) : 1;
	struct repo *repo;
	struct project p;
	int r = repo_open(argv[1], REPO_WRITE, 0, &repo);
	if (r < 0 || (r = writer_open(repo, &w)) < 0 ||
	    (r = catalog_project_register(repo, "proj", "/nonexistent/proj", &p)) < 0)
		die("open", r);

	static struct node *leaf[TOP][MID];
	static blob_id leaf_id[TOP][MID], mid_id[TOP];
	struct db db = {.pages = (size_t)db_mb * (1 << 20) / PAGE};
	if (db.pages < 1)
		db.pages = 1;
	db.bytes = xcalloc(db.pages, PAGE);
	db.ids = xcalloc(db.pages, sizeof *db.ids);
	db.lens = xcalloc(db.pages, sizeof *db.lens);
	struct growing log = {0};
	uint8_t *rnd = xcalloc(ASSET_BYTES, 1);
	uint8_t *text = xcalloc(LOG_GROWTH / 3 * 4 + LOG_GROWTH / 57 + 8, 1);
	size_t text_len = LOG_GROWTH / 3 * 4 + LOG_GROWTH / 3 * 4 / 76;
	struct node env = {0}, dbn = {0}, logn = {0}, asset = {0};
	char name[32];
	double t_build = now();

	for (unsigned i = 0; i < nsnap; i++) {
		int64_t t = t0_ns + (int64_t)i * HOUR_NS;
		bool dirty_mid[TOP] = {0};
		bool dirty_leaf[TOP][MID] = {{0}};
		if (i == 0) {
			for (unsigned a = 0; a < TOP; a++)
				for (unsigned m = 0; m < MID; m++) {
					leaf[a][m] = xcalloc(per, sizeof(struct node));
					for (unsigned f = 0; f < per; f++) {
						snprintf(name, sizeof name, "f%04u.txt", f + 1);
						put_small(&leaf[a][m][f], name, (a * MID + m) * per + f, 0, t);
					}
					dirty_leaf[a][m] = dirty_mid[a] = true;
				}
			for (size_t k = 0; k < db.pages; k++) {
				db_page(&db, k);
				db.lens[k] = PAGE;
			}
			node_init(&dbn, "app.db", t);
			node_init(&logn, "app.log", t);
		}
		for (unsigned c = 0; i > 0 && c < 20; c++) {
			uint64_t s = next_rand();
			unsigned a = (unsigned)(s % TOP), m = (unsigned)((s >> 8) % MID),
				 f = (unsigned)((s >> 16) % per);
			struct node *n = &leaf[a][m][f];
			char *nm = strdup(n->name);
			put_small(n, nm, (a * MID + m) * per + f, i, t);
			free(nm);
			dirty_leaf[a][m] = dirty_mid[a] = true;
		}
		if (i > 0) {
			db_page(&db, 0);
			for (unsigned c = 0; c < DB_PAGES_CHANGED; c++)
				db_page(&db, (size_t)(next_rand() % db.pages));
		}
		set_chunks(&dbn, db.ids, db.lens, db.pages);
		dbn.mtime_ns = dbn.ctime_ns = t;
		fill_random(rnd, LOG_GROWTH);
		base64(rnd, LOG_GROWTH, text);
		size_t nlog = grow_append(&log, text, text_len);
		set_chunks(&logn, log.ids, log.lens, nlog);
		logn.mtime_ns = logn.ctime_ns = t;
		if (i % 10 == 0) {
			fill_random(rnd, ASSET_BYTES);
			put_bytes(&asset, "asset.bin", rnd, ASSET_BYTES, t);
		}
		if (i % 50 == 0) {
			char e[64];
			int len = snprintf(e, sizeof e, "SECRET=%u\n", i);
			put_bytes(&env, ".env", (const uint8_t *)e, (size_t)len, t);
		}

		struct node top[4 + TOP];
		top[0] = env, top[1] = dbn, top[2] = logn, top[3] = asset;
		for (unsigned a = 0; a < TOP; a++) {
			if (dirty_mid[a]) {
				struct node mids[MID];
				for (unsigned m = 0; m < MID; m++) {
					if (dirty_leaf[a][m])
						put_tree(leaf[a][m], per, &leaf_id[a][m]);
					snprintf(name, sizeof name, "s%u", m);
					mids[m] = dir(name, &leaf_id[a][m]);
				}
				put_tree(mids, MID, &mid_id[a]);
				for (unsigned m = 0; m < MID; m++)
					node_clear(&mids[m]);
			}
			snprintf(name, sizeof name, "d%02u", a);
			top[4 + a] = dir(name, &mid_id[a]);
		}
		struct snapshot_new sn = {.project_id = p.id, .status = SNAP_COMPLETE, .time_ns = t};
		put_tree(top, 4 + TOP, &sn.root);
		for (unsigned a = 0; a < TOP; a++)
			node_clear(&top[4 + a]);
		sn.stats.files = TOP * MID * per + 4;
		sn.stats.bytes = dbn.size + logn.size + asset.size;
		struct snapshot out;
		if ((r = writer_commit(w, &sn, &out)) < 0)
			die("commit", r);
		snapshot_clear(&out);
		if ((i + 1) % 100 == 0)
			printf("   %u snapshots (%.0f s)\n", i + 1, now() - t_build);
	}
	printf("   built %u snapshots an hour apart of %u files, a %u MiB database, a log of "
	       "%zu chunks in %.1f s\n",
	       nsnap, TOP * MID * per + 4, db_mb, log.n + 1, now() - t_build);
	for (unsigned a = 0; a < TOP; a++)
		for (unsigned m = 0; m < MID; m++) {
			for (unsigned f = 0; f < per; f++)
				node_clear(&leaf[a][m][f]);
			free(leaf[a][m]);
		}
	node_clear(&env);
	node_clear(&dbn);
	node_clear(&logn);
	node_clear(&asset);
	free(db.bytes);
	free(db.ids);
	free(db.lens);
	free(log.ids);
	free(log.lens);
	free(log.tail);
	free(rnd);
	free(text);
	project_clear(&p);
	writer_free(w);
	repo_close(repo);
	return 0;
}
