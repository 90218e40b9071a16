/* gc_lock.c — gc.lock (gc_lock.h). */
#include "store/gc_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/repo_internal.h"

#define GC_LOCK_FILE "gc.lock"

int gc_lock_take(struct repo *repo, bool exclusive, int *ret_fd)
{
	int fd = exclusive ? openat(repo->dirfd, GC_LOCK_FILE,
				    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
			   : openat(repo->dirfd, GC_LOCK_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (!exclusive && errno == ENOENT) {
			*ret_fd = -1;
			return 0;
		}
		return store_failp(-errno, "%s/" GC_LOCK_FILE, repo->path);
	}
	/* 0600 whatever the umask, like every file of the repository. */
	if (exclusive && fchmod(fd, 0600) < 0) {
		int r = store_failp(-errno, "%s/" GC_LOCK_FILE, repo->path);
		close(fd);
		return r;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		int r = store_failp(-errno, "%s/" GC_LOCK_FILE ": lock", repo->path);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void gc_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
