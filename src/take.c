/* take.c — one snapshot of a project (see take.h). */
#include "src/take.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "dumpers/privsrv.h"
#include "dumpers/tmpdir.h"
#include "src/output.h"
#include "src/project.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/walk.h"
#include "store/writer.h"

/* Paths kept in the snapshot's notes; the count says how many there were. */
#define NOTES_MAX_PATHS 20

struct take_ctx {
	struct out_progress progress;
	char *notes_paths; /* JSON array items, comma-separated */
	size_t notes_len, notes_cap;
	uint64_t nwarn;
};

static void append(struct take_ctx *c, const char *s, size_t n)
{
	if (c->notes_len + n + 1 > c->notes_cap) {
		size_t cap = (c->notes_cap + n + 1) * 2;
		char *p = realloc(c->notes_paths, cap);
		if (!p)
			return; /* notes are best effort; the warning was printed */
		c->notes_paths = p;
		c->notes_cap = cap;
	}
	memcpy(c->notes_paths + c->notes_len, s, n);
	c->notes_len += n;
	c->notes_paths[c->notes_len] = '\0';
}

static void hook_warn(void *ctx, const char *relpath, int err, const char *what)
{
	struct take_ctx *c = ctx;
	out_progress_clear(&c->progress);
	char *p = out_printable(relpath);
	if (err)
		out_err("%s: %s: %s", p ? p : relpath, what, strerror(-err));
	else
		out_err("%s: %s", p ? p : relpath, what);
	free(p);
	if (c->nwarn++ < NOTES_MAX_PATHS) {
		char *item = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&item, &len);
		if (f) {
			fputs(c->nwarn > 1 ? ", {\"path\": " : "{\"path\": ", f);
			out_json_str(f, relpath);
			fputs(", \"what\": ", f);
			out_json_str(f, what);
			fputs(", \"error\": ", f);
			out_json_str(f, err ? strerror(-err) : NULL);
			fputs("}", f);
			fclose(f);
			append(c, item, len);
		}
		free(item);
	}
}

static void hook_progress(void *ctx, const struct walk_progress *p)
{
	struct take_ctx *c = ctx;
	if (!c->progress.enabled)
		return;
	char files[OUT_BUF], bytes[OUT_BUF], read[OUT_BUF];
	char *cur = p->current ? out_printable(p->current) : NULL;
	out_progress_update(&c->progress, "%s files  %s  (%s read)  %s", out_count(p->files, files),
			    out_size(p->bytes, bytes), out_size(p->read_bytes, read), cur ? cur : "");
	free(cur);
}

/* Folder name of root, the default project name. */
static const char *base_name(const char *root)
{
	const char *b = strrchr(root, '/');
	return b && b[1] ? b + 1 : "root";
}

static int find_or_register(struct repo *repo, const struct take_req *req, struct project *ret)
{
	int r = catalog_project_by_root(repo, req->root, ret);
	if (r == 0) {
		if (req->name && strcmp(req->name, ret->name) != 0) {
			r = store_fail(-EEXIST, "%s: already registered as project '%s'", req->root,
				       ret->name);
			project_clear(ret);
		}
		return r;
	}
	if (r != -ENOENT)
		return r;
	return catalog_project_register(repo, req->name ? req->name : base_name(req->root),
					req->root, ret);
}

uint64_t take_sweep_db_temps(bool quiet)
{
	/* A private drill server whose ckptfs was killed would otherwise run
	 * until the next full drill, which may be a month away. */
	struct dumper_privsrv_reaped reaped = {0};
	if (dumper_privsrv_reap(&reaped) < 0)
		store_error_clear();
	if (reaped.stopped && !quiet)
		printf("stopped %u private drill %s left by killed runs\n", reaped.stopped,
		       reaped.stopped == 1 ? "server" : "servers");
	struct dumper_tmp_swept sw = {0};
	if (dumper_tmp_sweep(&sw) < 0) {
		store_error_clear();
		return 0;
	}
	if (sw.dirs && !quiet) {
		char a[OUT_BUF], b[OUT_BUF];
		printf("removed %s database temp %s left by killed snaps in %s (%s)\n", out_count(sw.dirs, a),
		       sw.dirs == 1 ? "dir" : "dirs", dumper_tmp_base(), out_size(sw.bytes, b));
	}
	return sw.dirs;
}

/* One snapshot in the making: what each step leaves for the next. */
struct take_run {
	struct take_ctx ctx;
	struct project proj;
	struct snapshot parent;
	bool have_parent;
	char *commit, *branch;  /* git HEAD, NULL when none */
	struct dumper_session *ds;
	struct writer *w;
	struct walk_result wr;
	struct dumper_result dres;
	char *notes;            /* the snapshot's notes JSON, NULL when none */
	int64_t t0, start_ns;   /* monotonic start, wall-clock snapshot time */
};

/* The project (registered on first use), its latest snapshot as the
 * parent, and git HEAD. */
static int take_begin(struct repo *repo, const struct take_req *req, struct take_run *t)
{
	t->t0 = out_mono_ns();
	t->start_ns = out_now_ns();
	take_sweep_db_temps(req->quiet);
	out_progress_init(&t->ctx.progress, req->quiet);
	int r = find_or_register(repo, req, &t->proj);
	if (r < 0)
		return r;
	r = catalog_snapshot_latest(repo, t->proj.id, &t->parent);
	if (r < 0 && r != -ENOENT)
		return r;
	t->have_parent = r == 0;
	/* Git HEAD is a nice-to-have: a confusing .git must not stop a backup. */
	if (proj_git_head(req->root, &t->commit, &t->branch) < 0) {
		t->commit = t->branch = NULL;
		store_error_clear();
	}
	return 0;
}

/* Databases, then the walk: server dumps first (into the @databases
 * folder the walk adds at the root), SQLite files as the walk meets them. */
static int take_capture(struct repo *repo, const struct take_req *req, struct take_run *t)
{
	int r = dumper_session_new(req->root, &t->ds);
	if (r < 0)
		return r;
	if (t->have_parent)
		dumper_session_set_parent(t->ds, repo, &t->parent.root, t->parent.time_ns,
					  t->parent.notes, repo_snapshot_is_legacy(repo, t->parent.id));
	dumper_session_set_drill_full(t->ds, req->drill_full);
	struct walk_hooks outer = {.ctx = &t->ctx, .warn = hook_warn, .progress = hook_progress}, hooks;
	dumper_session_hooks(t->ds, &outer, &hooks);
	if ((r = writer_open(repo, &t->w)) < 0 || (r = dumper_session_dump(t->ds, t->w)) < 0)
		return r;
	size_t nextra;
	const struct node *extra = dumper_session_extra(t->ds, &nextra);
	struct walk_opts opts = {
		.root = req->root,
		.parent_root = t->have_parent ? &t->parent.root : NULL,
		.parent_time_ns = t->have_parent ? t->parent.time_ns : 0,
		.verify_reused = t->have_parent && repo_snapshot_is_legacy(repo, t->parent.id),
		.excludes = req->excludes,
		.nexcludes = req->nexcludes,
		.hooks = &hooks,
		.extra_root = extra,
		.nextra = nextra,
	};
	r = walk_run(t->w, &opts, &t->wr);
	out_progress_clear(&t->ctx.progress);
	if (r == 0)
		r = dumper_session_result(t->ds, &t->dres);
	return r;
}

/* The notes: the walk's warnings (first NOTES_MAX_PATHS paths) and what
 * the databases' capture recorded. */
static int take_notes(struct take_run *t)
{
	int r = 0;
	char *dbnotes = dumper_session_notes(t->ds, &r);
	if (!dbnotes && r < 0)
		return r;
	r = 0;
	if (t->ctx.nwarn || dbnotes) {
		const char *paths = t->ctx.notes_paths ? t->ctx.notes_paths : "";
		int n = t->ctx.nwarn ? asprintf(&t->notes, "{\"warnings\": %llu, \"paths\": [%s]%s%s}",
						(unsigned long long)t->ctx.nwarn, paths,
						dbnotes ? ", " : "", dbnotes ? dbnotes : "")
				     : asprintf(&t->notes, "{%s}", dbnotes);
		if (n < 0) {
			t->notes = NULL;
			r = -ENOMEM;
		}
	}
	free(dbnotes);
	return r;
}

/* A database not captured as it is (refused dump, raw SQLite copy,
 * failed drill) makes the snapshot partial, like an unreadable file. */
static bool take_partial(const struct take_run *t)
{
	return t->wr.partial || t->dres.refused || t->dres.inconsistent || t->dres.drill_failed;
}

static int take_commit(const struct take_req *req, struct take_run *t, struct snapshot *snap)
{
	struct snapshot_new sn = {
		.project_id = t->proj.id,
		.time_ns = t->start_ns,
		.message = req->message,
		.tag = req->tag,
		.git_commit = t->commit,
		.git_branch = t->branch,
		.root = t->wr.root,
		.status = take_partial(t) ? SNAP_PARTIAL : SNAP_COMPLETE,
		.stats = {.files = t->wr.files, .dirs = t->wr.dirs, .bytes = t->wr.bytes,
			  .read_bytes = t->wr.read_bytes, .duration_ns = out_mono_ns() - t->t0},
		.notes = t->notes,
	};
	int r = writer_commit(t->w, &sn, snap);
	if (r < 0)
		return r;
	/* After the commit: the snapshot is there, these say what it lacks. */
	for (size_t i = 0; i < t->dres.nproblems; i++)
		out_err("%s", t->dres.problems[i]);
	/* Skipped (not running in docker): one line each, not a failure. */
	for (size_t i = 0; i < t->dres.nnotices && !req->quiet; i++)
		out_err("%s", t->dres.notices[i]);
	return 0;
}

static void take_run_clear(struct take_run *t)
{
	out_progress_clear(&t->ctx.progress);
	writer_free(t->w);
	dumper_session_free(t->ds);
	free(t->notes);
	free(t->commit);
	free(t->branch);
	free(t->ctx.notes_paths);
	snapshot_clear(&t->parent);
	project_clear(&t->proj);
}

int take_snapshot(struct repo *repo, const struct take_req *req, struct take_result *ret)
{
	struct take_run t = {0};
	struct snapshot snap = {0};
	int r;
	if ((r = take_begin(repo, req, &t)) == 0 && (r = take_capture(repo, req, &t)) == 0 &&
	    (r = take_notes(&t)) == 0 && (r = take_commit(req, &t, &snap)) == 0) {
		ret->project = t.proj;
		ret->snap = snap;
		ret->wall_ns = out_mono_ns() - t.t0;
		ret->warnings = t.ctx.nwarn;
		ret->partial = take_partial(&t);
		ret->db_problems = t.dres.nproblems;
		ret->db_skipped = t.dres.nnotices;
		memset(&t.proj, 0, sizeof t.proj);
	}
	take_run_clear(&t);
	return r;
}

void take_result_clear(struct take_result *r)
{
	project_clear(&r->project);
	snapshot_clear(&r->snap);
}

void take_print_summary(const struct take_result *r)
{
	char files[OUT_BUF], size[OUT_BUF], added[OUT_BUF], dur[OUT_BUF];
	const struct snapshot *s = &r->snap;
	printf("%s %s  %s %s  %s  +%s new  %s", s->project ? s->project : r->project.name,
	       s->name, out_count(s->stats.files, files), s->stats.files == 1 ? "file" : "files",
	       out_size(s->stats.bytes, size),
	       out_size(s->stats.new_bytes, added), out_duration(r->wall_ns, dur));
	if (r->partial && (r->warnings || !r->db_problems))
		printf("  partial: %llu %s", (unsigned long long)r->warnings,
		       r->warnings == 1 ? "path not stored as it is" : "paths not stored as they are");
	if (r->partial && r->db_problems)
		printf("%s%zu %s", r->warnings ? ", " : "  partial: ", r->db_problems,
		       r->db_problems == 1 ? "database not captured as it is"
					   : "databases not captured as they are");
	putchar('\n');
}
