/* repo_open.c — finding, creating and opening a repository; the writer lock.
 *
 * Creation is crash-safe because the format file is written last (temp
 * name, fsync, rename, fsync of the directory): a directory without it was
 * never used — no pack was written, no snapshot committed — so the next
 * writer may throw away whatever a crashed creator left and start over.
 * Readers treat it as "no repository".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/catalog_reader.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/repo_internal.h"
#include "store/repokey.h"

#define FORMAT_FILE "format"
#define FORMAT_TMP "format.tmp"
#define FORMAT_HEAD "ckptfs repository\nformat "
#define LOCK_POLL_MS 50
#define REPO_CACHE_DEFAULT (64u << 20)

int repo_default_path(char **ret_path)
{
	const char *e;
	char *p = NULL;
	int n;
	if ((e = getenv("CKPTFS_REPO")) && *e)
		n = (p = strdup(e)) ? 0 : -1;
	else if ((e = getenv("XDG_DATA_HOME")) && *e == '/') /* XDG: relative values are invalid */
		n = asprintf(&p, "%s/ckptfs", e);
	else if ((e = getenv("HOME")) && *e)
		n = asprintf(&p, "%s/.local/share/ckptfs", e);
	else
		return store_fail(-ENOENT, "no repository location: set CKPTFS_REPO (HOME is not set)");
	if (n < 0)
		return store_fail(-ENOMEM, "repository path: out of memory");
	*ret_path = p;
	return 0;
}

static int absolute_path(const char *path, char **ret)
{
	char *p;
	if (!*path)
		return store_fail(-EINVAL, "repository path is empty");
	if (path[0] == '/') {
		p = strdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return store_failp(-errno, "repository %s: current directory", path);
		if (asprintf(&p, "%s/%s", cwd, path) < 0)
			p = NULL;
		free(cwd);
	}
	if (!p)
		return store_fail(-ENOMEM, "repository path: out of memory");
	for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = '\0';
	*ret = p;
	return 0;
}

/* mkdir -p: every missing directory (parents included, as XDG asks for
 * data directories) is created 0700.  Sets *ret_created if the repository
 * directory itself was created now. */
static int make_dirs(const char *path, bool *ret_created)
{
	int r = fio_mkdir_p(path, 0700, ret_created);
	return r < 0 ? store_failp(r, "repository %s: mkdir", path) : 0;
}

/* 0: format 1; -ENOENT: no format file (nothing recorded);
 * STORE_ENEWER / STORE_ECORRUPT / read errors otherwise. */
static int read_format(struct repo *repo)
{
	char buf[256];
	int fd = openat(repo->dirfd, FORMAT_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT
				       : store_failp(-errno, "repository %s: format file", repo->path);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return store_failp(-err, "repository %s: reading the format file", repo->path);
	buf[n] = '\0';
	size_t head = strlen(FORMAT_HEAD);
	char *end;
	if ((size_t)n > head && memcmp(buf, FORMAT_HEAD, head) == 0 && buf[head] >= '0' &&
	    buf[head] <= '9') {
		errno = 0;
		unsigned long long v = strtoull(buf + head, &end, 10);
		if (errno == 0 && v > REPO_FORMAT_VERSION)
			return store_fail(-STORE_ENEWER,
					  "repository %s: format %llu is newer than this ckptfs "
					  "understands (%d)",
					  repo->path, v, REPO_FORMAT_VERSION);
		if (errno == 0 && v == REPO_FORMAT_VERSION && strcmp(end, "\n") == 0)
			return 0;
	}
	return store_fail(-STORE_ECORRUPT, "repository %s: format file is damaged", repo->path);
}

static int write_format(struct repo *repo)
{
	char buf[64];
	int len = snprintf(buf, sizeof buf, FORMAT_HEAD "%d\n", REPO_FORMAT_VERSION);
	int r = fio_write_atomic(repo->dirfd, FORMAT_FILE, FORMAT_TMP, buf, (size_t)len, 0600);
	if (r < 0)
		return store_failp(r, "repository %s: writing the format file", repo->path);
	return 0;
}

static int ensure_dir(struct repo *repo, const char *name)
{
	if (mkdirat(repo->dirfd, name, 0700) == 0) {
		/* mkdir's mode is filtered by the umask; ours is not. */
		if (fchmodat(repo->dirfd, name, 0700, 0) < 0)
			return store_failp(-errno, "repository %s: chmod %s", repo->path, name);
		return 0;
	}
	if (errno != EEXIST)
		return store_failp(-errno, "repository %s: mkdir %s", repo->path, name);
	struct stat st;
	if (fstatat(repo->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return store_failp(-errno, "repository %s: %s", repo->path, name);
	if (!S_ISDIR(st.st_mode))
		return store_fail(-ENOTDIR, "repository %s: %s is not a directory", repo->path, name);
	return 0;
}

/* Refuse a repository that someone else could change under us: the
 * directory, packs/ or tmp/ writable by group or others (anyone could
 * swap catalog.db, plant a pack or replace the key).  Nothing is written
 * before this passes; the one line says how to fix it.  A missing packs/
 * or tmp/ is fine (made 0700 later). */
static int check_private(struct repo *repo)
{
	static const char *const dirs[] = {".", "packs", "tmp"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		struct stat st;
		if (fstatat(repo->dirfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT && i > 0)
				continue;
			return store_failp(-errno, "repository %s: %s", repo->path, dirs[i]);
		}
		if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
			continue;
		const char *sub = i ? "/" : "", *name = i ? dirs[i] : "";
		return store_fail(-EPERM,
				  "repository %s%s%s: group or others can write to it (mode %04o); "
				  "fix it with: chmod go-w %s%s%s",
				  repo->path, sub, name, (unsigned)(st.st_mode & 07777), repo->path,
				  sub, name);
	}
	return 0;
}

/* Remove what interrupted writers left in tmp/ (we hold the lock, so no
 * writer is running).  Only files: nothing of ours is a directory.  Pack
 * journal entries stay for repo_index_pending_packs, which needs the
 * catalog open. */
static int clean_tmp(struct repo *repo)
{
	int fd = openat(repo->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return store_failp(-errno, "repository %s: tmp", repo->path);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return store_failp(-errno, "repository %s: tmp", repo->path);
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(PACK_JOURNAL_SUFFIX);
		if (e->d_type == DT_DIR ||
		    (len > sl && strcmp(e->d_name + len - sl, PACK_JOURNAL_SUFFIX) == 0))
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT && errno != EISDIR) {
			r = store_failp(-errno, "repository %s: removing tmp/%s", repo->path,
					e->d_name);
			break;
		}
	}
	closedir(d);
	return r;
}

/* Take the writer lock, polling up to wait_ms. */
static int take_lock(struct repo *repo, int wait_ms)
{
	int fd = openat(repo->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return store_failp(-errno, "repository %s: lock file", repo->path);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int r = store_failp(-errno, "repository %s: flock", repo->path);
			close(fd);
			return r;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t waited = (now.tv_sec - start.tv_sec) * 1000 +
				 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= wait_ms) {
			char buf[32] = "";
			ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
			long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
			close(fd);
			if (pid > 0)
				return store_fail(-EWOULDBLOCK,
						  "repository %s: locked by another ckptfs (pid %ld)",
						  repo->path, pid);
			return store_fail(-EWOULDBLOCK, "repository %s: locked by another ckptfs",
					  repo->path);
		}
		int64_t nap = wait_ms - waited < LOCK_POLL_MS ? wait_ms - waited : LOCK_POLL_MS;
		struct timespec ts = {0, (long)nap * 1000000};
		nanosleep(&ts, NULL);
	}
	/* The pid is only for the message of whoever waits for us. */
	char buf[32];
	int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		int r = store_failp(errno ? -errno : -EIO, "repository %s: writing the lock file",
				    repo->path);
		close(fd);
		return r;
	}
	repo->lockfd = fd;
	return 0;
}

/* What a crashed creation may have left; anything else means the
 * directory is not a half-made repository and must not be touched. */
static bool is_creation_leftover(const char *name)
{
	static const char *const names[] = {
		".", "..", "lock", "key", "key.tmp", "key.wrapped", "key.wrapped.tmp", "catalog.db", "catalog.db-wal", "catalog.db-shm",
		"catalog.db-journal", "packs", "tmp", FORMAT_TMP,
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static int dir_is_empty(struct repo *repo, const char *name, bool *ret_empty)
{
	int fd = openat(repo->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			*ret_empty = true;
			return 0;
		}
		return store_failp(-errno, "repository %s: %s", repo->path, name);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return store_failp(-errno, "repository %s: %s", repo->path, name);
	}
	bool empty = true;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	*ret_empty = empty;
	return 0;
}

/* A directory without a format file must hold nothing but the leftovers
 * of a crashed creation before we write anything into it (not even the
 * lock file: CKPTFS_REPO=$HOME must not litter the home directory). */
static int check_not_foreign(struct repo *repo)
{
	int fd = dup(repo->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return store_failp(-errno, "repository %s", repo->path);
	}
	rewinddir(d);
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)))
		if (!is_creation_leftover(e->d_name)) {
			r = store_fail(-ENOTEMPTY,
				       "%s: not a ckptfs repository (no format file) and not empty "
				       "(%s); choose another path",
				       repo->path, e->d_name);
			break;
		}
	closedir(d);
	return r;
}

/* A directory without a format file (lock held): (re)create the
 * repository in it, unless it holds anything that is not ours. */
static int create_repo(struct repo *repo)
{
	int r = check_not_foreign(repo);
	if (r < 0)
		return r;
	bool packs_empty = false;
	r = dir_is_empty(repo, "packs", &packs_empty);
	if (r < 0)
		return r;
	if (!packs_empty)
		return store_fail(-STORE_ECORRUPT,
				  "repository %s: the format file is missing but packs/ holds data",
				  repo->path);

	static const char *const stale[] = {"key", "key.tmp", "key.wrapped", "key.wrapped.tmp", "catalog.db", "catalog.db-wal",
					    "catalog.db-shm", "catalog.db-journal", FORMAT_TMP};
	for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
		if (unlinkat(repo->dirfd, stale[i], 0) < 0 && errno != ENOENT)
			return store_failp(-errno, "repository %s: removing %s of an interrupted "
						   "creation",
					   repo->path, stale[i]);
	if ((r = ensure_dir(repo, "packs")) < 0 || (r = ensure_dir(repo, "tmp")) < 0 ||
	    (r = clean_tmp(repo)) < 0)
		return r;
	r = keyfile_create(repo->dirfd, "key", &repo->keys);
	if (r < 0)
		return r;
	r = catalog_init(repo);
	if (r < 0)
		return r;
	if ((r = fio_fsync_dir(repo->dirfd, ".")) < 0)
		return store_failp(r, "repository %s: fsync", repo->path);
	/* The commit point of creation. */
	return write_format(repo);
}

/* REPO_REPAIR: move a damaged catalog, and its WAL (which must never be
 * replayed into a new database), aside under the first free
 * catalog.db.damaged[.N] name; remove its -shm.  A missing part is fine. */
static int move_catalog_aside(struct repo *repo)
{
	char name[64], wal[80];
	struct stat st;
	int i;
	for (i = 1; i <= 100; i++) {
		snprintf(name, sizeof name, i == 1 ? "catalog.db.damaged" : "catalog.db.damaged.%d", i);
		snprintf(wal, sizeof wal, "%s-wal", name);
		if (fstatat(repo->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
		    fstatat(repo->dirfd, wal, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			break;
	}
	if (i > 100)
		return store_fail(-EEXIST, "repository %s: too many catalog.db.damaged files",
				  repo->path);
	if (renameat(repo->dirfd, "catalog.db", repo->dirfd, name) < 0 && errno != ENOENT)
		return store_failp(-errno, "repository %s: moving catalog.db aside", repo->path);
	if (renameat(repo->dirfd, "catalog.db-wal", repo->dirfd, wal) < 0 && errno != ENOENT)
		return store_failp(-errno, "repository %s: moving catalog.db-wal aside", repo->path);
	if (unlinkat(repo->dirfd, "catalog.db-shm", 0) < 0 && errno != ENOENT)
		return store_failp(-errno, "repository %s: removing catalog.db-shm", repo->path);
	return 0;
}

static int open_existing(struct repo *repo, bool repair)
{
	int r = repokey_load(repo->dirfd, repo->path, &repo->keys);
	if (r < 0)
		return r;
	if (repo->mode == REPO_WRITE) {
		if ((r = ensure_dir(repo, "packs")) < 0 || (r = ensure_dir(repo, "tmp")) < 0 ||
		    (r = clean_tmp(repo)) < 0)
			return r;
	}
	/* Never make a fresh catalog beside existing packs unless repairing:
	 * that would hide every snapshot.  Rebuilding it is check --repair's
	 * job. */
	struct stat st;
	if (fstatat(repo->dirfd, "catalog.db", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return store_failp(-errno, "repository %s: catalog.db", repo->path);
		if (!repair)
			return store_fail(-STORE_ECORRUPT,
					  "repository %s: catalog.db is missing (ckptfs check --repair "
					  "rebuilds it)",
					  repo->path);
		/* A WAL left without its database must not be replayed. */
		if ((r = move_catalog_aside(repo)) < 0)
			return r;
		repo->catalog_fresh = true;
		return catalog_init(repo);
	}
	r = catalog_init(repo);
	if (r == -STORE_ECORRUPT && repair) {
		if ((r = move_catalog_aside(repo)) < 0)
			return r;
		repo->catalog_fresh = true;
		r = catalog_init(repo);
	}
	return r;
}

static void codec_destroy(void *c)
{
	blob_codec_free(c);
}

static void repo_free_parts(struct repo *repo)
{
	chunk_cache_free(repo->cache);
	catalog_close(repo);
	keys_wipe(&repo->keys);
	if (repo->dirfd >= 0)
		close(repo->dirfd);
	if (repo->lockfd >= 0)
		close(repo->lockfd); /* releases the flock */
	pthread_mutex_destroy(&repo->db_lock);
	free(repo->path);
	free(repo);
}

int repo_open(const char *path, enum repo_mode mode, int lock_wait_ms, struct repo **ret_repo)
{
	struct repo *repo = calloc(1, sizeof *repo);
	if (!repo)
		return store_fail(-ENOMEM, "repository %s: out of memory", path);
	repo->dirfd = -1;
	repo->lockfd = -1;
	bool repair = mode == REPO_REPAIR;
	if (repair)
		mode = REPO_WRITE;
	repo->mode = mode;
	pthread_mutex_init(&repo->db_lock, NULL);
	int r = absolute_path(path, &repo->path);
	if (r < 0)
		goto fail;
	bool created = false;
	if (mode == REPO_WRITE && !repair && (r = make_dirs(repo->path, &created)) < 0)
		goto fail;
	repo->dirfd = open(repo->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (repo->dirfd < 0) {
		if (errno == ENOENT)
			r = store_fail(-ENOENT, "repository %s: no such repository", repo->path);
		else
			r = store_failp(-errno, "repository %s", repo->path);
		goto fail;
	}
	/* Owner-only regardless of the umask. */
	if (created && fchmod(repo->dirfd, 0700) < 0) {
		r = store_failp(-errno, "repository %s: chmod", repo->path);
		goto fail;
	}
	if (mode == REPO_WRITE) {
		r = read_format(repo);
		if (r == -ENOENT)
			r = repair ? store_fail(-ENOENT,
						"repository %s: no such repository (no format file)",
						repo->path)
				   : check_not_foreign(repo);
		if (r < 0 || (r = check_private(repo)) < 0)
			goto fail;
		if ((r = take_lock(repo, lock_wait_ms)) < 0)
			goto fail;
	}
	/* Read again under the lock: a concurrent creator may have finished. */
	r = read_format(repo);
	if (r == -ENOENT) {
		if (mode == REPO_READ || repair) {
			r = store_fail(-ENOENT, "repository %s: no such repository (no format file)",
				       repo->path);
			goto fail;
		}
		r = create_repo(repo);
	} else if (r == 0) {
		/* Again for readers (a writer checked before taking the lock). */
		r = check_private(repo);
		if (r == 0)
			r = open_existing(repo, repair);
	}
	if (r < 0)
		goto fail;
	r = chunk_cache_new(REPO_CACHE_DEFAULT, &repo->cache);
	if (r < 0)
		goto fail;
	if (pthread_key_create(&repo->codec_key, codec_destroy) != 0) {
		r = store_fail(-EAGAIN, "repository %s: no thread-specific key left", repo->path);
		goto fail;
	}
	if (pthread_key_create(&repo->pack_key, repo_pack_release) != 0) {
		pthread_key_delete(repo->codec_key);
		r = store_fail(-EAGAIN, "repository %s: no thread-specific key left", repo->path);
		goto fail;
	}
	if (pthread_key_create(&repo->reader_key, cat_reader_release) != 0) {
		pthread_key_delete(repo->codec_key);
		pthread_key_delete(repo->pack_key);
		r = store_fail(-EAGAIN, "repository %s: no thread-specific key left", repo->path);
		goto fail;
	}
	repo->readers = mode == REPO_READ;
	/* Not for check --repair: it scans all of packs/ anyway, and must
	 * open even when the catalog cannot take the packs. */
	if (mode == REPO_WRITE && !repair && (r = repo_index_pending_packs(repo)) < 0) {
		repo_close(repo);
		return r;
	}
	*ret_repo = repo;
	return 0;
fail:
	repo_free_parts(repo);
	return r;
}

void repo_close(struct repo *repo)
{
	if (!repo)
		return;
	/* Other threads' codecs were freed when they exited (the key's
	 * destructor); the calling thread's is freed here. */
	struct blob_codec *c = pthread_getspecific(repo->codec_key);
	if (c) {
		pthread_setspecific(repo->codec_key, NULL);
		blob_codec_free(c);
	}
	pthread_key_delete(repo->codec_key);
	void *p = pthread_getspecific(repo->pack_key);
	if (p) {
		pthread_setspecific(repo->pack_key, NULL);
		repo_pack_release(p);
	}
	pthread_key_delete(repo->pack_key);
	cat_reader_close_mine(repo);
	pthread_key_delete(repo->reader_key);
	repo_free_parts(repo);
}

const char *repo_path(const struct repo *repo)
{
	return repo->path;
}
