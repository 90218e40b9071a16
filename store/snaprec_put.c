/* snaprec_put.c — storing a snapshot's record through its writer, and state records. */
#include <stdlib.h>
#include <time.h>

#include "store/blob.h"
#include "store/catalog.h"
#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/snaprec.h"
#include "store/writer.h"
#include "store/writer_internal.h"

int snaprec_put(struct writer *w, const struct snapshot_new *s)
{
	struct project *projects = NULL;
	size_t n = 0;
	int r = catalog_projects(w->repo, &projects, &n);
	if (r < 0)
		return r;
	const struct project *p = NULL;
	for (size_t i = 0; i < n; i++)
		if (projects[i].id == s->project_id)
			p = &projects[i];
	if (!p) {
		projects_free(projects, n);
		return store_fail(-ENOENT, "snapshot record: no project #%lld",
				  (long long)s->project_id);
	}
	char name[SNAPNAME_MAX_LEN + 1];
	r = catalog_snapshot_next_name(w->repo, s->project_id, s->time_ns, name);
	if (r < 0) {
		projects_free(projects, n);
		return r;
	}
	struct snaprec rec = {
		.name = s->name ? (char *)s->name : name,
		.project = p->name,
		.project_root = p->root,
		.time_ns = s->time_ns,
		.message = (char *)s->message,
		.tag = (char *)s->tag,
		.git_commit = (char *)s->git_commit,
		.git_branch = (char *)s->git_branch,
		.root = s->root,
		.status = s->status,
		.stats = s->stats,
		.notes = (char *)s->notes,
	};
	uint8_t *buf;
	size_t len;
	r = snaprec_encode(&rec, &buf, &len);
	projects_free(projects, n);
	if (r < 0)
		return r;
	r = writer_put_blob(w, BLOB_SNAPSHOT, buf, len, NULL);
	free(buf);
	return r;
}

int snaprec_state_put(struct repo *repo, const int64_t *ids, size_t n, enum snaprec_state state,
		      int64_t trashed_at_ns, int64_t expires_at_ns)
{
	if (!n)
		return 0;
	struct snapshot *rows = NULL;
	struct writer *w = NULL;
	int r = catalog_snapshot_rows(repo, ids, n, &rows);
	if (r < 0)
		return r;
	/* The wall clock, not the clock a test may fix for windows: it orders
	 * changes made one after another, which a fixed clock cannot. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t changed = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if ((r = writer_open(repo, &w)) < 0)
		goto out;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct snaprec_state_rec rec = {
			.time_ns = rows[i].time_ns,
			.root = rows[i].root,
			.name = rows[i].name,
			.state = state,
			.trashed_at_ns = state == SNAPREC_TRASHED ? trashed_at_ns : 0,
			.expires_at_ns = state == SNAPREC_TRASHED ? expires_at_ns : 0,
			.changed_ns = changed,
		};
		uint8_t *buf;
		size_t len;
		if ((r = snaprec_state_encode(&rec, &buf, &len)) < 0)
			break;
		r = writer_put_blob(w, BLOB_SNAPSHOT, buf, len, NULL);
		free(buf);
	}
	if (r >= 0)
		r = writer_flush(w);
out:
	writer_free(w);
	snapshots_free(rows, n);
	return r < 0 ? r : 0;
}
