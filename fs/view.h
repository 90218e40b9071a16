/* view.h — the mount's view of the catalog: projects, their snapshots and
 * tags, read on demand and refreshed when a snapshot is committed.
 *
 * Nothing is read at mount time.  The project list is read on the first
 * look at the root; a project's snapshot list on the first look inside the
 * project.  Both are kept until the catalog's generation number changes
 * (polled at most every VIEW_POLL_NS on root and project operations); then
 * they are dropped and re-read on next use.  Lists are immutable and
 * reference counted, so a request keeps using the list it started with.
 *
 * Memory: the project list, plus the snapshot lists of the projects looked
 * into since the last commit (about 300 bytes per snapshot).
 */
#ifndef CKPTFS_FS_VIEW_H
#define CKPTFS_FS_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"

#define VIEW_POLL_NS 500000000LL

struct repo;
struct view;

/* A project's snapshots, newest first, with lookup indexes. */
struct view_snaps {
	struct snapshot *s;
	size_t n;
	size_t *by_name; /* indexes into s, sorted by name */
	/* Tags usable as file names, sorted, each with the newest snapshot
	 * carrying it (index into s). */
	char **tags;
	size_t *tag_snap;
	size_t ntags;
	/* private */
	unsigned refs;
};

struct view_projects {
	struct project *p; /* sorted by name */
	size_t n;
	uint64_t generation;
	/* private */
	unsigned refs;
	struct view_snaps **snaps; /* n slots, loaded on demand */
};

int view_new(struct repo *repo, struct view **ret);
void view_free(struct view *v);

/* Replace the monotonic clock (ns) view_poll reads, for tests that must
 * land inside or past the poll interval whatever the machine's load;
 * clock NULL restores CLOCK_MONOTONIC. */
void view_set_clock(struct view *v, int64_t (*clock)(void *arg), void *arg);

/* Poll the catalog generation if the last poll is older than VIEW_POLL_NS;
 * drop the lists if it changed. */
void view_poll(struct view *v);

/* The current project list (read if needed).  Referenced: release it with
 * view_projects_release.  Errors come from the catalog. */
int view_projects(struct view *v, struct view_projects **ret);
void view_projects_release(struct view *v, struct view_projects *p);

/* Index of the project named name in p, or -1. */
long view_project_index(const struct view_projects *p, const char *name);

/* Index of the project with this id in p, or -1. */
long view_project_index_by_id(const struct view_projects *p, int64_t id);

/* The snapshot list of project i of p (read if needed).  Referenced:
 * release with view_snaps_release. */
int view_snaps(struct view *v, struct view_projects *p, size_t i, struct view_snaps **ret);
void view_snaps_release(struct view *v, struct view_snaps *s);

/* The snapshot named name, or NULL. */
const struct snapshot *view_snap_by_name(const struct view_snaps *s, const char *name);

/* Index of the tag named tag in s->tags, or -1. */
long view_tag_index(const struct view_snaps *s, const char *tag);

/* Build a view_snaps from a catalog list (takes ownership of snaps, even
 * on failure).  Exposed for tests. */
int view_snaps_build(struct snapshot *snaps, size_t n, struct view_snaps **ret);
void view_snaps_free(struct view_snaps *s);

#endif
