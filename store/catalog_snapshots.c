/* catalog_snapshots.c — the snapshots table: lookups and the insert that
 * makes a snapshot visible.
 *
 * This is the one place snapshot rows are listed and resolved, so it is
 * where trashed snapshots (catalog_schema.c, schema 3) are left out: every
 * query but the by-id one and the scan for check carries LIVE.  Each query
 * has two texts, for a catalog with the trash columns and for a version-2
 * one a reader may still be looking at (snap_sql picks). */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "store/catalog.h"
#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/snapname.h"

/* The text for this catalog's schema. */
static const char *snap_sql(struct repo *repo, const char *with_trash, const char *without)
{
	return CAT_HAS_TRASH(repo) ? with_trash : without;
}

void snapshot_clear(struct snapshot *s)
{
	if (!s)
		return;
	free(s->project);
	free(s->name);
	free(s->message);
	free(s->tag);
	free(s->git_commit);
	free(s->git_branch);
	free(s->notes);
	memset(s, 0, sizeof *s);
}

void snapshots_free(struct snapshot *s, size_t n)
{
	if (!s)
		return;
	for (size_t i = 0; i < n; i++)
		snapshot_clear(&s[i]);
	free(s);
}

/* The current row as a snapshot, valid or not: 0 with *ret_faults its
 * CATALOG_FAULT_* bits (a root id of the wrong length is
 * CATALOG_FAULT_ROOT, a missing project — NULL p.name from a LEFT JOIN —
 * CATALOG_FAULT_ORPHAN), or -ENOMEM. */
static int snap_decode(sqlite3_stmt *st, struct snapshot *ret, unsigned *ret_faults)
{
	struct snapshot s = {
		.id = sqlite3_column_int64(st, 0),
		.project_id = sqlite3_column_int64(st, 1),
		.time_ns = sqlite3_column_int64(st, 4),
		.stats =
			{
				.files = (uint64_t)sqlite3_column_int64(st, 11),
				.dirs = (uint64_t)sqlite3_column_int64(st, 12),
				.bytes = (uint64_t)sqlite3_column_int64(st, 13),
				.new_blobs = (uint64_t)sqlite3_column_int64(st, 14),
				.new_bytes = (uint64_t)sqlite3_column_int64(st, 15),
				.read_bytes = (uint64_t)sqlite3_column_int64(st, 16),
				.duration_ns = sqlite3_column_int64(st, 17),
			},
		.trashed_at_ns = sqlite3_column_int64(st, 19),
		.expires_at_ns = sqlite3_column_int64(st, 20),
	};
	unsigned faults = 0;
	/* A status outside the enum must not reach a switch: read it as an
	 * int; validation judges it. */
	int64_t status = sqlite3_column_int64(st, 10);
	s.status = status < 0 || status > SNAP_DAMAGED ? (enum snap_status)(SNAP_DAMAGED + 1)
						       : (enum snap_status)status;
	const void *root = sqlite3_column_blob(st, 9);
	if (root && sqlite3_column_bytes(st, 9) == ID_BYTES)
		memcpy(s.root.b, root, ID_BYTES);
	else
		faults |= CATALOG_FAULT_ROOT; /* the schema's CHECK forbids it */
	if (cat_column_text(st, 2, &s.project) < 0 || cat_column_text(st, 3, &s.name) < 0 ||
	    cat_column_text(st, 5, &s.message) < 0 || cat_column_text(st, 6, &s.tag) < 0 ||
	    cat_column_text(st, 7, &s.git_commit) < 0 || cat_column_text(st, 8, &s.git_branch) < 0 ||
	    cat_column_text(st, 18, &s.notes) < 0 ||
	    (!s.project && sqlite3_column_type(st, 2) != SQLITE_NULL) ||
	    (!s.name && sqlite3_column_type(st, 3) != SQLITE_NULL)) {
		snapshot_clear(&s);
		return store_fail(-ENOMEM, "catalog: out of memory");
	}
	*ret_faults = faults | catalog_snapshot_faults(&s);
	*ret = s;
	return 0;
}

/* A cat_row_fn for struct snapshot: invalid rows are skipped (check
 * reports them). */
int cat_snap_from_row(struct repo *repo, sqlite3_stmt *st, void *ret)
{
	(void)repo;
	struct snapshot s;
	unsigned faults;
	int r = snap_decode(st, &s, &faults);
	if (r < 0)
		return r;
	if (faults) {
		snapshot_clear(&s);
		return CAT_ROW_SKIP;
	}
	*(struct snapshot *)ret = s;
	return 0;
}

int catalog_scan_snapshots(struct repo *repo, catalog_scan_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	cat_lock(repo);
	int rc = sqlite3_prepare_v2(
		repo->db,
		snap_sql(repo,
			 SNAP_SELECT_WITH(TRASH_COLS) " FROM snapshots s LEFT JOIN projects p"
						      " ON p.id = s.project_id ORDER BY s.id",
			 SNAP_SELECT_WITH(NO_TRASH_COLS) " FROM snapshots s LEFT JOIN projects p"
							 " ON p.id = s.project_id ORDER BY s.id"),
		-1, &st, NULL);
	int r = rc == SQLITE_OK ? 0 : cat_fail(repo, rc, "reading every snapshot");
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct snapshot s;
		unsigned faults;
		if ((r = snap_decode(st, &s, &faults)) < 0)
			break;
		r = fn(ctx, &s, faults);
		snapshot_clear(&s);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "reading every snapshot");
	sqlite3_finalize(st);
	cat_unlock(repo);
	return r;
}

static void clear_snapshot(void *s)
{
	snapshot_clear(s);
}

int catalog_snapshots(struct repo *repo, int64_t project_id, struct snapshot **ret, size_t *ret_n)
{
	sqlite3_stmt *st;
	void *v = NULL;
	size_t n = 0;
	cat_lock(repo);
	int r = cat_stmt(repo, CAT_Q_SNAPSHOTS,
			 snap_sql(repo, SNAP_LIVE("WHERE s.project_id = ?1", SNAP_ORDER)), &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, project_id);
		r = cat_rows(repo, st, "listing snapshots", sizeof(struct snapshot), cat_snap_from_row,
			     clear_snapshot, &v, &n);
	}
	cat_unlock(repo);
	if (r < 0)
		return r;
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Run a one-row snapshot query whose ?1 is bound by the caller and ?2 is
 * text (or NULL: integer i2).  Lock held.  -ENOENT with nothing recorded
 * when no row matches. */
static int snap_one_locked(struct repo *repo, enum cat_q q, const char *sql3, const char *sql2,
			   int64_t i1, const char *t2, int64_t i2, struct snapshot *ret)
{
	sqlite3_stmt *st;
	int r = cat_stmt(repo, q, snap_sql(repo, sql3, sql2), &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, i1);
	if (sqlite3_bind_parameter_count(st) >= 2 &&
	    (t2 ? cat_bind_text(st, 2, t2) : sqlite3_bind_int64(st, 2, i2)) != 0) {
		sqlite3_reset(st);
		return cat_fail(repo, SQLITE_NOMEM, "looking up a snapshot");
	}
	return cat_row(repo, st, "looking up a snapshot", cat_snap_from_row, ret);
}

static int snap_one(struct repo *repo, enum cat_q q, const char *sql3, const char *sql2,
		    int64_t i1, const char *t2, int64_t i2, struct snapshot *ret)
{
	cat_lock(repo);
	int r = snap_one_locked(repo, q, sql3, sql2, i1, t2, i2, ret);
	cat_unlock(repo);
	return r;
}

int catalog_snapshot_by_name(struct repo *repo, int64_t project_id, const char *name,
			     struct snapshot *ret)
{
	int r = snap_one(repo, CAT_Q_SNAP_BY_NAME,
			 SNAP_LIVE("WHERE s.project_id = ?1 AND s.name = ?2", ""),
			 project_id, name, 0, ret);
	if (r == -ENOENT)
		store_fail(r, "snapshot %s: no such snapshot", name);
	return r;
}

int catalog_snapshot_latest(struct repo *repo, int64_t project_id, struct snapshot *ret)
{
	int r = snap_one(repo, CAT_Q_SNAP_LATEST,
			 SNAP_LIVE("WHERE s.project_id = ?1", SNAP_ORDER), project_id, NULL,
			 0, ret);
	if (r == -ENOENT)
		store_fail(r, "project has no snapshots yet");
	return r;
}

int catalog_snapshot_at_or_before(struct repo *repo, int64_t project_id, int64_t t,
				  struct snapshot *ret)
{
	int r = snap_one(repo, CAT_Q_SNAP_AT_OR_BEFORE,
			 SNAP_LIVE("WHERE s.project_id = ?1 AND s.time_ns <= ?2", SNAP_ORDER),
			 project_id, NULL, t, ret);
	if (r == -ENOENT)
		store_fail(r, "no snapshot at or before that time");
	return r;
}

int catalog_snapshot_by_tag(struct repo *repo, int64_t project_id, const char *tag,
			    struct snapshot *ret)
{
	int r = snap_one(repo, CAT_Q_SNAP_BY_TAG,
			 SNAP_LIVE("WHERE s.project_id = ?1 AND s.tag = ?2", SNAP_ORDER),
			 project_id, tag, 0, ret);
	if (r == -ENOENT)
		store_fail(r, "tag %s: no snapshot carries it", tag);
	return r;
}

struct taken_ctx {
	struct repo *repo;
	int64_t project_id;
};

/* snapname_make's callback; runs inside the insert's transaction. */
static int name_taken(void *ctx, const char *name)
{
	struct taken_ctx *c = ctx;
	sqlite3_stmt *st;
	int r = cat_stmt(c->repo, CAT_Q_SNAP_NAME_TAKEN,
			 "SELECT 1 FROM snapshots WHERE project_id = ?1 AND name = ?2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, c->project_id);
	if (cat_bind_text(st, 2, name) < 0) {
		r = cat_fail(c->repo, SQLITE_NOMEM, "checking a snapshot name");
		goto out;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = cat_fail(c->repo, rc, "checking a snapshot name");
out:
	sqlite3_reset(st);
	return r;
}

static int bind_snapshot(sqlite3_stmt *st, const struct snapshot_new *s, const char *name)
{
	const struct snap_stats *k = &s->stats;
	if (sqlite3_bind_int64(st, 1, s->project_id) || cat_bind_text(st, 2, name) ||
	    sqlite3_bind_int64(st, 3, s->time_ns) || cat_bind_text(st, 4, s->message) ||
	    cat_bind_text(st, 5, s->tag) || cat_bind_text(st, 6, s->git_commit) ||
	    cat_bind_text(st, 7, s->git_branch) ||
	    sqlite3_bind_blob(st, 8, s->root.b, ID_BYTES, SQLITE_TRANSIENT) ||
	    sqlite3_bind_int(st, 9, (int)s->status) ||
	    sqlite3_bind_int64(st, 10, (int64_t)k->files) ||
	    sqlite3_bind_int64(st, 11, (int64_t)k->dirs) ||
	    sqlite3_bind_int64(st, 12, (int64_t)k->bytes) ||
	    sqlite3_bind_int64(st, 13, (int64_t)k->new_blobs) ||
	    sqlite3_bind_int64(st, 14, (int64_t)k->new_bytes) ||
	    sqlite3_bind_int64(st, 15, (int64_t)k->read_bytes) ||
	    sqlite3_bind_int64(st, 16, k->duration_ns) || cat_bind_text(st, 17, s->notes))
		return -ENOMEM;
	return 0;
}

int catalog_snapshot_insert(struct repo *repo, const struct snapshot_new *s, struct snapshot *ret)
{
	struct snapshot row = {0};
	struct taken_ctx tc = {repo, s->project_id};
	char name[SNAPNAME_MAX_LEN + 1];
	sqlite3_stmt *st;
	if ((unsigned)s->status > SNAP_DAMAGED)
		return store_fail(-EINVAL, "snapshot: invalid status %d", (int)s->status);
	cat_lock(repo);
	/* The name is chosen and inserted under the write lock of one
	 * transaction, so two writers can never pick the same one. */
	int r = cat_begin(repo);
	if (r < 0)
		goto out;
	/* A name the snapshot had before (its record, on repair or recover)
	 * is kept when it is free: names never change once shown. */
	r = 0;
	if (s->name && catalog_snapshot_name_ok(s->name) && strlen(s->name) <= SNAPNAME_MAX_LEN &&
	    (r = name_taken(&tc, s->name)) == 0)
		snprintf(name, sizeof name, "%s", s->name);
	else if (r >= 0)
		r = snapname_make(s->time_ns, name_taken, &tc, name);
	if (r < 0)
		goto rollback;
	r = cat_stmt(repo, CAT_Q_SNAP_INSERT,
		     "INSERT INTO snapshots(project_id, name, time_ns, message, tag, git_commit,"
		     " git_branch, root, status, files, dirs, bytes, new_blobs, new_bytes,"
		     " read_bytes, duration_ns, notes)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
		     &st);
	if (r < 0)
		goto rollback;
	if (bind_snapshot(st, s, name) < 0) {
		r = cat_fail(repo, SQLITE_NOMEM, "inserting a snapshot");
		goto rollback;
	}
	r = cat_run(repo, st, "inserting a snapshot");
	if (r < 0)
		goto rollback;
	r = snap_one_locked(repo, CAT_Q_SNAP_BY_ID, SNAP_ANY("WHERE s.id = ?1", ""),
			    sqlite3_last_insert_rowid(repo->db), NULL, 0, &row);
	if (r < 0) {
		if (r == -ENOENT)
			r = store_fail(-EIO, "%s/catalog.db: snapshot %s: not found after insert",
				       repo->path, name);
		goto rollback;
	}
	r = cat_commit(repo);
	if (r < 0)
		goto rollback;
	cat_unlock(repo);
	*ret = row;
	return 0;
rollback:
	cat_rollback(repo);
	snapshot_clear(&row);
out:
	cat_unlock(repo);
	return r;
}

int catalog_snapshot_next_name(struct repo *repo, int64_t project_id, int64_t time_ns,
			       char out[SNAPNAME_MAX_LEN + 1])
{
	struct taken_ctx tc = {repo, project_id};
	cat_lock(repo);
	int r = snapname_make(time_ns, name_taken, &tc, out);
	cat_unlock(repo);
	return r;
}
