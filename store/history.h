/* history.h — one path across many snapshots: its versions, what a folder
 * ever held, and glob search over every snapshot of a project.
 *
 * Everything here leans on the Merkle trees: an unchanged directory has
 * the same tree id in every snapshot, so a struct hist remembers, per
 * tree id, what it found below it (the entry a path resolves to, or the
 * matches of a search) and decodes each distinct tree once however many
 * snapshots share it.  Cost grows with the number of distinct trees on the
 * way, not with snapshots x files.  A hist holds its memo until
 * hist_free: use one per question (the memo is keyed by the question).
 *
 * Snapshots are given as an array of root tree ids, oldest first; results
 * name snapshots by their index in that array.
 */
#ifndef CKPTFS_STORE_HISTORY_H
#define CKPTFS_STORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/id.h"
#include "store/tree.h"

struct repo;
struct hist;

#define HIST_ABSENT SIZE_MAX

/* A memo over repo.  0 or -ENOMEM.  hist_free(NULL) is a no-op. */
int hist_open(struct repo *repo, struct hist **ret);
void hist_free(struct hist *h);

/* Where h gets decoded trees instead of loading each itself: get fills
 * *ret_tree (valid until put(ctx, *ret_ref)) and returns 0 or a negative
 * errno with the store message set; e.g. the mount's tree cache, so trees
 * shared by many lookups are decoded once.  Counted like loads. */
typedef int (*hist_get_fn)(void *ctx, const blob_id *id, const struct tree **ret_tree,
			   void **ret_ref);
typedef void (*hist_put_fn)(void *ctx, void *ref);
void hist_set_source(struct hist *h, hist_get_fn get, hist_put_fn put, void *ctx);

/* How many trees h decoded so far (for tests and benchmarks). */
uint64_t hist_trees_loaded(const struct hist *h);

/* One distinct version of an entry: same type and mode, and the same
 * chunk list (files), target (symlinks), tree id (directories) or device
 * number (devices).  Times and owners do not make a new version. */
struct hist_version {
	struct node node;    /* as in the first snapshot holding it (name: the last component) */
	blob_id parent_tree; /* the tree holding node in that snapshot (zero for the root) */
	size_t first, last;  /* indexes of the first and last snapshot holding it */
	size_t count;        /* how many snapshots hold it */
};

/* A run of consecutive snapshots where the path held one version, or
 * (version == HIST_ABSENT) did not exist: a gap, deleted in snapshot
 * first and still gone in last.  Gaps appear only after the path's first
 * appearance. */
struct hist_run {
	size_t version; /* index into versions, or HIST_ABSENT */
	size_t first, last;
};

struct hist_versions {
	struct hist_version *v; /* in order of first appearance */
	size_t nv;
	struct hist_run *runs; /* in snapshot order, covering first appearance .. last root */
	size_t nruns;
};

/* The versions of path (relative, '/'-separated; "" or "." is the root)
 * in the snapshots roots[0..n).  A path that is in none of them is
 * -ENOENT with a message naming it; a ".." component -EINVAL.  *ret is
 * the caller's (hist_versions_clear). */
int hist_versions(struct hist *h, const blob_id *roots, size_t n, const char *path,
		  struct hist_versions *ret);
void hist_versions_clear(struct hist_versions *v);

/* Whether two entries are the same version (see struct hist_version). */
bool hist_same_version(const struct node *a, const struct node *b);

/* One name a directory held in some snapshot. */
struct hist_name {
	char *name;
	bool ever_dir;   /* it was a directory in some snapshot */
	bool ever_other; /* it was something else (file, link, ...) in some snapshot */
};

/* Every name the directory at path held in any of the snapshots, sorted
 * by name (memcmp order).  Snapshots where path is not a directory add
 * nothing; -ENOENT if it is a directory in none of them.  Each distinct
 * tree of the directory is decoded once.  *ret is the caller's
 * (hist_names_free). */
int hist_dir_names(struct hist *h, const blob_id *roots, size_t n, const char *path,
		   struct hist_name **ret, size_t *ret_n);
void hist_names_free(struct hist_name *names, size_t n);

/* The same from versions already found (hist_versions of the folder's
 * path): the names held by its directory versions.  -ENOENT if none of
 * them is a directory. */
int hist_version_names(struct hist *h, const struct hist_versions *v, struct hist_name **ret,
		       size_t *ret_n);

/* One path that matched a search, with the snapshots holding it. */
struct hist_match {
	char *path;    /* relative, '/'-separated */
	uint8_t type;  /* enum node_type */
	uint64_t size; /* in the last snapshot holding it */
	size_t first, last, count;
};

/* Search the snapshots roots[0..n) for entries matching pattern (glob.h):
 * with a '/' in it against the whole relative path, else against the
 * name.  type 0 for any type, else only entries of that node type.
 * Matches come sorted by path (then type), each once with the range of
 * snapshots holding it.  Each distinct (tree id, directory path) is
 * decoded once.  *ret is the caller's (hist_matches_free). */
int hist_search(struct hist *h, const blob_id *roots, size_t n, const char *pattern, uint8_t type,
		struct hist_match **ret, size_t *ret_n);
void hist_matches_free(struct hist_match *m, size_t n);

#endif
