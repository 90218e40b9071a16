/* inode.h — the mount's table of inodes the kernel holds.
 *
 * The kernel names an inode by a "node id" it got from a lookup (or a
 * readdirplus entry) and says when it drops it (forget).  The table maps
 * node ids to entries and (parent, name) to the live entry for that name,
 * so a name looked up again while the kernel still holds it gets the same
 * node id.  An entry lives while the kernel holds it (lookup count > 0) or
 * while one of its children lives (children point at their parent); then it
 * is freed.  Memory is therefore bounded by what the kernel caches, which
 * it trims under memory pressure: about 300 bytes plus the name per entry.
 *
 * Node ids are allocated sequentially and never reused.  The inode number
 * user space sees (st_ino, d_ino) is separate: a 64-bit hash of the parent's
 * inode number and the name (plus the snapshot id for snapshot folders), so
 * it is the same before and after a forget, in readdir and in stat, and even
 * across mounts.  Two paths collide with probability about n^2 / 2^65.
 *
 * All functions are thread-safe (one mutex).  Entry fields other than the
 * private counters never change after insertion, so a caller holding a
 * node id the kernel has not forgotten may read them without the lock.
 */
#ifndef CKPTFS_FS_INODE_H
#define CKPTFS_FS_INODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store/id.h"

enum inode_kind {
	INODE_ROOT = 1, /* the mount's root: one folder per project */
	INODE_PROJECT,  /* a project: its snapshots, latest, @tags */
	INODE_LATEST,   /* symlink to the newest snapshot's name */
	INODE_TAGDIR,   /* <project>/@tags */
	INODE_TAG,      /* @tags/<tag>: symlink to ../<snapshot name> */
	INODE_SNAPSHOT, /* a snapshot's root folder */
	INODE_DIR,      /* a folder inside a snapshot */
	INODE_LEAF,     /* anything else inside a snapshot (file, symlink, ...) */
	INODE_HIST,     /* <project>/@versions and every path folder below it */
	INODE_VLEAF,    /* @versions/<path>/<snapshot>: one version of <path> */
	INODE_SIDECAR,  /* an empty <db>-wal or <db>-shm in a snapshot (fs/sidecar.h) */
};

/* Inside a snapshot: its contents never change. */
static inline bool inode_kind_immutable(enum inode_kind k)
{
	return k == INODE_SNAPSHOT || k == INODE_DIR || k == INODE_LEAF || k == INODE_SIDECAR;
}

struct inode {
	uint64_t nodeid;    /* FUSE node id (1 for the root) */
	uint64_t ino;       /* st_ino / d_ino */
	struct inode *parent; /* NULL for the root */
	char *name;         /* "" for the root */
	enum inode_kind kind;
	int64_t project_id; /* all kinds below the root */
	int64_t snap_id;    /* SNAPSHOT, DIR, LEAF; LATEST and TAG: the target; VLEAF: first snapshot */
	blob_id tree;       /* SNAPSHOT and DIR: the folder's tree; VLEAF: the tree holding it */
	struct stat st;     /* all but ROOT, PROJECT, TAGDIR: attributes (st_ino set by the table) */
	char *target;       /* LEAF symlinks, LATEST, TAG: the target (owned) */

	/* private to inode.c */
	uint64_t nlookup;
	uint32_t nchildren;
	bool hashed_by_name;
	struct inode *next_by_id, *next_by_name;
};

struct inode_table;

/* A table holding only the root (node id 1, st_ino 1, kind INODE_ROOT). */
int inode_table_new(struct inode_table **ret);

/* Free the table and every entry.  inode_table_free(NULL) is a no-op. */
void inode_table_free(struct inode_table *t);

/* The root entry. */
struct inode *inode_root(struct inode_table *t);

/* The entry for a node id, or NULL if the table has none (stale id). */
struct inode *inode_find(struct inode_table *t, uint64_t nodeid);

/* The live entry named name in parent, or a new one made from tmpl (kind,
 * project_id, snap_id, tree, st, target are copied; nodeid, ino, parent and
 * name are filled in), with its lookup count incremented: the reply hands
 * the node id to the kernel.  A live entry whose identity (kind, ids, tree,
 * type, size, mtime) differs from tmpl is replaced; the old one stays
 * reachable by node id until forgotten.  NULL on ENOMEM.  Readdir needs no
 * entry: inode_number() gives the same d_ino. */
struct inode *inode_get(struct inode_table *t, struct inode *parent, const char *name,
			const struct inode *tmpl);

/* The kernel dropped n lookups of nodeid (forget).  Unknown ids are
 * ignored. */
void inode_forget(struct inode_table *t, uint64_t nodeid, uint64_t n);

/* Entries in the table (root included), for tests and stats. */
size_t inode_count(struct inode_table *t);

/* The inode number a child named name of parent gets (see above). */
uint64_t inode_number(uint64_t parent_ino, const char *name, int64_t salt);

/* Path of e below the mount root ("myapp/2026-02-14T10:30/src/a.c"),
 * truncated to fit; for messages.  Returns buf. */
char *inode_path(struct inode_table *t, const struct inode *e, char *buf, size_t size);

#endif
