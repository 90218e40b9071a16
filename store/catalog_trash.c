/* catalog_trash.c — the trash: snapshots `forget` set aside (catalog.h).
 *
 * A trashed snapshot is a snapshots row with trashed_at_ns and
 * expires_at_ns set (catalog_schema.c, schema 3).  The row stays until
 * its window ends or the trash is emptied: gc marks reachable data from
 * every row of snapshots, trashed or live, so it never collects what a
 * trashed snapshot needs; deleting the row is what makes that data
 * collectable, and it is one transaction, so a kill leaves the row either
 * whole or gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"

static void clear_snapshot(void *s)
{
	snapshot_clear(s);
}

int catalog_trash_list(struct repo *repo, int64_t project_id, struct snapshot **ret,
		       size_t *ret_n)
{
	void *v = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	int r = 0;
	cat_lock(repo);
	if (!CAT_HAS_TRASH(repo))
		goto done; /* a version-2 catalog has no trash */
	int rc = sqlite3_prepare_v2(repo->db,
				    SNAP_SELECT_WITH(TRASH_COLS) SNAP_FROM
				    "WHERE s.trashed_at_ns IS NOT NULL AND (?1 = 0 OR s.project_id = ?1)"
				    " ORDER BY p.name, s.time_ns DESC, s.id DESC",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "listing the trash");
		goto done;
	}
	sqlite3_bind_int64(st, 1, project_id);
	r = cat_rows(repo, st, "listing the trash", sizeof(struct snapshot), cat_snap_from_row,
		     clear_snapshot, &v, &n);
done:
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r < 0)
		return r;
	*ret = v;
	*ret_n = n;
	return 0;
}

int catalog_snapshot_rows(struct repo *repo, const int64_t *ids, size_t n, struct snapshot **ret)
{
	struct snapshot *v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return store_fail(-ENOMEM, "catalog: out of memory");
	sqlite3_stmt *st = NULL;
	int r = 0;
	size_t got = 0;
	cat_lock(repo);
	int rc = sqlite3_prepare_v2(repo->db,
				    CAT_HAS_TRASH(repo)
					    ? SNAP_SELECT_WITH(TRASH_COLS) SNAP_FROM "WHERE s.id = ?1"
					    : SNAP_SELECT_WITH(NO_TRASH_COLS) SNAP_FROM "WHERE s.id = ?1",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "reading snapshot rows");
		goto out;
	}
	for (; got < n; got++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ids[got]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			r = store_fail(-ENOENT, "snapshot row %lld: not found", (long long)ids[got]);
			goto out;
		}
		if (rc != SQLITE_ROW) {
			r = cat_fail(repo, rc, "reading snapshot rows");
			goto out;
		}
		if ((r = cat_snap_from_row(repo, st, &v[got])) < 0)
			goto out;
		if (r == CAT_ROW_SKIP) { /* an invalid row (check reports it) */
			r = store_fail(-STORE_ECORRUPT, "snapshot row %lld: invalid (run ckptfs check)",
				       (long long)ids[got]);
			goto out;
		}
	}
	r = 0;
out:
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r < 0) {
		snapshots_free(v, got);
		return r;
	}
	*ret = v;
	return 0;
}

/* Run sql (?1 = each id, ?2 and ?3 the given values) once per id in one
 * transaction; every run must change exactly one row, else -ENOENT with
 * "snapshot row ID: not_found" and nothing changes (so ids must not
 * repeat).  Lock not held. */
static int each_id(struct repo *repo, const char *sql, const int64_t *ids, size_t n, int64_t v2,
		   int64_t v3, const char *what, const char *not_found)
{
	sqlite3_stmt *st = NULL;
	cat_lock(repo);
	int r = CAT_HAS_TRASH(repo) ? cat_begin(repo)
				    : store_fail(-EROFS, "%s/catalog.db: %s: no trash before schema 3",
						 repo->path, what);
	if (r < 0)
		goto out;
	int rc = sqlite3_prepare_v2(repo->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, what);
		goto rollback;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ids[i]);
		if (sqlite3_bind_parameter_count(st) >= 3) {
			sqlite3_bind_int64(st, 2, v2);
			sqlite3_bind_int64(st, 3, v3);
		}
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			r = cat_fail(repo, rc, what);
			goto rollback;
		}
		if (sqlite3_changes(repo->db) != 1) {
			r = store_fail(-ENOENT, "snapshot row %lld: %s", (long long)ids[i], not_found);
			goto rollback;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	r = cat_commit(repo);
	if (r < 0)
		goto rollback;
	goto out;
rollback:
	sqlite3_finalize(st);
	cat_rollback(repo);
out:
	cat_unlock(repo);
	return r;
}

int catalog_trash_put(struct repo *repo, const int64_t *ids, size_t n, int64_t now_ns,
		      int64_t expires_at_ns)
{
	if (now_ns < 0 || expires_at_ns < now_ns)
		return store_fail(-EINVAL, "trash: a window that ends before it starts");
	return each_id(repo,
		       "UPDATE snapshots SET trashed_at_ns = ?2, expires_at_ns = ?3"
		       " WHERE id = ?1 AND trashed_at_ns IS NULL",
		       ids, n, now_ns, expires_at_ns, "moving snapshots to the trash",
		       "not a live snapshot");
}

int catalog_trash_restore(struct repo *repo, const int64_t *ids, size_t n)
{
	return each_id(repo,
		       "UPDATE snapshots SET trashed_at_ns = NULL, expires_at_ns = NULL"
		       " WHERE id = ?1 AND trashed_at_ns IS NOT NULL",
		       ids, n, 0, 0, "restoring snapshots from the trash", "not in the trash");
}

int catalog_trash_delete(struct repo *repo, const int64_t *ids, size_t n)
{
	/* The trigger snapshots_forgotten (catalog_schema.c) remembers each. */
	return each_id(repo, "DELETE FROM snapshots WHERE id = ?1 AND trashed_at_ns IS NOT NULL",
		       ids, n, 0, 0, "emptying the trash", "not in the trash");
}

int catalog_forgotten_has(struct repo *repo, int64_t time_ns, const blob_id *root, bool *ret)
{
	sqlite3_stmt *st = NULL;
	bool has = false;
	int r = 0;
	cat_lock(repo);
	if (!CAT_HAS_TRASH(repo))
		goto out;
	int rc = sqlite3_prepare_v2(repo->db,
				    "SELECT 1 FROM forgotten WHERE time_ns = ?1 AND root = ?2", -1, &st,
				    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, time_ns);
		sqlite3_bind_blob(st, 2, root->b, ID_BYTES, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW)
		has = true;
	else if (rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "reading forgotten snapshots");
out:
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r == 0)
		*ret = has;
	return r;
}

int catalog_trash_purge_expired(struct repo *repo, int64_t now_ns, uint64_t *ret_n)
{
	uint64_t n = 0;
	int r = 0;
	sqlite3_stmt *st = NULL;
	cat_lock(repo);
	if (!CAT_HAS_TRASH(repo))
		goto out;
	/* One statement is one transaction: the expired rows go together (and
	 * the trigger snapshots_forgotten remembers them). */
	int rc = sqlite3_prepare_v2(repo->db,
				    "DELETE FROM snapshots WHERE trashed_at_ns IS NOT NULL"
				    " AND expires_at_ns <= ?1",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now_ns);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "purging the trash");
	else
		n = (uint64_t)sqlite3_changes64(repo->db);
out:
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r == 0 && ret_n)
		*ret_n = n;
	return r;
}
