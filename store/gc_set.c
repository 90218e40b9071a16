/* gc_set.c — the mark set: ids with flags (gc_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"
#include "store/gc_internal.h"
#include "store/le.h"
#include "store/blob.h"

struct gc_set {
	blob_id *ids;
	uint8_t *flags; /* 0 = empty slot: every stored id has a flag set */
	size_t cap;     /* a power of two */
	size_t n;
};

#define INITIAL_CAP 4096

int gc_set_new(struct gc_set **ret)
{
	struct gc_set *s = calloc(1, sizeof *s);
	if (!s)
		return store_fail(-ENOMEM, "gc: out of memory");
	s->cap = INITIAL_CAP;
	s->ids = malloc(s->cap * sizeof *s->ids);
	s->flags = calloc(s->cap, 1);
	if (!s->ids || !s->flags) {
		gc_set_free(s);
		return store_fail(-ENOMEM, "gc: out of memory");
	}
	*ret = s;
	return 0;
}

void gc_set_free(struct gc_set *s)
{
	if (!s)
		return;
	free(s->ids);
	free(s->flags);
	free(s);
}

/* A probe compares the 8 bytes the slot is indexed by before the whole
 * id: most slots on the way hold other ids, and one load tells them
 * apart (the probes were a sixth of gc's mark time). */
static size_t slot_of(const struct gc_set *s, const blob_id *id)
{
	uint64_t key = le_get64(id->b);
	size_t i = (size_t)key & (s->cap - 1);
	while (s->flags[i] && (le_get64(s->ids[i].b) != key || !id_equal(&s->ids[i], id)))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct gc_set *s)
{
	struct gc_set bigger = { .cap = s->cap * 2 };
	bigger.ids = malloc(bigger.cap * sizeof *bigger.ids);
	bigger.flags = calloc(bigger.cap, 1);
	if (!bigger.ids || !bigger.flags) {
		free(bigger.ids);
		free(bigger.flags);
		return store_fail(-ENOMEM, "gc: out of memory for the mark set (%zu ids)", s->n);
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->flags[i])
			continue;
		size_t j = slot_of(&bigger, &s->ids[i]);
		bigger.ids[j] = s->ids[i];
		bigger.flags[j] = s->flags[i];
	}
	free(s->ids);
	free(s->flags);
	s->ids = bigger.ids;
	s->flags = bigger.flags;
	s->cap = bigger.cap;
	return 0;
}

int gc_set_add(struct gc_set *s, const blob_id *id, uint8_t flags)
{
	if (!flags)
		return store_fail(-EINVAL, "gc: mark without a flag");
	if ((s->n + 1) * 4 > s->cap * 3) {
		int r = grow(s);
		if (r < 0)
			return r;
	}
	size_t i = slot_of(s, id);
	uint8_t had = s->flags[i];
	if (!had) {
		s->ids[i] = *id;
		s->n++;
	}
	s->flags[i] = had | flags;
	return had;
}

uint8_t gc_set_get(const struct gc_set *s, const blob_id *id)
{
	return s->flags[slot_of(s, id)];
}

void gc_set_prefetch(const struct gc_set *s, const blob_id *id)
{
	size_t i = (size_t)le_get64(id->b) & (s->cap - 1);
	__builtin_prefetch(&s->flags[i]);
	__builtin_prefetch(&s->ids[i]);
}

size_t gc_set_count(const struct gc_set *s)
{
	return s->n;
}

size_t gc_set_bytes(const struct gc_set *s)
{
	return s->cap * (sizeof(blob_id) + 1);
}

bool gc_set_live(const struct gc_set *s, const blob_id *id, uint8_t type, bool legacy)
{
	uint8_t f = gc_set_get(s, id);
	switch (type) {
	case BLOB_DATA:
		return (f & GC_LIVE_DATA) || (legacy && (f & GC_LIVE_TREE));
	case BLOB_TREE:
		return (f & GC_LIVE_TREE) || (legacy && (f & GC_LIVE_DATA));
	case BLOB_SNAPSHOT:
		return f & GC_LIVE_SNAPREC;
	default:
		return true; /* a type this build does not know: never collected */
	}
}
