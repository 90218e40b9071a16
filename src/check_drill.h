/* check_drill.h — ckptfs check --drill: full drills of the latest
 * captures (dumpers.h, dumper_session_drill), for the scheduled job
 * (monthly, say) rather than every snapshot. */
#ifndef CKPTFS_SRC_CHECK_DRILL_H
#define CKPTFS_SRC_CHECK_DRILL_H

#include <stdbool.h>

/* The state file the verdicts are kept in, for status: per project the
 * time, the snapshot drilled and "proven" / "drill failed" / "restored". */
#define CHECK_DRILL_STATE "last-drill.json"

/* Drill every server database dumped in the latest snapshot of each
 * project (or of project only), or database db only.  One line per
 * database; a failed drill also "ckptfs: database NAME: drill failed:
 * why".  Returns the exit status: EXIT_OK all proven (or nothing to
 * drill), EXIT_PARTIAL a drill failed, EXIT_ERROR an error (an unknown
 * --project or --db, a project root gone). */
int check_drill(const char *project, const char *db, bool quiet);

#endif
