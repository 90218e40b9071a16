/* catalog_schema.c — opening catalog.db and its schema.
 *
 * Schema version 1:
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *       'schema_version' -> "1".  A newer number is refused (-STORE_ENEWER);
 *       older ones will be migrated here.
 *   projects(id INTEGER PRIMARY KEY, name TEXT UNIQUE, root TEXT UNIQUE,
 *            created_ns INTEGER)
 *   snapshots(id INTEGER PRIMARY KEY, project_id -> projects, name TEXT,
 *            time_ns INTEGER (UTC ns), message, tag, git_commit, git_branch
 *            TEXT or NULL, root BLOB (32-byte tree id), status INTEGER
 *            (enum snap_status), files, dirs, bytes, new_blobs, new_bytes,
 *            read_bytes, duration_ns INTEGER, notes TEXT (JSON) or NULL,
 *            UNIQUE(project_id, name))
 *       index snapshots_time(project_id, time_ns): newest-first listing,
 *       latest and at-or-before lookups are index seeks.
 *   packs(id INTEGER PRIMARY KEY, name TEXT UNIQUE (32 hex), size, count,
 *         created_ns INTEGER)
 *   blobs(id BLOB PRIMARY KEY (32 bytes), pack_id -> packs, offset, length,
 *         raw_length, type, xxh INTEGER) WITHOUT ROWID
 *       The blob index: the id is the key, so a lookup is one b-tree seek
 *       and rows are stored with the key (no separate rowid table).  xxh is
 *       the XXH3-64 of the stored bytes, stored as its two's-complement
 *       int64.  index blobs_pack(pack_id) serves deleting/repairing a pack.
 *
 * Everything the blob index and packs tables hold is also in the packs'
 * own indexes, so `check --repair` can rebuild them from packs/ alone.
 * uint64 counters are stored as int64 (SQLite's integer type).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"

#define CATALOG_SCHEMA_VERSION 1

static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE projects("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" root TEXT NOT NULL UNIQUE,"
	" created_ns INTEGER NOT NULL);"
	"CREATE TABLE snapshots("
	" id INTEGER PRIMARY KEY,"
	" project_id INTEGER NOT NULL REFERENCES projects(id),"
	" name TEXT NOT NULL,"
	" time_ns INTEGER NOT NULL,"
	" message TEXT, tag TEXT, git_commit TEXT, git_branch TEXT,"
	" root BLOB NOT NULL CHECK(length(root) = 32),"
	" status INTEGER NOT NULL,"
	" files INTEGER NOT NULL, dirs INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" new_blobs INTEGER NOT NULL, new_bytes INTEGER NOT NULL,"
	" read_bytes INTEGER NOT NULL, duration_ns INTEGER NOT NULL,"
	" notes TEXT,"
	" UNIQUE(project_id, name));"
	"CREATE INDEX snapshots_time ON snapshots(project_id, time_ns);"
	"CREATE TABLE packs("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" size INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" created_ns INTEGER NOT NULL);"
	"CREATE TABLE blobs("
	" id BLOB PRIMARY KEY CHECK(length(id) = 32),"
	" pack_id INTEGER NOT NULL REFERENCES packs(id),"
	" offset INTEGER NOT NULL,"
	" length INTEGER NOT NULL,"
	" raw_length INTEGER NOT NULL,"
	" type INTEGER NOT NULL,"
	" xxh INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX blobs_pack ON blobs(pack_id);"
	"INSERT INTO meta(key, value) VALUES('schema_version', '1');";

static int exec(struct repo *repo, const char *sql, const char *what)
{
	int rc = sqlite3_exec(repo->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : cat_fail(repo, rc, what);
}

/* One integer from a query (no rows: -ENOENT, nothing recorded). */
static int query_int(struct repo *repo, const char *sql, const char *what, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(repo->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return cat_fail(repo, rc, what);
	rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = cat_fail(repo, rc, what);
	sqlite3_finalize(st);
	return r;
}

static int check_version(struct repo *repo)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(repo->db, "SELECT value FROM meta WHERE key = 'schema_version'",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return cat_fail(repo, rc, "reading the schema version");
	rc = sqlite3_step(st);
	int r = 0;
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? store_fail(-STORE_ECORRUPT, "%s/catalog.db: no schema version",
						   repo->path)
				      : cat_fail(repo, rc, "reading the schema version");
		goto out;
	}
	const char *v = (const char *)sqlite3_column_text(st, 0);
	char *end;
	long long n = v ? strtoll(v, &end, 10) : 0;
	if (!v || end == v || *end || n < 1) {
		r = store_fail(-STORE_ECORRUPT, "%s/catalog.db: bad schema version \"%s\"", repo->path,
			       v ? v : "");
		goto out;
	}
	if (n > CATALOG_SCHEMA_VERSION)
		r = store_fail(-STORE_ENEWER,
			       "%s/catalog.db: schema %lld is newer than this ckptfs understands (%d)",
			       repo->path, n, CATALOG_SCHEMA_VERSION);
	/* n < CATALOG_SCHEMA_VERSION cannot happen yet: migrations go here. */
out:
	sqlite3_finalize(st);
	return r;
}

/* Writer: create the schema in an empty database (in one transaction, so a
 * crash leaves either nothing or all of it), else check the version. */
static int schema_create_or_check(struct repo *repo)
{
	int r = exec(repo, "BEGIN IMMEDIATE", "starting the schema transaction");
	if (r < 0)
		return r;
	int64_t ntables = 0, nmeta = 0;
	r = query_int(repo, "SELECT count(*) FROM sqlite_master", "reading the schema", &ntables);
	if (r >= 0)
		r = query_int(repo,
			      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
			      "reading the schema", &nmeta);
	if (r < 0)
		goto fail;
	if (ntables == 0) {
		r = exec(repo, schema_v1, "creating the schema");
		if (r < 0)
			goto fail;
	} else if (nmeta == 0) {
		r = store_fail(-STORE_ECORRUPT, "%s/catalog.db: not a ckptfs catalog (no meta table)",
			       repo->path);
		goto fail;
	} else {
		r = check_version(repo);
		if (r < 0)
			goto fail;
	}
	return exec(repo, "COMMIT", "committing the schema");
fail:
	cat_rollback(repo);
	return r;
}

/* journal_mode answers with the mode in effect, which is not WAL where
 * the file system cannot share memory maps: refuse rather than run
 * without concurrent readers. */
static int set_wal(struct repo *repo)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(repo->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return cat_fail(repo, rc, "enabling WAL");
	rc = sqlite3_step(st);
	int r = 0;
	if (rc != SQLITE_ROW)
		r = cat_fail(repo, rc, "enabling WAL");
	else {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		if (!m || strcmp(m, "wal") != 0)
			r = store_fail(-ENOTSUP,
				       "%s/catalog.db: cannot use WAL mode (journal mode stays %s)",
				       repo->path, m ? m : "?");
	}
	sqlite3_finalize(st);
	return r;
}

int catalog_init(struct repo *repo)
{
	char *file;
	if (asprintf(&file, "%s/catalog.db", repo->path) < 0)
		return store_fail(-ENOMEM, "catalog: out of memory");
	bool write = repo->mode == REPO_WRITE;
	/* NOMUTEX: repo->db_lock already serializes every use of the handle. */
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE |
		    (write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(file, &db, flags, NULL);
	free(file);
	int r;
	if (rc != SQLITE_OK) {
		r = store_fail(cat_errno(rc), "%s/catalog.db: %s", repo->path,
			       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return r;
	}
	repo->db = db;
	/* Readers and the writer coexist in WAL mode; a checkpoint or a
	 * concurrent BEGIN IMMEDIATE waits instead of failing. */
	sqlite3_busy_timeout(db, 10000);
	r = exec(repo, "PRAGMA foreign_keys = ON", "enabling foreign keys");
	if (r < 0)
		goto fail;
	if (write) {
		/* journal_mode is persistent; synchronous=FULL makes each COMMIT
		 * durable (a backup tool must not lose a snapshot it reported). */
		r = set_wal(repo);
		if (r >= 0)
			r = exec(repo, "PRAGMA synchronous = FULL", "setting synchronous");
		if (r >= 0)
			r = schema_create_or_check(repo);
	} else {
		r = exec(repo, "PRAGMA query_only = ON", "setting query_only");
		if (r >= 0)
			r = check_version(repo);
	}
	if (r < 0)
		goto fail;
	return 0;
fail:
	catalog_close(repo);
	return r;
}
