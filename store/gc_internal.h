/* gc_internal.h — what gc's modules share (gc.h says what each does).
 * Store-internal. */
#ifndef CKPTFS_STORE_GC_INTERNAL_H
#define CKPTFS_STORE_GC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/gc.h"
#include "store/id.h"
#include "store/pack.h"

struct repo;

/* ---- the mark set (gc_set.c) ----
 *
 * A hash set of 32-byte ids, each with a byte of flags: open addressing,
 * linear probing, indexed by the id's first 8 bytes (ids are keyed hashes,
 * already uniform).  33 bytes a slot, at most 3/4 full, doubling: 44 to
 * 88 bytes per id, so 42 to 84 MiB per million live blobs.  Exact (no
 * false positives), because "already marked" skips a whole subtree. */
#define GC_LIVE_DATA 0x01    /* referenced as a data chunk */
#define GC_LIVE_TREE 0x02    /* referenced as a tree */
#define GC_LIVE_SNAPREC 0x04 /* a snapshot record whose row exists */
#define GC_SNAPROW 0x08      /* not a blob: the key of a snapshot row */

struct gc_set;

int gc_set_new(struct gc_set **ret);
void gc_set_free(struct gc_set *s);
/* Add flags to id (inserting it).  Returns the flags it had before (0 if
 * it is new), or -ENOMEM (recorded). */
int gc_set_add(struct gc_set *s, const blob_id *id, uint8_t flags);
/* The flags of id, 0 if absent. */
uint8_t gc_set_get(const struct gc_set *s, const blob_id *id);
/* Start loading the slot id would be probed at (a hint: a caller about
 * to add many ids prefetches a few ahead). */
void gc_set_prefetch(const struct gc_set *s, const blob_id *id);
/* How far ahead: a root tree lists every chunk of a big file (16,384 for
 * a 64 MiB database), the plan classifies every row of the index, and the
 * probes are cache misses. */
#define GC_PREFETCH_AHEAD 8
size_t gc_set_count(const struct gc_set *s);
size_t gc_set_bytes(const struct gc_set *s);

/* Whether a blob stored as type is live by the set's flags.  legacy: the
 * catalog holds schema-1 snapshots, whose references may name a data
 * chunk or tree stored under the other of the two types (repo_read.c). */
bool gc_set_live(const struct gc_set *s, const blob_id *id, uint8_t type, bool legacy);

/* ---- reading blobs in disk order (gc_load.c) ---- */

/* A few open packs, the least recently used one closed for a new one. */
#define GC_FDS 16
struct gc_fds {
	struct {
		char name[PACK_NAME_LEN + 1];
		int fd; /* -1: free */
		uint64_t used;
	} s[GC_FDS];
	uint64_t clock;
};
void gc_fds_init(struct gc_fds *c);
void gc_fds_close(struct gc_fds *c);

/* One blob of a batch: err 0 and its plaintext (freed after the call),
 * or err < 0 with the failure recorded and data NULL.  A negative return
 * stops the batch and is returned. */
typedef int (*gc_load_fn)(void *ctx, const blob_id *id, int err, uint8_t *data, size_t len);

/* Look up ids[0..n) as type, then read them sorted by pack and offset
 * through fds, calling fn for each (in that order, not the given one). */
int gc_load_batch(struct repo *repo, struct gc_fds *fds, const blob_id *ids, size_t n,
		  uint8_t type, gc_load_fn fn, void *ctx);

/* ---- the plan's read, alongside the mark (gc_scan.c) ---- */

/* In a thread of its own, on a read connection of its own: the pack
 * list, every row of the blob index (kept whole until the mark set is
 * complete: 72 bytes a row) and the pack files the catalog does not list
 * (never one a journal entry in tmp/ still names). */
struct gc_scan;
int gc_scan_start(struct repo *repo, struct gc_scan **ret);
/* Wait for it to end.  0, or its failure (recorded here).  May be called
 * again (the same answer). */
int gc_scan_wait(struct gc_scan *sc);
/* After a successful wait: the ids of every snapshot record in the index
 * (*ret_n of them, owned by sc). */
const blob_id *gc_scan_snaprecs(const struct gc_scan *sc, size_t *ret_n);
/* Wait for it (if not yet) and free it; NULL is a no-op. */
void gc_scan_free(struct gc_scan *sc);

/* ---- mark (gc_mark.c) ---- */

/* Fill set from every snapshot row: trees walked level by level (each
 * level's trees read in disk order, one decoded at a time, each tree
 * once), then the snapshot records whose row exists (their ids from scan,
 * waited for), all in one read transaction.  A tree that cannot be
 * loaded fails the mark (nothing may be deleted on a partial mark). */
int gc_mark(struct repo *repo, struct gc_scan *scan, struct gc_set *set, struct gc_result *res);
/* The same, leaving out trashed rows whose window ends at or before
 * expired_by (for a dry run, which does not delete them first); 0: every
 * row. */
int gc_mark_at(struct repo *repo, struct gc_scan *scan, struct gc_set *set, int64_t expired_by,
	       struct gc_result *res);

/* ---- plan (gc_plan.c) ---- */

struct gc_pack {
	int64_t dbid;
	char name[PACK_NAME_LEN + 1];
	uint64_t size;       /* file size as recorded */
	uint64_t live_bytes; /* stored bytes of its live blobs */
	uint64_t live_count, dead_count;
	bool dead_snaprec;   /* holds a snapshot record whose row is gone */
	int action;          /* -1 keep, else enum gc_action */
	/* GC_REPACK: its live rows, plan->live[first .. first + nlive), by
	 * offset (from the plan's scan: no query per pack in the repack). */
	size_t first, nlive;
};

/* A live blob row of a pack planned GC_REPACK. */
struct gc_live {
	uint32_t pack; /* index in plan->packs */
	struct pack_entry e;
};

struct gc_plan {
	struct gc_pack *packs; /* every listed pack, by dbid */
	size_t n;
	struct gc_live *live;  /* the live rows of the GC_REPACK packs, by pack then offset */
	size_t nlive;
	char **unindexed; /* pack files on disk the catalog does not list */
	uint64_t *unindexed_size;
	size_t nunindexed;
};

/* Decide per pack (threshold in %) from scan's rows (waited for; taken
 * over: scan then only needs freeing) and the complete mark set, and keep
 * the live rows of the packs to repack. */
int gc_plan_make(struct repo *repo, struct gc_scan *scan, const struct gc_set *set,
		 unsigned threshold, struct gc_plan *ret);
void gc_plan_clear(struct gc_plan *p);
/* The scan's rows, packs and unlisted files, unclassified (every row in
 * live), for gc_plan_make: sc keeps nothing of them. */
void gc_scan_take(struct gc_scan *sc, struct gc_plan *ret);

/* ---- sweep (gc_sweep.c) and repack (gc_repack.c) ---- */

/* Remove the unlisted pack files, then the packs planned GC_DELETE. */
int gc_sweep(struct repo *repo, const struct gc_plan *plan, const struct gc_opts *opts,
	     struct gc_result *res);

/* The unlinks of the packs a repack replaced, off gc's thread (gc_reap.c):
 * queued only once their rows are gone in a committed transaction. */
struct gc_reaper;
int gc_reaper_start(struct repo *repo, struct gc_reaper **ret);
/* Queue pack name (size bytes of file).  0 or -ENOMEM (recorded). */
int gc_reaper_put(struct gc_reaper *rp, const char *name, uint64_t size);
/* Wait for every queued unlink, fsync the directories, free rp (NULL: a
 * no-op).  *ret_freed / *ret_removed: bytes and packs removed.  Returns
 * the first failure (recorded; the other unlinks were still made) or 0. */
int gc_reaper_finish(struct gc_reaper *rp, uint64_t *ret_freed, uint64_t *ret_removed);

/* The catalog side of the repack, in a thread of its own (gc_move.c):
 * the rows of each finished new pack are pointed at it in a transaction
 * that commits when told, then the old packs go to reap. */
struct gc_mover;
struct catalog_gc_pack;
int gc_mover_start(struct repo *repo, struct gc_reaper *reap, struct gc_result *res,
		   struct gc_mover **ret);
/* Hand over the finished (durable, journalled) new pack p (NULL: none;
 * p->e is taken over) and the old packs olds[0..nolds) whose live blobs
 * all lie in packs handed over by now; with commit_after the transaction
 * commits after it.  Waits while the mover is a few jobs behind.
 * 0, or the mover's first failure (recorded here: stop copying). */
int gc_mover_put(struct gc_mover *mv, struct catalog_gc_pack *p, const struct gc_pack *const *olds,
		 size_t nolds, bool commit_after);
/* Wait for every job and stop (what was not committed is rolled back);
 * NULL is a no-op.  Returns r if it is a failure already (its message
 * kept), else 0 or the mover's first failure (recorded). */
int gc_mover_finish(struct gc_mover *mv, int r);

/* Move the live blobs of the packs planned GC_REPACK into new packs; the
 * old packs go to reap (may be NULL with opts->dry_run). */
int gc_repack(struct repo *repo, const struct gc_plan *plan, const struct gc_opts *opts,
	      struct gc_reaper *reap, struct gc_result *res);

/* The fan-out directories (packs/<2 hex>/) gc unlinked packs from and
 * has not fsynced yet: one fsync per directory and batch, not per pack
 * (an unlink lost to a crash only leaves an unlisted pack, which the next
 * gc deletes). */
struct gc_fans {
	bool dirty[256];
};

/* Unlink packs/<2>/<name>.pack (ENOENT counts as done) and mark its
 * directory in fans.  0 or a negative errno (recorded). */
int gc_unlink_pack(struct repo *repo, const char *name, struct gc_fans *fans);

/* fsync every directory marked in fans (one syncfs of the repository's
 * file system when there are many), and clear the marks. */
int gc_sync_fans(struct repo *repo, struct gc_fans *fans);

#endif
