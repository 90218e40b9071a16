/* check.h — verifying a repository, and repairing what can be repaired.
 *
 * check_run() looks at the repository in layers, cheapest first:
 *
 *   1. the catalog: SQLite's quick_check, then every project and snapshot
 *      row against catalog_valid.c (each invalid one is a finding);
 *   2. every pack the catalog lists: present, of the recorded size, its
 *      footer and index readable and authentic, and every catalog row that
 *      points into it equal to the pack's own index entry;
 *      packs in packs/ that the catalog does not list are reported (an
 *      interrupted writer leaves them; they are harmless);
 *   3. with read_data, every blob of every pack (or of a random
 *      read_percent of the packs): its stored bytes match their xxh3, and
 *      it authenticates, decompresses and hashes to its id;
 *   4. every snapshot: its trees load and parse (each distinct tree once:
 *      unchanged subtrees shared by many snapshots cost one visit) and every
 *      chunk of every file is indexed, in a pack that is present and sound,
 *      with the length the file's entry says.
 *
 * Each finding is one line handed to opts->report, naming the pack, blob,
 * snapshot and file path it concerns.  Damage makes the result unhealthy;
 * notices (an unindexed pack, a leftover temp file) do not.
 *
 * With repair (the repository must be open REPO_WRITE):
 *   - temp files of interrupted writers (tmp/) are removed;
 *   - packs missing from the catalog are indexed from their own index (so a
 *     deleted catalog.db is rebuilt from packs/ alone), and catalog rows
 *     that disagree with their pack are replaced by the pack's entries;
 *   - snapshots recorded in the packs (snapshot records, see snaprec.h) but
 *     absent from the catalog are re-created with their projects;
 *   - snapshots whose data is missing or corrupt are marked SNAP_DAMAGED;
 *   - invalid project and snapshot rows (catalog_valid.c: a name that is
 *     not one, a status that is none, negative counts, a snapshot of a
 *     project that does not exist) are fixed where the fix is obvious
 *     (status -> damaged, counts -> 0, a project renamed) and otherwise
 *     moved into the catalog's quarantine table (kept, never deleted); a
 *     quarantined snapshot whose record is in the packs is re-created.
 * Repair never deletes a pack, or a snapshot row but into the quarantine.
 *
 * check_run() may run alongside a writer: it reads the catalog in an order
 * (snapshots, then blobs, then packs, then packs/) in which what a writer
 * commits meanwhile never looks like damage.  A gc, which deletes packs,
 * and a check without repair wait for each other (gc_lock.h).
 */
#ifndef CKPTFS_STORE_CHECK_H
#define CKPTFS_STORE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

struct repo;

enum check_level {
	CHECK_INFO,   /* progress of a layer, a repair done */
	CHECK_NOTICE, /* harmless: leftovers of an interrupted run */
	CHECK_DAMAGE, /* something is missing or corrupt */
};

struct check_opts {
	bool read_data;
	unsigned read_percent; /* 1..100: share of packs read with read_data; 0 = 100 */
	bool repair;
	uint64_t seed; /* for the random subset; 0: from the clock */
	/* Packs to take as damaged without reading them (check --remote:
	 * packs found damaged on a remote), so the snapshots and files they
	 * hold are named as for local damage; why is said with each. */
	const char *const *assume_bad;
	size_t nassume_bad;
	const char *assume_bad_why;
	void *ctx;
	/* One finding, one line without newline.  May be NULL. */
	void (*report)(void *ctx, enum check_level level, const char *line);
};

struct check_result {
	uint64_t packs, packs_read, blobs, blobs_read, bytes_read;
	uint64_t trees, chunks, snapshots;
	uint64_t damaged_packs, damaged_blobs, damaged_snapshots, damaged_files;
	uint64_t unindexed_packs, leftovers; /* notices */
	/* repair */
	uint64_t packs_indexed, rows_fixed, snapshots_recovered, snapshots_marked,
		leftovers_removed;
	uint64_t blobs_restored; /* stored again under a type they lacked */
	/* invalid project/snapshot rows (catalog_valid.c) found, and repaired */
	uint64_t catalog_rows_invalid, catalog_rows_quarantined, catalog_rows_fixed;
	bool catalog_damaged;
	bool healthy; /* no damage found (after repair: none left unrepaired) */
};

/* Check (and with opts->repair, repair) the repository.  Returns 0 when the
 * check ran to the end, whatever it found (see ret->healthy), or a negative
 * errno when it could not (catalog unreadable, out of memory). */
int check_run(struct repo *repo, const struct check_opts *opts, struct check_result *ret);

#endif
