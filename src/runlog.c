/* runlog.c — the last `snap --all` record (see runlog.h). */
#include "src/runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/repo.h"

#define RUNLOG_DIR "state"
#define RUNLOG_NAME "last-run.json"
#define RUNLOG_MAX (16 << 20)

/* <repository>/state, malloc'd. */
static int state_dir(char **ret)
{
	char *repo = NULL;
	int r = repo_default_path(&repo);
	if (r < 0)
		return r;
	if (asprintf(ret, "%s/" RUNLOG_DIR, repo) < 0)
		r = -ENOMEM;
	free(repo);
	return r;
}

int runlog_write(const char *text, size_t len)
{
	return runlog_state_write(RUNLOG_NAME, text, len);
}

int runlog_read(struct jv *ret)
{
	return runlog_state_read(RUNLOG_NAME, ret);
}

int runlog_state_write(const char *name, const char *text, size_t len)
{
	char *dir = NULL, tmp[64];
	int r = state_dir(&dir), fd = -1;
	if (r < 0)
		return r;
	if ((r = fio_mkdir_p(dir, 0700, NULL)) < 0) {
		r = store_failp(r, "%s", dir);
		goto out;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = store_failp(-errno, "%s", dir);
		goto out;
	}
	/* A temp name of this process: two runs at once never share one. */
	snprintf(tmp, sizeof tmp, ".%.32s.%ld.tmp", name, (long)getpid());
	if ((r = fio_write_atomic(fd, name, tmp, text, len, 0600)) < 0)
		r = store_failp(r, "%s/%s", dir, name);
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int runlog_state_read(const char *name, struct jv *ret)
{
	char *dir = NULL, *path = NULL, *text = NULL;
	FILE *f = NULL;
	int r = state_dir(&dir);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		path = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (!(f = fopen(path, "re"))) {
		r = errno == ENOENT ? -ENOENT : store_failp(-errno, "%s", path);
		goto out;
	}
	if (!(text = malloc(RUNLOG_MAX + 1))) {
		r = -ENOMEM;
		goto out;
	}
	size_t n = fread(text, 1, RUNLOG_MAX, f);
	if (ferror(f)) {
		r = store_failp(-EIO, "%s", path);
		goto out;
	}
	text[n] = '\0';
	if ((r = jv_parse(text, ret)) < 0 || ret->t != J_OBJ) {
		if (r == 0)
			jv_clear(ret);
		r = r == -ENOMEM ? r : store_fail(-EINVAL, "%s: not a JSON object", path);
	}
out:
	if (f)
		fclose(f);
	free(text);
	free(path);
	free(dir);
	return r;
}

const struct jv *runlog_project(const struct jv *log, const char *name)
{
	const struct jv *ps = jv_get(log, "projects");
	for (size_t i = 0; ps && ps->t == J_ARR && i < ps->n; i++) {
		const char *n = jv_str(&ps->items[i], "project");
		if (n && !strcmp(n, name))
			return &ps->items[i];
	}
	return NULL;
}

char *runlog_first_problem(const char *notes)
{
	struct jv v;
	char *out = NULL;
	if (!notes || jv_parse(notes, &v) < 0)
		return NULL;
	const struct jv *dbs = jv_get(&v, "databases");
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n && !out; i++) {
		const struct jv *d = &dbs->items[i];
		if (jv_bool(d, "ok") || jv_bool(d, "skipped"))
			continue;
		const char *name = jv_str(d, "name"), *why = jv_str(d, "result");
		if (asprintf(&out, "database %s: %s", name ? name : "?", why ? why : "failed") < 0)
			out = NULL;
	}
	const struct jv *paths = jv_get(&v, "paths");
	if (!out && paths && paths->t == J_ARR && paths->n > 0) {
		const struct jv *p = &paths->items[0];
		const char *path = jv_str(p, "path"), *what = jv_str(p, "what");
		const char *err = jv_str(p, "error");
		if (asprintf(&out, "%s: %s%s%s", path ? path : "?", what ? what : "not stored",
			     err ? ": " : "", err ? err : "") < 0)
			out = NULL;
	}
	jv_clear(&v);
	return out;
}
