/* check_drill.c — ckptfs check --drill (see check_drill.h). */
#include "src/check_drill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/output.h"
#include "src/runlog.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/json_lite.h"
#include "store/repo.h"
#include "store/tree.h"

struct drill_run {
	bool quiet;
	unsigned drilled, failed, errors, matched_db;
	FILE *state;   /* this run's entries, JSON */
	int nstate;
	const char **drilled_names; /* projects with an entry (borrowed) */
};

/* Drill one database of snapshot s (its notes record d). */
static void drill_one(struct drill_run *run, struct repo *repo, struct dumper_session *ds,
		      const struct project *p, const struct snapshot *s, const struct jv *d,
		      const char **worst)
{
	const char *name = jv_str(d, "name"), *file = jv_str(d, "file");
	struct node node = {0};
	struct dumper_drill_verdict v = {0};
	int r = tree_resolve(repo, &s->root, file, &node);
	if (r == 0)
		r = dumper_session_drill(ds, repo, &node, name, s->notes, &v);
	if (r < 0) {
		out_store_err(r, "check --drill");
		run->errors++;
		goto out;
	}
	run->drilled += v.ran;
	bool failed = v.ran && !v.ok;
	if (!run->quiet || failed)
		printf("%s %s  %s  %s%s (%.1f s)\n", p->name, s->name, name, failed ? "FAILED: " : "",
		       v.result, (double)v.ms / 1000);
	if (failed) {
		run->failed++;
		out_err("database %s: drill failed: %s", name, v.result);
		*worst = "drill failed";
	} else if (v.ran && strncmp(v.result, "proven", 6) && strcmp(*worst, "drill failed")) {
		*worst = "restored";
	} else if (v.ran && !strncmp(v.result, "proven in a private server", 26) &&
		   !strcmp(*worst, "proven")) {
		*worst = "proven in a private server";
	}
out:
	dumper_drill_verdict_clear(&v);
	node_clear(&node);
}

/* The latest snapshot of p: every server database it dumped. */
static void drill_project(struct drill_run *run, struct repo *repo, const struct project *p,
			  const char *db)
{
	struct snapshot s = {0};
	struct dumper_session *ds = NULL;
	struct jv v;
	bool parsed = false;
	int r = catalog_snapshot_latest(repo, p->id, &s);
	if (r == -ENOENT)
		return;
	if (r < 0 || !s.notes || jv_parse(s.notes, &v) < 0) {
		if (r < 0) {
			out_store_err(r, "check --drill");
			run->errors++;
		}
		goto out;
	}
	parsed = true;
	const struct jv *dbs = jv_get(&v, "databases");
	const char *worst = "proven";
	unsigned before = run->drilled + run->failed;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
		const struct jv *d = &dbs->items[i];
		const char *kind = jv_str(d, "kind"), *name = jv_str(d, "name");
		if (!kind || !strcmp(kind, "sqlite") || !name || !jv_str(d, "file") ||
		    (db && strcmp(db, name)))
			continue;
		run->matched_db++;
		if (!jv_bool(d, "ok")) {
			if (!run->quiet)
				printf("%s %s  %s  not drilled: not dumped in this snapshot\n", p->name, s.name,
				       name);
			continue;
		}
		if (!ds && (r = dumper_session_new(p->root, &ds)) < 0) {
			out_store_err(r, "check --drill");
			run->errors++;
			goto out;
		}
		drill_one(run, repo, ds, p, &s, d, &worst);
	}
	if (run->drilled + run->failed > before) {
		run->drilled_names[run->nstate] = p->name;
		fputs(run->nstate++ ? ", {\"project\": " : "{\"project\": ", run->state);
		out_json_str(run->state, p->name);
		fputs(", \"snapshot\": ", run->state);
		out_json_str(run->state, s.name);
		fprintf(run->state, ", \"time_ns\": \"%lld\", \"result\": \"%s\"}", (long long)out_now_ns(),
			worst);
	}
out:
	if (parsed)
		jv_clear(&v);
	dumper_session_free(ds);
	snapshot_clear(&s);
}

/* Keep this run's verdicts, and the other projects' from before. */
static void save_state(const char *entries, const char *const *names, int nnames)
{
	struct jv old;
	bool have_old = runlog_state_read(CHECK_DRILL_STATE, &old) == 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		goto out;
	fprintf(f, "{\"projects\": [%s", entries);
	const struct jv *prev = have_old ? jv_get(&old, "projects") : NULL;
	bool first = !*entries;
	for (size_t i = 0; prev && prev->t == J_ARR && i < prev->n; i++) {
		const char *pn = jv_str(&prev->items[i], "project");
		/* Replaced if this run drilled the project. */
		bool again = false;
		for (int k = 0; pn && k < nnames && !again; k++)
			again = !strcmp(names[k], pn);
		if (!pn || again)
			continue;
		const char *sn = jv_str(&prev->items[i], "snapshot"), *res = jv_str(&prev->items[i], "result");
		const char *tn = jv_str(&prev->items[i], "time_ns");
		fputs(first ? "{\"project\": " : ", {\"project\": ", f);
		first = false;
		out_json_str(f, pn);
		fputs(", \"snapshot\": ", f);
		out_json_str(f, sn);
		fputs(", \"time_ns\": ", f);
		out_json_str(f, tn);
		fputs(", \"result\": ", f);
		out_json_str(f, res);
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (fclose(f) == 0 && runlog_state_write(CHECK_DRILL_STATE, text, len) < 0) {
		out_store_err(-EIO, "check --drill: the verdicts for status");
		store_error_clear();
	}
out:
	free(text);
	if (have_old)
		jv_clear(&old);
}

int check_drill(const char *project, const char *db, bool quiet)
{
	struct repo *repo = NULL;
	struct project *ps = NULL;
	size_t n = 0;
	char *entries = NULL;
	size_t elen = 0;
	struct drill_run run = {.quiet = quiet};
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0 || (r = catalog_projects(repo, &ps, &n)) < 0) {
		r = out_store_err(r, "check --drill");
		goto out;
	}
	if (!(run.drilled_names = calloc(n + 1, sizeof *run.drilled_names)) ||
	    !(run.state = open_memstream(&entries, &elen))) {
		out_err("check --drill: out of memory");
		r = EXIT_ERROR;
		goto out;
	}
	bool found = !project;
	for (size_t i = 0; i < n; i++) {
		if (project && strcmp(project, ps[i].name))
			continue;
		found = true;
		drill_project(&run, repo, &ps[i], db);
	}
	fclose(run.state);
	run.state = NULL;
	if (!found) {
		out_err("check --drill: project %s: not found (see ckptfs projects)", project);
		r = EXIT_ERROR;
		goto out;
	}
	if (db && !run.matched_db) {
		out_err("check --drill: database %s: not in the latest snapshot of %s", db,
			project ? project : "any project");
		r = EXIT_ERROR;
		goto out;
	}
	save_state(entries ? entries : "", run.drilled_names, run.nstate);
	if (!quiet && !run.matched_db)
		puts("no server database dumps in the latest snapshots: nothing to drill");
	r = run.errors ? EXIT_ERROR : run.failed ? EXIT_PARTIAL : EXIT_OK;
out:
	if (run.state)
		fclose(run.state);
	free(entries);
	free(run.drilled_names);
	projects_free(ps, n);
	repo_close(repo);
	return r;
}
