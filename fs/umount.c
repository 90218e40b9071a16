/* umount.c — finding ckptfs mounts in /proc/self/mountinfo and taking
 * them down. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/mount.h"
#include "store/err.h"

int fs_abs_path(const char *path, char **ret)
{
	char *p = realpath(path, NULL);
	if (p) {
		*ret = p;
		return 0;
	}
	/* A dead FUSE mount cannot be stat'ed (ENOTCONN): resolve its parent
	 * and append the last component. */
	char *a = strdup(path), *b = strdup(path);
	if (!a || !b) {
		free(a);
		free(b);
		return store_fail(-ENOMEM, "%s: out of memory", path);
	}
	char *dir = realpath(dirname(a), NULL);
	const char *base = basename(b);
	int r = 0;
	if (!dir || !strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, "..")) {
		r = store_failp(-errno ? -errno : -EINVAL, "%s", path);
	} else if (asprintf(ret, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base) < 0) {
		r = store_fail(-ENOMEM, "%s: out of memory", path);
	}
	free(dir);
	free(a);
	free(b);
	return r;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

bool fs_is_mounted(const char *abs_path, char **ret_other_type)
{
	if (ret_other_type)
		*ret_other_type = NULL;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool ours = false;
	char *other = NULL;
	/* Fields: id parent maj:min root mountpoint opts [optional...] - type source super */
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *fields[5];
		int n = 0;
		for (char *tok = strtok_r(line, " \n", &save); tok && n < 5;
		     tok = strtok_r(NULL, " \n", &save))
			fields[n++] = tok;
		if (n < 5)
			continue;
		unescape(fields[4]);
		if (strcmp(fields[4], abs_path) != 0)
			continue;
		char *tok;
		while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-") != 0)
			;
		char *type = tok ? strtok_r(NULL, " \n", &save) : NULL;
		char *source = type ? strtok_r(NULL, " \n", &save) : NULL;
		/* The last mount on a path is the visible one. */
		bool is_ckpt = type && (!strcmp(type, "fuse.ckptfs") ||
					(!strncmp(type, "fuse", 4) && source && !strcmp(source, "ckptfs")));
		ours = is_ckpt;
		free(other);
		other = !is_ckpt && type ? strdup(type) : NULL;
	}
	free(line);
	fclose(f);
	if (ret_other_type)
		*ret_other_type = other;
	else
		free(other);
	return ours;
}

static int run_fusermount(const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return store_failp(-errno, "fork");
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "--", path, (char *)NULL);
		fprintf(stderr, "ckptfs: fusermount3: %s\n", strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return store_failp(-errno, "waitpid fusermount3");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return store_fail(-ENOENT, "fusermount3 not found (install the fuse3 package)");
	return store_fail(-EBUSY, "%s: fusermount3 -u failed (is a process using it?)", path);
}

int fs_umount(const char *mountpoint)
{
	char *path;
	int r = fs_abs_path(mountpoint, &path);
	if (r < 0)
		return r;
	char *other = NULL;
	if (!fs_is_mounted(path, &other)) {
		if (other)
			r = store_fail(-EINVAL, "%s: not a ckptfs mount (%s is mounted there)",
				       mountpoint, other);
		else
			r = store_fail(-EINVAL, "%s: not mounted", mountpoint);
		free(other);
		free(path);
		return r;
	}
	if (geteuid() == 0) {
		if (umount2(path, UMOUNT_NOFOLLOW) < 0)
			r = errno == EBUSY ? store_fail(-EBUSY, "%s: in use (close what uses it and retry)",
							mountpoint)
					   : store_failp(-errno, "unmount %s", mountpoint);
	} else {
		r = run_fusermount(path);
	}
	free(path);
	return r;
}
