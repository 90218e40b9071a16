/* take.c — one snapshot of a project (see take.h). */
#include "src/take.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
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

int take_snapshot(struct repo *repo, const struct take_req *req, struct take_result *ret)
{
	struct take_ctx ctx = {0};
	struct project proj = {0};
	struct snapshot parent = {0}, snap = {0};
	struct writer *w = NULL;
	struct dumper_session *ds = NULL;
	char *commit = NULL, *branch = NULL, *notes = NULL, *dbnotes = NULL;
	bool have_parent = false;
	int64_t t0 = out_mono_ns();
	int64_t start = out_now_ns();
	int r;

	take_sweep_db_temps(req->quiet);
	out_progress_init(&ctx.progress, req->quiet);
	if ((r = find_or_register(repo, req, &proj)) < 0)
		goto out;
	r = catalog_snapshot_latest(repo, proj.id, &parent);
	if (r < 0 && r != -ENOENT)
		goto out;
	have_parent = r == 0;
	/* Git HEAD is a nice-to-have: a confusing .git must not stop a backup. */
	if (proj_git_head(req->root, &commit, &branch) < 0) {
		commit = branch = NULL;
		store_error_clear();
	}
	/* Databases: server dumps first (into the @databases folder the walk
	 * adds at the root), SQLite files as the walk meets them. */
	if ((r = dumper_session_new(req->root, &ds)) < 0)
		goto out;
	if (have_parent)
		dumper_session_set_parent(ds, repo, &parent.root, parent.time_ns, parent.notes);
	struct walk_hooks outer = {.ctx = &ctx, .warn = hook_warn, .progress = hook_progress}, hooks;
	dumper_session_hooks(ds, &outer, &hooks);
	if ((r = writer_open(repo, &w)) < 0)
		goto out;
	if ((r = dumper_session_dump(ds, w)) < 0)
		goto out;

	size_t nextra;
	const struct node *extra = dumper_session_extra(ds, &nextra);
	struct walk_opts opts = {
		.root = req->root,
		.parent_root = have_parent ? &parent.root : NULL,
		.parent_time_ns = have_parent ? parent.time_ns : 0,
		.verify_reused = have_parent && repo_snapshot_is_legacy(repo, parent.id),
		.excludes = req->excludes,
		.nexcludes = req->nexcludes,
		.hooks = &hooks,
		.extra_root = extra,
		.nextra = nextra,
	};
	struct walk_result wr = {0};
	r = walk_run(w, &opts, &wr);
	out_progress_clear(&ctx.progress);
	if (r < 0)
		goto out;

	struct dumper_result dres;
	dumper_session_result(ds, &dres);
	/* A database not captured as it is (refused dump, raw SQLite copy,
	 * failed drill) makes the snapshot partial, like an unreadable file. */
	bool partial = wr.partial || dres.refused || dres.inconsistent || dres.drill_failed;
	if ((dbnotes = dumper_session_notes(ds, &r)) == NULL && r < 0)
		goto out;
	if (ctx.nwarn || dbnotes) {
		int n = ctx.nwarn ? asprintf(&notes, "{\"warnings\": %llu, \"paths\": [%s]%s%s}",
					     (unsigned long long)ctx.nwarn,
					     ctx.notes_paths ? ctx.notes_paths : "", dbnotes ? ", " : "",
					     dbnotes ? dbnotes : "")
				  : asprintf(&notes, "{%s}", dbnotes);
		if (n < 0) {
			r = -ENOMEM;
			notes = NULL;
			goto out;
		}
	}
	struct snapshot_new sn = {
		.project_id = proj.id,
		.time_ns = start,
		.message = req->message,
		.tag = req->tag,
		.git_commit = commit,
		.git_branch = branch,
		.root = wr.root,
		.status = partial ? SNAP_PARTIAL : SNAP_COMPLETE,
		.stats = {.files = wr.files, .dirs = wr.dirs, .bytes = wr.bytes,
			  .read_bytes = wr.read_bytes, .duration_ns = out_mono_ns() - t0},
		.notes = notes,
	};
	if ((r = writer_commit(w, &sn, &snap)) < 0)
		goto out;
	/* After the commit: the snapshot is there, these say what it lacks. */
	for (size_t i = 0; i < dres.nproblems; i++)
		out_err("%s", dres.problems[i]);
	/* Skipped (not running in docker): one line each, not a failure. */
	for (size_t i = 0; i < dres.nnotices && !req->quiet; i++)
		out_err("%s", dres.notices[i]);

	ret->project = proj;
	ret->snap = snap;
	ret->wall_ns = out_mono_ns() - t0;
	ret->warnings = ctx.nwarn;
	ret->partial = partial;
	ret->db_problems = dres.nproblems;
	ret->db_skipped = dres.nnotices;
	memset(&proj, 0, sizeof proj);
	r = 0;
out:
	out_progress_clear(&ctx.progress);
	writer_free(w);
	dumper_session_free(ds);
	free(notes);
	free(dbnotes);
	free(commit);
	free(branch);
	free(ctx.notes_paths);
	snapshot_clear(&parent);
	project_clear(&proj);
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
