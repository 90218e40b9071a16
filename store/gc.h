/* gc.h — garbage collection: deleting what no snapshot needs any more.
 *
 * gc_run() holds the repository's writer lock (the repo must be open
 * REPO_WRITE) for its whole run, so a snapshot cannot start meanwhile: a
 * `snap` waits for the lock like behind any writer, and afterwards
 * deduplicates only against what survived.  It runs in phases, each its
 * own small module:
 *
 *   purge   the rows of trashed snapshots whose window has ended
 *           (catalog_trash_purge_expired; with dry_run only counted);
 *   mark    (gc_mark.c)   every tree reachable from every row of the
 *                         catalog's snapshots table (trashed snapshots keep
 *                         their row, so they are kept), level by level,
 *                         each level read in pack order (gc_load.c), each
 *                         tree once, and the snapshot records (snaprec.h)
 *                         whose row still exists, into a set of ids
 *                         (gc_set.c), all in one read transaction;
 *   plan    (gc_plan.c)   per pack: live bytes against its size, from one
 *                         scan of the blob index (gc_scan.c: read in a
 *                         thread of its own while the mark runs, judged
 *                         once the mark is done).  A pack
 *                         with no live blob is deleted; one under the
 *                         threshold, or holding a dead snapshot record (so
 *                         check --repair cannot bring a collected snapshot
 *                         back from it), is repacked (its live rows kept
 *                         for the repack); pack files the catalog does not
 *                         list are garbage;
 *   sweep   (gc_sweep.c)  unlisted pack files, then the dead packs: their
 *                         rows go in one transaction, the files after it;
 *   repack  (gc_repack.c) live blobs copied (still sealed) into new packs
 *                         through the normal pack writer: pack durable,
 *                         then a thread of its own (gc_move.c) points the
 *                         moved rows at it and drops the old packs' rows
 *                         in a transaction committed per 256 MiB of new
 *                         packs (without foreign-key checks, which
 *                         cannot fail there: catalog_gc.c), then the old
 *                         files go (unlinked by threads of their own,
 *                         gc_reap.c).
 *
 * A crash anywhere leaves every kept blob readable from its old or its new
 * location; the next gc deletes what the interrupted one left (a pack file
 * the catalog does not list, a pack whose rows all moved).  Readers that
 * looked a blob up before the move re-look it up when its old pack is gone
 * (repo_read.c).
 */
#ifndef CKPTFS_STORE_GC_H
#define CKPTFS_STORE_GC_H

#include <stdbool.h>
#include <stdint.h>

struct repo;

#define GC_DEFAULT_THRESHOLD 50 /* repack packs under 50% live by bytes */

enum gc_action {
	GC_DELETE,    /* a listed pack with no live blob */
	GC_REPACK,    /* its live blobs copied into new packs, then deleted */
	GC_UNINDEXED, /* a pack file the catalog does not list */
};

struct gc_opts {
	bool dry_run;        /* plan and report, change nothing */
	int64_t now_ns;      /* when the trash windows are judged (0: the clock) */
	unsigned threshold;  /* 0..100: repack a pack under this % live */
	void *ctx;
	/* Each pack acted on (or, with dry_run, that would be), before the
	 * action: name, action, its size and live bytes.  May be NULL. */
	void (*report)(void *ctx, const char *pack, enum gc_action action, uint64_t size,
		       uint64_t live);
};

struct gc_result {
	uint64_t trash_expired;  /* trashed rows whose window had ended: deleted first */
	uint64_t snapshots;      /* snapshot rows marked from */
	uint64_t trees;          /* distinct trees walked */
	uint64_t live_blobs;     /* ids in the mark set */
	uint64_t mark_bytes;     /* memory of the mark set */
	uint64_t packs;          /* listed packs before gc */
	uint64_t packs_deleted, packs_repacked, packs_written, unindexed_deleted;
	uint64_t bytes_before;   /* sum of listed pack sizes before */
	uint64_t bytes_after;    /* the same after (with dry_run: what it would be) */
	uint64_t bytes_live;     /* stored bytes of every live blob: what a fresh
				  * repository of the kept snapshots would hold,
				  * pack headers and indexes aside */
	uint64_t bytes_rewritten; /* live stored bytes copied into new packs */
	uint64_t bytes_freed;    /* file bytes removed, unlisted packs included */
	int64_t duration_ns;
	int64_t mark_ns, plan_ns, sweep_ns, repack_ns; /* the phases' share of it */
};

/* Collect garbage (see above).  Returns 0, or a negative errno with the
 * message recorded; *ret is filled in either case with what was done
 * before the failure (space already freed stays freed).  A tree of a
 * snapshot that cannot be read stops gc before anything is deleted. */
int gc_run(struct repo *repo, const struct gc_opts *opts, struct gc_result *ret);

#endif
