/* sqlite_table.c — putting some tables of a live SQLite database back from
 * a snapshot's copy (dumpers.h, restore FILE.db --table T).
 *
 * The snapshot's copy is ATTACHed read-only (immutable: it is a private
 * file); every named table must exist in both with the same CREATE
 * statement, else nothing is done and the difference is named.  Then, in
 * one IMMEDIATE transaction, each table's rows are deleted and inserted
 * from the copy: other tables — and writers busy with them, waited for
 * within the busy timeout — are untouched, and a failure rolls it all
 * back.  Triggers on the tables fire as for any DELETE and INSERT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dumpers/dumpers.h"
#include "dumpers/sqlite.h"
#include "store/err.h"

#define TABLE_BUSY_MS 10000

static int64_t count_rows(sqlite3 *db, const char *schema, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\".\"%w\"", schema, table);
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return n;
}

/* The CREATE statement of table in schema (malloc'd), NULL if none. */
static char *table_sql(sqlite3 *db, const char *schema, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema WHERE type = 'table' AND name = ?",
				    schema);
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		out = strdup(t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return out;
}

static int check_tables(sqlite3 *db, const char *file, const char *const *tables, size_t n,
			struct dumper_table_restore *ret)
{
	for (size_t i = 0; i < n; i++) {
		char *live = table_sql(db, "main", tables[i]), *then = table_sql(db, "snap", tables[i]);
		int r = 0;
		if (!then)
			r = store_fail(-ENOENT, "%s: table %s: not in the snapshot's copy; nothing restored", file,
				       tables[i]);
		else if (!live)
			r = store_fail(-ENOENT, "%s: table %s: not in the live database; nothing restored", file,
				       tables[i]);
		else if (strcmp(live, then))
			r = store_fail(-EINVAL, "%s: table %s: its schema differs between the snapshot and "
						"the live database (restore the whole file, or migrate first); "
						"nothing restored", file, tables[i]);
		free(live);
		free(then);
		if (r < 0)
			return r;
		ret->tables[i].name = tables[i];
		ret->tables[i].live_rows = count_rows(db, "main", tables[i]);
		ret->tables[i].snap_rows = count_rows(db, "snap", tables[i]);
	}
	return 0;
}

static int exec(sqlite3 *db, const char *file, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	int r = store_fail(-EIO, "%s: %s", file, err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return r;
}

int dumper_sqlite_restore_tables(const char *live_path, const char *copy_path, const char *file,
				 const char *const *tables, size_t n, bool dry_run,
				 struct dumper_table_restore *ret)
{
	sqlite3 *db = NULL;
	char *uri = dumper_sqlite_uri(copy_path, "mode=ro&immutable=1"), *attach = NULL;
	struct dumper_table_restore res = {0};
	int r = -ENOMEM;
	if (!uri || !(res.tables = calloc(n, sizeof *res.tables)))
		goto out;
	res.n = n;
	if (sqlite3_open_v2(live_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		r = store_fail(-EIO, "%s: %s", file, db ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(db, TABLE_BUSY_MS);
	if (!(attach = sqlite3_mprintf("ATTACH DATABASE '%q' AS snap", uri)))
		goto out;
	if ((r = exec(db, file, attach)) < 0 || (r = check_tables(db, file, tables, n, &res)) < 0 || dry_run)
		goto out;
	/* One transaction for all tables; IMMEDIATE takes the write lock up
	 * front (waiting for other writers) so nothing can interleave. */
	if ((r = exec(db, file, "BEGIN IMMEDIATE")) < 0)
		goto out;
	for (size_t i = 0; i < n && r == 0; i++) {
		char *sql = sqlite3_mprintf("DELETE FROM main.\"%w\"; INSERT INTO main.\"%w\" SELECT * FROM snap.\"%w\";",
					    tables[i], tables[i], tables[i]);
		r = sql ? exec(db, file, sql) : -ENOMEM;
		sqlite3_free(sql);
	}
	if (r == 0)
		r = exec(db, file, "COMMIT");
	if (r < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		res.tables[i].restored_rows = count_rows(db, "main", tables[i]);
out:
	if (db)
		sqlite3_close(db);
	sqlite3_free(attach);
	free(uri);
	if (r < 0) {
		free(res.tables);
		return r;
	}
	*ret = res;
	return 0;
}

void dumper_table_restore_clear(struct dumper_table_restore *r)
{
	free(r->tables);
	memset(r, 0, sizeof *r);
}
