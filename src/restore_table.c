/* restore_table.c — see restore_table.h. */
#include "src/restore_table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/dumpers.h"
#include "dumpers/tmpdir.h"
#include "src/output.h"
#include "src/restoremark.h"
#include "src/take.h"
#include "store/content.h"
#include "store/err.h"

/* The snapshot's copy of the database, into a file in the private dir. */
static int extract(struct repo *repo, const struct node *node, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_failp(-errno, "%s", path);
	enum { BUF = 1 << 20 };
	char *buf = malloc(BUF);
	int r = buf ? 0 : -ENOMEM;
	for (uint64_t off = 0; r == 0 && off < node->size;) {
		ssize_t n = content_read(repo, node, off, buf, BUF);
		if (n <= 0) {
			r = n < 0 ? (int)n : store_fail(-EIO, "%s: short read from the repository", path);
			break;
		}
		for (ssize_t done = 0; r == 0 && done < n;) {
			ssize_t k = write(fd, buf + done, (size_t)(n - done));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				r = store_failp(-errno, "%s", path);
			else
				done += k;
		}
		off += (uint64_t)n;
	}
	free(buf);
	close(fd);
	return r;
}

static void print_tables(const struct dumper_table_restore *t, bool dry_run, const char *rel,
			 const struct project *p, const struct snapshot *s)
{
	char a[OUT_BUF], b[OUT_BUF];
	char *f = out_printable(rel);
	for (size_t i = 0; i < t->n; i++) {
		char *name = out_printable(t->tables[i].name);
		printf("%s table %s of %s from %s %s: %s rows (%s %s)\n",
		       dry_run ? "would restore" : "restored", name ? name : "?", f ? f : rel, p->name,
		       s->name, out_count(dry_run ? t->tables[i].snap_rows : t->tables[i].restored_rows, a),
		       dry_run ? "now" : "were", out_count(t->tables[i].live_rows, b));
		free(name);
	}
	free(f);
}

int restore_sqlite_tables(struct repo *repo, const struct project *p, const char *rel,
			  const struct snapshot *s, const struct node *node,
			  const char *const *tables, size_t n, bool dry_run)
{
	char *dir = NULL, *copy = NULL, *live = NULL;
	struct dumper_table_restore check = {0}, done = {0};
	struct take_result safety = {0};
	int status = EXIT_ERROR, r;
	if (node->type != NODE_FILE || !(node->flags & NODE_F_DB_COPY)) {
		out_err("restore: %s: not a SQLite database ckptfs captured in snapshot %s %s "
			"(--table restores tables of one)", rel, p->name, s->name);
		return EXIT_ERROR;
	}
	if (asprintf(&live, "%s/%s", p->root, rel) < 0) {
		live = NULL;
		goto nomem;
	}
	if (access(live, R_OK | W_OK) < 0) {
		out_err("restore: %s: %s (restore the whole file without --table)", rel, strerror(errno));
		goto out;
	}
	if ((r = dumper_tmp_make(&dir)) < 0 || asprintf(&copy, "%s/table-restore.db", dir) < 0 ||
	    (r = extract(repo, node, copy)) < 0) {
		if (!copy)
			goto nomem;
		out_store_err(r, "restore");
		goto out;
	}
	/* Every table checked before anything is written, the safety
	 * snapshot included. */
	if ((r = dumper_sqlite_restore_tables(live, copy, rel, tables, n, true, &check)) < 0) {
		out_store_err(r, "restore");
		goto out;
	}
	if (dry_run) {
		print_tables(&check, true, rel, p, s);
		status = EXIT_OK;
		goto out;
	}
	char msg[PATH_MAX + 64];
	snprintf(msg, sizeof msg, "before restore %s --table %s%s", rel, tables[0], n > 1 ? " …" : "");
	struct take_req req = {.root = p->root, .message = msg, .quiet = true};
	if ((r = take_snapshot(repo, &req, &safety)) < 0) {
		out_store_err(r, "restore: safety snapshot");
		out_err("restore: nothing restored (the safety snapshot failed)");
		goto out;
	}
	printf("safety snapshot %s %s (%s)\n", p->name, safety.snap.name, msg);
	restoremark_begin(p->root);
	r = dumper_sqlite_restore_tables(live, copy, rel, tables, n, false, &done);
	restoremark_end(p->root);
	if (r < 0) {
		out_store_err(r, "restore");
		out_err("restore: %s: nothing restored; the tables as they were are in snapshot %s %s", rel,
			p->name, safety.snap.name);
		goto out;
	}
	print_tables(&done, false, rel, p, s);
	status = EXIT_OK;
	goto out;
nomem:
	out_err("restore: out of memory");
out:
	dumper_table_restore_clear(&check);
	dumper_table_restore_clear(&done);
	take_result_clear(&safety);
	if (dir)
		dumper_tmp_remove(dir);
	free(dir);
	free(copy);
	free(live);
	return status;
}
