/* remote_check.c — verifying what a remote holds (see remote.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/blob.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/keywrap.h"
#include "store/remote.h"
#include "store/remote_internal.h"
#include "store/repo_internal.h"
#include "store/repokey.h"

struct rc_ctx {
	struct repo *repo;
	const struct remote *rem;
	const struct remote_check_opts *o;
	struct rio *rio;
	struct remote_check_result *res;
	int workfd; /* remote/NAME.check/: a downloaded pack under packs/ab/ */
	char work[128];
};

static void say(struct rc_ctx *c, enum check_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct rc_ctx *c, enum check_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (level == CHECK_DAMAGE)
		c->res->healthy = false;
	if (c->o->report)
		c->o->report(c->o->ctx, level, line);
}

static int damaged(struct rc_ctx *c, const char *pack)
{
	char **nd = realloc(c->res->damaged, (c->res->damaged_packs + 1) * sizeof *nd);
	if (!nd)
		return store_fail(-ENOMEM, "out of memory");
	c->res->damaged = nd;
	if (!(nd[c->res->damaged_packs] = strdup(pack)))
		return store_fail(-ENOMEM, "out of memory");
	c->res->damaged_packs++;
	return 0;
}

/* format and key.wrapped: present and sound. */
static int check_meta(struct rc_ctx *c)
{
	char *buf = NULL;
	size_t len = 0;
	int r = rio_read(c->rio, REMOTE_KEY, KEYWRAP_BYTES + 1, &buf, &len);
	if (r == -ENOENT || r == -STORE_ECORRUPT)
		say(c, CHECK_DAMAGE, "key.wrapped: %s", r == -ENOENT ? "missing" : "too large");
	else if (r < 0)
		return r;
	else if (keywrap_parse("key.wrapped", (const uint8_t *)buf, len, NULL) < 0)
		say(c, CHECK_DAMAGE, "%s", store_error());
	free(buf);
	buf = NULL;
	r = rio_read(c->rio, REMOTE_FORMAT, 4096, &buf, &len);
	if (r == -ENOENT || (r == 0 && (len < 18 || memcmp(buf, "ckptfs repository\n", 18))))
		say(c, CHECK_DAMAGE, "format: %s", r == -ENOENT ? "missing" : "not a ckptfs one");
	else if (r < 0 && r != -STORE_ECORRUPT)
		return r;
	free(buf);
	return 0;
}

/* Authenticate every blob of the downloaded pack. */
static int verify_blobs(struct rc_ctx *c, const char *name, const char **ret_why)
{
	struct blob_codec *codec = repo_codec(c->repo);
	struct pack_entry *e = NULL;
	size_t n = 0;
	uint64_t size = 0;
	if (!codec)
		return store_fail(-ENOMEM, "out of memory");
	store_error_clear();
	int r = pack_read_index(c->workfd, name, codec, &e, &n, &size);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret_why = "its index does not open";
		return 1;
	}
	int bad = 0;
	for (size_t i = 0; i < n && !bad; i++) {
		uint8_t *stored = malloc(e[i].length ? e[i].length : 1), *plain = NULL;
		size_t plen = 0;
		if (!stored) {
			free(e);
			return store_fail(-ENOMEM, "out of memory");
		}
		if (pack_read_blob(c->workfd, name, e[i].offset, e[i].length, stored) < 0 ||
		    blob_open(codec, &e[i].id, e[i].type, stored, e[i].length, e[i].raw_length,
			      &plain, &plen) < 0) {
			*ret_why = "a blob in it does not authenticate";
			bad = 1;
		}
		free(plain);
		free(stored);
		c->res->blobs_read++;
	}
	free(e);
	return bad;
}

/* Download one pack and verify it whole. */
static int read_pack(struct rc_ctx *c, const struct manifest_pack *p)
{
	char rel[64], fan[16], sum[RIO_SUM_LEN + 1];
	pack_path(p->name, rel, sizeof rel);
	snprintf(fan, sizeof fan, "packs/%.2s", p->name);
	mkdirat(c->workfd, "packs", 0700);
	mkdirat(c->workfd, fan, 0700);
	int fd = openat(c->workfd, rel, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_failp(-errno, "%s/%s/%s", c->repo->path, c->work, rel);
	uint64_t size = 0;
	int r = rio_download(c->rio, rel, fd, sum, &size, NULL, NULL);
	close(fd);
	if (r == -ENOENT || r == -EIO) {
		/* Vanished since the listing, or unreadable there. */
		say(c, CHECK_DAMAGE, "pack %s: cannot be read from the remote: %s", p->name,
		    store_error() ? store_error() : strerror(-r));
		r = damaged(c, p->name);
		goto out;
	}
	if (r < 0)
		goto out;
	c->res->packs_read++;
	c->res->bytes_read += size;
	const char *why = NULL;
	if (size != p->size)
		why = "its size changed while it was read";
	else if (strcmp(sum, p->sum))
		why = "its bytes do not match the manifest's checksum";
	else if ((r = verify_blobs(c, p->name, &why)) < 0)
		goto out;
	r = 0;
	if (why) {
		say(c, CHECK_DAMAGE, "pack %s: %s", p->name, why);
		r = damaged(c, p->name);
	}
out:
	unlinkat(c->workfd, rel, 0);
	unlinkat(c->workfd, fan, AT_REMOVEDIR);
	return r;
}

/* Verify a pack rclone fetched into the work folder: size, the
 * manifest's XXH3-128, every blob; then remove it. */
static int verify_fetched(struct rc_ctx *c, const struct manifest_pack *p)
{
	char rel[64], sum[RIO_SUM_LEN + 1];
	pack_path(p->name, rel, sizeof rel);
	int fd = openat(c->workfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			return store_failp(-errno, "%s/%s/%s", c->repo->path, c->work, rel);
		say(c, CHECK_DAMAGE, "pack %s: cannot be read from the remote: not fetched", p->name);
		return damaged(c, p->name);
	}
	struct stat st;
	int r = fstat(fd, &st) < 0 ? store_failp(-errno, "%s/%s", c->work, rel) : 0;
	const char *why = NULL;
	if (r == 0 && (uint64_t)st.st_size != p->size)
		why = "its size changed while it was read";
	else if (r == 0 && (r = rio_hash_file(fd, p->size, rel, sum)) == 0 && strcmp(sum, p->sum))
		why = "its bytes do not match the manifest's checksum";
	close(fd);
	if (r == 0) {
		c->res->packs_read++;
		c->res->bytes_read += (uint64_t)st.st_size;
	}
	if (r == 0 && !why && (r = verify_blobs(c, p->name, &why)) > 0)
		r = 0;
	unlinkat(c->workfd, rel, 0);
	if (r < 0)
		return r;
	if (why) {
		say(c, CHECK_DAMAGE, "pack %s: %s", p->name, why);
		return damaged(c, p->name);
	}
	return 0;
}

/* A batch fetched by one rclone run (at most CHECK_BATCH_BYTES on local
 * disk at a time), then verified pack by pack.  If the run fails, each
 * pack is read alone, which names the one that is at fault. */
#define CHECK_BATCH_BYTES (256ull << 20)
#define CHECK_BATCH_PACKS 64

static int read_batch(struct rc_ctx *c, const struct manifest_pack **b, size_t n)
{
	char *names[CHECK_BATCH_PACKS];
	char rels[CHECK_BATCH_PACKS][64], fan[16], local[4300];
	for (size_t i = 0; i < n; i++) {
		pack_path(b[i]->name, rels[i], sizeof rels[i]);
		names[i] = rels[i];
		/* Never verify a copy a killed check left: fetch afresh. */
		unlinkat(c->workfd, rels[i], 0);
	}
	snprintf(local, sizeof local, "%s/%s", c->repo->path, c->work);
	int got = rio_download_many(c->rio, local, names, n);
	if (got == -ENOMEM)
		return got;
	store_error_clear();
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = got == 0 ? verify_fetched(c, b[i]) : read_pack(c, b[i]);
	for (size_t i = 0; i < n; i++) {
		unlinkat(c->workfd, rels[i], 0);
		snprintf(fan, sizeof fan, "packs/%.2s", b[i]->name);
		unlinkat(c->workfd, fan, AT_REMOVEDIR);
	}
	return r;
}

/* What a killed check left in the work folder (packs/ab/NAME.pack,
 * bounded by one batch) goes before this one starts. */
static void clean_work(struct rc_ctx *c)
{
	int pfd = openat(c->workfd, "packs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *top = pfd >= 0 ? fdopendir(pfd) : NULL;
	if (!top) {
		if (pfd >= 0)
			close(pfd);
		return;
	}
	struct dirent *fan;
	while ((fan = readdir(top))) {
		if (fan->d_name[0] == '.')
			continue;
		int ffd = openat(pfd, fan->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		DIR *d = ffd >= 0 ? fdopendir(ffd) : NULL;
		if (!d) {
			if (ffd >= 0)
				close(ffd);
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(ffd, e->d_name, 0);
		closedir(d);
		unlinkat(pfd, fan->d_name, AT_REMOVEDIR);
	}
	closedir(top);
}

static bool chosen(struct rc_ctx *c, size_t i, uint64_t *state)
{
	if (!c->o->read_data)
		return false;
	if (!c->o->read_percent || c->o->read_percent >= 100)
		return true;
	/* xorshift: a reproducible subset for a given seed. */
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	(void)i;
	return x % 100 < c->o->read_percent;
}

static int check_packs_of(struct rc_ctx *c, const struct manifest *m)
{
	struct remote_rpack *rp = NULL;
	size_t nrp = 0;
	int r = remote_list_packs(c->rio, false, &rp, &nrp);
	if (r < 0)
		return r;
	uint64_t state = c->o->seed ? c->o->seed : (uint64_t)fio_now_ns() | 1;
	/* rclone: packs to read go in batches, one rclone run each. */
	bool many = rio_is_rclone(c->rio);
	const struct manifest_pack *batch[CHECK_BATCH_PACKS];
	size_t nb = 0;
	uint64_t bb = 0;
	for (size_t i = 0; i < m->n && r == 0; i++) {
		const struct manifest_pack *p = &m->packs[i];
		const struct remote_rpack *h = remote_find_rpack(rp, nrp, p->name);
		c->res->packs++;
		if (!h) {
			say(c, CHECK_DAMAGE, "pack %s: missing on the remote (the manifest lists it)",
			    p->name);
			r = damaged(c, p->name);
		} else if (h->size != p->size) {
			say(c, CHECK_DAMAGE, "pack %s: %llu bytes on the remote, the manifest says %llu",
			    p->name, (unsigned long long)h->size, (unsigned long long)p->size);
			r = damaged(c, p->name);
		} else if (chosen(c, i, &state)) {
			if (!many) {
				r = read_pack(c, p);
				continue;
			}
			batch[nb++] = p;
			bb += p->size;
			if (nb == CHECK_BATCH_PACKS || bb >= CHECK_BATCH_BYTES) {
				r = read_batch(c, batch, nb);
				nb = 0;
				bb = 0;
			}
		}
	}
	if (r == 0 && nb)
		r = read_batch(c, batch, nb);
	free(rp);
	return r;
}

/* Name the snapshots and files the damaged packs hold, from the local
 * catalog, as check reports local damage. */
static int affected(struct rc_ctx *c)
{
	struct check_opts co = {.assume_bad = (const char *const *)c->res->damaged,
				.nassume_bad = c->res->damaged_packs,
				.assume_bad_why = "damaged on the remote",
				.ctx = c->o->ctx,
				.report = c->o->report};
	struct check_result cr;
	return check_run(c->repo, &co, &cr);
}

int remote_check(struct repo *repo, const struct remote *rem, const struct remote_check_opts *o,
		 struct remote_check_result *ret)
{
	struct remote_check_result res = {.healthy = true};
	struct rc_ctx c = {.repo = repo, .rem = rem, .o = o, .res = &res, .workfd = -1};
	struct manifest m = {0};
	char id[KEYS_REPO_ID_LEN + 1];
	int lockfd = -1;
	int r = remote_lock(repo, rem->name, &lockfd);
	if (r < 0)
		return r;
	snprintf(c.work, sizeof c.work, "remote/%s.check", rem->name);
	if (mkdirat(repo->dirfd, c.work, 0700) < 0 && errno != EEXIST) {
		r = store_failp(-errno, "%s/%s", repo->path, c.work);
		goto out;
	}
	if ((c.workfd = openat(repo->dirfd, c.work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = store_failp(-errno, "%s/%s", repo->path, c.work);
		goto out;
	}
	clean_work(&c);
	char list[4300];
	snprintf(list, sizeof list, "%s/remote/%s.files", repo->path, rem->name);
	if ((r = rio_open(rem->target, NULL, &c.rio)) < 0 || (r = rio_set_list_path(c.rio, list)) < 0)
		goto out;
	r = remote_read_manifest(c.rio, &m);
	if (r == -ENOENT) {
		say(&c, CHECK_DAMAGE, "manifest: missing (never pushed? ckptfs push %s)", rem->name);
		r = 0;
		goto done;
	}
	if (r == -STORE_ECORRUPT || r == -STORE_ENEWER) {
		say(&c, CHECK_DAMAGE, "%s", store_error() ? store_error() : "manifest: damaged");
		r = 0;
		goto done;
	}
	if (r < 0)
		goto out;
	repokey_repo_id(repo, id);
	if (strcmp(id, m.repo_id)) {
		say(&c, CHECK_DAMAGE, "manifest: of repository %s, not this one (%s)", m.repo_id, id);
		goto done;
	}
	if ((r = check_meta(&c)) < 0 || (r = check_packs_of(&c, &m)) < 0)
		goto out;
	if (res.damaged_packs && (r = affected(&c)) < 0)
		goto out;
done:
	*ret = res;
	memset(&res, 0, sizeof res);
out:
	remote_check_clear(&res);
	if (c.workfd >= 0) {
		unlinkat(c.workfd, "packs", AT_REMOVEDIR);
		close(c.workfd);
		unlinkat(repo->dirfd, c.work, AT_REMOVEDIR);
	}
	manifest_clear(&m);
	rio_free(c.rio);
	close(lockfd);
	return r;
}

void remote_check_clear(struct remote_check_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->damaged_packs; i++)
		free(r->damaged[i]);
	free(r->damaged);
	memset(r, 0, sizeof *r);
}
