/* remote_recover.c — a repository back from a remote (see remote.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/catalog.h"
#include "store/check.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/keywrap.h"
#include "store/remote.h"
#include "store/repo.h"
#include "store/repo_internal.h"
#include "store/repokey.h"

struct rec_ctx {
	const struct recover_opts *o;
	struct rio *rio;
	struct manifest m;
	uint8_t wrapped[KEYWRAP_BYTES];
	char fmt[256];
	size_t fmt_len;
	struct keys keys;
	char *stage;
	int stagefd;
	struct remote_progress prog;
	uint64_t base;
	char damage[1024];
};

/* One small file of the remote read in a thread of its own: over rclone
 * each read is a run of rclone, and its start is most of the cost, so
 * the manifest, the format and the key are asked for side by side.  The
 * message of a failure is per thread (err.h): kept to be told again. */
struct small_read {
	struct rio *rio;
	const char *name;
	size_t max;
	char *buf;
	size_t len;
	int r;
	char why[1024];
	pthread_t th;
	bool threaded;
};

static void *small_read_run(void *p)
{
	struct small_read *s = p;
	s->r = rio_read(s->rio, s->name, s->max, &s->buf, &s->len);
	if (s->r < 0)
		snprintf(s->why, sizeof s->why, "%s", store_error() ? store_error() : "");
	store_error_clear();
	return NULL;
}

/* s->r, with its message made this thread's again. */
static int small_read_result(struct small_read *s)
{
	if (s->threaded)
		pthread_join(s->th, NULL);
	s->threaded = false;
	if (s->r < 0 && s->why[0])
		store_fail(s->r, "%s", s->why);
	return s->r;
}

static int read_remote(struct rec_ctx *c)
{
	const char *t = c->o->target;
	struct small_read fmt = {.rio = c->rio, .name = REMOTE_FORMAT, .max = sizeof c->fmt - 1};
	struct small_read key = {.rio = c->rio, .name = REMOTE_KEY, .max = KEYWRAP_BYTES + 1};
	fmt.threaded = pthread_create(&fmt.th, NULL, small_read_run, &fmt) == 0;
	if (!c->o->wrapped)
		key.threaded = pthread_create(&key.th, NULL, small_read_run, &key) == 0;
	int r = remote_read_manifest(c->rio, &c->m);
	if (!fmt.threaded)
		small_read_run(&fmt);
	if (!c->o->wrapped && !key.threaded)
		small_read_run(&key);
	/* Judged in this order, whatever finished first. */
	if (r == -ENOENT) {
		r = store_fail(-ENOENT, "remote %s: no manifest (nothing was pushed there, or it "
					"is not a ckptfs remote)",
			       t);
	} else if (r < 0) {
		char why[512];
		snprintf(why, sizeof why, "%s", store_error() ? store_error() : "unreadable");
		r = store_fail(r, "remote %s: %s", t, why);
	}
	int rf = small_read_result(&fmt);
	if (r == 0) {
		r = rf;
		if (r == 0 && (fmt.len < 18 || memcmp(fmt.buf, "ckptfs repository\n", 18)))
			r = store_fail(-STORE_ECORRUPT, "remote %s: format file is not a ckptfs one", t);
		else if (r == -ENOENT)
			r = store_fail(-STORE_ECORRUPT, "remote %s: format file is missing", t);
		if (r == 0) {
			memcpy(c->fmt, fmt.buf, fmt.len);
			c->fmt_len = fmt.len;
		}
	}
	free(fmt.buf);
	if (c->o->wrapped) {
		if (r == 0)
			memcpy(c->wrapped, c->o->wrapped, KEYWRAP_BYTES);
		return r;
	}
	int rk = small_read_result(&key);
	if (r == 0) {
		r = rk;
		if (r == -ENOENT)
			r = store_fail(-ENOENT, "remote %s: the wrapped key is missing (recover with "
						"the recovery sheet: --key SHEET)",
				       t);
	}
	if (r == 0) {
		char what[4200];
		snprintf(what, sizeof what, "remote %s: key.wrapped", t);
		r = keywrap_parse(what, (const uint8_t *)key.buf, key.len, NULL);
		if (r == 0)
			memcpy(c->wrapped, key.buf, KEYWRAP_BYTES);
	}
	free(key.buf);
	return r;
}

static int unlock(struct rec_ctx *c)
{
	char *pass = NULL;
	size_t len = 0;
	uint8_t master[KEY_BYTES];
	char what[4200], id[KEYS_REPO_ID_LEN + 1];
	int r = c->o->passphrase(c->o->ctx, &pass, &len);
	if (r < 0)
		return r;
	snprintf(what, sizeof what, "remote %s", c->o->target);
	r = keywrap_open(what, c->wrapped, sizeof c->wrapped, pass, len, master);
	sodium_memzero(pass, len);
	free(pass);
	if (r < 0)
		return r;
	keys_derive(master, &c->keys);
	sodium_memzero(master, sizeof master);
	keys_repo_id(&c->keys, id);
	if (strcmp(id, c->m.repo_id))
		return store_fail(-EACCES, "remote %s: the key is of repository %s, the remote holds "
					   "%s",
				  c->o->target, id, c->m.repo_id);
	return 0;
}

/* The destination must be absent or an empty directory. */
static int check_dest(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : store_failp(-errno, "%s", path);
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = store_fail(-EEXIST, "%s: not empty: recover makes a new repository (choose "
						"another --repo)",
				       path);
	closedir(d);
	return r;
}

static int make_stage(struct rec_ctx *c)
{
	const char *dest = c->o->repo_path;
	char *parent = strdup(dest);
	if (!parent)
		return store_fail(-ENOMEM, "out of memory");
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	int r = fio_mkdir_p(parent, 0700, NULL);
	free(parent);
	if (r < 0)
		return store_failp(r, "%s: creating its parent", dest);
	if (asprintf(&c->stage, "%s.recover-%ld", dest, (long)getpid()) < 0) {
		c->stage = NULL;
		return store_fail(-ENOMEM, "out of memory");
	}
	if (mkdir(c->stage, 0700) < 0)
		return store_failp(-errno, "%s", c->stage);
	c->stagefd = open(c->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->stagefd < 0)
		return store_failp(-errno, "%s", c->stage);
	if (mkdirat(c->stagefd, "packs", 0700) < 0 || mkdirat(c->stagefd, "tmp", 0700) < 0)
		return store_failp(-errno, "%s", c->stage);
	if ((r = keyfile_write(c->stagefd, REPOKEY_PLAIN, &c->keys)) < 0)
		return r;
	r = fio_write_atomic(c->stagefd, REPOKEY_WRAPPED, REPOKEY_WRAPPED ".tmp", c->wrapped,
			     sizeof c->wrapped, 0600);
	if (r == 0)
		r = fio_write_atomic(c->stagefd, "format", "format.tmp", c->fmt, c->fmt_len, 0600);
	return r < 0 ? store_failp(r, "%s: writing", c->stage) : 0;
}

static void on_bytes(void *ctx, uint64_t done)
{
	struct rec_ctx *c = ctx;
	c->prog.bytes_done = c->base + done;
	if (c->o->progress)
		c->o->progress(c->o->ctx, &c->prog);
}

/* A pack rclone already fetched (rio_download_many): check it against
 * the manifest, make it durable. */
static int verify_fetched(struct rec_ctx *c, const struct manifest_pack *p)
{
	char rel[64], fan[16], sum[RIO_SUM_LEN + 1];
	pack_path(p->name, rel, sizeof rel);
	snprintf(fan, sizeof fan, "packs/%.2s", p->name);
	int fd = openat(c->stagefd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? store_fail(-STORE_ECORRUPT, "remote %s: pack %s: missing (the "
								    "remote is damaged)",
						    c->o->target, p->name)
				       : store_failp(-errno, "%s/%s", c->stage, rel);
	struct stat st;
	int r = fstat(fd, &st) < 0 ? store_failp(-errno, "%s/%s", c->stage, rel) : 0;
	if (r == 0 && (uint64_t)st.st_size != p->size)
		r = store_fail(-STORE_ECORRUPT, "remote %s: pack %s: wrong size (the remote is damaged)",
			       c->o->target, p->name);
	if (r == 0 && (r = rio_hash_file(fd, p->size, rel, sum)) == 0 && strcmp(sum, p->sum))
		r = store_fail(-STORE_ECORRUPT, "remote %s: pack %s: checksum mismatch (the remote is "
						"damaged)",
			       c->o->target, p->name);
	if (r == 0 && fsync(fd) < 0)
		r = store_failp(-errno, "%s/%s: fsync", c->stage, rel);
	close(fd);
	if (r == 0 && (r = fio_fsync_dir(c->stagefd, fan)) < 0)
		store_failp(r, "%s/%s: fsync", c->stage, fan);
	c->prog.packs_done++;
	c->prog.bytes_done += p->size;
	if (c->o->progress)
		c->o->progress(c->o->ctx, &c->prog);
	return r;
}

/* rclone wrote the packs without syncing: start writing them all back
 * at once, so the fsync of each in verify_fetched waits for its tail
 * only, while the others are hashed (what a directory recover does as it
 * goes, with sync_file_range). */
static void start_writeback(struct rec_ctx *c)
{
	for (size_t i = 0; i < c->m.n; i++) {
		char rel[64];
		if (c->m.packs[i].gone_ns)
			continue;
		pack_path(c->m.packs[i].name, rel, sizeof rel);
		int fd = openat(c->stagefd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue; /* verify_fetched says so */
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		close(fd);
	}
}

/* rclone: every pack in one transfer (then verify_fetched each). */
static int fetch_all(struct rec_ctx *c)
{
	char **names = calloc(c->m.n ? c->m.n : 1, sizeof *names);
	int r = names ? 0 : store_fail(-ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; r == 0 && i < c->m.n; i++) {
		char rel[64];
		if (c->m.packs[i].gone_ns)
			continue; /* gc deleted it at the source (see remote_recover) */
		pack_path(c->m.packs[i].name, rel, sizeof rel);
		if (!(names[k++] = strdup(rel)))
			r = store_fail(-ENOMEM, "out of memory");
	}
	if (r == 0 && k)
		r = rio_download_many(c->rio, c->stage, names, k);
	for (size_t i = 0; names && i < k; i++)
		free(names[i]);
	free(names);
	return r;
}

/* A directory: every pack in one batch (rio_download_batch: several in
 * flight, each durable, the directories synced once), then each judged
 * against the manifest. */
static int fetch_dir(struct rec_ctx *c)
{
	struct rio_item *items = calloc(c->m.n ? c->m.n : 1, sizeof *items);
	char (*rels)[64] = calloc(c->m.n ? c->m.n : 1, sizeof *rels);
	const struct manifest_pack **want = calloc(c->m.n ? c->m.n : 1, sizeof *want);
	int r = items && rels && want ? 0 : store_fail(-ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; r == 0 && i < c->m.n; i++) {
		if (c->m.packs[i].gone_ns)
			continue; /* gc deleted it at the source (see remote_recover) */
		pack_path(c->m.packs[i].name, rels[k], sizeof rels[k]);
		want[k] = &c->m.packs[i];
		items[k] = (struct rio_item){.name = rels[k], .size = c->m.packs[i].size};
		k++;
	}
	c->base = c->prog.bytes_done;
	if (r == 0 && k)
		r = rio_download_batch(c->rio, c->stage, items, k, on_bytes, c);
	for (size_t j = 0; r == 0 && j < k; j++) {
		const struct manifest_pack *p = want[j];
		if (items[j].r == -ENOENT || items[j].got != p->size || strcmp(items[j].sum, p->sum))
			r = store_fail(-STORE_ECORRUPT, "remote %s: pack %s: %s (the remote is damaged)",
				       c->o->target, p->name,
				       items[j].r == -ENOENT  ? "missing"
				       : items[j].got != p->size ? "wrong size"
								 : "checksum mismatch");
		c->prog.packs_done++;
	}
	c->prog.bytes_done = c->base + (r == 0 ? c->prog.bytes_total : 0);
	free(items);
	free(rels);
	free(want);
	return r;
}

static void on_finding(void *ctx, enum check_level level, const char *line)
{
	struct rec_ctx *c = ctx;
	if (level == CHECK_DAMAGE && !c->damage[0])
		snprintf(c->damage, sizeof c->damage, "%s", line);
}

/* The catalog from the packs (check --repair), the remote re-added. */
static int rebuild(struct rec_ctx *c, struct recover_result *res)
{
	struct repo *repo = NULL;
	int r = repo_open(c->stage, REPO_REPAIR, 0, &repo);
	if (r < 0)
		return r;
	/* The stage is removed on any failure and made durable once at the
	 * end (sync_catalog), so the rebuild's many commits (one per pack
	 * indexed and per snapshot re-created) need not each wait for the
	 * disk: about 70 fdatasyncs for 1 GiB, as long as fetching it took. */
	pthread_mutex_lock(&repo->db_lock);
	int rc = sqlite3_exec(repo->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	pthread_mutex_unlock(&repo->db_lock);
	if (rc != SQLITE_OK) {
		repo_close(repo);
		return store_fail(-EIO, "%s/catalog.db: setting synchronous: %s", c->stage,
				  sqlite3_errstr(rc));
	}
	struct check_opts co = {.repair = true, .ctx = c, .report = on_finding};
	struct check_result cr = {0};
	r = check_run(repo, &co, &cr);
	if (r == 0 && !cr.healthy)
		r = store_fail(-STORE_ECORRUPT, "remote %s: damaged: %s", c->o->target,
			       c->damage[0] ? c->damage : "the rebuilt repository does not check");
	struct remote_list l = {0};
	if (r == 0 && (r = remote_list_add(&l, c->m.remote, c->o->target, false)) == 0)
		r = remote_conf_save(repo, &l);
	remote_list_clear(&l);
	struct project *ps = NULL;
	size_t np = 0;
	if (r == 0 && (r = catalog_projects(repo, &ps, &np)) == 0) {
		res->projects = np;
		for (size_t i = 0; i < np; i++)
			res->snapshots += (uint64_t)ps[i].nsnapshots;
		projects_free(ps, np);
	}
	repo_close(repo);
	return r;
}

/* The catalog the rebuild wrote without syncing (closed: SQLite has
 * checkpointed its WAL into catalog.db), made durable before the stage is
 * renamed into place. */
static int sync_catalog(struct rec_ctx *c)
{
	static const char *const files[] = {"catalog.db", "catalog.db-wal"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		int fd = openat(c->stagefd, files[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT && i > 0)
			continue; /* no WAL left */
		if (fd < 0)
			return store_failp(-errno, "%s/%s", c->stage, files[i]);
		int r = fsync(fd) < 0 ? store_failp(-errno, "%s/%s: fsync", c->stage, files[i]) : 0;
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The manifest as the local copy of the last push (remote list, and the
 * next push's baseline). */
static int save_state(struct rec_ctx *c)
{
	char *buf = NULL, path[128], tmp[140];
	size_t len = 0;
	int r = manifest_encode(&c->m, &buf, &len);
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "remote/%s.manifest", c->m.remote);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (mkdirat(c->stagefd, "remote", 0700) < 0 && errno != EEXIST)
		r = store_failp(-errno, "%s/remote", c->stage);
	if (r == 0 && (r = fio_write_atomic(c->stagefd, path, tmp, buf, len, 0600)) < 0)
		store_failp(r, "%s/%s", c->stage, path);
	free(buf);
	return r;
}

static void remove_tree(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		unlinkat(dirfd, name, 0);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			if (e->d_type == DT_DIR)
				remove_tree(fd, e->d_name);
			else
				unlinkat(fd, e->d_name, 0);
		}
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

int remote_recover(const struct recover_opts *o, struct recover_result *ret)
{
	struct rec_ctx c = {.o = o, .stagefd = -1};
	struct recover_result res = {0};
	int r = check_dest(o->repo_path);
	if (r == 0)
		r = rio_open(o->target, NULL, &c.rio);
	if (r == 0)
		r = read_remote(&c);
	if (r == 0)
		r = unlock(&c);
	/* Nothing was written locally before this point. */
	if (r == 0)
		r = make_stage(&c);
	/* The packs the source's catalog listed at the last push: the
	 * repository as it was then.  Those gc had deleted there (gone_ns
	 * set) stay on the remote for their grace period, to undo a gc by
	 * hand, and are not fetched: what the source emptied from its trash
	 * and collected must not come back. */
	for (size_t i = 0; i < c.m.n; i++) {
		c.prog.packs_total += !c.m.packs[i].gone_ns;
		c.prog.bytes_total += c.m.packs[i].gone_ns ? 0 : c.m.packs[i].size;
	}
	bool many = r == 0 && rio_is_rclone(c.rio);
	if (many && (r = fetch_all(&c)) == 0)
		start_writeback(&c);
	if (r == 0 && !many)
		r = fetch_dir(&c);
	for (size_t i = 0; r == 0 && i < c.m.n; i++) {
		if (c.m.packs[i].gone_ns)
			continue;
		if (many)
			r = verify_fetched(&c, &c.m.packs[i]);
		res.packs++;
		res.bytes += c.m.packs[i].size;
	}
	if (r == 0)
		r = save_state(&c);
	if (r == 0)
		r = rebuild(&c, &res);
	if (r == 0)
		r = sync_catalog(&c);
	if (r == 0 && (r = fio_fsync_dir(c.stagefd, ".")) < 0)
		store_failp(r, "%s: fsync", c.stage);
	if (r == 0) {
		rmdir(o->repo_path); /* an empty one (check_dest) */
		if (rename(c.stage, o->repo_path) < 0)
			r = store_failp(-errno, "%s: renaming %s into place", o->repo_path, c.stage);
		else
			fio_fsync_parent(AT_FDCWD, o->repo_path);
	}
	if (r < 0 && c.stage) {
		if (c.stagefd >= 0)
			close(c.stagefd);
		c.stagefd = -1;
		char *slash = strrchr(c.stage, '/');
		if (slash) {
			*slash = '\0';
			int pfd = open(*c.stage ? c.stage : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (pfd >= 0) {
				remove_tree(pfd, slash + 1);
				close(pfd);
			}
		}
	}
	if (r == 0) {
		snprintf(res.remote, sizeof res.remote, "%s", c.m.remote);
		*ret = res;
	}
	if (c.stagefd >= 0)
		close(c.stagefd);
	free(c.stage);
	keys_wipe(&c.keys);
	manifest_clear(&c.m);
	rio_free(c.rio);
	return r;
}
