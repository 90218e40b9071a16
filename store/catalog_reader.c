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
 *
 * A writer's thread (REPO_WRITE) may ask for its own connection too, held
 * (cat_reader_hold): its lookups then share one read transaction instead
 * of each being its own autocommit read, which on every lookup costs an
 * fstat, two fcntl locks and a look at the WAL index — a snapshot of a
 * 213 MB database looks up 54,000 pages.  The transaction is ended and a
 * new one begun whenever the shared connection has changed rows since it
 * began (sqlite3_total_changes64: a pack indexed by the writer's
 * appender, check --repair's own inserts), so such a lookup sees exactly
 * what one on the shared connection would; and after HOLD_LOOKUPS lookups
 * at the latest, so a checkpoint is never held back for long.  Other
 * processes do not write the catalog while the writer lock is held.
 */
#include "store/catalog_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/catalog_db.h"
#include "store/err.h"
#include "store/repo_internal.h"

/* Lookups per held read transaction at most (a few ms of work). */
#define HOLD_LOOKUPS 4096

struct cat_reader {
	sqlite3 *db;
	sqlite3_stmt *q[CAT_READER_Q_COUNT];
	unsigned holds;        /* cat_reader_hold calls not yet released */
	bool in_tx;            /* a held read transaction is open */
	unsigned uses;         /* lookups in it */
	int64_t shared_changes; /* the shared connection's total changes when it began */
};

static void end_tx(struct cat_reader *rd)
{
	if (rd->in_tx && !sqlite3_get_autocommit(rd->db))
		sqlite3_exec(rd->db, "COMMIT", NULL, NULL, NULL);
	rd->in_tx = false;
}

void cat_reader_release(void *p)
{
	struct cat_reader *rd = p;
	if (!rd)
		return;
	for (int i = 0; i < CAT_READER_Q_COUNT; i++)
		sqlite3_finalize(rd->q[i]);
	end_tx(rd);
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

/* Before a lookup on a held connection: the transaction it runs in, begun
 * afresh when the shared connection has changed rows since (read before
 * BEGIN: a change made after that read shows on the next lookup).  false
 * if it cannot be had (the caller then uses the shared connection). */
static bool held_ready(struct repo *repo, struct cat_reader *rd)
{
	cat_lock(repo);
	int64_t changes = sqlite3_total_changes64(repo->db);
	cat_unlock(repo);
	if (rd->in_tx && (changes != rd->shared_changes || rd->uses >= HOLD_LOOKUPS))
		end_tx(rd);
	if (!rd->in_tx) {
		/* Deferred: the read snapshot is taken by the first SELECT. */
		if (sqlite3_exec(rd->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return false;
		rd->in_tx = true;
		rd->uses = 0;
		rd->shared_changes = changes;
	}
	rd->uses++;
	return true;
}

static struct cat_reader *reader_mine(struct repo *repo)
{
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

struct cat_reader *cat_reader_get(struct repo *repo)
{
	struct cat_reader *rd = pthread_getspecific(repo->reader_key);
	if (rd && rd->holds)
		return held_ready(repo, rd) ? rd : NULL;
	if (!repo->readers)
		return NULL;
	return reader_mine(repo);
}

void cat_reader_hold(struct repo *repo)
{
	struct cat_reader *rd = reader_mine(repo);
	if (rd)
		rd->holds++;
}

void cat_reader_unhold(struct repo *repo)
{
	struct cat_reader *rd = pthread_getspecific(repo->reader_key);
	if (!rd || !rd->holds || --rd->holds)
		return;
	end_tx(rd);
	/* A writer's connection is closed with its last hold; a reader's
	 * repository keeps its own. */
	if (!repo->readers)
		cat_reader_close_mine(repo);
}

void cat_reader_renew(struct repo *repo)
{
	struct cat_reader *rd = pthread_getspecific(repo->reader_key);
	if (rd && rd->holds)
		end_tx(rd);
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
