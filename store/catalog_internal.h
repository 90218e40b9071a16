/* catalog_internal.h — the catalog calls used inside the store (the blob
 * index, packs, inserting snapshots).  Everything here takes repo->db_lock
 * itself. */
#ifndef CKPTFS_STORE_CATALOG_INTERNAL_H
#define CKPTFS_STORE_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/pack.h"
#include "store/snapname.h"
#include "store/writer.h"

struct repo;

/* Open repo->db (repo->path/catalog.db; read-only for REPO_READ, created
 * for REPO_WRITE) and create the schema in a new catalog, or check/migrate
 * an existing one.  STORE_ENEWER for a newer schema. */
int catalog_init(struct repo *repo);

/* Finalize the cached statements and close repo->db.  Safe on a repo whose
 * catalog_init failed or never ran (repo->db NULL). */
void catalog_close(struct repo *repo);

/* Every row of projects / snapshots (by id, a snapshot's project joined
 * LEFT: an orphan has project NULL), valid or not, with its
 * CATALOG_FAULT_* bits (catalog_valid.c): for check.  fn runs with the
 * catalog lock held (it must not call the catalog); a negative return
 * stops the scan and is returned.  The row is freed after fn returns. */
typedef int (*catalog_scan_project_fn)(void *ctx, const struct project *p, unsigned faults);
typedef int (*catalog_scan_fn)(void *ctx, const struct snapshot *s, unsigned faults);
int catalog_scan_projects(struct repo *repo, catalog_scan_project_fn fn, void *ctx);
int catalog_scan_snapshots(struct repo *repo, catalog_scan_fn fn, void *ctx);

/* check --repair of invalid rows (catalog_quarantine.c), each in its own
 * transaction.  Quarantine moves a row into the table quarantine
 * (created on first use: id, time_ns, tbl, row_id, reason, row as JSON)
 * and deletes it; a project takes its snapshots with it.  Never used on a
 * valid row. */
int catalog_quarantine_project(struct repo *repo, int64_t id, const char *reason);
int catalog_quarantine_snapshot(struct repo *repo, int64_t id, const char *reason);
/* Rename project id to name (which must be valid and free). */
int catalog_project_rename(struct repo *repo, int64_t id, const char *name);
/* Fix in place what can be: created_ns < 0 -> 0. */
int catalog_project_fix(struct repo *repo, int64_t id);
/* Fix in place: a status outside enum snap_status -> SNAP_DAMAGED (check
 * then verifies its data); negative counts and duration -> 0. */
int catalog_snapshot_fix(struct repo *repo, int64_t id);
/* Rows in quarantine (0 without the table). */
int catalog_quarantined(struct repo *repo, int64_t *ret_n);

struct blob_loc {
	char pack[PACK_NAME_LEN + 1];
	uint64_t offset;
	uint32_t length, raw_length;
	uint8_t type;
	uint64_t xxh;
};

/* Where the blob with this id and type (enum blob_type) is; -ENOENT if
 * it is not indexed as that type (the same bytes under another type do
 * not count: see catalog_schema.c). */
int catalog_blob_lookup(struct repo *repo, const blob_id *id, uint8_t type, struct blob_loc *ret);

/* The same for any type (the lowest type number when several are
 * indexed): the version-1 fallback of repo_read.c and error messages. */
int catalog_blob_lookup_any(struct repo *repo, const blob_id *id, struct blob_loc *ret);

/* Record a finished (durable) pack and index its blobs, in one transaction.
 * Blobs already indexed elsewhere keep their first location. */
int catalog_pack_add(struct repo *repo, const char *name, uint64_t size,
		     const struct pack_entry *entries, size_t n);

/* Whether a snapshot (time_ns, root) left the trash for good (the
 * forgotten table, catalog_schema.c): check --repair does not re-create
 * it from its record.  false on a catalog older than schema 3. */
int catalog_forgotten_has(struct repo *repo, int64_t time_ns, const blob_id *root, bool *ret);

/* The rows ids[0..n) (live or trashed), in that order, into *ret (n
 * elements, snapshots_free them).  -ENOENT if one does not exist,
 * STORE_ECORRUPT if one is invalid (catalog_trash.c). */
int catalog_snapshot_rows(struct repo *repo, const int64_t *ids, size_t n, struct snapshot **ret);

/* Every pack the catalog lists, sorted by name.  *ret malloc'd. */
struct catalog_pack {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
};
int catalog_pack_list(struct repo *repo, struct catalog_pack **ret, size_t *ret_n);

/* The name catalog_snapshot_insert would give a snapshot of project_id
 * at time_ns now (the writer records it in the snapshot's record before
 * the insert; it holds the writer lock, so the insert picks the same). */
int catalog_snapshot_next_name(struct repo *repo, int64_t project_id, int64_t time_ns,
			       char out[SNAPNAME_MAX_LEN + 1]);

/* Insert a snapshot row with a fresh name (s->name when it is given,
 * valid and free), in one transaction. */
int catalog_snapshot_insert(struct repo *repo, const struct snapshot_new *s, struct snapshot *ret);

#endif
