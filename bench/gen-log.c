/* gen-log.c — a web-server-like log for benchmarks, fast.
 *
 *   gen-log MIB SEED > FILE
 *
 * Writes at least MIB MiB of log lines to standard output, every line
 * different (a running request number drives the timestamp and the worker,
 * a seeded generator the request id, path, size and duration), so the file
 * compresses like a real access log (about 4:1 with zstd) and content-defined
 * chunking finds no repeats.  The same SEED always gives the same bytes;
 * different seeds give different lines (the hour-of-work phase appends with
 * another seed).  It replaces an awk loop that took minutes per GiB, which
 * made BENCH_SCALE=10 datasets impractical to build.
 * Build: cc -O2 -o gen-log gen-log.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state;

/* splitmix64, as in gen-tree.c */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen-log MIB SEED\n");
		return 2;
	}
	uint64_t limit = strtoull(argv[1], NULL, 10) << 20;
	uint64_t seed = strtoull(argv[2], NULL, 10);
	rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "GET", "GET"};
	static char buf[1 << 16];
	size_t used = 0;
	uint64_t written = 0;
	for (uint64_t i = seed * 100000000ULL; written < limit; i++) {
		if (used > sizeof buf - 512) {
			if (fwrite(buf, 1, used, stdout) != used)
				return 1;
			used = 0;
		}
		uint64_t r1 = rnd(), r2 = rnd();
		int n = snprintf(buf + used, sizeof buf - used,
				 "2026-12-03T%02u:%02u:%02u.%06uZ %s worker-%u req=%08x %s "
				 "/api/v1/items/%u?page=%u "
				 "status=%u bytes=%u dur=%u.%03ums user=%u\n",
				 (unsigned)(i / 3600000 % 24), (unsigned)(i / 60000 % 60),
				 (unsigned)(i / 1000 % 60), (unsigned)(i * 997 % 1000000),
				 i % 97 ? "INFO " : "WARN ", (unsigned)(i % 8),
				 (unsigned)(r1 >> 32), methods[i % 6], (unsigned)(r1 % 100000),
				 (unsigned)(i % 17), i % 53 ? 200u : 404u, (unsigned)(r2 >> 48),
				 (unsigned)(r2 >> 16 & 0xffff) % 300,
				 (unsigned)(r2 & 0xffff) % 1000,
				 (unsigned)(r2 >> 32 & 0xffffff) % 100003);
		used += (size_t)n;
		written += (uint64_t)n;
	}
	if (fwrite(buf, 1, used, stdout) != used || fflush(stdout) != 0)
		return 1;
	return 0;
}
