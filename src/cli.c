/* cli.c — helpers the commands share (see cli.h). */
#include "src/cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/output.h"
#include "src/project.h"
#include "src/when.h"
#include "store/err.h"

int cli_open_repo(enum repo_mode mode, struct repo **ret_repo)
{
	double wait_s = CLI_LOCK_WAIT_S;
	const char *env = getenv("CKPTFS_LOCK_WAIT");
	if (env && *env) {
		char *end;
		errno = 0;
		wait_s = strtod(env, &end);
		if (errno || *end || !isfinite(wait_s) || wait_s < 0 || wait_s > 86400)
			return store_fail(-EINVAL, "CKPTFS_LOCK_WAIT=%s: not a number of seconds", env);
	}
	char *path = NULL;
	int r = repo_default_path(&path);
	if (r < 0)
		return r;
	struct stat st;
	if (mode == REPO_READ && stat(path, &st) < 0 && errno == ENOENT) {
		r = store_fail(-ENOENT, "no repository at %s (take a snapshot first: ckptfs snap)",
			       path);
		free(path);
		return r;
	}
	r = repo_open(path, mode, (int)(wait_s * 1000), ret_repo);
	free(path);
	return r;
}

/* Is dir equal to root or inside it?  Both canonical. */
static bool path_within(const char *dir, const char *root)
{
	size_t n = strlen(root);
	if (strncmp(dir, root, n) != 0)
		return false;
	return dir[n] == '\0' || dir[n] == '/' || (n == 1 && root[0] == '/');
}

/* The registered project whose root is path or its nearest ancestor
 * (path canonical): 0, or -ENOENT with no message when there is none. */
static int project_holding(struct repo *repo, const char *path, struct project *ret)
{
	struct project *all = NULL;
	size_t n = 0, best = SIZE_MAX;
	int r = catalog_projects(repo, &all, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (path_within(path, all[i].root) &&
		    (best == SIZE_MAX || strlen(all[i].root) > strlen(all[best].root)))
			best = i;
	if (best == SIZE_MAX) {
		r = -ENOENT;
	} else {
		*ret = all[best];
		memset(&all[best], 0, sizeof all[best]);
		r = 0;
	}
	projects_free(all, n);
	return r;
}

int cli_find_project(struct repo *repo, const char *dir, const char *name, struct project *ret)
{
	if (name) {
		int r = catalog_project_by_name(repo, name, ret);
		if (r == -ENOENT)
			return store_fail(-ENOENT, "%s: no such project (see ckptfs projects)", name);
		return r;
	}
	const char *d = dir ? dir : ".";
	char *root = NULL, *real = NULL;
	int r = proj_find_root(d, &root);
	if (r < 0)
		return r;
	r = catalog_project_by_root(repo, root, ret);
	if (r != -ENOENT)
		goto out;
	/* Not registered at its own root: maybe dir lies inside a project
	 * registered higher up (a non-git project snapped at its top). */
	if (!(real = realpath(d, NULL))) {
		r = store_failp(-errno, "%s", d);
		goto out;
	}
	if ((r = project_holding(repo, real, ret)) == -ENOENT)
		r = store_fail(-ENOENT, "%s: not in a registered project (ckptfs snap registers it)",
			       root);
out:
	free(real);
	free(root);
	return r;
}

/* path made canonical without requiring it to exist: realpath of its
 * longest existing prefix, then the rest as written.  Only for absolute
 * paths.  malloc'd, or NULL with errno set. */
static char *canonical_prefix(const char *path)
{
	char *head = strdup(path);
	if (!head)
		return NULL;
	char *real = NULL;
	size_t cut = strlen(head);
	for (;;) {
		if ((real = realpath(head, NULL)))
			break;
		if (errno != ENOENT && errno != ENOTDIR) {
			free(head);
			return NULL;
		}
		char *slash = strrchr(head, '/');
		if (!slash || slash == head) {
			head[1] = '\0';
			cut = 1;
			real = realpath(head, NULL);
			break;
		}
		*slash = '\0';
		cut = (size_t)(slash - head);
	}
	free(head);
	if (!real)
		return NULL;
	const char *rest = path + cut;
	while (*rest == '/')
		rest++;
	char *out = NULL;
	bool root = strcmp(real, "/") == 0;
	if (asprintf(&out, "%s%s%s", real, *rest && !root ? "/" : "", rest) < 0)
		out = NULL;
	free(real);
	return out;
}

int cli_find_project_of_path(struct repo *repo, const char *path, const char *name,
			     struct project *ret)
{
	if (name || path[0] != '/')
		return cli_find_project(repo, NULL, name, ret);
	char *canon = canonical_prefix(path);
	if (!canon)
		return store_failp(-errno, "%s", path);
	int r = project_holding(repo, canon, ret);
	if (r == -ENOENT)
		r = store_fail(-ENOENT, "%s: not in a registered project (see ckptfs projects)", path);
	free(canon);
	return r;
}

void cli_close_repo(struct repo *repo, bool scan)
{
	if (!repo)
		return;
	struct project *ps = NULL;
	size_t n = 0;
	if (scan && catalog_projects(repo, &ps, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct snapshot *s = NULL;
			size_t k = 0;
			if (catalog_snapshots(repo, ps[i].id, &s, &k) == 0)
				snapshots_free(s, k);
		}
		projects_free(ps, n);
	}
	store_error_clear();
	/* A count of reads, not of rows (one row may be read twice): no number. */
	if (catalog_rows_skipped(repo))
		out_err("warning: invalid catalog rows were skipped (ckptfs check lists them, "
			"ckptfs check --repair quarantines or fixes them)");
	repo_close(repo);
}

/* "YYYY-MM-DDTHH:MM:SS.N": the shape of a snapshot name that is not also
 * a time ckptfs understands (the suffix of a third snapshot in a second). */
static bool looks_like_name(const char *s)
{
	const char *shape = "dddd-dd-ddTdd:dd";
	for (; *shape; shape++, s++)
		if (*shape == 'd' ? !isdigit((unsigned char)*s) : *s != *shape)
			return false;
	return *s == '\0' || *s == ':' || *s == '.';
}

/* -ENOENT with a message saying how to bring it back when name is a
 * snapshot of p in the trash; 0 when it is not. */
static int trashed_name(struct repo *repo, const struct project *p, const char *name)
{
	struct snapshot *t = NULL;
	size_t n = 0;
	int r = catalog_trash_list(repo, p->id, &t, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		if (!strcmp(t[i].name, name))
			r = store_fail(-ENOENT,
				       "%s: snapshot %s is in the trash (ckptfs trash restore %s brings it "
				       "back)",
				       p->name, name, name);
	snapshots_free(t, n);
	return r;
}

int cli_resolve_when(struct repo *repo, const struct project *p, const char *when,
		     int64_t now_ns, struct snapshot *ret)
{
	int r;
	if (!when || !strcmp(when, "latest")) {
		r = catalog_snapshot_latest(repo, p->id, ret);
		if (r == -ENOENT)
			return store_fail(-ENOENT, "%s: no snapshots yet", p->name);
		return r;
	}
	if ((r = catalog_snapshot_by_name(repo, p->id, when, ret)) != -ENOENT)
		return r;
	if ((r = catalog_snapshot_by_tag(repo, p->id, when, ret)) != -ENOENT)
		return r;
	/* The name of a forgotten snapshot must not fall through to the time
	 * reading: that would pick its live neighbour (forget would forget it,
	 * restore --from would restore it). */
	if ((r = trashed_name(repo, p, when)) < 0)
		return r;
	int64_t t;
	if ((r = when_parse_time(when, now_ns, &t)) == -ERANGE)
		return store_fail(-EINVAL,
				  "%s: time '%s' is out of range (ckptfs keeps times from 1970-01-01 "
				  "to 2262-04-11)",
				  p->name, when);
	if (r < 0) {
		if (looks_like_name(when))
			return store_fail(-ENOENT, "%s: no snapshot named %s (see ckptfs log)", p->name,
					  when);
		return store_fail(-EINVAL,
				  "%s: '%s' is not a snapshot name, tag or time (try 'latest', "
				  "'2026-02-14T10:30', 'yesterday 14:00', '2h ago')",
				  p->name, when);
	}
	r = catalog_snapshot_at_or_before(repo, p->id, t, ret);
	if (r == -ENOENT) {
		char buf[OUT_BUF];
		return store_fail(-ENOENT, "%s: no snapshot at or before %s ('%s')", p->name,
				  out_local_time(t, true, buf), when);
	}
	return r;
}

int cli_bad_option(const char *cmd, int c, int optopt_value, char **argv, int optind_value)
{
	const char *arg = argv[optind_value - 1];
	if (c == ':')
		out_err("%s: option %s needs an argument (see ckptfs %s --help)", cmd, arg, cmd);
	else if (optopt_value && strncmp(arg, "--", 2) != 0)
		out_err("%s: unknown option -%c (see ckptfs %s --help)", cmd, optopt_value, cmd);
	else
		out_err("%s: unknown option %s (see ckptfs %s --help)", cmd, arg, cmd);
	return EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	out_err("%s: %s (see ckptfs %s --help)", cmd, msg, cmd);
	return EXIT_USAGE;
}

const char *cli_status_name(enum snap_status st)
{
	switch (st) {
	case SNAP_COMPLETE: return "complete";
	case SNAP_PARTIAL: return "partial";
	case SNAP_DAMAGED: return "damaged";
	}
	return "unknown";
}

const char *cli_git_label(const struct snapshot *s, char buf[128])
{
	char shortc[8] = "";
	if (s->git_commit)
		snprintf(shortc, sizeof shortc, "%.7s", s->git_commit);
	if (s->git_branch && s->git_commit)
		snprintf(buf, 128, "%.100s@%s", s->git_branch, shortc);
	else if (s->git_branch)
		snprintf(buf, 128, "%.100s", s->git_branch);
	else
		snprintf(buf, 128, "%s", shortc);
	return buf;
}

void cli_json_snapshot(FILE *f, const struct snapshot *s)
{
	char buf[OUT_BUF], hex[ID_HEX_LEN + 1];
	id_to_hex(&s->root, hex);
	fputs("{\"project\": ", f);
	out_json_str(f, s->project);
	fputs(", \"name\": ", f);
	out_json_str(f, s->name);
	fprintf(f, ", \"time\": \"%s\", \"time_ns\": %lld", out_utc_iso(s->time_ns, buf),
		(long long)s->time_ns);
	fprintf(f, ", \"status\": \"%s\", \"message\": ", cli_status_name(s->status));
	out_json_str(f, s->message);
	fputs(", \"tag\": ", f);
	out_json_str(f, s->tag);
	fputs(", \"git_commit\": ", f);
	out_json_str(f, s->git_commit);
	fputs(", \"git_branch\": ", f);
	out_json_str(f, s->git_branch);
	fprintf(f,
		", \"files\": %llu, \"dirs\": %llu, \"bytes\": %llu, \"new_blobs\": %llu"
		", \"new_bytes\": %llu, \"read_bytes\": %llu, \"duration_ns\": %lld, \"root\": \"%s\"",
		(unsigned long long)s->stats.files, (unsigned long long)s->stats.dirs,
		(unsigned long long)s->stats.bytes, (unsigned long long)s->stats.new_blobs,
		(unsigned long long)s->stats.new_bytes, (unsigned long long)s->stats.read_bytes,
		(long long)s->stats.duration_ns, hex);
	/* notes is already JSON (written by ckptfs itself); null if none. */
	fprintf(f, ", \"notes\": %s}", s->notes && *s->notes ? s->notes : "null");
}
