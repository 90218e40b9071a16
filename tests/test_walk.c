/* test_walk.c — walking real temp trees into a real repository: what is
 * recorded for every type, the files cache (unchanged, touched and racy
 * files), files changing while read, unreadable entries, excludes, the
 * repository and mount points left out, extra root entries, hooks, and the
 * cost of a nothing-changed walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <grp.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/walk_fixture.h"
#include "store/walk_internal.h"

static long thread_inblock(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_inblock : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void get(struct fx *fx, const blob_id *root, const char *path, struct node *n)
{
	int r = fx_resolve(fx, root, path, n);
	if (r < 0)
		fail_msg("resolve %s: %d %s", path, r, store_error());
}

static void absent(struct fx *fx, const blob_id *root, const char *path)
{
	struct node n;
	int r = fx_resolve(fx, root, path, &n);
	if (r == 0) {
		node_clear(&n);
		fail_msg("%s is in the snapshot", path);
	}
	assert_int_equal(r, -ENOENT);
}

static void types_recorded(void **state)
{
	struct fx *fx = *state;
	bool xattrs = fx_populate(fx);
	struct walk_result res;
	fx_walk(fx, NULL, 0, &res);
	fx_commit(fx, &res, fx_now_ns());
	assert_false(res.partial);
	assert_int_equal(res.warnings, 0);
	/* hello empty random sparse exec .env HEAD nested space newline
	 * badutf8 long bottom */
	assert_int_equal(res.files, 13);
	/* .git dir sub emptydir + 60 d's */
	assert_int_equal(res.dirs, 64);
	assert_int_equal(res.reused_files, 0);
	assert_true(res.read_bytes >= (1 << 20) + (3 << 20));

	struct node n;
	get(fx, &res.root, "hello.txt", &n);
	assert_int_equal(n.type, NODE_FILE);
	assert_int_equal(n.flags, 0);
	assert_int_equal(n.size, 13);
	assert_int_equal(n.mode, 0644);
	assert_int_equal(n.mtime_ns, 1500000000987654321LL);
	if (xattrs) {
		assert_int_equal(n.nxattrs, 2);
		assert_string_equal(n.xattrs[0].name, "user.comment");
		assert_memory_equal(n.xattrs[0].value, "greeting", 8);
		assert_string_equal(n.xattrs[1].name, "user.empty");
		assert_int_equal(n.xattrs[1].value_len, 0);
	}
	node_clear(&n);
	get(fx, &res.root, "empty", &n);
	assert_int_equal(n.type, NODE_FILE);
	assert_int_equal(n.size, 0);
	assert_int_equal(n.nchunks, 0);
	node_clear(&n);
	get(fx, &res.root, "sparse", &n);
	assert_int_equal(n.size, 3 << 20);
	node_clear(&n);
	get(fx, &res.root, "exec.sh", &n);
	assert_int_equal(n.mode, 0755);
	node_clear(&n);
	get(fx, &res.root, "link", &n);
	assert_int_equal(n.type, NODE_SYMLINK);
	assert_string_equal(n.target, "hello.txt");
	assert_int_equal(n.size, 9);
	assert_int_equal(n.mtime_ns, 1500000000987654321LL);
	node_clear(&n);
	get(fx, &res.root, "dangling", &n);
	assert_string_equal(n.target, "../nowhere/at/all");
	node_clear(&n);
	get(fx, &res.root, "fifo", &n);
	assert_int_equal(n.type, NODE_FIFO);
	assert_int_equal(n.mode, 0640);
	node_clear(&n);
	get(fx, &res.root, "dir", &n);
	assert_int_equal(n.type, NODE_DIR);
	if (xattrs) {
		assert_int_equal(n.nxattrs, 1);
		assert_int_equal(n.xattrs[0].value_len, 3);
		assert_memory_equal(n.xattrs[0].value, "d\0x", 3);
	}
	node_clear(&n);
	get(fx, &res.root, "dir/sub/nested.txt", &n);
	node_clear(&n);
	get(fx, &res.root, "new\nline", &n);
	node_clear(&n);
	get(fx, &res.root, "bad\xff\xfeutf8", &n);
	node_clear(&n);
	get(fx, &res.root, ".env", &n);
	node_clear(&n);
	get(fx, &res.root, ".git/HEAD", &n);
	node_clear(&n);
	char deep[512] = "d";
	for (int i = 1; i < 60; i++)
		strcat(deep, "/d");
	strcat(deep, "/bottom");
	get(fx, &res.root, deep, &n);
	assert_int_equal(n.size, 7);
	node_clear(&n);
}

/* Files older than the racy window, then two walks. */
static void unchanged_reuses_everything(void **state)
{
	struct fx *fx = *state;
	fx_populate(fx);
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	struct walk_result r1, r2;
	fx_walk(fx, NULL, 0, &r1);
	fx_commit(fx, &r1, t1);
	fx_walk(fx, &r1.root, t1, &r2);
	assert_int_equal(r2.read_bytes, 0);
	assert_int_equal(r2.reused_files, r2.files);
	assert_int_equal(r2.files, r1.files);
	assert_int_equal(r2.bytes, r1.bytes);
	assert_true(id_equal(&r1.root, &r2.root));
}

static void touched_file_only_read(void **state)
{
	struct fx *fx = *state;
	fx_populate(fx);
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	struct walk_result r1, r2;
	fx_walk(fx, NULL, 0, &r1);
	fx_commit(fx, &r1, t1);
	char p[8192];
	fx_path(fx, "dir/sub/nested.txt", p, sizeof(p));
	struct timespec ts[2] = {{0, UTIME_OMIT}, {1234567890, 5}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	fx_walk(fx, &r1.root, t1, &r2);
	fx_commit(fx, &r2, fx_now_ns());
	assert_int_equal(r2.read_bytes, 7);
	assert_int_equal(r2.reused_files, r2.files - 1);
	assert_false(id_equal(&r1.root, &r2.root));
	/* Only the path to the change got new trees. */
	struct node a, b;
	get(fx, &r1.root, "d", &a);
	get(fx, &r2.root, "d", &b);
	assert_true(id_equal(&a.subtree, &b.subtree));
	node_clear(&a);
	node_clear(&b);
	get(fx, &r2.root, "dir/sub/nested.txt", &a);
	assert_int_equal(a.mtime_ns, 1234567890000000005LL);
	node_clear(&a);
}

static void racy_file_reread(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "old.txt", "old\n");
	sleep_ms(250);
	fx_text(fx, "fresh.txt", "fresh!\n");
	/* The snapshot starts 1 ms after fresh.txt was written: within the
	 * racy window (taking the clock instead would depend on how fast a
	 * loaded machine gets here). */
	char p[8192];
	struct stat st;
	fx_path(fx, "fresh.txt", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	int64_t t1 = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec + 1000000;
	struct walk_result r1, r2;
	fx_walk(fx, NULL, 0, &r1);
	fx_commit(fx, &r1, t1);
	fx_walk(fx, &r1.root, t1, &r2);
	assert_int_equal(r2.files, 2);
	assert_int_equal(r2.reused_files, 1);
	assert_int_equal(r2.read_bytes, 7);
	assert_true(id_equal(&r1.root, &r2.root));
}

static void racy_windows(void **state)
{
	(void)state;
	const int64_t s = 1000000000LL;
	struct walk_opts o = {.parent_time_ns = 100 * s + 500000000};
	struct walk_ctx c = {.opts = &o};
	/* fine-grained times: 100 ms */
	assert_false(walk_racy(&c, 100 * s + 399999999, 100 * s + 1));
	assert_true(walk_racy(&c, 100 * s + 1, 100 * s + 400000000));
	assert_true(walk_racy(&c, 101 * s + 1, 100 * s + 1)); /* after the parent */
	/* whole-second times: 2 s */
	assert_true(walk_racy(&c, 99 * s, 99 * s));
	assert_false(walk_racy(&c, 98 * s, 98 * s));
	assert_false(walk_racy(&c, 99 * s, 99 * s + 1)); /* not coarse */
}

/* ---- files that change while read ------------------------------------ */

/* A file that changes while every read of it runs, whatever the scheduler
 * does: this binary's read() stands in for libc's (an executable's
 * definition interposes it, for the walk's calls too), and when a read
 * starts at offset 0 of the file named by grow — each read attempt of the
 * walk does, after the stat it compares with — it first appends a line.
 * (A thread appending every 1 ms missed a whole 8 MiB read on a loaded
 * machine: the file read as stable and the test failed.) */
static struct {
	int fd; /* O_APPEND, or -1: read() only reads */
	dev_t dev;
	ino_t ino;
	atomic_int appends;
} grow = {.fd = -1};

ssize_t read(int fd, void *buf, size_t count)
{
	struct stat st;
	if (grow.fd >= 0 && fd != grow.fd && lseek(fd, 0, SEEK_CUR) == 0 && fstat(fd, &st) == 0 &&
	    st.st_dev == grow.dev && st.st_ino == grow.ino && write(grow.fd, "more data\n", 10) == 10)
		atomic_fetch_add(&grow.appends, 1);
	return syscall(SYS_read, fd, buf, count);
}

static void changing_file_flagged(void **state)
{
	struct fx *fx = *state;
	fx_random(fx, "growing.log", 8 << 20, 7);
	fx_text(fx, "calm.txt", "calm\n");
	char path[8192];
	fx_path(fx, "growing.log", path, sizeof(path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	grow.dev = st.st_dev;
	grow.ino = st.st_ino;
	atomic_store(&grow.appends, 0);
	assert_true((grow.fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0);
	struct walk_result res;
	fx_walk(fx, NULL, 0, &res);
	close(grow.fd);
	grow.fd = -1;
	/* Changed during each attempt: WALK_READ_TRIES of them, then given up. */
	assert_int_equal(atomic_load(&grow.appends), WALK_READ_TRIES);
	fx_commit(fx, &res, fx_now_ns());
	assert_true(res.partial);
	assert_int_equal(fx->nwarned, 1);
	assert_string_equal(fx->warned[0], "growing.log: changed while read");
	/* Read WALK_READ_TRIES times. */
	assert_true(res.read_bytes >= (uint64_t)WALK_READ_TRIES * (8 << 20));
	struct node n;
	get(fx, &res.root, "growing.log", &n);
	assert_int_equal(n.flags, NODE_F_CHANGING);
	assert_true(n.size >= 8 << 20);
	node_clear(&n);
	get(fx, &res.root, "calm.txt", &n);
	assert_int_equal(n.flags, 0);
	node_clear(&n);
}

/* ---- unreadable entries ---------------------------------------------- */

/* Root reads everything, so the walk runs in a child that drops to
 * nobody (65534) — the real permission check of the kernel, not a mock.
 * The child has its own repository in a directory it owns.  Exit codes
 * say which check failed. */
static int unreadable_child(struct fx *fx)
{
	char repo[256];
	snprintf(repo, sizeof(repo), "%s/nobody", fx->base);
	if (mkdir(repo, 0700) < 0 || chown(repo, 65534, 65534) < 0)
		return 10;
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return 11;
	strcat(repo, "/repo");
	struct repo *rp;
	struct writer *w;
	struct project p;
	if (repo_open(repo, REPO_WRITE, 0, &rp) < 0 || writer_open(rp, &w) < 0 ||
	    catalog_project_register(rp, "p", fx->src, &p) < 0)
		return 12;
	static struct walk_hooks hooks;
	hooks = (struct walk_hooks){.ctx = fx, .warn = fx_warn};
	struct walk_opts o = {.root = fx->src, .hooks = &hooks};
	struct walk_result res;
	if (walk_run(w, &o, &res) < 0)
		return 13;
	if (!res.partial || res.warnings != 2 || res.files != 2)
		return 14;
	struct snapshot_new s = {.project_id = p.id, .time_ns = fx_now_ns(), .root = res.root,
				 .status = SNAP_PARTIAL};
	struct snapshot out;
	if (writer_commit(w, &s, &out) < 0)
		return 15;
	struct node n;
	if (tree_resolve(rp, &res.root, "secret", &n) < 0 || n.flags != NODE_F_UNREADABLE ||
	    n.nchunks != 0 || n.size != 6 || n.mode != 0)
		return 16;
	node_clear(&n);
	if (tree_resolve(rp, &res.root, "closed", &n) < 0 || n.type != NODE_DIR ||
	    n.flags != NODE_F_UNREADABLE)
		return 17;
	node_clear(&n);
	if (tree_resolve(rp, &res.root, "closed/inside", &n) != -ENOENT)
		return 18;
	if (tree_resolve(rp, &res.root, "open.txt", &n) < 0 || n.flags != 0 || n.size != 5)
		return 19;
	node_clear(&n);
	if (strcmp(fx->warned[0], "closed: cannot read directory") != 0 ||
	    strcmp(fx->warned[1], "secret: cannot open") != 0)
		return 20;
	snapshot_clear(&out);
	writer_free(w);
	repo_close(rp);
	return 0;
}

static void unreadable_recorded(void **state)
{
	struct fx *fx = *state;
	char p[8192];
	fx_text(fx, "open.txt", "open\n");
	fx_text(fx, "secret", "hidden");
	fx_path(fx, "secret", p, sizeof(p));
	assert_int_equal(chmod(p, 0), 0);
	fx_mkdir(fx, "closed");
	fx_text(fx, "closed/inside", "x");
	fx_path(fx, "closed", p, sizeof(p));
	assert_int_equal(chmod(p, 0), 0);
	chmod(fx->base, 0755);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(unreadable_child(fx));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- what is left out ------------------------------------------------ */

static bool skip_hook(void *ctx, const char *relpath, const struct stat *st)
{
	(void)ctx, (void)st;
	return strcmp(relpath, "skipped-by-hook") == 0;
}

static void excludes_applied(void **state)
{
	struct fx *fx = *state;
	fx_mkdir(fx, "node_modules");
	fx_text(fx, "node_modules/x.js", "x");
	fx_mkdir(fx, "a");
	fx_mkdir(fx, "a/__pycache__");
	fx_text(fx, "a/__pycache__/m.pyc", "x");
	fx_text(fx, "a/keep.py", "x");
	fx_text(fx, "a/drop.tmp", "x");
	fx_text(fx, "a/.ckptignore", "*.tmp\n");
	fx_text(fx, ".ckptignore", "/big/\n");
	fx_mkdir(fx, "big");
	fx_text(fx, "big/blob", "x");
	fx_text(fx, "cli.log", "x");
	fx_text(fx, "skipped-by-hook", "x");
	const char *ex[] = {"*.log"};
	struct walk_hooks hooks = {.skip = skip_hook};
	struct walk_opts o = {.excludes = ex, .nexcludes = 1, .hooks = &hooks};
	struct walk_result res;
	fx_walk_opts(fx, &o, &res);
	fx_commit(fx, &res, fx_now_ns());
	absent(fx, &res.root, "node_modules");
	absent(fx, &res.root, "a/__pycache__");
	absent(fx, &res.root, "a/drop.tmp");
	absent(fx, &res.root, "big");
	absent(fx, &res.root, "cli.log");
	absent(fx, &res.root, "skipped-by-hook");
	struct node n;
	get(fx, &res.root, "a/keep.py", &n);
	node_clear(&n);
	get(fx, &res.root, "a/.ckptignore", &n);
	node_clear(&n);
	assert_int_equal(res.files, 3);
}

static void repository_left_out(void **state)
{
	/* A repository inside the project is never walked into. */
	struct fx *fx = *state;
	fx_text(fx, "a.txt", "a");
	char rp[256];
	snprintf(rp, sizeof(rp), "%s/.ckptfs-repo", fx->src);
	struct repo *repo2;
	struct writer *w2;
	assert_int_equal(repo_open(rp, REPO_WRITE, 0, &repo2), 0);
	assert_int_equal(writer_open(repo2, &w2), 0);
	struct walk_opts o = {.root = fx->src};
	struct walk_result res;
	int r = walk_run(w2, &o, &res);
	assert_int_equal(r, 0);
	assert_int_equal(res.files, 1);
	assert_int_equal(res.dirs, 0);
	writer_free(w2);
	repo_close(repo2);
	/* Seen from another repository it is an ordinary directory. */
	fx_walk(fx, NULL, 0, &res);
	fx_commit(fx, &res, fx_now_ns());
	struct node n;
	get(fx, &res.root, ".ckptfs-repo/format", &n);
	node_clear(&n);
}

static void mount_point_left_out(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "a.txt", "a");
	fx_mkdir(fx, "mnt");
	char p[8192];
	fx_path(fx, "mnt", p, sizeof(p));
	if (mount("ckptfs-test", p, "tmpfs", 0, "size=1m") < 0)
		skip(); /* no CAP_SYS_ADMIN here */
	char f[8300];
	snprintf(f, sizeof(f), "%s/inside", p);
	int fd = open(f, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	struct walk_result res;
	fx_walk(fx, NULL, 0, &res);
	umount2(p, MNT_DETACH);
	fx_commit(fx, &res, fx_now_ns());
	absent(fx, &res.root, "mnt");
	assert_int_equal(res.files, 1);
}

static void extra_root_merged(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "a.txt", "a");
	fx_mkdir(fx, ".databases");
	fx_text(fx, ".databases/mine", "project's own");
	struct tree empty = {0};
	struct node extra = {.name = ".databases", .type = NODE_DIR, .mode = 0700};
	assert_int_equal(writer_put_tree(fx->w, &empty, &extra.subtree), 0);
	struct walk_opts o = {.extra_root = &extra, .nextra = 1};
	struct walk_result res;
	fx_walk_opts(fx, &o, &res);
	fx_commit(fx, &res, fx_now_ns());
	assert_int_equal(fx->nwarned, 1);
	assert_string_equal(fx->warned[0], ".databases: left out: the name is reserved for ckptfs");
	absent(fx, &res.root, ".databases/mine");
	struct node n;
	get(fx, &res.root, ".databases", &n);
	assert_int_equal(n.mode, 0700);
	node_clear(&n);
	get(fx, &res.root, "a.txt", &n);
	node_clear(&n);
}

/* ---- hooks ------------------------------------------------------------ */

struct capture_state {
	int calls, progress_calls;
	uint64_t last_files;
};

static struct capture_state cap;

static int capture_hook(void *ctx, struct writer *w, const char *relpath, int fd,
			const struct stat *st, struct node *node)
{
	(void)ctx, (void)st;
	cap.calls++;
	if (strcmp(relpath, "db.sqlite") != 0)
		return 0;
	/* A "consistent copy": different bytes than the file holds. */
	int r = writer_put_fd(w, fd, node);
	if (r < 0)
		return r;
	node->flags |= NODE_F_DB_COPY;
	return 1;
}

static void progress_hook(void *ctx, const struct walk_progress *p)
{
	(void)ctx;
	cap.progress_calls++;
	assert_true(p->files == cap.last_files + 1);
	assert_non_null(p->current);
	cap.last_files = p->files;
}

static void db_copies_always_captured(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "db.sqlite", "SQLite format 3");
	fx_text(fx, "plain.txt", "plain");
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	cap = (struct capture_state){0};
	struct walk_hooks hooks = {.capture = capture_hook, .progress = progress_hook};
	struct walk_opts o = {.hooks = &hooks};
	struct walk_result r1, r2;
	fx_walk_opts(fx, &o, &r1);
	fx_commit(fx, &r1, t1);
	assert_int_equal(cap.calls, 2);
	assert_int_equal(cap.progress_calls, 2);
	struct node n;
	get(fx, &r1.root, "db.sqlite", &n);
	assert_int_equal(n.flags, NODE_F_DB_COPY);
	node_clear(&n);
	cap = (struct capture_state){0};
	o.parent_root = &r1.root;
	o.parent_time_ns = t1;
	fx_walk_opts(fx, &o, &r2);
	/* plain.txt came from the files cache; db.sqlite was offered again. */
	assert_int_equal(cap.calls, 1);
	assert_int_equal(r2.reused_files, 1);
	assert_int_equal(cap.progress_calls, 2);
}

static void bad_roots(void **state)
{
	struct fx *fx = *state;
	struct walk_result res;
	struct walk_opts o = {.root = "relative/path"};
	assert_int_equal(walk_run(fx->w, &o, &res), -EINVAL);
	o.root = "/nonexistent/ckptfs/root";
	assert_int_equal(walk_run(fx->w, &o, &res), -ENOENT);
	assert_non_null(strstr(store_error(), "/nonexistent/ckptfs/root"));
}

/* ---- cost of a nothing-changed walk ---------------------------------- */

/* 3,000 files in 100 directories (30,000 in 1,000 with CKPTFS_LONG=1).
 * Prints the time of the second walk; asserts it read nothing and made
 * the same root.  The syscall count is measured with strace (see the
 * report in the commit message). */
static void nothing_changed_cost(void **state)
{
	struct fx *fx = *state;
	int ndirs = getenv("CKPTFS_LONG") ? 1000 : 100;
	char rel[64], text[64];
	for (int d = 0; d < ndirs; d++) {
		snprintf(rel, sizeof(rel), "d%04d", d);
		fx_mkdir(fx, rel);
		for (int f = 0; f < 30; f++) {
			snprintf(rel, sizeof(rel), "d%04d/f%02d.txt", d, f);
			snprintf(text, sizeof(text), "file %d of dir %d\n", f, d);
			fx_text(fx, rel, text);
		}
	}
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	struct walk_result r1, r2;
	fx_walk(fx, NULL, 0, &r1);
	int64_t t_first = fx_now_ns() - t1;
	fx_commit(fx, &r1, t1);
	/* The access() calls mark the second walk in an strace log:
	 * strace -f -o log build/out/tests/test_walk; then count the calls
	 * between "ckptfs-walk2-begin" and "ckptfs-walk2-end". */
	access("ckptfs-walk2-begin", F_OK);
	int64_t t2 = fx_now_ns();
	fx_walk(fx, &r1.root, t1, &r2);
	int64_t t_second = fx_now_ns() - t2;
	access("ckptfs-walk2-end", F_OK);
	assert_int_equal(r2.files, (uint64_t)ndirs * 30);
	assert_int_equal(r2.read_bytes, 0);
	assert_int_equal(r2.reused_files, r2.files);
	assert_true(id_equal(&r1.root, &r2.root));
	print_message("nothing-changed walk of %d files in %d dirs: %.1f ms (first walk %.1f ms)\n",
		      ndirs * 30, ndirs, t_second / 1e6, t_first / 1e6);
}

/* The read-ahead scout (walk_scout.c) asks only for big files changed
 * since the parent began (all of them for a first snapshot), never for
 * excluded ones, small ones, or ones the files cache reuses. */
static void scout_asks_for_changed_big_files(void **state)
{
	struct fx *fx = *state;
	size_t big = 9u << 20;
	char *buf = calloc(1, big);
	assert_non_null(buf);
	fx_write(fx, "old.bin", buf, big);
	sleep_ms(250); /* past the files cache's racy window */
	int64_t since = fx_now_ns();
	fx_mkdir(fx, "logs");
	fx_write(fx, "logs/app.log", buf, big);
	fx_write(fx, "small.txt", buf, 1 << 20);
	fx_mkdir(fx, "skipme");
	fx_write(fx, "skipme/big.dat", buf, big);
	free(buf);
	struct stat st;
	assert_int_equal(stat(fx->src, &st), 0);
	static const char *const ex[] = {"skipme/"};
	struct walk_scout_opts o = {.root = fx->src, .root_dev = st.st_dev, .excludes = ex,
				    .nexcludes = 1, .since_ns = since, .ahead_max = 64u << 20};
	struct walk_scout *s;
	assert_int_equal(walk_scout_start(&o, &s), 0);
	struct walk_scout_stats stats;
	walk_scout_free(s, true, &stats);
	assert_int_equal(stats.files, 1);
	assert_int_equal(stats.bytes, big);

	/* A first snapshot (since 0) reads every file: each big one is asked
	 * for, the excluded one still not. */
	o.since_ns = 0;
	assert_int_equal(walk_scout_start(&o, &s), 0);
	walk_scout_free(s, true, &stats);
	assert_int_equal(stats.files, 2);
	assert_int_equal(stats.bytes, 2 * big);
}

/* The walk starts the scout only at the first changed file (walk.c): an
 * unchanged re-snapshot, a database capture that kept its stat included,
 * runs no second stat walk; one with a change still gets its changed big
 * file asked for ahead of the walk, and not the unchanged one. */
/* An unchanged walk on a warm cache does not start the scout.  Other jobs
 * on the machine may drop the page cache meanwhile (benchmarks do): a
 * walk that had to read from the disk may start it, by the cold rule. */
static void assert_warm_no_scout(const struct walk_result *r, long blocks_read)
{
	if (blocks_read >= WALK_COLD_BLOCKS) {
		print_message("the walk read %ld blocks (cache dropped meanwhile?): not checked\n",
			      blocks_read);
		return;
	}
	assert_false(r->read_ahead);
}

static struct {
	uint64_t seen_ahead; /* read_ahead_files when the walk reached m.bin */
} scout_prog;

static void scout_progress(void *ctx, const struct walk_progress *p)
{
	(void)ctx;
	/* Give the scout time (up to 2 s over the c files) to get ahead. */
	if (p->read_ahead_files == 0 && p->current[0] == 'c')
		sleep_ms(10);
	if (strcmp(p->current, "c199.txt") == 0)
		scout_prog.seen_ahead = p->read_ahead_files;
}

static void scout_starts_at_first_change(void **state)
{
	struct fx *fx = *state;
	size_t big = 9u << 20;
	char *buf = calloc(1, big);
	assert_non_null(buf);
	fx_text(fx, "a.txt", "a");
	fx_write(fx, "b_old.bin", buf, big);
	for (int i = 0; i < 200; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "c%03d.txt", i);
		fx_text(fx, rel, rel);
	}
	fx_text(fx, "db.sqlite", "SQLite format 3");
	fx_write(fx, "m.bin", buf, big);
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	struct walk_hooks hooks = {.capture = capture_hook, .progress = scout_progress};
	struct walk_opts o = {.hooks = &hooks};
	struct walk_result r1, r2, r3;
	fx_walk_opts(fx, &o, &r1);
	fx_commit(fx, &r1, t1);
	assert_true(r1.read_ahead); /* a first snapshot: at once */

	sleep_ms(250);
	int64_t t2 = fx_now_ns();
	o.parent_root = &r1.root;
	o.parent_time_ns = t1;
	long in0 = thread_inblock();
	fx_walk_opts(fx, &o, &r2);
	long read = thread_inblock() - in0;
	fx_commit(fx, &r2, t2);
	assert_int_equal(r2.reused_files, r2.files - 1); /* all but db.sqlite */
	assert_int_equal(r2.read_ahead_files, 0);
	assert_warm_no_scout(&r2, read);

	fx_text(fx, "a.txt", "changed");
	buf[0] = 1;
	fx_write(fx, "m.bin", buf, big);
	free(buf);
	sleep_ms(250);
	scout_prog.seen_ahead = 0;
	o.parent_root = &r2.root;
	o.parent_time_ns = t2;
	fx_walk_opts(fx, &o, &r3);
	assert_true(r3.read_ahead);
	assert_int_equal(scout_prog.seen_ahead, 1); /* m.bin, before the walk got there */
	assert_int_equal(r3.read_ahead_files, 1);
	assert_int_equal(r3.read_bytes, strlen("changed") + big); /* the capture reads db.sqlite */
}

/* On a cold cache the scout starts even with nothing changed: its stat
 * pass reads inodes beside the walk (walk_scout_if_cold).  Needs root
 * (drop_caches): skipped otherwise. */
static void scout_starts_on_a_cold_cache(void **state)
{
	struct fx *fx = *state;
	int drop = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (drop < 0) {
		print_message("cannot drop caches (%s): skipped\n", strerror(errno));
		skip();
	}
	char rel[64];
	for (int d = 0; d < 30; d++) {
		snprintf(rel, sizeof rel, "d%02d", d);
		fx_mkdir(fx, rel);
		for (int f = 0; f < 70; f++) {
			snprintf(rel, sizeof rel, "d%02d/f%02d", d, f);
			fx_text(fx, rel, rel);
		}
	}
	sleep_ms(250);
	int64_t t1 = fx_now_ns();
	struct walk_result r1, r2, r3;
	fx_walk(fx, NULL, 0, &r1);
	fx_commit(fx, &r1, t1);
	sleep_ms(250);
	long in0 = thread_inblock();
	fx_walk(fx, &r1.root, t1, &r2); /* warm: not started */
	assert_warm_no_scout(&r2, thread_inblock() - in0);
	sync();
	assert_int_equal(write(drop, "3", 1), 1);
	close(drop);
	fx_walk(fx, &r1.root, t1, &r3);
	assert_int_equal(r3.reused_files, r3.files);
	assert_true(r3.read_ahead);
	assert_int_equal(r3.read_ahead_files, 0); /* nothing to ask for */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(types_recorded, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unchanged_reuses_everything, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(touched_file_only_read, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(racy_file_reread, fx_setup, fx_teardown),
		cmocka_unit_test(racy_windows),
		cmocka_unit_test_setup_teardown(changing_file_flagged, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unreadable_recorded, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(excludes_applied, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(repository_left_out, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(mount_point_left_out, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(extra_root_merged, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(db_copies_always_captured, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(bad_roots, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(nothing_changed_cost, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(scout_asks_for_changed_big_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(scout_starts_at_first_change, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(scout_starts_on_a_cold_cache, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
