/* check_catalog.c — the catalog queries of check and repair.
 *
 * check reads the whole blob index and pack list at once (two scans), not
 * one lookup per chunk: a repository of a million chunks is checked in a
 * second instead of a minute.  Every use of repo->db holds repo->db_lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog_db.h"
#include "store/catalog_internal.h"
#include "store/check_internal.h"
#include "store/err.h"
#include "store/repo_internal.h"

int check_catalog_quick(struct check_ctx *c, bool *ret_ok)
{
	struct repo *repo = c->repo;
	pthread_mutex_lock(&repo->db_lock);
	sqlite3_stmt *st = NULL;
	int r = 0;
	bool ok = true;
	int rc = sqlite3_prepare_v2(repo->db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		/* A database too damaged to prepare a pragma is damage, not a
		 * failure to check. */
		check_say(c, CHECK_DAMAGE, "catalog %s/catalog.db: %s", repo->path,
			  sqlite3_errmsg(repo->db));
		ok = false;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		if (line && strcmp(line, "ok") != 0) {
			check_say(c, CHECK_DAMAGE, "catalog %s/catalog.db: %s", repo->path, line);
			ok = false;
		}
	}
	if (rc != SQLITE_DONE) {
		check_say(c, CHECK_DAMAGE, "catalog %s/catalog.db: %s", repo->path,
			  sqlite3_errmsg(repo->db));
		ok = false;
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	*ret_ok = ok;
	return r;
}

int check_catalog_snapshots(struct check_ctx *c)
{
	struct project *projects = NULL;
	size_t nprojects = 0;
	snapshots_free(c->snaps, c->nsnaps);
	c->snaps = NULL;
	c->nsnaps = 0;
	int r = catalog_projects(c->repo, &projects, &nprojects);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nprojects; i++) {
		struct snapshot *s = NULL;
		size_t n = 0;
		r = catalog_snapshots(c->repo, projects[i].id, &s, &n);
		if (r < 0)
			break;
		struct snapshot *all = realloc(c->snaps, (c->nsnaps + n + 1) * sizeof *all);
		if (!all) {
			snapshots_free(s, n);
			r = store_fail(-ENOMEM, "check: out of memory");
			break;
		}
		c->snaps = all;
		/* Oldest first: damage is reported in the order it happened. */
		for (size_t j = 0; j < n; j++)
			c->snaps[c->nsnaps + j] = s[n - 1 - j];
		c->nsnaps += n;
		free(s);
	}
	projects_free(projects, nprojects);
	if (r < 0)
		return r;
	/* The trash too (check_trees.c says how its damage counts), and
	 * check --repair does not re-create a trashed snapshot from its
	 * record (check_repair.c looks here). */
	struct snapshot *t = NULL;
	size_t nt = 0;
	if ((r = catalog_trash_list(c->repo, 0, &t, &nt)) < 0 || nt == 0)
		return r;
	struct snapshot *all = realloc(c->snaps, (c->nsnaps + nt) * sizeof *all);
	if (!all) {
		snapshots_free(t, nt);
		return store_fail(-ENOMEM, "check: out of memory");
	}
	c->snaps = all;
	memcpy(c->snaps + c->nsnaps, t, nt * sizeof *t);
	c->nsnaps += nt;
	free(t);
	return 0;
}

int check_catalog_blobs(struct check_ctx *c)
{
	struct repo *repo = c->repo;
	free(c->blobs);
	c->blobs = NULL;
	c->nblobs = 0;
	size_t cap = 0;
	int r = 0;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&repo->db_lock);
	/* blobs is WITHOUT ROWID keyed by (id, type): this scan comes out in
	 * id_type_cmp order, which check_blob_find's binary search relies on
	 * (ORDER BY costs nothing then, and keeps a schema-1 catalog right). */
	int rc = sqlite3_prepare_v2(repo->db,
				    "SELECT id, pack_id, offset, length, raw_length, type, xxh "
				    "FROM blobs ORDER BY id, type",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "reading the blob index");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != ID_BYTES)
			continue; /* the schema's CHECK forbids it; quick_check reports */
		if (c->nblobs == cap) {
			size_t ncap = cap ? 2 * cap : 4096;
			struct check_blob *nb = realloc(c->blobs, ncap * sizeof *nb);
			if (!nb) {
				r = store_fail(-ENOMEM, "check: out of memory");
				goto out;
			}
			c->blobs = nb;
			cap = ncap;
		}
		struct check_blob *b = &c->blobs[c->nblobs++];
		memset(b, 0, sizeof *b);
		memcpy(b->id.b, sqlite3_column_blob(st, 0), ID_BYTES);
		b->pack_dbid = sqlite3_column_int64(st, 1);
		b->pack = UINT32_MAX;
		b->offset = (uint64_t)sqlite3_column_int64(st, 2);
		b->length = (uint32_t)sqlite3_column_int64(st, 3);
		b->raw_length = (uint32_t)sqlite3_column_int64(st, 4);
		b->type = (uint8_t)sqlite3_column_int(st, 5);
		b->xxh = (uint64_t)sqlite3_column_int64(st, 6);
	}
	if (rc != SQLITE_DONE)
		r = cat_fail(repo, rc, "reading the blob index");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	return r;
}

/* A cat_row_fn for struct check_pack. */
static int pack_from_row(struct repo *repo, sqlite3_stmt *st, void *ret)
{
	(void)repo;
	struct check_pack *p = ret;
	memset(p, 0, sizeof *p);
	p->dbid = sqlite3_column_int64(st, 0);
	const char *name = (const char *)sqlite3_column_text(st, 1);
	snprintf(p->name, sizeof p->name, "%s", name ? name : "");
	p->size = (uint64_t)sqlite3_column_int64(st, 2);
	p->count = (uint64_t)sqlite3_column_int64(st, 3);
	return 0;
}

static void pack_clear(void *elem)
{
	(void)elem;
}

int check_catalog_packs(struct check_ctx *c)
{
	struct repo *repo = c->repo;
	free(c->packs);
	c->packs = NULL;
	c->npacks = 0;
	sqlite3_stmt *st = NULL;
	void *packs = NULL;
	size_t npacks = 0;
	pthread_mutex_lock(&repo->db_lock);
	/* Sorted by packs.id: the binary search below relies on it. */
	int rc = sqlite3_prepare_v2(repo->db, "SELECT id, name, size, count FROM packs ORDER BY id",
				    -1, &st, NULL);
	int r = rc != SQLITE_OK ? cat_fail(repo, rc, "reading the pack list")
				: cat_rows(repo, st, "reading the pack list", sizeof(struct check_pack),
					   pack_from_row, pack_clear, &packs, &npacks);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	if (r < 0)
		return r;
	c->packs = packs;
	c->npacks = npacks;
	/* Resolve each blob's pack. */
	for (size_t i = 0; i < c->nblobs; i++) {
		size_t lo = 0, hi = c->npacks;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (c->packs[mid].dbid < c->blobs[i].pack_dbid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < c->npacks && c->packs[lo].dbid == c->blobs[i].pack_dbid)
			c->blobs[i].pack = (uint32_t)lo;
	}
	return 0;
}

/* Run one statement with bound values; no rows expected. */
static int run(struct repo *repo, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : cat_fail(repo, rc, what);
}

int check_catalog_mark_damaged(struct check_ctx *c, int64_t snapshot_id)
{
	struct repo *repo = c->repo;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&repo->db_lock);
	int rc = sqlite3_prepare_v2(repo->db, "UPDATE snapshots SET status = ?1 WHERE id = ?2", -1,
				    &st, NULL);
	int r;
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "marking a snapshot damaged");
	} else {
		sqlite3_bind_int(st, 1, SNAP_DAMAGED);
		sqlite3_bind_int64(st, 2, snapshot_id);
		r = run(repo, st, "marking a snapshot damaged");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	return r;
}

int check_catalog_fix_row(struct check_ctx *c, int64_t pack_dbid, const struct pack_entry *e)
{
	struct repo *repo = c->repo;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&repo->db_lock);
	int rc = sqlite3_prepare_v2(repo->db,
				    "UPDATE blobs SET pack_id = ?2, offset = ?3, length = ?4, "
				    "raw_length = ?5, xxh = ?7 WHERE id = ?1 AND type = ?6",
				    -1, &st, NULL);
	int r;
	if (rc != SQLITE_OK) {
		r = cat_fail(repo, rc, "repairing the blob index");
	} else {
		sqlite3_bind_blob(st, 1, e->id.b, ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, pack_dbid);
		sqlite3_bind_int64(st, 3, (int64_t)e->offset);
		sqlite3_bind_int64(st, 4, e->length);
		sqlite3_bind_int64(st, 5, e->raw_length);
		sqlite3_bind_int(st, 6, e->type);
		sqlite3_bind_int64(st, 7, (int64_t)e->xxh);
		r = run(repo, st, "repairing the blob index");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&repo->db_lock);
	return r;
}

int check_catalog_reset(struct check_ctx *c)
{
	struct repo *repo = c->repo;
	char aside[64];
	snprintf(aside, sizeof aside, "catalog.db.damaged-%lld", (long long)time(NULL));
	catalog_close(repo);
	/* Keep the damaged file (and its WAL, which may hold the newest
	 * commits) for a human to look at; never delete it. */
	if (renameat(repo->dirfd, "catalog.db", repo->dirfd, aside) < 0 && errno != ENOENT)
		return store_failp(-errno, "%s/catalog.db: moving it aside", repo->path);
	static const char *const sfx[] = { "-wal", "-shm" };
	for (size_t i = 0; i < 2; i++) {
		char from[32], to[96];
		snprintf(from, sizeof from, "catalog.db%s", sfx[i]);
		snprintf(to, sizeof to, "%s%s", aside, sfx[i]);
		if (renameat(repo->dirfd, from, repo->dirfd, to) < 0 && errno != ENOENT)
			return store_failp(-errno, "%s/%s: moving it aside", repo->path, from);
	}
	check_say(c, CHECK_INFO, "repair: damaged catalog moved to %s/%s; rebuilding it from the packs",
		  repo->path, aside);
	return catalog_init(repo);
}
