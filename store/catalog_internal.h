/* catalog_internal.h — the catalog calls used inside the store (the blob
 * index, packs, inserting snapshots).  Everything here takes repo->db_lock
 * itself. */
#ifndef CKPTFS_STORE_CATALOG_INTERNAL_H
#define CKPTFS_STORE_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/catalog.h"
#include "store/pack.h"
#include "store/writer.h"

struct repo;

/* Open repo->db (repo->path/catalog.db; read-only for REPO_READ, created
 * for REPO_WRITE) and create the schema in a new catalog, or check/migrate
 * an existing one.  STORE_ENEWER for a newer schema. */
int catalog_init(struct repo *repo);

/* Finalize the cached statements and close repo->db.  Safe on a repo whose
 * catalog_init failed or never ran (repo->db NULL). */
void catalog_close(struct repo *repo);

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

/* Insert a snapshot row with a fresh name, in one transaction. */
int catalog_snapshot_insert(struct repo *repo, const struct snapshot_new *s, struct snapshot *ret);

#endif
