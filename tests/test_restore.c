/* test_restore.c — restoring walked trees from a real repository: a round
 * trip of every file type compared byte for byte with its metadata, merging
 * into existing directories, the safety rules (planted symlinks are not
 * followed, a user's directory is not replaced, setuid and devices need
 * allow_special), no temp file left after a failed restore, dry runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "store/restore.h"
#include "tests/walk_fixture.h"

static struct fx *cur; /* for the nftw callbacks */
static char cmp_dst[256];
static bool cmp_xattrs;
static int compared;

static void read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	*ret = buf;
	*ret_len = len;
}

static void same_xattrs(const char *a, const char *b)
{
	char la[4096], lb[4096];
	ssize_t na = listxattr(a, la, sizeof(la)), nb = listxattr(b, lb, sizeof(lb));
	assert_true(na >= 0 && nb >= 0);
	/* Only user.* are restored; compare those. */
	for (ssize_t off = 0; off < na; off += (ssize_t)strlen(la + off) + 1) {
		const char *name = la + off;
		if (strncmp(name, "user.", 5) != 0)
			continue;
		char va[4096], vb[4096];
		ssize_t sa = getxattr(a, name, va, sizeof(va));
		ssize_t sb = getxattr(b, name, vb, sizeof(vb));
		if (sa != sb || memcmp(va, vb, (size_t)sa) != 0)
			fail_msg("xattr %s of %s differs", name, b);
	}
}

static int compare_cb(const char *path, const struct stat *a, int flag, struct FTW *f)
{
	(void)flag;
	if (f->level == 0)
		return 0;
	char other[8192];
	snprintf(other, sizeof(other), "%s%s", cmp_dst, path + strlen(cur->src));
	struct stat b;
	if (lstat(other, &b) < 0)
		fail_msg("missing in the restore: %s", other);
	compared++;
	if ((a->st_mode & S_IFMT) != (b.st_mode & S_IFMT))
		fail_msg("type differs: %s", other);
	if ((a->st_mode & 07777) != (b.st_mode & 07777) && !S_ISLNK(a->st_mode))
		fail_msg("mode differs: %s %o %o", other, a->st_mode & 07777, b.st_mode & 07777);
	if (a->st_mtim.tv_sec != b.st_mtim.tv_sec || a->st_mtim.tv_nsec != b.st_mtim.tv_nsec)
		fail_msg("mtime differs: %s", other);
	if (S_ISREG(a->st_mode)) {
		uint8_t *da, *db;
		size_t la, lb;
		read_all(path, &da, &la);
		read_all(other, &db, &lb);
		if (la != lb || memcmp(da, db, la) != 0)
			fail_msg("content differs: %s", other);
		free(da);
		free(db);
	}
	if (S_ISLNK(a->st_mode)) {
		char ta[4096], tb[4096];
		ssize_t na = readlink(path, ta, sizeof(ta)), nb = readlink(other, tb, sizeof(tb));
		if (na != nb || memcmp(ta, tb, (size_t)na) != 0)
			fail_msg("symlink target differs: %s", other);
	}
	if (cmp_xattrs && (S_ISREG(a->st_mode) || S_ISDIR(a->st_mode)))
		same_xattrs(path, other);
	return 0;
}

/* Every entry of src is in dst with equal type, mode, mtime, content,
 * target and user xattrs; and dst holds nothing more. */
static void same_tree(struct fx *fx, const char *dst, bool xattrs)
{
	cur = fx;
	snprintf(cmp_dst, sizeof(cmp_dst), "%s", dst);
	cmp_xattrs = xattrs;
	compared = 0;
	assert_int_equal(nftw(fx->src, compare_cb, 16, FTW_PHYS), 0);
	int in_src = compared;
	/* Count dst entries the same way. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -printf x | wc -c", dst);
	FILE *p = popen(cmd, "r");
	int in_dst = -1;
	assert_int_equal(fscanf(p, "%d", &in_dst), 1);
	pclose(p);
	assert_int_equal(in_dst, in_src);
}

static void snap(struct fx *fx, struct walk_result *res)
{
	fx_walk(fx, NULL, 0, res);
	fx_commit(fx, res, fx_now_ns());
}

static int restore_path(struct fx *fx, const blob_id *root, const char *path, const char *name,
			const struct restore_opts *o, struct restore_stats *st)
{
	struct node n;
	int r = fx_resolve(fx, root, path, &n);
	if (r < 0)
		fail_msg("resolve %s: %s", path, store_error());
	int dfd = open(fx->dst, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	r = restore_node(fx->repo, &n, dfd, name, o, st);
	close(dfd);
	node_clear(&n);
	return r;
}

static void dst_path(struct fx *fx, const char *rel, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", fx->dst, rel);
}

static unsigned round_trip_threads; /* restore_opts.threads of round_trip_all_types */

static void round_trip_all_types(void **state)
{
	struct fx *fx = *state;
	struct restore_opts o = {.threads = round_trip_threads};
	bool xattrs = fx_populate(fx);
	char p[8192];
	/* A read-only directory: its mode must be set after its contents. */
	fx_mkdir(fx, "ro");
	fx_text(fx, "ro/inside", "inside\n");
	fx_path(fx, "ro", p, sizeof(p));
	chmod(p, 0555);
	/* Directory mtimes last: creating entries moved them. */
	struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 42}};
	fx_path(fx, "dir/sub", p, sizeof(p));
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	struct walk_result res;
	snap(fx, &res);
	struct restore_stats st;
	assert_int_equal(restore_path(fx, &res.root, "", "out", &o, &st), 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.files, res.files);
	assert_int_equal(st.dirs, res.dirs + 1); /* and out itself */
	assert_int_equal(st.symlinks, 2);
	assert_int_equal(st.other, 1);
	assert_int_equal(st.bytes, res.bytes);
	char out[256];
	dst_path(fx, "out", out, sizeof(out));
	same_tree(fx, out, xattrs);
	/* The sparse file came back with holes. */
	dst_path(fx, "out/sparse", p, sizeof(p));
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 3 << 20);
	assert_true((uint64_t)sb.st_blocks * 512 < (1u << 20));
}

/* The same, with the files written by the calling thread, then by many
 * writers (store/restore_pool.c). */
static void round_trip_in_line(void **state)
{
	round_trip_threads = 1;
	round_trip_all_types(state);
	round_trip_threads = 0;
}

static void round_trip_many_writers(void **state)
{
	round_trip_threads = 8;
	round_trip_all_types(state);
	round_trip_threads = 0;
}

static void restore_single_file_and_merge(void **state)
{
	struct fx *fx = *state;
	fx_mkdir(fx, "dir");
	fx_text(fx, "dir/a.txt", "new a\n");
	fx_text(fx, "dir/b.txt", "new b\n");
	struct walk_result res;
	snap(fx, &res);
	char p[256];
	dst_path(fx, "dir", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	dst_path(fx, "dir/a.txt", p, sizeof(p));
	FILE *f = fopen(p, "w");
	fputs("old a, longer than the new one\n", f);
	fclose(f);
	dst_path(fx, "dir/mine.txt", p, sizeof(p));
	f = fopen(p, "w");
	fputs("the user's\n", f);
	fclose(f);
	assert_int_equal(restore_path(fx, &res.root, "dir", "dir", NULL, NULL), 0);
	uint8_t *d;
	size_t len;
	dst_path(fx, "dir/a.txt", p, sizeof(p));
	read_all(p, &d, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "new a\n", 6);
	free(d);
	dst_path(fx, "dir/mine.txt", p, sizeof(p));
	read_all(p, &d, &len);
	assert_memory_equal(d, "the user's\n", 11);
	free(d);
	struct stat st;
	dst_path(fx, "dir", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* One file under another name. */
	assert_int_equal(restore_path(fx, &res.root, "dir/b.txt", "b-copy", NULL, NULL), 0);
	dst_path(fx, "b-copy", p, sizeof(p));
	read_all(p, &d, &len);
	assert_memory_equal(d, "new b\n", 6);
	free(d);
}

static void planted_symlinks_not_followed(void **state)
{
	struct fx *fx = *state;
	fx_mkdir(fx, "dir");
	fx_text(fx, "dir/x.txt", "from the snapshot\n");
	fx_text(fx, "f.txt", "snapshot f\n");
	struct walk_result res;
	snap(fx, &res);
	/* Outside DEST: a victim directory and file. */
	char victim[256], vfile[300], p[256];
	snprintf(victim, sizeof(victim), "%s/victim", fx->base);
	assert_int_equal(mkdir(victim, 0755), 0);
	snprintf(vfile, sizeof(vfile), "%s/victim/f.txt", fx->base);
	FILE *f = fopen(vfile, "w");
	fputs("victim\n", f);
	fclose(f);
	/* DEST/out/dir -> victim, DEST/out/f.txt -> victim/f.txt */
	dst_path(fx, "out", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	dst_path(fx, "out/dir", p, sizeof(p));
	assert_int_equal(symlink(victim, p), 0);
	dst_path(fx, "out/f.txt", p, sizeof(p));
	assert_int_equal(symlink(vfile, p), 0);
	struct restore_stats st;
	assert_int_equal(restore_path(fx, &res.root, "", "out", NULL, &st), -EEXIST);
	assert_int_equal(st.errors, 1);
	/* Nothing outside changed. */
	uint8_t *d;
	size_t len;
	read_all(vfile, &d, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(d, "victim\n", 7);
	free(d);
	char vx[300];
	snprintf(vx, sizeof(vx), "%s/x.txt", victim);
	assert_int_equal(access(vx, F_OK), -1);
	/* The file replaced the symlink itself; the directory symlink was
	 * left alone (reported). */
	struct stat sb;
	dst_path(fx, "out/f.txt", p, sizeof(p));
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	dst_path(fx, "out/dir", p, sizeof(p));
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	/* Restoring under a symlinked destination name fails too. */
	assert_int_equal(restore_path(fx, &res.root, "dir", "dir", NULL, NULL), 0);
	dst_path(fx, "linkdest", p, sizeof(p));
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(restore_path(fx, &res.root, "dir", "linkdest", NULL, NULL), -EEXIST);
	assert_int_equal(access(vx, F_OK), -1);
}

static void user_directory_not_replaced(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "thing", "a file in the snapshot\n");
	fx_mkdir(fx, "other");
	struct walk_result res;
	snap(fx, &res);
	char p[256];
	dst_path(fx, "thing", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	dst_path(fx, "thing/precious", p, sizeof(p));
	FILE *f = fopen(p, "w");
	fputs("precious\n", f);
	fclose(f);
	struct restore_stats st;
	assert_int_equal(restore_path(fx, &res.root, "thing", "thing", NULL, &st), -EISDIR);
	assert_int_equal(st.errors, 1);
	assert_int_equal(access(p, F_OK), 0);
	assert_non_null(strstr(store_error(), "thing: exists and is a directory"));
	/* And a file where a directory goes stays too. */
	dst_path(fx, "other", p, sizeof(p));
	f = fopen(p, "w");
	fputs("mine\n", f);
	fclose(f);
	assert_int_equal(restore_path(fx, &res.root, "other", "other", NULL, NULL), -EEXIST);
	struct stat sb;
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
}

static void special_bits_need_allow_special(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "suid", "#!/bin/sh\n");
	char p[8192];
	fx_path(fx, "suid", p, sizeof(p));
	assert_int_equal(chmod(p, 04755), 0);
	fx_path(fx, "null", p, sizeof(p));
	bool have_dev = mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0;
	struct walk_result res;
	snap(fx, &res);
	struct restore_stats st;
	assert_int_equal(restore_path(fx, &res.root, "", "plain", NULL, &st), 0);
	struct stat sb;
	dst_path(fx, "plain/suid", p, sizeof(p));
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	dst_path(fx, "plain/null", p, sizeof(p));
	assert_int_equal(lstat(p, &sb), -1);
	struct restore_opts o = {.allow_special = true};
	assert_int_equal(restore_path(fx, &res.root, "", "special", &o, &st), 0);
	dst_path(fx, "special/suid", p, sizeof(p));
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 04755);
	if (have_dev) {
		dst_path(fx, "special/null", p, sizeof(p));
		assert_int_equal(lstat(p, &sb), 0);
		assert_true(S_ISCHR(sb.st_mode));
		assert_int_equal(sb.st_rdev, makedev(1, 3));
	}
}

static int count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".ckptfs-"))
			n++;
	closedir(d);
	return n;
}

static void failed_restore_leaves_no_temp(void **state)
{
	struct fx *fx = *state;
	fx_random(fx, "big.bin", 600000, 3);
	struct walk_result res;
	snap(fx, &res);
	char p[256];
	dst_path(fx, "big.bin", p, sizeof(p));
	FILE *f = fopen(p, "w");
	fputs("old version\n", f);
	fclose(f);
	struct node n;
	assert_int_equal(fx_resolve(fx, &res.root, "big.bin", &n), 0);
	assert_true(n.nchunks >= 2);
	/* A chunk the repository does not hold: the read fails half way. */
	memset(&n.chunks[n.nchunks - 1].id, 0xab, sizeof(blob_id));
	int dfd = open(fx->dst, O_RDONLY | O_DIRECTORY);
	struct restore_stats st;
	int r = restore_node(fx->repo, &n, dfd, "big.bin", NULL, &st);
	close(dfd);
	node_clear(&n);
	assert_true(r < 0);
	assert_int_equal(st.errors, 1);
	assert_int_equal(count_temps(fx->dst), 0);
	uint8_t *d;
	size_t len;
	read_all(p, &d, &len);
	assert_int_equal(len, 12);
	assert_memory_equal(d, "old version\n", 12);
	free(d);
}

static int reported;

static void count_report(void *ctx, const char *relpath, const struct node *n)
{
	(void)ctx, (void)relpath, (void)n;
	reported++;
}

static void dry_run_writes_nothing(void **state)
{
	struct fx *fx = *state;
	fx_populate(fx);
	struct walk_result res;
	snap(fx, &res);
	reported = 0;
	struct restore_opts o = {.dry_run = true, .report = count_report};
	struct restore_stats st;
	assert_int_equal(restore_path(fx, &res.root, "", "out", &o, &st), 0);
	assert_int_equal(st.files, res.files);
	assert_int_equal(st.bytes, res.bytes);
	/* files + dirs (+ out) + 2 symlinks + 1 fifo */
	assert_int_equal(reported, (int)(res.files + res.dirs + 1 + 3));
	DIR *d = opendir(fx->dst);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	assert_int_equal(n, 2);
}

/* What a report callback plants at the target of a file just written
 * under its temp name, before the batch renames it (restore_batch.c). */
static char plant_at[64];
static char plant_path[256];
static int plant_kind; /* 'p' a FIFO, 'f' a regular file, 'd' a directory */

static void plant_report(void *ctx, const char *relpath, const struct node *n)
{
	(void)ctx;
	if (n->type != NODE_FILE || strcmp(relpath, plant_at) != 0)
		return;
	if (plant_kind == 'p')
		assert_int_equal(mkfifo(plant_path, 0600), 0);
	else if (plant_kind == 'd')
		assert_int_equal(mkdir(plant_path, 0700), 0);
	else {
		FILE *f = fopen(plant_path, "w");
		fputs("planted\n", f);
		fclose(f);
	}
}

/* A directory the restore made itself is not checked for entries in the
 * way when a file's temp is made; what appears there before the rename
 * must still be refused (a FIFO, a directory) or replaced (a file). */
static void entry_planted_in_fresh_dir(void **state)
{
	struct fx *fx = *state;
	fx_mkdir(fx, "d");
	fx_text(fx, "d/f", "from the snapshot\n");
	fx_random(fx, "d/g", 100000, 7);
	struct walk_result res;
	snap(fx, &res);
	const int kinds[] = {'p', 'd', 'f'};
	for (size_t k = 0; k < 3; k++) {
		char out[32], p[600];
		snprintf(out, sizeof out, "out%zu", k);
		snprintf(plant_at, sizeof plant_at, "%s/d/f", out);
		dst_path(fx, plant_at, plant_path, sizeof plant_path);
		plant_kind = kinds[k];
		struct restore_opts o = {.ctx = fx, .report = plant_report, .warn = fx_warn};
		struct restore_stats st;
		int r = restore_path(fx, &res.root, "", out, &o, &st);
		struct stat sb;
		assert_int_equal(lstat(plant_path, &sb), 0);
		snprintf(p, sizeof p, "%s/%s/d", fx->dst, out);
		assert_int_equal(count_temps(p), 0);
		if (plant_kind == 'f') {
			assert_int_equal(r, 0);
			assert_true(S_ISREG(sb.st_mode));
			uint8_t *data;
			size_t len;
			read_all(plant_path, &data, &len);
			assert_int_equal(len, 18);
			assert_memory_equal(data, "from the snapshot\n", 18);
			free(data);
		} else {
			assert_true(r < 0);
			assert_int_equal(st.errors, 1);
			assert_true(plant_kind == 'p' ? S_ISFIFO(sb.st_mode) : S_ISDIR(sb.st_mode));
		}
		/* The other file is there whole. */
		snprintf(p, sizeof p, "%s/%s/d/g", fx->dst, out);
		assert_int_equal(lstat(p, &sb), 0);
		assert_int_equal(sb.st_size, 100000);
	}
}

/* A directory swapped for a symlink after its files were written and
 * before its own metadata is set (restore_batch.c, open_dir_path): the
 * symlink is not followed, its target keeps its mode and mtime. */
static char swap_dir[256], swap_victim[256];
static bool swapped;

static void swap_report(void *ctx, const char *relpath, const struct node *n)
{
	(void)ctx;
	if (swapped || n->type != NODE_FILE || strcmp(relpath, "out/d/sub/f") != 0)
		return;
	char moved[300];
	snprintf(moved, sizeof moved, "%s.moved", swap_dir);
	assert_int_equal(rename(swap_dir, moved), 0);
	assert_int_equal(symlink("../victim", swap_dir), 0); /* relative: beneath */
	swapped = true;
}

static void dir_swapped_for_symlink_before_meta(void **state)
{
	struct fx *fx = *state;
	fx_mkdir(fx, "d");
	fx_mkdir(fx, "d/sub");
	fx_text(fx, "d/sub/f", "f\n");
	char p[8192];
	fx_path(fx, "d/sub", p, sizeof p);
	chmod(p, 0705);
	fx_path(fx, "d", p, sizeof p);
	chmod(p, 0705);
	struct walk_result res;
	snap(fx, &res);
	/* The victim: a directory beside out, with a sub (beneath the
	 * destination: only refusing symlinks protects it). */
	snprintf(swap_victim, sizeof swap_victim, "%s/victim", fx->dst);
	char vsub[300];
	snprintf(vsub, sizeof vsub, "%s/sub", swap_victim);
	assert_int_equal(mkdir(swap_victim, 0755), 0);
	assert_int_equal(mkdir(vsub, 0755), 0);
	snprintf(swap_dir, sizeof swap_dir, "%s/out/d", fx->dst);
	swapped = false;
	struct restore_opts o = {.ctx = fx, .report = swap_report, .warn = fx_warn};
	int r = restore_path(fx, &res.root, "", "out", &o, NULL);
	assert_true(swapped);
	assert_true(r < 0);
	struct stat sb;
	assert_int_equal(stat(swap_victim, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_int_equal(stat(vsub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	/* The file went where its directory was when it was written. */
	snprintf(p, sizeof p, "%s.moved/sub/f", swap_dir);
	assert_int_equal(lstat(p, &sb), 0);
}

/* Files that end in data, in a hole, in data after a hole, and empty:
 * the size is right whichever way the last piece was written. */
static void file_ends(void **state)
{
	struct fx *fx = *state;
	static uint8_t buf[3 << 20];
	memset(buf, 0, sizeof buf);
	fx_write(fx, "zeros", buf, sizeof buf);
	buf[sizeof buf - 1] = 'x';
	fx_write(fx, "hole-then-byte", buf, sizeof buf);
	fx_write(fx, "empty", buf, 0);
	fx_text(fx, "text", "text\n");
	/* 20 MiB: writeback is started every 8 MiB (WRITEBACK_STEP); data,
	 * then a hole across the first step, then data to the end. */
	size_t big_len = 20u << 20;
	uint8_t *big = calloc(1, big_len);
	assert_non_null(big);
	uint64_t s = 12345;
	for (size_t i = 0; i < big_len; i++)
		if (i < (6u << 20) || i >= (11u << 20))
			big[i] = (uint8_t)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 56);
	fx_write(fx, "big", big, big_len);
	free(big);
	struct walk_result res;
	snap(fx, &res);
	assert_int_equal(restore_path(fx, &res.root, "", "out", NULL, NULL), 0);
	char out[256];
	dst_path(fx, "out", out, sizeof(out));
	same_tree(fx, out, false);
}

static void bad_destination_names(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "a", "a");
	struct walk_result res;
	snap(fx, &res);
	const char *bad[] = {"", ".", "..", "a/b", "/etc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(restore_path(fx, &res.root, "a", bad[i], NULL, NULL), -EINVAL);
}

static void unreadable_nodes_reported(void **state)
{
	/* What a walk records for entries it could not read (see
	 * test_walk.c's unreadable_recorded): metadata only. */
	struct fx *fx = *state;
	struct tree empty = {0};
	struct node dir = {.name = "closed", .type = NODE_DIR, .flags = NODE_F_UNREADABLE,
			   .mode = 0750, .mtime_ns = 1600000000000000000LL};
	assert_int_equal(writer_put_tree(fx->w, &empty, &dir.subtree), 0);
	struct walk_result res = {.root = dir.subtree};
	fx_commit(fx, &res, fx_now_ns()); /* makes the empty tree readable */
	struct node file = {.name = "secret", .type = NODE_FILE, .flags = NODE_F_UNREADABLE,
			    .mode = 0600, .size = 6};
	int dfd = open(fx->dst, O_RDONLY | O_DIRECTORY);
	struct restore_stats st;
	assert_int_equal(restore_node(fx->repo, &file, dfd, "secret", NULL, &st), -ENODATA);
	assert_int_equal(st.errors, 1);
	assert_int_equal(faccessat(dfd, "secret", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(restore_node(fx->repo, &dir, dfd, "closed", NULL, &st), -ENODATA);
	struct stat sb;
	assert_int_equal(fstatat(dfd, "closed", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(sb.st_mtim.tv_sec, 1600000000);
	close(dfd);
}

/* Make a socket at path (bound, then the fd closed: the entry stays). */
static void make_socket(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

/* Issue 8: a FIFO, a socket, a symlink to one, a symlink to a directory
 * where a file goes, are left alone with a line naming the type (also in
 * a dry run); a dangling symlink is replaced.  Devices: t_restore_targets
 * (in a private mount namespace). */
static void special_targets_left_alone(void **state)
{
	struct fx *fx = *state;
	fx_text(fx, "f", "snapshot f\n");
	fx_mkdir(fx, "d");
	struct walk_result res;
	snap(fx, &res);
	static const struct {
		const char *name, *kind;
	} cases[] = {
		{"fifo", "a FIFO"},
		{"sock", "a socket"},
		{"lfifo", "a symlink to a FIFO"},
		{"lsock", "a symlink to a socket"},
		{"ldir", "a symlink to a directory"},
	};
	char p[256], q[300];
	dst_path(fx, "fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0600), 0);
	dst_path(fx, "sock", p, sizeof(p));
	make_socket(p);
	dst_path(fx, "lfifo", p, sizeof(p));
	assert_int_equal(symlink("fifo", p), 0);
	dst_path(fx, "lsock", p, sizeof(p));
	assert_int_equal(symlink("sock", p), 0);
	dst_path(fx, "ldir", p, sizeof(p));
	assert_int_equal(symlink("d", p), 0);
	dst_path(fx, "d", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat before, after;
		dst_path(fx, cases[i].name, p, sizeof(p));
		assert_int_equal(lstat(p, &before), 0);
		for (int dry = 0; dry < 2; dry++) {
			struct restore_opts o = {.dry_run = dry};
			struct restore_stats st;
			assert_int_equal(restore_path(fx, &res.root, "f", cases[i].name, &o, &st), -EEXIST);
			assert_int_equal(st.errors, 1);
			assert_int_equal(st.files, 0);
			snprintf(q, sizeof(q), "%s: exists and is %s: left alone", cases[i].name, cases[i].kind);
			if (!strstr(store_error(), q))
				fail_msg("%s: message \"%s\", wanted \"%s\"", cases[i].name, store_error(), q);
			/* And where a directory goes. */
			assert_int_equal(restore_path(fx, &res.root, "d", cases[i].name, &o, NULL), -EEXIST);
			snprintf(q, sizeof(q), "%s: exists and is %s, not a directory: left alone",
				 cases[i].name, cases[i].kind);
			if (!strstr(store_error(), q))
				fail_msg("%s: message \"%s\", wanted \"%s\"", cases[i].name, store_error(), q);
		}
		assert_int_equal(lstat(p, &after), 0);
		assert_int_equal(after.st_ino, before.st_ino);
		assert_int_equal(after.st_mode, before.st_mode);
	}
	/* A dangling symlink: the link itself is replaced by the file. */
	dst_path(fx, "dangling", p, sizeof(p));
	assert_int_equal(symlink("nowhere", p), 0);
	assert_int_equal(restore_path(fx, &res.root, "f", "dangling", NULL, NULL), 0);
	struct stat sb;
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	dst_path(fx, "nowhere", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
}

/* The temp-name pattern is exact: what restore writes, nothing else. */
static void temp_name_pattern(void **state)
{
	(void)state;
	assert_true(restore_is_temp_name(".a.ckptfs-AbC123"));
	assert_true(restore_is_temp_name(".main.c.ckptfs-000000"));
	assert_true(restore_is_temp_name("..ckptfs-zzzzzz.ckptfs-q1W2e3"));
	assert_false(restore_is_temp_name(".a.ckptfs-AbC12"));    /* 5 random chars */
	assert_false(restore_is_temp_name(".a.ckptfs-AbC1234"));  /* 7 */
	assert_false(restore_is_temp_name(".a.ckptfs-AbC_23"));   /* not alphanumeric */
	assert_false(restore_is_temp_name("a.ckptfs-AbC123"));    /* no leading dot */
	assert_false(restore_is_temp_name("..ckptfs-AbC123"));    /* empty name part */
	assert_false(restore_is_temp_name(".a.ckptfs_AbC123"));
	assert_false(restore_is_temp_name(".a.CKPTFS-AbC123"));
	assert_false(restore_is_temp_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_all_types, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(round_trip_in_line, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(round_trip_many_writers, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(restore_single_file_and_merge, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(planted_symlinks_not_followed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(user_directory_not_replaced, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(special_bits_need_allow_special, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(failed_restore_leaves_no_temp, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(dry_run_writes_nothing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(bad_destination_names, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unreadable_nodes_reported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(special_targets_left_alone, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(entry_planted_in_fresh_dir, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(file_ends, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(dir_swapped_for_symlink_before_meta, fx_setup, fx_teardown),
		cmocka_unit_test(temp_name_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
