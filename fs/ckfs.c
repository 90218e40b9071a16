/* ckfs.c — set-up of one mount's state, its log and usage figures. */
#include "fs/ckfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "store/repo.h"
#include "store/tree.h"

#define USAGE_REFRESH_NS (10 * 1000000000LL)

void ckfs_log(struct ckfs *fs, int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fs->foreground)
		fprintf(stderr, "ckptfs: %s\n", line);
	else
		syslog(prio, "%s", line);
}

static int load_tree(void *ctx, const blob_id *id, struct tree **ret)
{
	return tree_load(ctx, id, ret);
}

int ckfs_init(struct ckfs *fs, struct repo *repo, size_t tree_cache_bytes, bool foreground)
{
	memset(fs, 0, sizeof(*fs));
	fs->repo = repo;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->foreground = foreground;
	int r = inode_table_new(&fs->inodes);
	if (r < 0)
		goto fail;
	r = view_new(repo, &fs->view);
	if (r < 0)
		goto fail;
	r = tcache_new(tree_cache_bytes, load_tree, repo, &fs->trees);
	if (r < 0)
		goto fail;
	/* Without its thread the mount still works, only slower cold. */
	if (prefetch_new(repo, fs->trees, &fs->prefetch) < 0)
		fs->prefetch = NULL;
	if (pthread_mutex_init(&fs->usage_lock, NULL) != 0) {
		r = -ENOMEM;
		goto fail;
	}
	if (pthread_mutex_init(&fs->handles_lock, NULL) != 0) {
		pthread_mutex_destroy(&fs->usage_lock);
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	prefetch_free(fs->prefetch);
	tcache_free(fs->trees);
	view_free(fs->view);
	inode_table_free(fs->inodes);
	memset(fs, 0, sizeof(*fs));
	return r;
}

void ckfs_handle_add(struct ckfs *fs, struct ckfs_handle *h)
{
	pthread_mutex_lock(&fs->handles_lock);
	h->prev = NULL;
	h->next = fs->handles;
	if (fs->handles)
		fs->handles->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->handles_lock);
}

void ckfs_handle_del(struct ckfs *fs, struct ckfs_handle *h)
{
	pthread_mutex_lock(&fs->handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
	pthread_mutex_unlock(&fs->handles_lock);
}

void ckfs_clear(struct ckfs *fs)
{
	/* The session has ended: no request runs any more.  Handles whose
	 * release never came hold trees of the cache: free them first. */
	while (fs->handles) {
		struct ckfs_handle *h = fs->handles;
		fs->handles = h->next;
		h->free(fs, h);
	}
	pthread_mutex_destroy(&fs->handles_lock);
	prefetch_free(fs->prefetch); /* it uses the tree cache */
	tcache_free(fs->trees);
	view_free(fs->view);
	inode_table_free(fs->inodes);
	pthread_mutex_destroy(&fs->usage_lock);
	memset(fs, 0, sizeof(*fs));
}

/* Sum of the sizes of packs/<xx>/<name>.pack. */
static uint64_t pack_bytes(const char *repo_dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/packs", repo_dir);
	DIR *top = opendir(path);
	if (!top)
		return 0;
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(top))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(top), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		DIR *sub = fdopendir(fd);
		if (!sub) {
			close(fd);
			continue;
		}
		struct dirent *pe;
		struct stat st;
		while ((pe = readdir(sub)))
			if (pe->d_name[0] != '.' &&
			    fstatat(dirfd(sub), pe->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				total += (uint64_t)st.st_size;
		closedir(sub);
	}
	closedir(top);
	return total;
}

void ckfs_usage(struct ckfs *fs, uint64_t *ret_bytes, uint64_t *ret_files)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	pthread_mutex_lock(&fs->usage_lock);
	if (fs->usage_at_ns == 0 || now - fs->usage_at_ns > USAGE_REFRESH_NS) {
		fs->usage_bytes = pack_bytes(repo_path(fs->repo));
		struct view_projects *p;
		if (view_projects(fs->view, &p) == 0) {
			uint64_t files = 1 + p->n;
			for (size_t i = 0; i < p->n; i++)
				files += (uint64_t)p->p[i].nsnapshots;
			fs->usage_files = files;
			view_projects_release(fs->view, p);
		}
		fs->usage_at_ns = now;
	}
	*ret_bytes = fs->usage_bytes;
	*ret_files = fs->usage_files;
	pthread_mutex_unlock(&fs->usage_lock);
}
