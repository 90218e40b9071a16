/* test_fileio.c — the durable-I/O helpers: write_all, directory fsync,
 * mkdir -p, the atomic write sequence, the clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/fileio.h"
#include "tests/tmpdir.h"

struct fixture {
	char dir[64];
	int dirfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_fileio.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->dirfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->dirfd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static size_t read_file(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, cap);
	close(fd);
	assert_true(n >= 0);
	return (size_t)n;
}

static void test_write_all_pipe(void **state)
{
	(void)state;
	/* A pipe takes at most its buffer per write: many short writes. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	static char big[200000];
	memset(big, 'x', sizeof big);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(fio_write_all(p[1], big, sizeof big) == 0 ? 0 : 1);
	}
	close(p[1]);
	size_t total = 0;
	char buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		total += (size_t)n;
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(total, sizeof big);
}

static void test_write_all_bad_fd(void **state)
{
	(void)state;
	assert_int_equal(fio_write_all(-1, "a", 1), -EBADF);
	assert_int_equal(fio_write_all(-1, "", 0), 0);
}

static void test_fsync_dir(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->dirfd, "sub", 0700), 0);
	assert_int_equal(fio_fsync_dir(f->dirfd, "."), 0);
	assert_int_equal(fio_fsync_dir(f->dirfd, "sub"), 0);
	assert_int_equal(fio_fsync_dir(f->dirfd, "missing"), -ENOENT);
	assert_int_equal(fio_fsync_parent(f->dirfd, "file"), 0);
	assert_int_equal(fio_fsync_parent(f->dirfd, "sub/file"), 0);
	assert_int_equal(fio_fsync_parent(f->dirfd, "missing/file"), -ENOENT);
	assert_int_equal(fio_fsync_parent(f->dirfd, "/etc"), 0);
}

static void test_mkdir_p(void **state)
{
	struct fixture *f = *state;
	char path[128];
	bool created = false;
	snprintf(path, sizeof path, "%s/a/b/c/", f->dir);
	assert_int_equal(fio_mkdir_p(path, 0700, &created), 0);
	assert_true(created);
	struct stat st;
	assert_int_equal(fstatat(f->dirfd, "a/b/c", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(fio_mkdir_p(path, 0700, &created), 0);
	assert_false(created);
	assert_int_equal(fio_mkdir_p(path, 0700, NULL), 0);

	/* A file in the way of a parent. */
	int fd = openat(f->dirfd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/file/x", f->dir);
	assert_int_equal(fio_mkdir_p(path, 0700, NULL), -ENOTDIR);
	assert_int_equal(fio_mkdir_p("", 0700, NULL), -ENOENT);
}

static void test_write_atomic(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	mode_t old = umask(0);
	assert_int_equal(fio_write_atomic(f->dirfd, "name", "name.tmp", "hello\n", 6, 0600), 0);
	umask(old);
	assert_int_equal(read_file(f->dirfd, "name", buf, sizeof buf), 6);
	assert_memory_equal(buf, "hello\n", 6);
	struct stat st;
	assert_int_equal(fstatat(f->dirfd, "name", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(fstatat(f->dirfd, "name.tmp", &st, 0), -1);

	/* Replaces, never shows a half state; a stale temp is overwritten. */
	int fd = openat(f->dirfd, "name.tmp", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fio_write_all(fd, "stale stale stale", 17), 0);
	close(fd);
	assert_int_equal(fio_write_atomic(f->dirfd, "name", "name.tmp", "bye", 3, 0644), 0);
	assert_int_equal(read_file(f->dirfd, "name", buf, sizeof buf), 3);
	assert_memory_equal(buf, "bye", 3);
	assert_int_equal(fstatat(f->dirfd, "name", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* The rename fails (a directory is in the way): temp removed. */
	assert_int_equal(mkdirat(f->dirfd, "dir", 0700), 0);
	assert_int_equal(mkdirat(f->dirfd, "dir/x", 0700), 0);
	assert_true(fio_write_atomic(f->dirfd, "dir", "dir.tmp", "z", 1, 0600) < 0);
	assert_int_equal(fstatat(f->dirfd, "dir.tmp", &st, 0), -1);
}

static void test_write_atomic_symlink_temp(void **state)
{
	struct fixture *f = *state;
	/* A symlink planted at the temp name is never followed. */
	assert_int_equal(symlinkat("/etc/passwd", f->dirfd, "t.tmp"), 0);
	assert_int_equal(fio_write_atomic(f->dirfd, "t", "t.tmp", "x", 1, 0600), -ELOOP);
}

static void test_clocks(void **state)
{
	(void)state;
	int64_t a = fio_mono_ns(), b = fio_mono_ns();
	assert_true(b >= a);
	int64_t now = fio_now_ns();
	/* After 2020-01-01 and in ns, not s. */
	assert_true(now > 1577836800LL * 1000000000LL);
	int64_t t = (int64_t)time(NULL) * 1000000000LL;
	assert_true(now > t - 5000000000LL && now < t + 5000000000LL);
}

/* fio_read_small: whole, NUL-terminated, bounded; refuses what is not a
 * regular file without waiting on it. */
static void test_read_small(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	int fd = openat(f->dirfd, "small", O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fio_write_all(fd, "ab\0cd", 5), 0);
	assert_int_equal(fio_read_small(fd, 5, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "ab\0cd\0", 6);
	free(buf);
	assert_int_equal(fio_read_small(fd, 4, &buf, &len), -EFBIG);
	close(fd);
	/* Empty. */
	fd = openat(f->dirfd, "empty", O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(fio_read_small(fd, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
	close(fd);
	/* A FIFO (opened non-blocking, as callers do) and a directory. */
	assert_int_equal(mkfifoat(f->dirfd, "fifo", 0600), 0);
	fd = openat(f->dirfd, "fifo", O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(fio_read_small(fd, 10, &buf, &len), -EINVAL);
	close(fd);
	fd = dup(f->dirfd);
	assert_int_equal(fio_read_small(fd, 10, &buf, &len), -EINVAL);
	close(fd);
	assert_int_equal(fio_read_small(-1, 10, &buf, &len), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_small, setup, teardown),
		cmocka_unit_test(test_write_all_pipe),
		cmocka_unit_test(test_write_all_bad_fd),
		cmocka_unit_test_setup_teardown(test_fsync_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_symlink_temp, setup, teardown),
		cmocka_unit_test(test_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
