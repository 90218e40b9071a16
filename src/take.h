/* take.h — taking one snapshot of a project: the code path behind
 * `ckptfs snap` and the safety snapshot `ckptfs restore` takes before it
 * writes into a project.
 */
#ifndef CKPTFS_SRC_TAKE_H
#define CKPTFS_SRC_TAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"

struct repo;

struct take_req {
	const char *root;    /* canonical project root (proj_find_root) */
	const char *name;    /* --name: the project name to register, or NULL */
	const char *message; /* -m, or NULL */
	const char *tag;     /* -t, or NULL */
	const char *const *excludes; /* --exclude patterns */
	size_t nexcludes;
	bool quiet; /* no progress line (warnings are still printed) */
	bool drill_full; /* --drill=full: server dumps restored into scratch databases */
};

struct take_result {
	struct project project;
	struct snapshot snap;
	int64_t wall_ns;   /* start to commit, as the user waited */
	uint64_t warnings; /* paths reported as not stored as they are */
	size_t db_problems; /* databases not captured as they are (printed) */
	size_t db_skipped;  /* in docker and not running: skipped, said unless quiet */
	bool partial;
};

/* Register the project if new (under req->name or the root's folder
 * name), take a snapshot of it with the latest snapshot as parent (files
 * cache), record git HEAD, and commit.  Databases are captured through a
 * dumper session (dumpers.h): their drills go into the notes, and a
 * database not captured as it is (refused dump, raw SQLite copy, failed
 * drill) makes the snapshot partial, with "ckptfs: database NAME: why"
 * printed after the commit.  repo must be open REPO_WRITE.
 * Warnings are printed as they come ("ckptfs: <path>: <why>").  On
 * success *ret is filled (take_result_clear it).  A project name that
 * belongs to another root gives the catalog's -EEXIST message. */
int take_snapshot(struct repo *repo, const struct take_req *req, struct take_result *ret);

void take_result_clear(struct take_result *r);

/* Remove the database temp dirs killed snaps left (dumpers/tmpdir.h) and,
 * unless quiet, say how many in one line; a failure to look is ignored.
 * take_snapshot does it first; check --repair too.  Returns the number
 * removed. */
uint64_t take_sweep_db_temps(bool quiet);

/* The one-line summary: "myapp 2026-02-14T10:30  12,431 files  1.2 GiB
 * +38.4 MiB new  0.41 s", plus "  partial: N warnings" when partial. */
void take_print_summary(const struct take_result *r);

#endif
