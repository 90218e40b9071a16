/* restore_table.h — restore FILE.db --table T: some tables of a SQLite
 * database in the project put back from a snapshot (dumpers.h,
 * dumper_sqlite_restore_tables), after a safety snapshot. */
#ifndef CKPTFS_SRC_RESTORE_TABLE_H
#define CKPTFS_SRC_RESTORE_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "src/project.h"
#include "store/catalog.h"
#include "store/tree.h"

struct repo;

/* node is rel's entry in snapshot s (a SQLite copy ckptfs captured); the
 * live database is p->root/rel.  Checks every table first (same schema in
 * both), then takes the safety snapshot, then replaces their rows in one
 * transaction.  Returns the exit status (messages printed). */
int restore_sqlite_tables(struct repo *repo, const struct project *p, const char *rel,
			  const struct snapshot *s, const struct node *node,
			  const char *const *tables, size_t n, bool dry_run);

#endif
