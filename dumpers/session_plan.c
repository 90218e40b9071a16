/* session_plan.c — `ckptfs snap --dry-run`: what would be captured and how.
 *
 * Server databases come from the session's discovery; SQLite files from a
 * read-only scan of the project with the walk's own ignore rules
 * (ignore_match), staying on the root's filesystem and never following
 * symlinks, as the walk does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/engine.h"
#include "dumpers/server.h"
#include "dumpers/session.h"
#include "store/err.h"
#include "store/ignore.h"

struct scan {
	struct ignore *ig;
	dev_t dev;
	FILE *f;
	unsigned found;
	char path[PATH_MAX];
};

static const char *journal_mode(int fd)
{
	unsigned char h[20];
	if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		return "?";
	return h[18] == 2 ? "WAL mode" : "rollback-journal mode";
}

static void scan_file(struct scan *sc, int dirfd, const char *name, const struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (dumper_sqlite_is_db(fd, st)) {
		sc->found++;
		fprintf(sc->f, "  %-9s %s  online backup copy (%s, %.1f MiB), then %s; -wal/-shm/-journal left out\n",
			"sqlite", sc->path, journal_mode(fd), (double)st->st_size / (1 << 20),
			(uint64_t)st->st_size <= DUMPER_INTEGRITY_MAX ? "integrity_check" : "quick_check");
	}
	close(fd);
}

static void scan_dir(struct scan *sc, int fd, size_t len, int depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		bool is_dir = S_ISDIR(st.st_mode);
		if ((!is_dir && !S_ISREG(st.st_mode)) || st.st_dev != sc->dev)
			continue;
		int n = snprintf(sc->path + len, sizeof sc->path - len, "%s%s", len ? "/" : "", name);
		if (n < 0 || (size_t)n >= sizeof sc->path - len)
			continue;
		if (!ignore_match(sc->ig, dirfd(d), sc->path, is_dir)) {
			if (is_dir && depth < 256) {
				int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0)
					scan_dir(sc, sub, len + (size_t)n, depth + 1);
			} else if (!is_dir) {
				scan_file(sc, dirfd(d), name, &st);
			}
		}
		sc->path[len] = '\0';
	}
	closedir(d);
}

static void plan_target(FILE *f, const struct dumper_target *t)
{
	fprintf(f, "  %-9s %s  ", dumper_kind_name(t->kind), t->name ? t->name : "?");
	if (t->disabled) {
		fprintf(f, "skipped: disabled in .ckptfs.toml (found in %s)\n", t->source ? t->source : "?");
		return;
	}
	if (!dumper_target_enabled(t)) {
		fprintf(f, "skipped: remote host %s; list it in .ckptfs.toml to dump it (found in %s)\n",
			t->host ? t->host : "?", t->source ? t->source : "?");
		return;
	}
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	fprintf(f, "%s", e ? e->how : "?");
	if (t->container)
		fprintf(f, " in container %s", t->container);
	else if (t->service)
		fprintf(f, " in compose service %s", t->service);
	else if (t->host)
		fprintf(f, " via %s%s", t->host[0] == '/' ? "socket " : "", t->host);
	fprintf(f, " -> %s/%s%s (found in %s)\n", DUMPER_FOLDER, t->name, dumper_kind_ext(t->kind),
		t->source ? t->source : "?");
}

int dumper_session_plan(struct dumper_session *s, const char *const *excludes, size_t nexcludes,
			FILE *f)
{
	fputs("databases:\n", f);
	for (size_t i = 0; i < s->targets.n; i++)
		plan_target(f, &s->targets.v[i]);
	struct scan sc = {.f = f};
	int r = ignore_open(s->root, excludes, nexcludes, &sc.ig);
	if (r < 0)
		return r;
	int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = store_failp(-errno, "%s", s->root);
		if (fd >= 0)
			close(fd);
		ignore_free(sc.ig);
		return r;
	}
	sc.dev = st.st_dev;
	struct stat own;
	if (dumper_session_ndbs(s) && fstatat(fd, DUMPER_FOLDER, &own, AT_SYMLINK_NOFOLLOW) == 0)
		fprintf(f, "  note: the project's own %s will be left out (the name is reserved for the dumps)\n",
			DUMPER_FOLDER);
	scan_dir(&sc, fd, 0, 0);
	ignore_free(sc.ig);
	if (!s->targets.n && !sc.found)
		fputs("  (none found)\n", f);
	return 0;
}

size_t dumper_session_ndbs(const struct dumper_session *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->targets.n; i++)
		n += dumper_target_enabled(&s->targets.v[i]);
	return n;
}

const char *dumper_session_db_name(const struct dumper_session *s, size_t i)
{
	for (size_t k = 0; k < s->targets.n; k++)
		if (dumper_target_enabled(&s->targets.v[k]) && i-- == 0)
			return s->targets.v[k].name;
	return NULL;
}
