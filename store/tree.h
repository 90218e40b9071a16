/* tree.h — directory trees.
 *
 * A directory is one blob: its entries sorted by name (memcmp order), each
 * with type, mode, ids, size, times, xattrs, and for a file the list of its
 * chunks, for a subdirectory the id of the subdirectory's tree blob.  Equal
 * directories encode to equal bytes and so to the same id: an unchanged
 * directory costs nothing in a new snapshot (Merkle tree).
 *
 * tree_decode() is a parser of untrusted on-disk data: it rejects any entry
 * named "", ".", "..", or containing '/' or NUL, unsorted or duplicate
 * names, a file whose chunk lengths do not add up to its size, and
 * anything truncated or oversized, with STORE_ECORRUPT.
 */
#ifndef CKPTFS_STORE_TREE_H
#define CKPTFS_STORE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/id.h"

struct repo;

enum node_type {
	NODE_FILE = 1,
	NODE_DIR = 2,
	NODE_SYMLINK = 3,
	NODE_FIFO = 4,
	NODE_CHR = 5,
	NODE_BLK = 6,
	NODE_SOCK = 7,
};

/* node.flags */
#define NODE_F_UNREADABLE 0x1   /* could not be read: recorded as metadata only */
#define NODE_F_DB_COPY 0x2      /* content is a consistent database capture */
#define NODE_F_INCONSISTENT 0x4 /* raw copy of a database that could not be captured */
#define NODE_F_CHANGING 0x8     /* kept changing while read; content is best effort */

struct node_chunk {
	blob_id id;
	uint64_t off; /* offset of this chunk in the file (computed on decode) */
	uint32_t len; /* plaintext length */
};

struct node_xattr {
	char *name;     /* NUL-terminated, e.g. "user.comment" */
	uint8_t *value; /* value_len bytes */
	size_t value_len;
};

struct node {
	char *name; /* one path component; NUL-terminated (names never hold NUL) */
	uint8_t type;  /* enum node_type */
	uint32_t flags;
	uint32_t mode; /* permission bits incl. setuid/setgid/sticky, no S_IFMT */
	uint32_t uid, gid;
	uint64_t size;  /* files: content length; symlinks: target length; other
			 * types: not stored (0 after decode).  A file flagged
			 * NODE_F_UNREADABLE has no chunks and may keep its stat
			 * size; content_read of it fails with -EIO. */
	int64_t mtime_ns, ctime_ns; /* ns since the epoch, UTC */
	uint64_t dev, ino;          /* source identity, for the files cache */
	uint64_t rdev;              /* devices only */
	char *target;               /* symlinks: NUL-terminated target */
	blob_id subtree;            /* directories: id of their tree */
	struct node_chunk *chunks;  /* files: in file order */
	size_t nchunks;
	struct node_xattr *xattrs; /* sorted by name */
	size_t nxattrs;
};

/* A folder's own owner and permission bits.  Recorded in a snapshot's
 * root tree only: every other folder has them in its parent's node, and
 * the root has no parent (the mount serves them for the snapshot folder,
 * so `mount -o allow_other` keeps a 0700 project private). */
struct tree_self {
	uint32_t mode; /* permission bits incl. setuid/setgid/sticky, no S_IFMT */
	uint32_t uid, gid;
	/* Which of the rwx bits of mode the folders above the root let other
	 * users use: 0777 when anyone could pass them, 0770 when only the
	 * root's group (and owner) could, 0700 when only its owner could — a
	 * 0755 project in a 0700 home is its owner's only.  Format 2 did not
	 * record it: 0700 there. */
	uint32_t reach;
};

struct tree {
	struct node *nodes; /* sorted by name, memcmp order */
	size_t n;
	bool has_self;         /* a snapshot root written since format 2 */
	struct tree_self self; /* valid when has_self */
};

/* Serialize t (nodes must be sorted, names valid): format 1 without
 * self, format 3 with it, so folders other than roots keep the bytes (and
 * ids) they always had.  *ret_buf malloc'd. */
int tree_encode(const struct tree *t, uint8_t **ret_buf, size_t *ret_len);

/* Parse and validate an encoded tree.  *ret_tree is owned by the caller
 * (tree_free). */
int tree_decode(const uint8_t *buf, size_t len, struct tree **ret_tree);

/* Load (repo_load_blob + tree_decode) the tree with the given id.  A tree
 * missing from the repository is -STORE_ECORRUPT (damage), not -ENOENT. */
int tree_load(struct repo *repo, const blob_id *id, struct tree **ret_tree);

/* Binary search for name; NULL if absent. */
const struct node *tree_lookup(const struct tree *t, const char *name);

/* Index of the chunk holding byte off of file n (binary search over the
 * chunk offsets); n->nchunks if off >= n->size. */
size_t node_chunk_at(const struct node *n, uint64_t off);

/* Sort t->nodes by name.  Use before tree_encode when building. */
void tree_sort(struct tree *t);

/* Deep copy of a node (all strings and arrays).  0 or -ENOMEM. */
int node_copy(const struct node *src, struct node *dst);

/* Free what a node owns (not the node itself). */
void node_clear(struct node *n);

/* Free a tree and all its nodes.  tree_free(NULL) is a no-op. */
void tree_free(struct tree *t);

/* Find the node at a slash-separated path relative to the snapshot root
 * ("" or "." is the root itself, returned as a NODE_DIR named "" whose
 * subtree is root).  *ret_node is a deep copy (node_clear it).  -ENOENT if
 * a component is missing, -ENOTDIR if one is not a directory. */
int tree_resolve(struct repo *repo, const blob_id *root, const char *path, struct node *ret_node);

#endif
