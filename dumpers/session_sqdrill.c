/* session_sqdrill.c — the drill of a SQLite capture, on a thread of its own.
 *
 * A capture is a private copy, immutable once made, so its drill
 * (integrity_check or quick_check, then a count of every table: CPU over a
 * file in the page cache, ~1 s for the bench's 213 MB database) need not
 * hold up the walk: it runs beside the store of the same copy and the rest
 * of the walk (the bench's hour of work reads a changed 1 GiB log next,
 * which waits on the disk with a core to spare).  Only its verdict is
 * needed, and only for the notes and the exit status, so the record is
 * made at once and the verdict filled in when the session is asked for its
 * result or notes.  One drill runs at a time: the next capture waits for
 * the previous one, so copies on disk and threads stay bounded.  The
 * guarantee is unchanged: every capture is drilled before the snapshot
 * commits, and a failed drill still makes it partial.
 */
#include "dumpers/session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/err.h"

/* Drill the copy at path into *dr: a copy that cannot even be opened gets
 * that as its verdict.  0, or -ENOMEM. */
static int drill_copy(const char *path, struct dumper_drill *dr)
{
	int r = dumper_sqlite_drill(path, dr);
	if (r == -ENOMEM || r == 0)
		return r;
	*dr = (struct dumper_drill){.how = "open"};
	/* Messages are per thread: this one is the drill's own. */
	dr->check = strdup(store_error() ? store_error() : strerror(-r));
	store_error_clear();
	return dr->check ? 0 : -ENOMEM;
}

static void *drill_main(void *arg)
{
	struct session_sqdrill *q = arg;
	q->err = drill_copy(q->copy.path, &q->dr);
	/* The walk may still be reading the copy through its own fd:
	 * unlinking it leaves that read alone. */
	dumper_sqlite_copy_clear(&q->copy);
	return NULL;
}

/* The verdict into its record; a failed check is a problem. */
static int record(struct dumper_session *s, struct session_sqdrill *q)
{
	struct dumper_db *d = &s->dbs[q->db];
	d->how = q->dr.how;
	d->ok = q->dr.ok;
	d->check = q->dr.check;
	d->tables = q->dr.tables;
	d->ntables = q->dr.ntables;
	d->schema = q->dr.schema;
	q->dr = (struct dumper_drill){0};
	if (d->ok)
		return 0;
	s->res.drill_failed++;
	return dumper_session_problem(s, "database %s: drill failed (%s): %s", d->name, d->how,
				      d->check ? d->check : "?");
}

int session_sqdrill_wait(struct dumper_session *s)
{
	struct session_sqdrill *q = &s->sqdrill;
	if (!q->busy)
		return 0;
	if (q->threaded)
		pthread_join(q->thread, NULL);
	q->busy = q->threaded = false;
	int r = q->err;
	if (r == 0)
		r = record(s, q);
	dumper_drill_clear(&q->dr);
	return r;
}

int session_sqdrill_start(struct dumper_session *s, size_t db, struct dumper_sqlite_copy *copy)
{
	int r = session_sqdrill_wait(s);
	if (r < 0) {
		dumper_sqlite_copy_clear(copy);
		return r;
	}
	struct session_sqdrill *q = &s->sqdrill;
	*q = (struct session_sqdrill){.db = db, .copy = *copy, .busy = true};
	*copy = (struct dumper_sqlite_copy){0};
	q->threaded = pthread_create(&q->thread, NULL, drill_main, q) == 0;
	if (!q->threaded) /* no thread to be had: drill here, as before */
		drill_main(q);
	return 0;
}
