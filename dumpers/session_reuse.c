/* session_reuse.c — not copying a SQLite database that has not changed.
 *
 * The walk's files cache never reuses a database capture (flagged
 * entries are always offered to the capture hook again), because a WAL
 * database's main file keeps its stat while its -wal changes.  This is the
 * database-aware version of that cache: reuse only when nothing can have
 * changed — no -journal beside the file (no rollback-journal transaction
 * under way), the file's identity and times equal to the parent's entry,
 * and its -wal either absent now and then, or present now and then with
 * the same inode, size, mtime and ctime as the parent recorded (every
 * commit in WAL mode writes the -wal; a checkpoint writes the main file);
 * those mtimes (and the main file's ctime) well before the parent
 * snapshot started (a write in the same clock tick would not move them);
 * and the parent's drill of it passed.  The -wal's ctime is compared, not
 * aged: opening the database moves it when ckptfs runs as root (session.c
 * records it after the copy, when nothing was written during it).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/json_lite.h"
#include "dumpers/session.h"
#include "store/blob.h"
#include "store/err.h"
#include "store/repo.h"

/* Times this close to the parent's start are not trusted (Linux stamps
 * files from a clock that lags by a jiffy; whole-second filesystems). */
#define REUSE_RACY_NS (2 * 1000 * 1000 * 1000LL)

void dumper_session_set_parent(struct dumper_session *s, struct repo *repo, const blob_id *root,
			       int64_t time_ns, const char *notes, bool legacy)
{
	s->repo = repo;
	s->parent_root = root;
	s->parent_time_ns = time_ns;
	s->parent_notes = notes;
	s->parent_legacy = legacy;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static bool side_file(const struct dumper_session *s, const char *relpath, const char *sfx)
{
	char p[PATH_MAX];
	struct stat st;
	if (snprintf(p, sizeof p, "%s/%s%s", s->root, relpath, sfx) >= (int)sizeof p)
		return true; /* cannot tell: capture */
	return lstat(p, &st) == 0 || errno != ENOENT;
}

/* The parent's record of relpath, if it passed its drill and lists every
 * table: moved into d. */
static int parent_record(const struct dumper_session *s, const char *relpath, struct dumper_db *d)
{
	struct jv v;
	int r = jv_parse(s->parent_notes, &v);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	const struct jv *dbs = jv_get(&v, "databases"), *rec = NULL;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n && !rec; i++) {
		const char *n = jv_str(&dbs->items[i], "name"), *k = jv_str(&dbs->items[i], "kind");
		if (n && k && !strcmp(n, relpath) && !strcmp(k, "sqlite"))
			rec = &dbs->items[i];
	}
	const struct jv *t = rec ? jv_get(rec, "tables") : NULL;
	const char *check = rec ? jv_str(rec, "check") : NULL;
	r = 0;
	if (!rec || !jv_bool(rec, "ok") || jv_bool(rec, "inconsistent") || !t || t->t != J_ARR ||
	    jv_num(rec, "ntables", -1) != (double)t->n || !check)
		goto out;
	static const char *const hows[] = {"integrity_check", "quick_check"};
	d->how = NULL;
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(check, hows[i]))
			d->how = hows[i];
	if (!d->how)
		goto out;
	r = -ENOMEM;
	if (t->n && !(d->tables = calloc(t->n, sizeof *d->tables)))
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		const struct jv *e = &t->items[i];
		if (e->t != J_ARR || e->n != 2 || e->items[0].t != J_STR) {
			r = 0;
			goto out;
		}
		if (!(d->tables[d->ntables].name = strdup(e->items[0].s)))
			goto out;
		d->tables[d->ntables++].rows = e->items[1].t == J_NUM ? (int64_t)e->items[1].num : -1;
	}
	const struct jv *sc = jv_get(rec, "schema");
	const char *tool = sc ? jv_str(sc, "tool") : NULL, *version = sc ? jv_str(sc, "version") : NULL;
	if ((tool && !(d->schema.tool = strdup(tool))) ||
	    (tool && version && !(d->schema.version = strdup(version))))
		goto out; /* r is -ENOMEM */
	const char *wal = jv_str(rec, "wal");
	unsigned long long ino, size;
	long long mt, ct;
	char end;
	if (wal && sscanf(wal, "%llu:%llu:%lld:%lld%c", &ino, &size, &mt, &ct, &end) != 4) {
		r = 0; /* a record this version cannot read: capture */
		goto out;
	}
	d->have_wal = wal != NULL;
	d->src_size = (int64_t)jv_num(rec, "src_size", -1);
	if (wal)
		d->wal = (struct dumper_file_stamp){ .ino = ino, .size = size, .mtime_ns = mt,
						     .ctime_ns = ct };
	if (!(d->check = strdup("ok")))
		goto out;
	r = 1;
out:
	jv_clear(&v);
	return r;
}

int dumper_session_reuse(struct dumper_session *s, const char *relpath, const struct stat *st,
			 struct node *node)
{
	if (!s->repo || !s->parent_root || !s->parent_notes)
		return 0;
	int64_t mt = ts_ns(&st->st_mtim), ct = ts_ns(&st->st_ctim);
	if (mt > s->parent_time_ns - REUSE_RACY_NS || ct > s->parent_time_ns - REUSE_RACY_NS ||
	    side_file(s, relpath, "-journal"))
		return 0;
	char walp[PATH_MAX];
	struct stat wst;
	if (snprintf(walp, sizeof walp, "%s/%s-wal", s->root, relpath) >= (int)sizeof walp)
		return 0;
	bool have_wal = lstat(walp, &wst) == 0;
	if (!have_wal && errno != ENOENT)
		return 0; /* cannot tell */
	struct dumper_file_stamp wal = {0};
	if (have_wal) {
		if (!S_ISREG(wst.st_mode))
			return 0;
		dumper_file_stamp(&wst, &wal);
		/* Every commit writes the -wal, so its mtime must be old; its
		 * ctime may be the parent's own doing (session.c) and must equal
		 * the stamp taken after that capture. */
		if (wal.mtime_ns > s->parent_time_ns - REUSE_RACY_NS)
			return 0;
	}
	struct node prev = {0};
	int r = tree_resolve(s->repo, s->parent_root, relpath, &prev);
	if (r < 0) {
		store_error_clear();
		return r == -ENOMEM ? r : 0;
	}
	struct dumper_db d = {.kind = "sqlite", .method = "unchanged", .ok = true, .entries = -1,
			      .src_size = -1};
	r = 0;
	if (prev.type != NODE_FILE || prev.flags != NODE_F_DB_COPY || prev.dev != (uint64_t)st->st_dev ||
	    prev.ino != (uint64_t)st->st_ino || prev.mtime_ns != mt || prev.ctime_ns != ct)
		goto out;
	/* A schema-1 parent may name chunks stored only as trees
	 * (catalog_schema.c): then capture again.  A later parent's chunks
	 * were each checked when its tree was stored (writer_put_tree) and
	 * stay while it exists; looking up all of them again (one per page:
	 * 49,000 for a 200 MB database, most of a cold re-snap) is not
	 * needed. */
	for (size_t i = 0; s->parent_legacy && i < prev.nchunks; i++)
		if (!repo_has_blob(s->repo, &prev.chunks[i].id, BLOB_DATA))
			goto out;
	if ((r = parent_record(s, relpath, &d)) <= 0)
		goto out;
	/* The database file's own size: recorded (the copy of a WAL database
	 * is larger), or in older records the copy's, which then equals it. */
	if ((d.src_size >= 0 ? (uint64_t)d.src_size : prev.size) != (uint64_t)st->st_size ||
	    d.have_wal != have_wal ||
	    (have_wal && (d.wal.ino != wal.ino || d.wal.size != wal.size ||
			  d.wal.mtime_ns != wal.mtime_ns || d.wal.ctime_ns != wal.ctime_ns))) {
		r = 0;
		goto out;
	}
	r = -ENOMEM;
	struct node_chunk *ch = NULL;
	if (prev.nchunks && !(ch = malloc(prev.nchunks * sizeof *ch)))
		goto out;
	if (prev.nchunks)
		memcpy(ch, prev.chunks, prev.nchunks * sizeof *ch);
	if (!(d.name = strdup(relpath)) || !(d.file = strdup(relpath))) {
		free(ch);
		goto out;
	}
	free(node->chunks);
	node->chunks = ch;
	node->nchunks = prev.nchunks;
	node->size = prev.size;
	node->flags |= NODE_F_DB_COPY;
	d.bytes = prev.size;
	s->res.sqlite++;
	s->res.reused++;
	if ((r = dumper_session_add_db(s, &d)) == 0)
		r = 1;
out:
	dumper_db_clear(&d);
	node_clear(&prev);
	return r;
}
