/* catalog_quarantine.c — what check --repair does with invalid rows
 * (catalog_valid.c says which are): fix in place what has an obvious
 * value (a status that is none -> damaged, negative counts -> 0), rename a
 * project whose name is invalid, and move the rest — rows whose identity
 * is wrong (a snapshot named "../../x", one of a project that does not
 * exist, a project whose root is not a path) — into a quarantine table,
 * kept for a human to look at, never deleted.  A snapshot quarantined
 * that still has its record in the packs is re-created from it by
 * check_repair_recover, with a name of the right form.
 *
 * The table is created on first use; older ckptfs versions ignore it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/fileio.h"

static const char quarantine_table[] =
	"CREATE TABLE IF NOT EXISTS quarantine("
	" id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, tbl TEXT NOT NULL,"
	" row_id INTEGER NOT NULL, reason TEXT NOT NULL, row TEXT NOT NULL)";

#define SNAP_JSON \
	"json_object('id', id, 'project_id', project_id, 'name', name, 'time_ns', time_ns," \
	" 'message', message, 'tag', tag, 'git_commit', git_commit, 'git_branch', git_branch," \
	" 'root', hex(root), 'status', status, 'files', files, 'dirs', dirs, 'bytes', bytes," \
	" 'new_blobs', new_blobs, 'new_bytes', new_bytes, 'read_bytes', read_bytes," \
	" 'duration_ns', duration_ns, 'notes', notes)"

/* Run sql (no rows) with ?1 = i1, ?2 = text t2 (if not NULL), ?3 = now. */
static int run(struct repo *repo, const char *sql, int64_t i1, const char *t2, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(repo->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return cat_fail(repo, rc, what);
	int n = sqlite3_bind_parameter_count(st);
	sqlite3_bind_int64(st, 1, i1);
	if (n >= 2 && cat_bind_text(st, 2, t2) != SQLITE_OK) {
		sqlite3_finalize(st);
		return cat_fail(repo, SQLITE_NOMEM, what);
	}
	if (n >= 3)
		sqlite3_bind_int64(st, 3, fio_now_ns());
	rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : cat_fail(repo, rc, what);
	sqlite3_finalize(st);
	return r;
}

/* The statements of steps in one transaction. */
static int in_transaction(struct repo *repo, const char *const *sql, size_t n, int64_t id,
			  const char *text, const char *what)
{
	cat_lock(repo);
	int r = cat_begin(repo);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = run(repo, sql[i], id, text, what);
	if (r == 0)
		r = cat_commit(repo);
	if (r < 0)
		cat_rollback(repo);
	cat_unlock(repo);
	return r;
}

int catalog_quarantine_snapshot(struct repo *repo, int64_t id, const char *reason)
{
	static const char *const sql[] = {
		quarantine_table,
		"INSERT INTO quarantine(time_ns, tbl, row_id, reason, row)"
		" SELECT ?3, 'snapshots', id, ?2, " SNAP_JSON " FROM snapshots WHERE id = ?1",
		"DELETE FROM snapshots WHERE id = ?1",
	};
	return in_transaction(repo, sql, sizeof sql / sizeof sql[0], id, reason,
			      "quarantining a snapshot");
}

int catalog_quarantine_project(struct repo *repo, int64_t id, const char *reason)
{
	static const char *const sql[] = {
		quarantine_table,
		"INSERT INTO quarantine(time_ns, tbl, row_id, reason, row)"
		" SELECT ?3, 'snapshots', id, 'its project was quarantined: ' || ?2, " SNAP_JSON
		" FROM snapshots WHERE project_id = ?1",
		"DELETE FROM snapshots WHERE project_id = ?1",
		"INSERT INTO quarantine(time_ns, tbl, row_id, reason, row)"
		" SELECT ?3, 'projects', id, ?2, json_object('id', id, 'name', name, 'root', root,"
		" 'created_ns', created_ns) FROM projects WHERE id = ?1",
		"DELETE FROM projects WHERE id = ?1",
	};
	return in_transaction(repo, sql, sizeof sql / sizeof sql[0], id, reason,
			      "quarantining a project");
}

int catalog_project_rename(struct repo *repo, int64_t id, const char *name)
{
	if (!catalog_project_name_ok(name))
		return store_fail(-EINVAL, "project %lld: \"%s\" is not a valid name",
				  (long long)id, name);
	static const char *const sql[] = {"UPDATE projects SET name = ?2 WHERE id = ?1"};
	return in_transaction(repo, sql, 1, id, name, "renaming a project");
}

int catalog_project_fix(struct repo *repo, int64_t id)
{
	static const char *const sql[] = {
		"UPDATE projects SET created_ns = max(created_ns, 0) WHERE id = ?1"};
	return in_transaction(repo, sql, 1, id, NULL, "fixing a project");
}

int catalog_snapshot_fix(struct repo *repo, int64_t id)
{
	static const char *const sql[] = {
		"UPDATE snapshots SET"
		" status = CASE WHEN status IN (0, 1, 2) THEN status ELSE 2 END,"
		" files = max(files, 0), dirs = max(dirs, 0), bytes = max(bytes, 0),"
		" new_blobs = max(new_blobs, 0), new_bytes = max(new_bytes, 0),"
		" read_bytes = max(read_bytes, 0), duration_ns = max(duration_ns, 0)"
		" WHERE id = ?1"};
	return in_transaction(repo, sql, 1, id, NULL, "fixing a snapshot");
}

int catalog_quarantined(struct repo *repo, int64_t *ret_n)
{
	cat_lock(repo);
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int r = 0;
	int rc = sqlite3_prepare_v2(repo->db,
				    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				    " AND name = 'quarantine'",
				    -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
		sqlite3_finalize(st);
		st = NULL;
		rc = sqlite3_prepare_v2(repo->db, "SELECT count(*) FROM quarantine", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_OK)
		r = cat_fail(repo, rc, "counting quarantined rows");
	sqlite3_finalize(st);
	cat_unlock(repo);
	if (r == 0)
		*ret_n = n;
	return r;
}
