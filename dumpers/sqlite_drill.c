/* sqlite_drill.c — check a captured copy the moment it is made.
 *
 * The copy is private, so it is opened immutable (no locks, no side files).
 * integrity_check reads every page and cross-checks indexes against rows;
 * quick_check skips the cross checks and is used above DUMPER_INTEGRITY_MAX
 * so a large database does not double the snapshot's time.  Row counts of
 * ordinary tables let a user see at a glance that the data is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "dumpers/sqlite.h"
#include "store/err.h"

void dumper_drill_clear(struct dumper_drill *d)
{
	for (size_t i = 0; i < d->ntables; i++)
		free(d->tables[i].name);
	free(d->tables);
	free(d->check);
	dumper_schema_clear(&d->schema);
	memset(d, 0, sizeof *d);
}

/* Run the check; ok unless it reports anything but the single row "ok". */
static int run_check(sqlite3 *db, const char *how, struct dumper_drill *d)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA %s(20)", how);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		d->check = strdup(sqlite3_errmsg(db));
		return d->check ? 0 : -ENOMEM;
	}
	size_t len = 0, cap = 0;
	char *out = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		size_t n = strlen(line ? line : "");
		if (len + n + 2 > cap) {
			cap = (len + n + 2) * 2;
			char *t = realloc(out, cap);
			if (!t) {
				free(out);
				sqlite3_finalize(st);
				return -ENOMEM;
			}
			out = t;
		}
		if (len)
			out[len++] = '\n';
		memcpy(out + len, line ? line : "", n);
		len += n;
		out[len] = '\0';
	}
	if (rc != SQLITE_DONE) {
		free(out);
		out = strdup(sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	if (!out)
		out = strdup("no result");
	if (!out)
		return -ENOMEM;
	d->check = out;
	d->ok = rc == SQLITE_DONE && !strcmp(out, "ok");
	return 0;
}

static int count_tables(sqlite3 *db, struct dumper_drill *d)
{
	sqlite3_stmt *st;
	/* Virtual tables may need modules this build does not have. */
	const char *q = "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'"
			" AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name";
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		d->ok = false;
		return 0;
	}
	int r = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct dumper_table_count *t = realloc(d->tables, (d->ntables + 1) * sizeof *t);
		if (!t) {
			r = -ENOMEM;
			break;
		}
		d->tables = t;
		t = &d->tables[d->ntables];
		t->name = strdup(name ? name : "");
		t->rows = -1;
		if (!t->name) {
			r = -ENOMEM;
			break;
		}
		d->ntables++;
		char *sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", t->name);
		sqlite3_stmt *cs;
		if (sql && sqlite3_prepare_v2(db, sql, -1, &cs, NULL) == SQLITE_OK) {
			if (sqlite3_step(cs) == SQLITE_ROW)
				t->rows = sqlite3_column_int64(cs, 0);
			else
				d->ok = false; /* a table that cannot be read is damage */
			sqlite3_finalize(cs);
		}
		sqlite3_free(sql);
	}
	sqlite3_finalize(st);
	return r;
}

int dumper_sqlite_drill(const char *path, struct dumper_drill *ret)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return store_failp(-errno, "%s", path);
	struct dumper_drill d = {0};
	d.how = (uint64_t)st.st_size <= DUMPER_INTEGRITY_MAX ? "integrity_check" : "quick_check";
	char *uri = dumper_sqlite_uri(path, "mode=ro&immutable=1");
	if (!uri)
		return -ENOMEM;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	int r;
	if (rc != SQLITE_OK) {
		d.check = strdup(db ? sqlite3_errmsg(db) : "out of memory");
		r = d.check ? 0 : -ENOMEM;
		goto out;
	}
	if ((r = run_check(db, d.how, &d)) < 0)
		goto out;
	if ((r = count_tables(db, &d)) < 0)
		goto out;
	r = dumper_sqlite_schema(db, &d.schema);
out:
	sqlite3_close(db);
	if (r < 0) {
		dumper_drill_clear(&d);
		return store_failp(r, "%s: drill", path);
	}
	*ret = d;
	return 0;
}
