/* catalog_projects.c — the projects table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/fileio.h"

/* Columns of a project row, with its snapshot count and newest time (an
 * index seek on snapshots_time each). */
#define PROJECT_COLS                                                                            \
	"SELECT p.id, p.name, p.root, p.created_ns,"                                            \
	" (SELECT count(*) FROM snapshots s WHERE s.project_id = p.id),"                        \
	" coalesce((SELECT max(time_ns) FROM snapshots s WHERE s.project_id = p.id), 0)"       \
	" FROM projects p "

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

/* A cat_row_fn for struct project. */
static int project_from_row(struct repo *repo, sqlite3_stmt *st, void *ret)
{
	(void)repo;
	struct project p = {
		.id = sqlite3_column_int64(st, 0),
		.created_ns = sqlite3_column_int64(st, 3),
		.nsnapshots = sqlite3_column_int64(st, 4),
		.last_time_ns = sqlite3_column_int64(st, 5),
	};
	if (cat_column_text(st, 1, &p.name) < 0 || cat_column_text(st, 2, &p.root) < 0 || !p.name ||
	    !p.root) {
		project_clear(&p);
		return store_fail(-ENOMEM, "catalog: out of memory");
	}
	*(struct project *)ret = p;
	return 0;
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
	int r = cat_stmt(repo, CAT_Q_PROJECTS, PROJECT_COLS "ORDER BY p.name", &st);
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
	return project_by_locked(repo, CAT_Q_PROJECT_BY_NAME, PROJECT_COLS "WHERE p.name = ?1",
				 name, ret);
}

static int by_root_locked(struct repo *repo, const char *root, struct project *ret)
{
	return project_by_locked(repo, CAT_Q_PROJECT_BY_ROOT, PROJECT_COLS "WHERE p.root = ?1",
				 root, ret);
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

int catalog_project_register(struct repo *repo, const char *name, const char *root,
			     struct project *ret)
{
	struct project p = {0};
	sqlite3_stmt *st;
	if (!*name || !*root)
		return store_fail(-EINVAL, "project \"%s\" at \"%s\": empty name or root", name, root);
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
