/* inode.c — node id <-> entry and (parent, name) -> entry hash tables. */
#include "fs/inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct inode_table {
	pthread_mutex_t lock;
	struct inode root;
	uint64_t next_nodeid;
	size_t count;   /* entries, root included */
	size_t nbuckets; /* power of two, for both tables */
	struct inode **by_id;
	struct inode **by_name;
};

#define INITIAL_BUCKETS 1024

static size_t id_bucket(const struct inode_table *t, uint64_t nodeid)
{
	/* Sequential ids spread evenly under a mask already. */
	return (size_t)(nodeid & (t->nbuckets - 1));
}

static size_t name_bucket(const struct inode_table *t, uint64_t parent, const char *name)
{
	return (size_t)(XXH3_64bits_withSeed(name, strlen(name), parent) & (t->nbuckets - 1));
}

uint64_t inode_number(uint64_t parent_ino, const char *name, int64_t salt)
{
	uint64_t h = XXH3_64bits_withSeed(name, strlen(name),
					  parent_ino ^ ((uint64_t)salt * 0x9e3779b97f4a7c15ULL));
	/* 0 means "no inode" to readdir users and 1 is the root. */
	if (h <= 1)
		h += 2;
	return h;
}

int inode_table_new(struct inode_table **ret)
{
	struct inode_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->by_id = calloc(t->nbuckets, sizeof(*t->by_id));
	t->by_name = calloc(t->nbuckets, sizeof(*t->by_name));
	if (!t->by_id || !t->by_name)
		goto fail;
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		goto fail;
	t->root.nodeid = 1;
	t->root.ino = 1;
	t->root.name = (char *)"";
	t->root.kind = INODE_ROOT;
	t->root.nlookup = 1; /* never forgotten */
	t->by_id[id_bucket(t, 1)] = &t->root;
	t->next_nodeid = 2;
	t->count = 1;
	*ret = t;
	return 0;
fail:
	free(t->by_name);
	free(t->by_id);
	free(t);
	return -ENOMEM;
}

static void entry_free(struct inode *e)
{
	free(e->name);
	free(e->target);
	free(e);
}

void inode_table_free(struct inode_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *e = t->by_id[i];
		while (e) {
			struct inode *next = e->next_by_id;
			if (e != &t->root)
				entry_free(e);
			e = next;
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t->by_name);
	free(t->by_id);
	free(t);
}

struct inode *inode_root(struct inode_table *t)
{
	return &t->root;
}

static struct inode *find_locked(struct inode_table *t, uint64_t nodeid)
{
	for (struct inode *e = t->by_id[id_bucket(t, nodeid)]; e; e = e->next_by_id)
		if (e->nodeid == nodeid)
			return e;
	return NULL;
}

struct inode *inode_find(struct inode_table *t, uint64_t nodeid)
{
	pthread_mutex_lock(&t->lock);
	struct inode *e = find_locked(t, nodeid);
	pthread_mutex_unlock(&t->lock);
	return e;
}

/* Double both tables when they average more than one entry per bucket.
 * Failing to grow only makes chains longer. */
static void maybe_grow(struct inode_table *t)
{
	if (t->count <= t->nbuckets)
		return;
	size_t n = t->nbuckets * 2;
	struct inode **by_id = calloc(n, sizeof(*by_id));
	struct inode **by_name = calloc(n, sizeof(*by_name));
	if (!by_id || !by_name) {
		free(by_id);
		free(by_name);
		return;
	}
	struct inode **old_id = t->by_id, **old_name = t->by_name;
	size_t old_n = t->nbuckets;
	t->by_id = by_id;
	t->by_name = by_name;
	t->nbuckets = n;
	for (size_t i = 0; i < old_n; i++) {
		for (struct inode *e = old_id[i], *next; e; e = next) {
			next = e->next_by_id;
			size_t b = id_bucket(t, e->nodeid);
			e->next_by_id = t->by_id[b];
			t->by_id[b] = e;
		}
		for (struct inode *e = old_name[i], *next; e; e = next) {
			next = e->next_by_name;
			size_t b = name_bucket(t, e->parent->nodeid, e->name);
			e->next_by_name = t->by_name[b];
			t->by_name[b] = e;
		}
	}
	free(old_id);
	free(old_name);
}

static void unhash_name(struct inode_table *t, struct inode *e)
{
	if (!e->hashed_by_name)
		return;
	struct inode **pp = &t->by_name[name_bucket(t, e->parent->nodeid, e->name)];
	while (*pp != e)
		pp = &(*pp)->next_by_name;
	*pp = e->next_by_name;
	e->hashed_by_name = false;
}

static bool same_identity(const struct inode *a, const struct inode *b)
{
	return a->kind == b->kind && a->project_id == b->project_id && a->snap_id == b->snap_id &&
	       id_equal(&a->tree, &b->tree) && a->st.st_mode == b->st.st_mode &&
	       a->st.st_size == b->st.st_size && a->st.st_mtim.tv_sec == b->st.st_mtim.tv_sec &&
	       a->st.st_mtim.tv_nsec == b->st.st_mtim.tv_nsec;
}

struct inode *inode_get(struct inode_table *t, struct inode *parent, const char *name,
			const struct inode *tmpl)
{
	pthread_mutex_lock(&t->lock);
	size_t b = name_bucket(t, parent->nodeid, name);
	struct inode *e;
	for (e = t->by_name[b]; e; e = e->next_by_name)
		if (e->parent == parent && strcmp(e->name, name) == 0)
			break;
	if (e && same_identity(e, tmpl)) {
		e->nlookup++;
		pthread_mutex_unlock(&t->lock);
		return e;
	}
	if (e)
		unhash_name(t, e); /* replaced; lives on until forgotten */

	struct inode *n = calloc(1, sizeof(*n));
	char *nm = strdup(name);
	char *tg = tmpl->target ? strdup(tmpl->target) : NULL;
	if (!n || !nm || (tmpl->target && !tg)) {
		pthread_mutex_unlock(&t->lock);
		free(n);
		free(nm);
		free(tg);
		return NULL;
	}
	n->kind = tmpl->kind;
	n->project_id = tmpl->project_id;
	n->snap_id = tmpl->snap_id;
	n->tree = tmpl->tree;
	n->st = tmpl->st;
	n->target = tg;
	n->name = nm;
	n->parent = parent;
	n->nodeid = t->next_nodeid++;
	n->ino = inode_number(parent->ino, name, tmpl->kind == INODE_SNAPSHOT ? tmpl->snap_id : 0);
	n->st.st_ino = n->ino;
	n->nlookup = 1;
	parent->nchildren++;
	n->next_by_name = t->by_name[b];
	t->by_name[b] = n;
	n->hashed_by_name = true;
	size_t ib = id_bucket(t, n->nodeid);
	n->next_by_id = t->by_id[ib];
	t->by_id[ib] = n;
	t->count++;
	maybe_grow(t);
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Free e and then any ancestors it kept alive. */
static void release_locked(struct inode_table *t, struct inode *e)
{
	while (e && e != &t->root && e->nlookup == 0 && e->nchildren == 0) {
		struct inode *parent = e->parent;
		unhash_name(t, e);
		struct inode **pp = &t->by_id[id_bucket(t, e->nodeid)];
		while (*pp != e)
			pp = &(*pp)->next_by_id;
		*pp = e->next_by_id;
		t->count--;
		entry_free(e);
		parent->nchildren--;
		e = parent;
	}
}

void inode_forget(struct inode_table *t, uint64_t nodeid, uint64_t n)
{
	pthread_mutex_lock(&t->lock);
	struct inode *e = find_locked(t, nodeid);
	if (e && e != &t->root) {
		e->nlookup = n >= e->nlookup ? 0 : e->nlookup - n;
		release_locked(t, e);
	}
	pthread_mutex_unlock(&t->lock);
}

size_t inode_count(struct inode_table *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

char *inode_path(struct inode_table *t, const struct inode *e, char *buf, size_t size)
{
	/* Collect the chain root-first by writing names right to left. */
	if (size == 0)
		return buf;
	pthread_mutex_lock(&t->lock);
	size_t pos = size - 1;
	buf[pos] = '\0';
	for (const struct inode *p = e; p && p->parent; p = p->parent) {
		size_t len = strlen(p->name);
		bool sep = pos < size - 1; /* something already follows */
		if (len + sep > pos)
			break;
		if (sep)
			buf[--pos] = '/';
		pos -= len;
		memcpy(buf + pos, p->name, len);
	}
	pthread_mutex_unlock(&t->lock);
	memmove(buf, buf + pos, size - pos);
	return buf;
}
