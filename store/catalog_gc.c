/* catalog_gc.c — the catalog side of gc (catalog_gc.h). */
#include "store/catalog_gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_db.h"
#include "store/err.h"
#include "store/fileio.h"

/* A failure of db (the shared connection or a private one), recorded. */
static int scan_fail(struct repo *repo, sqlite3 *db, int rc, const char *what)
{
	return store_fail(cat_errno(rc) ? cat_errno(rc) : -EIO, "%s/catalog.db: %s: %s", repo->path,
			  what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int scan_packs(struct repo *repo, sqlite3 *db, catalog_pack_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT id, name, size FROM packs ORDER BY id", -1, &st,
				    NULL);
	int r = rc == SQLITE_OK ? 0 : scan_fail(repo, db, rc, "reading the pack list");
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int64_t size = sqlite3_column_int64(st, 2);
		r = fn(ctx, sqlite3_column_int64(st, 0), name ? name : "",
		       size < 0 ? 0 : (uint64_t)size);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = scan_fail(repo, db, rc, "reading the pack list");
	sqlite3_finalize(st);
	return r;
}

/* Columns id, type, offset, length, raw_length, xxh from column 1 on. */
static void entry_from_row(sqlite3_stmt *st, struct pack_entry *e)
{
	memset(e, 0, sizeof *e);
	const void *id = sqlite3_column_blob(st, 1);
	if (id && sqlite3_column_bytes(st, 1) == ID_BYTES)
		memcpy(e->id.b, id, ID_BYTES);
	e->type = (uint8_t)sqlite3_column_int(st, 2);
	e->offset = (uint64_t)sqlite3_column_int64(st, 3);
	e->length = (uint32_t)sqlite3_column_int64(st, 4);
	e->raw_length = (uint32_t)sqlite3_column_int64(st, 5);
	e->xxh = (uint64_t)sqlite3_column_int64(st, 6);
}

static int scan_blobs(struct repo *repo, sqlite3 *db, catalog_blob_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT pack_id, id, type, offset, length, raw_length, xxh"
				    " FROM blobs",
				    -1, &st, NULL);
	int r = rc == SQLITE_OK ? 0 : scan_fail(repo, db, rc, "reading the blob index");
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pack_entry e;
		entry_from_row(st, &e);
		r = fn(ctx, sqlite3_column_int64(st, 0), &e);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = scan_fail(repo, db, rc, "reading the blob index");
	sqlite3_finalize(st);
	return r;
}

int catalog_scan_private(struct repo *repo, catalog_pack_fn pack_fn, catalog_blob_fn blob_fn,
			 void *ctx)
{
	char *file;
	if (asprintf(&file, "%s/catalog.db", repo->path) < 0)
		return store_fail(-ENOMEM, "catalog: out of memory");
	/* NOMUTEX: the calling thread's alone. */
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(file, &db,
				 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
					 SQLITE_OPEN_EXRESCODE,
				 NULL);
	free(file);
	int r = rc == SQLITE_OK ? 0 : scan_fail(repo, db, rc, "opening a read connection");
	if (r == 0) {
		/* As the shared connection: a checkpoint waits, it does not fail. */
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		r = rc == SQLITE_OK ? 0 : scan_fail(repo, db, rc, "starting a read transaction");
	}
	if (r == 0)
		r = scan_packs(repo, db, pack_fn, ctx);
	if (r == 0)
		r = scan_blobs(repo, db, blob_fn, ctx);
	if (db && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return r;
}

/* Prepare sql (the caller finalizes), recording a failure. */
static int prepare(struct repo *repo, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(repo->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "preparing a gc query");
}

static int step_done(struct repo *repo, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : cat_fail(repo, rc, what);
}

static int add_pack(struct repo *repo, const char *name, uint64_t size, size_t count,
		    int64_t *ret_id)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(repo,
			"INSERT INTO packs(name, size, count, created_ns) VALUES(?1, ?2, ?4, ?3)"
			" ON CONFLICT(name) DO NOTHING",
			&st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)size);
		sqlite3_bind_int64(st, 3, fio_now_ns());
		sqlite3_bind_int64(st, 4, (int64_t)count);
		r = step_done(repo, st, "recording a repacked pack");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (r == 0)
		r = prepare(repo, "SELECT id FROM packs WHERE name = ?1", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*ret_id = sqlite3_column_int64(st, 0);
		else
			r = rc == SQLITE_DONE ? store_fail(-EIO, "pack %s: not found after insert", name)
					      : cat_fail(repo, rc, "recording a repacked pack");
	}
	sqlite3_finalize(st);
	return r;
}

/* A moved row and the new pack it now lies in. */
struct moved {
	const struct pack_entry *e;
	int64_t pack_id;
};

static int cmp_moved(const void *a, const void *b)
{
	const struct pack_entry *x = ((const struct moved *)a)->e, *y = ((const struct moved *)b)->e;
	int c = memcmp(x->id.b, y->id.b, ID_BYTES);
	return c ? c : (int)x->type - (int)y->type;
}

/* Rows of blobs that moved: only their pack and offset change (an UPDATE
 * by the key, cheaper than the upsert it was); a row missing (check
 * --repair or a rebuilt catalog may lack one) is inserted.  In key order:
 * the rows lie all over the blob table, and consecutive keys share its
 * pages, so each page is found once rather than once per row. */
static int move_rows(struct repo *repo, struct moved *m, size_t n)
{
	qsort(m, n, sizeof *m, cmp_moved);
	sqlite3_stmt *up = NULL, *ins = NULL;
	int r = prepare(repo,
			"UPDATE blobs SET pack_id = ?3, offset = ?4, length = ?5, raw_length = ?6,"
			" xxh = ?7 WHERE id = ?1 AND type = ?2",
			&up);
	if (r == 0)
		r = prepare(repo,
			    "INSERT INTO blobs(id, type, pack_id, offset, length, raw_length, xxh)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			    &ins);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct pack_entry *e = m[i].e;
		sqlite3_stmt *st = up;
		for (int pass = 0; r == 0 && pass < 2; pass++) {
			sqlite3_bind_blob(st, 1, e->id.b, ID_BYTES, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, e->type);
			sqlite3_bind_int64(st, 3, m[i].pack_id);
			sqlite3_bind_int64(st, 4, (int64_t)e->offset);
			sqlite3_bind_int64(st, 5, e->length);
			sqlite3_bind_int64(st, 6, e->raw_length);
			sqlite3_bind_int64(st, 7, (int64_t)e->xxh);
			r = step_done(repo, st, "moving a blob to its new pack");
			if (st == ins || sqlite3_changes(repo->db) > 0)
				break;
			st = ins;
		}
	}
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	return r;
}

static int drop_packs(struct repo *repo, const int64_t *drop, size_t ndrop)
{
	sqlite3_stmt *blobs = NULL, *packs = NULL;
	int r = prepare(repo, "DELETE FROM blobs WHERE pack_id = ?1", &blobs);
	if (r == 0)
		r = prepare(repo, "DELETE FROM packs WHERE id = ?1", &packs);
	for (size_t i = 0; r == 0 && i < ndrop; i++) {
		sqlite3_bind_int64(blobs, 1, drop[i]);
		r = step_done(repo, blobs, "dropping a pack's blobs");
		if (r == 0) {
			sqlite3_bind_int64(packs, 1, drop[i]);
			r = step_done(repo, packs, "dropping a pack");
		}
	}
	sqlite3_finalize(blobs);
	sqlite3_finalize(packs);
	return r;
}

/* Record pack p and point its rows at it (inside the open transaction;
 * lock held). */
static int add_moved_pack(struct repo *repo, const struct catalog_gc_pack *p)
{
	int64_t pack_id = 0;
	int r = add_pack(repo, p->name, p->size, p->n, &pack_id);
	struct moved *m = NULL;
	if (r == 0 && !(m = malloc((p->n ? p->n : 1) * sizeof *m)))
		r = store_fail(-ENOMEM, "gc: out of memory");
	for (size_t k = 0; r == 0 && k < p->n; k++)
		m[k] = (struct moved){ .e = &p->e[k], .pack_id = pack_id };
	if (r == 0)
		r = move_rows(repo, m, p->n);
	free(m);
	return r;
}

int catalog_gc_move_packs(struct repo *repo, const struct catalog_gc_pack *news, size_t nnews,
			  const int64_t *drop, size_t ndrop)
{
	cat_lock(repo);
	int r = cat_begin(repo);
	if (r < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < nnews; i++)
		r = add_moved_pack(repo, &news[i]);
	if (r == 0)
		r = drop_packs(repo, drop, ndrop);
	if (r == 0)
		r = cat_commit(repo);
	if (r < 0)
		cat_rollback(repo);
out:
	cat_unlock(repo);
	return r;
}

/* The repack's transaction runs with SQLite's foreign-key enforcement off
 * (blobs.pack_id references packs.id).  With it on, every statement that
 * changes blobs keeps a statement journal (a copy of each page it changes,
 * in case a check fails halfway), and the mover runs one statement per
 * moved row: the 108,972 UPDATEs of a 1,000-snapshot gc took 2.1-2.6 s
 * with it on, 0.6-1.0 s with it off (sqlite3 3.40, the same statements
 * on a copy of its catalog).  Nothing those checks look at can go wrong
 * in this transaction: a moved row is pointed at the pack recorded just
 * before in it (add_pack returns its id), and a pack's row is deleted
 * only after every blob row in it (drop_packs).  Switched on again
 * whenever the transaction ends, committed or not. */
static int set_foreign_keys(struct repo *repo, bool on)
{
	int rc = sqlite3_exec(repo->db, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF",
			      NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "setting the foreign-key checks");
}

int catalog_gc_txn_begin(struct repo *repo)
{
	cat_lock(repo);
	int r = set_foreign_keys(repo, false);
	if (r == 0 && (r = cat_begin(repo)) < 0)
		set_foreign_keys(repo, true);
	cat_unlock(repo);
	return r;
}

int catalog_gc_txn_add(struct repo *repo, const struct catalog_gc_pack *p)
{
	cat_lock(repo);
	int r = add_moved_pack(repo, p);
	cat_unlock(repo);
	return r;
}

int catalog_gc_txn_drop(struct repo *repo, const int64_t *drop, size_t ndrop)
{
	cat_lock(repo);
	int r = drop_packs(repo, drop, ndrop);
	cat_unlock(repo);
	return r;
}

int catalog_gc_txn_commit(struct repo *repo)
{
	cat_lock(repo);
	int r = cat_commit(repo);
	if (r < 0)
		cat_rollback(repo);
	int f = set_foreign_keys(repo, true);
	cat_unlock(repo);
	return r < 0 ? r : f;
}

void catalog_gc_txn_rollback(struct repo *repo)
{
	cat_lock(repo);
	cat_rollback(repo);
	set_foreign_keys(repo, true);
	cat_unlock(repo);
}

int catalog_gc_move(struct repo *repo, const char *new_name, uint64_t new_size,
		    const struct pack_entry *moved, size_t n, const int64_t *drop, size_t ndrop)
{
	struct catalog_gc_pack p = { .size = new_size, .e = (struct pack_entry *)moved, .n = n };
	if (new_name)
		snprintf(p.name, sizeof p.name, "%s", new_name);
	return catalog_gc_move_packs(repo, &p, new_name ? 1 : 0, drop, ndrop);
}

int catalog_gc_read_begin(struct repo *repo)
{
	cat_lock(repo);
	int rc = sqlite3_exec(repo->db, "BEGIN", NULL, NULL, NULL);
	int r = rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "starting a read transaction");
	cat_unlock(repo);
	return r;
}

void catalog_gc_read_end(struct repo *repo)
{
	cat_lock(repo);
	if (!sqlite3_get_autocommit(repo->db))
		sqlite3_exec(repo->db, "COMMIT", NULL, NULL, NULL);
	cat_unlock(repo);
}

int catalog_gc_autocheckpoint(struct repo *repo, bool on)
{
	cat_lock(repo);
	int rc = sqlite3_exec(repo->db, on ? "PRAGMA wal_autocheckpoint = 1000"
					    : "PRAGMA wal_autocheckpoint = 0",
			      NULL, NULL, NULL);
	int r = rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "setting the checkpoints");
	cat_unlock(repo);
	return r;
}

void catalog_gc_checkpoint(struct repo *repo)
{
	cat_lock(repo);
	(void)sqlite3_wal_checkpoint_v2(repo->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	cat_unlock(repo);
}

int catalog_gc_cache(struct repo *repo, unsigned kib)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%u", kib);
	cat_lock(repo);
	int rc = sqlite3_exec(repo->db, sql, NULL, NULL, NULL);
	int r = rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "setting the page cache");
	cat_unlock(repo);
	return r;
}
