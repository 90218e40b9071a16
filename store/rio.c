/* rio.c — remote I/O: dispatch, and the directory backend (see rio.h). */
#include "store/rio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/rio_internal.h"

int rio_open(const char *target, const struct rio_opts *opts, struct rio **ret)
{
	struct rio *rio = calloc(1, sizeof *rio);
	if (!rio)
		return store_fail(-ENOMEM, "remote: out of memory");
	if (opts)
		rio->opts = *opts;
	rio->rclone = !strncmp(target, "rclone:", 7);
	const char *base = rio->rclone ? target + 7 : target;
	size_t bl = strlen(base);
	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	rio->target = strdup(target);
	rio->base = strndup(base, bl);
	if (!rio->target || !rio->base) {
		rio_free(rio);
		return store_fail(-ENOMEM, "remote: out of memory");
	}
	if ((rio->rclone && (!strchr(rio->base, ':') || rio->base[0] == ':')) ||
	    (!rio->rclone && rio->base[0] != '/')) {
		int r = store_fail(-EINVAL, "remote %s: not a target (an absolute directory or "
					    "rclone:REMOTE:PATH)",
				   target);
		rio_free(rio);
		return r;
	}
	*ret = rio;
	return 0;
}

void rio_free(struct rio *rio)
{
	if (!rio)
		return;
	free(rio->target);
	free(rio->base);
	free(rio->list_path);
	free(rio);
}

int rio_set_list_path(struct rio *rio, const char *path)
{
	char *p = strdup(path);
	if (!p)
		return store_fail(-ENOMEM, "remote: out of memory");
	free(rio->list_path);
	rio->list_path = p;
	return 0;
}

bool rio_is_rclone(const struct rio *rio)
{
	return rio->rclone;
}

void rio_entries_free(struct rio_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

void rio_sum_hex(XXH3_state_t *st, char out[RIO_SUM_LEN + 1])
{
	XXH128_hash_t h = XXH3_128bits_digest(st);
	snprintf(out, RIO_SUM_LEN + 1, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

void rio_throttle(struct rio *rio, uint64_t done)
{
	if (!rio->opts.bw_bytes)
		return;
	int64_t want_ns = (int64_t)((double)done / (double)rio->opts.bw_bytes * 1e9);
	int64_t ahead = rio->bw_start_ns + want_ns - fio_mono_ns();
	if (ahead > 0) {
		struct timespec ts = {ahead / 1000000000, ahead % 1000000000};
		nanosleep(&ts, NULL);
	}
}

int rio_parse_rate(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0 || s[0] == '-' || s[0] == '+')
		return store_fail(-EINVAL, "--bwlimit %s: not a rate (like 512K, 10M, 1G)", s);
	double mult = 1024;
	switch (*end) {
	case 'B': case 'b': mult = 1; end++; break;
	case 'K': case 'k': mult = 1024; end++; break;
	case 'M': case 'm': mult = 1024.0 * 1024; end++; break;
	case 'G': case 'g': mult = 1024.0 * 1024 * 1024; end++; break;
	case '\0': break;
	default: end = (char *)"x";
	}
	if (*end || v * mult < 1 || v * mult > 1e15)
		return store_fail(-EINVAL, "--bwlimit %s: not a rate (like 512K, 10M, 1G)", s);
	*ret = (uint64_t)(v * mult);
	return 0;
}

/* ---- directory backend ---------------------------------------------------- */

static char *dir_path(struct rio *rio, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", rio->base, name) < 0)
		return NULL;
	return p;
}

static int dir_prepare(struct rio *rio)
{
	int r = fio_mkdir_p(rio->base, 0700, NULL);
	if (r < 0)
		return store_failp(r, "remote %s", rio->target);
	struct stat st;
	if (stat(rio->base, &st) < 0 || !S_ISDIR(st.st_mode))
		return store_fail(-ENOTDIR, "remote %s: not a directory", rio->target);
	return 0;
}

/* mkdir -p of name's parent directory under the target. */
static int dir_parents(struct rio *rio, const char *name)
{
	const char *slash = strrchr(name, '/');
	if (!slash)
		return 0;
	char *p = NULL;
	if (asprintf(&p, "%s/%.*s", rio->base, (int)(slash - name), name) < 0)
		return store_fail(-ENOMEM, "remote: out of memory");
	int r = fio_mkdir_p(p, 0700, NULL);
	if (r < 0)
		r = store_failp(r, "remote %s: %s", rio->target, p);
	free(p);
	return r;
}

struct listing {
	struct rio_entry *e;
	size_t n, cap;
};

static int list_add(struct listing *l, const char *name, uint64_t size)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 64;
		struct rio_entry *ne = realloc(l->e, nc * sizeof *ne);
		if (!ne)
			return store_fail(-ENOMEM, "remote: out of memory");
		l->e = ne;
		l->cap = nc;
	}
	if (!(l->e[l->n].name = strdup(name)))
		return store_fail(-ENOMEM, "remote: out of memory");
	l->e[l->n++].size = size;
	return 0;
}

static int dir_walk(struct rio *rio, const char *rel, struct listing *l, int depth)
{
	char *path = dir_path(rio, rel);
	if (!path)
		return store_fail(-ENOMEM, "remote: out of memory");
	DIR *d = opendir(path);
	if (!d) {
		int r = errno == ENOENT ? 0 : store_failp(-errno, "remote %s: %s", rio->target, path);
		free(path);
		return r;
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char child[PATH_MAX];
		struct stat st;
		snprintf(child, sizeof child, "%s/%s", rel, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				r = store_failp(-errno, "remote %s: %s/%s", rio->target, path,
						e->d_name);
			continue;
		}
		if (S_ISDIR(st.st_mode) && depth < 4)
			r = dir_walk(rio, child, l, depth + 1);
		else if (S_ISREG(st.st_mode))
			r = list_add(l, child, (uint64_t)st.st_size);
	}
	closedir(d);
	free(path);
	return r;
}

static int dir_read(struct rio *rio, const char *name, size_t max, char **ret, size_t *ret_len)
{
	char *path = dir_path(rio, name);
	if (!path)
		return store_fail(-ENOMEM, "remote: out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int r = errno == ENOENT ? -ENOENT : store_failp(-errno, "remote %s", path);
		free(path);
		return r;
	}
	char *buf = malloc(max + 1);
	size_t len = 0;
	int r = buf ? 0 : store_fail(-ENOMEM, "remote: out of memory");
	while (r == 0) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = store_failp(-errno, "remote %s", path);
		else if (n == 0)
			break;
		else if ((len += (size_t)n) > max)
			r = store_fail(-STORE_ECORRUPT, "remote %s: larger than %zu bytes", path, max);
	}
	close(fd);
	free(path);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int dir_write(struct rio *rio, const char *name, const void *buf, size_t len)
{
	int r = dir_parents(rio, name);
	if (r < 0)
		return r;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s" RIO_TMP_SUFFIX, name);
	int dfd = open(rio->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return store_failp(-errno, "remote %s", rio->target);
	r = fio_write_atomic(dfd, name, tmp, buf, len, 0600);
	close(dfd);
	if (r < 0)
		return store_failp(r, "remote %s: writing %s", rio->target, name);
	return 0;
}

static int dir_download(struct rio *rio, const char *name, int outfd,
			char ret_sum[RIO_SUM_LEN + 1], uint64_t *ret_size, rio_progress_fn progress,
			void *ctx)
{
	char *path = dir_path(rio, name);
	uint8_t *buf = malloc(RIO_BUF);
	XXH3_state_t *st = XXH3_createState();
	int r = 0, fd = -1;
	if (!path || !buf || !st) {
		r = store_fail(-ENOMEM, "remote: out of memory");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? store_fail(-ENOENT, "remote %s: %s is missing", rio->target, name)
				    : store_failp(-errno, "remote %s: %s", rio->target, name);
		goto out;
	}
	XXH3_128bits_reset(st);
	uint64_t done = 0;
	for (;;) {
		ssize_t n = read(fd, buf, RIO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = store_failp(-errno, "remote %s: reading %s", rio->target, name);
			goto out;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(st, buf, (size_t)n);
		if ((r = fio_write_all(outfd, buf, (size_t)n)) < 0) {
			store_failp(r, "writing the copy of %s", name);
			goto out;
		}
		done += (uint64_t)n;
		if (progress)
			progress(ctx, done);
	}
	rio_sum_hex(st, ret_sum);
	*ret_size = done;
out:
	if (fd >= 0)
		close(fd);
	XXH3_freeState(st);
	free(buf);
	free(path);
	return r;
}

/* ---- dispatch ---------------------------------------------------------------- */

int rio_prepare(struct rio *rio)
{
	return rio->rclone ? rio_rclone_prepare(rio) : dir_prepare(rio);
}

int rio_list(struct rio *rio, const char *dir, struct rio_entry **ret, size_t *ret_n)
{
	if (rio->rclone)
		return rio_rclone_list(rio, dir, ret, ret_n);
	struct listing l = {0};
	int r = dir_walk(rio, dir, &l, 0);
	if (r < 0) {
		rio_entries_free(l.e, l.n);
		return r;
	}
	*ret = l.e;
	*ret_n = l.n;
	return 0;
}

int rio_read(struct rio *rio, const char *name, size_t max, char **ret, size_t *ret_len)
{
	return rio->rclone ? rio_rclone_read(rio, name, max, ret, ret_len)
			   : dir_read(rio, name, max, ret, ret_len);
}

int rio_write(struct rio *rio, const char *name, const void *buf, size_t len)
{
	return rio->rclone ? rio_rclone_write(rio, name, buf, len) : dir_write(rio, name, buf, len);
}

int rio_download(struct rio *rio, const char *name, int outfd, char ret_sum[RIO_SUM_LEN + 1],
		 uint64_t *ret_size, rio_progress_fn progress, void *ctx)
{
	return rio->rclone ? rio_rclone_download(rio, name, outfd, ret_sum, ret_size, progress, ctx)
			   : dir_download(rio, name, outfd, ret_sum, ret_size, progress, ctx);
}

int rio_remove(struct rio *rio, const char *name)
{
	if (rio->rclone)
		return rio_rclone_remove(rio, name);
	char *path = dir_path(rio, name);
	if (!path)
		return store_fail(-ENOMEM, "remote: out of memory");
	int r = 0;
	if (unlink(path) < 0 && errno != ENOENT)
		r = store_failp(-errno, "remote %s: removing %s", rio->target, name);
	free(path);
	return r;
}

int rio_remove_many(struct rio *rio, char *const *names, size_t n)
{
	if (rio->rclone)
		return n ? rio_rclone_remove_many(rio, names, n) : 0;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = rio_remove(rio, names[i]);
	return r;
}

int rio_sync(struct rio *rio)
{
	if (rio->rclone)
		return 0;
	/* Removals happen in packs/<fan>/: sync them all, and the top. */
	struct listing l = {0};
	char *packs = dir_path(rio, "packs");
	DIR *d = packs ? opendir(packs) : NULL;
	int r = 0;
	if (d) {
		struct dirent *e;
		while (r == 0 && (e = readdir(d)))
			if (e->d_name[0] != '.' && (r = fio_fsync_dir(dirfd(d), e->d_name)) < 0)
				store_failp(r, "remote %s: fsync of packs/%s", rio->target, e->d_name);
		closedir(d);
	}
	free(packs);
	free(l.e);
	if (r == 0 && (r = fio_fsync_dir(AT_FDCWD, rio->base)) < 0)
		store_failp(r, "remote %s: fsync", rio->target);
	return r;
}
