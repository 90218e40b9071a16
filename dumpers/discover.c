/* discover.c — reading a project's database hints, in a fixed order:
 * .env files, config/database.yml, compose files, then .ckptfs.toml. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpers/config_toml.h"
#include "dumpers/target.h"
#include "store/err.h"
#include "store/fileio.h"

#define HINT_MAX (1 << 20)

/* Read root/rel (no symlinks followed at the last step, no atime update);
 * -ENOENT if absent, or not a regular file of at most HINT_MAX bytes.
 * O_NONBLOCK: a FIFO named like a hint (.env, docker-compose.yml) must
 * not hang the snapshot; fio_read_small refuses it once open. */
static int read_hint(const char *root, const char *rel, char **ret)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	int fd = open(p, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(p, flags);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? -ENOENT
									 : store_failp(-errno, "%s", p);
	size_t len;
	int r = fio_read_small(fd, HINT_MAX, ret, &len);
	close(fd);
	if (r == -EINVAL || r == -EFBIG)
		return -ENOENT;
	return r < 0 && r != -ENOMEM ? store_fail(r, "%s: %s", p, strerror(-r)) : r;
}

int dumper_discover(const char *root, struct dumper_targets *ret)
{
	static const char *const envs[] = {".env", ".env.local", ".env.development",
					   ".env.development.local", ".env.test", ".env.test.local"};
	static const char *const composes[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
					       "docker-compose.yaml"};
	struct dumper_targets ts = {0};
	char *text = NULL;
	int r = 0;
	for (size_t i = 0; i < sizeof envs / sizeof *envs && !r; i++) {
		if ((r = read_hint(root, envs[i], &text)) == -ENOENT) {
			r = 0;
			continue;
		}
		if (!r)
			r = dumper_env_targets(text, envs[i], &ts);
		free(text);
		text = NULL;
	}
	if (!r && (r = read_hint(root, "config/database.yml", &text)) == 0)
		r = dumper_rails_targets(text, &ts);
	free(text);
	text = NULL;
	if (r == -ENOENT)
		r = 0;
	for (size_t i = 0; i < sizeof composes / sizeof *composes && !r; i++) {
		if ((r = read_hint(root, composes[i], &text)) == -ENOENT) {
			r = 0;
			continue;
		}
		if (!r)
			r = dumper_compose_targets(text, composes[i], &ts);
		free(text);
		text = NULL;
	}
	if (!r && (r = read_hint(root, ".ckptfs.toml", &text)) == 0)
		r = dumper_config_apply(text, ".ckptfs.toml", &ts);
	free(text);
	if (r == -ENOENT)
		r = 0;
	if (r < 0) {
		dumper_targets_clear(&ts);
		return r;
	}
	*ret = ts;
	return 0;
}
