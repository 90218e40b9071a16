/* ignore.c — what a snapshot leaves out: default excludes, .ckptignore and
 * --exclude, all in gitignore syntax.
 *
 * Default excludes (rebuildable bulk of a developer project; all are
 * directories only, at any depth — a *file* of that name is kept):
 *
 *   node_modules/   __pycache__/   .cache/   .pytest_cache/   .mypy_cache/
 *   .tox/           .gradle/                                      always
 *   .venv/  venv/   only when the directory holds pyvenv.cfg (a Python
 *                   virtual environment, not a folder someone named venv)
 *   target/         only when its parent holds Cargo.toml (Rust), pom.xml
 *                   (Maven) or build.sbt (sbt): their build output
 *   dist/           only when its parent holds package.json (JS bundlers),
 *                   pyproject.toml, setup.py or setup.cfg (Python sdists and
 *                   wheels)
 *   build/          only when its parent holds CMakeLists.txt, meson.build,
 *                   build.gradle, build.gradle.kts, settings.gradle,
 *                   settings.gradle.kts, package.json (create-react-app and
 *                   friends), pyproject.toml, setup.py, setup.cfg or
 *                   pubspec.yaml (Flutter)
 *
 * (Not a rule here: the walk always leaves out a restore's temp files,
 * ".<name>.ckptfs-XXXXXX"; see restore.h.)
 *
 * A plain Makefile does not make build/ or dist/ an output: in make
 * projects those names often hold hand-written files.  Included on purpose:
 * .env*, .git, untracked and git-ignored files (.gitignore is not read).
 *
 * Then .ckptignore files: the one at the root and one in any subdirectory
 * (its patterns are relative to its own directory), gitignore(5) syntax:
 * '#' comments, blank lines, '!' negation, trailing '/' for directories
 * only, a '/' at the start or inside anchors the pattern to the file's
 * directory (else it matches a name at any depth below), '*', '?', "[...]",
 * "**", '\' escapes (also "\#", "\!", and trailing "\ ").  --exclude
 * patterns are root-level lines that come last.
 *
 * Precedence, lowest to highest: defaults, the root .ckptignore, deeper
 * .ckptignore files, --exclude; the last matching line wins.  So "!build/"
 * in a .ckptignore keeps a build directory the defaults would drop.  As in
 * git, nothing inside an excluded directory can be re-included: the walk
 * never enters it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/err.h"
#include "store/walk_internal.h"
#include "store/ignore.h"

#define IGNORE_FILE ".ckptignore"
#define IGNORE_FILE_MAX (1 << 20) /* bytes read from one .ckptignore */

enum ig_cond {
	COND_NONE,
	COND_PYVENV,  /* the directory holds pyvenv.cfg */
	COND_TARGET,  /* the parent holds a marker of target_markers */
	COND_DIST,
	COND_BUILD,
};

static const char *const target_markers[] = {"Cargo.toml", "pom.xml", "build.sbt", NULL};
static const char *const dist_markers[] = {"package.json", "pyproject.toml", "setup.py",
					   "setup.cfg", NULL};
static const char *const build_markers[] = {
	"CMakeLists.txt", "meson.build", "build.gradle",   "build.gradle.kts",
	"settings.gradle", "settings.gradle.kts", "package.json", "pyproject.toml",
	"setup.py",       "setup.cfg",   "pubspec.yaml",   NULL};

static const struct {
	const char *name;
	enum ig_cond cond;
} default_rules[] = {
	{"node_modules", COND_NONE},  {"__pycache__", COND_NONE}, {".cache", COND_NONE},
	{".pytest_cache", COND_NONE}, {".mypy_cache", COND_NONE}, {".tox", COND_NONE},
	{".gradle", COND_NONE},       {".venv", COND_PYVENV},     {"venv", COND_PYVENV},
	{"target", COND_TARGET},      {"dist", COND_DIST},        {"build", COND_BUILD},
};

struct ig_rule {
	char *pat; /* processed: no '!', no leading or trailing '/' */
	bool negate, dir_only, anchored;
	enum ig_cond cond;
};

struct ig_list {
	struct ig_rule *r;
	size_t n, cap;
};

/* The rules of one directory's .ckptignore (possibly none). */
struct ig_frame {
	char *dir; /* relative to the root, "" for the root */
	size_t dirlen;
	struct ig_list rules;
};

struct ignore {
	int rootfd;
	struct ig_list defaults, excludes;
	struct ig_frame *frames; /* the chain root .. current directory */
	size_t nframes, capframes;
};

static void list_clear(struct ig_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->r[i].pat);
	free(l->r);
	*l = (struct ig_list){0};
}

static int list_add(struct ig_list *l, struct ig_rule *rule)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct ig_rule *r = realloc(l->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n++] = *rule;
	return 0;
}

/* Parse one line (len bytes, no newline) and append it to l if it is a
 * pattern. */
static int add_line(struct ig_list *l, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	/* Trailing spaces are dropped unless escaped with a backslash. */
	while (len && line[len - 1] == ' ') {
		size_t bs = 0;
		while (bs + 1 < len && line[len - 2 - bs] == '\\')
			bs++;
		if (bs % 2)
			break;
		len--;
	}
	if (len == 0 || line[0] == '#')
		return 0;
	struct ig_rule rule = {0};
	if (line[0] == '!') {
		rule.negate = true;
		line++;
		len--;
	}
	if (len && line[len - 1] == '/') {
		/* "foo\/" would be an escaped slash; a slash is never in a name, so
		 * treat it like the directory marker too. */
		rule.dir_only = true;
		len--;
	}
	if (len == 0)
		return 0;
	if (line[0] == '/') {
		rule.anchored = true;
		line++;
		len--;
	}
	if (memchr(line, '/', len))
		rule.anchored = true;
	if (len == 0 || memchr(line, '\0', len))
		return 0;
	rule.pat = strndup(line, len);
	if (!rule.pat)
		return -ENOMEM;
	int r = list_add(l, &rule);
	if (r < 0)
		free(rule.pat);
	return r;
}

static int add_text(struct ig_list *l, const char *buf, size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) : len;
		int r = add_line(l, buf, n);
		if (r < 0)
			return r;
		if (!nl)
			break;
		buf += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* Read dirfd's .ckptignore into l.  A missing or unreadable file adds
 * nothing: ignore rules only ever leave things out, so failing open keeps
 * data rather than losing it. */
static int load_file(struct ig_list *l, int dirfd)
{
	int fd = openat(dirfd, IGNORE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, IGNORE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	size_t cap = st.st_size < IGNORE_FILE_MAX ? (size_t)st.st_size : IGNORE_FILE_MAX;
	char *buf = malloc(cap + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	r = add_text(l, buf, len);
	free(buf);
out:
	close(fd);
	return r;
}

int ignore_open(const char *root, const char *const *excludes, size_t nexcludes,
		struct ignore **ret)
{
	struct ignore *ig = calloc(1, sizeof(*ig));
	if (!ig)
		return -ENOMEM;
	int r;
	ig->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ig->rootfd < 0) {
		r = store_failp(-errno, "%s", root);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++) {
		struct ig_rule rule = {.dir_only = true, .cond = default_rules[i].cond};
		rule.pat = strdup(default_rules[i].name);
		if (!rule.pat || list_add(&ig->defaults, &rule) < 0) {
			free(rule.pat);
			r = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < nexcludes; i++) {
		r = add_line(&ig->excludes, excludes[i], strlen(excludes[i]));
		if (r < 0)
			goto fail;
	}
	*ret = ig;
	return 0;
fail:
	ignore_free(ig);
	return r;
}

void ignore_free(struct ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->nframes; i++) {
		free(ig->frames[i].dir);
		list_clear(&ig->frames[i].rules);
	}
	free(ig->frames);
	list_clear(&ig->defaults);
	list_clear(&ig->excludes);
	if (ig->rootfd >= 0)
		close(ig->rootfd);
	free(ig);
}

/* Open the directory at relative path (len bytes) below the root, one
 * component at a time without following symlinks.  -1 on failure. */
static int open_below_root(struct ignore *ig, const char *path, size_t len)
{
	int fd = fcntl(ig->rootfd, F_DUPFD_CLOEXEC, 0);
	char comp[256];
	size_t i = 0;
	while (fd >= 0 && i < len) {
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		if (j - i >= sizeof(comp)) {
			close(fd);
			return -1;
		}
		memcpy(comp, path + i, j - i);
		comp[j - i] = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		i = j + 1;
	}
	return fd;
}

/* dirfd -1: open the directory from the root; -2: it has no .ckptignore. */
static int push_frame(struct ignore *ig, const char *dir, size_t dirlen, int dirfd)
{
	if (ig->nframes == ig->capframes) {
		size_t cap = ig->capframes ? 2 * ig->capframes : 16;
		struct ig_frame *f = realloc(ig->frames, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		ig->frames = f;
		ig->capframes = cap;
	}
	struct ig_frame *f = &ig->frames[ig->nframes];
	*f = (struct ig_frame){.dirlen = dirlen};
	f->dir = strndup(dir, dirlen);
	if (!f->dir)
		return -ENOMEM;
	int r;
	if (dirfd >= 0) {
		r = load_file(&f->rules, dirfd);
	} else if (dirfd == -2) {
		r = 0;
	} else {
		int fd = dirlen ? open_below_root(ig, dir, dirlen) : ig->rootfd;
		r = fd >= 0 ? load_file(&f->rules, fd) : 0;
		if (fd >= 0 && fd != ig->rootfd)
			close(fd);
	}
	if (r < 0) {
		free(f->dir);
		list_clear(&f->rules);
		return r;
	}
	ig->nframes++;
	return 0;
}

/* Make the frame chain exactly root .. dir (dirlen bytes of relpath). */
static int sync_frames(struct ignore *ig, const char *dir, size_t dirlen, int dirfd)
{
	if (ig->nframes) {
		struct ig_frame *top = &ig->frames[ig->nframes - 1];
		if (top->dirlen == dirlen && memcmp(top->dir, dir, dirlen) == 0)
			return 0;
	}
	/* Keep the frames whose directory is dir or one of its ancestors. */
	size_t keep = 0;
	while (keep < ig->nframes) {
		struct ig_frame *f = &ig->frames[keep];
		bool ancestor = f->dirlen == 0 ||
				(f->dirlen <= dirlen && memcmp(f->dir, dir, f->dirlen) == 0 &&
				 (f->dirlen == dirlen || dir[f->dirlen] == '/'));
		if (!ancestor)
			break;
		keep++;
	}
	while (ig->nframes > keep) {
		struct ig_frame *f = &ig->frames[--ig->nframes];
		free(f->dir);
		list_clear(&f->rules);
	}
	/* Push the missing components; only the last one is dirfd. */
	while (ig->nframes == 0 || ig->frames[ig->nframes - 1].dirlen < dirlen) {
		size_t end;
		if (ig->nframes == 0) {
			end = 0;
		} else {
			size_t from = ig->frames[ig->nframes - 1].dirlen;
			end = from ? from + 1 : 0;
			while (end < dirlen && dir[end] != '/')
				end++;
		}
		int r = push_frame(ig, dir, end, end == dirlen ? dirfd : -1);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool has_marker(int dirfd, const char *const *markers)
{
	struct stat st;
	for (size_t i = 0; markers[i]; i++)
		if (fstatat(dirfd, markers[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	return false;
}

static bool cond_holds(enum ig_cond cond, int dirfd, const char *name)
{
	if (cond == COND_NONE)
		return true;
	if (dirfd < 0)
		return false;
	switch (cond) {
	case COND_PYVENV: {
		char path[256 + sizeof("/pyvenv.cfg")];
		struct stat st;
		size_t n = strlen(name);
		if (n >= 256)
			return false;
		memcpy(path, name, n);
		memcpy(path + n, "/pyvenv.cfg", sizeof("/pyvenv.cfg"));
		return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	case COND_TARGET:
		return has_marker(dirfd, target_markers);
	case COND_DIST:
		return has_marker(dirfd, dist_markers);
	case COND_BUILD:
		return has_marker(dirfd, build_markers);
	default:
		return false;
	}
}

/* The last rule of l matching text (path relative to the list's
 * directory) or NULL. */
static const struct ig_rule *list_match(const struct ig_list *l, const char *text,
					const char *name, bool is_dir, int dirfd)
{
	for (size_t i = l->n; i-- > 0;) {
		const struct ig_rule *rule = &l->r[i];
		if (rule->dir_only && !is_dir)
			continue;
		if (!ignore_glob(rule->pat, rule->anchored ? text : name))
			continue;
		if (!cond_holds(rule->cond, dirfd, name))
			continue;
		return rule;
	}
	return NULL;
}

int ignore_enter(struct ignore *ig, int dirfd, const char *dir, size_t dirlen, bool has_file)
{
	return sync_frames(ig, dir, dirlen, has_file ? dirfd : -2);
}

int ignore_entry(struct ignore *ig, int dirfd, const char *relpath, size_t dirlen, bool is_dir)
{
	int r = sync_frames(ig, relpath, dirlen, dirfd);
	if (r < 0)
		return r;
	const char *name = dirlen ? relpath + dirlen + 1 : relpath;
	const struct ig_rule *m = list_match(&ig->excludes, relpath, name, is_dir, dirfd);
	for (size_t i = ig->nframes; !m && i-- > 0;) {
		const struct ig_frame *f = &ig->frames[i];
		const char *text = f->dirlen ? relpath + f->dirlen + 1 : relpath;
		m = list_match(&f->rules, text, name, is_dir, dirfd);
	}
	if (!m)
		m = list_match(&ig->defaults, relpath, name, is_dir, dirfd);
	return m && !m->negate ? 1 : 0;
}

bool ignore_match(struct ignore *ig, int dirfd, const char *relpath, bool is_dir)
{
	/* Each ancestor first: a path inside an excluded directory is left out
	 * with it. */
	size_t len = strlen(relpath);
	while (len && relpath[len - 1] == '/')
		len--;
	char *path = strndup(relpath, len);
	if (!path || len == 0) {
		free(path);
		return false;
	}
	bool out = false;
	int fd = fcntl(ig->rootfd, F_DUPFD_CLOEXEC, 0);
	size_t dirlen = 0;
	for (;;) {
		char *slash = strchr(path + (dirlen ? dirlen + 1 : 0), '/');
		if (!slash)
			break;
		size_t end = (size_t)(slash - path);
		*slash = '\0';
		int r = ignore_entry(ig, fd, path, dirlen, true);
		if (r != 0) {
			out = r > 0;
			goto done;
		}
		int next = fd >= 0 ? openat(fd, path + (dirlen ? dirlen + 1 : 0),
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
				   : -1;
		if (fd >= 0)
			close(fd);
		fd = next;
		*slash = '/';
		dirlen = end;
	}
	out = ignore_entry(ig, dirfd >= 0 ? dirfd : fd, path, dirlen, is_dir) > 0;
done:
	if (fd >= 0)
		close(fd);
	free(path);
	return out;
}
