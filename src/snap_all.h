/* snap_all.h — `ckptfs snap --all`: a snapshot of every registered
 * project, the command the schedule runs.
 *
 * Projects are taken one after another, each with the repository opened
 * (and its writer lock held) only for its own snapshot, so a person's
 * `ckptfs snap` can slip in between.  One project's failure does not stop
 * the others.  A project whose root is gone is skipped with one line.
 * The outcome is recorded for `ckptfs status` (runlog.h).
 */
#ifndef CKPTFS_SRC_SNAP_ALL_H
#define CKPTFS_SRC_SNAP_ALL_H

#include <stdbool.h>
#include <stddef.h>

struct snap_all_req {
	const char *message, *tag;
	const char *const *excludes;
	size_t nexcludes;
	bool quiet; /* no line for a project snapshotted in full */
	bool json;  /* the run's record (runlog.h) on stdout instead of lines */
	bool drill_full; /* --drill=full */
};

/* Run it; returns the exit status: EXIT_ERROR if any project failed (or
 * the project list could not be read), else EXIT_PARTIAL if any snapshot
 * is partial, else EXIT_MISSING if any project root is gone, else
 * EXIT_OK.  Everything is printed here. */
int snap_all(const struct snap_all_req *req);

#endif
