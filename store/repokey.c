/* repokey.c — the plain and the wrapped key file (see repokey.h). */
#include "store/repokey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/fileio.h"
#include "store/repo_internal.h"

static repokey_pass_fn pass_source;

void repokey_set_pass_source(repokey_pass_fn fn)
{
	pass_source = fn;
}

/* Read the whole of a small file under dirfd into buf (cap bytes); the
 * length into *ret_len.  -EFBIG if it does not fit. */
static int read_small(int dirfd, const char *name, uint8_t *buf, size_t cap, size_t *ret_len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r == 0)
		*ret_len = len;
	return r;
}

static int read_wrapped(int dirfd, const char *path, uint8_t buf[KEYWRAP_BYTES])
{
	uint8_t tmp[KEYWRAP_BYTES + 1];
	size_t len = 0;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", path, REPOKEY_WRAPPED);
	int r = read_small(dirfd, REPOKEY_WRAPPED, tmp, sizeof tmp, &len);
	if (r == -ENOENT)
		return store_fail(-ENOENT,
				  "%s: no passphrase-wrapped key (set one with: ckptfs key passphrase)",
				  what);
	if (r == -EFBIG)
		return store_fail(-STORE_ECORRUPT, "%s: file too large", what);
	if (r < 0)
		return store_failp(r, "%s", what);
	r = keywrap_parse(what, tmp, len, NULL);
	if (r == 0)
		memcpy(buf, tmp, KEYWRAP_BYTES);
	return r;
}

int repokey_load(int dirfd, const char *path, struct keys *ret)
{
	struct stat st;
	if (fstatat(dirfd, REPOKEY_PLAIN, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT ||
	    fstatat(dirfd, REPOKEY_WRAPPED, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return keyfile_load(dirfd, REPOKEY_PLAIN, ret);
	uint8_t buf[KEYWRAP_BYTES], master[KEY_BYTES];
	int r = read_wrapped(dirfd, path, buf);
	if (r < 0)
		return r;
	char what[4200];
	snprintf(what, sizeof what, "%s/%s", path, REPOKEY_WRAPPED);
	if (!pass_source)
		return store_fail(-EACCES, "%s: the repository needs its passphrase (key "
					   "passphrase --require) and none can be asked here",
				  what);
	char *pass = NULL;
	size_t passlen = 0;
	if ((r = pass_source(what, &pass, &passlen)) < 0)
		return r;
	r = keywrap_open(what, buf, sizeof buf, pass, passlen, master);
	sodium_memzero(pass, passlen);
	free(pass);
	if (r == 0)
		keys_derive(master, ret);
	sodium_memzero(master, sizeof master);
	return r;
}

int repokey_read_wrapped(struct repo *repo, uint8_t ret_buf[KEYWRAP_BYTES])
{
	return read_wrapped(repo->dirfd, repo->path, ret_buf);
}

bool repokey_required(struct repo *repo)
{
	struct stat st;
	return fstatat(repo->dirfd, REPOKEY_PLAIN, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	       errno == ENOENT;
}

int repokey_set_passphrase(struct repo *repo, const char *pass, size_t passlen,
			   const struct keywrap_params *p, bool require)
{
	uint8_t buf[KEYWRAP_BYTES];
	if (repo->mode != REPO_WRITE)
		return store_fail(-EINVAL, "repository %s: key change needs the writer lock",
				  repo->path);
	int r = keywrap_seal(repo->keys.master, pass, passlen, p, buf);
	if (r < 0)
		return r;
	r = fio_write_atomic(repo->dirfd, REPOKEY_WRAPPED, REPOKEY_WRAPPED ".tmp", buf,
			     sizeof buf, 0600);
	if (r < 0)
		return store_failp(r, "%s/%s: write", repo->path, REPOKEY_WRAPPED);
	bool plain_gone = repokey_required(repo);
	if (require && !plain_gone) {
		/* key.wrapped is durable (fio_write_atomic fsynced it and the
		 * directory): only now may the plain key go. */
		if (unlinkat(repo->dirfd, REPOKEY_PLAIN, 0) < 0)
			return store_failp(-errno, "%s/%s: remove", repo->path, REPOKEY_PLAIN);
		if ((r = fio_fsync_dir(repo->dirfd, ".")) < 0)
			return store_failp(r, "repository %s: fsync", repo->path);
	} else if (!require && plain_gone) {
		return keyfile_write(repo->dirfd, REPOKEY_PLAIN, &repo->keys);
	}
	return 0;
}

void repokey_repo_id(struct repo *repo, char out[KEYS_REPO_ID_LEN + 1])
{
	keys_repo_id(&repo->keys, out);
}
