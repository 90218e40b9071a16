/* watch.c — snapshots as a project goes quiet (see watch.h). */
#include "src/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "src/cli.h"
#include "src/output.h"
#include "src/restoremark.h"
#include "src/take.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/repo.h"
#include "store/ignore.h"

#define NS 1000000000LL
#define WATCH_MASK                                                                              \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |     \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_ONLYDIR)
/* --all: how often to look for newly registered projects. */
#define REFRESH_NS (60 * NS)
/* After a failed snapshot (locked, an error), try again this much later. */
#define RETRY_NS (5 * NS)

struct wproj {
	char *root;
	char *repo_rel; /* the repository's path inside root, or NULL */
	dev_t dev;
	ino_t ino;
	struct ignore *ig;
	int lockfd;
	int root_wd;
	bool dirty, fallback, gone;
	/* A ckptfs restore writes into it.  With inotify: between the events
	 * of its two marks in the state folder (restoremark.h); in fallback
	 * mode: at the time of the scan. */
	bool restoring;
	char mark[RESTOREMARK_NAME_MAX], mark_end[RESTOREMARK_NAME_MAX];
	int64_t first_ns, last_ns, retry_ns;
	uint64_t sig;   /* fallback: hash of the last scan */
	int64_t scan_ns; /* fallback: next scan */
};

struct wd_ent {
	struct wproj *p;
	char *rel; /* "" for the root; NULL when the slot is free */
};

struct wctx {
	const struct watch_req *req;
	int ifd;
	int state_wd; /* the repository's state folder: restore marks; -1 if none */
	struct wd_ent *wds;
	size_t nwds;     /* slots */
	size_t nwatches; /* in use */
	bool warned_limit;
	struct wproj **ps; /* each its own allocation: wd_ent points at them */
	size_t n;
	int64_t refresh_ns; /* --all: next look for newly registered projects */
};

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

/* ---- one watch per project ---- */

static int lock_project(const char *root, int *ret_fd)
{
	char *repo = NULL, *path = NULL;
	int r = repo_default_path(&repo), fd = -1;
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/state", repo) < 0 || (r = fio_mkdir_p(path, 0700, NULL)) < 0) {
		r = store_failp(r < 0 ? r : -ENOMEM, "%s/state", repo);
		goto out;
	}
	free(path);
	if (asprintf(&path, "%s/state/watch-%016" PRIx64 ".lock", repo,
		     (uint64_t)XXH3_64bits(root, strlen(root))) < 0) {
		path = NULL;
		r = -ENOMEM;
		goto out;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		r = store_failp(-errno, "%s", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t k = pread(fd, pid, sizeof pid - 1, 0);
		pid[k > 0 ? k : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		r = errno == EWOULDBLOCK
			    ? store_fail(-EWOULDBLOCK, "watch: %s: already watched by another ckptfs "
						       "watch (pid %s)",
					 root, *pid ? pid : "?")
			    : store_failp(-errno, "%s", path);
		close(fd);
		goto out;
	}
	char pid[32];
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)len, 0);
	*ret_fd = fd;
	r = 0;
out:
	free(path);
	free(repo);
	return r;
}

/* ---- inotify watches ---- */

static char *join(const char *rel, const char *name)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s", rel, *rel ? "/" : "", name) < 0)
		return NULL;
	return s;
}

static void limit_reached(struct wctx *c, struct wproj *p, int err)
{
	if (!c->warned_limit) {
		/* The system's limit, or a user namespace's lower one. */
		static const char *const files[] = {"/proc/sys/fs/inotify/max_user_watches",
						    "/proc/sys/user/max_inotify_watches"};
		long lim = -1;
		for (size_t i = 0; i < 2; i++) {
			FILE *f = fopen(files[i], "re");
			long v;
			if (f && fscanf(f, "%ld", &v) == 1 && v >= 0 && (lim < 0 || v < lim))
				lim = v;
			if (f)
				fclose(f);
		}
		char lims[32] = "";
		if (lim > 0)
			snprintf(lims, sizeof lims, " = %ld", lim);
		out_err("watch: inotify watches ran out (%s; fs.inotify.max_user_watches%s); "
			"falling back to a scan every few seconds.  Raise the limit: "
			"sudo sysctl fs.inotify.max_user_watches=524288",
			err ? strerror(err) : "test limit", lims);
		c->warned_limit = true;
	}
	if (!p->fallback) {
		p->fallback = true;
		p->scan_ns = 0; /* at once: its signature is the baseline */
	}
}

static int remember(struct wctx *c, int wd, struct wproj *p, const char *rel)
{
	if ((size_t)wd >= c->nwds) {
		size_t n = (size_t)wd * 2 + 16;
		struct wd_ent *w = realloc(c->wds, n * sizeof *w);
		if (!w)
			return -ENOMEM;
		memset(w + c->nwds, 0, (n - c->nwds) * sizeof *w);
		c->wds = w;
		c->nwds = n;
	}
	struct wd_ent *e = &c->wds[wd];
	char *copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	if (!e->rel)
		c->nwatches++;
	free(e->rel); /* the same directory seen again (moved): its new path */
	e->rel = copy;
	e->p = p;
	return 0;
}

/* Is the entry rel (a directory if is_dir) left out of p's snapshots? */
static bool left_out(struct wproj *p, const char *rel, bool is_dir)
{
	if (p->repo_rel && !strcmp(rel, p->repo_rel))
		return true;
	return ignore_match(p->ig, -1, rel, is_dir);
}

/* Watch directory rel of p and every included directory below it. */
static int add_tree(struct wctx *c, struct wproj *p, const char *rel)
{
	char *path = *rel ? join(p->root, rel) : strdup(p->root);
	if (!path)
		return -ENOMEM;
	int r = 0, fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != p->dev)
		goto out; /* gone already, or another filesystem: not ours */
	if (p->fallback)
		goto out; /* the scan covers it */
	int wd = -1;
	if (c->req->max_watches && c->nwatches >= c->req->max_watches)
		errno = 0;
	else
		wd = inotify_add_watch(c->ifd, path, WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC || errno == 0) {
			limit_reached(c, p, errno);
			goto out;
		}
		if (errno == ENOENT || errno == ENOTDIR)
			goto out;
		r = store_failp(-errno, "watch: %s", path);
		goto out;
	}
	if ((r = remember(c, wd, p, rel)) < 0)
		goto out;
	if (!*rel)
		p->root_wd = wd;
	DIR *d = fdopendir(fd);
	if (!d)
		goto out;
	fd = -1;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat es;
			is_dir = fstatat(dirfd(d), de->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISDIR(es.st_mode);
		}
		if (!is_dir)
			continue;
		char *sub = join(rel, de->d_name);
		if (!sub) {
			r = -ENOMEM;
			break;
		}
		if (!left_out(p, sub, true))
			r = add_tree(c, p, sub);
		free(sub);
	}
	closedir(d);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* ---- the fallback scan ---- */

static void scan_dir(struct wproj *p, int dfd, const char *rel, XXH3_state_t *h)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *sub = join(rel, de->d_name);
		if (!sub)
			continue;
		bool is_dir = S_ISDIR(st.st_mode);
		if (!left_out(p, sub, is_dir) && st.st_dev == p->dev) {
			struct {
				uint64_t ino, size, mode;
				int64_t mtime, ctime;
			} k = {st.st_ino, (uint64_t)st.st_size, st.st_mode,
			       st.st_mtim.tv_sec * NS + st.st_mtim.tv_nsec,
			       st.st_ctim.tv_sec * NS + st.st_ctim.tv_nsec};
			XXH3_64bits_update(h, sub, strlen(sub) + 1);
			XXH3_64bits_update(h, &k, sizeof k);
			int sfd;
			if (is_dir && (sfd = openat(dirfd(d), de->d_name,
						    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
				scan_dir(p, sfd, sub, h);
		}
		free(sub);
	}
	closedir(d);
}

/* Scan p; true if anything differs from the last scan. */
static bool scan_changed(struct wproj *p)
{
	XXH3_state_t *h = XXH3_createState();
	if (!h)
		return true;
	XXH3_64bits_reset(h);
	int fd = open(p->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		p->gone = errno == ENOENT || errno == ENOTDIR;
		XXH3_freeState(h);
		return false;
	}
	scan_dir(p, fd, "", h);
	uint64_t sig = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	bool changed = sig != p->sig;
	p->sig = sig;
	return changed;
}

/* ---- changes and snapshots ---- */

/* Is the root folder still there (the same one)?  Its IN_DELETE_SELF
 * comes only when the last open descriptor of it closes, and the ignore
 * rules hold one, so look. */
static bool root_there(struct wproj *p)
{
	struct stat st;
	if (lstat(p->root, &st) < 0)
		return errno != ENOENT && errno != ENOTDIR;
	return S_ISDIR(st.st_mode) && st.st_ino == p->ino && st.st_dev == p->dev;
}

static void changed(struct wproj *p, int64_t now)
{
	if (p->restoring)
		return; /* our own restore's writes */
	if (!p->dirty) {
		p->dirty = true;
		p->first_ns = now;
	}
	p->last_ns = now;
}

/* A file of the state folder was renamed into place: a restore's mark
 * begins its span of ignored events, its .end ends it.  The queue keeps the
 * order of the writes, so the restore's own project events are exactly the
 * ones between the two, however long after the restore the watch reads them. */
static void restore_mark_event(struct wctx *c, const struct inotify_event *ev)
{
	if (!ev->len)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct wproj *p = c->ps[i];
		if (!p->fallback && !strcmp(ev->name, p->mark))
			p->restoring = true;
		else if (!p->fallback && !strcmp(ev->name, p->mark_end))
			p->restoring = false;
	}
}

static int handle_event(struct wctx *c, const struct inotify_event *ev, int64_t now)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		/* Events were lost, maybe a mark's: take everything as changed
		 * and the restore state from the files. */
		for (size_t i = 0; i < c->n; i++) {
			c->ps[i]->restoring = false;
			changed(c->ps[i], now);
			c->ps[i]->restoring = restoremark_running(c->ps[i]->root);
		}
		return 0;
	}
	if (ev->wd == c->state_wd) {
		restore_mark_event(c, ev);
		return 0;
	}
	if (ev->wd < 0 || (size_t)ev->wd >= c->nwds || !c->wds[ev->wd].rel)
		return 0;
	struct wd_ent *e = &c->wds[ev->wd];
	struct wproj *p = e->p;
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		if (ev->wd == p->root_wd) {
			p->gone = true;
		} else if (ev->mask & IN_IGNORED) {
			free(e->rel);
			e->rel = NULL;
			c->nwatches--;
		}
		return 0;
	}
	if (!ev->len)
		return 0; /* the directory itself (attributes): its entry in the parent says it */
	char *rel = join(e->rel, ev->name);
	if (!rel)
		return -ENOMEM;
	bool is_dir = ev->mask & IN_ISDIR;
	int r = 0;
	if (!strcmp(ev->name, ".ckptignore")) {
		/* The rules changed: reread them (what is included now counts). */
		struct ignore *ig = NULL;
		if (ignore_open(p->root, c->req->excludes, c->req->nexcludes, &ig) == 0) {
			ignore_free(p->ig);
			p->ig = ig;
		}
		store_error_clear();
		changed(p, now);
	} else if (!left_out(p, rel, is_dir)) {
		if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
			r = add_tree(c, p, rel);
		changed(p, now);
	}
	free(rel);
	return r;
}

static int read_events(struct wctx *c)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(c->ifd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return store_failp(n < 0 ? -errno : -EIO, "watch: reading inotify events");
		int64_t now = out_mono_ns(), wall = out_now_ns();
		for (size_t i = 0; i < c->n; i++) {
			struct wproj *p = c->ps[i];
			if (p->fallback)
				continue;
			if (c->state_wd < 0) /* no marks in the queue: judge by the clock */
				p->restoring = restoremark_active(p->root, wall);
			else if (p->restoring && restoremark_died(p->root))
				p->restoring = false; /* its .end will never come */
		}
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;
			int r = handle_event(c, ev, now);
			if (r < 0)
				return r;
			q += sizeof *ev + ev->len;
		}
	}
}

/* A snapshot of p now; a failure is said and retried RETRY_NS later. */
static void snap_project(struct wctx *c, struct wproj *p)
{
	struct take_req req = {.root = p->root, .tag = "watch", .excludes = c->req->excludes,
			       .nexcludes = c->req->nexcludes, .quiet = true};
	struct take_result res = {0};
	struct repo *repo = NULL;
	int r = cli_open_repo(REPO_WRITE, &repo);
	if (r == 0)
		r = take_snapshot(repo, &req, &res);
	repo_close(repo);
	if (r < 0) {
		out_store_err(r, "watch: snapshot");
		p->retry_ns = out_mono_ns() + RETRY_NS;
		return;
	}
	p->dirty = false;
	p->retry_ns = 0;
	if (!c->req->quiet_output) {
		take_print_summary(&res);
		fflush(stdout);
	}
	take_result_clear(&res);
}

/* ms until the next thing to do (-1: nothing but events). */
static int next_timeout(const struct wctx *c, int64_t now)
{
	int64_t next = INT64_MAX;
	int64_t quiet = (int64_t)(c->req->quiet_s * NS), max_wait = (int64_t)(c->req->max_wait_s * NS);
	for (size_t i = 0; i < c->n; i++) {
		const struct wproj *p = c->ps[i];
		if (p->gone)
			continue;
		if (p->dirty) {
			int64_t due = p->last_ns + quiet;
			if (p->first_ns + max_wait < due)
				due = p->first_ns + max_wait;
			if (p->retry_ns > due)
				due = p->retry_ns;
			next = due < next ? due : next;
		}
		if (p->fallback && p->scan_ns < next)
			next = p->scan_ns;
	}
	if (c->refresh_ns && c->refresh_ns < next)
		next = c->refresh_ns;
	if (next == INT64_MAX)
		return -1;
	int64_t ms = (next - now + 999999) / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

static int64_t scan_period(const struct watch_req *req)
{
	double s = req->quiet_s / 2;
	s = s < 1 ? 1 : s > 30 ? 30 : s;
	return (int64_t)(s * NS);
}

/* What is due for p at now: a fallback scan, noticing its root is gone,
 * a snapshot (with SIGINT/SIGTERM let in: the snapshot finishes, then the
 * loop stops).  Returns whether p is still watched. */
static bool tend(struct wctx *c, struct wproj *p, int64_t now, const sigset_t *orig,
		 const sigset_t *stopset)
{
	int64_t quiet = (int64_t)(c->req->quiet_s * NS);
	int64_t max_wait = (int64_t)(c->req->max_wait_s * NS);
	if (p->fallback && !p->gone && now >= p->scan_ns) {
		bool first = p->scan_ns == 0;
		p->restoring = restoremark_active(p->root, out_now_ns());
		if (scan_changed(p) && !first)
			changed(p, now);
		p->scan_ns = now + scan_period(c->req);
	}
	if (!p->gone && p->dirty && !root_there(p))
		p->gone = true;
	if (p->gone) {
		if (p->lockfd >= 0) {
			out_err("watch: %s: the folder is gone; no longer watching it", p->root);
			close(p->lockfd);
			p->lockfd = -1;
		}
		return false;
	}
	if (p->dirty && now >= p->retry_ns &&
	    (now - p->last_ns >= quiet || now - p->first_ns >= max_wait)) {
		sigprocmask(SIG_SETMASK, orig, NULL);
		snap_project(c, p);
		sigprocmask(SIG_BLOCK, stopset, NULL);
	}
	return true;
}

static int setup_project(struct wctx *c, struct wproj *p, const char *root)
{
	struct stat st;
	char *repo = NULL;
	p->lockfd = -1;
	p->root_wd = -1;
	if (!(p->root = strdup(root)))
		return -ENOMEM;
	if (stat(root, &st) < 0)
		return store_failp(-errno, "watch: %s", root);
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	int r = ignore_open(root, c->req->excludes, c->req->nexcludes, &p->ig);
	if (r < 0)
		return r;
	if (repo_default_path(&repo) == 0) {
		size_t n = strlen(root);
		char *real = realpath(repo, NULL);
		if (real && !strncmp(real, root, n) && real[n] == '/')
			p->repo_rel = strdup(real + n + 1);
		free(real);
		free(repo);
	}
	store_error_clear();
	if ((r = lock_project(root, &p->lockfd)) < 0)
		return r;
	restoremark_names(root, p->mark, p->mark_end);
	/* The state watch is in place before this: a restore that begins
	 * from now on is seen by its mark's event. */
	p->restoring = restoremark_running(root);
	return add_tree(c, p, "");
}

static void free_ctx(struct wctx *c)
{
	for (size_t i = 0; i < c->nwds; i++)
		free(c->wds[i].rel);
	free(c->wds);
	for (size_t i = 0; i < c->n; i++) {
		free(c->ps[i]->root);
		free(c->ps[i]->repo_rel);
		ignore_free(c->ps[i]->ig);
		if (c->ps[i]->lockfd >= 0)
			close(c->ps[i]->lockfd);
		free(c->ps[i]);
	}
	free(c->ps);
	if (c->ifd >= 0)
		close(c->ifd);
}

/* Start watching root: a new entry of c->ps.  With skip_locked, a project
 * another watch holds is said and kept as not watched (*nskipped counts
 * them).  0 or a negative errno (message recorded). */
static int add_root(struct wctx *c, const char *root, size_t *nskipped)
{
	struct wproj **ps = realloc(c->ps, (c->n + 1) * sizeof *ps), *p;
	if (!ps)
		return -ENOMEM;
	c->ps = ps;
	if (!(p = calloc(1, sizeof *p)))
		return -ENOMEM;
	c->ps[c->n++] = p;
	int r = setup_project(c, p, root);
	if (r < 0)
		p->gone = true; /* not watched, whatever the caller does next */
	if (r == -EWOULDBLOCK && c->req->skip_locked) {
		out_store_err(r, "watch"); /* that watch goes on: leave it this one */
		p->gone = true;
		(*nskipped)++;
		return 0;
	}
	if (r < 0)
		return r;
	if (!c->req->quiet_output) {
		printf("watching %s (%s; quiet %g s, at most %g s)\n", root,
		       p->fallback ? "by periodic scan" : "inotify", c->req->quiet_s,
		       c->req->max_wait_s);
		fflush(stdout);
	}
	return 0;
}

/* Restore marks are renamed into the repository's state folder; watching it
 * in the same queue orders them among the project events.  Without it the
 * watch judges a restore's events by the clock (restoremark_active). */
static void watch_state_dir(struct wctx *c)
{
	char *repo = NULL, *dir = NULL;
	if (repo_default_path(&repo) == 0 && asprintf(&dir, "%s/state", repo) >= 0 &&
	    fio_mkdir_p(dir, 0700, NULL) >= 0)
		c->state_wd = inotify_add_watch(c->ifd, dir, IN_MOVED_TO | IN_ONLYDIR);
	if (c->state_wd < 0)
		c->state_wd = -1;
	store_error_clear();
	free(dir);
	free(repo);
}

static int64_t refresh_period(const struct watch_req *req)
{
	return req->refresh_s > 0 ? (int64_t)(req->refresh_s * NS) : REFRESH_NS;
}

/* --all: watch projects registered since the start too. */
static void refresh(struct wctx *c)
{
	struct repo *repo = NULL;
	struct project *ps = NULL;
	size_t n = 0, skipped = 0;
	if (cli_open_repo(REPO_READ, &repo) == 0 && catalog_projects(repo, &ps, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			bool known = false;
			for (size_t k = 0; k < c->n && !known; k++)
				known = !strcmp(c->ps[k]->root, ps[i].root);
			struct stat st;
			if (known || stat(ps[i].root, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			int r = add_root(c, ps[i].root, &skipped);
			if (r < 0)
				out_store_err(r, "watch");
		}
	}
	store_error_clear();
	projects_free(ps, n);
	repo_close(repo);
}

int watch_run(const struct watch_req *req)
{
	struct wctx c = {.req = req, .ifd = -1, .state_wd = -1};
	sigset_t stopset, orig;
	size_t nskipped = 0;
	int status = EXIT_ERROR, r;

	/* The repository first (created if new, or refused if unusable), so
	 * the lock file has a home and a bad repository fails now. */
	struct repo *repo = NULL;
	if ((r = cli_open_repo(REPO_WRITE, &repo)) < 0)
		return out_store_err(r, "repository");
	repo_close(repo);
	if ((c.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		out_err("watch: inotify: %s", strerror(errno));
		return EXIT_ERROR;
	}
	watch_state_dir(&c);
	for (size_t i = 0; i < req->nroots; i++) {
		if ((r = add_root(&c, req->roots[i], &nskipped)) < 0) {
			status = r == -ENOMEM ? EXIT_ERROR : out_store_err(r, "watch");
			goto out;
		}
	}
	if (req->skip_locked)
		c.refresh_ns = out_mono_ns() + refresh_period(req);
	fflush(stdout);
	if (nskipped == c.n) {
		status = EXIT_LOCKED;
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_stop, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGTERM);
	sigprocmask(SIG_BLOCK, &stopset, &orig);

	while (!stop_sig) {
		int64_t now = out_mono_ns();
		int ms = next_timeout(&c, now);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		struct pollfd pfd = {.fd = c.ifd, .events = POLLIN};
		int pr = ppoll(&pfd, 1, ms < 0 ? NULL : &ts, &orig);
		if (pr < 0 && errno != EINTR) {
			out_err("watch: poll: %s", strerror(errno));
			goto out;
		}
		if (stop_sig)
			break;
		if (pr > 0 && (r = read_events(&c)) < 0) {
			status = out_store_err(r, "watch");
			goto out;
		}
		now = out_mono_ns();
		if (c.refresh_ns && now >= c.refresh_ns) {
			refresh(&c);
			c.refresh_ns = now + refresh_period(req);
		}
		size_t alive = 0;
		for (size_t i = 0; i < c.n && !stop_sig; i++)
			alive += tend(&c, c.ps[i], now, &orig, &stopset);
		if (!alive)
			goto out; /* every root is gone: said above */
	}
	status = EXIT_OK;
	goto out;
out:
	free_ctx(&c);
	return status;
}
