/* walk_scout.c — a thread that reads ahead of the walk the big files it is
 * about to read (see walk_internal.h).
 *
 * The walk does everything for one file at a time on one thread: a
 * database capture (backup copy, store of the copy), hashing and
 * deduplicating every chunk.  After an hour of work on the bench project
 * it meets a live 213 MB SQLite database, then a 1 GiB log grown by 20 MB:
 * while it copies and stores the database the disk idles, and while it
 * reads the log a core does.  The scout walks the same tree (names and
 * stat only), by the same rules (one filesystem, never the repository,
 * the ignore rules), and asks the kernel (POSIX_FADV_WILLNEED) for the
 * files of at least SCOUT_MIN_SIZE bytes changed since the parent
 * snapshot began (ctime or mtime not safely before it, by the files
 * cache's own rule: the walk reads such a file again, or captures it),
 * a step at a time, at most
 * ahead_max bytes beyond what the walk has read.  So the disk reads the
 * log while the walk works on the database, and the snap approaches
 * max(disk, CPU) instead of their sum.  In a first snapshot (every file
 * read) it asks for every big file: the kernel then fills the page cache
 * on this thread, in large requests, not on the walk's reads.
 *
 * Only hints: the scout reads no data itself, writes nothing, takes no
 * lock, opens no file while the walk is in hooks->capture (see
 * walk_scout_pause), and what it gets wrong (a file it skips or asks for needlessly)
 * costs time, never correctness: the walk decides and reads everything as
 * before.  Its metadata pass also warms the inodes the walk stats next.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/err.h"
#include "store/restore.h"
#include "store/walk_internal.h"

#define SCOUT_MIN_SIZE (8u << 20) /* smaller files: walk_dir's prefetch_one */
#define SCOUT_STEP (8u << 20)     /* asked for at a time */
#define SCOUT_AHEAD_MAX (512ull << 20)

struct walk_scout {
	pthread_t thread;
	struct ignore *ig;
	int rootfd;
	dev_t root_dev;
	bool have_repo;
	dev_t repo_dev;
	ino_t repo_ino;
	int64_t since_ns;
	uint64_t ahead_max;
	uint64_t asked; /* bytes asked for (the scout's thread only) */
	_Atomic uint64_t asked_files; /* stats.files, for walk_scout_asked */
	_Atomic uint64_t consumed; /* bytes the walk has read */
	atomic_bool stop;
	/* The pause (walk_scout_pause): while paused the scout opens no file,
	 * and the walk pauses it only once it holds none open. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool paused;  /* the walk is in hooks->capture */
	bool holding; /* the scout may have a file open */
	struct relpath path;
	struct walk_scout_stats stats;
};

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* Will the walk read it?  What the files cache reuses has both times
 * safely before the parent began (walk_racy_at); a changed file cannot
 * (every write moves ctime, which no one can set back). */
static bool changed(const struct walk_scout *s, const struct stat *st)
{
	return walk_racy_at(s->since_ns, ts_ns(&st->st_mtim), ts_ns(&st->st_ctim));
}

static void nap(void)
{
	struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/* Begin a stretch in which the scout may open files: false if it is to
 * stop instead. */
static bool hold(struct walk_scout *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->paused && !atomic_load(&s->stop))
		pthread_cond_wait(&s->cond, &s->lock);
	bool go = !atomic_load(&s->stop);
	s->holding = go;
	pthread_mutex_unlock(&s->lock);
	return go;
}

static void release(struct walk_scout *s)
{
	pthread_mutex_lock(&s->lock);
	s->holding = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Ask for one SCOUT_STEP of dirfd/name at off, if it is still the file
 * (ino) the scout decided on.  The file is opened for each step and
 * closed at once, inside a hold: see walk_scout_pause for why. */
static bool ask_step(struct walk_scout *s, int dirfd, const char *name, ino_t ino, off_t off)
{
	if (!hold(s))
		return false;
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	struct stat st;
	bool same = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == ino;
	if (same)
		(void)posix_fadvise(fd, off, SCOUT_STEP, POSIX_FADV_WILLNEED);
	if (fd >= 0)
		close(fd);
	release(s);
	return same;
}

static void ask(struct walk_scout *s, int dirfd, const char *name, const struct stat *st)
{
	s->stats.files++;
	atomic_store_explicit(&s->asked_files, s->stats.files, memory_order_relaxed);
	for (off_t off = 0; off < st->st_size; off += SCOUT_STEP) {
		while (s->asked >= atomic_load_explicit(&s->consumed, memory_order_relaxed) + s->ahead_max) {
			if (atomic_load(&s->stop))
				return;
			nap();
		}
		if (!ask_step(s, dirfd, name, st->st_ino, off))
			return;
		s->asked += SCOUT_STEP;
		s->stats.bytes += (uint64_t)(st->st_size - off < SCOUT_STEP ? st->st_size - off : SCOUT_STEP);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory open as fd (ownership passes), in the walk's order. */
static void scout_dir(struct walk_scout *s, int fd)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool has_ignore_file = false;
	for (struct dirent *de; (de = readdir(d));) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
			continue;
		if (n == cap) {
			size_t c2 = cap ? 2 * cap : 64;
			char **v = realloc(names, c2 * sizeof *v);
			if (!v)
				goto out;
			names = v;
			cap = c2;
		}
		if (!(names[n] = strdup(nm)))
			goto out;
		has_ignore_file |= strcmp(nm, ".ckptignore") == 0;
		n++;
	}
	if (n) /* names is NULL for an empty folder */
		qsort(names, n, sizeof *names, name_cmp);
	size_t base = s->path.len;
	/* The ignore rules may open .ckptignore files: in a hold too. */
	if (!hold(s))
		goto out;
	int r = ignore_enter(s->ig, dirfd(d), s->path.s, base, has_ignore_file);
	release(s);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n && !atomic_load(&s->stop); i++) {
		struct stat st;
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
			continue;
		bool is_dir = S_ISDIR(st.st_mode);
		if (is_dir ? st.st_dev != s->root_dev ||
				     (s->have_repo && st.st_dev == s->repo_dev && st.st_ino == s->repo_ino)
			   : !S_ISREG(st.st_mode) || st.st_size < SCOUT_MIN_SIZE || !changed(s, &st) ||
				     restore_is_temp_name(names[i]))
			continue;
		if (relpath_push(&s->path, names[i], NULL) < 0)
			break;
		int out = -1;
		if (hold(s)) {
			out = ignore_entry(s->ig, dirfd(d), s->path.s, base, is_dir);
			release(s);
		}
		if (out == 0 && is_dir) {
			int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
			int sub = openat(dirfd(d), names[i], flags | O_NOATIME);
			if (sub < 0 && errno == EPERM)
				sub = openat(dirfd(d), names[i], flags);
			if (sub >= 0)
				scout_dir(s, sub);
		} else if (out == 0) {
			ask(s, dirfd(d), names[i], &st);
		}
		relpath_pop(&s->path, base);
		if (out < 0)
			break;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static void *scout_main(void *arg)
{
	struct walk_scout *s = arg;
	scout_dir(s, s->rootfd);
	s->rootfd = -1;
	return NULL;
}

int walk_scout_start(const struct walk_scout_opts *o, struct walk_scout **ret)
{
	struct walk_scout *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->rootfd = -1;
	s->root_dev = o->root_dev;
	s->have_repo = o->have_repo;
	s->repo_dev = o->repo_dev;
	s->repo_ino = o->repo_ino;
	s->since_ns = o->since_ns;
	s->ahead_max = o->ahead_max ? o->ahead_max : SCOUT_AHEAD_MAX;
	/* A small machine keeps most of its page cache for other work. */
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	if (pages > 0 && psize > 0 && (uint64_t)pages * (uint64_t)psize / 8 < s->ahead_max)
		s->ahead_max = (uint64_t)pages * (uint64_t)psize / 8;
	atomic_init(&s->consumed, 0);
	atomic_init(&s->asked_files, 0);
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	int r;
	if ((r = relpath_init(&s->path)) < 0 ||
	    (r = ignore_open(o->root, o->excludes, o->nexcludes, &s->ig)) < 0)
		goto fail;
	s->rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (s->rootfd < 0 && errno == EPERM)
		s->rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		r = store_failp(-errno, "%s", o->root);
		goto fail;
	}
	if ((r = -pthread_create(&s->thread, NULL, scout_main, s)) < 0) {
		store_fail(r, "walk: cannot start the read-ahead thread");
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	if (s->rootfd >= 0)
		close(s->rootfd);
	ignore_free(s->ig);
	relpath_free(&s->path);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}

uint64_t walk_scout_asked(const struct walk_scout *s)
{
	return s ? atomic_load_explicit(&s->asked_files, memory_order_relaxed) : 0;
}

void walk_scout_consumed(struct walk_scout *s, uint64_t bytes)
{
	if (s)
		atomic_store_explicit(&s->consumed, bytes, memory_order_relaxed);
}

void walk_scout_pause(struct walk_scout *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->paused = true;
	while (s->holding)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void walk_scout_resume(struct walk_scout *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->paused = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void walk_scout_free(struct walk_scout *s, bool finish, struct walk_scout_stats *ret_stats)
{
	if (!s)
		return;
	if (!finish) {
		pthread_mutex_lock(&s->lock);
		atomic_store(&s->stop, true);
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_join(s->thread, NULL);
	if (ret_stats)
		*ret_stats = s->stats;
	ignore_free(s->ig);
	relpath_free(&s->path);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
