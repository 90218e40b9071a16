/* session.c — a dumper session: life cycle, and the walk hooks that capture
 * SQLite databases in place of their files (see dumpers.h). */
#include "dumpers/session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/tmpdir.h"
#include "store/err.h"
#include "store/writer.h"

bool dumper_target_enabled(const struct dumper_target *t)
{
	return !t->disabled && (t->local || t->explicit_);
}

void dumper_file_stamp(const struct stat *st, struct dumper_file_stamp *ret)
{
	*ret = (struct dumper_file_stamp){
		.ino = (uint64_t)st->st_ino,
		.size = (uint64_t)st->st_size,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		.ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
	};
}

void dumper_db_clear(struct dumper_db *d)
{
	free(d->name);
	free(d->file);
	free(d->source);
	free(d->check);
	free(d->where);
	dumper_schema_clear(&d->schema);
	dumper_full_drill_clear(&d->drill);
	for (size_t i = 0; i < d->ntables; i++)
		free(d->tables[i].name);
	free(d->tables);
	memset(d, 0, sizeof *d);
}

int dumper_session_add_db(struct dumper_session *s, struct dumper_db *d)
{
	struct dumper_db *v = realloc(s->dbs, (s->ndbs + 1) * sizeof *v);
	if (!v) {
		dumper_db_clear(d);
		return -ENOMEM;
	}
	s->dbs = v;
	v[s->ndbs++] = *d;
	memset(d, 0, sizeof *d);
	return 0;
}

static int push_line(char ***lines, size_t *n, const char *fmt, va_list ap)
{
	char *m;
	if (vasprintf(&m, fmt, ap) < 0)
		return -ENOMEM;
	char **v = realloc(*lines, (*n + 1) * sizeof *v);
	if (!v) {
		free(m);
		return -ENOMEM;
	}
	*lines = v;
	v[(*n)++] = m;
	return 0;
}

int dumper_session_problem(struct dumper_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = push_line(&s->problems, &s->nproblems, fmt, ap);
	va_end(ap);
	return r;
}

int dumper_session_notice(struct dumper_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = push_line(&s->notices, &s->nnotices, fmt, ap);
	va_end(ap);
	return r;
}

int dumper_session_tmpdir(struct dumper_session *s, const char **ret)
{
	/* Made on first use: most snapshots need none.  Removed on
	 * signals, and by the next snap if this process is killed
	 * (tmpdir.h). */
	if (!s->tmpdir) {
		int r = dumper_tmp_make(&s->tmpdir);
		if (r < 0)
			return r;
	}
	*ret = s->tmpdir;
	return 0;
}

static bool name_taken(const struct dumper_targets *ts, size_t upto, const char *name)
{
	for (size_t k = 0; k < upto; k++)
		if (dumper_target_enabled(&ts->v[k]) && !strcmp(ts->v[k].name, name))
			return true;
	return false;
}

/* Two enabled databases with one name (the same database name in .env
 * and in a compose service, say) would share a dump file and a --db NAME:
 * the later ones become NAME-2, NAME-3, … */
static int unique_names(struct dumper_targets *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct dumper_target *t = &ts->v[i];
		if (!dumper_target_enabled(t) || !t->name || !name_taken(ts, i, t->name))
			continue;
		for (int k = 2;; k++) {
			char *n;
			if (asprintf(&n, "%s-%d", t->name, k) < 0)
				return -ENOMEM;
			if (!name_taken(ts, i, n)) {
				free(t->name);
				t->name = n;
				break;
			}
			free(n);
		}
	}
	return 0;
}

int dumper_session_new(const char *root, struct dumper_session **ret)
{
	struct dumper_session *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int r = -ENOMEM;
	if (!(s->root = strdup(root)))
		goto fail;
	dumper_sqlite_limits_default(&s->lim);
	if ((r = dumper_discover(root, &s->targets)) < 0 || (r = unique_names(&s->targets)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	dumper_session_free(s);
	return r;
}

void dumper_session_free(struct dumper_session *s)
{
	if (!s)
		return;
	(void)session_sqdrill_wait(s); /* its copy is in the tmpdir */
	if (s->tmpdir)
		dumper_tmp_remove(s->tmpdir);
	free(s->tmpdir);
	free(s->root);
	dumper_targets_clear(&s->targets);
	for (size_t i = 0; i < s->ndbs; i++)
		dumper_db_clear(&s->dbs[i]);
	free(s->dbs);
	for (size_t i = 0; i < s->nproblems; i++)
		free(s->problems[i]);
	free(s->problems);
	for (size_t i = 0; i < s->nnotices; i++)
		free(s->notices[i]);
	free(s->notices);
	for (size_t i = 0; i < s->nraw; i++)
		free(s->raw[i]);
	free(s->raw);
	if (s->have_folder)
		node_clear(&s->folder);
	free(s);
}

int dumper_session_result(struct dumper_session *s, struct dumper_result *ret)
{
	int r = session_sqdrill_wait(s);
	*ret = s->res;
	ret->problems = (const char *const *)s->problems;
	ret->nproblems = s->nproblems;
	ret->notices = (const char *const *)s->notices;
	ret->nnotices = s->nnotices;
	return r;
}

const struct node *dumper_session_extra(const struct dumper_session *s, size_t *ret_n)
{
	*ret_n = s->have_folder ? 1 : 0;
	return s->have_folder ? &s->folder : NULL;
}

static void outer_warn(struct dumper_session *s, const char *relpath, int err, const char *what)
{
	if (s->outer && s->outer->warn)
		s->outer->warn(s->outer->ctx, relpath, err, what);
}

/* The database could not be captured consistently: the walk stores the
 * file as it is, flagged, and the user is told. */
static int store_raw(struct dumper_session *s, const char *relpath, struct node *node, int err)
{
	const char *why = store_error();
	struct dumper_db d = {.kind = "sqlite", .method = "raw", .how = "none", .inconsistent = true,
			      .entries = -1};
	char *what = NULL;
	int r = -ENOMEM;
	if (!(d.name = strdup(relpath)) || !(d.file = strdup(relpath)) ||
	    !(d.check = strdup(why ? why : strerror(-err))))
		goto out;
	if (asprintf(&what, "SQLite database stored as it is, possibly inconsistent (%s)", d.check) < 0) {
		what = NULL;
		goto out;
	}
	char **v = realloc(s->raw, (s->nraw + 1) * sizeof *v);
	if (!v)
		goto out;
	s->raw = v;
	if (!(v[s->nraw] = strdup(relpath)))
		goto out;
	s->nraw++;
	store_error_clear();
	node->flags |= NODE_F_INCONSISTENT;
	s->res.inconsistent++;
	outer_warn(s, relpath, 0, what);
	r = dumper_session_add_db(s, &d);
out:
	free(what);
	dumper_db_clear(&d);
	return r;
}

static int hook_capture(void *ctx, struct writer *w, const char *relpath, int fd,
			const struct stat *st, struct node *node)
{
	struct dumper_session *s = ctx;
	if (!dumper_sqlite_is_db(fd, st))
		return 0;
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s", s->root, relpath) >= (int)sizeof path)
		return 0; /* the walk reports what it cannot open itself */

	int r = dumper_session_reuse(s, relpath, st, node);
	if (r != 0)
		return r;
	struct dumper_sqlite_copy c = {0};
	const char *tmp;
	if ((r = dumper_session_tmpdir(s, &tmp)) < 0)
		return r;
	/* The -wal as it is before the copy: a commit during the copy makes
	 * the next snapshot see a different one and capture again. */
	char walp[PATH_MAX];
	struct stat wst;
	bool have_wal = snprintf(walp, sizeof walp, "%s-wal", path) < (int)sizeof walp &&
			lstat(walp, &wst) == 0 && S_ISREG(wst.st_mode);
	r = dumper_sqlite_capture(path, st, tmp, &s->lim, &c);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return store_raw(s, relpath, node, r) < 0 ? -ENOMEM : 0;

	struct dumper_db d = {.kind = "sqlite", .method = c.method, .entries = -1,
			      .max_step_us = c.max_step_us, .restarts = c.restarts,
			      .have_wal = have_wal, .src_size = st->st_size};
	if (have_wal) {
		/* Opening the database can change the -wal's ctime (SQLite
		 * fchown()s it to the database's owner when run as root), so the
		 * stamp kept is the one after the copy — but only if nothing was
		 * written meanwhile (same inode, size and mtime as before it);
		 * else the one before, which the next snapshot will not match. */
		struct stat after;
		dumper_file_stamp(&wst, &d.wal);
		if (lstat(walp, &after) == 0 && after.st_ino == wst.st_ino &&
		    after.st_size == wst.st_size && after.st_mtim.tv_sec == wst.st_mtim.tv_sec &&
		    after.st_mtim.tv_nsec == wst.st_mtim.tv_nsec)
			dumper_file_stamp(&after, &d.wal);
	}
	/* The record is made now and gets the drill's verdict when it is in
	 * (session_sqdrill.c): the drill runs while the copy is stored. */
	int cfd = -1;
	size_t idx = s->ndbs;
	r = -ENOMEM;
	if (!(d.name = strdup(relpath)) || !(d.file = strdup(relpath)) ||
	    (r = dumper_session_add_db(s, &d)) < 0)
		goto out;
	s->res.sqlite++;
	cfd = open(c.path, O_RDONLY | O_CLOEXEC);
	if (cfd < 0) {
		r = store_failp(-errno, "%s", c.path);
		goto out;
	}
	if ((r = session_sqdrill_start(s, idx, &c)) < 0)
		goto out;
	/* The copy replaces the file's content; the metadata stays the
	 * file's own (the walk filled it). */
	if ((r = writer_put_fd(w, cfd, node)) < 0)
		goto out;
	node->flags |= NODE_F_DB_COPY;
	s->dbs[idx].bytes = node->size;
	r = 1;
out:
	if (cfd >= 0)
		close(cfd);
	dumper_db_clear(&d);
	dumper_sqlite_copy_clear(&c);
	return r;
}

static bool has_suffix(const char *s, size_t n, const char *sfx, size_t *ret_base)
{
	size_t k = strlen(sfx);
	if (n <= k || memcmp(s + n - k, sfx, k) != 0)
		return false;
	*ret_base = n - k;
	return true;
}

/* Is root/rel (rel is len bytes) a SQLite database?  Never follows a
 * symlink at the last step and reads 16 bytes with pread only. */
static bool base_is_db(const struct dumper_session *s, const char *rel, size_t len)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%.*s", s->root, (int)len, rel) >= (int)sizeof path)
		return false;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	bool db = fstat(fd, &st) == 0 && dumper_sqlite_is_db(fd, &st);
	close(fd);
	return db;
}

static bool hook_skip(void *ctx, const char *relpath, const struct stat *st)
{
	struct dumper_session *s = ctx;
	size_t n = strlen(relpath), base;
	bool shm = has_suffix(relpath, n, "-shm", &base);
	if (!shm && !has_suffix(relpath, n, "-wal", &base) && !has_suffix(relpath, n, "-journal", &base))
		return s->outer && s->outer->skip ? s->outer->skip(s->outer->ctx, relpath, st) : false;
	if (base_is_db(s, relpath, base)) {
		/* A raw copy of the database needs its -wal or hot journal to be
		 * readable as it was; the -shm is rebuilt by SQLite anyway.  The
		 * walk offers the database before its siblings (name order). */
		if (shm)
			return true;
		for (size_t i = 0; i < s->nraw; i++)
			if (strlen(s->raw[i]) == base && !memcmp(s->raw[i], relpath, base))
				return false;
		return true;
	}
	return s->outer && s->outer->skip ? s->outer->skip(s->outer->ctx, relpath, st) : false;
}

static void hook_warn(void *ctx, const char *relpath, int err, const char *what)
{
	outer_warn(ctx, relpath, err, what);
}

static void hook_progress(void *ctx, const struct walk_progress *p)
{
	struct dumper_session *s = ctx;
	if (s->outer && s->outer->progress)
		s->outer->progress(s->outer->ctx, p);
}

void dumper_session_hooks(struct dumper_session *s, const struct walk_hooks *outer,
			  struct walk_hooks *ret)
{
	s->outer = outer;
	*ret = (struct walk_hooks){
		.ctx = s,
		.capture = hook_capture,
		.skip = hook_skip,
		.warn = hook_warn,
		.progress = hook_progress,
	};
}
