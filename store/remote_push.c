/* remote_push.c — sending a repository to a remote (see remote.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/remote.h"
#include "store/remote_internal.h"
#include "store/remote_push_internal.h"
#include "store/repo_internal.h"
#include "store/repokey.h"

#define STATE_DIR "remote"

/* remote/NAME.<suffix> under the repository. */
void remote_state_name(const char *name, const char *suffix, char *out, size_t len)
{
	snprintf(out, len, STATE_DIR "/%s.%s", name, suffix);
}

static int state_dir(struct repo *repo)
{
	if (mkdirat(repo->dirfd, STATE_DIR, 0700) < 0 && errno != EEXIST)
		return store_failp(-errno, "%s/" STATE_DIR, repo->path);
	return 0;
}

/* flock remote/NAME.lock; the fd into *ret_fd. */
int remote_lock(struct repo *repo, const char *name, int *ret_fd)
{
	char lk[128];
	int r = state_dir(repo);
	if (r < 0)
		return r;
	remote_state_name(name, "lock", lk, sizeof lk);
	int fd = openat(repo->dirfd, lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_failp(-errno, "%s/%s", repo->path, lk);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return store_fail(-EWOULDBLOCK, "remote %s: another push or check of it is running",
				  name);
	}
	*ret_fd = fd;
	return 0;
}

int remote_read_manifest(struct rio *rio, struct manifest *ret)
{
	char *buf = NULL;
	size_t len = 0;
	int r = rio_read(rio, REMOTE_MANIFEST, MANIFEST_MAX_BYTES, &buf, &len);
	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0)
		return r;
	char what[256];
	snprintf(what, sizeof what, "remote manifest");
	r = manifest_decode(what, buf, len, ret);
	free(buf);
	return r;
}

int remote_last_manifest(struct repo *repo, const char *name, struct manifest *ret)
{
	char path[128];
	remote_state_name(name, "manifest", path, sizeof path);
	int fd = openat(repo->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : store_failp(-errno, "%s/%s", repo->path, path);
	char *buf = NULL;
	size_t len = 0;
	int r = fio_read_small(fd, MANIFEST_MAX_BYTES, &buf, &len);
	close(fd);
	if (r == -ENOMEM)
		return store_fail(-ENOMEM, "out of memory");
	if (r < 0)
		return store_fail(-STORE_ECORRUPT, "%s/%s: %s", repo->path, path,
				  r == -EFBIG || r == -EINVAL ? "not a manifest (too large, or not a file)"
							      : strerror(-r));
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", repo->path, path);
	r = manifest_decode(what, buf, len, ret);
	free(buf);
	return r;
}

void remote_forget_state(struct repo *repo, const char *name)
{
	/* Every file a push or check keeps for the remote (remote_push_rclone.c:
	 * meta, files, next). */
	static const char *const suffixes[] = {"manifest", "meta", "files", "next", "lock"};
	char path[128];
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		remote_state_name(name, suffixes[i], path, sizeof path);
		unlinkat(repo->dirfd, path, 0);
	}
}

/* A small local file of the repository, whole. */
static int read_local(struct repo *repo, const char *name, char *buf, size_t cap, size_t *ret)
{
	int fd = openat(repo->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return store_failp(-errno, "%s/%s", repo->path, name);
	ssize_t n = read(fd, buf, cap);
	close(fd);
	if (n < 0)
		return store_failp(-errno, "%s/%s", repo->path, name);
	*ret = (size_t)n;
	return 0;
}

/* name on the remote equal to the bytes buf, else written. */
static int put_if_differs(struct rio *rio, const char *name, const void *buf, size_t len)
{
	char *have = NULL;
	size_t hl = 0;
	int r = rio_read(rio, name, 65536, &have, &hl);
	bool same = r == 0 && hl == len && !memcmp(have, buf, len);
	free(have);
	if (r < 0 && r != -ENOENT && r != -STORE_ECORRUPT)
		return r;
	return same ? 0 : rio_write(rio, name, buf, len);
}

/* The pack name of a remote file "packs/ab/<name>.pack", or NULL. */
const char *remote_pack_of(const char *file, char out[PACK_NAME_LEN + 1])
{
	size_t n = strlen(file);
	if (n != 6 + 3 + PACK_NAME_LEN + 5 || strncmp(file, "packs/", 6) || file[8] != '/' ||
	    strcmp(file + n - 5, ".pack") || !manifest_is_pack_name(file + 9, PACK_NAME_LEN) ||
	    strncmp(file + 6, file + 9, 2))
		return NULL;
	memcpy(out, file + 9, PACK_NAME_LEN);
	out[PACK_NAME_LEN] = '\0';
	return out;
}

static int cmp_rpack(const void *a, const void *b)
{
	return strcmp(((const struct remote_rpack *)a)->name, ((const struct remote_rpack *)b)->name);
}

/* The remote's packs (name, size), sorted; leftover temp files removed. */
int remote_list_packs(struct rio *rio, bool remove_tmp, struct remote_rpack **ret, size_t *ret_n)
{
	struct rio_entry *e = NULL;
	size_t n = 0, k = 0;
	int r = rio_list(rio, "packs", &e, &n);
	if (r < 0)
		return r;
	struct remote_rpack *v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		rio_entries_free(e, n);
		return store_fail(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t l = strlen(e[i].name), sl = strlen(RIO_TMP_SUFFIX);
		if (l > sl && !strcmp(e[i].name + l - sl, RIO_TMP_SUFFIX)) {
			/* A transfer a killed push left: never named by a manifest. */
			if (remove_tmp)
				r = rio_remove(rio, e[i].name);
			continue;
		}
		if (remote_pack_of(e[i].name, v[k].name))
			v[k++].size = e[i].size;
	}
	rio_entries_free(e, n);
	if (r < 0) {
		free(v);
		return r;
	}
	qsort(v, k, sizeof *v, cmp_rpack);
	*ret = v;
	*ret_n = k;
	return 0;
}

const struct remote_rpack *remote_find_rpack(const struct remote_rpack *v, size_t n, const char *name)
{
	struct remote_rpack key;
	snprintf(key.name, sizeof key.name, "%s", name);
	return n ? bsearch(&key, v, n, sizeof *v, cmp_rpack) : NULL;
}


static void on_bytes(void *ctx, uint64_t done)
{
	struct push_ctx *c = ctx;
	c->prog.bytes_done = c->base_done + done;
	if (c->o->progress)
		c->o->progress(c->o->ctx, &c->prog);
}

/* A pack the remote holds at full size that no manifest names (a killed
 * push renamed it there only once it was durable and read back): only
 * hashed, for the manifest. */
static int hash_present(struct push_ctx *c, const struct catalog_pack *p)
{
	char rel[64], local[PATH_MAX];
	pack_path(p->name, rel, sizeof rel);
	snprintf(local, sizeof local, "%s/%s", c->repo->path, rel);
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0) /* ENOENT: gc removed it since the listing: nothing to name */
		return errno == ENOENT ? 0 : store_failp(-errno, "%s", local);
	struct manifest_pack mp = {.size = p->size, .gone_ns = 0};
	memcpy(mp.name, p->name, sizeof mp.name);
	int r = rio_hash_file(fd, p->size, rel, mp.sum);
	close(fd);
	if (r == 0)
		r = manifest_add(&c->next, &mp);
	c->prog.packs_done++;
	return r;
}

/* A directory: the packs the remote lacks in one batch (rio_upload_batch:
 * several in flight, each durable and read back before it gets its name,
 * the directories synced once); those it holds complete only hashed, or
 * carried over from its manifest.  Each sent pack goes into the next
 * manifest, which is written only after all of this. */
static int send_packs(struct push_ctx *c)
{
	struct rio_item *items = calloc(c->nlp ? c->nlp : 1, sizeof *items);
	char (*rels)[64] = calloc(c->nlp ? c->nlp : 1, sizeof *rels);
	size_t *from = calloc(c->nlp ? c->nlp : 1, sizeof *from), k = 0;
	int r = items && rels && from ? 0 : store_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < c->nlp; i++) {
		const struct catalog_pack *lp = &c->lp[i];
		const struct remote_rpack *have = remote_find_rpack(c->rp, c->nrp, lp->name);
		const struct manifest_pack *known = manifest_find(&c->prev, lp->name);
		bool complete = have && have->size == lp->size;
		if (complete && known && known->size == lp->size) {
			struct manifest_pack mp = *known;
			mp.gone_ns = 0;
			r = manifest_add(&c->next, &mp);
		} else if (complete) {
			r = hash_present(c, lp);
		} else {
			pack_path(lp->name, rels[k], sizeof rels[k]);
			items[k] = (struct rio_item){.name = rels[k], .size = lp->size};
			from[k++] = i;
		}
	}
	c->base_done = c->prog.bytes_done;
	if (r == 0 && k)
		r = rio_upload_batch(c->rio, c->repo->path, items, k, on_bytes, c);
	for (size_t j = 0; r == 0 && j < k; j++) {
		const struct catalog_pack *lp = &c->lp[from[j]];
		c->prog.packs_done++;
		if (items[j].r == -ENOENT)
			continue; /* gc removed it since the listing: nothing to send */
		struct manifest_pack mp = {.size = lp->size, .gone_ns = 0};
		memcpy(mp.name, lp->name, sizeof mp.name);
		memcpy(mp.sum, items[j].sum, sizeof mp.sum);
		if ((r = manifest_add(&c->next, &mp)) < 0)
			break;
		c->res.new_packs++;
		c->res.new_bytes += lp->size;
		c->prog.bytes_done = c->base_done + c->res.new_bytes;
	}
	/* Sent packs were appended after the carried ones: sorted again for
	 * the look-ups of remote_push_gone. */
	manifest_sort(&c->next);
	if (r == 0 && c->o->progress)
		c->o->progress(c->o->ctx, &c->prog);
	free(items);
	free(rels);
	free(from);
	return r;
}

/* Packs on the remote the catalog no longer lists: kept with the time
 * they were first seen gone, or (past the grace period, deletion
 * allowed) left out of the manifest and collected in *dead. */
int remote_push_gone(struct push_ctx *c, struct remote_rpack **dead, size_t *ndead)
{
	bool may_delete = !c->o->no_delete && !c->rem->append_only;
	*dead = calloc(c->nrp ? c->nrp : 1, sizeof **dead);
	*ndead = 0;
	if (!*dead)
		return store_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nrp; i++) {
		const struct remote_rpack *rp = &c->rp[i];
		if (manifest_find(&c->next, rp->name))
			continue;
		bool local = false;
		for (size_t lo = 0, hi = c->nlp; lo < hi;) {
			size_t mid = (lo + hi) / 2;
			int cmp = strcmp(c->lp[mid].name, rp->name);
			if (!cmp) {
				local = true;
				break;
			}
			if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (local)
			continue; /* being sent again (size differed); handled there */
		const struct manifest_pack *known = manifest_find(&c->prev, rp->name);
		struct manifest_pack mp = {.size = rp->size};
		memcpy(mp.name, rp->name, sizeof mp.name);
		if (known && known->size == rp->size) {
			memcpy(mp.sum, known->sum, sizeof mp.sum);
			mp.gone_ns = known->gone_ns ? known->gone_ns : c->o->now_ns;
		} else {
			/* On the remote, named by no manifest, gone locally (a
			 * killed push sent it before gc removed it, or the remote's
			 * manifest was lost).  Nothing here vouches for it, and
			 * deleting what we cannot account for is not ours to do:
			 * left alone. */
			continue;
		}
		int64_t due = mp.gone_ns + c->o->grace_ns;
		if (may_delete && c->o->now_ns >= due) {
			(*dead)[(*ndead)++] = *rp;
			c->res.deleted_bytes += rp->size;
			c->res.deleted++;
			continue;
		}
		c->res.kept_gone++;
		if (!c->res.next_delete_ns || due < c->res.next_delete_ns)
			c->res.next_delete_ns = due;
		int r = manifest_add(&c->next, &mp);
		if (r < 0)
			return r;
	}
	manifest_sort(&c->next);
	return 0;
}

/* Every pack the next manifest names is on the remote with its size. */
static int verify_listing(struct push_ctx *c)
{
	struct remote_rpack *now = NULL;
	size_t n = 0;
	int r = remote_list_packs(c->rio, false, &now, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->next.n && r == 0; i++) {
		const struct remote_rpack *h = remote_find_rpack(now, n, c->next.packs[i].name);
		if (!h || h->size != c->next.packs[i].size)
			r = store_fail(-EIO, "remote %s: pack %s: %s after upload", c->rem->name,
				       c->next.packs[i].name, h ? "wrong size" : "missing");
	}
	free(now);
	return r;
}

static int save_state(struct push_ctx *c, const char *buf, size_t len)
{
	char path[128], tmp[160];
	remote_state_name(c->rem->name, "manifest", path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int r = fio_write_atomic(c->repo->dirfd, path, tmp, buf, len, 0600);
	return r < 0 ? store_failp(r, "%s/%s", c->repo->path, path) : 0;
}


int remote_push_read_meta(struct push_ctx *c, struct push_meta *m)
{
	int r = repokey_read_wrapped(c->repo, m->key);
	if (r == -ENOENT)
		return store_fail(-ENOENT, "remote %s: the repository has no passphrase-wrapped key "
					   "yet; set one first (ckptfs key passphrase): without it "
					   "the remote could not be recovered",
				  c->rem->name);
	if (r < 0)
		return r;
	return read_local(c->repo, REMOTE_FORMAT, m->fmt, sizeof m->fmt, &m->flen);
}

/* The result r of reading the remote's manifest into c->prev: none yet is
 * fine; one of another repository or unreadable is refused. */
int remote_push_check_prev(struct push_ctx *c, int r)
{
	if (r == -ENOENT) {
		store_error_clear();
		r = 0;
	} else if (r == -STORE_ECORRUPT || r == -STORE_ENEWER) {
		char why[512];
		snprintf(why, sizeof why, "%s", store_error() ? store_error() : "unreadable");
		return store_fail(r, "remote %s: %s (ckptfs check --remote %s)", c->rem->name, why,
				  c->rem->name);
	} else if (r < 0) {
		return r; /* the transport's own line names the target */
	} else if (strcmp(c->prev.repo_id, c->next.repo_id)) {
		return store_fail(-EEXIST, "remote %s: holds another repository (id %s, this one is "
					   "%s)",
				  c->rem->name, c->prev.repo_id, c->next.repo_id);
	}
	return r;
}

static int push_meta(struct push_ctx *c)
{
	struct push_meta m;
	int r = remote_push_read_meta(c, &m);
	if (r < 0 || (r = rio_prepare(c->rio)) < 0 ||
	    (r = remote_push_check_prev(c, remote_read_manifest(c->rio, &c->prev))) < 0)
		return r;
	if ((r = put_if_differs(c->rio, REMOTE_FORMAT, m.fmt, m.flen)) < 0)
		return r;
	return put_if_differs(c->rio, REMOTE_KEY, m.key, sizeof m.key);
}

/* What still has to travel, for progress. */
void remote_push_totals(struct push_ctx *c)
{
	for (size_t i = 0; i < c->nlp; i++) {
		const struct remote_rpack *h = remote_find_rpack(c->rp, c->nrp, c->lp[i].name);
		if (!h || h->size != c->lp[i].size || !manifest_find(&c->prev, c->lp[i].name)) {
			c->prog.packs_total++;
			c->prog.bytes_total += h && h->size == c->lp[i].size ? 0 : c->lp[i].size;
		}
	}
}

/* A directory: the format and key, the packs in one batch (each
 * verified, all durable), a listing that checks every size, then the
 * manifest. */
static int push_dir(struct push_ctx *c, struct remote_rpack **dead, size_t *ndead, char **buf,
		    size_t *len)
{
	int r;
	if ((r = push_meta(c)) < 0 || (r = remote_list_packs(c->rio, true, &c->rp, &c->nrp)) < 0 ||
	    (r = catalog_pack_list(c->repo, &c->lp, &c->nlp)) < 0)
		return r;
	remote_push_totals(c);
	if ((r = send_packs(c)) < 0 || (r = remote_push_gone(c, dead, ndead)) < 0 ||
	    (r = verify_listing(c)) < 0 || (r = manifest_encode(&c->next, buf, len)) < 0)
		return r;
	/* The commit point: from here the remote names the new packs. */
	if ((r = rio_write(c->rio, REMOTE_MANIFEST, *buf, *len)) < 0)
		return r;
	/* A killed push's temp key or format (put_if_differs found the real
	 * ones current, so nothing moved them in). */
	if ((r = rio_remove(c->rio, REMOTE_KEY RIO_TMP_SUFFIX)) < 0)
		return r;
	return rio_remove(c->rio, REMOTE_FORMAT RIO_TMP_SUFFIX);
}

int remote_push(struct repo *repo, const struct remote *rem, const struct push_opts *o,
		struct push_result *ret)
{
	struct push_ctx c = {.repo = repo, .rem = rem, .o = o};
	struct remote_rpack *dead = NULL;
	size_t ndead = 0;
	char *buf = NULL;
	size_t len = 0;
	int lockfd = -1;
	int r = remote_lock(repo, rem->name, &lockfd);
	if (r < 0)
		return r;
	repokey_repo_id(repo, c.next.repo_id);
	c.next.time_ns = o->now_ns;
	snprintf(c.next.remote, sizeof c.next.remote, "%s", rem->name);
	if ((r = rio_open(rem->target, &o->rio, &c.rio)) < 0)
		goto out;
	r = rio_is_rclone(c.rio) ? remote_push_rclone(&c, &dead, &ndead, &buf, &len)
				 : push_dir(&c, &dead, &ndead, &buf, &len);
	if (r < 0)
		goto out;
	if (ndead) {
		/* After the manifest that no longer names them; over rclone in
		 * one run for all of them. */
		char (*rels)[64] = calloc(ndead, sizeof *rels);
		char **names = calloc(ndead, sizeof *names);
		if (!rels || !names)
			r = store_fail(-ENOMEM, "out of memory");
		for (size_t i = 0; r == 0 && i < ndead; i++) {
			pack_path(dead[i].name, rels[i], sizeof rels[i]);
			names[i] = rels[i];
		}
		if (r == 0)
			r = rio_remove_many(c.rio, names, ndead);
		if (r == 0)
			r = rio_sync(c.rio);
		free(rels);
		free(names);
	}
	if (r == 0)
		r = save_state(&c, buf, len);
	if (r == 0) {
		for (size_t i = 0; i < c.next.n; i++)
			c.res.bytes += c.next.packs[i].size;
		c.res.packs = c.next.n;
		*ret = c.res;
	}
out:
	free(buf);
	free(dead);
	free(c.rp);
	free(c.lp);
	manifest_clear(&c.prev);
	manifest_clear(&c.next);
	rio_free(c.rio);
	close(lockfd);
	return r;
}

int remote_status(struct repo *repo, const char *name, struct remote_status *ret)
{
	struct remote_status s = {0};
	struct manifest m = {0};
	struct catalog_pack *lp = NULL;
	size_t nlp = 0;
	int r = remote_last_manifest(repo, name, &m);
	if (r < 0 && r != -ENOENT)
		return r;
	s.pushed = r == 0;
	s.last_ns = m.time_ns;
	for (size_t i = 0; i < m.n; i++) {
		s.packs++;
		s.bytes += m.packs[i].size;
		s.gone_packs += m.packs[i].gone_ns != 0;
	}
	if ((r = catalog_pack_list(repo, &lp, &nlp)) < 0) {
		manifest_clear(&m);
		return r;
	}
	for (size_t i = 0; i < nlp; i++)
		if (!manifest_find(&m, lp[i].name)) {
			s.pending_packs++;
			s.pending_bytes += lp[i].size;
		}
	free(lp);
	manifest_clear(&m);
	*ret = s;
	return 0;
}
