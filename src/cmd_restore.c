/* cmd_restore.c — ckptfs restore: files of a snapshot back into the
 * project (after a safety snapshot) or anywhere else. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/dest.h"
#include "src/output.h"
#include "src/restoremark.h"
#include "src/restore_db.h"
#include "src/restore_table.h"
#include "src/take.h"
#include "store/catalog.h"
#include "store/err.h"
#include "store/repo.h"
#include "store/restore.h"
#include "store/tree.h"

static const char usage_text[] =
	"usage: ckptfs restore PATH [--from WHEN] [--to DEST] [--dry-run] [--project NAME]\n"
	"       ckptfs restore --db NAME [--from WHEN] [--into OTHER] [--dry-run] [--project NAME]\n"
	"       ckptfs restore FILE.db --table T [--table T2]... [--from WHEN] [--dry-run]\n"
	"       ckptfs restore --db NAME --table T [--table T2]... [--from WHEN] [--into OTHER]\n"
	"\n"
	"Bring PATH (a file or a directory; relative to the current directory inside\n"
	"the project, or to the project root) back as it was in a snapshot.\n"
	"\n"
	"Without --to it is written into the project, over what is there now; a\n"
	"safety snapshot of the project is taken first, so the restore can itself\n"
	"be undone.  A directory is merged: files it held are replaced, files\n"
	"created since are left alone.  Each file is written to a temporary name\n"
	"and renamed, so no half-written file is ever left behind.\n"
	"\n"
	"  -f, --from WHEN      the snapshot (default: latest): a name, 'latest', a tag,\n"
	"                       '2026-02-14', '2026-02-14T10:30', 'yesterday 14:00',\n"
	"                       '3 days ago', '2h ago' (the newest at or before it)\n"
	"  -t, --to DEST        write elsewhere (created if missing; no safety snapshot):\n"
	"                       a directory becomes DEST; a file goes into DEST if DEST\n"
	"                       is a directory or ends in '/', else it is written as DEST\n"
	"  -n, --dry-run        list what would be written, write nothing\n"
	"      --db NAME        restore server database NAME (see @databases/RESTORE.txt)\n"
	"                       from its dump in the snapshot, after a safety snapshot\n"
	"                       with a fresh dump of its current state\n"
	"      --into OTHER     with --db: into database OTHER (created if missing)\n"
	"      --table T        with a SQLite FILE of the project: only table T's rows,\n"
	"                       replaced from the snapshot's copy in one transaction\n"
	"                       (repeatable); other tables untouched; refused if T's\n"
	"                       schema differs; a safety snapshot first.  With --db\n"
	"                       (Postgres): T truncated and reloaded from the dump in\n"
	"                       one transaction, its live schema kept\n"
	"  -p, --project NAME   a project other than the current directory's\n"
	"  -h, --help           this help\n";

struct report_ctx {
	bool dry_run;
	const char *prefix; /* shown before each dry-run path */
	bool skip_dumps;    /* leave out the snapshot's own @databases */
	bool skipped_dumps; /* ... and it was there */
};

/* `restore .` into the project leaves out the @databases folder of a
 * snapshot with server dumps (issue 8): dumps and RESTORE.txt are not the
 * project's files, and `git add -A` would pick them up.  Asked for by path
 * (`restore @databases/...`) or with --to, it is restored. */
static bool skip_top(void *ctx, const struct node *n)
{
	struct report_ctx *c = ctx;
	if (!c->skip_dumps || n->type != NODE_DIR || !n->name || strcmp(n->name, DUMPER_FOLDER) != 0)
		return false;
	c->skipped_dumps = true;
	return true;
}

static void on_report(void *ctx, const char *relpath, const struct node *n)
{
	struct report_ctx *c = ctx;
	if (!c->dry_run)
		return;
	char *p = out_printable(relpath);
	printf("  %s%s%s\n", c->prefix, p ? p : relpath, n->type == NODE_DIR ? "/" : "");
	free(p);
}

static void on_warn(void *ctx, const char *relpath, int err, const char *what)
{
	struct report_ctx *c = ctx;
	char *p = out_printable(relpath);
	/* "exists and is a FIFO: left alone" says it all: no "File exists". */
	if (err && strncmp(what, "exists and is ", 14) != 0)
		out_err("%s%s: %s: %s", c->prefix, p ? p : relpath, what, strerror(-err));
	else
		out_err("%s%s: %s", c->prefix, p ? p : relpath, what);
	free(p);
}

static void print_summary(bool dry_run, const char *what, const struct snapshot *s,
			  const char *dest, const struct restore_stats *st)
{
	char a[OUT_BUF], b[OUT_BUF];
	char *w = out_printable(what), *d = out_printable(dest);
	printf("%s %s from %s %s into %s: %s %s", dry_run ? "would restore" : "restored",
	       w ? w : what, s->project, s->name, d ? d : dest, out_count(st->files, a),
	       st->files == 1 ? "file" : "files");
	if (st->dirs)
		printf(", %s %s", out_count(st->dirs, a), st->dirs == 1 ? "directory" : "directories");
	if (st->symlinks)
		printf(", %s %s", out_count(st->symlinks, a), st->symlinks == 1 ? "symlink" : "symlinks");
	if (st->other)
		printf(", %s other", out_count(st->other, a));
	printf(", %s", out_size(st->bytes, b));
	if (st->errors)
		printf(", %s failed", out_count(st->errors, a));
	putchar('\n');
	free(w);
	free(d);
}

/* restore --db NAME: a server database from its dump. */
static int restore_database(const char *db, const char *from, const char *into,
			    const char *const *tables, size_t ntables, const char *project, bool dry_run)
{
	struct repo *repo = NULL;
	struct project p = {0};
	int r = cli_open_repo(dry_run ? REPO_READ : REPO_WRITE, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	int status = EXIT_ERROR;
	if ((r = cli_find_project(repo, NULL, project, &p)) < 0)
		out_store_err(r, "restore");
	else
		status = restore_db(repo, &p, db, from, into, tables, ntables, dry_run);
	project_clear(&p);
	repo_close(repo);
	return status;
}

/* What PATH names in the snapshot: relative to the current directory when
 * that is inside the project, else to the project root.  Fills rel (the
 * path inside the project), *s and *node; 0, or an exit status after the
 * message. */
static int find_node(struct repo *repo, const struct project *p, const char *path,
		     const char *from, char rel[PATH_MAX], struct snapshot *s, struct node *node)
{
	char rel_root[PATH_MAX];
	const char *base = "";
	char *cwd = realpath(".", NULL);
	size_t rootlen = strlen(p->root);
	if (cwd && !strncmp(cwd, p->root, rootlen) && (cwd[rootlen] == '/' || !cwd[rootlen]))
		base = cwd + rootlen;
	int r = dest_relpath(p->root, base, path, rel, PATH_MAX);
	bool in_subdir = *base != '\0';
	if (r == 0 && in_subdir)
		r = dest_relpath(p->root, "", path, rel_root, sizeof rel_root);
	else
		rel_root[0] = '\0';
	free(cwd);
	if (r < 0) {
		out_err("restore: %s: %s", path,
			r == -EXDEV ? "not inside the project" : r == -EINVAL ? "leads outside the project" : strerror(-r));
		return EXIT_ERROR;
	}
	if ((r = cli_resolve_when(repo, p, from, out_now_ns(), s)) < 0)
		return out_store_err(r, "restore");
	r = tree_resolve(repo, &s->root, rel, node);
	if (r == -ENOENT && in_subdir && path[0] != '/' && strcmp(rel, rel_root) != 0) {
		store_error_clear();
		if ((r = tree_resolve(repo, &s->root, rel_root, node)) == 0)
			strcpy(rel, rel_root);
	}
	if (r == -ENOENT || r == -ENOTDIR) {
		out_err("restore: %s: not in snapshot %s %s", *rel ? rel : ".", p->name, s->name);
		return EXIT_ERROR;
	}
	return r < 0 ? out_store_err(r, "restore") : 0;
}

/* Before writing into the project: a snapshot of it as it is now. */
static int safety_snapshot(struct repo *repo, const struct project *p, const char *what,
			   struct take_result *ret)
{
	struct stat st;
	if (stat(p->root, &st) < 0)
		return 0; /* nothing there to keep */
	char msg[PATH_MAX + 32];
	snprintf(msg, sizeof msg, "before restore of %s", what);
	struct take_req req = {.root = p->root, .message = msg};
	int r = take_snapshot(repo, &req, ret);
	if (r < 0) {
		out_store_err(r, "restore: safety snapshot");
		out_err("restore: nothing restored (the safety snapshot failed)");
		return EXIT_ERROR;
	}
	printf("safety snapshot %s %s (%s)\n", p->name, ret->snap.name, msg);
	return 0;
}

static int restore_args(int argc, char **argv, const char **tables, size_t ntables, const char *db,
			const char *into, const char *to, const char *from, const char *project,
			bool dry_run);

int cmd_restore(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"dry-run", no_argument, NULL, 'n'},
		{"project", required_argument, NULL, 'p'},
		{"db", required_argument, NULL, 'D'},
		{"into", required_argument, NULL, 'I'},
		{"table", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *from = NULL, *to = NULL, *project = NULL, *db = NULL, *into = NULL;
	const char **tables = calloc((size_t)argc, sizeof *tables);
	size_t ntables = 0;
	bool dry_run = false;
	int c;
	if (!tables) {
		out_err("restore: out of memory");
		return EXIT_ERROR;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:t:np:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'n': dry_run = true; break;
		case 'p': project = optarg; break;
		case 'D': db = optarg; break;
		case 'I': into = optarg; break;
		case 'T': tables[ntables++] = optarg; break;
		case 'h': free(tables); fputs(usage_text, stdout); return EXIT_OK;
		default: free(tables); return cli_bad_option("restore", c, optopt, argv, optind);
		}
	}
	int st = restore_args(argc, argv, tables, ntables, db, into, to, from, project, dry_run);
	free(tables);
	return st;
}

/* The checks of cmd_restore's arguments, then the restore they ask for. */
static int restore_args(int argc, char **argv, const char **tables, size_t ntables, const char *db,
			const char *into, const char *to, const char *from, const char *project,
			bool dry_run)
{
	if (ntables && to)
		return cli_usage_error("restore", "--table goes with a SQLite FILE of the project or with "
						  "--db, not with --to");
	for (size_t i = 0; i < ntables; i++)
		if (!*tables[i])
			return cli_usage_error("restore", "--table: empty");
	if (into && !db)
		return cli_usage_error("restore", "--into goes with --db");
	if (db) {
		if (argc != optind || to)
			return cli_usage_error("restore", "--db restores a database: no PATH or --to with it");
		if (!*db || (into && !*into))
			return cli_usage_error("restore", "--db/--into: empty");
		return restore_database(db, from, into, tables, ntables, project, dry_run);
	}
	if (argc - optind != 1)
		return cli_usage_error("restore", argc == optind ? "which PATH?" : "one PATH at a time");
	if (to && !*to)
		return cli_usage_error("restore", "--to: empty");
	const char *path = argv[optind];
	bool into_project = !to;

	struct repo *repo = NULL;
	struct project p = {0};
	struct snapshot s = {0};
	struct node node = {0};
	struct take_result safety = {0};
	struct dest d = {.dirfd = -1};
	char rel[PATH_MAX];
	int status = EXIT_ERROR, r;

	/* Only a restore into the project writes to the repository (the safety
	 * snapshot); the others read alongside a running snap. */
	r = cli_open_repo(into_project && !dry_run ? REPO_WRITE : REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = cli_find_project_of_path(repo, path, project, &p)) < 0) {
		status = out_store_err(r, "restore");
		goto out;
	}
	if ((status = find_node(repo, &p, path, from, rel, &s, &node)) != 0)
		goto out;
	if (ntables) {
		status = restore_sqlite_tables(repo, &p, rel, &s, &node, tables, ntables, dry_run);
		goto out;
	}
	status = EXIT_ERROR;
	const char *what = *rel ? rel : ".";
	if (into_project && !dry_run && safety_snapshot(repo, &p, what, &safety) != 0)
		goto out;
	r = into_project ? dest_in_project(p.root, rel, dry_run, &d)
			 : dest_to(to, rel, node.type == NODE_DIR, dry_run, &d);
	if (r < 0) {
		out_err("restore: %s", d.err);
		goto out;
	}

	/* Paths restore_node reports start at d.name, inside d.dir. */
	struct report_ctx rc = {.dry_run = dry_run,
				.prefix = d.dir,
				.skip_dumps = into_project && !*rel && dumper_notes_have_folder(s.notes)};
	struct restore_opts ro = {
		.dry_run = dry_run, .ctx = &rc, .report = on_report, .warn = on_warn, .skip_top = skip_top};
	struct restore_stats rs = {0};
	bool marked = into_project && !dry_run;
	if (marked)
		restoremark_begin(p.root); /* a watch on the project ignores these writes */
	r = restore_node(repo, &node, d.dirfd, d.name, &ro, &rs);
	if (marked)
		restoremark_end(p.root);
	print_summary(dry_run, what, &s, d.show, &rs);
	if (rc.skipped_dumps)
		printf("left out %s/ (the snapshot's database dumps): restore it by path "
		       "(ckptfs restore %s --to DIR) or a database with --db NAME\n",
		       DUMPER_FOLDER, DUMPER_FOLDER);
	if (r < 0) {
		if (!rs.errors)
			out_store_err(r, "restore");
		goto out;
	}
	status = EXIT_OK;
out:
	if (d.dirfd >= 0)
		close(d.dirfd);
	take_result_clear(&safety);
	node_clear(&node);
	snapshot_clear(&s);
	project_clear(&p);
	cli_close_repo(repo, false);
	return status;
}
