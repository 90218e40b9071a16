/* repo_pending.c — indexing the packs an interrupted writer renamed into
 * packs/ but did not get into the catalog (their journal entries, pack.h).
 *
 * Only the journal is read, never all of packs/, so a writer's open stays
 * cheap; check --repair is the full scan for anything else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/catalog_internal.h"
#include "store/err.h"
#include "store/pack.h"
#include "store/repo_internal.h"

/* name is <32 hex>.pending: copy the pack name out. */
static bool journal_name(const char *d_name, char out[PACK_NAME_LEN + 1])
{
	size_t sl = strlen(PACK_JOURNAL_SUFFIX);
	if (strlen(d_name) != PACK_NAME_LEN + sl ||
	    strcmp(d_name + PACK_NAME_LEN, PACK_JOURNAL_SUFFIX) != 0)
		return false;
	for (size_t i = 0; i < PACK_NAME_LEN; i++) {
		char c = d_name[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	memcpy(out, d_name, PACK_NAME_LEN);
	out[PACK_NAME_LEN] = '\0';
	return true;
}

/* Index one journalled pack.  Adding a pack the catalog already holds is a
 * no-op (catalog_pack_add), so a stale entry costs one index read. */
static int index_one(struct repo *repo, const char *name)
{
	struct blob_codec *codec = repo_codec(repo);
	if (!codec)
		return store_fail(-ENOMEM, "repository %s: out of memory", repo->path);
	struct pack_entry *e = NULL;
	size_t n = 0;
	uint64_t size;
	int r = pack_read_index(repo->dirfd, name, codec, &e, &n, &size);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0; /* never renamed, or damaged since: check's business */
	r = catalog_pack_add(repo, name, size, e, n);
	free(e);
	return r;
}

int repo_index_pending_packs(struct repo *repo)
{
	int fd = openat(repo->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : store_failp(-errno, "repository %s: tmp", repo->path);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return store_failp(-errno, "repository %s: tmp", repo->path);
	}
	int r = 0;
	struct dirent *de;
	char name[PACK_NAME_LEN + 1];
	while ((de = readdir(d))) {
		if (!journal_name(de->d_name, name))
			continue;
		r = index_one(repo, name);
		if (r < 0)
			break;
		pack_journal_clear(repo->dirfd, name);
	}
	closedir(d);
	return r;
}
