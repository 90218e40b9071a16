/* catalog_db.h — private to store/catalog*.c: SQLite helpers shared by the
 * catalog's files (statement cache, error mapping, transactions).
 *
 * Every caller holds repo->db_lock (cat_lock/cat_unlock) around all use of
 * repo->db, its statements and sqlite3_errmsg.
 */
#ifndef CKPTFS_STORE_CATALOG_DB_H
#define CKPTFS_STORE_CATALOG_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/repo_internal.h"

/* One slot per cached statement. */
enum cat_q {
	CAT_Q_PROJECTS,
	CAT_Q_PROJECT_BY_NAME,
	CAT_Q_PROJECT_BY_ROOT,
	CAT_Q_PROJECT_INSERT,
	CAT_Q_SNAPSHOTS,
	CAT_Q_SNAP_BY_NAME,
	CAT_Q_SNAP_LATEST,
	CAT_Q_SNAP_AT_OR_BEFORE,
	CAT_Q_SNAP_BY_TAG,
	CAT_Q_SNAP_BY_ID,
	CAT_Q_SNAP_NAME_TAKEN,
	CAT_Q_SNAP_INSERT,
	CAT_Q_BLOB_LOOKUP,
	CAT_Q_BLOB_LOOKUP_ANY,
	CAT_Q_PACK_INSERT,
	CAT_Q_PACK_ID,
	CAT_Q_BLOB_INSERT,
	CAT_Q_DATA_VERSION,
	CAT_Q_BEGIN_IMMEDIATE,
	CAT_Q_COMMIT,
	CAT_Q_ROLLBACK,
	CAT_Q_COUNT
};

void cat_lock(struct repo *repo);
void cat_unlock(struct repo *repo);

/* The cached statement for slot q (prepared from sql on first use), reset
 * and with no bindings.  Records the error on failure. */
int cat_stmt(struct repo *repo, enum cat_q q, const char *sql, sqlite3_stmt **ret);

/* Finalize every cached statement (they are prepared again on next use). */
void cat_stmts_drop(struct repo *repo);

/* A reader of a catalog older than this ckptfs's schema: read the schema
 * version again, and when a writer has migrated the catalog meanwhile,
 * drop the cached statements so the next queries use the new schema
 * (catalog_schema.c: a mount outliving the migration to the trash).  A
 * no-op on a current catalog.  Lock held. */
int cat_schema_refresh(struct repo *repo);

/* Whether the catalog has the trash columns (schema 3): queries pick
 * their SQL by it. */
#define CAT_HAS_TRASH(repo) ((repo)->schema_version >= 3)

/* Snapshot rows (catalog_snapshots.c, catalog_trash.c): the columns
 * cat_snap_from_row reads, with the trash columns or NULLs in their place
 * for a version-2 catalog. */
#define SNAP_SELECT_WITH(trash)                                                                 \
	"SELECT s.id, s.project_id, p.name, s.name, s.time_ns, s.message, s.tag,"               \
	" s.git_commit, s.git_branch, s.root, s.status, s.files, s.dirs, s.bytes,"              \
	" s.new_blobs, s.new_bytes, s.read_bytes, s.duration_ns, s.notes, " trash
#define TRASH_COLS "s.trashed_at_ns, s.expires_at_ns"
#define NO_TRASH_COLS "NULL, NULL"
#define SNAP_FROM " FROM snapshots s JOIN projects p ON p.id = s.project_id "
#define LIVE " AND s.trashed_at_ns IS NULL"
/* Newest first; the id breaks ties between equal times.  One-row lookups
 * have no LIMIT: cat_row steps past invalid rows to the first usable one. */
#define SNAP_ORDER " ORDER BY s.time_ns DESC, s.id DESC"
/* The two texts of a query of live snapshots: WHERE clause w, then tail. */
#define SNAP_LIVE(w, tail)                                                                      \
	SNAP_SELECT_WITH(TRASH_COLS) SNAP_FROM w LIVE tail,                                     \
		SNAP_SELECT_WITH(NO_TRASH_COLS) SNAP_FROM w tail
/* The same for any row, trashed or not. */
#define SNAP_ANY(w, tail)                                                                       \
	SNAP_SELECT_WITH(TRASH_COLS) SNAP_FROM w tail, SNAP_SELECT_WITH(NO_TRASH_COLS) SNAP_FROM w tail

/* A cat_row_fn for struct snapshot over the columns above (invalid rows
 * are skipped: check reports them). */
int cat_snap_from_row(struct repo *repo, sqlite3_stmt *st, void *ret);

/* Negative errno for a SQLite result code. */
int cat_errno(int rc);

/* Record "PATH/catalog.db: what: <sqlite message>" and return the errno. */
int cat_fail(struct repo *repo, int rc, const char *what);

/* Run a cached statement that returns no rows (or ignore its rows). */
int cat_run(struct repo *repo, sqlite3_stmt *st, const char *what);

/* Converts the current row of a statement into *ret (one element of the
 * caller's row type, e.g. struct project).  0, CAT_ROW_SKIP for a row that
 * fails validation (catalog_valid.c; nothing written to *ret), or a
 * negative errno (recorded); nothing to free on failure. */
typedef int (*cat_row_fn)(struct repo *repo, sqlite3_stmt *st, void *ret);
#define CAT_ROW_SKIP 1

/* Step the bound statement st to its first row that row accepts, and
 * reset it: that row converted into *ret, -ENOENT (nothing recorded) if
 * there is none, or the error ("…: what: <sqlite message>").  Skipped
 * rows are counted in repo->rows_skipped. */
int cat_row(struct repo *repo, sqlite3_stmt *st, const char *what, cat_row_fn row, void *ret);

/* Step the bound statement st to its end and reset it, converting each
 * row (but skipped ones, counted as above) by row into the next element (elem_size bytes) of a malloc'd array:
 * *ret (NULL when there are no rows) and *ret_n.  On failure the elements
 * already converted are released with clear, the array is freed and the
 * errno returned. */
int cat_rows(struct repo *repo, sqlite3_stmt *st, const char *what, size_t elem_size,
	     cat_row_fn row, void (*clear)(void *elem), void **ret, size_t *ret_n);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  cat_rollback is for unwinding:
 * it records nothing and is a no-op outside a transaction. */
int cat_begin(struct repo *repo);
int cat_commit(struct repo *repo);
void cat_rollback(struct repo *repo);

/* Bind a string or NULL; text of a column or NULL, malloc'd copies. */
int cat_bind_text(sqlite3_stmt *st, int i, const char *s);
/* *ret = strdup of column i (NULL for SQL NULL); -ENOMEM. */
int cat_column_text(sqlite3_stmt *st, int i, char **ret);

#endif
