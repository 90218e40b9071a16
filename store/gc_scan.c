/* gc_scan.c — the plan's read of the catalog and of packs/, in a thread
 * of its own alongside the mark (gc_internal.h).
 *
 * The plan needs every row of the blob index, the pack list and the pack
 * files on disk; the mark needs none of them but the snapshot records'
 * ids.  Read one after the other on the shared connection they were a
 * fifth of gc's wall time on a long history, with the second core idle;
 * here the rows are read on a read connection of this thread's own while
 * the mark walks the trees, and classified once the mark set is complete
 * (gc_plan.c).  Both read the same catalog: gc holds the writer lock from
 * before the expired trash is purged to its end, so nothing commits
 * between the two read transactions' starts.
 *
 * Every row is kept until then (72 bytes each, dead ones too), not only
 * the live rows of the packs to repack: that is what reading before the
 * mark is done costs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/catalog_gc.h"
#include "store/err.h"
#include "store/gc_internal.h"
#include "store/repo_internal.h"

struct gc_scan {
	struct repo *repo;
	pthread_t thread;
	bool joined;
	int err; /* the thread's failure, its message in why */
	char why[512];
	struct gc_plan plan; /* every row in live, unclassified */
	size_t cap, livecap, unindexedcap;
	blob_id *snaprecs; /* ids of the rows of type BLOB_SNAPSHOT */
	size_t nsnaprecs, snapreccap;
};

static int add_pack(void *p, int64_t dbid, const char *name, uint64_t size)
{
	struct gc_scan *sc = p;
	struct gc_plan *pl = &sc->plan;
	if (pl->n == sc->cap) {
		size_t ncap = sc->cap ? 2 * sc->cap : 64;
		struct gc_pack *nv = realloc(pl->packs, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->packs = nv;
		sc->cap = ncap;
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
	struct gc_scan *sc = p;
	struct gc_plan *pl = &sc->plan;
	struct gc_pack *k = pack_by_dbid(pl, pack_dbid);
	if (!k)
		return 0; /* a row without its pack: check's finding, nothing to collect */
	if (pl->nlive == sc->livecap) {
		size_t ncap = sc->livecap ? 2 * sc->livecap : 1024;
		struct gc_live *nv = realloc(pl->live, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->live = nv;
		sc->livecap = ncap;
	}
	pl->live[pl->nlive++] = (struct gc_live){ .pack = (uint32_t)(k - pl->packs), .e = *e };
	if (e->type == BLOB_SNAPSHOT) {
		if (sc->nsnaprecs == sc->snapreccap) {
			size_t ncap = sc->snapreccap ? 2 * sc->snapreccap : 256;
			blob_id *nv = realloc(sc->snaprecs, ncap * sizeof *nv);
			if (!nv)
				return store_fail(-ENOMEM, "gc: out of memory");
			sc->snaprecs = nv;
			sc->snapreccap = ncap;
		}
		sc->snaprecs[sc->nsnaprecs++] = e->id;
	}
	return 0;
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

static int add_unindexed(struct gc_scan *sc, const char *name, uint64_t size)
{
	struct gc_plan *pl = &sc->plan;
	if (pl->nunindexed == sc->unindexedcap) {
		size_t ncap = sc->unindexedcap ? 2 * sc->unindexedcap : 16;
		char **nv = realloc(pl->unindexed, ncap * sizeof *nv);
		if (!nv)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->unindexed = nv;
		uint64_t *ns = realloc(pl->unindexed_size, ncap * sizeof *ns);
		if (!ns)
			return store_fail(-ENOMEM, "gc: out of memory");
		pl->unindexed_size = ns;
		sc->unindexedcap = ncap;
	}
	char *s = strdup(name);
	if (!s)
		return store_fail(-ENOMEM, "gc: out of memory");
	pl->unindexed[pl->nunindexed] = s;
	pl->unindexed_size[pl->nunindexed++] = size;
	return 0;
}

static int scan_fan(struct gc_scan *sc, int pfd, const char *fan, char **known, size_t nknown)
{
	struct repo *repo = sc->repo;
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
		r = add_unindexed(sc, name, (uint64_t)st.st_size);
	}
	closedir(d);
	return r;
}

/* Pack files in packs/ the catalog does not list. */
static int find_unindexed(struct gc_scan *sc)
{
	struct repo *repo = sc->repo;
	struct gc_plan *pl = &sc->plan;
	char **known = malloc((pl->n ? pl->n : 1) * sizeof *known);
	if (!known)
		return store_fail(-ENOMEM, "gc: out of memory");
	for (size_t i = 0; i < pl->n; i++)
		known[i] = pl->packs[i].name;
	qsort(known, pl->n, sizeof *known, cmp_str);
	int r = 0;
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
			r = scan_fan(sc, pfd, de->d_name, known, pl->n);
	closedir(top);
out:
	free(known);
	return r;
}

static void *scan_main(void *p)
{
	struct gc_scan *sc = p;
	int r = catalog_scan_private(sc->repo, add_pack, add_blob, sc);
	if (r >= 0)
		r = find_unindexed(sc);
	if (r < 0) {
		/* The message is this thread's: copied for the waiter. */
		sc->err = r;
		snprintf(sc->why, sizeof sc->why, "%s", store_error() ? store_error() : strerror(-r));
	}
	return NULL;
}

int gc_scan_start(struct repo *repo, struct gc_scan **ret)
{
	struct gc_scan *sc = calloc(1, sizeof *sc);
	if (!sc)
		return store_fail(-ENOMEM, "gc: out of memory");
	sc->repo = repo;
	if (pthread_create(&sc->thread, NULL, scan_main, sc) != 0) {
		free(sc);
		return store_fail(-EAGAIN, "gc: cannot start a thread");
	}
	*ret = sc;
	return 0;
}

int gc_scan_wait(struct gc_scan *sc)
{
	if (!sc->joined) {
		pthread_join(sc->thread, NULL);
		sc->joined = true;
	}
	return sc->err ? store_fail(sc->err, "%s", sc->why) : 0;
}

const blob_id *gc_scan_snaprecs(const struct gc_scan *sc, size_t *ret_n)
{
	*ret_n = sc->nsnaprecs;
	return sc->snaprecs;
}

void gc_scan_take(struct gc_scan *sc, struct gc_plan *ret)
{
	*ret = sc->plan;
	memset(&sc->plan, 0, sizeof sc->plan);
}

void gc_scan_free(struct gc_scan *sc)
{
	if (!sc)
		return;
	if (!sc->joined)
		pthread_join(sc->thread, NULL);
	gc_plan_clear(&sc->plan);
	free(sc->snaprecs);
	free(sc);
}
