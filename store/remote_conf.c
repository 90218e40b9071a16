/* remote_conf.c — the remotes file (format in remote_conf.h). */
#include "store/remote_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/repo_internal.h"

#define MAGIC "ckptfs-remotes 1"
#define CONF_MAX (1u << 20)

bool remote_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > REMOTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool remote_target_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > REMOTE_TARGET_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			return false;
	if (!strncmp(t, "rclone:", 7)) {
		const char *colon = strchr(t + 7, ':');
		return colon && colon > t + 7;
	}
	return t[0] == '/';
}

void remote_list_clear(struct remote_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		free(list->r[i].target);
	free(list->r);
	list->r = NULL;
	list->n = 0;
}

const struct remote *remote_list_find(const struct remote_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->r[i].name, name))
			return &list->r[i];
	return NULL;
}

int remote_list_add(struct remote_list *list, const char *name, const char *target,
		    bool append_only)
{
	if (remote_list_find(list, name))
		return store_fail(-EEXIST, "remote %s: already exists", name);
	if (!remote_name_ok(name))
		return store_fail(-EINVAL, "remote %s: not a remote name (letters, digits, - and _, "
					   "at most %d)",
				  name, REMOTE_NAME_MAX);
	if (!remote_target_ok(target))
		return store_fail(-EINVAL, "remote %s: %s: not a target (an absolute directory or "
					   "rclone:REMOTE:PATH)",
				  name, target);
	struct remote *nr = realloc(list->r, (list->n + 1) * sizeof *nr);
	if (!nr)
		return store_fail(-ENOMEM, "remotes: out of memory");
	list->r = nr;
	struct remote *e = &list->r[list->n];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	e->append_only = append_only;
	if (!(e->target = strdup(target)))
		return store_fail(-ENOMEM, "remotes: out of memory");
	list->n++;
	return 0;
}

int remote_list_remove(struct remote_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++) {
		if (strcmp(list->r[i].name, name))
			continue;
		free(list->r[i].target);
		memmove(&list->r[i], &list->r[i + 1], (list->n - i - 1) * sizeof *list->r);
		list->n--;
		return 0;
	}
	return store_fail(-ENOENT, "remote %s: no such remote (ckptfs remote list)", name);
}

int remote_conf_parse(const char *what, const char *buf, size_t len, struct remote_list *ret)
{
	struct remote_list l = {0};
	size_t pos = 0;
	unsigned line = 0;
	int r = 0;
	char *s = NULL;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t sl = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		line++;
		free(s);
		if (!(s = strndup(buf + pos, sl))) {
			r = store_fail(-ENOMEM, "remotes: out of memory");
			goto fail;
		}
		pos += sl + (nl ? 1 : 0);
		if (strlen(s) != sl) {
			r = store_fail(-STORE_ECORRUPT, "%s: line %u: a NUL byte", what, line);
			goto fail;
		}
		if (line == 1) {
			if (strcmp(s, MAGIC)) {
				r = store_fail(-STORE_ECORRUPT, "%s: not a ckptfs remotes file", what);
				goto fail;
			}
			continue;
		}
		char *name = NULL, *flags = NULL, *target = NULL;
		if (!strncmp(s, "remote ", 7)) {
			name = s + 7;
			flags = strchr(name, ' ');
			if (flags) {
				*flags++ = '\0';
				target = strchr(flags, ' ');
				if (target)
					*target++ = '\0';
			}
		}
		if (!target || (strcmp(flags, "-") && strcmp(flags, "append-only"))) {
			r = store_fail(-STORE_ECORRUPT, "%s: line %u: not a remote line", what, line);
			goto fail;
		}
		if ((r = remote_list_add(&l, name, target, !strcmp(flags, "append-only"))) < 0) {
			if (r != -ENOMEM) {
				char why[512];
				snprintf(why, sizeof why, "%s", store_error() ? store_error() : "");
				r = store_fail(-STORE_ECORRUPT, "%s: line %u: %s", what, line, why);
			}
			goto fail;
		}
	}
	if (line == 0) {
		r = store_fail(-STORE_ECORRUPT, "%s: empty", what);
		goto fail;
	}
	free(s);
	*ret = l;
	return 0;
fail:
	free(s);
	remote_list_clear(&l);
	return r;
}

int remote_conf_load(struct repo *repo, struct remote_list *ret)
{
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", repo->path, REMOTE_CONF_FILE);
	int fd = openat(repo->dirfd, REMOTE_CONF_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			ret->r = NULL;
			ret->n = 0;
			return 0;
		}
		return store_failp(-errno, "%s", what);
	}
	char *buf = malloc(CONF_MAX);
	size_t len = 0;
	int r = 0;
	if (!buf) {
		close(fd);
		return store_fail(-ENOMEM, "remotes: out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONF_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = store_failp(-errno, "%s", what);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == CONF_MAX) {
			r = store_fail(-STORE_ECORRUPT, "%s: too large", what);
			break;
		}
	}
	close(fd);
	if (r == 0)
		r = remote_conf_parse(what, buf, len, ret);
	free(buf);
	return r;
}

int remote_conf_save(struct repo *repo, const struct remote_list *list)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return store_fail(-ENOMEM, "remotes: out of memory");
	fprintf(f, MAGIC "\n");
	for (size_t i = 0; i < list->n; i++)
		fprintf(f, "remote %s %s %s\n", list->r[i].name,
			list->r[i].append_only ? "append-only" : "-", list->r[i].target);
	if (fclose(f) != 0) {
		free(buf);
		return store_fail(-ENOMEM, "remotes: out of memory");
	}
	int r = fio_write_atomic(repo->dirfd, REMOTE_CONF_FILE, REMOTE_CONF_FILE ".tmp", buf, len,
				 0600);
	free(buf);
	if (r < 0)
		return store_failp(r, "%s/%s: write", repo->path, REMOTE_CONF_FILE);
	return 0;
}
