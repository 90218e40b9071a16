/* remote_push_rclone.c — a push to an rclone remote in as few rclone runs
 * as the order allows.
 *
 * Each rclone run costs its start (about 0.2-0.8 s here), so a push is
 * planned from what two runs tell, made side by side: the remote's
 * manifest (cat, in a thread) and one listing of the whole remote (lsf -R).
 * Then one `rclone copy --checksum` sends every missing pack straight to
 * its name, while the new manifest (and the format and key when they
 * changed) go to temp names beside it; only when all of that succeeded is
 * the manifest moved into place, the commit point: the remote names a
 * pack only once rclone copied and checked it.  A pack a killed push left
 * half written is named by no manifest: its size is wrong, or its hash
 * (--checksum), and the next push sends it again.  A push is three steps
 * (the cat and the listing; the copy; the manifest's move), four when the
 * format or key changed on a remote that has a manifest; the copy's
 * rclone is started beside the look and held on its stdin list (rio.h,
 * rio_upload_begin), and the move's beside the copy (held and stopped),
 * so that neither waits for an rclone start.  A held run has touched
 * nothing on the remote: a remote the look refuses (another
 * repository's) gets nothing written.  The sums of the
 * packs to send (XXH3-128, for the manifest) are taken in a thread from
 * the first step on, while rclone starts and copies; the manifest is
 * finished, staged and sent to its temp name beside the copy, so no step
 * waits for the hashing.
 *
 * The format and the wrapped key are re-sent only when they may differ:
 * the listing gives their sizes, and remote/NAME.meta keeps the XXH3-128
 * of what the last push sent, which holds for the remote as long as its
 * manifest is still the one that push wrote (remote/NAME.manifest, same
 * push time).  Anything else (first push, another machine pushed, a
 * passphrase change) sends them again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/remote_push_internal.h"
#include "store/repo_internal.h"

/* The remote's manifest, read while the main thread lists the remote.
 * The message of a failure is per thread (err.h): kept to be re-told. */
struct fetch {
	struct rio *rio;
	struct manifest m;
	int r;
	char why[1024];
};

static void *fetch_manifest(void *p)
{
	struct fetch *f = p;
	f->r = remote_read_manifest(f->rio, &f->m);
	if (f->r < 0)
		snprintf(f->why, sizeof f->why, "%s", store_error() ? store_error() : "");
	return NULL;
}

/* What the listing says beyond the packs. */
struct seen {
	int64_t key_size, fmt_size; /* -1: absent */
	bool key_tmp, fmt_tmp;      /* a killed push's temp copies are there */
	bool manifest_tmp;
};

static int cmp_rpack(const void *a, const void *b)
{
	return strcmp(((const struct remote_rpack *)a)->name, ((const struct remote_rpack *)b)->name);
}

/* The listing of the whole remote into c->rp (packs) and *seen. */
static int sort_listing(struct push_ctx *c, struct rio_entry *e, size_t n, struct seen *seen)
{
	seen->key_size = seen->fmt_size = -1;
	if (!(c->rp = calloc(n ? n : 1, sizeof *c->rp)))
		return store_fail(-ENOMEM, "out of memory");
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *name = e[i].name;
		size_t l = strlen(name), sl = strlen(RIO_TMP_SUFFIX);
		if (!strcmp(name, REMOTE_KEY))
			seen->key_size = (int64_t)e[i].size;
		else if (!strcmp(name, REMOTE_FORMAT))
			seen->fmt_size = (int64_t)e[i].size;
		else if (!strcmp(name, REMOTE_KEY RIO_TMP_SUFFIX))
			seen->key_tmp = true;
		else if (!strcmp(name, REMOTE_FORMAT RIO_TMP_SUFFIX))
			seen->fmt_tmp = true;
		else if (!strcmp(name, REMOTE_MANIFEST RIO_TMP_SUFFIX))
			seen->manifest_tmp = true;
		else if (!strncmp(name, "packs/", 6) && l > sl && !strcmp(name + l - sl, RIO_TMP_SUFFIX))
			r = rio_remove(c->rio, name); /* an older push's temp upload */
		else if (remote_pack_of(name, c->rp[c->nrp].name))
			c->rp[c->nrp++].size = e[i].size;
	}
	qsort(c->rp, c->nrp, sizeof *c->rp, cmp_rpack);
	return r;
}

/* The sums of the local packs the last push did not send, taken while
 * rclone starts (most of its start is waiting): the packs this push will
 * most likely send.  sums[i] of c->lp[i], valid where ok[i]. */
struct prehash {
	struct push_ctx *c;
	struct manifest last;
	struct manifest *others; /* the last pushes to the other remotes */
	size_t nothers;
	char (*sums)[RIO_SUM_LEN + 1];
	bool *ok;
	pthread_t th;
	bool running;
};

/* The last manifests pushed to the other remotes (remote/OTHER.manifest):
 * their sums are of the same immutable local packs, so a pack another
 * remote already got (a USB disk pushed before the cloud) is not hashed
 * again.  Unreadable ones are skipped: they only spare work. */
static void load_others(struct prehash *h)
{
	struct push_ctx *c = h->c;
	int fd = openat(c->repo->dirfd, "remote", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(".manifest");
		char name[REMOTE_NAME_MAX + 1];
		if (l <= sl || l - sl > REMOTE_NAME_MAX || strcmp(e->d_name + l - sl, ".manifest"))
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(l - sl), e->d_name);
		if (!strcmp(name, c->rem->name))
			continue;
		struct manifest *nm = realloc(h->others, (h->nothers + 1) * sizeof *nm);
		if (!nm)
			break;
		h->others = nm;
		memset(&nm[h->nothers], 0, sizeof *nm);
		if (remote_last_manifest(c->repo, name, &nm[h->nothers]) == 0)
			h->nothers++;
	}
	closedir(d);
	store_error_clear(); /* nothing here is reported */
}

/* A sum of lp the last push to this remote or another's holds, or NULL. */
static const char *known_sum(const struct prehash *h, const struct catalog_pack *lp)
{
	const struct manifest_pack *own = manifest_find(&h->last, lp->name);
	if (own && own->size == lp->size)
		return own->sum;
	for (size_t k = 0; k < h->nothers; k++) {
		const struct manifest_pack *mp = manifest_find(&h->others[k], lp->name);
		if (mp && mp->size == lp->size)
			return mp->sum;
	}
	return NULL;
}

static void *prehash_run(void *p)
{
	struct prehash *h = p;
	load_others(h);
	for (size_t i = 0; i < h->c->nlp; i++) {
		const struct catalog_pack *lp = &h->c->lp[i];
		const char *sum = known_sum(h, lp);
		if (sum) {
			memcpy(h->sums[i], sum, RIO_SUM_LEN + 1);
			h->ok[i] = true;
			continue;
		}
		if (manifest_find(&h->last, lp->name))
			continue; /* most likely carried over from the remote's manifest */
		char rel[64], local[PATH_MAX];
		pack_path(lp->name, rel, sizeof rel);
		snprintf(local, sizeof local, "%s/%s", h->c->repo->path, rel);
		int fd = open(local, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		h->ok[i] = rio_hash_file(fd, lp->size, rel, h->sums[i]) == 0;
		close(fd);
	}
	store_error_clear(); /* this thread's: nothing here is reported */
	return NULL;
}

static void prehash_start(struct prehash *h)
{
	h->running = pthread_create(&h->th, NULL, prehash_run, h) == 0;
}

/* Wait for the hashing (a no-op once done, or if it never started: the
 * sums it did not take are taken by finish_manifest). */
static void prehash_join(struct prehash *h)
{
	if (h->running)
		pthread_join(h->th, NULL);
	h->running = false;
}

/* The manifest and the listing, side by side (and the hashing above,
 * which goes on beside the copy: finish_manifest waits for it). */
static int look(struct push_ctx *c, struct seen *seen, struct prehash *h)
{
	struct fetch f = {.rio = c->rio};
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, fetch_manifest, &f) == 0;
	if (!threaded)
		fetch_manifest(&f);
	prehash_start(h);
	struct rio_entry *e = NULL;
	size_t n = 0;
	int r = rio_list(c->rio, "", &e, &n);
	if (threaded)
		pthread_join(th, NULL);
	if (r == 0)
		r = sort_listing(c, e, n, seen);
	rio_entries_free(e, n);
	c->prev = f.m;
	if (r < 0)
		return r;
	if (f.r < 0 && f.r != -ENOENT && f.why[0])
		store_fail(f.r, "%s", f.why);
	return remote_push_check_prev(c, f.r);
}

static void sum_of(const void *buf, size_t len, char out[RIO_SUM_LEN + 1])
{
	XXH128_canonical_t cs;
	XXH128_canonicalFromHash(&cs, XXH3_128bits(buf, len));
	for (size_t i = 0; i < sizeof cs.digest; i++)
		snprintf(out + 2 * i, 3, "%02x", cs.digest[i]);
}

/* The meta state line: the sums of the format and key a push sent. */
static void meta_line(const struct push_meta *m, char out[2 * RIO_SUM_LEN + 16])
{
	char f[RIO_SUM_LEN + 1], k[RIO_SUM_LEN + 1];
	sum_of(m->fmt, m->flen, f);
	sum_of(m->key, sizeof m->key, k);
	snprintf(out, 2 * RIO_SUM_LEN + 16, "%s %s\n", f, k);
}

/* Whether the remote holds these very format and key bytes (see the top
 * of this file); when in doubt, no. */
static bool meta_unchanged(struct push_ctx *c, const struct push_meta *m, const struct seen *seen)
{
	if (seen->fmt_size != (int64_t)m->flen || seen->key_size != (int64_t)sizeof m->key ||
	    !c->prev.time_ns)
		return false;
	struct manifest last = {0};
	int r = remote_last_manifest(c->repo, c->rem->name, &last);
	bool same_push = r == 0 && last.time_ns == c->prev.time_ns;
	manifest_clear(&last);
	store_error_clear();
	if (!same_push)
		return false;
	char path[128], want[2 * RIO_SUM_LEN + 16], have[2 * RIO_SUM_LEN + 16] = "";
	remote_state_name(c->rem->name, "meta", path, sizeof path);
	int fd = openat(c->repo->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, have, sizeof have - 1);
	close(fd);
	meta_line(m, want);
	return n > 0 && (size_t)n == strlen(want) && !memcmp(have, want, (size_t)n);
}

/* Whether this push will most likely copy packs: no last push to this
 * remote, or a local pack it did not send. */
static bool expect_packs(const struct push_ctx *c, const struct manifest *last)
{
	if (!last->time_ns)
		return true;
	for (size_t i = 0; i < c->nlp; i++) {
		const struct manifest_pack *mp = manifest_find(last, c->lp[i].name);
		if (!mp || mp->size != c->lp[i].size)
			return true;
	}
	return false;
}

struct plan {
	char **names; /* files for the transfer, relative to the repository */
	size_t n;
};

static int plan_add(struct plan *p, const char *name)
{
	if (!(p->names[p->n] = strdup(name)))
		return store_fail(-ENOMEM, "out of memory");
	p->n++;
	return 0;
}

/* Every local pack into c->next: carried over when the remote's manifest
 * already names it complete, else put in the transfer and added with no
 * sum yet (finish_manifest takes it: the manifest's sum is of the local
 * bytes, hashed while rclone copies). */
static int plan_packs(struct push_ctx *c, struct plan *p)
{
	int r = 0;
	for (size_t i = 0; i < c->nlp && r == 0; i++) {
		const struct catalog_pack *lp = &c->lp[i];
		const struct remote_rpack *have = remote_find_rpack(c->rp, c->nrp, lp->name);
		const struct manifest_pack *known = manifest_find(&c->prev, lp->name);
		bool complete = have && have->size == lp->size;
		struct manifest_pack mp = {.size = lp->size};
		if (complete && known && known->size == lp->size) {
			mp = *known;
			mp.gone_ns = 0;
			r = manifest_add(&c->next, &mp);
			continue;
		}
		char rel[64];
		pack_path(lp->name, rel, sizeof rel);
		memcpy(mp.name, lp->name, sizeof mp.name);
		if (faccessat(c->repo->dirfd, rel, F_OK, 0) < 0) {
			if (errno != ENOENT) /* ENOENT: gc removed it since the listing */
				r = store_failp(-errno, "%s/%s", c->repo->path, rel);
			continue;
		}
		r = manifest_add(&c->next, &mp);
		/* One the remote holds at full size that no manifest names (a
		 * killed push's) goes in the transfer too: --checksum skips it
		 * if its bytes are right and sends it again if they are not. */
		if (r == 0)
			r = plan_add(p, rel);
		if (r == 0 && !complete) {
			c->res.new_packs++;
			c->res.new_bytes += lp->size;
		}
	}
	return r;
}

/* The new manifest where the transfer picks it up: remote/NAME.next in
 * the repository (the remote's own state, under its lock). */
static int stage_manifest(struct push_ctx *c, const char *buf, size_t len, char *rel, size_t cap)
{
	char tmp[160];
	remote_state_name(c->rem->name, "next", rel, cap);
	snprintf(tmp, sizeof tmp, "%s.tmp", rel);
	int r = fio_write_atomic(c->repo->dirfd, rel, tmp, buf, len, 0600);
	return r < 0 ? store_failp(r, "%s/%s", c->repo->path, rel) : 0;
}

/* The local pack named name: its index in c->lp (sorted), or c->nlp. */
static size_t local_index(const struct push_ctx *c, const char *name)
{
	for (size_t lo = 0, hi = c->nlp; lo < hi;) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(c->lp[mid].name, name);
		if (!cmp)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c->nlp;
}

/* The sums the plan left out, then the manifest encoded and staged where
 * the transfer picks it up.  Runs in a thread of rio_upload_many while
 * rclone copies the packs (nothing else touches c->next meanwhile). */
struct finish {
	struct push_ctx *c;
	struct prehash *h;
	char **buf;
	size_t *len;
	char staged[128];
};

static int finish_manifest(void *p)
{
	struct finish *f = p;
	struct push_ctx *c = f->c;
	prehash_join(f->h);
	size_t keep = 0;
	int r = 0;
	for (size_t k = 0; k < c->next.n && r == 0; k++) {
		struct manifest_pack *mp = &c->next.packs[k];
		size_t i = mp->sum[0] ? c->nlp : local_index(c, mp->name);
		if (i < c->nlp && f->h->ok[i]) {
			memcpy(mp->sum, f->h->sums[i], sizeof mp->sum);
		} else if (i < c->nlp) {
			char rel[64], local[PATH_MAX];
			pack_path(mp->name, rel, sizeof rel);
			snprintf(local, sizeof local, "%s/%s", c->repo->path, rel);
			int fd = open(local, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue; /* gc removed it meanwhile: left out of the manifest */
			if (fd < 0) {
				r = store_failp(-errno, "%s", local);
				break;
			}
			r = rio_hash_file(fd, mp->size, rel, mp->sum);
			close(fd);
		}
		if (r == 0)
			c->next.packs[keep++] = *mp;
	}
	c->next.n = keep;
	if (r == 0 && (r = manifest_encode(&c->next, f->buf, f->len)) == 0)
		r = stage_manifest(c, *f->buf, *f->len, f->staged, sizeof f->staged);
	return r;
}

static int save_meta(struct push_ctx *c, const struct push_meta *m)
{
	char path[128], tmp[160], line[2 * RIO_SUM_LEN + 16];
	remote_state_name(c->rem->name, "meta", path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	meta_line(m, line);
	int r = fio_write_atomic(c->repo->dirfd, path, tmp, line, strlen(line), 0600);
	return r < 0 ? store_failp(r, "%s/%s", c->repo->path, path) : 0;
}

int remote_push_rclone(struct push_ctx *c, struct remote_rpack **dead, size_t *ndead, char **buf,
		       size_t *len)
{
	struct push_meta m;
	struct seen seen = {-1, -1, false, false, false};
	struct plan p = {0};
	char staged[128], list[160];
	int r = remote_push_read_meta(c, &m);
	if (r < 0)
		return r;
	remote_state_name(c->rem->name, "files", list, sizeof list);
	char lpath[4300];
	snprintf(lpath, sizeof lpath, "%s/%s", c->repo->path, list);
	struct prehash h = {.c = c};
	struct finish fin = {.c = c, .h = &h, .buf = buf, .len = len};
	struct rio_upload *up = NULL;
	if ((r = rio_set_list_path(c->rio, lpath)) < 0 ||
	    (r = catalog_pack_list(c->repo, &c->lp, &c->nlp)) < 0)
		return r;
	if (remote_last_manifest(c->repo, c->rem->name, &h.last) < 0)
		store_error_clear(); /* none: every pack hashed */
	h.sums = calloc(c->nlp + 1, sizeof *h.sums);
	h.ok = calloc(c->nlp + 1, sizeof *h.ok);
	p.names = calloc(c->nlp + 2, sizeof *p.names);
	if (!h.sums || !h.ok || !p.names) {
		r = store_fail(-ENOMEM, "out of memory");
		goto out;
	}
	/* The pack copy's rclone starts now, beside the look, and waits for
	 * its list: a remote the look refuses gets nothing from it (it is
	 * killed unreleased, before it has opened the remote).  Not when the
	 * last push sent every local pack (most likely nothing to copy): its
	 * start would only take CPU from the look's two. */
	if ((r = rio_upload_begin(c->rio, c->repo->path, expect_packs(c, &h.last), &up)) < 0 ||
	    (r = look(c, &seen, &h)) < 0)
		goto out;
	remote_push_totals(c);
	bool direct = c->prev.time_ns == 0, staged_meta = false;
	if (!meta_unchanged(c, &m, &seen)) {
		if ((r = plan_add(&p, REMOTE_FORMAT)) < 0 || (r = plan_add(&p, REMOTE_KEY)) < 0)
			goto out;
		staged_meta = !direct;
	}
	if ((r = plan_packs(c, &p)) < 0 || (r = remote_push_gone(c, dead, ndead)) < 0)
		goto out;
	/* No manifest there yet: nothing reads the remote until this push's
	 * manifest arrives, so the format and key need no temp names.  The
	 * manifest is finished (its sums) and staged while the packs travel. */
	remote_state_name(c->rem->name, "next", staged, sizeof staged);
	r = rio_upload_many(up, p.names, p.n, direct, staged, REMOTE_MANIFEST, !seen.manifest_tmp,
			    finish_manifest, &fin);
	unlinkat(c->repo->dirfd, staged, 0);
	/* A killed push's temp key or format this one did not move in. */
	if (r == 0 && !staged_meta && seen.key_tmp)
		r = rio_remove(c->rio, REMOTE_KEY RIO_TMP_SUFFIX);
	if (r == 0 && !staged_meta && seen.fmt_tmp)
		r = rio_remove(c->rio, REMOTE_FORMAT RIO_TMP_SUFFIX);
	if (r == 0) {
		c->prog.packs_done = c->prog.packs_total;
		c->prog.bytes_done = c->prog.bytes_total;
		if (c->o->progress)
			c->o->progress(c->o->ctx, &c->prog);
		r = save_meta(c, &m);
	}
out:
	rio_upload_free(up);
	prehash_join(&h);
	for (size_t i = 0; i < p.n; i++)
		free(p.names[i]);
	free(p.names);
	free(h.sums);
	free(h.ok);
	manifest_clear(&h.last);
	for (size_t k = 0; k < h.nothers; k++)
		manifest_clear(&h.others[k]);
	free(h.others);
	return r;
}
