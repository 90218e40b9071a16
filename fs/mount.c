/* mount.c — checks, session set-up, the background server and its loop.
 *
 * Background mode forks before anything is opened: the child opens the
 * repository, mounts and reports "ready" (or its error) to the parent
 * through a pipe, then detaches and serves; the parent returns only once
 * the mount is usable.  Forking first rather than after mounting (as
 * fuse_daemonize does) keeps the SQLite connection in the process that
 * uses it.
 */
#include "fs/mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fs/ckfs.h"
#include "fs/ops.h"
#include "store/err.h"
#include "store/repo.h"

#define WORKER_THREADS 8

size_t fs_tree_cache_bytes(size_t cache_bytes)
{
	size_t t = cache_bytes / 4;
	return t < ((size_t)8 << 20) ? (size_t)8 << 20 : t;
}

int fs_mount_check(const char *mountpoint)
{
	struct stat st, parent;
	if (stat(mountpoint, &st) < 0) {
		if (errno == ENOTCONN)
			return store_fail(-ENOTCONN,
					  "mount point %s: a dead mount is still there "
					  "(run: ckptfs umount %s)",
					  mountpoint, mountpoint);
		if (errno == ENOENT)
			return store_fail(-ENOENT, "mount point %s: does not exist", mountpoint);
		return store_failp(-errno, "mount point %s", mountpoint);
	}
	if (!S_ISDIR(st.st_mode))
		return store_fail(-ENOTDIR, "mount point %s: not a directory", mountpoint);
	char *abs = NULL;
	int r = fs_abs_path(mountpoint, &abs);
	if (r < 0)
		return r;
	char *other = NULL;
	bool ours = fs_is_mounted(abs, &other);
	char *up = NULL;
	if (asprintf(&up, "%s/..", abs) < 0)
		up = NULL;
	bool is_root = up && stat(up, &parent) == 0 &&
		       (parent.st_dev != st.st_dev || parent.st_ino == st.st_ino);
	free(up);
	free(abs);
	if (ours)
		r = store_fail(-EBUSY, "mount point %s: ckptfs is already mounted there "
				       "(ckptfs umount %s)", mountpoint, mountpoint);
	else if (other)
		r = store_fail(-EBUSY, "mount point %s: already a mount point (of %s)", mountpoint,
			       other);
	else if (is_root)
		r = store_fail(-EBUSY, "mount point %s: already a mount point", mountpoint);
	free(other);
	if (r < 0)
		return r;
	DIR *d = opendir(mountpoint);
	if (!d)
		return store_failp(-errno, "mount point %s", mountpoint);
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	if (!empty)
		return store_fail(-ENOTEMPTY, "mount point %s: not empty", mountpoint);
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "/dev/fuse (is the fuse kernel module loaded?)");
	close(fd);
	return 0;
}

/* Everything a serving process holds, in order of acquisition. */
struct server {
	struct repo *repo;
	struct ckfs fs;
	bool fs_ready;
	struct fuse_session *se;
	bool handlers, mounted;
};

static void server_stop(struct server *s)
{
	if (s->mounted)
		fuse_session_unmount(s->se);
	if (s->handlers)
		fuse_remove_signal_handlers(s->se);
	if (s->se)
		fuse_session_destroy(s->se);
	if (s->fs_ready)
		ckfs_clear(&s->fs);
	repo_close(s->repo);
	memset(s, 0, sizeof(*s));
}

/* Open, set up and mount; on failure everything is undone. */
static int server_start(struct server *s, const struct fs_mount_opts *o, const char *mnt)
{
	memset(s, 0, sizeof(*s));
	size_t cache = o->cache_bytes ? o->cache_bytes : FS_DEFAULT_CACHE_BYTES;
	int r = repo_open(o->repo_path, REPO_READ, 0, &s->repo);
	if (r < 0)
		return r;
	repo_set_cache_bytes(s->repo, cache);
	r = ckfs_init(&s->fs, s->repo, fs_tree_cache_bytes(cache), o->foreground);
	if (r < 0) {
		server_stop(s);
		return store_fail(r, "mount: out of memory");
	}
	s->fs_ready = true;

	char opts[256];
	snprintf(opts, sizeof(opts),
		 "ro,nosuid,nodev,noatime,default_permissions,fsname=ckptfs,subtype=ckptfs%s",
		 o->allow_other ? ",allow_other" : "");
	char *argv[] = { (char *)"ckptfs", (char *)"-o", opts, (char *)"-d", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, argv);
	s->se = fuse_session_new(&args, ops_table(), sizeof(struct fuse_lowlevel_ops), &s->fs);
	fuse_opt_free_args(&args);
	if (!s->se) {
		server_stop(s);
		return store_fail(-EINVAL, "mount %s: cannot set up the FUSE session", mnt);
	}
	s->fs.se = s->se;
	if (fuse_set_signal_handlers(s->se) != 0) {
		server_stop(s);
		return store_fail(-EINVAL, "mount %s: cannot install signal handlers", mnt);
	}
	s->handlers = true;
	if (fuse_session_mount(s->se, mnt) != 0) {
		server_stop(s);
		return store_fail(-EIO, "mount %s: the kernel refused the mount (see above)", mnt);
	}
	s->mounted = true;
	return 0;
}

static int serve(struct server *s)
{
	struct fuse_loop_config cfg = { .clone_fd = 1, .max_idle_threads = WORKER_THREADS };
	int r = fuse_session_loop_mt(s->se, &cfg);
	server_stop(s);
	/* A positive value is the signal that ended the loop: a clean stop. */
	return r < 0 ? store_fail(r, "serving the mount failed: %s", strerror(-r)) : 0;
}

/* The child of a background mount: report to fd, then serve. */
static void child(int fd, const struct fs_mount_opts *o, const char *mnt)
{
	setsid();
	struct server s;
	int r = server_start(&s, o, mnt);
	if (r < 0) {
		const char *msg = store_error();
		dprintf(fd, "E%s", msg ? msg : strerror(-r));
		_exit(1);
	}
	openlog("ckptfs", LOG_PID, LOG_DAEMON);
	if (write(fd, "K", 1) != 1)
		_exit(1);
	close(fd);
	/* Detach: nothing may keep a terminal or a directory busy. */
	if (chdir("/") < 0)
		_exit(1);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	r = serve(&s);
	if (r < 0)
		syslog(LOG_ERR, "%s", store_error() ? store_error() : "serving failed");
	closelog();
	_exit(r < 0 ? 1 : 0);
}

int fs_mount_run(const struct fs_mount_opts *o)
{
	char *mnt = NULL;
	int r = fs_abs_path(o->mountpoint, &mnt);
	if (r < 0)
		return r;
	if (o->foreground) {
		struct server s;
		r = server_start(&s, o, mnt);
		if (r == 0)
			r = serve(&s);
		free(mnt);
		return r;
	}

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = store_failp(-errno, "pipe");
		free(mnt);
		return r;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		r = store_failp(-errno, "fork");
		close(pfd[0]);
		close(pfd[1]);
		free(mnt);
		return r;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], o, mnt);
	}
	close(pfd[1]);
	/* "K" when ready; "E<message>" on failure; nothing if it died. */
	char buf[1024];
	size_t n = 0;
	ssize_t k;
	while (n < sizeof(buf) - 1 && (k = read(pfd[0], buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)k;
		if (buf[0] == 'K')
			break;
	}
	close(pfd[0]);
	buf[n] = '\0';
	if (n > 0 && buf[0] == 'K')
		r = 0;
	else if (n > 1 && buf[0] == 'E')
		r = store_fail(-EIO, "%s", buf + 1);
	else
		r = store_fail(-EIO, "mount %s: the server process exited before the mount was ready",
			       mnt);
	free(mnt);
	return r;
}
