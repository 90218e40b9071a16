/* catalog_gc.h — the catalog calls of garbage collection (store/gc*.c):
 * scanning packs and blobs, and the one transaction that moves blobs into
 * a new pack and drops old packs.  Each takes repo->db_lock itself (the
 * scan uses no shared state). */
#ifndef CKPTFS_STORE_CATALOG_GC_H
#define CKPTFS_STORE_CATALOG_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/id.h"
#include "store/pack.h"

struct repo;

/* Every row of packs (by id), then every row of blobs (in no order, with
 * its pack's id), in one read transaction on a read-only connection of
 * the caller's own (opened and closed here), not the shared one: so a
 * thread can read the whole index while another uses the shared
 * connection (gc's plan alongside its mark).  The callbacks must not call
 * the catalog; a negative return stops the scan and is returned. */
typedef int (*catalog_pack_fn)(void *ctx, int64_t dbid, const char *name, uint64_t size);
typedef int (*catalog_blob_fn)(void *ctx, int64_t pack_dbid, const struct pack_entry *e);
int catalog_scan_private(struct repo *repo, catalog_pack_fn pack_fn, catalog_blob_fn blob_fn,
			 void *ctx);

/* One transaction: if new_name, record that pack (durable already) and
 * point the rows of its n entries at it (a missing row is inserted); then
 * delete the packs drop[0..ndrop) and every blob row still in them. */
int catalog_gc_move(struct repo *repo, const char *new_name, uint64_t new_size,
		    const struct pack_entry *moved, size_t n, const int64_t *drop, size_t ndrop);

/* A new pack (durable already) and the entries of the blobs moved into it. */
struct catalog_gc_pack {
	char name[PACK_NAME_LEN + 1];
	uint64_t size;
	struct pack_entry *e;
	size_t n;
};

/* The same for several new packs in one transaction: each blob row of a
 * long history's catalog lies on its own page, so one commit per new pack
 * rewrote most of the catalog each time. */
int catalog_gc_move_packs(struct repo *repo, const struct catalog_gc_pack *news, size_t nnews,
			  const int64_t *drop, size_t ndrop);

/* The same transaction in steps, so the rows of each new pack can be
 * moved as soon as the pack is durable, while gc copies the next one
 * (gc_move.c): begin; add each new pack (recorded, its rows pointed at
 * it); drop old packs drop[0..ndrop) and their remaining rows; commit (a
 * failure rolls back everything since begin); or roll back.
 * Between the steps the transaction stays open on the shared connection:
 * nothing else may use it meanwhile (during gc's repack nothing does). */
int catalog_gc_txn_begin(struct repo *repo);
int catalog_gc_txn_add(struct repo *repo, const struct catalog_gc_pack *p);
int catalog_gc_txn_drop(struct repo *repo, const int64_t *drop, size_t ndrop);
int catalog_gc_txn_commit(struct repo *repo);
void catalog_gc_txn_rollback(struct repo *repo);

/* A read transaction on the shared connection around the mark's many
 * lookups (each one otherwise takes and drops the read lock: a few
 * system calls apiece).  end is a no-op when none is open. */
int catalog_gc_read_begin(struct repo *repo);
void catalog_gc_read_end(struct repo *repo);

/* Whether a commit on this connection checkpoints the WAL once it passes
 * SQLite's default 1,000 pages (on) or never (off: gc's repack commits
 * rewrite most of the catalog, and checkpointing after each cost a copy
 * of it into the database file and an fsync; switched back on at the end,
 * the last connection's close or the next writer's commit does it once). */
int catalog_gc_autocheckpoint(struct repo *repo, bool on);
/* Copy what the WAL holds into the database file now, as far as readers
 * allow (a passive checkpoint; a failure only leaves it to the next one). */
void catalog_gc_checkpoint(struct repo *repo);

/* Let this connection cache up to kib KiB of catalog pages (SQLite's
 * default is 2 MiB): gc reads the whole blob index and looks up every
 * tree.  0 or a negative errno (recorded). */
int catalog_gc_cache(struct repo *repo, unsigned kib);

#endif
