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

#include <stdbool.h>
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
	/* In the trash (forget): when it went there and when its window ends
	 * (UTC ns); both 0 for a live snapshot. */
	int64_t trashed_at_ns, expires_at_ns;
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

/* Snapshots of a project, newest first.  ret_n may be 0.  This and the
 * lookups below see live snapshots only: a snapshot in the trash is not
 * listed or resolved (and not counted in struct project). */
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

/* The trash (catalog_trash.c).  `forget` moves snapshots into it; a
 * trashed snapshot keeps its catalog row — its name stays taken, and gc,
 * which marks the data of every row, keeps its data — until its window
 * ends.  Every change below is one transaction (all ids or none) and needs
 * a REPO_WRITE repo.
 *
 * Trashed snapshots of project_id (0: of every project), by project name
 * then newest first; none on a catalog older than schema 3. */
int catalog_trash_list(struct repo *repo, int64_t project_id, struct snapshot **ret,
		       size_t *ret_n);
/* Move the live snapshots ids[0..n) to the trash at now_ns, their window
 * ending at expires_at_ns.  -ENOENT (nothing moved) if one is not a live
 * snapshot. */
int catalog_trash_put(struct repo *repo, const int64_t *ids, size_t n, int64_t now_ns,
		      int64_t expires_at_ns);
/* Bring trashed snapshots back, as they were.  -ENOENT (nothing changed)
 * if one is not in the trash. */
int catalog_trash_restore(struct repo *repo, const int64_t *ids, size_t n);
/* Delete the rows of trashed snapshots now (trash empty): their data is
 * then collectable.  -ENOENT (nothing deleted) if one is not in the trash. */
int catalog_trash_delete(struct repo *repo, const int64_t *ids, size_t n);
/* Delete every trashed row whose window has ended (expires_at_ns <=
 * now_ns), making its data collectable: gc calls this before it marks.
 * *ret_n (may be NULL) gets the number deleted. */
int catalog_trash_purge_expired(struct repo *repo, int64_t now_ns, uint64_t *ret_n);

/* Row validation (catalog_valid.c), the one place that says what a row
 * must be.  Every read above skips a row with a fault (a listing leaves
 * it out, a lookup goes on to the next match) and counts it; `check`
 * reports each, `check --repair` quarantines or fixes it.
 *
 * A project name: 1..255 bytes, no '/', no control character, not "." or
 * "..".  A project root: absolute, no empty, "." or ".." component, no
 * trailing '/'.  A snapshot name: what snapname_make gives
 * (YYYY-MM-DDTHH:MM, optionally ":SS" and ".N" with N >= 2).  Status one
 * of enum snap_status; times, counts and the duration not negative; a
 * snapshot's project existing (snapshot.project non-NULL) and valid. */
enum catalog_fault {
	CATALOG_FAULT_NAME = 1u << 0,    /* project or snapshot name */
	CATALOG_FAULT_ROOT = 1u << 1,    /* project root path; snapshot root tree id */
	CATALOG_FAULT_ORPHAN = 1u << 2,  /* snapshot: its project does not exist */
	CATALOG_FAULT_PROJECT = 1u << 3, /* snapshot: its project has a fault */
	CATALOG_FAULT_STATUS = 1u << 4,
	CATALOG_FAULT_TIME = 1u << 5,   /* negative (creation) time */
	CATALOG_FAULT_COUNTS = 1u << 6, /* negative counts or duration */
};
bool catalog_project_name_ok(const char *name);
bool catalog_snapshot_name_ok(const char *name);
/* 0 for a usable row, else the CATALOG_FAULT_* bits it has. */
unsigned catalog_project_faults(const struct project *p);
unsigned catalog_snapshot_faults(const struct snapshot *s);
/* The faults as words ("invalid snapshot name; negative counts") in buf
 * (len bytes, truncated); returns buf. */
const char *catalog_faults_text(unsigned faults, bool snapshot, char *buf, size_t len);

/* How many invalid rows the reads of this repo handle have skipped so far
 * (for a command to say so once: "N invalid catalog rows skipped"). */
uint64_t catalog_rows_skipped(struct repo *repo);

/* A number that changes whenever any process commits a snapshot or
 * registers a project (cheap: for polling by the mount). */
int catalog_generation(struct repo *repo, uint64_t *ret_gen);

#endif
