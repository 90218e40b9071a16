/* cmd_diff.c — ckptfs diff: what changed between a snapshot and the
 * working tree, or between two snapshots; exit 0 / 1 / 2 like diff(1). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/diff_show.h"
#include "src/history_cli.h"
#include "src/output.h"
#include "store/diff.h"
#include "store/err.h"
#include "store/history.h"

static const char usage_text[] =
	"usage: ckptfs diff [WHEN [WHEN2]] [--] [PATH] [--stat | --name-only] [--json]\n"
	"\n"
	"What changed: with no WHEN, between the latest snapshot of the project\n"
	"containing the current directory and its working tree; with one, between\n"
	"that snapshot and the working tree; with two, from WHEN to WHEN2.  PATH\n"
	"(a file or a folder) limits it to that path.  Text files show as a unified\n"
	"diff (a/PATH, b/PATH), binary files as one line with their sizes, SQLite\n"
	"databases as a per-table summary of row counts and schema changes.  The\n"
	"working tree is walked with snap's excludes; a file whose size, times and\n"
	"inode match the snapshot is not read.  Exit status: 0 no differences,\n"
	"1 differences, 2 trouble.\n"
	"\n"
	"  -p, --project NAME   a project other than the current directory's\n"
	"                       (WHEN needed twice: no working tree is compared)\n"
	"      --stat           one line per changed path with its line counts\n"
	"      --name-only      only the changed paths, one a line\n"
	"      --json           a JSON array of changes\n"
	"  -h, --help           this help\n";

#define DIFF_EXIT_TROUBLE 2

struct change {
	enum diff_kind kind;
	char *path;
	struct node a, b; /* old, new (type 0: absent) */
};

struct collect {
	const char *filter; /* relative path or "" */
	bool snap_pair;     /* both sides snapshots */
	struct change *c;
	size_t n, alloc;
};

static bool under(const char *path, const char *filter)
{
	size_t n = strlen(filter);
	return !n || (!strncmp(path, filter, n) && (path[n] == '\0' || path[n] == '/'));
}

static int on_change(void *ctx, enum diff_kind kind, const char *path, const struct node *a,
		     const struct node *b)
{
	struct collect *col = ctx;
	if (!under(path, col->filter))
		return 0;
	if (a && b && a->type == b->type) {
		bool owner = a->mode != b->mode || a->uid != b->uid || a->gid != b->gid;
		/* A directory's mtime follows its contents; a touched file has
		 * the same content: neither is a change worth a line. */
		if (a->type == NODE_DIR && !owner)
			return 0;
		if (col->snap_pair && a->type != NODE_DIR && !owner && hist_same_version(a, b))
			return 0;
	}
	if (col->n == col->alloc) {
		size_t na = col->alloc ? col->alloc * 2 : 64;
		struct change *p = realloc(col->c, na * sizeof *p);
		if (!p)
			return store_fail(-ENOMEM, "diff: out of memory");
		col->c = p;
		col->alloc = na;
	}
	struct change *c = &col->c[col->n];
	*c = (struct change){.kind = kind, .path = strdup(path)};
	if (!c->path || (a && node_copy(a, &c->a) < 0) || (b && node_copy(b, &c->b) < 0)) {
		free(c->path);
		node_clear(&c->a);
		return store_fail(-ENOMEM, "diff: out of memory");
	}
	col->n++;
	return 0;
}

static void collect_free(struct collect *col)
{
	for (size_t i = 0; i < col->n; i++) {
		free(col->c[i].path);
		node_clear(&col->c[i].a);
		node_clear(&col->c[i].b);
	}
	free(col->c);
}

static const char *change_name(const struct change *c)
{
	if (c->kind == DIFF_ADDED)
		return "added";
	if (c->kind == DIFF_DELETED)
		return "deleted";
	return c->a.type != c->b.type ? "type-changed" : "modified";
}

static void sides(const struct change *c, const char *root, char **file, struct dside *a,
		  struct dside *b)
{
	*a = (struct dside){c->a.type ? &c->a : NULL, NULL};
	*b = (struct dside){c->b.type ? &c->b : NULL, NULL};
	*file = NULL;
	if (root && b->n && asprintf(file, "%s/%s", root, c->path) >= 0)
		b->file = *file;
}

static void json_side(const struct node *n)
{
	char mb[8];
	if (!n->type) {
		fputs("null", stdout);
		return;
	}
	printf("{\"type\": \"%s\", \"mode\": \"%s\", \"size\": %llu", hcli_type_name(n->type),
	       hcli_mode(n->mode, mb), (unsigned long long)n->size);
	if (n->type == NODE_SYMLINK) {
		fputs(", \"target\": ", stdout);
		out_json_str(stdout, n->target);
	}
	fputs("}", stdout);
}

static const char *kind_name(enum dshow_kind k)
{
	static const char *const names[] = {"none", "text", "binary", "sqlite", "other"};
	return names[k];
}

enum mode { M_PATCH, M_STAT, M_NAMES, M_JSON };

static int print_changes(struct repo *repo, const struct collect *col, const char *root,
			 enum mode mode)
{
	bool tty = isatty(STDOUT_FILENO);
	bool colour = tty && !getenv("NO_COLOR") && mode == M_PATCH;
	FILE *out = stdout, *pager = NULL;
	int r = 0;
	if (tty && mode == M_PATCH && col->n) {
		const char *pg = getenv("PAGER");
		if (!pg)
			pg = "less";
		if (*pg && strcmp(pg, "cat") != 0) {
			setenv("LESS", "FRX", 0); /* quit at once if it fits one screen */
			signal(SIGPIPE, SIG_IGN);
			if ((pager = popen(pg, "w")))
				out = pager;
		}
	}
	uint64_t added = 0, modified = 0, deleted = 0;
	if (mode == M_JSON)
		fputs("[", out);
	for (size_t i = 0; i < col->n && r == 0; i++) {
		const struct change *c = &col->c[i];
		struct dside a, b;
		struct dshow_stat st = {0};
		char *file, *pp = out_printable(c->path);
		sides(c, root, &file, &a, &b);
		bool dir = (c->b.type ? c->b.type : c->a.type) == NODE_DIR;
		added += c->kind == DIFF_ADDED;
		modified += c->kind == DIFF_MODIFIED;
		deleted += c->kind == DIFF_DELETED;
		switch (mode) {
		case M_NAMES:
			fprintf(out, "%s%s\n", pp ? pp : "", dir ? "/" : "");
			break;
		case M_PATCH:
			r = dshow_patch(out, repo, c->path, &a, &b, colour, &st);
			break;
		case M_STAT:
			if ((r = dshow_patch(NULL, repo, c->path, &a, &b, false, &st)) < 0)
				break;
			fprintf(out, " %c  %s%s",
				c->kind == DIFF_MODIFIED && c->a.type != c->b.type ? 'T'
										   : (char)c->kind,
				pp ? pp : "", dir ? "/" : "");
			if (st.kind == DSHOW_TEXT)
				fprintf(out, "  | +%llu -%llu", (unsigned long long)st.added,
					(unsigned long long)st.deleted);
			else if (st.kind == DSHOW_BINARY || st.kind == DSHOW_SQLITE) {
				char s1[OUT_BUF], s2[OUT_BUF];
				fprintf(out, "  | %s %s -> %s",
					st.kind == DSHOW_SQLITE ? "SQLite" : "Bin",
					out_size(c->a.size, s1), out_size(c->b.size, s2));
			}
			fputc('\n', out);
			break;
		case M_JSON:
			if ((r = dshow_patch(NULL, repo, c->path, &a, &b, false, &st)) < 0)
				break;
			fputs(i ? ",\n " : "\n ", out);
			fputs("{\"path\": ", out);
			out_json_str(out, c->path);
			printf(", \"change\": \"%s\", \"old\": ", change_name(c));
			json_side(&c->a);
			fputs(", \"new\": ", out);
			json_side(&c->b);
			printf(", \"content\": \"%s\", \"added_lines\": %llu, \"deleted_lines\": "
			       "%llu}",
			       kind_name(st.kind), (unsigned long long)st.added,
			       (unsigned long long)st.deleted);
			break;
		}
		free(file);
		free(pp);
	}
	if (mode == M_JSON)
		fputs(col->n ? "\n]\n" : "]\n", out);
	if (mode == M_STAT && r == 0 && col->n)
		fprintf(out, " %zu path%s changed: %llu added, %llu modified, %llu deleted\n",
			col->n, col->n == 1 ? "" : "s", (unsigned long long)added,
			(unsigned long long)modified, (unsigned long long)deleted);
	if (pager)
		pclose(pager);
	return r;
}

/* Sort the positional words into WHENs and a PATH (see usage). */
static int classify(struct repo *repo, const struct project *p, char **words, size_t n,
		    size_t dashdash, struct snapshot *when, size_t *nwhen, const char **path)
{
	*nwhen = 0;
	*path = NULL;
	for (size_t i = 0; i < n; i++) {
		if (i < dashdash && !*path && *nwhen < 2) {
			int r = cli_resolve_when(repo, p, words[i], out_now_ns(), &when[*nwhen]);
			if (r == 0) {
				(*nwhen)++;
				continue;
			}
			struct stat st;
			/* Not a WHEN: a PATH, unless it looked like a time that
			 * has no snapshot and names no file either. */
			if (r != -EINVAL && lstat(words[i], &st) < 0)
				return r;
			store_error_clear();
		}
		if (*path)
			return store_fail(-EINVAL,
					  "diff: '%s': give at most two WHENs and one PATH",
					  words[i]);
		*path = words[i];
	}
	return 0;
}

/* A PATH with no change must at least exist on one side. */
static int check_path(struct repo *repo, const struct project *p, const struct snapshot *when,
		      size_t nwhen, const char *rel, const char *path)
{
	struct node n;
	for (size_t i = 0; i < nwhen; i++) {
		int r = tree_resolve(repo, &when[i].root, rel, &n);
		if (r == 0) {
			node_clear(&n);
			return 0;
		}
		if (r != -ENOENT && r != -ENOTDIR)
			return r;
		store_error_clear();
	}
	char *full = NULL;
	struct stat st;
	if (nwhen == 1 && asprintf(&full, "%s/%s", p->root, rel) >= 0 && lstat(full, &st) == 0) {
		free(full);
		return 0;
	}
	free(full);
	char *pr = out_printable(path);
	int r = store_fail(-ENOENT,
			   "diff: %s: not a snapshot (see ckptfs log), and no such path in %s%s",
			   pr ? pr : "", nwhen == 2 ? "either snapshot" : when[0].name,
			   nwhen == 2 ? "" : " or the working tree");
	free(pr);
	return r;
}

static int diff_main(struct repo *repo, const char *project, char **words, size_t n,
		     size_t dashdash, enum mode mode)
{
	struct project p = {0};
	struct snapshot when[2] = {0};
	struct collect col = {.filter = ""};
	size_t nwhen = 0;
	const char *path = NULL;
	char rel[PATH_MAX] = "", rel_root[PATH_MAX];
	int r;
	if ((r = cli_find_project(repo, NULL, project, &p)) < 0 ||
	    (r = classify(repo, &p, words, n, dashdash, when, &nwhen, &path)) < 0)
		goto out;
	if (path && (r = hcli_path("diff", &p, path, rel, rel_root)) < 0)
		goto out;
	col.filter = rel;
	if (nwhen == 0 && (r = cli_resolve_when(repo, &p, "latest", 0, &when[nwhen++])) < 0)
		goto out;
	if (nwhen == 2) {
		col.snap_pair = true;
		r = diff_trees_pair(repo, &when[0].root, &when[1].root, on_change, &col);
	} else {
		if (project) {
			r = store_fail(-EINVAL,
				       "diff: --project %s compares snapshots: give two WHENs",
				       project);
			goto out;
		}
		struct diff_work_opts o = {
			.root = p.root, .snap_time_ns = when[0].time_ns, .reserved = DUMPER_FOLDER};
		r = diff_worktree(repo, &when[0].root, &o, on_change, &col);
	}
	if (r == 0 && path && col.n == 0)
		r = check_path(repo, &p, when, nwhen, rel, path);
	if (r == 0)
		r = print_changes(repo, &col, nwhen == 2 ? NULL : p.root, mode);
	if (r == 0)
		r = col.n ? 1 : 0;
out:
	collect_free(&col);
	snapshot_clear(&when[0]);
	snapshot_clear(&when[1]);
	project_clear(&p);
	return r;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'}, {"stat", no_argument, NULL, 'S'},
		{"name-only", no_argument, NULL, 'N'},     {"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},          {0},
	};
	const char *project = NULL;
	enum mode mode = M_PATCH;
	int c, nmodes = 0;
	optind = 0;
	opterr = 0;
	/* '+': stop at "--" only; options may still follow the words. */
	while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			project = optarg;
			break;
		case 'S':
			mode = M_STAT;
			nmodes++;
			break;
		case 'N':
			mode = M_NAMES;
			nmodes++;
			break;
		case 'J':
			mode = M_JSON;
			nmodes++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("diff", c, optopt, argv, optind);
		}
	}
	if (nmodes > 1)
		return cli_usage_error("diff", "--stat, --name-only and --json exclude each other");
	/* getopt moved the words to the end; a "--" among them marks PATH. */
	size_t dashdash = SIZE_MAX;
	for (int i = 1; i < optind; i++)
		if (!strcmp(argv[i], "--"))
			dashdash = 0;
	size_t n = (size_t)(argc - optind);
	if (n > 3)
		return cli_usage_error("diff", "give at most two WHENs and one PATH");

	struct repo *repo = NULL;
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0) {
		out_store_err(r, "repository");
		return DIFF_EXIT_TROUBLE;
	}
	r = diff_main(repo, project, argv + optind, n, dashdash == 0 ? (n ? n - 1 : 0) : SIZE_MAX,
		      mode);
	repo_close(repo);
	if (r < 0) {
		out_store_err(r, "diff");
		return DIFF_EXIT_TROUBLE;
	}
	return r;
}
