/* check_repair.c — removing leftovers and re-creating lost snapshots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/catalog_internal.h"
#include "store/check_internal.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/repo_internal.h"
#include "store/snaprec.h"
#include "store/writer.h"
#include "store/writer_internal.h"

int check_repair_tmp(struct check_ctx *c)
{
	struct repo *repo = c->repo;
	/* We hold the writer lock: whatever tmp/ holds belongs to a writer
	 * that died. */
	int fd = openat(repo->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : store_failp(-errno, "%s/tmp", repo->path);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return store_failp(-errno, "%s/tmp", repo->path);
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0) {
			check_say(c, CHECK_NOTICE, "tmp/%s: cannot remove: %s", e->d_name,
				  strerror(errno));
			continue;
		}
		c->res->leftovers++;
		c->res->leftovers_removed++;
		check_say(c, CHECK_INFO, "repair: removed tmp/%s (left by an interrupted run)",
			  e->d_name);
	}
	closedir(d);
	return r;
}

static int cmp_rec_time(const void *a, const void *b)
{
	int64_t x = ((const struct snaprec *)a)->time_ns, y = ((const struct snaprec *)b)->time_ns;
	return x < y ? -1 : x > y;
}

static bool in_catalog(struct check_ctx *c, const struct snaprec *rec)
{
	for (size_t i = 0; i < c->nsnaps; i++)
		if (c->snaps[i].time_ns == rec->time_ns && id_equal(&c->snaps[i].root, &rec->root))
			return true;
	return false;
}

static int project_for(struct check_ctx *c, const struct snaprec *rec, int64_t *ret_id)
{
	struct project p = { 0 };
	int r = catalog_project_by_root(c->repo, rec->project_root, &p);
	if (r == -ENOENT) {
		r = catalog_project_register(c->repo, rec->project, rec->project_root, &p);
		if (r >= 0)
			check_say(c, CHECK_INFO, "repair: project %s (%s): re-created", rec->project,
				  rec->project_root);
	}
	if (r < 0)
		return r;
	*ret_id = p.id;
	project_clear(&p);
	return 0;
}

/* What check_repair_recover gathers from the records in packs. */
struct found {
	struct snaprec *recs; /* snapshots to re-create */
	size_t nrecs, cap;
	struct snaprec_state_rec *states; /* the newest state per snapshot */
	size_t nstates, scap;
};

static void found_clear(struct found *f)
{
	for (size_t i = 0; i < f->nrecs; i++)
		snaprec_clear(&f->recs[i]);
	free(f->recs);
	for (size_t i = 0; i < f->nstates; i++)
		snaprec_state_clear(&f->states[i]);
	free(f->states);
}

static struct snaprec_state_rec *state_of(struct found *f, int64_t time_ns, const blob_id *root)
{
	for (size_t i = 0; i < f->nstates; i++)
		if (f->states[i].time_ns == time_ns && id_equal(&f->states[i].root, root))
			return &f->states[i];
	return NULL;
}

/* Keep st if it is the newest state of its snapshot so far (takes it). */
static int keep_state(struct found *f, struct snaprec_state_rec *st)
{
	struct snaprec_state_rec *old = state_of(f, st->time_ns, &st->root);
	if (old) {
		if (snaprec_state_newer(st, old)) {
			snaprec_state_clear(old);
			*old = *st;
		} else {
			snaprec_state_clear(st);
		}
		return 0;
	}
	if (f->nstates == f->scap) {
		size_t ncap = f->scap ? 2 * f->scap : 16;
		struct snaprec_state_rec *nv = realloc(f->states, ncap * sizeof *nv);
		if (!nv) {
			snaprec_state_clear(st);
			return store_fail(-ENOMEM, "check: out of memory");
		}
		f->states = nv;
		f->scap = ncap;
	}
	f->states[f->nstates++] = *st;
	return 0;
}

/* Keep rec, a snapshot the catalog lacks (takes it). */
static int keep_rec(struct found *f, struct snaprec *rec)
{
	if (f->nrecs == f->cap) {
		size_t ncap = f->cap ? 2 * f->cap : 16;
		struct snaprec *nr = realloc(f->recs, ncap * sizeof *nr);
		if (!nr) {
			snaprec_clear(rec);
			return store_fail(-ENOMEM, "check: out of memory");
		}
		f->recs = nr;
		f->cap = ncap;
	}
	f->recs[f->nrecs++] = *rec;
	return 0;
}

/* Load and sort out one BLOB_SNAPSHOT blob.  Damage is reported and
 * skipped; only running out of memory or a catalog error fails. */
static int gather(struct check_ctx *c, const struct check_blob *b, struct found *f)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char hex[ID_HEX_LEN + 1];
	id_to_hex(&b->id, hex);
	store_error_clear();
	int rr = repo_load_blob(c->repo, &b->id, BLOB_SNAPSHOT, &data, &len);
	int kind = rr >= 0 ? snaprec_kind(data, len) : 0;
	struct snaprec rec;
	struct snaprec_state_rec st;
	if (rr >= 0) {
		rr = kind == 2 ? snaprec_state_decode(data, len, &st) : snaprec_decode(data, len, &rec);
		free(data);
	}
	if (rr == -ENOMEM)
		return rr;
	if (rr < 0) {
		check_say(c, CHECK_DAMAGE, "snapshot record %s: %s", hex,
			  store_error() ? store_error() : strerror(-rr));
		return 0;
	}
	if (kind == 2)
		return keep_state(f, &st);
	bool skip = in_catalog(c, &rec);
	int r = skip ? 0 : catalog_forgotten_has(c->repo, rec.time_ns, &rec.root, &skip);
	if (r < 0 || skip) {
		snaprec_clear(&rec);
		return r;
	}
	return keep_rec(f, &rec);
}

/* Insert one re-created snapshot in the state its newest state record
 * gives (none: live). */
static int recreate(struct check_ctx *c, const struct snaprec *rec,
		    const struct snaprec_state_rec *st)
{
	int64_t pid;
	int r = project_for(c, rec, &pid);
	if (r < 0)
		return r;
	struct snapshot_new sn = {
		.project_id = pid,
		.time_ns = rec->time_ns,
		.message = rec->message,
		.tag = rec->tag,
		.git_commit = rec->git_commit,
		.git_branch = rec->git_branch,
		.root = rec->root,
		.status = rec->status,
		.stats = rec->stats,
		.notes = rec->notes,
		.name = rec->name,
	};
	struct snapshot s = { 0 };
	if ((r = catalog_snapshot_insert(c->repo, &sn, &s)) < 0)
		return r;
	bool trashed = st && st->state == SNAPREC_TRASHED;
	if (trashed)
		r = catalog_trash_put(c->repo, &s.id, 1, st->trashed_at_ns, st->expires_at_ns);
	if (r >= 0) {
		c->res->snapshots_recovered++;
		check_say(c, CHECK_INFO, "repair: snapshot %s/%s: re-created from its record%s",
			  s.project ? s.project : rec->project, s.name ? s.name : "?",
			  trashed ? ", in the trash" : "");
	}
	snapshot_clear(&s);
	return r;
}

/* Snapshots recorded in packs but missing from the catalog (it was lost,
 * or a writer died between making its data durable and committing) are
 * inserted again, oldest first, so their names come out in order, each
 * in the state its newest state record gives (snaprec.h): in the trash
 * with its window, or live.  Not re-created: those the catalog has (a
 * trashed one is in c->snaps), those whose row left the trash for good
 * (the forgotten table here, an "emptied" state record from elsewhere). */
int check_repair_recover(struct check_ctx *c)
{
	struct found f = { 0 };
	int r = 0;
	for (size_t i = 0; i < c->nblobs && r >= 0; i++) {
		const struct check_blob *b = &c->blobs[i];
		if (b->type != BLOB_SNAPSHOT || b->bad || b->pack == UINT32_MAX ||
		    c->packs[b->pack].state != PACK_OK)
			continue;
		r = gather(c, b, &f);
	}
	if (r < 0)
		goto out;
	if (f.nrecs)
		qsort(f.recs, f.nrecs, sizeof *f.recs, cmp_rec_time);
	size_t made = 0;
	for (size_t i = 0; i < f.nrecs; i++) {
		const struct snaprec *rec = &f.recs[i];
		const struct snaprec_state_rec *st = state_of(&f, rec->time_ns, &rec->root);
		if (st && st->state == SNAPREC_EMPTIED)
			continue;
		if ((r = recreate(c, rec, st)) < 0)
			goto out;
		made++;
	}
	if (made)
		r = check_catalog_snapshots(c);
out:
	found_clear(&f);
	return r;
}

int check_repair_restore(struct check_ctx *c, const struct check_blob *other, uint8_t type)
{
	char hex[ID_HEX_LEN + 1];
	id_to_hex(&other->id, hex);
	int r = 0;
	if (!c->restore_writer && (r = writer_open(c->repo, &c->restore_writer)) < 0)
		goto fail;
	uint8_t *data = NULL;
	size_t len = 0;
	/* repo_load_blob re-hashes: the bytes stored under the other type are
	 * the bytes of this id, or the call fails. */
	if ((r = repo_load_blob(c->repo, &other->id, other->type, &data, &len)) < 0)
		goto fail;
	blob_id got;
	r = writer_put_blob(c->restore_writer, type, data, len, &got);
	free(data);
	if (r >= 0 && !id_equal(&got, &other->id))
		r = store_fail(-STORE_ECORRUPT, "blob %s: its bytes hash to another id", hex);
	if (r >= 0)
		r = writer_flush(c->restore_writer);
	if (r >= 0)
		r = check_idmap_put(&c->restored, &other->id,
				    check_idmap_get(&c->restored, &other->id) | (1u << type));
	if (r < 0)
		goto fail;
	c->res->blobs_restored++;
	check_say(c, CHECK_INFO, "repair: %s %s: stored again as a %s (it was stored only as a %s)",
		  type == BLOB_TREE ? "tree" : "chunk", hex, type == BLOB_TREE ? "tree" : "data chunk",
		  other->type == BLOB_TREE ? "tree" : "data chunk");
	return 0;
fail:
	check_say(c, CHECK_DAMAGE, "repair: blob %s: cannot store it again: %s", hex,
		  store_error() ? store_error() : strerror(-r));
	/* A writer that failed refuses everything after: start afresh. */
	writer_free(c->restore_writer);
	c->restore_writer = NULL;
	return r;
}
