/* check_rows.c — check's look at each catalog row (catalog_valid.c says
 * what a row must be): every invalid project and snapshot is reported on a
 * line of its own; with repair it is fixed, renamed or quarantined
 * (catalog_quarantine.c).  Runs before the snapshots are listed, so what
 * repair fixed is checked like any other snapshot, and what it
 * quarantined can be re-created from its record in the packs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"
#include "store/check_internal.h"
#include "store/err.h"

/* Faults that make a snapshot's row unusable as such: quarantined.  The
 * others (status, counts) have an obvious fix. */
#define SNAP_IDENTITY \
	(CATALOG_FAULT_NAME | CATALOG_FAULT_ROOT | CATALOG_FAULT_ORPHAN | CATALOG_FAULT_TIME)

struct bad_row {
	int64_t id, project_id;
	unsigned faults;
	char *name, *project; /* as stored (may be NULL) */
};

struct bad_rows {
	struct bad_row *v;
	size_t n, cap;
};

static void bad_rows_free(struct bad_rows *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].name);
		free(b->v[i].project);
	}
	free(b->v);
	memset(b, 0, sizeof *b);
}

static int add(struct bad_rows *b, int64_t id, int64_t project_id, unsigned faults,
	       const char *name, const char *project)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 16;
		struct bad_row *nv = realloc(b->v, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "check: out of memory");
		b->v = nv;
		b->cap = ncap;
	}
	struct bad_row *e = &b->v[b->n];
	*e = (struct bad_row){id, project_id, faults, name ? strdup(name) : NULL,
			      project ? strdup(project) : NULL};
	if ((name && !e->name) || (project && !e->project)) {
		free(e->name);
		free(e->project);
		return store_fail(-ENOMEM, "check: out of memory");
	}
	b->n++;
	return 0;
}

static int on_project(void *ctx, const struct project *p, unsigned faults)
{
	return faults ? add(ctx, p->id, p->id, faults, p->name, p->root) : 0;
}

static int on_snapshot(void *ctx, const struct snapshot *s, unsigned faults)
{
	/* A fault of its project is reported (and repaired) with the project. */
	faults &= ~(unsigned)CATALOG_FAULT_PROJECT;
	return faults ? add(ctx, s->id, s->project_id, faults, s->name, s->project) : 0;
}

/* A valid, free name for a project whose name is invalid: the old one with
 * '/' and control characters made '_', else its root's folder name (the
 * default name), else either with "-<id>", else "project-<id>". */
static int new_name(struct check_ctx *c, const struct bad_row *b, char *out, size_t len)
{
	char base[128] = "";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)(b->name ? b->name : "");
	     *p && n + 1 < sizeof base; p++)
		base[n++] = *p == '/' || *p < 0x20 || *p == 0x7f ? '_' : (char)*p;
	base[n] = '\0';
	const char *slash = b->project ? strrchr(b->project, '/') : NULL; /* the root */
	const char *folder = slash && slash[1] ? slash + 1 : "";
	for (int attempt = 0; attempt < 5; attempt++) {
		if (attempt == 0)
			snprintf(out, len, "%s", base);
		else if (attempt == 1)
			snprintf(out, len, "%s", folder);
		else if (attempt == 2)
			snprintf(out, len, "%s-%lld", base, (long long)b->id);
		else if (attempt == 3)
			snprintf(out, len, "%s-%lld", folder, (long long)b->id);
		else
			snprintf(out, len, "project-%lld", (long long)b->id);
		if (!catalog_project_name_ok(out) || out[0] == '-' || !strncmp(out, "..", 2))
			continue;
		struct project p;
		int r = catalog_project_by_name(c->repo, out, &p);
		if (r == 0) {
			project_clear(&p);
			continue;
		}
		store_error_clear();
		if (r == -ENOENT)
			return 0;
		return r;
	}
	return store_fail(-EEXIST, "project %lld: no free name to rename it to", (long long)b->id);
}

static int repair_project(struct check_ctx *c, const struct bad_row *b, const char *why)
{
	const char *name = b->name ? b->name : "";
	int r;
	if (b->faults & CATALOG_FAULT_ROOT) {
		if ((r = catalog_quarantine_project(c->repo, b->id, why)) < 0)
			return r;
		c->res->catalog_rows_quarantined++;
		check_say(c, CHECK_INFO,
			  "repair: catalog: project %lld \"%s\" (%s): %s; quarantined with its "
			  "snapshots",
			  (long long)b->id, name, b->project ? b->project : "", why);
		return 0;
	}
	char fixed[160] = "";
	if (b->faults & CATALOG_FAULT_NAME) {
		if ((r = new_name(c, b, fixed, sizeof fixed)) < 0 ||
		    (r = catalog_project_rename(c->repo, b->id, fixed)) < 0)
			return r;
	}
	if ((b->faults & CATALOG_FAULT_TIME) && (r = catalog_project_fix(c->repo, b->id)) < 0)
		return r;
	c->res->catalog_rows_fixed++;
	check_say(c, CHECK_INFO, "repair: catalog: project %lld \"%s\" (%s): %s; %s%s",
		  (long long)b->id, name, b->project ? b->project : "", why,
		  *fixed ? "renamed to " : "fixed", fixed);
	return 0;
}

static int repair_snapshot(struct check_ctx *c, const struct bad_row *b, const char *why)
{
	const char *name = b->name ? b->name : "", *proj = b->project ? b->project : "(none)";
	int r;
	if (b->faults & SNAP_IDENTITY) {
		if ((r = catalog_quarantine_snapshot(c->repo, b->id, why)) < 0)
			return r;
		c->res->catalog_rows_quarantined++;
		check_say(c, CHECK_INFO,
			  "repair: catalog: snapshot %lld \"%s\" of project %s (%lld): %s; "
			  "quarantined",
			  (long long)b->id, name, proj, (long long)b->project_id, why);
		return 0;
	}
	if ((r = catalog_snapshot_fix(c->repo, b->id)) < 0)
		return r;
	c->res->catalog_rows_fixed++;
	check_say(c, CHECK_INFO, "repair: catalog: snapshot %s/%s: %s; fixed%s", proj, name, why,
		  b->faults & CATALOG_FAULT_STATUS ? " (marked damaged, its data is checked below)"
						   : " (counts set to 0)");
	return 0;
}

int check_catalog_rows(struct check_ctx *c)
{
	struct bad_rows projects = {0}, snaps = {0};
	bool repair = c->opts->repair;
	char why[256];
	int r = catalog_scan_projects(c->repo, on_project, &projects);
	for (size_t i = 0; r == 0 && i < projects.n; i++) {
		const struct bad_row *b = &projects.v[i];
		catalog_faults_text(b->faults, false, why, sizeof why);
		c->res->catalog_rows_invalid++;
		if (repair)
			r = repair_project(c, b, why);
		else
			check_say(c, CHECK_DAMAGE, "catalog: project %lld \"%s\" (%s): %s",
				  (long long)b->id, b->name ? b->name : "",
				  b->project ? b->project : "", why);
	}
	/* After the projects: a renamed project's snapshots are valid now. */
	if (r == 0)
		r = catalog_scan_snapshots(c->repo, on_snapshot, &snaps);
	for (size_t i = 0; r == 0 && i < snaps.n; i++) {
		const struct bad_row *b = &snaps.v[i];
		catalog_faults_text(b->faults, true, why, sizeof why);
		c->res->catalog_rows_invalid++;
		if (repair)
			r = repair_snapshot(c, b, why);
		else
			check_say(c, CHECK_DAMAGE,
				  "catalog: snapshot %lld \"%s\" of project %s (%lld): %s",
				  (long long)b->id, b->name ? b->name : "",
				  b->project ? b->project : "(none)", (long long)b->project_id,
				  why);
	}
	if (r == 0 && c->res->catalog_rows_invalid && !repair)
		check_say(c, CHECK_INFO,
			  "ckptfs check --repair quarantines the invalid catalog rows (or fixes "
			  "their status and counts)");
	int64_t nq = 0;
	if (r == 0 && (r = catalog_quarantined(c->repo, &nq)) == 0 && nq > 0)
		check_say(c, CHECK_NOTICE,
			  "catalog: %lld row%s kept in quarantine (table quarantine of catalog.db)",
			  (long long)nq, nq == 1 ? "" : "s");
	bad_rows_free(&projects);
	bad_rows_free(&snaps);
	return r;
}
