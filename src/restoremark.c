/* restoremark.c — a restore writing into a project (see restoremark.h). */
#include "src/restoremark.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "src/output.h"
#include "src/runlog.h"
#include "store/err.h"
#include "store/repo.h"

void restoremark_names(const char *root, char mark[RESTOREMARK_NAME_MAX],
		       char end[RESTOREMARK_NAME_MAX])
{
	uint64_t h = (uint64_t)XXH3_64bits(root, strlen(root));
	snprintf(mark, RESTOREMARK_NAME_MAX, "restore-%016" PRIx64, h);
	snprintf(end, RESTOREMARK_NAME_MAX, "restore-%016" PRIx64 ".end", h);
}

static int64_t started_ns; /* of this process's restore */

static void put(const char *name, int64_t start, int64_t end)
{
	char text[96];
	int n = end ? snprintf(text, sizeof text, "%ld %lld %lld\n", (long)getpid(),
			       (long long)start, (long long)end)
		    : snprintf(text, sizeof text, "%ld %lld\n", (long)getpid(), (long long)start);
	runlog_state_write(name, text, (size_t)n);
	store_error_clear();
}

void restoremark_begin(const char *root)
{
	char mark[RESTOREMARK_NAME_MAX], end[RESTOREMARK_NAME_MAX];
	restoremark_names(root, mark, end);
	started_ns = out_now_ns();
	put(mark, started_ns, 0);
}

void restoremark_end(const char *root)
{
	char mark[RESTOREMARK_NAME_MAX], end[RESTOREMARK_NAME_MAX];
	restoremark_names(root, mark, end);
	put(end, started_ns, out_now_ns());
}

/* Up to three numbers of one state file; how many were read (0: none). */
static int read_mark(const char *name, long long v[3])
{
	char *dir = NULL, *path = NULL;
	if (repo_default_path(&dir) < 0 || asprintf(&path, "%s/state/%s", dir, name) < 0) {
		store_error_clear();
		free(dir);
		return 0;
	}
	free(dir);
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return 0;
	int k = fscanf(f, "%lld %lld %lld", &v[0], &v[1], &v[2]);
	fclose(f);
	return k < 0 ? 0 : k;
}

/* The state of root's restore: -1 none begun, 0 running (pid in *pid),
 * 1 ended at *end_ns. */
static int mark_state(const char *root, long *pid, int64_t *start_ns, int64_t *end_ns)
{
	char mark[RESTOREMARK_NAME_MAX], end[RESTOREMARK_NAME_MAX];
	long long m[3] = {0}, e[3] = {0};
	restoremark_names(root, mark, end);
	if (read_mark(mark, m) < 2)
		return -1;
	*pid = (long)m[0];
	*start_ns = m[1];
	if (read_mark(end, e) == 3 && e[1] == m[1]) {
		*end_ns = e[2];
		return 1;
	}
	return 0;
}

static bool alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

bool restoremark_running(const char *root)
{
	long pid = 0;
	int64_t start = 0, end = 0;
	return mark_state(root, &pid, &start, &end) == 0 && alive(pid);
}

bool restoremark_died(const char *root)
{
	long pid = 0;
	int64_t start = 0, end = 0;
	int s = mark_state(root, &pid, &start, &end);
	return s < 0 || (s == 0 && !alive(pid));
}

bool restoremark_active(const char *root, int64_t now)
{
	long pid = 0;
	int64_t start = 0, end = 0;
	int s = mark_state(root, &pid, &start, &end);
	if (s < 0 || now < start)
		return false;
	if (s == 0) /* running, unless it died */
		return alive(pid);
	return now <= end + RESTOREMARK_GRACE_NS;
}
