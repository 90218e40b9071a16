/* test_rio_batch.c — batch copies to and from a directory target
 * (rio_batch.c): every byte arrives under its name whatever its size
 * (aligned, unaligned tails, several buffers, empty), the sums are of the
 * bytes, nothing is left under a temp name, a missing source is skipped,
 * a source of the wrong size fails that file without leaving it, and the
 * progress adds up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/rio.h"
#include "store/rio_internal.h"

struct fx {
	char root[4096];
	char local[4200], remote[4200];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *t = getenv("TMPDIR");
	snprintf(f->root, sizeof f->root, "%s/rio_batch.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->local, sizeof f->local, "%s/local", f->root);
	snprintf(f->remote, sizeof f->remote, "%s/remote", f->root);
	mkdir(f->local, 0700);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

/* Deterministic bytes, different per file (seed). */
static void fill(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

static void write_file(const char *root, const char *name, size_t n, uint32_t seed)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", root, name);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(fio_mkdir_p(path, 0700, NULL), 0);
	*slash = '/';
	uint8_t *buf = malloc(n ? n : 1);
	fill(buf, n, seed);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fio_write_all(fd, buf, n), 0);
	close(fd);
	free(buf);
}

/* The file holds exactly the n bytes of seed; its XXH3-128 into sum. */
static void assert_file(const char *root, const char *name, size_t n, uint32_t seed,
			char sum[RIO_SUM_LEN + 1])
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", root, name);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, n);
	uint8_t *want = malloc(n ? n : 1), *have = malloc(n ? n : 1);
	fill(want, n, seed);
	assert_int_equal(pread(fd, have, n, 0), (ssize_t)n);
	assert_memory_equal(have, want, n);
	assert_int_equal(rio_hash_file(fd, n, name, sum), 0);
	close(fd);
	free(want);
	free(have);
}

static bool exists(const char *root, const char *name)
{
	char path[8192];
	snprintf(path, sizeof path, "%s/%s", root, name);
	return access(path, F_OK) == 0;
}

/* No NAME.tmp anywhere under dir. */
static void assert_no_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t l = strlen(e->d_name);
		assert_false(l > 4 && !strcmp(e->d_name + l - 4, ".tmp"));
		if (e->d_type == DT_DIR) {
			char sub[8192];
			snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
			assert_no_tmp(sub);
		}
	}
	closedir(d);
}

/* Sizes around the direct-I/O alignment and the 4 MiB buffer. */
static const size_t sizes[] = {0, 1, 4095, 4096, 3 * 4096 + 17, RIO_BUF, RIO_BUF + 1,
			       2 * RIO_BUF + 4096, 5 * 4096};
#define NSIZES (sizeof sizes / sizeof sizes[0])

struct prog {
	uint64_t last, calls;
	bool monotonic;
};

static void on_progress(void *ctx, uint64_t done)
{
	struct prog *p = ctx;
	if (done < p->last)
		p->monotonic = false;
	p->last = done;
	p->calls++;
}

static void upload_every_size(void **state)
{
	struct fx *f = *state;
	char names[NSIZES][64];
	struct rio_item items[NSIZES];
	uint64_t total = 0;
	for (size_t i = 0; i < NSIZES; i++) {
		snprintf(names[i], sizeof names[i], "packs/%02zx/f%zu.pack", i % 3, i);
		write_file(f->local, names[i], sizes[i], (uint32_t)i + 1);
		items[i] = (struct rio_item){.name = names[i], .size = sizes[i]};
		total += sizes[i];
	}
	struct rio *rio = NULL;
	assert_int_equal(rio_open(f->remote, NULL, &rio), 0);
	assert_int_equal(rio_prepare(rio), 0);
	struct prog p = {.monotonic = true};
	assert_int_equal(rio_upload_batch(rio, f->local, items, NSIZES, on_progress, &p), 0);
	for (size_t i = 0; i < NSIZES; i++) {
		char sum[RIO_SUM_LEN + 1];
		assert_int_equal(items[i].r, 0);
		assert_int_equal(items[i].got, sizes[i]);
		assert_file(f->remote, names[i], sizes[i], (uint32_t)i + 1, sum);
		assert_string_equal(items[i].sum, sum);
	}
	assert_true(p.monotonic);
	assert_int_equal(p.last, total);
	assert_no_tmp(f->remote);
	rio_free(rio);
}

static void download_every_size(void **state)
{
	struct fx *f = *state;
	char names[NSIZES][64];
	struct rio_item items[NSIZES];
	for (size_t i = 0; i < NSIZES; i++) {
		snprintf(names[i], sizeof names[i], "packs/%02zx/g%zu.pack", i % 4, i);
		write_file(f->remote, names[i], sizes[i], (uint32_t)i + 100);
		items[i] = (struct rio_item){.name = names[i], .size = sizes[i]};
	}
	struct rio *rio = NULL;
	assert_int_equal(rio_open(f->remote, NULL, &rio), 0);
	char dest[4300];
	snprintf(dest, sizeof dest, "%s/stage", f->root);
	assert_int_equal(mkdir(dest, 0700), 0);
	assert_int_equal(rio_download_batch(rio, dest, items, NSIZES, NULL, NULL), 0);
	for (size_t i = 0; i < NSIZES; i++) {
		char sum[RIO_SUM_LEN + 1];
		assert_int_equal(items[i].r, 0);
		assert_int_equal(items[i].got, sizes[i]);
		assert_file(dest, names[i], sizes[i], (uint32_t)i + 100, sum);
		assert_string_equal(items[i].sum, sum);
	}
	assert_no_tmp(dest);
	rio_free(rio);
}

static void missing_source_is_skipped(void **state)
{
	struct fx *f = *state;
	write_file(f->local, "packs/aa/a.pack", 10000, 7);
	write_file(f->local, "packs/cc/c.pack", 20000, 9);
	struct rio_item items[] = {
		{.name = "packs/aa/a.pack", .size = 10000},
		{.name = "packs/bb/b.pack", .size = 5000}, /* never written: gc took it */
		{.name = "packs/cc/c.pack", .size = 20000},
	};
	struct rio *rio = NULL;
	assert_int_equal(rio_open(f->remote, NULL, &rio), 0);
	assert_int_equal(rio_upload_batch(rio, f->local, items, 3, NULL, NULL), 0);
	char sum[RIO_SUM_LEN + 1];
	assert_int_equal(items[0].r, 0);
	assert_int_equal(items[1].r, -ENOENT);
	assert_int_equal(items[2].r, 0);
	assert_file(f->remote, "packs/aa/a.pack", 10000, 7, sum);
	assert_file(f->remote, "packs/cc/c.pack", 20000, 9, sum);
	assert_false(exists(f->remote, "packs/bb/b.pack"));
	assert_no_tmp(f->remote);
	rio_free(rio);
}

static void wrong_size_fails_and_leaves_nothing(void **state)
{
	struct fx *f = *state;
	write_file(f->local, "packs/dd/d.pack", 3 * 4096 + 5, 11);
	struct rio_item items[] = {{.name = "packs/dd/d.pack", .size = 3 * 4096}};
	struct rio *rio = NULL;
	assert_int_equal(rio_open(f->remote, NULL, &rio), 0);
	store_error_clear();
	assert_int_equal(rio_upload_batch(rio, f->local, items, 1, NULL, NULL), -ESTALE);
	assert_non_null(store_error());
	assert_non_null(strstr(store_error(), "changed size"));
	assert_false(exists(f->remote, "packs/dd/d.pack"));
	assert_no_tmp(f->remote);
	rio_free(rio);
}

static void rclone_target_refused(void **state)
{
	(void)state;
	struct rio *rio = NULL;
	assert_int_equal(rio_open("rclone:x:y", NULL, &rio), 0);
	struct rio_item it = {.name = "packs/aa/a.pack", .size = 1};
	assert_int_equal(rio_upload_batch(rio, "/nonexistent", &it, 1, NULL, NULL), -ENOTSUP);
	assert_int_equal(rio_download_batch(rio, "/nonexistent", &it, 1, NULL, NULL), -ENOTSUP);
	rio_free(rio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(upload_every_size, setup, teardown),
		cmocka_unit_test_setup_teardown(download_every_size, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_source_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_size_fails_and_leaves_nothing, setup, teardown),
		cmocka_unit_test(rclone_target_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
