/* catalog.h — projects and snapshots, as recorded in catalog.db.
 *
 * The catalog is an index over the packs (which alone can rebuild the blob
 * index) plus the list of projects and snapshots.  A snapshot row is
 * inserted in the same transaction that makes it visible, after all its
 * packs are durable: a snapshot is either absent or complete.
 *
 * All functions are safe from many threads on a REPO_READ repo.  Strings in
 * returned structs are malloc'd and owned by the caller (project_clear,
 * snapshot_clear, *_free).
 */
#ifndef CKPTFS_STORE_CATALOG_H
#define CKPTFS_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/id.h"

struct repo;

struct project {
	int64_t id;
	char *name; /* unique; the folder name unless given */
	char *root; /* absolute path of the project root */
	int64_t created_ns;
	int64_t nsnapshots;
	int64_t last_time_ns; /* time of the newest snapshot, 0 if none */
};

enum snap_status {
	SNAP_COMPLETE = 0,
	SNAP_PARTIAL = 1, /* some files or databases could not be captured */
	SNAP_DAMAGED = 2, /* check found data of it missing or corrupt */
};

struct snap_stats {
	uint64_t files, dirs, bytes; /* what the snapshot holds */
	uint64_t new_blobs;          /* blobs this snapshot added to the repository */
	uint64_t new_bytes;          /* stored (compressed, sealed) bytes it added */
	uint64_t read_bytes;         /* file bytes actually read (the rest came from the files cache) */
	int64_t duration_ns;
};

struct snapshot {
	int64_t id;
	int64_t project_id;
	char *project; /* project name */
	char *name;    /* e.g. "2026-02-14T10:30", never changes */
	int64_t time_ns; /* UTC ns when the snapshot started */
	char *message;   /* -m, or NULL */
	char *tag;       /* -t, or NULL */
	char *git_commit, *git_branch; /* NULL outside git work trees */
	blob_id root;
	enum snap_status status;
	struct snap_stats stats;
	char *notes; /* JSON object text with warnings and database drills, or NULL */
};

void project_clear(struct project *p);
void projects_free(struct project *p, size_t n);
void snapshot_clear(struct snapshot *s);
void snapshots_free(struct snapshot *s, size_t n);

/* Every project, sorted by name. */
int catalog_projects(struct repo *repo, struct project **ret, size_t *ret_n);

/* -ENOENT if there is none. */
int catalog_project_by_name(struct repo *repo, const char *name, struct project *ret);
int catalog_project_by_root(struct repo *repo, const char *root, struct project *ret);

/* Register a project (writer only).  -EEXIST if name belongs to another
 * root (message names both and suggests --name). */
int catalog_project_register(struct repo *repo, const char *name, const char *root,
			     struct project *ret);

/* Snapshots of a project, newest first.  ret_n may be 0. */
int catalog_snapshots(struct repo *repo, int64_t project_id, struct snapshot **ret, size_t *ret_n);

/* Lookups; each -ENOENT when nothing matches. */
int catalog_snapshot_by_name(struct repo *repo, int64_t project_id, const char *name,
			     struct snapshot *ret);
int catalog_snapshot_latest(struct repo *repo, int64_t project_id, struct snapshot *ret);
/* Newest snapshot whose time_ns <= t. */
int catalog_snapshot_at_or_before(struct repo *repo, int64_t project_id, int64_t t,
				  struct snapshot *ret);
/* Newest snapshot carrying tag. */
int catalog_snapshot_by_tag(struct repo *repo, int64_t project_id, const char *tag,
			    struct snapshot *ret);

/* A number that changes whenever any process commits a snapshot or
 * registers a project (cheap: for polling by the mount). */
int catalog_generation(struct repo *repo, uint64_t *ret_gen);

#endif
