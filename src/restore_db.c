/* restore_db.c — see restore_db.h. */
#include "src/restore_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpers/dumpers.h"
#include "src/cli.h"
#include "src/output.h"
#include "src/take.h"
#include "store/err.h"
#include "store/tree.h"

/* Say so when the dump's migration version is not the one the live
 * database (which today's code expects) is at.  Only a warning: going
 * back to an older schema is what a restore after a bad migration does. */
static void warn_schema(struct dumper_session *ds, const char *name, const struct snapshot *s)
{
	char *then = NULL, *now = NULL;
	if (dumper_notes_db_schema(s->notes, name, &then) < 0 || !then)
		goto out;
	if (dumper_session_live_schema(ds, name, &now) < 0) {
		store_error_clear(); /* the restore itself will say if it cannot connect */
		goto out;
	}
	if (now && strcmp(then, now) != 0)
		out_err("restore: database %s: schema differs: the snapshot holds %s, the live database "
			"is at %s (code written for the live schema may fail on the restored one)",
			name, then, now);
out:
	free(then);
	free(now);
}

/* "acct, orders" for messages (malloc'd; NULL on ENOMEM). */
static char *table_list(const char *const *tables, size_t n)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", tables[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int restore_db(struct repo *repo, const struct project *p, const char *name, const char *when,
	       const char *into, const char *const *tables, size_t ntables, bool dry_run)
{
	char *tl = ntables ? table_list(tables, ntables) : NULL;
	char what[512];
	snprintf(what, sizeof what, "%s%s%s%s", ntables > 1 ? "tables " : ntables ? "table " : "",
		 tl ? tl : "", ntables ? " of database " : "database ", name);
	free(tl);
	struct dumper_session *ds = NULL;
	struct snapshot s = {0};
	struct node node = {0};
	struct take_result safety = {0};
	char *file = NULL, *path = NULL, *why = NULL;
	int status = EXIT_ERROR, r;

	/* The database's connection comes from the project as it is now. */
	if ((r = dumper_session_new(p->root, &ds)) < 0 ||
	    (r = dumper_session_dump_file(ds, name, &file)) < 0 ||
	    (ntables && (r = dumper_session_tables_ok(ds, name)) < 0)) {
		out_store_err(r, "restore");
		goto out;
	}
	if ((r = cli_resolve_when(repo, p, when, out_now_ns(), &s)) < 0) {
		out_store_err(r, "restore");
		goto out;
	}
	if (asprintf(&path, "%s/%s", DUMPER_FOLDER, file) < 0) {
		path = NULL;
		out_err("restore: out of memory");
		goto out;
	}
	r = tree_resolve(repo, &s.root, path, &node);
	if (r == -ENOENT || r == -ENOTDIR) {
		if (dumper_notes_db_status(s.notes, name, &why) == 0)
			out_err("restore: database %s: not dumped in snapshot %s %s: %s", name, p->name,
				s.name, why);
		else
			out_err("restore: database %s: no %s in snapshot %s %s", name, path, p->name, s.name);
		goto out;
	}
	if (r < 0) {
		out_store_err(r, "restore");
		goto out;
	}
	char size[OUT_BUF];
	warn_schema(ds, name, &s);
	if (dry_run) {
		printf("would restore %s from %s %s (%s, %s) into %s\n", what, p->name, s.name,
		       path, out_size(node.size, size), into ? into : "its database");
		status = EXIT_OK;
		goto out;
	}

	char msg[512];
	snprintf(msg, sizeof msg, "before restore --db %s%s%s%s", name, ntables ? " --table" : "",
		 into ? " --into " : "", into ? into : "");
	struct take_req req = {.root = p->root, .message = msg, .quiet = true};
	if ((r = take_snapshot(repo, &req, &safety)) < 0) {
		out_store_err(r, "restore: safety snapshot");
		out_err("restore: nothing restored (the safety snapshot failed)");
		goto out;
	}
	printf("safety snapshot %s %s (%s)\n", p->name, safety.snap.name, msg);
	free(why);
	why = NULL;
	if (!into && dumper_notes_db_status(safety.snap.notes, name, &why) != 1) {
		/* Overwriting a database whose current state could not be saved
		 * would make the restore impossible to undo. */
		out_err("restore: database %s: nothing restored: its current state could not be dumped%s%s",
			name, why ? ": " : "", why ? why : "");
		goto out;
	}
	r = ntables ? dumper_session_restore_tables(ds, repo, &node, name, tables, ntables, into)
		    : dumper_session_restore(ds, repo, &node, name, into);
	if (r < 0) {
		out_store_err(r, "restore");
		out_err("restore: %s: the restore failed%s; its state before is in snapshot %s %s", what,
			ntables ? " (nothing changed: one transaction)" : "", p->name, safety.snap.name);
		goto out;
	}
	printf("restored %s from %s %s (%s) into %s\n", what, p->name, s.name,
	       out_size(node.size, size), into ? into : "its database");
	status = EXIT_OK;
out:
	take_result_clear(&safety);
	node_clear(&node);
	snapshot_clear(&s);
	dumper_session_free(ds);
	free(file);
	free(path);
	free(why);
	return status;
}
