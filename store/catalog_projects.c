/* catalog_projects.c — the projects table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/fileio.h"

/* Columns of a project row, with its count of live snapshots and newest
 * time (an index seek on snapshots_time each); `live` is the filter of
 * trashed rows, empty for a version-2 catalog (catalog_snapshots.c). */
#define PROJECT_COLS_WITH(live)                                                                 \
	"SELECT p.id, p.name, p.root, p.created_ns,"                                            \
	" (SELECT count(*) FROM snapshots s WHERE s.project_id = p.id" live "),"                \
	" coalesce((SELECT max(time_ns) FROM snapshots s WHERE s.project_id = p.id" live "), 0)" \
	" FROM projects p "
/* The texts of a project query for both schemas, for project_sql. */
#define PROJECT_Q(tail) PROJECT_COLS_WITH(LIVE) tail, PROJECT_COLS_WITH("") tail

static const char *project_sql(struct repo *repo, const char *with_trash, const char *without)
{
	return CAT_HAS_TRASH(repo) ? with_trash : without;
}

void project_clear(struct project *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->root);
	memset(p, 0, sizeof *p);
}

void projects_free(struct project *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		project_clear(&p[i]);
	free(p);
}

/* The current row as a project, valid or not (*ret_faults), or -ENOMEM. */
static int project_decode(sqlite3_stmt *st, struct project *ret, unsigned *ret_faults)
{
	struct project p = {
		.id = sqlite3_column_int64(st, 0),
		.created_ns = sqlite3_column_int64(st, 3),
		.nsnapshots = sqlite3_column_int64(st, 4),
		.last_time_ns = sqlite3_column_int64(st, 5),
	};
	if (cat_column_text(st, 1, &p.name) < 0 || cat_column_text(st, 2, &p.root) < 0 ||
	    (!p.name && sqlite3_column_type(st, 1) != SQLITE_NULL) ||
	    (!p.root && sqlite3_column_type(st, 2) != SQLITE_NULL)) {
		project_clear(&p);
		return store_fail(-ENOMEM, "catalog: out of memory");
	}
	*ret_faults = catalog_project_faults(&p);
	*ret = p;
	return 0;
}

/* A cat_row_fn for struct project: invalid rows are skipped (check
 * reports them). */
static int project_from_row(struct repo *repo, sqlite3_stmt *st, void *ret)
{
	(void)repo;
	struct project p;
	unsigned faults;
	int r = project_decode(st, &p, &faults);
	if (r < 0)
		return r;
	if (faults) {
		project_clear(&p);
		return CAT_ROW_SKIP;
	}
	*(struct project *)ret = p;
	return 0;
}

int catalog_scan_projects(struct repo *repo, catalog_scan_project_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	cat_lock(repo);
	int rc = sqlite3_prepare_v2(repo->db, project_sql(repo, PROJECT_Q("ORDER BY p.id")), -1,
				    &st, NULL);
	int r = rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "reading every project");
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct project p;
		unsigned faults;
		if ((r = project_decode(st, &p, &faults)) < 0)
			break;
		r = fn(ctx, &p, faults);
		project_clear(&p);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "reading every project");
	sqlite3_finalize(st);
	cat_unlock(repo);
	return r;
}

static void clear_project(void *p)
{
	project_clear(p);
}

int catalog_projects(struct repo *repo, struct project **ret, size_t *ret_n)
{
	sqlite3_stmt *st;
	void *v = NULL;
	size_t n = 0;
	cat_lock(repo);
	int r = cat_stmt(repo, CAT_Q_PROJECTS, project_sql(repo, PROJECT_Q("ORDER BY p.name")), &st);
	if (r == 0)
		r = cat_rows(repo, st, "listing projects", sizeof(struct project), project_from_row,
			     clear_project, &v, &n);
	cat_unlock(repo);
	if (r < 0)
		return r;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Callers hold the lock. -ENOENT (nothing recorded) if no row matches. */
static int project_by_locked(struct repo *repo, enum cat_q q, const char *sql, const char *key,
			     struct project *ret)
{
	sqlite3_stmt *st;
	int r = cat_stmt(repo, q, sql, &st);
	if (r < 0)
		return r;
	if (cat_bind_text(st, 1, key) < 0) {
		sqlite3_reset(st);
		return cat_fail(repo, SQLITE_NOMEM, "looking up a project");
	}
	return cat_row(repo, st, "looking up a project", project_from_row, ret);
}

static int by_name_locked(struct repo *repo, const char *name, struct project *ret)
{
	return project_by_locked(repo, CAT_Q_PROJECT_BY_NAME,
				 project_sql(repo, PROJECT_Q("WHERE p.name = ?1")), name, ret);
}

static int by_root_locked(struct repo *repo, const char *root, struct project *ret)
{
	return project_by_locked(repo, CAT_Q_PROJECT_BY_ROOT,
				 project_sql(repo, PROJECT_Q("WHERE p.root = ?1")), root, ret);
}

int catalog_project_by_name(struct repo *repo, const char *name, struct project *ret)
{
	cat_lock(repo);
	int r = by_name_locked(repo, name, ret);
	cat_unlock(repo);
	if (r == -ENOENT)
		store_fail(r, "project %s: no such project", name);
	return r;
}

int catalog_project_by_root(struct repo *repo, const char *root, struct project *ret)
{
	cat_lock(repo);
	int r = by_root_locked(repo, root, ret);
	cat_unlock(repo);
	if (r == -ENOENT)
		store_fail(r, "%s: not a registered project", root);
	return r;
}

/* The lookups above skip invalid rows: one of them may still hold name
 * or root (UNIQUE), which would make the insert fail with SQLite's words.
 * Say which row and how to fix it instead.  Lock held. */
static int invalid_holder_locked(struct repo *repo, const char *name, const char *root)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(repo->db,
				    "SELECT id FROM projects WHERE name = ?1 OR root = ?2 LIMIT 1", -1,
				    &st, NULL);
	if (rc != SQLITE_OK)
		return cat_fail(repo, rc, "registering a project");
	int r = 0;
	if (cat_bind_text(st, 1, name) != SQLITE_OK || cat_bind_text(st, 2, root) != SQLITE_OK)
		r = cat_fail(repo, SQLITE_NOMEM, "registering a project");
	else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = store_fail(-EEXIST,
			       "%s: the catalog's project row %lld for it is invalid; ckptfs check "
			       "--repair fixes it",
			       root, (long long)sqlite3_column_int64(st, 0));
	else if (rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "registering a project");
	sqlite3_finalize(st);
	return r;
}

int catalog_project_register(struct repo *repo, const char *name, const char *root,
			     struct project *ret)
{
	struct project p = {0};
	sqlite3_stmt *st;
	if (!*name || !*root)
		return store_fail(-EINVAL, "project \"%s\" at \"%s\": empty name or root", name, root);
	struct project want = {.name = (char *)name, .root = (char *)root};
	unsigned faults = catalog_project_faults(&want);
	if (faults) {
		char why[128];
		return store_fail(-EINVAL, "project \"%s\" at %s: %s%s", name, root,
				  catalog_faults_text(faults, false, why, sizeof why),
				  faults & CATALOG_FAULT_NAME ? " (give it another with --name)" : "");
	}
	cat_lock(repo);
	int r = cat_begin(repo);
	if (r < 0)
		goto out;
	r = by_name_locked(repo, name, &p);
	if (r == 0) {
		if (strcmp(p.root, root) == 0)
			goto commit; /* already registered: idempotent */
		r = store_fail(-EEXIST,
			       "project %s: the name is taken by %s; give %s another name with --name",
			       name, p.root, root);
		goto rollback;
	}
	if (r != -ENOENT)
		goto rollback;
	r = by_root_locked(repo, root, &p);
	if (r == 0) {
		r = store_fail(-EEXIST, "%s: already registered as project %s", root, p.name);
		goto rollback;
	}
	if (r != -ENOENT)
		goto rollback;
	if ((r = invalid_holder_locked(repo, name, root)) < 0)
		goto rollback;
	r = cat_stmt(repo, CAT_Q_PROJECT_INSERT,
		     "INSERT INTO projects(name, root, created_ns) VALUES(?1, ?2, ?3)", &st);
	if (r < 0)
		goto rollback;
	if (cat_bind_text(st, 1, name) < 0 || cat_bind_text(st, 2, root) < 0 ||
	    sqlite3_bind_int64(st, 3, fio_now_ns()) != SQLITE_OK) {
		r = cat_fail(repo, SQLITE_NOMEM, "registering a project");
		goto rollback;
	}
	r = cat_run(repo, st, "registering a project");
	if (r < 0)
		goto rollback;
	r = by_name_locked(repo, name, &p);
	if (r < 0) {
		if (r == -ENOENT)
			r = store_fail(-EIO, "project %s: vanished after insert", name);
		goto rollback;
	}
commit:
	r = cat_commit(repo);
	if (r < 0)
		goto rollback;
	cat_unlock(repo);
	*ret = p;
	return 0;
rollback:
	cat_rollback(repo);
	project_clear(&p);
out:
	cat_unlock(repo);
	return r;
}
