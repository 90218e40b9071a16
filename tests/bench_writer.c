/* bench_writer.c — write throughput of the writer (not a unit test).
 *
 *   make build/out/tests/bench_writer
 *   build/out/tests/bench_writer FILE [REPO]
 *
 * Stores FILE through writer_put_fd into a fresh repository (REPO, or a
 * temp dir removed afterwards), commits, and prints the time and MB/s of
 * the first pass and of a second pass over the same data (all dedup),
 * and the CPU time of the calling thread and of the others (the sealing
 * worker): on an idle machine with two cores the wall time approaches the
 * larger of the two.
 * Make FILE with e.g. `bench_writer --make FILE MiB` (mixed random, text
 * and zeros, like a source tree with some binaries).
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/writer.h"
#include "tests/tmpdir.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int make_file(const char *path, size_t mib)
{
	static const char text[] =
		"static int parse(const char *s) { return s && *s ? atoi(s) : -1; } // x\n";
	size_t len = 1 << 20;
	uint8_t *buf = malloc(len);
	uint64_t s = 42;
	FILE *f = fopen(path, "wb");
	if (!f || !buf)
		return 1;
	for (size_t m = 0; m < mib; m++) {
		size_t i = 0;
		while (i < len) {
			size_t run = 4096 + (size_t)(rng(&s) % 200000);
			if (run > len - i)
				run = len - i;
			uint64_t kind = rng(&s) % 10;
			for (size_t k = 0; k < run; k++) {
				if (kind < 4) /* random: binaries, compressed files */
					buf[i + k] = (uint8_t)(rng(&s) >> 29);
				else if (kind < 9) /* text with some variation */
					buf[i + k] = (uint8_t)(text[(i + k) % (sizeof text - 1)] ^
							       ((rng(&s) & 63) == 0));
				else
					buf[i + k] = 0;
			}
			i += run;
		}
		fwrite(buf, 1, len, f);
	}
	free(buf);
	return fclose(f) != 0;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_writer: %s: %s\n", what, store_error() ? store_error() : "?");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--make") == 0)
		return make_file(argv[2], (size_t)atol(argv[3]));
	if (argc < 2) {
		fprintf(stderr, "usage: bench_writer FILE [REPO] | --make FILE MiB\n");
		return 2;
	}
	char tmp[] = "/tmp/ckptfs-bench-XXXXXX", path[128];
	const char *repo_path = argv[2];
	if (!repo_path) {
		if (!mkdtemp(tmp))
			return 1;
		snprintf(path, sizeof path, "%s/repo", tmp);
		repo_path = path;
	}
	struct repo *repo;
	struct writer *w;
	struct project p;
	if (repo_open(repo_path, REPO_WRITE, 0, &repo) < 0)
		return die("repo_open");
	if (catalog_project_register(repo, "bench", "/bench", &p) < 0 &&
	    catalog_project_by_name(repo, "bench", &p) < 0)
		return die("project");
	if (writer_open(repo, &w) < 0)
		return die("writer_open");
	for (int pass = 1; pass <= 2; pass++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			return 1;
		struct node n = { 0 };
		n.name = strdup("file");
		n.type = NODE_FILE;
		double t0 = now(), c0 = cpu(CLOCK_THREAD_CPUTIME_ID),
		       p0 = cpu(CLOCK_PROCESS_CPUTIME_ID);
		if (writer_put_fd(w, fd, &n) < 0)
			return die("writer_put_fd");
		struct tree t = { .nodes = &n, .n = 1 };
		struct snapshot_new sn = { .project_id = p.id, .time_ns = (int64_t)pass * 60000000000 };
		struct snapshot snap;
		if (writer_put_tree(w, &t, &sn.root) < 0)
			return die("writer_put_tree");
		if (writer_commit(w, &sn, &snap) < 0)
			return die("writer_commit");
		double dt = now() - t0, cm = cpu(CLOCK_THREAD_CPUTIME_ID) - c0,
		       cp = cpu(CLOCK_PROCESS_CPUTIME_ID) - p0;
		printf("pass %d: %.1f MiB in %.2f s = %.0f MiB/s; %llu new blobs, %.1f MiB stored\n",
		       pass, (double)n.size / 1048576, dt, (double)n.size / 1048576 / dt,
		       (unsigned long long)snap.stats.new_blobs,
		       (double)snap.stats.new_bytes / 1048576);
		printf("        cpu: %.2f s in the calling thread, %.2f s in others\n", cm, cp - cm);
		snapshot_clear(&snap);
		node_clear(&n);
		close(fd);
	}
	writer_free(w);
	project_clear(&p);
	repo_close(repo);
	if (!argv[2])
		tmpdir_remove(tmp);
	return 0;
}
