/* gc_plan.c — the plan: what happens to each pack.
 *
 * Live bytes are the stored lengths of a pack's live blobs; a pack's size
 * is its file's (header, index and footer included), so a pack of dead
 * blobs only is "0% live" and a freshly repacked one close to 100%.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

struct plan_ctx {
	struct gc_plan *plan;
	size_t cap, livecap;
	const struct gc_set *set;
	bool legacy;
};

static int add_pack(void *p, int64_t dbid, const char *name, uint64_t size)
{
	struct plan_ctx *c = p;
	struct gc_plan *pl = c->plan;
	if (pl->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 64;
		struct gc_pack *nv = realloc(pl->packs, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->packs = nv;
		c->cap = ncap;
	}
	struct gc_pack *k = &pl->packs[pl->n++];
	memset(k, 0, sizeof *k);
	k->dbid = dbid;
	snprintf(k->name, sizeof k->name, "%s", name);
	k->size = size;
	k->action = -1;
	return 0;
}

static struct gc_pack *pack_by_dbid(struct gc_plan *pl, int64_t dbid)
{
	size_t lo = 0, hi = pl->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pl->packs[mid].dbid < dbid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pl->n && pl->packs[lo].dbid == dbid ? &pl->packs[lo] : NULL;
}

static int add_blob(void *p, int64_t pack_dbid, const struct pack_entry *e)
{
	struct plan_ctx *c = p;
	struct gc_pack *k = pack_by_dbid(c->plan, pack_dbid);
	if (!k)
		return 0; /* a row without its pack: check's finding, nothing to collect */
	if (gc_set_live(c->set, &e->id, e->type, c->legacy)) {
		k->live_bytes += e->length;
		k->live_count++;
		/* Kept until the decisions: the rows of the packs that stay
		 * are dropped then (keep_repacked). */
		struct gc_plan *pl = c->plan;
		if (pl->nlive == c->livecap) {
			size_t ncap = c->livecap ? 2 * c->livecap : 1024;
			struct gc_live *nv = realloc(pl->live, ncap * sizeof *nv);
			if (!nv)
				return store_fail(-ENOMEM, "gc: out of memory");
			pl->live = nv;
			c->livecap = ncap;
		}
		pl->live[pl->nlive++] = (struct gc_live){ .pack = (uint32_t)(k - pl->packs), .e = *e };
	} else {
		k->dead_count++;
		if (e->type == BLOB_SNAPSHOT)
			k->dead_snaprec = true;
	}
	return 0;
}

static void decide(struct gc_pack *k, unsigned threshold)
{
	if (k->live_count == 0)
		k->action = GC_DELETE;
	else if (k->dead_count &&
		 (k->dead_snaprec || k->live_bytes * 100 < (uint64_t)threshold * k->size))
		k->action = GC_REPACK;
	else
		k->action = -1;
}

static int cmp_live(const void *a, const void *b)
{
	const struct gc_live *x = a, *y = b;
	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->e.offset < y->e.offset ? -1 : x->e.offset > y->e.offset;
}

/* Keep only the live rows of the packs planned GC_REPACK, by pack and
 * offset, and give each such pack its slice. */
static void keep_repacked(struct gc_plan *pl)
{
	size_t n = 0;
	for (size_t i = 0; i < pl->nlive; i++)
		if (pl->packs[pl->live[i].pack].action == GC_REPACK)
			pl->live[n++] = pl->live[i];
	pl->nlive = n;
	if (n) /* live is NULL when the index has no live row */
		qsort(pl->live, n, sizeof *pl->live, cmp_live);
	for (size_t i = 0; i < n;) {
		struct gc_pack *k = &pl->packs[pl->live[i].pack];
		size_t j = i;
		while (j < n && pl->live[j].pack == pl->live[i].pack)
			j++;
		k->first = i;
		k->nlive = j - i;
		i = j;
	}
	if (n) {
		struct gc_live *shrunk = realloc(pl->live, n * sizeof *shrunk);
		if (shrunk)
			pl->live = shrunk;
	} else {
		free(pl->live);
		pl->live = NULL;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_pack_file(const char *d_name, const char *fan)
{
	if (strlen(d_name) != PACK_NAME_LEN + 5 || strcmp(d_name + PACK_NAME_LEN, ".pack") != 0 ||
	    strncmp(d_name, fan, 2) != 0)
		return false;
	for (size_t i = 0; i < PACK_NAME_LEN; i++) {
		char ch = d_name[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	return true;
}

/* A journal entry (pack.h) names a pack a writer renamed but may not
 * have indexed yet: never garbage, whatever the catalog says. */
static bool journalled(struct repo *repo, const char *name)
{
	char path[PACK_NAME_LEN + 32];
	snprintf(path, sizeof path, "tmp/%s%s", name, PACK_JOURNAL_SUFFIX);
	return faccessat(repo->dirfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int add_unindexed(struct gc_plan *pl, size_t *cap, const char *name, uint64_t size)
{
	if (pl->nunindexed == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		char **nv = realloc(pl->unindexed, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->unindexed = nv;
		uint64_t *ns = realloc(pl->unindexed_size, ncap * sizeof *ns);
		if (!ns)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->unindexed_size = ns;
		*cap = ncap;
	}
	char *s = strdup(name);
	if (!s)
		return store_fail(-ENOMEM, "gc: out of memory");
	pl->unindexed[pl->nunindexed] = s;
	pl->unindexed_size[pl->nunindexed++] = size;
	return 0;
}

static int scan_fan(struct repo *repo, int pfd, const char *fan, char **known, size_t nknown,
		    struct gc_plan *pl, size_t *cap)
{
	int sfd = openat(pfd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0
							   : store_failp(-errno, "%s/packs/%s",
									 repo->path, fan);
	DIR *d = fdopendir(sfd);
	if (!d) {
		close(sfd);
		return store_failp(-errno, "%s/packs/%s", repo->path, fan);
	}
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (!is_pack_file(de->d_name, fan))
			continue;
		char name[PACK_NAME_LEN + 1];
		memcpy(name, de->d_name, PACK_NAME_LEN);
		name[PACK_NAME_LEN] = '\0';
		char *key = name;
		if (nknown && bsearch(&key, known, nknown, sizeof *known, cmp_str))
			continue;
		if (journalled(repo, name))
			continue;
		struct stat st;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		r = add_unindexed(pl, cap, name, (uint64_t)st.st_size);
	}
	closedir(d);
	return r;
}

/* Pack files in packs/ the catalog does not list. */
static int find_unindexed(struct repo *repo, struct gc_plan *pl)
{
	char **known = malloc((pl->n ? pl->n : 1) * sizeof *known);
	if (!known)
		return store_fail(-ENOMEM, "gc: out of memory");
	for (size_t i = 0; i < pl->n; i++)
		known[i] = pl->packs[i].name;
	qsort(known, pl->n, sizeof *known, cmp_str);
	int r = 0;
	size_t cap = 0;
	int pfd = openat(repo->dirfd, "packs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (pfd < 0) {
		r = errno == ENOENT ? 0 : store_failp(-errno, "%s/packs", repo->path);
		goto out;
	}
	DIR *top = fdopendir(pfd);
	if (!top) {
		close(pfd);
		r = store_failp(-errno, "%s/packs", repo->path);
		goto out;
	}
	struct dirent *de;
	while (r >= 0 && (de = readdir(top)))
		if (strlen(de->d_name) == 2 && de->d_name[0] != '.')
			r = scan_fan(repo, pfd, de->d_name, known, pl->n, pl, &cap);
	closedir(top);
out:
	free(known);
	return r;
}

int gc_plan_make(struct repo *repo, const struct gc_set *set, unsigned threshold,
		 struct gc_plan *ret)
{
	struct gc_plan pl = { 0 };
	struct plan_ctx c = { .plan = &pl, .set = set, .legacy = repo->legacy_below != 0 };
	int r = catalog_scan_packs(repo, add_pack, &c);
	if (r >= 0)
		r = catalog_scan_blobs(repo, add_blob, &c);
	if (r >= 0)
		r = find_unindexed(repo, &pl);
	if (r < 0) {
		gc_plan_clear(&pl);
		return r;
	}
	for (size_t i = 0; i < pl.n; i++)
		decide(&pl.packs[i], threshold);
	keep_repacked(&pl);
	*ret = pl;
	return 0;
}

void gc_plan_clear(struct gc_plan *p)
{
	free(p->packs);
	free(p->live);
	for (size_t i = 0; i < p->nunindexed; i++)
		free(p->unindexed[i]);
	free(p->unindexed);
	free(p->unindexed_size);
	memset(p, 0, sizeof *p);
}
