/* mkhostile — commit a snapshot with hostile tree entries, for
 * tests/e2e/t_hostile_mount.sh.
 *
 *   mkhostile REPO PROJECT
 *
 * Adds to the registered project PROJECT (by name) a newest snapshot whose
 * root is valid and holds:
 *   good.txt        "good\n"
 *   sub/ok.txt      "ok\n"
 *   dotdot/         a tree with an entry named ".."
 *   slash/          a tree with an entry named "a/b"
 *   badsize/        a tree with a file whose size disagrees with its chunks
 *   notatree/       a "tree" that is a data blob
 * The hostile trees are encoded by hand in the documented format
 * (store/tree_format.h), bypassing tree_encode's checks.  Prints the
 * snapshot's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/tree.h"
#include "store/writer.h"
#include "store/writer_internal.h"

struct enc {
	uint8_t b[512];
	size_t n;
};

static void varint(struct enc *e, uint64_t v)
{
	while (v >= 0x80) {
		e->b[e->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	e->b[e->n++] = (uint8_t)v;
}

/* A one-file tree, raw. */
static void raw_file_tree(struct enc *e, const char *name, uint64_t size, const blob_id *chunk,
			  uint32_t chunk_len)
{
	e->n = 0;
	e->b[e->n++] = 1; /* version */
	varint(e, 1);     /* count */
	varint(e, strlen(name));
	memcpy(e->b + e->n, name, strlen(name));
	e->n += strlen(name);
	e->b[e->n++] = NODE_FILE;
	varint(e, 0);    /* flags */
	varint(e, 0644); /* mode */
	for (int i = 0; i < 6; i++)
		varint(e, 0); /* uid gid mtime ctime dev ino */
	varint(e, size);
	varint(e, 1);
	memcpy(e->b + e->n, chunk->b, ID_BYTES);
	e->n += ID_BYTES;
	varint(e, chunk_len);
	varint(e, 0); /* xattrs */
}

static int die(const char *what, int r)
{
	fprintf(stderr, "mkhostile: %s: %s\n", what, store_error() ? store_error() : "error");
	return r < 0 ? 1 : r;
}

static struct node file_node(const char *name, const blob_id *id, uint32_t len)
{
	struct node n = { .name = (char *)name, .type = NODE_FILE, .mode = 0644, .size = len,
			  .nchunks = 1 };
	n.chunks = calloc(1, sizeof *n.chunks);
	n.chunks[0] = (struct node_chunk){ .id = *id, .off = 0, .len = len };
	return n;
}

static struct node dir_node(const char *name, const blob_id *sub)
{
	return (struct node){ .name = (char *)name, .type = NODE_DIR, .mode = 0755,
			      .subtree = *sub };
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkhostile REPO PROJECT\n");
		return 2;
	}
	struct repo *repo;
	struct writer *w;
	struct project p;
	int r;
	if ((r = repo_open(argv[1], REPO_WRITE, 5000, &repo)) < 0)
		return die("open", r);
	if ((r = catalog_project_by_name(repo, argv[2], &p)) < 0)
		return die("project", r);
	if ((r = writer_open(repo, &w)) < 0)
		return die("writer", r);

	blob_id good, ok, sub, dotdot, slash, badsize, root;
	struct enc e;
	if ((r = writer_put_blob(w, BLOB_DATA, "good\n", 5, &good)) < 0 ||
	    (r = writer_put_blob(w, BLOB_DATA, "ok\n", 3, &ok)) < 0)
		return die("data", r);
	struct node okn = file_node("ok.txt", &ok, 3);
	struct tree t = { .nodes = &okn, .n = 1 };
	if ((r = writer_put_tree(w, &t, &sub)) < 0)
		return die("sub", r);
	raw_file_tree(&e, "..", 5, &good, 5);
	if ((r = writer_put_blob(w, BLOB_TREE, e.b, e.n, &dotdot)) < 0)
		return die("dotdot", r);
	raw_file_tree(&e, "a/b", 5, &good, 5);
	if ((r = writer_put_blob(w, BLOB_TREE, e.b, e.n, &slash)) < 0)
		return die("slash", r);
	raw_file_tree(&e, "f", 1u << 20, &good, 5);
	if ((r = writer_put_blob(w, BLOB_TREE, e.b, e.n, &badsize)) < 0)
		return die("badsize", r);

	struct node rn[6];
	rn[0] = dir_node("badsize", &badsize);
	rn[1] = dir_node("dotdot", &dotdot);
	rn[2] = file_node("good.txt", &good, 5);
	rn[3] = dir_node("notatree", &good);
	rn[4] = dir_node("slash", &slash);
	rn[5] = dir_node("sub", &sub);
	t = (struct tree){ .nodes = rn, .n = 6 };
	/* Encoded and stored by hand: writer_put_tree refuses a tree naming a
	 * data chunk as a directory ("notatree"), which is the point here. */
	uint8_t *rootbuf;
	size_t rootlen;
	if ((r = tree_encode(&t, &rootbuf, &rootlen)) < 0)
		return die("root", r);
	r = writer_put_blob(w, BLOB_TREE, rootbuf, rootlen, &root);
	free(rootbuf);
	if (r < 0)
		return die("root", r);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct snapshot_new sn = { .project_id = p.id,
				   .time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
				   .message = "hostile", .root = root, .status = SNAP_COMPLETE };
	struct snapshot s;
	if ((r = writer_commit(w, &sn, &s)) < 0)
		return die("commit", r);
	printf("%s\n", s.name);
	snapshot_clear(&s);
	free(okn.chunks);
	free(rn[2].chunks);
	writer_free(w);
	project_clear(&p);
	repo_close(repo);
	return 0;
}
