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

static void mark_name(const char *root, char buf[64])
{
	snprintf(buf, 64, "restore-%016" PRIx64, (uint64_t)XXH3_64bits(root, strlen(root)));
}

static int64_t started_ns; /* of this process's restore */

static void put(const char *root, int64_t start, int64_t end)
{
	char name[64], text[96];
	mark_name(root, name);
	int n = snprintf(text, sizeof text, "%ld %lld %lld\n", (long)getpid(), (long long)start,
			 (long long)end);
	runlog_state_write(name, text, (size_t)n);
	store_error_clear();
}

void restoremark_begin(const char *root)
{
	started_ns = out_now_ns();
	put(root, started_ns, 0);
}

void restoremark_end(const char *root)
{
	put(root, started_ns, out_now_ns());
}

bool restoremark_active(const char *root, int64_t now)
{
	char name[64], *dir = NULL, *path = NULL;
	mark_name(root, name);
	if (repo_default_path(&dir) < 0 || asprintf(&path, "%s/state/%s", dir, name) < 0) {
		store_error_clear();
		free(dir);
		return false;
	}
	free(dir);
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return false;
	long pid = 0;
	long long start = 0, end = 0;
	int k = fscanf(f, "%ld %lld %lld", &pid, &start, &end);
	fclose(f);
	if (k != 3 || now < start)
		return false;
	if (end == 0) /* running, unless it died */
		return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	return now <= end + RESTOREMARK_GRACE_NS;
}
