/* test_fs_view.c — the mount's view of the catalog, on a real repository:
 * lists read on demand, snapshot and tag lookups, refresh after a commit
 * (no sooner than the poll interval, and a list in use stays valid). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/view.h"
#include "store/catalog_internal.h"
#include "store/repo.h"
#include "store/writer.h"
#include "tests/tmpdir.h"

#define NS 1000000000LL
#define T0 (1771065007LL * NS) /* 2026-02-14T10:30:07 UTC */

struct fixture {
	char dir[64];
	char path[96];
	struct repo *w;  /* the writer's connection */
	struct repo *rd; /* the mount's */
	struct view *v;
	int64_t app, blog;
};

static int64_t insert(struct fixture *f, int64_t project, int64_t t, const char *tag)
{
	struct snapshot_new n = { .project_id = project, .time_ns = t, .tag = tag };
	n.root.b[0] = (uint8_t)(t / NS);
	struct snapshot s;
	if (catalog_snapshot_insert(f->w, &n, &s) < 0)
		return -1;
	int64_t id = s.id;
	snapshot_clear(&s);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_fs_view.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/repo", f->dir);
	struct project p;
	if (repo_open(f->path, REPO_WRITE, 0, &f->w) < 0 ||
	    catalog_project_register(f->w, "myapp", "/home/u/myapp", &p) < 0)
		return -1;
	f->app = p.id;
	project_clear(&p);
	if (catalog_project_register(f->w, "blog", "/home/u/blog", &p) < 0)
		return -1;
	f->blog = p.id;
	project_clear(&p);
	if (insert(f, f->app, T0, "v1") < 0 || insert(f, f->app, T0 + 60 * NS, "bad/tag") < 0 ||
	    insert(f, f->app, T0 + 120 * NS, "v1") < 0 || insert(f, f->app, T0 + 125 * NS, NULL) < 0)
		return -1;
	if (repo_open(f->path, REPO_READ, 0, &f->rd) < 0 || view_new(f->rd, &f->v) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	view_free(f->v);
	repo_close(f->rd);
	repo_close(f->w);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* The view's clock, driven by the test: no assertion depends on how fast
 * the machine gets from one line to the next. */
static int64_t fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

static void projects_and_snapshots(void **state)
{
	struct fixture *f = *state;
	struct view_projects *p;
	assert_int_equal(view_projects(f->v, &p), 0);
	assert_int_equal(p->n, 2);
	long a = view_project_index(p, "myapp"), b = view_project_index(p, "blog");
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(view_project_index(p, "nope"), -1);
	assert_int_equal(view_project_index_by_id(p, f->app), a);
	assert_int_equal(p->p[a].nsnapshots, 4);

	struct view_snaps *s, *s2;
	assert_int_equal(view_snaps(f->v, p, (size_t)a, &s), 0);
	assert_int_equal(s->n, 4);
	/* Newest first; names as `ckptfs log` shows them. */
	assert_string_equal(s->s[0].name, "2026-02-14T10:32:12");
	assert_string_equal(s->s[1].name, "2026-02-14T10:32");
	assert_string_equal(s->s[3].name, "2026-02-14T10:30");
	assert_ptr_equal(view_snap_by_name(s, "2026-02-14T10:31"), &s->s[2]);
	assert_ptr_equal(view_snap_by_name(s, "2026-02-14T10:32:12"), &s->s[0]);
	assert_null(view_snap_by_name(s, "2026-02-14T10:33"));
	assert_null(view_snap_by_name(s, "latest"));
	/* Tags: a tag unusable as a file name is left out; a tag given twice
	 * points at the newest snapshot carrying it. */
	assert_int_equal(s->ntags, 1);
	assert_string_equal(s->tags[0], "v1");
	assert_string_equal(s->s[s->tag_snap[0]].name, "2026-02-14T10:32");
	assert_int_equal(view_tag_index(s, "v1"), 0);
	assert_int_equal(view_tag_index(s, "bad/tag"), -1);

	/* The second ask is served from the cached list. */
	assert_int_equal(view_snaps(f->v, p, (size_t)a, &s2), 0);
	assert_ptr_equal(s, s2);
	view_snaps_release(f->v, s2);
	view_snaps_release(f->v, s);

	assert_int_equal(view_snaps(f->v, p, (size_t)b, &s), 0);
	assert_int_equal(s->n, 0);
	assert_int_equal(s->ntags, 0);
	view_snaps_release(f->v, s);
	view_projects_release(f->v, p);
}

static void refresh_after_commit(void **state)
{
	struct fixture *f = *state;
	struct view_projects *p, *q;
	struct view_snaps *s;
	int64_t now = 1000 * VIEW_POLL_NS;
	view_set_clock(f->v, fake_clock, &now);
	assert_int_equal(view_projects(f->v, &p), 0);
	long a = view_project_index(p, "myapp");
	assert_int_equal(view_snaps(f->v, p, (size_t)a, &s), 0);
	assert_int_equal(s->n, 4);

	assert_true(insert(f, f->app, T0 + 3600 * NS, "v2") > 0);
	/* Within the poll interval the old list is still served... */
	now += VIEW_POLL_NS - 1;
	assert_int_equal(view_projects(f->v, &q), 0);
	assert_ptr_equal(p, q);
	view_projects_release(f->v, q);
	/* ...after it, the new one. */
	now += VIEW_POLL_NS;
	assert_int_equal(view_projects(f->v, &q), 0);
	assert_ptr_not_equal(p, q);
	long a2 = view_project_index(q, "myapp");
	assert_int_equal(q->p[a2].nsnapshots, 5);
	struct view_snaps *s2;
	assert_int_equal(view_snaps(f->v, q, (size_t)a2, &s2), 0);
	assert_int_equal(s2->n, 5);
	assert_string_equal(s2->s[0].name, "2026-02-14T11:30");
	assert_int_equal(s2->ntags, 2);
	assert_string_equal(s2->tags[1], "v2");

	/* What a request still holds stays valid. */
	assert_int_equal(s->n, 4);
	assert_string_equal(s->s[0].name, "2026-02-14T10:32:12");
	assert_string_equal(p->p[a].name, "myapp");
	view_snaps_release(f->v, s);
	view_projects_release(f->v, p);
	view_snaps_release(f->v, s2);
	view_projects_release(f->v, q);
}

static void new_project_appears(void **state)
{
	struct fixture *f = *state;
	struct view_projects *p;
	int64_t now = 1000 * VIEW_POLL_NS;
	view_set_clock(f->v, fake_clock, &now);
	assert_int_equal(view_projects(f->v, &p), 0);
	assert_int_equal(p->n, 2);
	view_projects_release(f->v, p);
	struct project np;
	assert_int_equal(catalog_project_register(f->w, "api", "/home/u/api", &np), 0);
	project_clear(&np);
	now += VIEW_POLL_NS;
	assert_int_equal(view_projects(f->v, &p), 0);
	assert_int_equal(p->n, 3);
	assert_true(view_project_index(p, "api") >= 0);
	view_projects_release(f->v, p);
}

static void build_by_hand(void **state)
{
	(void)state;
	/* view_snaps_build owns the list, also with no snapshots. */
	struct view_snaps *s;
	assert_int_equal(view_snaps_build(NULL, 0, &s), 0);
	assert_int_equal(s->n, 0);
	assert_null(view_snap_by_name(s, "2026"));
	view_snaps_free(s);

	struct snapshot *list = calloc(3, sizeof(*list));
	const char *names[] = { "2026-03-01T09:00", "2026-02-01T09:00:01", "2026-02-01T09:00" };
	const char *tags[] = { "..", "release", "" };
	for (int i = 0; i < 3; i++) {
		list[i].name = strdup(names[i]);
		list[i].tag = strdup(tags[i]);
		list[i].id = 10 + i;
	}
	assert_int_equal(view_snaps_build(list, 3, &s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(view_snap_by_name(s, names[i])->id, 10 + i);
	assert_int_equal(s->ntags, 1);
	assert_string_equal(s->tags[0], "release");
	view_snaps_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(projects_and_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(refresh_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(new_project_appears, setup, teardown),
		cmocka_unit_test_setup_teardown(build_by_hand, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
