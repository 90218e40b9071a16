/* catalog_schema.c — opening catalog.db and its schema.
 *
 * Schema version 3:
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *       'schema_version' -> "3".  A newer number is refused (-STORE_ENEWER);
 *       versions 1 and 2 are migrated by the first writer that opens it.
 *       'legacy_below' -> the first snapshot id written under version 2
 *       (see below); absent in a catalog created as version 2.
 *   projects(id INTEGER PRIMARY KEY, name TEXT UNIQUE, root TEXT UNIQUE,
 *            created_ns INTEGER)
 *   snapshots(id INTEGER PRIMARY KEY, project_id -> projects, name TEXT,
 *            time_ns INTEGER (UTC ns), message, tag, git_commit, git_branch
 *            TEXT or NULL, root BLOB (32-byte tree id), status INTEGER
 *            (enum snap_status), files, dirs, bytes, new_blobs, new_bytes,
 *            read_bytes, duration_ns INTEGER, notes TEXT (JSON) or NULL,
 *            UNIQUE(project_id, name),
 *            trashed_at_ns, expires_at_ns INTEGER: both NULL for a live
 *            snapshot; set by `forget`, which moves it to the trash)
 *       index snapshots_time(project_id, time_ns): newest-first listing,
 *       latest and at-or-before lookups are index seeks.
 *       index snapshots_trash(expires_at_ns) over trashed rows only.
 *   forgotten(time_ns INTEGER, root BLOB, deleted_ns INTEGER,
 *             PRIMARY KEY(time_ns, root)) WITHOUT ROWID
 *       Snapshots whose rows left the trash for good (emptied, expired):
 *       check --repair re-creates a snapshot from its record in the packs
 *       only if it is neither in snapshots nor here, so a forgotten
 *       snapshot does not come back before gc has collected its record.
 *       The trigger snapshots_forgotten fills it: whatever deletes a
 *       trashed row (trash empty, the purge of expired rows, gc) records
 *       it in the same transaction.
 *   packs(id INTEGER PRIMARY KEY, name TEXT UNIQUE (32 hex), size, count,
 *         created_ns INTEGER)
 *   blobs(id BLOB (32 bytes), type INTEGER, pack_id -> packs, offset,
 *         length, raw_length, xxh INTEGER, PRIMARY KEY(id, type)) WITHOUT ROWID
 *       The blob index, keyed by id AND type: a data chunk and a tree (or a
 *       snapshot record) whose plaintexts are the same bytes have the same
 *       id, and both must be stored — each is sealed with its type in the
 *       associated data, and each is looked up as the type its reference
 *       names.  A lookup is one b-tree seek and rows are stored with the
 *       key (no separate rowid table).  xxh is the XXH3-64 of the stored
 *       bytes, stored as its two's-complement int64.  index
 *       blobs_pack(pack_id) serves deleting/repairing a pack.
 *
 * Why (id, type) and not a hash domain-separated by type: version 1 keyed
 * the index by id alone, so a file whose bytes equal an encoded tree was
 * deduplicated against that tree (or the reverse) and its snapshot
 * referenced a blob that was never stored as the type it needs.  Keying by
 * (id, type) keeps every id ever written valid: existing repositories keep
 * their trees, chunks and deduplication (a domain-separated hash would
 * give every tree a new id, so the first snapshot after the upgrade would
 * share no tree with the ones before it, and old and new ids of the same
 * bytes would still collide across the boundary).  The type is already
 * authenticated with every blob, so (id, type) is what a blob is.
 *
 * Version 1 -> 2 (catalog_migrate): the blobs table is rebuilt with the
 * new key in the schema transaction, and meta 'legacy_below' records
 * where version-1 snapshots end.  Such a snapshot may reference an id
 * stored only under another type; readers then fall back to that blob
 * (same bytes, re-hashed to prove it: repo_read.c), check reports it and
 * check --repair stores it under the missing type; and a snapshot whose
 * parent is a version-1 snapshot re-verifies what it reuses from it
 * (walk_opts.verify_reused).
 *
 * Version 2 -> 3 (the trash): two columns added to snapshots.  A trashed
 * snapshot keeps its row, so its name stays taken (a new snapshot never
 * reuses it, `trash restore` brings it back as it was) and everything that
 * marks reachable data from the rows of snapshots — gc marks from every
 * row, live or trashed — keeps its data.  Only rows without trashed_at_ns
 * are listed or resolved (catalog_snapshots.c); a row leaves the catalog
 * when its window ends (catalog_trash_purge_expired) or the trash is
 * emptied, and only then can its data be collected.  A new catalog is made
 * as version 2 and migrated in the same transaction, so a new catalog and a
 * migrated one have the same schema.  A reader of a version-2 catalog
 * (nothing is in its trash) lists every row, and re-reads the version
 * when the catalog changes (cat_schema_refresh), so a mount that outlives
 * the migration starts hiding trashed snapshots.
 *
 * Everything the blob index and packs tables hold is also in the packs'
 * own indexes, so `check --repair` can rebuild them from packs/ alone.
 * uint64 counters are stored as int64 (SQLite's integer type).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"

#define CATALOG_SCHEMA_VERSION 3

#define BLOBS_TABLE_V2 \
	"CREATE TABLE blobs(" \
	" id BLOB NOT NULL CHECK(length(id) = 32)," \
	" type INTEGER NOT NULL," \
	" pack_id INTEGER NOT NULL REFERENCES packs(id)," \
	" offset INTEGER NOT NULL," \
	" length INTEGER NOT NULL," \
	" raw_length INTEGER NOT NULL," \
	" xxh INTEGER NOT NULL," \
	" PRIMARY KEY(id, type)) WITHOUT ROWID;"

static const char schema_v2[] =
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
	BLOBS_TABLE_V2
	"CREATE INDEX blobs_pack ON blobs(pack_id);"
	"INSERT INTO meta(key, value) VALUES('schema_version', '2');";

/* Version 1 -> 2, inside the schema transaction: the same rows under the
 * new key.  Every version-1 snapshot is legacy. */
static const char migrate_v1_v2[] =
	"ALTER TABLE blobs RENAME TO blobs_v1;"
	"DROP INDEX blobs_pack;"
	BLOBS_TABLE_V2
	"INSERT INTO blobs(id, type, pack_id, offset, length, raw_length, xxh)"
	" SELECT id, type, pack_id, offset, length, raw_length, xxh FROM blobs_v1;"
	"DROP TABLE blobs_v1;"
	"CREATE INDEX blobs_pack ON blobs(pack_id);"
	"INSERT OR REPLACE INTO meta(key, value)"
	" SELECT 'legacy_below', CAST(coalesce(max(id), 0) + 1 AS TEXT) FROM snapshots;"
	"UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/* Version 2 -> 3, inside the schema transaction: the trash columns. */
static const char migrate_v2_v3[] =
	"ALTER TABLE snapshots ADD COLUMN trashed_at_ns INTEGER;"
	"ALTER TABLE snapshots ADD COLUMN expires_at_ns INTEGER;"
	"CREATE INDEX snapshots_trash ON snapshots(expires_at_ns)"
	" WHERE trashed_at_ns IS NOT NULL;"
	"CREATE TABLE forgotten("
	" time_ns INTEGER NOT NULL,"
	" root BLOB NOT NULL,"
	" deleted_ns INTEGER NOT NULL,"
	" PRIMARY KEY(time_ns, root)) WITHOUT ROWID;"
	"CREATE TRIGGER snapshots_forgotten AFTER DELETE ON snapshots"
	" WHEN OLD.trashed_at_ns IS NOT NULL BEGIN"
	" INSERT OR IGNORE INTO forgotten(time_ns, root, deleted_ns)"
	" VALUES(OLD.time_ns, OLD.root, CAST(strftime('%s', 'now') AS INTEGER) * 1000000000);"
	" END;"
	"UPDATE meta SET value = '3' WHERE key = 'schema_version';";

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

static int check_version(struct repo *repo, long long *ret_version)
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
	*ret_version = n;
out:
	sqlite3_finalize(st);
	return r;
}

/* Where version-1 snapshots end (catalog_schema.c's header): every
 * snapshot of a version-1 catalog (read as it is by a reader), else meta
 * 'legacy_below' (0 when the catalog was created as version 2). */
static int read_legacy_below(struct repo *repo, long long version)
{
	if (version < 2) {
		repo->legacy_below = INT64_MAX;
		return 0;
	}
	int64_t v = 0;
	int r = query_int(repo, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'legacy_below'",
			  "reading the schema", &v);
	if (r < 0 && r != -ENOENT)
		return r;
	repo->legacy_below = r == -ENOENT || v < 0 ? 0 : v;
	return 0;
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
	long long version = CATALOG_SCHEMA_VERSION;
	if (ntables == 0) {
		r = exec(repo, schema_v2, "creating the schema");
		if (r >= 0)
			r = exec(repo, migrate_v2_v3, "creating the schema");
		if (r < 0)
			goto fail;
	} else if (nmeta == 0) {
		r = store_fail(-STORE_ECORRUPT, "%s/catalog.db: not a ckptfs catalog (no meta table)",
			       repo->path);
		goto fail;
	} else {
		r = check_version(repo, &version);
		if (r >= 0 && version == 1) {
			r = exec(repo, migrate_v1_v2, "migrating the catalog to schema 2");
			version = 2;
		}
		if (r >= 0 && version == 2) {
			r = exec(repo, migrate_v2_v3, "migrating the catalog to schema 3");
			version = 3;
		}
		if (r < 0)
			goto fail;
	}
	r = read_legacy_below(repo, version);
	if (r < 0)
		goto fail;
	repo->schema_version = (int)version;
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

/* Owner-only catalog: SQLite creates catalog.db with 0644 (less the
 * umask) and gives -wal and -shm the mode of the database file, so the
 * writer creates catalog.db itself, 0600, before SQLite opens it, and
 * tightens one that an older ckptfs left readable (and its -wal/-shm). */
static int private_db_file(struct repo *repo)
{
	int fd = openat(repo->dirfd, "catalog.db", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_failp(-errno, "%s/catalog.db", repo->path);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = store_failp(-errno, "%s/catalog.db", repo->path);
	else if (!S_ISREG(st.st_mode))
		r = store_fail(-STORE_ECORRUPT, "%s/catalog.db: not a regular file", repo->path);
	else if ((st.st_mode & 077) && fchmod(fd, 0600) < 0)
		r = store_failp(-errno, "%s/catalog.db: chmod 0600", repo->path);
	close(fd);
	static const char *const sides[] = {"catalog.db-wal", "catalog.db-shm", "catalog.db-journal"};
	for (size_t i = 0; r == 0 && i < sizeof sides / sizeof sides[0]; i++)
		if (fstatat(repo->dirfd, sides[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && (st.st_mode & 077) &&
		    fchmodat(repo->dirfd, sides[i], 0600, 0) < 0)
			r = store_failp(-errno, "%s/%s: chmod 0600", repo->path, sides[i]);
	return r;
}

int cat_schema_refresh(struct repo *repo)
{
	if (repo->schema_version >= CATALOG_SCHEMA_VERSION)
		return 0;
	long long version = 0;
	int r = check_version(repo, &version);
	if (r < 0 || version == repo->schema_version)
		return r;
	/* The cached statements were prepared for the old schema's columns. */
	cat_stmts_drop(repo);
	repo->schema_version = (int)version;
	return 0;
}

int catalog_init(struct repo *repo)
{
	char *file;
	bool write = repo->mode == REPO_WRITE;
	if (write) {
		int r = private_db_file(repo);
		if (r < 0)
			return r;
	}
	if (asprintf(&file, "%s/catalog.db", repo->path) < 0)
		return store_fail(-ENOMEM, "catalog: out of memory");
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
		long long version = 0;
		r = exec(repo, "PRAGMA query_only = ON", "setting query_only");
		if (r >= 0)
			r = check_version(repo, &version);
		if (r >= 0)
			r = read_legacy_below(repo, version);
		repo->schema_version = (int)version;
	}
	if (r < 0)
		goto fail;
	return 0;
fail:
	catalog_close(repo);
	return r;
}
