/* cmd_show.c — ckptfs show: one snapshot's metadata and what it changed. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "store/json_lite.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/output.h"
#include "store/catalog.h"
#include "store/diff.h"
#include "store/repo.h"

static const char usage_text[] =
	"usage: ckptfs show [WHEN] [--project NAME] [--all] [--json]\n"
	"\n"
	"Show one snapshot of the project containing the current directory\n"
	"(default: the latest): why it was taken, tag, git HEAD, sizes, status,\n"
	"the databases captured and how their checks went, the paths that could\n"
	"not be stored as they were, and the files changed since the snapshot\n"
	"before it.\n"
	"WHEN is a snapshot name, 'latest', a tag, a date or time\n"
	"('2026-02-14', '2026-02-14T10:30', 'yesterday 14:00') or a relative\n"
	"phrase ('3 days ago', '2h ago'): the newest snapshot at or before it.\n"
	"\n"
	"  -p, --project NAME   a project other than the current directory's\n"
	"  -a, --all            list every changed path (default: the first 50)\n"
	"      --json           a JSON object (changes capped at 1000 paths)\n"
	"  -h, --help           this help\n";

#define SHOW_TEXT_MAX 50
#define SHOW_JSON_MAX 1000

struct change_list {
	uint64_t added, modified, deleted;
	size_t keep; /* how many paths to keep */
	size_t n, alloc;
	char *kinds;
	char **paths;
};

static int on_change(void *ctx, enum diff_kind kind, const char *path, const struct node *n)
{
	struct change_list *c = ctx;
	/* A directory's mtime changes whenever its contents do: listing it
	 * as modified would only repeat what its entries say. */
	if (kind == DIFF_MODIFIED && n->type == NODE_DIR)
		return 0;
	if (kind == DIFF_ADDED)
		c->added++;
	else if (kind == DIFF_MODIFIED)
		c->modified++;
	else
		c->deleted++;
	if (c->n < c->keep) {
		if (c->n == c->alloc) {
			size_t na = c->alloc ? c->alloc * 2 : 64;
			char *k = realloc(c->kinds, na);
			if (!k)
				return -ENOMEM;
			c->kinds = k;
			char **p = realloc(c->paths, na * sizeof *p);
			if (!p)
				return -ENOMEM;
			c->paths = p;
			c->alloc = na;
		}
		bool dir = n->type == NODE_DIR;
		char *p = malloc(strlen(path) + 2);
		if (!p)
			return -ENOMEM;
		strcpy(p, path);
		if (dir)
			strcat(p, "/");
		c->kinds[c->n] = (char)kind;
		c->paths[c->n++] = p;
	}
	return 0;
}

static void change_list_free(struct change_list *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->paths[i]);
	free(c->paths);
	free(c->kinds);
}

/* The drills of the databases captured with the snapshot, if any. */
static void print_databases(const char *notes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	int n = dumper_notes_print(f, notes);
	if (fclose(f) == 0 && n > 0)
		printf("databases\n%s", text);
	free(text);
}

/* The paths the snapshot did not store as they were, one a line:
 *   "  secret.txt: cannot open: Permission denied"
 * (take.c records the first few of them and how many there were). */
static void print_warnings(const char *notes)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return; /* print_databases has said the notes are unreadable */
	double total = jv_num(&v, "warnings", 0);
	const struct jv *paths = jv_get(&v, "paths");
	size_t shown = 0;
	if (total > 0)
		printf("warnings\n");
	for (size_t i = 0; paths && paths->t == J_ARR && i < paths->n; i++) {
		const struct jv *w = &paths->items[i];
		const char *path = jv_str(w, "path"), *what = jv_str(w, "what");
		const char *why = jv_str(w, "error");
		char *p = out_printable(path ? path : "?");
		printf("  %s: %s%s%s\n", p ? p : "?", what ? what : "?", why ? ": " : "",
		       why ? why : "");
		free(p);
		shown++;
	}
	if (total > (double)shown)
		printf("  … and %.0f more (see the messages of the snap that took it)\n",
		       total - (double)shown);
	jv_clear(&v);
}

static void print_text(const struct snapshot *s, const struct snapshot *prev,
		       const struct change_list *ch, int64_t now)
{
	char a[OUT_BUF], b[OUT_BUF], git[128], hex[ID_HEX_LEN + 1];
	printf("snapshot   %s %s\n", s->project, s->name);
	printf("time       %s (%s)\n", out_local_time(s->time_ns, true, a), out_age(now - s->time_ns, b));
	printf("status     %s\n", cli_status_name(s->status));
	if (s->message) {
		char *m = out_printable(s->message);
		printf("message    %s\n", m ? m : "");
		free(m);
	}
	if (s->tag) {
		char *t = out_printable(s->tag);
		printf("tag        %s\n", t ? t : "");
		free(t);
	}
	if (s->git_commit || s->git_branch)
		printf("git        %s%s%s\n", s->git_branch ? s->git_branch : "(detached)",
		       s->git_commit ? " " : " (no commit yet)", s->git_commit ? s->git_commit : "");
	printf("contents   %s %s, %s %s, %s\n", out_count(s->stats.files, a),
	       s->stats.files == 1 ? "file" : "files", out_count(s->stats.dirs, b),
	       s->stats.dirs == 1 ? "directory" : "directories", out_size(s->stats.bytes, git));
	printf("added      %s stored in %s new blobs\n", out_size(s->stats.new_bytes, a),
	       out_count(s->stats.new_blobs, b));
	printf("read       %s of file contents (the rest came unread from the files cache)\n",
	       out_size(s->stats.read_bytes, a));
	printf("took       %s\n", out_duration(s->stats.duration_ns, a));
	id_to_hex(&s->root, hex);
	printf("root tree  %s\n", hex);
	print_databases(s->notes);
	print_warnings(s->notes);
	if (!prev) {
		printf("\nfirst snapshot of %s\n", s->project);
		return;
	}
	uint64_t total = ch->added + ch->modified + ch->deleted;
	printf("\nchanges since %s: %llu added, %llu modified, %llu deleted\n", prev->name,
	       (unsigned long long)ch->added, (unsigned long long)ch->modified,
	       (unsigned long long)ch->deleted);
	for (size_t i = 0; i < ch->n; i++) {
		char *p = out_printable(ch->paths[i]);
		printf("  %c %s\n", ch->kinds[i], p ? p : "");
		free(p);
	}
	if (total > ch->n)
		printf("  … and %llu more\n", (unsigned long long)(total - ch->n));
}

static void print_json(const struct snapshot *s, const struct snapshot *prev,
		       const struct change_list *ch)
{
	fputs("{\"snapshot\": ", stdout);
	cli_json_snapshot(stdout, s);
	fputs(",\n \"changes\": ", stdout);
	if (!prev) {
		fputs("null}\n", stdout);
		return;
	}
	fputs("{\"previous\": ", stdout);
	out_json_str(stdout, prev->name);
	uint64_t total = ch->added + ch->modified + ch->deleted;
	printf(", \"added\": %llu, \"modified\": %llu, \"deleted\": %llu, \"truncated\": %s, "
	       "\"paths\": [",
	       (unsigned long long)ch->added, (unsigned long long)ch->modified,
	       (unsigned long long)ch->deleted, total > ch->n ? "true" : "false");
	for (size_t i = 0; i < ch->n; i++) {
		printf("%s{\"kind\": \"%c\", \"path\": ", i ? ", " : "", ch->kinds[i]);
		out_json_str(stdout, ch->paths[i]);
		putchar('}');
	}
	fputs("]}}\n", stdout);
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"project", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *project = NULL;
	bool json = false, all = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': project = optarg; break;
		case 'a': all = true; break;
		case 'J': json = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: return cli_bad_option("show", c, optopt, argv, optind);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("show", "one WHEN at most (quote phrases: '3 days ago')");
	const char *when = optind < argc ? argv[optind] : NULL;

	struct repo *repo = NULL;
	struct project p = {0};
	struct snapshot s = {0}, *all_snaps = NULL;
	size_t n = 0;
	struct change_list ch = {0};
	int status = EXIT_ERROR;
	int64_t now = out_now_ns();
	int r = cli_open_repo(REPO_READ, &repo);
	if (r < 0)
		return out_store_err(r, "repository");
	if ((r = cli_find_project(repo, NULL, project, &p)) < 0 ||
	    (r = cli_resolve_when(repo, &p, when, now, &s)) < 0 ||
	    (r = catalog_snapshots(repo, p.id, &all_snaps, &n)) < 0) {
		status = out_store_err(r, "show");
		goto out;
	}
	/* The previous snapshot: the next older one in the newest-first list. */
	const struct snapshot *prev = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if (all_snaps[i].id == s.id) {
			prev = &all_snaps[i + 1];
			break;
		}
	if (prev) {
		ch.keep = json ? SHOW_JSON_MAX : all ? SIZE_MAX : SHOW_TEXT_MAX;
		if ((r = diff_trees(repo, &prev->root, &s.root, on_change, &ch)) < 0) {
			if (r == -ENOMEM)
				out_err("show: out of memory");
			else
				status = out_store_err(r, "show");
			goto out;
		}
	}
	if (json)
		print_json(&s, prev, &ch);
	else
		print_text(&s, prev, &ch, now);
	status = EXIT_OK;
out:
	change_list_free(&ch);
	snapshots_free(all_snaps, n);
	snapshot_clear(&s);
	project_clear(&p);
	cli_close_repo(repo, false);
	return status;
}
