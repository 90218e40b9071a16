/* repo_fixture.h — a private repository in a temp dir for store tests
 * (test_writer, test_content, test_diff), plus deterministic test data.
 * Static functions: include from one test file each. */
#ifndef CKPTFS_TESTS_REPO_FIXTURE_H
#define CKPTFS_TESTS_REPO_FIXTURE_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/tree.h"
#include "store/writer.h"
#include "tests/tmpdir.h"

struct fixture {
	char dir[64];
	char repo_path[96];
	struct repo *repo;
	struct writer *w;
	int64_t project_id;
};

static __attribute__((unused)) void rm_rf(const char *dir)
{
	tmpdir_remove(dir);
}

static __attribute__((unused)) void fail_store(const char *what, int r)
{
	fail_msg("%s: %d (%s)", what, r, store_error() ? store_error() : "no message");
}

#define CHECK(call)                                                                       \
	do {                                                                              \
		int check_r_ = (call);                                                    \
		if (check_r_ < 0)                                                         \
			fail_store(#call, check_r_);                                      \
	} while (0)

static __attribute__((unused)) int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct project p;
	strcpy(f->dir, "/tmp/ckptfs-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->repo_path, sizeof f->repo_path, "%s/repo", f->dir);
	if (repo_open(f->repo_path, REPO_WRITE, 0, &f->repo) < 0 ||
	    writer_open(f->repo, &f->w) < 0 ||
	    catalog_project_register(f->repo, "proj", f->dir, &p) < 0) {
		fprintf(stderr, "fixture: %s\n", store_error() ? store_error() : "?");
		writer_free(f->w);
		repo_close(f->repo);
		rm_rf(f->dir);
		free(f);
		return -1;
	}
	f->project_id = p.id;
	project_clear(&p);
	*state = f;
	return 0;
}

static __attribute__((unused)) int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	writer_free(f->w);
	repo_close(f->repo);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Commit root as a snapshot of the fixture's project. */
static __attribute__((unused)) void fixture_commit(struct fixture *f, const blob_id *root, int64_t time_ns,
			   struct snapshot *ret)
{
	struct snapshot_new sn = { 0 };
	sn.project_id = f->project_id;
	sn.time_ns = time_ns;
	sn.root = *root;
	sn.status = SNAP_COMPLETE;
	CHECK(writer_commit(f->w, &sn, ret));
}

/* Deterministic mixed data: stretches of random bytes, of repeated text
 * and of zeros, so chunks compress differently and some dedup. */
static __attribute__((unused)) uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static __attribute__((unused)) void fill_mixed(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	static const char text[] = "int main(void) { return printf(\"hello, world\\n\"); }\n";
	size_t i = 0;
	while (i < len) {
		size_t run = 1000 + (size_t)(rng_next(&s) % 300000);
		if (run > len - i)
			run = len - i;
		switch (rng_next(&s) % 3) {
		case 0:
			for (size_t k = 0; k < run; k++)
				buf[i + k] = (uint8_t)(rng_next(&s) >> 24);
			break;
		case 1:
			for (size_t k = 0; k < run; k++)
				buf[i + k] = (uint8_t)text[(i + k) % (sizeof text - 1)];
			break;
		default:
			memset(buf + i, 0, run);
			break;
		}
		i += run;
	}
}

/* A writer_read_fn over a memory buffer, handing out odd-sized pieces. */
struct mem_reader {
	const uint8_t *p;
	size_t len, pos, step;
};

static __attribute__((unused)) int mem_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct mem_reader *m = ctx;
	size_t n = m->len - m->pos;
	if (n > cap)
		n = cap;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*ret_n = n;
	return 0;
}

static __attribute__((unused)) void put_mem(struct fixture *f, const uint8_t *data, size_t len, struct node *n)
{
	struct mem_reader m = { .p = data, .len = len, .step = 123457 };
	CHECK(writer_put_stream(f->w, mem_read, &m, n));
}

static __attribute__((unused)) struct node file_node(const char *name)
{
	struct node n = { 0 };
	n.name = strdup(name);
	n.type = NODE_FILE;
	n.mode = 0644;
	return n;
}

static __attribute__((unused)) struct node dir_node(const char *name, const blob_id *subtree)
{
	struct node n = { 0 };
	n.name = strdup(name);
	n.type = NODE_DIR;
	n.mode = 0755;
	n.subtree = *subtree;
	return n;
}

/* Store a tree of the given nodes (taking ownership of them). */
static __attribute__((unused)) void put_tree(struct fixture *f, struct node *nodes, size_t n, blob_id *ret)
{
	struct tree t = { .nodes = nodes, .n = n };
	tree_sort(&t);
	CHECK(writer_put_tree(f->w, &t, ret));
	for (size_t i = 0; i < n; i++)
		node_clear(&nodes[i]);
}

/* The same without writer_put_tree's reference check: for trees that
 * name blobs the repository does not hold (damage, on purpose).  Needs
 * store/writer_internal.h and store/blob.h. */
#ifdef CKPTFS_STORE_WRITER_INTERNAL_H
static __attribute__((unused)) void put_tree_unchecked(struct fixture *f, struct node *nodes,
						       size_t n, blob_id *ret)
{
	struct tree t = { .nodes = nodes, .n = n };
	tree_sort(&t);
	uint8_t *buf;
	size_t len;
	CHECK(tree_encode(&t, &buf, &len));
	CHECK(writer_put_blob(f->w, BLOB_TREE, buf, len, ret));
	free(buf);
	for (size_t i = 0; i < n; i++)
		node_clear(&nodes[i]);
}
#endif

/* Names in dir (relative to the fixture dir), excluding . and .. */
static __attribute__((unused)) int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#endif
