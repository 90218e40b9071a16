/* bench_history.c — a long history for the history benchmarks (not a
 * unit test).
 *
 *   make build/out/tests/bench_history
 *   build/out/tests/bench_history REPO [SNAPSHOTS [FILES [CHANGES]]]
 *
 * Writes into REPO (created if missing) a project "histbench" of FILES
 * files (default 30,000: 30 folders of 10 folders of FILES/300 files, and
 * a .env) and SNAPSHOTS snapshots (default 1,000), CHANGES files (default
 * 20) rewritten before each; .env changes every 50th snapshot.  Trees are
 * built the way a snap builds them: only the folders on the way to a
 * changed file get a new tree.  Then, in process, it prints how many trees
 * hist_versions and hist_search decode compared with the snapshots x
 * folders a walk of every snapshot would read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/history.h"
#include "store/repo.h"
#include "store/writer.h"

#define TOP 30
#define MID 10

struct mem_reader {
	const char *p;
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

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_history: %s: %s\n", what,
		store_error() ? store_error() : strerror(-r));
	exit(1);
}

static struct writer *w;
static int64_t t0_ns = 1767225600LL * 1000000000LL; /* 2026-01-01 */

static void put_file(struct node *n, const char *name, unsigned id, unsigned version)
{
	char text[96];
	int len = snprintf(text, sizeof text, "file %u version %u\n", id, version);
	memset(n, 0, sizeof *n);
	n->name = strdup(name);
	n->type = NODE_FILE;
	n->mode = 0644;
	n->mtime_ns = t0_ns + (int64_t)version * 60000000000LL;
	struct mem_reader m = {text, (size_t)len, 0};
	int r = writer_put_stream(w, mem_read, &m, n);
	if (r < 0)
		die("put", r);
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_history REPO [SNAPSHOTS [FILES [CHANGES]]]\n");
		return 2;
	}
	unsigned nsnap = argc > 2 ? (unsigned)atoi(argv[2]) : 1000;
	unsigned nfiles = argc > 3 ? (unsigned)atoi(argv[3]) : 30000;
	unsigned changes = argc > 4 ? (unsigned)atoi(argv[4]) : 20;
	unsigned per = nfiles / (TOP * MID) ? nfiles / (TOP * MID) : 1;
	struct repo *repo;
	struct project p;
	int r = repo_open(argv[1], REPO_WRITE, 0, &repo);
	if (r < 0 || (r = writer_open(repo, &w)) < 0 ||
	    (r = catalog_project_register(repo, "histbench", "/nonexistent/histbench", &p)) < 0)
		die("open", r);

	/* leaf[t][m]: the files of d<t>/s<m>; their trees; the mid trees. */
	static struct node *leaf[TOP][MID];
	static blob_id leaf_id[TOP][MID], mid_id[TOP];
	double t_build = now();
	char name[32];
	for (unsigned t = 0; t < TOP; t++) {
		for (unsigned m = 0; m < MID; m++) {
			leaf[t][m] = calloc(per, sizeof(struct node));
			for (unsigned f = 0; f < per; f++) {
				snprintf(name, sizeof name, "f%04u.txt", f);
				put_file(&leaf[t][m][f], name, (t * MID + m) * per + f, 0);
			}
			put_tree(leaf[t][m], per, &leaf_id[t][m]);
		}
	}
	struct node env;
	put_file(&env, ".env", 999999, 0);
	uint64_t s = 88172645463325252ull;
	for (unsigned i = 0; i < nsnap; i++) {
		bool dirty_mid[TOP] = {0};
		bool dirty_leaf[TOP][MID] = {{0}};
		for (unsigned c = 0; i > 0 && c < changes; c++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			unsigned t = (unsigned)(s % TOP), m = (unsigned)((s >> 8) % MID),
				 f = (unsigned)((s >> 16) % per);
			struct node *n = &leaf[t][m][f];
			char *nm = strdup(n->name);
			node_clear(n);
			put_file(n, nm, (t * MID + m) * per + f, i);
			free(nm);
			dirty_leaf[t][m] = dirty_mid[t] = true;
		}
		if (i > 0 && i % 50 == 0) {
			node_clear(&env);
			put_file(&env, ".env", 999999, i);
		}
		struct node top[TOP + 1];
		top[0] = env;
		for (unsigned t = 0; t < TOP; t++) {
			if (dirty_mid[t] || i == 0) {
				struct node mids[MID];
				for (unsigned m = 0; m < MID; m++) {
					if (dirty_leaf[t][m])
						put_tree(leaf[t][m], per, &leaf_id[t][m]);
					snprintf(name, sizeof name, "s%u", m);
					mids[m] = dir(name, &leaf_id[t][m]);
				}
				put_tree(mids, MID, &mid_id[t]);
				for (unsigned m = 0; m < MID; m++)
					node_clear(&mids[m]);
			}
			snprintf(name, sizeof name, "d%02u", t);
			top[t + 1] = dir(name, &mid_id[t]);
		}
		struct snapshot_new sn = {.project_id = p.id, .status = SNAP_COMPLETE};
		sn.time_ns = t0_ns + (int64_t)i * 60000000000LL;
		put_tree(top, TOP + 1, &sn.root);
		for (unsigned t = 1; t <= TOP; t++)
			node_clear(&top[t]);
		sn.stats.files = nfiles + 1;
		struct snapshot out;
		if ((r = writer_commit(w, &sn, &out)) < 0)
			die("commit", r);
		snapshot_clear(&out);
	}
	printf("built %u snapshots of %u files (%u changed each) in %.1f s\n", nsnap,
	       TOP * MID * per + 1, changes, now() - t_build);

	/* In process: what the memo saves. */
	struct snapshot *snaps;
	size_t n;
	if ((r = catalog_snapshots(repo, p.id, &snaps, &n)) < 0)
		die("snapshots", r);
	blob_id *roots = malloc(n * sizeof *roots);
	for (size_t i = 0; i < n; i++)
		roots[i] = snaps[n - 1 - i].root;
	struct hist *h;
	struct hist_versions v;
	char path[64], fname[32];
	snprintf(fname, sizeof fname, "f%04u.txt", per > 42 ? 42 : 0);
	snprintf(path, sizeof path, "d07/s3/%s", fname);
	double t1 = now();
	if ((r = hist_open(repo, &h)) < 0 || (r = hist_versions(h, roots, n, path, &v)) < 0)
		die("versions", r);
	printf("hist_versions %s: %zu versions, %.3f s, %llu trees decoded "
	       "(a walk of every snapshot: %zu)\n",
	       path, v.nv, now() - t1, (unsigned long long)hist_trees_loaded(h), 3 * n);
	hist_versions_clear(&v);
	hist_free(h);
	struct hist_match *mt;
	size_t nm;
	t1 = now();
	if ((r = hist_open(repo, &h)) < 0 || (r = hist_search(h, roots, n, fname, 0, &mt, &nm)) < 0)
		die("search", r);
	printf("hist_search %s: %zu paths, %.3f s, %llu trees decoded "
	       "(a walk of every snapshot: %zu)\n",
	       fname, nm, now() - t1, (unsigned long long)hist_trees_loaded(h),
	       n * (1 + TOP + TOP * MID));
	hist_matches_free(mt, nm);
	hist_free(h);
	free(roots);
	snapshots_free(snaps, n);
	project_clear(&p);
	writer_free(w);
	repo_close(repo);
	return 0;
}
