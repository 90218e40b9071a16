/* snap_all.c — a snapshot of every registered project (see snap_all.h). */
#include "src/snap_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/cli.h"
#include "src/output.h"
#include "src/runlog.h"
#include "src/take.h"
#include "store/err.h"
#include "store/repo.h"

enum outcome { DONE_COMPLETE, DONE_PARTIAL, DONE_MISSING, DONE_FAILED };
static const char *const outcome_names[] = {"complete", "partial", "missing", "failed"};

struct one {
	enum outcome outcome;
	char *reason;       /* malloc'd, or NULL */
	struct take_result res; /* when a snapshot was written */
	bool have_res;
};

/* The store's message for r, malloc'd. */
static char *reason_of(int r)
{
	const char *m = store_error();
	char *s = strdup(m ? m : strerror(-r));
	store_error_clear();
	return s;
}

static void take_one(const struct snap_all_req *q, const struct project *p, struct one *o)
{
	struct stat st;
	int err = stat(p->root, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (err) {
		bool gone = err == ENOENT || err == ENOTDIR;
		o->outcome = gone ? DONE_MISSING : DONE_FAILED;
		if (asprintf(&o->reason, "%s: %s", p->root,
			     gone ? "root folder no longer exists" : strerror(err)) < 0)
			o->reason = NULL;
		return;
	}
	struct take_req req = {.root = p->root, .message = q->message, .tag = q->tag,
			       .excludes = q->excludes, .nexcludes = q->nexcludes,
			       .quiet = q->quiet || q->json, .drill_full = q->drill_full};
	struct repo *repo = NULL;
	int r = cli_open_repo(REPO_WRITE, &repo);
	if (r == 0)
		r = take_snapshot(repo, &req, &o->res);
	if (r < 0) {
		o->outcome = DONE_FAILED;
		o->reason = reason_of(r);
	} else {
		o->have_res = true;
		o->outcome = o->res.partial ? DONE_PARTIAL : DONE_COMPLETE;
		if (o->res.partial)
			o->reason = runlog_first_problem(o->res.snap.notes);
	}
	repo_close(repo);
}

/* One line for a person: the summary on stdout, or "ckptfs: NAME: why". */
static void print_one(const struct snap_all_req *q, const struct project *p, const struct one *o)
{
	char *name = out_printable(p->name);
	switch (o->outcome) {
	case DONE_COMPLETE:
		if (!q->quiet)
			take_print_summary(&o->res);
		break;
	case DONE_PARTIAL:
		take_print_summary(&o->res);
		break;
	case DONE_MISSING:
		out_err("%s: skipped: %s", name ? name : "", o->reason ? o->reason : "root missing");
		break;
	case DONE_FAILED:
		out_err("%s: no snapshot: %s", name ? name : "", o->reason ? o->reason : "failed");
		break;
	}
	free(name);
}

static void json_one(FILE *f, const struct project *p, const struct one *o, bool first)
{
	fputs(first ? "\n {\"project\": " : ",\n {\"project\": ", f);
	out_json_str(f, p->name);
	fputs(", \"root\": ", f);
	out_json_str(f, p->root);
	fprintf(f, ", \"result\": \"%s\", \"reason\": ", outcome_names[o->outcome]);
	out_json_str(f, o->reason);
	fputs(", \"snapshot\": ", f);
	if (o->have_res)
		cli_json_snapshot(f, &o->res.snap);
	else
		fputs("null", f);
	fputc('}', f);
}

static int exit_for(const int counts[4])
{
	if (counts[DONE_FAILED])
		return EXIT_ERROR;
	if (counts[DONE_PARTIAL])
		return EXIT_PARTIAL;
	if (counts[DONE_MISSING])
		return EXIT_MISSING;
	return EXIT_OK;
}

int snap_all(const struct snap_all_req *q)
{
	struct repo *repo = NULL;
	struct project *ps = NULL;
	size_t n = 0;
	int counts[4] = {0};
	int r = cli_open_repo(REPO_READ, &repo);
	if (r == 0)
		r = catalog_projects(repo, &ps, &n);
	repo_close(repo);
	if (r == -ENOENT) {
		store_error_clear(); /* no repository: no projects */
	} else if (r < 0) {
		return out_store_err(r, "snap --all");
	}
	if (n == 0 && !q->json)
		out_err("snap --all: no projects registered (ckptfs snap in a project folder "
			"registers it)");

	char *rec = NULL;
	size_t reclen = 0;
	FILE *f = open_memstream(&rec, &reclen);
	if (!f) {
		projects_free(ps, n);
		out_err("snap --all: out of memory");
		return EXIT_ERROR;
	}
	int64_t now = out_now_ns();
	char when[OUT_BUF];
	fprintf(f, "{\"time\": \"%s\", \"time_ns\": %lld, \"projects\": [", out_utc_iso(now, when),
		(long long)now);
	for (size_t i = 0; i < n; i++) {
		struct one o = {0};
		take_one(q, &ps[i], &o);
		counts[o.outcome]++;
		if (!q->json)
			print_one(q, &ps[i], &o);
		else if (o.outcome == DONE_FAILED)
			out_err("%s: no snapshot: %s", ps[i].name, o.reason ? o.reason : "failed");
		json_one(f, &ps[i], &o, i == 0);
		fflush(stdout);
		if (o.have_res)
			take_result_clear(&o.res);
		free(o.reason);
	}
	int status = exit_for(counts);
	fprintf(f, "%s], \"exit\": %d}\n", n ? "\n" : "", status);
	if (fclose(f) != 0 || !rec) {
		free(rec);
		projects_free(ps, n);
		out_err("snap --all: out of memory");
		return EXIT_ERROR;
	}
	if (q->json)
		fwrite(rec, 1, reclen, stdout);
	/* The record is for `status`; a run that could not write it still
	 * took its snapshots. */
	if (n > 0 && (r = runlog_write(rec, reclen)) < 0) {
		out_store_err(r, "snap --all: last-run record");
		store_error_clear();
	}
	free(rec);
	projects_free(ps, n);
	return status;
}
