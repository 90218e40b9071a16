/* diff_show.c — one changed path as a patch (see diff_show.h).
 *
 * Text diffs are diff(1) -u's, run on two memfds holding the two sides:
 * nothing is written to disk (a snapshot's .env never lands in /tmp) and
 * the labels follow git (a/PATH, b/PATH, /dev/null).  A SQLite database on
 * either side is opened from such a memfd (immutable, read-only) and
 * summarised per table.
 */
#include "src/diff_show.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/output.h"
#include "store/content.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/tree.h"

/* Files larger than this are summarised, not diffed line by line. */
#define DSHOW_TEXT_MAX (16u << 20)
#define DSHOW_SNIFF 8000

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_CYAN "\033[36m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[m"

struct buf {
	uint8_t *p;
	size_t len;
	bool too_big;
};

static int read_side(struct repo *repo, const struct dside *s, struct buf *out)
{
	*out = (struct buf){0};
	if (!s->n || s->n->type != NODE_FILE)
		return 0;
	if (s->n->size > DSHOW_TEXT_MAX) {
		out->too_big = true;
		return 0;
	}
	size_t cap = (size_t)s->n->size;
	out->p = malloc(cap + 1);
	if (!out->p)
		return store_fail(-ENOMEM, "diff: out of memory");
	if (!s->file) {
		ssize_t n = content_read(repo, s->n, 0, out->p, cap);
		if (n < 0)
			return (int)n;
		out->len = (size_t)n;
		return 0;
	}
	int fd = open(s->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "%s", s->file);
	while (out->len < cap) {
		ssize_t n = read(fd, out->p + out->len, cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank meanwhile: what is there */
		out->len += (size_t)n;
	}
	close(fd);
	return 0;
}

static bool is_sqlite(const struct buf *b)
{
	return b->len >= 16 && memcmp(b->p, "SQLite format 3", 16) == 0;
}

static bool is_binary(const struct buf *b)
{
	size_t n = b->len < DSHOW_SNIFF ? b->len : DSHOW_SNIFF;
	return b->too_big || (n && memchr(b->p, 0, n) != NULL);
}

static int memfd_of(const struct buf *b)
{
	int fd = memfd_create("ckptfs-diff", 0);
	if (fd < 0)
		return -errno;
	if (b->len && fio_write_all(fd, b->p, b->len) < 0) {
		int e = -errno;
		close(fd);
		return e ? e : -EIO;
	}
	return fd;
}

/* diff -u of a and b into *out (malloc'd).  0 or negative. */
static int run_diff(const struct buf *a, const struct buf *b, const char *la, const char *lb,
		    char **out, size_t *outlen)
{
	int fa = memfd_of(a), fb = fa >= 0 ? memfd_of(b) : -1, pipefd[2] = {-1, -1};
	int r = 0;
	if (fa < 0 || fb < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		r = store_failp(fa < 0 ? fa : fb < 0 ? fb : -errno, "diff: setting up diff(1)");
		goto out;
	}
	char pa[32], pb[32];
	snprintf(pa, sizeof pa, "/dev/fd/%d", fa);
	snprintf(pb, sizeof pb, "/dev/fd/%d", fb);
	pid_t pid = fork();
	if (pid < 0) {
		r = store_failp(-errno, "diff: fork");
		goto out;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, pa, pb, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	FILE *mem = open_memstream(out, outlen);
	char chunk[65536];
	for (ssize_t n; (n = read(pipefd[0], chunk, sizeof chunk)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (mem)
			fwrite(chunk, 1, (size_t)n, mem);
	}
	int wst;
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (mem)
		fclose(mem);
	if (!mem)
		r = store_fail(-ENOMEM, "diff: out of memory");
	else if (!WIFEXITED(wst) || WEXITSTATUS(wst) > 1) {
		r = store_fail(-EIO, "diff: diff(1) failed (exit %d); is diffutils installed?",
			       WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
		free(*out);
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}

static void print_patch_text(FILE *f, const char *text, size_t len, bool colour,
			     struct dshow_stat *st)
{
	const char *p = text, *end = text + len;
	bool header = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		const char *col = NULL;
		if (header && (l >= 4 && (!memcmp(p, "--- ", 4) || !memcmp(p, "+++ ", 4))))
			col = C_BOLD;
		else if (l >= 2 && p[0] == '@' && p[1] == '@') {
			header = false;
			col = C_CYAN;
		} else if (!header && p[0] == '+') {
			st->added++;
			col = C_GREEN;
		} else if (!header && p[0] == '-') {
			st->deleted++;
			col = C_RED;
		}
		if (f) {
			if (colour && col) {
				fputs(col, f);
				fwrite(p, 1, nl ? l - 1 : l, f);
				fputs(C_OFF "\n", f);
			} else {
				fwrite(p, 1, l, f);
				if (!nl)
					fputc('\n', f);
			}
		}
		p += l;
	}
}

/* ---- SQLite ---------------------------------------------------------- */

struct table {
	char *name, *sql;
	long long rows;
};

static int db_tables(const struct buf *b, struct table **ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	if (!b->p || b->len == 0)
		return 0; /* absent or empty: no tables */
	sqlite3 *db = NULL;
	int r = 0;
	/* The bytes as an in-memory database, read-only: nothing on disk. */
	unsigned char *copy = sqlite3_malloc64(b->len);
	if (!copy || sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_free(copy);
		r = store_fail(-ENOMEM, "diff: opening a database: out of memory");
		goto out;
	}
	if (b->len)
		memcpy(copy, b->p, b->len);
	if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)b->len, (sqlite3_int64)b->len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK) {
		r = store_fail(-EIO, "diff: cannot open a database: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db,
			       "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name "
			       "NOT LIKE 'sqlite_%' ORDER BY name",
			       -1, &q, NULL) != SQLITE_OK) {
		r = store_fail(-EIO, "diff: reading a database: %s", sqlite3_errmsg(db));
		goto out;
	}
	struct table *t = NULL;
	size_t n = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct table *nt = realloc(t, (n + 1) * sizeof *t);
		if (!nt)
			break;
		t = nt;
		const char *name = (const char *)sqlite3_column_text(q, 0);
		const char *sql = (const char *)sqlite3_column_text(q, 1);
		t[n].name = strdup(name ? name : "");
		t[n].sql = strdup(sql ? sql : "");
		t[n].rows = -1;
		char *cq = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", t[n].name);
		sqlite3_stmt *c;
		if (cq && sqlite3_prepare_v2(db, cq, -1, &c, NULL) == SQLITE_OK) {
			if (sqlite3_step(c) == SQLITE_ROW)
				t[n].rows = sqlite3_column_int64(c, 0);
			sqlite3_finalize(c);
		}
		sqlite3_free(cq);
		n++;
	}
	sqlite3_finalize(q);
	*ret = t;
	*ret_n = n;
out:
	sqlite3_close(db);
	return r;
}

static void tables_free(struct table *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].sql);
	}
	free(t);
}

static int print_sqlite(FILE *f, const struct buf *a, const struct buf *b)
{
	struct table *ta, *tb;
	size_t na, nb;
	int r = db_tables(a, &ta, &na);
	if (r < 0)
		return r;
	if ((r = db_tables(b, &tb, &nb)) < 0) {
		tables_free(ta, na);
		return r;
	}
	fputs("SQLite database: per table\n", f);
	size_t i = 0, j = 0, shown = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(ta[i].name, tb[j].name);
		char *name = out_printable(c <= 0 ? ta[i].name : tb[j].name);
		if (c < 0) {
			fprintf(f, "  table %s: deleted (%lld rows)\n", name, ta[i].rows);
			shown++;
			i++;
		} else if (c > 0) {
			fprintf(f, "  table %s: added (%lld rows)\n", name, tb[j].rows);
			shown++;
			j++;
		} else {
			if (strcmp(ta[i].sql, tb[j].sql) != 0) {
				fprintf(f, "  table %s: schema changed\n", name);
				shown++;
			}
			if (ta[i].rows != tb[j].rows) {
				fprintf(f, "  table %s: %lld -> %lld rows (%+lld)\n", name,
					ta[i].rows, tb[j].rows, tb[j].rows - ta[i].rows);
				shown++;
			}
			i++;
			j++;
		}
		free(name);
	}
	if (!shown)
		fputs("  same tables, schemas and row counts (rows changed in place)\n", f);
	tables_free(ta, na);
	tables_free(tb, nb);
	return 0;
}

/* ---- one path ---------------------------------------------------------- */

static unsigned git_mode(const struct node *n)
{
	switch (n->type) {
	case NODE_DIR:
		return 040000;
	case NODE_SYMLINK:
		return 0120000;
	default:
		return 0100000 | (n->mode & 07777);
	}
}

int dshow_patch(FILE *f, struct repo *repo, const char *path, const struct dside *a,
		const struct dside *b, bool colour, struct dshow_stat *st)
{
	struct dshow_stat dummy;
	struct buf ba = {0}, bb = {0};
	char *pp = out_printable(path), *la = NULL, *lb = NULL, *text = NULL;
	size_t tlen = 0;
	int r = 0;
	if (!st)
		st = &dummy;
	*st = (struct dshow_stat){.kind = DSHOW_NONE};
	if (!pp)
		return store_fail(-ENOMEM, "diff: out of memory");
	const struct node *na = a->n, *nb = b->n;
	if (f) {
		fprintf(f, "%sdiff --ckptfs a/%s b/%s%s\n", colour ? C_BOLD : "", pp, pp,
			colour ? C_OFF : "");
		if (!na)
			fprintf(f, "new %s mode %06o\n", nb->type == NODE_DIR ? "dir" : "file",
				git_mode(nb));
		else if (!nb)
			fprintf(f, "deleted %s mode %06o\n", na->type == NODE_DIR ? "dir" : "file",
				git_mode(na));
		else if (git_mode(na) != git_mode(nb))
			fprintf(f, "old mode %06o\nnew mode %06o\n", git_mode(na), git_mode(nb));
	}
	bool fa = !na || na->type == NODE_FILE, fb = !nb || nb->type == NODE_FILE;
	if (!(fa && fb)) {
		st->kind = DSHOW_OTHER;
		/* Links show their targets; other types their kind. */
		if (f && na && na->type == NODE_SYMLINK) {
			char *t = out_printable(na->target ? na->target : "");
			fprintf(f, "-symlink %s\n", t ? t : "");
			free(t);
		}
		if (f && nb && nb->type == NODE_SYMLINK) {
			char *t = out_printable(nb->target ? nb->target : "");
			fprintf(f, "+symlink %s\n", t ? t : "");
			free(t);
		}
		goto out;
	}
	if ((r = read_side(repo, a, &ba)) < 0 || (r = read_side(repo, b, &bb)) < 0)
		goto out;
	if (!ba.too_big && !bb.too_big && na && nb && ba.len == bb.len &&
	    (ba.len == 0 || memcmp(ba.p, bb.p, ba.len) == 0)) {
		st->content_same = true;
		goto out; /* only the mode changed */
	}
	if (is_sqlite(&ba) || is_sqlite(&bb)) {
		st->kind = DSHOW_SQLITE;
		if (f)
			r = print_sqlite(f, &ba, &bb);
		goto out;
	}
	if (is_binary(&ba) || is_binary(&bb)) {
		char s1[OUT_BUF], s2[OUT_BUF];
		st->kind = DSHOW_BINARY;
		if (f)
			fprintf(f, "Binary files %s%s and %s%s differ (%s -> %s)\n", na ? "a/" : "",
				na ? pp : "/dev/null", nb ? "b/" : "", nb ? pp : "/dev/null",
				out_size(na ? na->size : 0, s1), out_size(nb ? nb->size : 0, s2));
		goto out;
	}
	st->kind = DSHOW_TEXT;
	if (asprintf(&la, "%s%s", na ? "a/" : "", na ? pp : "/dev/null") < 0 ||
	    asprintf(&lb, "%s%s", nb ? "b/" : "", nb ? pp : "/dev/null") < 0) {
		la = lb = NULL;
		r = store_fail(-ENOMEM, "diff: out of memory");
		goto out;
	}
	if ((r = run_diff(&ba, &bb, la, lb, &text, &tlen)) == 0) {
		print_patch_text(f, text, tlen, colour, st);
		free(text);
	}
out:
	free(la);
	free(lb);
	free(ba.p);
	free(bb.p);
	free(pp);
	return r;
}
