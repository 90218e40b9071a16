/* restore_temp.c — the temp names restore writes under, and removing the
 * ones a killed restore left behind.
 *
 * restore_file.c makes every entry as ".<name>.ckptfs-XXXXXX" (X from
 * [A-Za-z0-9]) and renames it over <name>.  A restore killed in between
 * leaves that file; the walk leaves such names out of snapshots and the
 * next restore into the same directory removes them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/restore_internal.h"

#define TEMP_MARK ".ckptfs-"
#define TEMP_RAND 6

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool restore_is_temp_name(const char *name)
{
	size_t mark = strlen(TEMP_MARK), len = strlen(name);
	/* "." + at least one byte of the name + mark + the random part */
	if (len < 2 + mark + TEMP_RAND || name[0] != '.')
		return false;
	const char *m = name + len - TEMP_RAND - mark;
	if (memcmp(m, TEMP_MARK, mark) != 0)
		return false;
	for (size_t i = 0; i < TEMP_RAND; i++)
		if (!is_alnum(m[mark + i]))
			return false;
	return true;
}

/* Only this name's temps (".<only>.ckptfs-XXXXXX") when only is set. */
static bool temp_of(const char *name, const char *only)
{
	if (!restore_is_temp_name(name))
		return false;
	if (!only)
		return true;
	size_t ol = strlen(only);
	return strlen(name) == 1 + ol + strlen(TEMP_MARK) + TEMP_RAND &&
	       memcmp(name + 1, only, ol) == 0;
}

void rs_clean_temps(struct rs_ctx *c, int dirfd, const char *only)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	uid_t me = geteuid();
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!temp_of(e->d_name, only))
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* A regular file of ours, untouched since this restore began:
		 * a live restore alongside changes its temps' ctime as it
		 * writes them (futimens included), so they are kept. */
		if (!S_ISREG(st.st_mode) || st.st_uid != me ||
		    st.st_ctim.tv_sec > c->start.tv_sec ||
		    (st.st_ctim.tv_sec == c->start.tv_sec && st.st_ctim.tv_nsec >= c->start.tv_nsec))
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0)
			c->stats.temps_removed++;
	}
	closedir(d);
}
