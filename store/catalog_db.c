/* catalog_db.c — the catalog's SQLite plumbing: statement cache, error
 * mapping, transactions, the change generation, closing. */
#include "store/catalog_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/catalog_internal.h"
#include "store/err.h"

struct catalog_stmts {
	sqlite3_stmt *q[CAT_Q_COUNT];
};

void cat_lock(struct repo *repo)
{
	pthread_mutex_lock(&repo->db_lock);
}

void cat_unlock(struct repo *repo)
{
	pthread_mutex_unlock(&repo->db_lock);
}

int cat_errno(int rc)
{
	/* A missing project or pack behind a reference, a malformed value. */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return -ENOENT;
	if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL)
		return -EINVAL;
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
	case SQLITE_MISMATCH:
		return -STORE_ECORRUPT;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_INTERRUPT:
		return -EINTR;
	default:
		return -EIO;
	}
}

int cat_fail(struct repo *repo, int rc, const char *what)
{
	const char *msg = repo->db ? sqlite3_errmsg(repo->db) : sqlite3_errstr(rc);
	return store_fail(cat_errno(rc) ? cat_errno(rc) : -EIO, "%s/catalog.db: %s: %s", repo->path,
			  what, msg);
}

int cat_stmt(struct repo *repo, enum cat_q q, const char *sql, sqlite3_stmt **ret)
{
	if (!repo->stmts) {
		repo->stmts = calloc(1, sizeof *repo->stmts);
		if (!repo->stmts)
			return store_fail(-ENOMEM, "catalog: out of memory");
	}
	sqlite3_stmt *st = repo->stmts->q[q];
	if (!st) {
		int rc = sqlite3_prepare_v3(repo->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return cat_fail(repo, rc, "preparing a query");
		repo->stmts->q[q] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	*ret = st;
	return 0;
}

int cat_run(struct repo *repo, sqlite3_stmt *st, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	int r = rc == SQLITE_DONE ? 0 : cat_fail(repo, rc, what);
	sqlite3_reset(st);
	return r;
}

int cat_row(struct repo *repo, sqlite3_stmt *st, const char *what, cat_row_fn row, void *ret)
{
	int rc, r;
	for (;;) {
		rc = sqlite3_step(st);
		r = rc == SQLITE_ROW    ? row(repo, st, ret)
		    : rc == SQLITE_DONE ? -ENOENT
					: cat_fail(repo, rc, what);
		if (r != CAT_ROW_SKIP)
			break;
		repo->rows_skipped++;
	}
	sqlite3_reset(st);
	return r;
}

uint64_t catalog_rows_skipped(struct repo *repo)
{
	cat_lock(repo);
	uint64_t n = repo->rows_skipped;
	cat_unlock(repo);
	return n;
}

int cat_rows(struct repo *repo, sqlite3_stmt *st, const char *what, size_t elem_size,
	     cat_row_fn row, void (*clear)(void *elem), void **ret, size_t *ret_n)
{
	char *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char *nv = realloc(v, ncap * elem_size);
			if (!nv) {
				r = store_fail(-ENOMEM, "catalog: out of memory");
				break;
			}
			v = nv;
			cap = ncap;
		}
		if ((r = row(repo, st, v + n * elem_size)) < 0)
			break;
		if (r == CAT_ROW_SKIP) {
			repo->rows_skipped++;
			r = 0;
			continue;
		}
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = cat_fail(repo, rc, what);
	sqlite3_reset(st);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			clear(v + i * elem_size);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int run_simple(struct repo *repo, enum cat_q q, const char *sql, const char *what)
{
	sqlite3_stmt *st;
	int r = cat_stmt(repo, q, sql, &st);
	return r < 0 ? r : cat_run(repo, st, what);
}

int cat_begin(struct repo *repo)
{
	/* IMMEDIATE: take the write lock now, so a name chosen inside the
	 * transaction cannot be taken by another connection before COMMIT. */
	return run_simple(repo, CAT_Q_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE", "starting a transaction");
}

int cat_commit(struct repo *repo)
{
	return run_simple(repo, CAT_Q_COMMIT, "COMMIT", "committing");
}

void cat_rollback(struct repo *repo)
{
	if (sqlite3_get_autocommit(repo->db))
		return; /* SQLite already rolled back (e.g. after SQLITE_FULL) */
	sqlite3_exec(repo->db, "ROLLBACK", NULL, NULL, NULL);
}

int cat_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	int rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
	return rc == SQLITE_OK ? 0 : cat_errno(rc);
}

int cat_column_text(sqlite3_stmt *st, int i, char **ret)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t) {
		*ret = NULL;
		return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : -ENOMEM;
	}
	char *s = strdup((const char *)t);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* The generation is PRAGMA data_version plus sqlite3_total_changes64().
 * data_version changes when any *other* connection commits but not for this
 * connection's own writes; total_changes counts the rows this connection
 * changed.  Both only grow, so their sum changes whenever either does
 * (a rolled-back write may bump it spuriously, which only costs a poll). */
int catalog_generation(struct repo *repo, uint64_t *ret_gen)
{
	sqlite3_stmt *st;
	cat_lock(repo);
	int r = cat_schema_refresh(repo);
	if (r < 0)
		goto out;
	r = cat_stmt(repo, CAT_Q_DATA_VERSION, "PRAGMA data_version", &st);
	if (r < 0)
		goto out;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = cat_fail(repo, rc, "reading data_version");
		goto out;
	}
	uint64_t gen = (uint64_t)sqlite3_column_int64(st, 0) +
		       (uint64_t)sqlite3_total_changes64(repo->db);
	sqlite3_reset(st);
	*ret_gen = gen;
out:
	cat_unlock(repo);
	return r;
}

void cat_stmts_drop(struct repo *repo)
{
	if (!repo->stmts)
		return;
	for (int i = 0; i < CAT_Q_COUNT; i++)
		sqlite3_finalize(repo->stmts->q[i]);
	free(repo->stmts);
	repo->stmts = NULL;
}

void catalog_close(struct repo *repo)
{
	cat_stmts_drop(repo);
	if (repo->db) {
		sqlite3_close(repo->db);
		repo->db = NULL;
	}
}
