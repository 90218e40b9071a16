/* catalog_reader.c — a read connection to the catalog per thread, for
 * blob lookups (catalog_reader.h).
 *
 * Every chunk a restore writer or a FUSE worker reads is looked up in the
 * blob index first.  On the repository's one connection those lookups
 * queue on db_lock, one at a time, and each hand-over between threads is
 * a futex wake-up.  A lookup needs nothing of that connection: so in a
 * repository opened REPO_READ each thread opens its own read-only
 * connection on first use.  In WAL mode it sees every commit as it lands,
 * as the shared one does.  Not for REPO_WRITE: there a lookup must also
 * see what the writer's own connection has done (check --repair indexes
 * packs and reads them back), and that connection belongs to one thread
 * anyway.
 */
#include "store/catalog_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/err.h"
#include "store/repo_internal.h"

struct cat_reader {
	sqlite3 *db;
	sqlite3_stmt *q[CAT_READER_Q_COUNT];
};

void cat_reader_release(void *p)
{
	struct cat_reader *rd = p;
	if (!rd)
		return;
	for (int i = 0; i < CAT_READER_Q_COUNT; i++)
		sqlite3_finalize(rd->q[i]);
	sqlite3_close(rd->db);
	free(rd);
}

/* A new connection, or NULL (the caller then uses the shared one). */
static struct cat_reader *reader_open(struct repo *repo)
{
	char file[4096];
	if (snprintf(file, sizeof file, "%s/catalog.db", repo->path) >= (int)sizeof file)
		return NULL;
	struct cat_reader *rd = calloc(1, sizeof *rd);
	if (!rd)
		return NULL;
	/* NOMUTEX: used by its one thread only. */
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_EXRESCODE;
	if (sqlite3_open_v2(file, &rd->db, flags, NULL) != SQLITE_OK) {
		cat_reader_release(rd);
		return NULL;
	}
	/* As the shared connection: a checkpoint waits, it does not fail. */
	sqlite3_busy_timeout(rd->db, 10000);
	return rd;
}

struct cat_reader *cat_reader_get(struct repo *repo)
{
	if (!repo->readers)
		return NULL;
	struct cat_reader *rd = pthread_getspecific(repo->reader_key);
	if (rd)
		return rd;
	rd = reader_open(repo);
	if (rd && pthread_setspecific(repo->reader_key, rd) != 0) {
		cat_reader_release(rd);
		rd = NULL;
	}
	return rd;
}

int cat_reader_stmt(struct cat_reader *rd, enum cat_reader_q q, const char *sql,
		    sqlite3_stmt **ret)
{
	sqlite3_stmt *st = rd->q[q];
	if (!st) {
		int rc = sqlite3_prepare_v3(rd->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return rc;
		rd->q[q] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	*ret = st;
	return SQLITE_OK;
}

sqlite3 *cat_reader_db(struct cat_reader *rd)
{
	return rd->db;
}

void cat_reader_close_mine(struct repo *repo)
{
	struct cat_reader *rd = pthread_getspecific(repo->reader_key);
	if (rd) {
		pthread_setspecific(repo->reader_key, NULL);
		cat_reader_release(rd);
	}
}
