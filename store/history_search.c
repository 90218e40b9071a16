/* history_search.c — glob search over every snapshot (see history.h).
 *
 * A directory's matches depend on its tree id and on the path it sits at
 * (a pattern with '/' matches whole paths).  The memo maps (tree id,
 * XXH3 of the path) to the list of matches found at and below it, so a
 * directory met again in a later snapshot is not decoded: its memoized
 * matches are marked as held by that snapshot too.  The work is one
 * decode per distinct (tree, path) plus one mark per match per snapshot.
 */
#include "store/history_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/glob.h"
#include "store/relpath.h"

struct hit {
	size_t match;
	uint64_t size;
};

struct hitlist {
	struct hit *h;
	size_t n;
};

struct search {
	struct hist *h;
	const char *pattern;
	bool whole_path;
	uint8_t type;
	struct relpath path;
	size_t snap;       /* the snapshot being walked */
	struct hmemo memo; /* (tree id, path hash) -> index into lists */
	struct hitlist *lists;
	size_t nlists, alists;
	struct hist_match *m; /* distinct matches */
	size_t nm, am;
	struct hmemo byname; /* (zero id, XXH3 of path and type) -> index into m */
};

static int hits_add(struct hitlist *l, size_t *alloc, size_t match, uint64_t size)
{
	if (l->n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		struct hit *p = realloc(l->h, na * sizeof *p);
		if (!p)
			return store_fail(-ENOMEM, "search: out of memory");
		l->h = p;
		*alloc = na;
	}
	l->h[l->n++] = (struct hit){match, size};
	return 0;
}

static void mark(struct search *s, const struct hit *hit)
{
	struct hist_match *m = &s->m[hit->match];
	if (m->count && m->last == s->snap)
		return;
	if (!m->count)
		m->first = s->snap;
	m->last = s->snap;
	m->count++;
	m->size = hit->size;
}

/* The match for the current path and type, created if new. */
static int match_get(struct search *s, uint8_t type, size_t *ret)
{
	static const blob_id zero;
	uint64_t key = XXH3_64bits_withSeed(s->path.s, s->path.len, type);
	size_t i;
	/* Probe past hash collisions of different paths. */
	for (uint64_t k = key;; k++) {
		if (!hmemo_get(&s->byname, &zero, k, &i))
			break;
		if (s->m[i].type == type && strcmp(s->m[i].path, s->path.s) == 0) {
			*ret = i;
			return 0;
		}
		key = k + 1;
	}
	if (s->nm == s->am) {
		size_t na = s->am ? s->am * 2 : 16;
		struct hist_match *p = realloc(s->m, na * sizeof *p);
		if (!p)
			return store_fail(-ENOMEM, "search: out of memory");
		s->m = p;
		s->am = na;
	}
	struct hist_match *m = &s->m[s->nm];
	*m = (struct hist_match){.path = strdup(s->path.s), .type = type};
	if (!m->path)
		return store_fail(-ENOMEM, "search: out of memory");
	int r = hmemo_put(&s->byname, &zero, key, s->nm);
	if (r < 0) {
		free(m->path);
		return r;
	}
	*ret = s->nm++;
	return 0;
}

static bool matches(const struct search *s, const struct node *n)
{
	if (s->type && n->type != s->type)
		return false;
	return glob_match(s->pattern, s->whole_path ? s->path.s : n->name);
}

static int visit(struct search *s, const blob_id *id, int depth, size_t *ret_list);

static int visit_entry(struct search *s, const struct node *n, int depth, struct hitlist *out,
		       size_t *alloc)
{
	size_t old, mi = 0, li = 0;
	int r = relpath_push(&s->path, n->name, &old);
	if (r < 0)
		return store_fail(r, "search: out of memory");
	if (matches(s, n)) {
		if ((r = match_get(s, n->type, &mi)) == 0 &&
		    (r = hits_add(out, alloc, mi, n->size)) == 0)
			mark(s, &out->h[out->n - 1]);
	}
	if (r == 0 && n->type == NODE_DIR && (r = visit(s, &n->subtree, depth + 1, &li)) == 0) {
		const struct hitlist *sub = &s->lists[li];
		for (size_t k = 0; k < sub->n && r == 0; k++)
			r = hits_add(out, alloc, sub->h[k].match, sub->h[k].size);
	}
	relpath_pop(&s->path, old);
	return r;
}

/* Mark every match at and below the directory id (at the current path)
 * as held by the current snapshot; *ret_list the memoized list. */
static int visit(struct search *s, const blob_id *id, int depth, size_t *ret_list)
{
	uint64_t where = XXH3_64bits(s->path.s, s->path.len);
	size_t li;
	if (hmemo_get(&s->memo, id, where, &li)) {
		for (size_t k = 0; k < s->lists[li].n; k++)
			mark(s, &s->lists[li].h[k]);
		*ret_list = li;
		return 0;
	}
	if (depth > HIST_MAX_DEPTH)
		return store_fail(-STORE_ECORRUPT, "%s: directories nested deeper than %d",
				  s->path.s, HIST_MAX_DEPTH);
	const struct tree *t;
	void *ref;
	int r = hist_get(s->h, id, &t, &ref);
	if (r < 0)
		return r;
	struct hitlist out = {0};
	size_t alloc = 0;
	for (size_t i = 0; i < t->n && r == 0; i++)
		r = visit_entry(s, &t->nodes[i], depth, &out, &alloc);
	hist_put(s->h, ref);
	if (r == 0 && s->nlists == s->alists) {
		size_t na = s->alists ? s->alists * 2 : 64;
		struct hitlist *p = realloc(s->lists, na * sizeof *p);
		if (!p)
			r = store_fail(-ENOMEM, "search: out of memory");
		else {
			s->lists = p;
			s->alists = na;
		}
	}
	if (r == 0)
		r = hmemo_put(&s->memo, id, where, s->nlists);
	if (r < 0) {
		free(out.h);
		return r;
	}
	s->lists[s->nlists] = out;
	*ret_list = s->nlists++;
	return 0;
}

void hist_matches_free(struct hist_match *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}

static int match_cmp(const void *a, const void *b)
{
	const struct hist_match *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->type > y->type) - (x->type < y->type);
}

/* One stretch of the snapshots, searched with its own memo (and hist
 * copy, for its own decode counter) on its own thread. */
struct part {
	struct hist h;
	const blob_id *roots;
	size_t lo, hi;
	const char *pattern;
	bool whole_path;
	uint8_t type;
	struct hist_match *m;
	size_t nm;
	int r;
	char err[512];
};

static int search_range(struct part *p)
{
	struct search s = {
		.h = &p->h, .type = p->type, .pattern = p->pattern, .whole_path = p->whole_path};
	int r = 0;
	if (relpath_init(&s.path) < 0)
		return store_fail(-ENOMEM, "search: out of memory");
	for (size_t i = p->lo; i < p->hi && r == 0; i++) {
		size_t li;
		s.snap = i;
		r = visit(&s, &p->roots[i], 0, &li);
	}
	for (size_t i = 0; i < s.nlists; i++)
		free(s.lists[i].h);
	free(s.lists);
	hmemo_free(&s.memo);
	hmemo_free(&s.byname);
	relpath_free(&s.path);
	if (r < 0) {
		hist_matches_free(s.m, s.nm);
		return r;
	}
	if (s.nm)
		qsort(s.m, s.nm, sizeof *s.m, match_cmp);
	p->m = s.m;
	p->nm = s.nm;
	return 0;
}

static void *part_main(void *arg)
{
	struct part *p = arg;
	p->r = search_range(p);
	if (p->r < 0)
		snprintf(p->err, sizeof p->err, "%s",
			 store_error() ? store_error() : "search failed");
	return NULL;
}

/* Fold the sorted matches of a later stretch b into those of a (sorted). */
static int merge(struct part *a, struct part *b)
{
	struct hist_match *m = malloc((a->nm + b->nm + 1) * sizeof *m);
	if (!m)
		return store_fail(-ENOMEM, "search: out of memory");
	size_t i = 0, j = 0, k = 0;
	while (i < a->nm || j < b->nm) {
		int c = i == a->nm ? 1 : j == b->nm ? -1 : match_cmp(&a->m[i], &b->m[j]);
		if (c < 0) {
			m[k++] = a->m[i++];
		} else if (c > 0) {
			m[k++] = b->m[j++];
		} else {
			m[k] = a->m[i++];
			m[k].last = b->m[j].last;
			m[k].count += b->m[j].count;
			m[k++].size = b->m[j].size;
			free(b->m[j++].path);
		}
	}
	free(a->m);
	free(b->m);
	b->m = NULL;
	b->nm = 0;
	a->m = m;
	a->nm = k;
	return 0;
}

/* Stretches of fewer snapshots are not worth a thread. */
#define SEARCH_PART_MIN 128
#define SEARCH_PARTS_MAX 4

int hist_search(struct hist *h, const blob_id *roots, size_t n, const char *pattern, uint8_t type,
		struct hist_match **ret, size_t *ret_n)
{
	int r = glob_check(pattern);
	if (r < 0)
		return r;
	/* The work splits cleanly by snapshots: each stretch decodes its own
	 * distinct trees (those shared across a boundary twice, a few hundred
	 * at most) and the matches merge by path. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t np = n / SEARCH_PART_MIN;
	if (np > SEARCH_PARTS_MAX)
		np = SEARCH_PARTS_MAX;
	if (np > (size_t)(cpus > 1 ? cpus : 2))
		np = (size_t)(cpus > 1 ? cpus : 2);
	if (np < 1)
		np = 1;
	struct part parts[SEARCH_PARTS_MAX];
	pthread_t tid[SEARCH_PARTS_MAX];
	bool started[SEARCH_PARTS_MAX] = {false};
	for (size_t k = 0; k < np; k++) {
		parts[k] = (struct part){.h = *h,
					 .roots = roots,
					 .lo = n * k / np,
					 .hi = n * (k + 1) / np,
					 .type = type};
		parts[k].h.loaded = 0;
		parts[k].whole_path = strchr(pattern, '/') != NULL;
		parts[k].pattern =
			pattern[0] == '/' ? pattern + 1 : pattern; /* "/x": x at the top */
	}
	for (size_t k = 1; k < np; k++)
		started[k] = pthread_create(&tid[k], NULL, part_main, &parts[k]) == 0;
	part_main(&parts[0]);
	for (size_t k = 1; k < np; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			part_main(&parts[k]); /* no thread: do it here */
	}
	r = 0;
	for (size_t k = 0; k < np; k++) {
		h->loaded += parts[k].h.loaded;
		if (r == 0 && parts[k].r < 0)
			r = store_fail(parts[k].r, "%s", parts[k].err);
	}
	for (size_t k = 1; k < np && r == 0; k++)
		r = merge(&parts[0], &parts[k]);
	if (r < 0) {
		for (size_t k = 0; k < np; k++)
			hist_matches_free(parts[k].m, parts[k].nm);
		return r;
	}
	*ret = parts[0].m;
	*ret_n = parts[0].nm;
	return 0;
}
