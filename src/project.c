/* project.c — project roots and git HEAD (see project.h). */
#include "src/project.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/pseudofs.h"
#include "store/err.h"

#define SYMREF_DEPTH 5 /* as git: a longer chain of symbolic refs is an error */

int proj_find_root(const char *dir, char **ret_root)
{
	char *path = realpath(dir, NULL);
	if (!path)
		return store_failp(-errno, "%s", dir);
	/* Opening it now gives the real reason (not a directory, permission)
	 * before anything is written to the repository. */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = store_failp(-errno, "%s", dir);
		free(path);
		return r;
	}
	close(fd);

	size_t len = strlen(path);
	char *probe = malloc(len + sizeof "/.git");
	if (!probe) {
		free(path);
		return -ENOMEM;
	}
	/* Walk up: /a/b/c, /a/b, /a, / — the first holding .git wins. */
	size_t n = len;
	for (;;) {
		struct stat st;
		memcpy(probe, path, n);
		strcpy(probe + n, n == 1 ? ".git" : "/.git");
		if (lstat(probe, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			path[n] = '\0';
			break;
		}
		if (n == 1) { /* reached "/" without finding one */
			path[len] = '\0';
			break;
		}
		while (n > 1 && path[n - 1] != '/')
			n--;
		if (n > 1)
			n--; /* drop the slash, except the root's */
	}
	free(probe);
	/* Before anything is registered: /proc, /sys, /dev are not projects. */
	int r = pseudofs_refuse(path);
	if (r < 0) {
		free(path);
		return r;
	}
	*ret_root = path;
	return 0;
}

/* Whole (small) file at dir/name, trailing whitespace trimmed, or NULL
 * with errno set. */
static char *read_small(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	bool err = ferror(f);
	fclose(f);
	if (err) {
		errno = EIO;
		return NULL;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return strdup(buf);
}

static bool is_object_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return s[n] == '\0' && (n == 40 || n == 64); /* SHA-1 or SHA-256 */
}

/* base joined with rel unless rel is absolute. */
static char *join(const char *base, const char *rel)
{
	char *out;
	if (rel[0] == '/')
		return strdup(rel);
	return asprintf(&out, "%s/%s", base, rel) < 0 ? NULL : out;
}

/* The object id of ref in packed-refs, or NULL. */
static char *packed_ref(const char *commondir, const char *ref)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/packed-refs", commondir) >= (int)sizeof path)
		return NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	ssize_t len;
	while (!found && (len = getline(&line, &cap, f)) > 0) {
		if (line[0] == '#' || line[0] == '^')
			continue; /* header, or the peeled object of a tag */
		line[strcspn(line, "\r\n")] = '\0';
		char *sp = strchr(line, ' ');
		if (!sp || strcmp(sp + 1, ref) != 0)
			continue;
		*sp = '\0';
		if (is_object_id(line))
			found = strdup(line);
	}
	free(line);
	fclose(f);
	return found;
}

/* Follow ref (e.g. "refs/heads/main") to an object id.  *ret_id NULL if the
 * ref does not exist (an unborn branch). */
static int resolve_ref(const char *gitdir, const char *commondir, const char *ref, int depth,
		       char **ret_id)
{
	if (depth > SYMREF_DEPTH || strstr(ref, "..") || ref[0] == '/')
		return store_fail(-EINVAL, "git HEAD in %s: bad reference %s", gitdir, ref);
	/* Per-worktree refs live in the worktree's gitdir, shared ones in the
	 * common dir; looking in both (gitdir first) finds either. */
	char *v = read_small(gitdir, ref);
	if (!v && strcmp(gitdir, commondir) != 0)
		v = read_small(commondir, ref);
	if (!v) {
		*ret_id = packed_ref(commondir, ref);
		return 0;
	}
	int r = 0;
	if (!strncmp(v, "ref:", 4)) {
		const char *target = v + 4;
		while (*target == ' ')
			target++;
		r = resolve_ref(gitdir, commondir, target, depth + 1, ret_id);
	} else if (is_object_id(v)) {
		*ret_id = v;
		v = NULL;
	} else {
		r = store_fail(-EINVAL, "git HEAD in %s: %s holds no object id", gitdir, ref);
	}
	free(v);
	return r;
}

int proj_git_head(const char *root, char **ret_commit, char **ret_branch)
{
	char *dotgit = NULL, *gitdir = NULL, *common_rel = NULL, *commondir = NULL, *head = NULL;
	char *commit = NULL, *branch = NULL;
	struct stat st;
	int r = 0;

	if (!(dotgit = join(root, ".git")))
		return -ENOMEM;
	if (lstat(dotgit, &st) < 0) {
		*ret_commit = *ret_branch = NULL;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		gitdir = dotgit;
		dotgit = NULL;
	} else {
		/* A linked worktree or submodule: ".git" says "gitdir: <path>". */
		char *line = read_small(root, ".git");
		if (!line || strncmp(line, "gitdir:", 7) != 0) {
			free(line);
			r = store_fail(-EINVAL, "%s: not a gitdir file", dotgit);
			goto out;
		}
		const char *p = line + 7;
		while (*p == ' ')
			p++;
		gitdir = join(root, p);
		free(line);
		if (!gitdir) {
			r = -ENOMEM;
			goto out;
		}
	}
	common_rel = read_small(gitdir, "commondir");
	commondir = common_rel ? join(gitdir, common_rel) : strdup(gitdir);
	if (!commondir) {
		r = -ENOMEM;
		goto out;
	}
	if (!(head = read_small(gitdir, "HEAD"))) {
		r = store_failp(-EINVAL, "%s/HEAD", gitdir);
		goto out;
	}
	if (!strncmp(head, "ref:", 4)) {
		const char *ref = head + 4;
		while (*ref == ' ')
			ref++;
		branch = strdup(!strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref);
		if (!branch) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = resolve_ref(gitdir, commondir, ref, 0, &commit)) < 0)
			goto out;
	} else if (is_object_id(head)) {
		commit = head; /* detached */
		head = NULL;
	} else {
		r = store_fail(-EINVAL, "%s/HEAD: neither a reference nor an object id", gitdir);
		goto out;
	}
	*ret_commit = commit;
	*ret_branch = branch;
	commit = branch = NULL;
out:
	free(commit);
	free(branch);
	free(head);
	free(commondir);
	free(common_rel);
	free(gitdir);
	free(dotgit);
	return r;
}
