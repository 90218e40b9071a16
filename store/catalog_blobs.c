/* catalog_blobs.c — the blob index and the packs table. */
#include <errno.h>
#include <string.h>

#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/catalog_reader.h"
#include "store/err.h"
#include "store/fileio.h"

static bool is_pack_name(const char *s, size_t len)
{
	if (len != PACK_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Fill *ret from the current row of a lookup statement (columns: pack
 * name, offset, length, raw_length, type, xxh).  Rows are checked before
 * anything trusts them: a damaged or hostile catalog must give an error,
 * not a wild read. */
static int row_loc(struct repo *repo, sqlite3_stmt *st, const blob_id *id, struct blob_loc *ret)
{
	const char *pack = (const char *)sqlite3_column_text(st, 0);
	int packlen = sqlite3_column_bytes(st, 0);
	int64_t off = sqlite3_column_int64(st, 1);
	int64_t len = sqlite3_column_int64(st, 2);
	int64_t raw = sqlite3_column_int64(st, 3);
	int64_t type = sqlite3_column_int64(st, 4);
	if (!pack || !is_pack_name(pack, (size_t)packlen) || off < PACK_HEADER_SIZE ||
	    len < (int64_t)BLOB_OVERHEAD || len > (int64_t)BLOB_OVERHEAD + BLOB_MAX_RAW ||
	    raw < 0 || raw > BLOB_MAX_RAW ||
	    (type != BLOB_DATA && type != BLOB_TREE && type != BLOB_SNAPSHOT)) {
		char hex[ID_HEX_LEN + 1];
		id_to_hex(id, hex);
		return store_fail(-STORE_ECORRUPT, "%s/catalog.db: blob %.16s: bad index row",
				  repo->path, hex);
	}
	struct blob_loc loc = {
		.offset = (uint64_t)off,
		.length = (uint32_t)len,
		.raw_length = (uint32_t)raw,
		.type = (uint8_t)type,
		.xxh = (uint64_t)sqlite3_column_int64(st, 5),
	};
	memcpy(loc.pack, pack, PACK_NAME_LEN + 1);
	*ret = loc;
	return 0;
}

#define LOOKUP_SQL                                                   \
	"SELECT p.name, b.offset, b.length, b.raw_length, b.type, b.xxh" \
	" FROM blobs b JOIN packs p ON p.id = b.pack_id"
#define LOOKUP_TYPE_SQL LOOKUP_SQL " WHERE b.id = ?1 AND b.type = ?2"
#define LOOKUP_ANY_SQL LOOKUP_SQL " WHERE b.id = ?1 ORDER BY b.type LIMIT 1"

static int db_fail(struct repo *repo, sqlite3 *db, int rc, const char *what)
{
	return store_fail(cat_errno(rc) ? cat_errno(rc) : -EIO, "%s/catalog.db: %s: %s", repo->path,
			  what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Run the lookup statement st (of connection db) for id and type (0: any)
 * into *ret, and reset it. */
static int lookup_run(struct repo *repo, sqlite3 *db, sqlite3_stmt *st, const blob_id *id,
		      uint8_t type, struct blob_loc *ret)
{
	char hex[ID_HEX_LEN + 1];
	int r;
	if (sqlite3_bind_blob(st, 1, id->b, ID_BYTES, SQLITE_STATIC) != SQLITE_OK ||
	    (type && sqlite3_bind_int(st, 2, type) != SQLITE_OK)) {
		r = db_fail(repo, db, SQLITE_NOMEM, "looking up a blob");
		goto reset;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		id_to_hex(id, hex);
		r = store_fail(-ENOENT, "blob %.16s: not in the index", hex);
		goto reset;
	}
	if (rc != SQLITE_ROW) {
		r = db_fail(repo, db, rc, "looking up a blob");
		goto reset;
	}
	r = row_loc(repo, st, id, ret);
reset:
	sqlite3_reset(st);
	return r;
}

/* type 0: any type (the lowest), for the version-1 fallback.  On the
 * thread's own connection when it has one (catalog_reader.h), else on the
 * shared one under db_lock. */
static int lookup(struct repo *repo, const blob_id *id, uint8_t type, struct blob_loc *ret)
{
	sqlite3_stmt *st;
	struct cat_reader *rd = cat_reader_get(repo);
	if (rd) {
		int rc = type ? cat_reader_stmt(rd, CAT_READER_BLOB_LOOKUP, LOOKUP_TYPE_SQL, &st)
			      : cat_reader_stmt(rd, CAT_READER_BLOB_LOOKUP_ANY, LOOKUP_ANY_SQL, &st);
		if (rc != SQLITE_OK)
			return db_fail(repo, cat_reader_db(rd), rc, "preparing a query");
		return lookup_run(repo, cat_reader_db(rd), st, id, type, ret);
	}
	cat_lock(repo);
	int r = type ? cat_stmt(repo, CAT_Q_BLOB_LOOKUP, LOOKUP_TYPE_SQL, &st)
		     : cat_stmt(repo, CAT_Q_BLOB_LOOKUP_ANY, LOOKUP_ANY_SQL, &st);
	if (r >= 0)
		r = lookup_run(repo, repo->db, st, id, type, ret);
	cat_unlock(repo);
	return r;
}

int catalog_blob_lookup(struct repo *repo, const blob_id *id, uint8_t type, struct blob_loc *ret)
{
	if (!type)
		return store_fail(-EINVAL, "blob lookup: no type");
	return lookup(repo, id, type, ret);
}

int catalog_blob_lookup_any(struct repo *repo, const blob_id *id, struct blob_loc *ret)
{
	return lookup(repo, id, 0, ret);
}

int catalog_pack_add(struct repo *repo, const char *name, uint64_t size,
		     const struct pack_entry *entries, size_t n)
{
	sqlite3_stmt *st;
	if (!is_pack_name(name, strlen(name)))
		return store_fail(-EINVAL, "pack \"%s\": not a pack name", name);
	cat_lock(repo);
	int r = cat_begin(repo);
	if (r < 0)
		goto out;
	/* Adding a pack twice (repair re-reading packs/) keeps the first row. */
	r = cat_stmt(repo, CAT_Q_PACK_INSERT,
		     "INSERT INTO packs(name, size, count, created_ns) VALUES(?1, ?2, ?3, ?4)"
		     " ON CONFLICT(name) DO NOTHING",
		     &st);
	if (r < 0)
		goto rollback;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)size);
	sqlite3_bind_int64(st, 3, (int64_t)n);
	sqlite3_bind_int64(st, 4, fio_now_ns());
	r = cat_run(repo, st, "recording a pack");
	if (r < 0)
		goto rollback;
	r = cat_stmt(repo, CAT_Q_PACK_ID, "SELECT id FROM packs WHERE name = ?1", &st);
	if (r < 0)
		goto rollback;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? store_fail(-EIO, "pack %s: not found after insert", name)
				      : cat_fail(repo, rc, "recording a pack");
		sqlite3_reset(st);
		goto rollback;
	}
	int64_t pack_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* OR IGNORE: a blob already indexed (same id and type) keeps its
	 * first location (both copies are valid; the first is the one readers
	 * may have cached). */
	r = cat_stmt(repo, CAT_Q_BLOB_INSERT,
		     "INSERT OR IGNORE INTO blobs(id, pack_id, offset, length, raw_length, type, xxh)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		     &st);
	if (r < 0)
		goto rollback;
	for (size_t i = 0; i < n; i++) {
		const struct pack_entry *e = &entries[i];
		sqlite3_bind_blob(st, 1, e->id.b, ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, pack_id);
		sqlite3_bind_int64(st, 3, (int64_t)e->offset);
		sqlite3_bind_int64(st, 4, e->length);
		sqlite3_bind_int64(st, 5, e->raw_length);
		sqlite3_bind_int64(st, 6, e->type);
		sqlite3_bind_int64(st, 7, (int64_t)e->xxh);
		r = cat_run(repo, st, "indexing a pack's blobs");
		if (r < 0)
			goto rollback;
	}
	r = cat_commit(repo);
	if (r < 0)
		goto rollback;
	cat_unlock(repo);
	return 0;
rollback:
	cat_rollback(repo);
out:
	cat_unlock(repo);
	return r;
}
