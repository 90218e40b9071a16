/* tmpdir.h — removing a test's temp dir, whole: also directories a test
 * made unreadable (chmod 000) and files in read-only directories.  For
 * teardowns, so a test that failed half way still leaves nothing behind.
 * Static inline: include from any test file. */
#ifndef CKPTFS_TESTS_TMPDIR_H
#define CKPTFS_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

/* Make every directory searchable and writable again. */
static inline int tmpdir_open_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)f;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(p, 0700);
	return 0;
}

static inline int tmpdir_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)f;
	if (flag == FTW_DP || flag == FTW_D)
		chmod(p, 0700);
	return remove(p);
}

/* rm -rf dir (nothing if it does not exist). */
static inline void tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_open_cb, 16, FTW_PHYS);
	nftw(dir, tmpdir_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
