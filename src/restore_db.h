/* restore_db.h — `ckptfs restore --db NAME`: a server database back from
 * the dump in a snapshot's @databases folder. */
#ifndef CKPTFS_SRC_RESTORE_DB_H
#define CKPTFS_SRC_RESTORE_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "store/catalog.h"

struct repo;

/* Restore server database name of project p from snapshot when (NULL:
 * latest) — into its own database, or into (created if missing).  Unless
 * dry_run, a safety snapshot of the project (with a fresh dump of every
 * database) is taken first; if the fresh dump of this very database fails
 * and it would be overwritten, nothing is restored.  repo must be open
 * REPO_WRITE (REPO_READ is enough for a dry run).  With tables (n > 0),
 * only those tables (dumper_session_restore_tables).  Prints what it
 * does; returns an exit status. */
int restore_db(struct repo *repo, const struct project *p, const char *name, const char *when,
	       const char *into, const char *const *tables, size_t ntables, bool dry_run);

#endif
