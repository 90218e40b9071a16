/* view.c — on-demand, generation-checked catalog lists (see view.h). */
#include "fs/view.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/err.h"
#include "store/fileio.h"

struct view {
	struct repo *repo;
	pthread_mutex_t lock; /* guards everything below and all refs */
	struct view_projects *cur; /* NULL until read or after a change */
	uint64_t generation;
	int64_t last_poll_ns;
	int have_generation;
	int64_t (*clock)(void *); /* monotonic ns; injectable for tests */
	void *clock_arg;
};

static int64_t mono_clock(void *arg)
{
	(void)arg;
	return fio_mono_ns();
}

void view_set_clock(struct view *v, int64_t (*clock)(void *arg), void *arg)
{
	pthread_mutex_lock(&v->lock);
	v->clock = clock ? clock : mono_clock;
	v->clock_arg = clock ? arg : NULL;
	pthread_mutex_unlock(&v->lock);
}

int view_new(struct repo *repo, struct view **ret)
{
	struct view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (pthread_mutex_init(&v->lock, NULL) != 0) {
		free(v);
		return -ENOMEM;
	}
	v->repo = repo;
	v->clock = mono_clock;
	*ret = v;
	return 0;
}

void view_snaps_free(struct view_snaps *s)
{
	if (!s)
		return;
	snapshots_free(s->s, s->n);
	free(s->by_name);
	for (size_t i = 0; i < s->ntags; i++)
		free(s->tags[i]);
	free(s->tags);
	free(s->tag_snap);
	free(s);
}

/* Free a project list nobody references (called without the lock). */
static void projects_destroy(struct view *v, struct view_projects *p)
{
	for (size_t i = 0; i < p->n; i++)
		view_snaps_release(v, p->snaps[i]);
	free(p->snaps);
	projects_free(p->p, p->n);
	free(p);
}

void view_free(struct view *v)
{
	if (!v)
		return;
	view_projects_release(v, v->cur);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* Drop the current lists (under the lock); returns a list for the caller
 * to destroy after unlocking, or NULL. */
static struct view_projects *drop_locked(struct view *v)
{
	struct view_projects *p = v->cur;
	v->cur = NULL;
	if (p && --p->refs == 0)
		return p;
	return NULL;
}

void view_poll(struct view *v)
{
	pthread_mutex_lock(&v->lock);
	int64_t now = v->clock(v->clock_arg);
	if (v->have_generation && now - v->last_poll_ns < VIEW_POLL_NS) {
		pthread_mutex_unlock(&v->lock);
		return;
	}
	v->last_poll_ns = now;
	pthread_mutex_unlock(&v->lock);

	uint64_t gen;
	if (catalog_generation(v->repo, &gen) < 0)
		return; /* keep what we have; the next poll retries */
	struct view_projects *dead = NULL;
	pthread_mutex_lock(&v->lock);
	if (!v->have_generation || gen != v->generation)
		dead = drop_locked(v);
	v->generation = gen;
	v->have_generation = 1;
	pthread_mutex_unlock(&v->lock);
	if (dead)
		projects_destroy(v, dead);
}

int view_projects(struct view *v, struct view_projects **ret)
{
	view_poll(v);
	pthread_mutex_lock(&v->lock);
	if (v->cur) {
		v->cur->refs++;
		*ret = v->cur;
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	uint64_t gen = v->generation;
	pthread_mutex_unlock(&v->lock);

	struct view_projects *p = calloc(1, sizeof(*p));
	if (!p)
		return store_fail(-ENOMEM, "project list: out of memory");
	int r = catalog_projects(v->repo, &p->p, &p->n);
	if (r < 0) {
		free(p);
		return r;
	}
	p->snaps = calloc(p->n ? p->n : 1, sizeof(*p->snaps));
	if (!p->snaps) {
		projects_free(p->p, p->n);
		free(p);
		return store_fail(-ENOMEM, "project list: out of memory");
	}
	p->generation = gen;
	p->refs = 1; /* the caller's */
	pthread_mutex_lock(&v->lock);
	/* Cache it unless the generation moved while we read (then the list
	 * may be older than what the next poll expects; read again then). */
	if (!v->cur && v->generation == gen) {
		v->cur = p;
		p->refs++;
	}
	pthread_mutex_unlock(&v->lock);
	*ret = p;
	return 0;
}

void view_projects_release(struct view *v, struct view_projects *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&v->lock);
	int dead = --p->refs == 0;
	pthread_mutex_unlock(&v->lock);
	if (dead)
		projects_destroy(v, p);
}

long view_project_index(const struct view_projects *p, const char *name)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->p[mid].name, name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The catalog sorts by its own collation; fall back to a scan. */
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->p[i].name, name) == 0)
			return (long)i;
	return -1;
}

long view_project_index_by_id(const struct view_projects *p, int64_t id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->p[i].id == id)
			return (long)i;
	return -1;
}

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
	const struct snapshot *snaps = ctx;
	const size_t *x = a, *y = b;
	return strcmp(snaps[*x].name, snaps[*y].name);
}

static int tag_ok(const char *tag)
{
	return tag && tag[0] && strcmp(tag, ".") != 0 && strcmp(tag, "..") != 0 &&
	       !strchr(tag, '/') && strlen(tag) <= 255;
}

int view_snaps_build(struct snapshot *snaps, size_t n, struct view_snaps **ret)
{
	struct view_snaps *s = calloc(1, sizeof(*s));
	if (!s) {
		snapshots_free(snaps, n);
		return store_fail(-ENOMEM, "snapshot list: out of memory");
	}
	s->s = snaps;
	s->n = n;
	s->refs = 1;
	s->by_name = malloc((n ? n : 1) * sizeof(*s->by_name));
	s->tags = calloc(n ? n : 1, sizeof(*s->tags));
	s->tag_snap = malloc((n ? n : 1) * sizeof(*s->tag_snap));
	if (!s->by_name || !s->tags || !s->tag_snap)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		s->by_name[i] = i;
	qsort_r(s->by_name, n, sizeof(*s->by_name), cmp_by_name, snaps);

	/* Newest first: the first snapshot seen with a tag is its target. */
	for (size_t i = 0; i < n; i++) {
		const char *tag = snaps[i].tag;
		if (!tag_ok(tag) || view_tag_index(s, tag) >= 0)
			continue;
		/* Insert sorted (tags are few). */
		size_t j = s->ntags;
		while (j > 0 && strcmp(s->tags[j - 1], tag) > 0) {
			s->tags[j] = s->tags[j - 1];
			s->tag_snap[j] = s->tag_snap[j - 1];
			j--;
		}
		s->tags[j] = strdup(tag);
		s->tag_snap[j] = i;
		s->ntags++;
		if (!s->tags[j])
			goto nomem;
	}
	*ret = s;
	return 0;
nomem:
	view_snaps_free(s);
	return store_fail(-ENOMEM, "snapshot list: out of memory");
}

int view_snaps(struct view *v, struct view_projects *p, size_t i, struct view_snaps **ret)
{
	pthread_mutex_lock(&v->lock);
	struct view_snaps *s = p->snaps[i];
	if (s) {
		s->refs++;
		pthread_mutex_unlock(&v->lock);
		*ret = s;
		return 0;
	}
	pthread_mutex_unlock(&v->lock);

	struct snapshot *list = NULL;
	size_t n = 0;
	int r = catalog_snapshots(v->repo, p->p[i].id, &list, &n);
	if (r < 0)
		return r;
	r = view_snaps_build(list, n, &s);
	if (r < 0)
		return r;
	pthread_mutex_lock(&v->lock);
	if (p->snaps[i]) {
		/* Another thread got there first; use its list. */
		struct view_snaps *mine = s;
		s = p->snaps[i];
		s->refs++;
		pthread_mutex_unlock(&v->lock);
		view_snaps_free(mine);
	} else {
		p->snaps[i] = s;
		s->refs++; /* the project list's */
		pthread_mutex_unlock(&v->lock);
	}
	*ret = s;
	return 0;
}

void view_snaps_release(struct view *v, struct view_snaps *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&v->lock);
	int dead = --s->refs == 0;
	pthread_mutex_unlock(&v->lock);
	if (dead)
		view_snaps_free(s);
}

const struct snapshot *view_snap_by_name(const struct view_snaps *s, const char *name)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snapshot *x = &s->s[s->by_name[mid]];
		int c = strcmp(x->name, name);
		if (c == 0)
			return x;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

long view_tag_index(const struct view_snaps *s, const char *tag)
{
	size_t lo = 0, hi = s->ntags;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->tags[mid], tag);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
