/* gen-tree.c — a deterministic, developer-shaped project tree for benchmarks.
 *
 *   gen-tree DIR [-n FILES] [-s MIB] [-r SEED]
 *
 * Makes DIR (which must not exist) with about FILES files (default 30000)
 * totalling about MIB MiB (default 1024): many small source/text files in
 * nested directories, some medium files, a few large ones; text compresses
 * (roughly 3:1), the rest does not.  The same arguments always give the
 * same bytes, names and mtimes.  Build: cc -O2 -o gen-tree gen-tree.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static uint64_t rng_state;

/* splitmix64: tiny, fast, and the same everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Log-uniform size in [lo, hi]: many small, few big. */
static uint64_t log_size(uint64_t lo, uint64_t hi)
{
	double a = __builtin_log((double)lo), b = __builtin_log((double)hi);
	double u = (double)(rnd() >> 11) / (double)(1ULL << 53);
	return (uint64_t)__builtin_exp(a + (b - a) * u);
}

static const char *const words[] = {
	"int", "return", "if", "else", "for", "while", "const", "static", "struct", "void",
	"char", "size_t", "uint64_t", "NULL", "sizeof", "break", "continue", "switch", "case",
	"default", "goto", "fail", "buf", "len", "ret", "err", "ctx", "node", "tree", "repo",
	"snapshot", "chunk", "pack", "index", "offset", "count", "value", "key", "name", "path",
	"file", "dir", "open", "close", "read", "write", "free", "malloc", "memcpy", "strlen",
	"def", "self", "import", "from", "class", "lambda", "async", "await", "yield", "None",
	"function", "let", "var", "export", "module", "require", "props", "state", "render",
	"user", "account", "order", "invoice", "payment", "config", "logger", "request", "response",
	"=", "==", "!=", "+", "-", "*", "->", ".", "(", ")", "{", "}", "[", "]", ";", ",", "0", "1",
	"42", "0x1f", "\"ok\"", "'id'", "// TODO", "# note", "/*", "*/",
};
#define NWORDS (sizeof words / sizeof words[0])

/* Source-like text: indented lines of vocabulary words. */
static void fill_text(char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int indent = (int)below(4) * 4;
		for (int k = 0; k < indent && i < n; k++)
			p[i++] = ' ';
		int nw = 2 + (int)below(9);
		for (int w = 0; w < nw && i < n; w++) {
			const char *s = words[below(NWORDS)];
			while (*s && i < n)
				p[i++] = *s++;
			if (i < n)
				p[i++] = ' ';
		}
		if (i < n)
			p[i++] = '\n';
	}
}

static void fill_random(char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (char)rnd();
}

enum kind { TEXT, RANDOM, MIXED };

static char *block;
#define BLOCK (1 << 20)

static void write_file(const char *path, uint64_t size, enum kind kind, int64_t mtime)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "gen-tree: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	uint64_t left = size, part = 0;
	while (left) {
		size_t n = left < BLOCK ? (size_t)left : BLOCK;
		/* Mixed files alternate 64 KiB of text and of noise, like a
		 * database or an archive of mixed content. */
		for (size_t o = 0; o < n; o += 65536, part++) {
			size_t m = n - o < 65536 ? n - o : 65536;
			if (kind == TEXT || (kind == MIXED && part % 2 == 0))
				fill_text(block + o, m);
			else
				fill_random(block + o, m);
		}
		if (write(fd, block, n) != (ssize_t)n) {
			fprintf(stderr, "gen-tree: %s: write: %s\n", path, strerror(errno));
			exit(1);
		}
		left -= n;
	}
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	futimens(fd, ts);
	close(fd);
}

static const char *const top[] = {"src", "lib", "tests", "docs", "assets", "scripts",
				  "config", "migrations", "vendor", "tools", "web", "api"};
static const char *const exts[] = {".c", ".h", ".py", ".js", ".ts", ".md", ".json", ".txt",
				   ".go", ".rs", ".sql", ".yaml"};

int main(int argc, char **argv)
{
	long files = 30000, mib = 1024;
	uint64_t seed = 1;
	int opt;
	while ((opt = getopt(argc, argv, "n:s:r:")) != -1) {
		switch (opt) {
		case 'n': files = atol(optarg); break;
		case 's': mib = atol(optarg); break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: gen-tree DIR [-n FILES] [-s MIB] [-r SEED]\n");
			return 2;
		}
	}
	if (optind != argc - 1 || files < 100 || mib < 1) {
		fprintf(stderr, "usage: gen-tree DIR [-n FILES>=100] [-s MIB] [-r SEED]\n");
		return 2;
	}
	const char *root = argv[optind];
	rng_state = seed;
	block = malloc(BLOCK);
	if (!block || mkdir(root, 0755) < 0) {
		fprintf(stderr, "gen-tree: %s: %s\n", root, strerror(errno));
		return 1;
	}
	uint64_t total = (uint64_t)mib << 20;
	/* Files: 4 large, 2% medium, the rest small (log-uniform 100 B ..
	 * 32 KiB).  Bytes: the small files take what they take; of the rest
	 * the medium files get 45%, the large ones 55%. */
	long nlarge = 4, nmedium = files / 50, nsmall = files - nlarge - nmedium;
	uint64_t large_each = 0, medium_avg = 0;
	const int64_t base_time = 1767225600; /* 2026-01-01T00:00:00Z */

	/* Directories: a fixed set of nested paths; files go into them at random. */
	enum { MAXDIRS = 4096 };
	static char dirs[MAXDIRS][256];
	int ndirs = 0;
	long ndirs_want = files / 25 + 1;
	if (ndirs_want > MAXDIRS)
		ndirs_want = MAXDIRS;
	for (size_t t = 0; t < sizeof top / sizeof top[0]; t++)
		snprintf(dirs[ndirs++], 256, "%s", top[t]);
	while (ndirs < ndirs_want) {
		const char *parent = dirs[below((uint64_t)ndirs)];
		if (strlen(parent) > 180)
			continue;
		snprintf(dirs[ndirs], 256, "%s/%s%d", parent, words[below(50)], ndirs);
		ndirs++;
	}
	char path[4096];
	for (int d = 0; d < ndirs; d++) {
		snprintf(path, sizeof path, "%s/%s", root, dirs[d]);
		if (mkdir(path, 0755) < 0) {
			fprintf(stderr, "gen-tree: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	uint64_t written = 0;
	for (long i = 0; i < nsmall; i++) {
		snprintf(path, sizeof path, "%s/%s/%s_%ld%s", root, dirs[below((uint64_t)ndirs)],
			 words[below(78)], i, exts[below(sizeof exts / sizeof exts[0])]);
		uint64_t size = log_size(100, 32768);
		write_file(path, size, below(10) == 0 ? RANDOM : TEXT, base_time + (int64_t)below(86400 * 30));
		written += size;
	}
	uint64_t rest = total > written ? total - written : 0;
	medium_avg = rest * 45 / 100 / (uint64_t)nmedium;
	large_each = rest * 55 / 100 / (uint64_t)nlarge;
	for (long i = 0; i < nmedium; i++) {
		snprintf(path, sizeof path, "%s/%s/blob_%ld.%s", root, dirs[below((uint64_t)ndirs)], i,
			 i % 3 == 0 ? "bin" : i % 3 == 1 ? "dat" : "log");
		uint64_t size = medium_avg / 2 + below(medium_avg);
		write_file(path, size, (enum kind)(i % 3), base_time + (int64_t)below(86400 * 30));
		written += size;
	}
	static const char *const large[] = {"data/app.sqlite", "data/events.log",
					    "assets/video.bin", "vendor/bundle.tar"};
	snprintf(path, sizeof path, "%s/data", root);
	mkdir(path, 0755);
	for (long i = 0; i < nlarge; i++) {
		snprintf(path, sizeof path, "%s/%s", root, large[i]);
		write_file(path, large_each, i == 1 ? TEXT : i == 0 ? MIXED : RANDOM, base_time);
		written += large_each;
	}
	printf("%ld files, %d directories, %llu MiB in %s\n", files, ndirs + 1,
	       (unsigned long long)(written >> 20), root);
	free(block);
	return 0;
}
