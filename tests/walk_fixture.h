/* walk_fixture.h — shared set-up of test_walk.c and test_restore.c: a temp
 * dir holding a source tree, a fresh repository and a restore destination;
 * helpers to build trees of every file type and to walk + commit them.
 * Include after cmocka.h.  All helpers are static inline so each test file
 * uses what it needs. */
#ifndef CKPTFS_TESTS_WALK_FIXTURE_H
#define CKPTFS_TESTS_WALK_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/tree.h"
#include "store/walk.h"
#include "store/writer.h"
#include "tests/tmpdir.h"

struct fx {
	char base[64];
	char src[128], repo_path[128], dst[128];
	struct repo *repo;
	struct writer *w;
	int64_t project_id;
	/* warnings collected by fx_hooks */
	char warned[16][512];
	int nwarned;
};

static inline int64_t fx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void fx_rmrf(const char *dir)
{
	tmpdir_remove(dir);
}

static inline int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	strcpy(fx->base, "/tmp/ckptfs-walk.XXXXXX");
	if (!mkdtemp(fx->base))
		goto fail;
	chmod(fx->base, 0755);
	snprintf(fx->src, sizeof(fx->src), "%s/src", fx->base);
	snprintf(fx->repo_path, sizeof(fx->repo_path), "%s/repo", fx->base);
	snprintf(fx->dst, sizeof(fx->dst), "%s/dst", fx->base);
	if (mkdir(fx->src, 0755) < 0 || mkdir(fx->dst, 0755) < 0)
		goto fail;
	if (repo_open(fx->repo_path, REPO_WRITE, 0, &fx->repo) < 0) {
		fprintf(stderr, "repo_open: %s\n", store_error());
		goto fail;
	}
	if (writer_open(fx->repo, &fx->w) < 0)
		goto fail;
	struct project p;
	if (catalog_project_register(fx->repo, "p", fx->src, &p) < 0)
		goto fail;
	fx->project_id = p.id;
	project_clear(&p);
	*state = fx;
	return 0;
fail:
	writer_free(fx->w);
	repo_close(fx->repo);
	if (fx->base[0])
		fx_rmrf(fx->base);
	free(fx);
	return -1;
}

static inline int fx_teardown(void **state)
{
	struct fx *fx = *state;
	writer_free(fx->w);
	repo_close(fx->repo);
	fx_rmrf(fx->base);
	free(fx);
	return 0;
}

static inline void fx_path(const struct fx *fx, const char *rel, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", fx->src, rel);
	assert_true(n > 0 && (size_t)n < cap);
}

static inline void fx_write(struct fx *fx, const char *rel, const void *data, size_t len)
{
	char p[8192];
	fx_path(fx, rel, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static inline void fx_text(struct fx *fx, const char *rel, const char *text)
{
	fx_write(fx, rel, text, strlen(text));
}

static inline void fx_mkdir(struct fx *fx, const char *rel)
{
	char p[8192];
	fx_path(fx, rel, p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static inline void fx_random(struct fx *fx, const char *rel, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	fx_write(fx, rel, buf, len);
	free(buf);
}

/* Put every file type, odd names and deep nesting into the source tree.
 * Returns whether user xattrs could be set on this filesystem. */
static inline bool fx_populate(struct fx *fx)
{
	char p[8192];
	fx_text(fx, "hello.txt", "hello, world\n");
	fx_write(fx, "empty", "", 0);
	fx_random(fx, "random.bin", 1 << 20, 1);
	/* Sparse: 3 MiB with data only at 1 MiB. */
	fx_path(fx, "sparse", p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "data", 4, 1 << 20), 4);
	assert_int_equal(ftruncate(fd, 3 << 20), 0);
	close(fd);
	fx_text(fx, "exec.sh", "#!/bin/sh\necho hi\n");
	fx_path(fx, "exec.sh", p, sizeof(p));
	chmod(p, 0755);
	fx_text(fx, ".env", "SECRET=1\n");
	fx_mkdir(fx, ".git");
	fx_text(fx, ".git/HEAD", "ref: refs/heads/main\n");
	fx_path(fx, "link", p, sizeof(p));
	assert_int_equal(symlink("hello.txt", p), 0);
	fx_path(fx, "dangling", p, sizeof(p));
	assert_int_equal(symlink("../nowhere/at/all", p), 0);
	fx_path(fx, "fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0640), 0);
	fx_mkdir(fx, "dir");
	fx_mkdir(fx, "dir/sub");
	fx_text(fx, "dir/sub/nested.txt", "nested\n");
	fx_mkdir(fx, "emptydir");
	fx_text(fx, "with space", "space\n");
	fx_text(fx, "new\nline", "newline\n");
	fx_text(fx, "bad\xff\xfeutf8", "latin\n");
	char longname[256];
	memset(longname, 'L', 255);
	longname[255] = '\0';
	fx_text(fx, longname, "long\n");
	/* 60 levels deep. */
	char deep[8192] = "d";
	fx_mkdir(fx, deep);
	for (int i = 1; i < 60; i++) {
		strcat(deep, "/d");
		fx_mkdir(fx, deep);
	}
	strcat(deep, "/bottom");
	fx_text(fx, deep, "bottom\n");
	/* Times in the past with odd nanoseconds. */
	fx_path(fx, "hello.txt", p, sizeof(p));
	struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
	fx_path(fx, "link", p, sizeof(p));
	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
	fx_path(fx, "hello.txt", p, sizeof(p));
	bool xattrs = setxattr(p, "user.comment", "greeting", 8, 0) == 0;
	if (xattrs) {
		assert_int_equal(setxattr(p, "user.empty", "", 0, 0), 0);
		fx_path(fx, "dir", p, sizeof(p));
		assert_int_equal(setxattr(p, "user.dirattr", "d\0x", 3, 0), 0);
	}
	return xattrs;
}

static inline void fx_warn(void *ctx, const char *relpath, int err, const char *what)
{
	struct fx *fx = ctx;
	if (fx->nwarned < 16)
		snprintf(fx->warned[fx->nwarned++], sizeof(fx->warned[0]), "%s: %s", relpath, what);
}

/* Walk the source tree. */
static inline void fx_walk_opts(struct fx *fx, struct walk_opts *o, struct walk_result *res)
{
	static struct walk_hooks hooks;
	hooks = (struct walk_hooks){.ctx = fx, .warn = fx_warn};
	if (!o->root)
		o->root = fx->src;
	if (!o->hooks)
		o->hooks = &hooks;
	int r = walk_run(fx->w, o, res);
	if (r < 0)
		fail_msg("walk_run: %d %s", r, store_error());
}

static inline void fx_walk(struct fx *fx, const blob_id *parent, int64_t parent_time,
			   struct walk_result *res)
{
	struct walk_opts o = {.parent_root = parent, .parent_time_ns = parent_time};
	fx_walk_opts(fx, &o, res);
}

/* Commit res as a snapshot taken at time_ns. */
static inline void fx_commit(struct fx *fx, const struct walk_result *res, int64_t time_ns)
{
	struct snapshot_new s = {
		.project_id = fx->project_id,
		.time_ns = time_ns,
		.root = res->root,
		.status = res->partial ? SNAP_PARTIAL : SNAP_COMPLETE,
		.stats = {.files = res->files, .dirs = res->dirs, .bytes = res->bytes,
			  .read_bytes = res->read_bytes},
	};
	struct snapshot out;
	int r = writer_commit(fx->w, &s, &out);
	if (r < 0)
		fail_msg("writer_commit: %d %s", r, store_error());
	snapshot_clear(&out);
}

/* The node at path in the snapshot rooted at root (node_clear it). */
static inline int fx_resolve(struct fx *fx, const blob_id *root, const char *path, struct node *n)
{
	return tree_resolve(fx->repo, root, path, n);
}

#endif
