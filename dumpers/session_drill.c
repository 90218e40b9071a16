/* session_drill.c — counts at dump time and the full drill of a server
 * dump, around dump_one (session.h, drill.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/engine.h"
#include "dumpers/migration.h"
#include "dumpers/session.h"
#include "store/err.h"

void dumper_session_set_drill_full(struct dumper_session *s, bool full)
{
	s->drill_full = full;
}

static int fail_drill(struct session_drill *dc, const char *what)
{
	if (dc->error)
		return 0;
	const char *why = store_error();
	int n = asprintf(&dc->error, "%s%s%s", what, why ? ": " : "", why ? why : "");
	store_error_clear();
	if (n < 0) {
		dc->error = NULL;
		return -ENOMEM;
	}
	return 0;
}

int session_drill_begin(struct dumper_session *s, const struct dumper_target *tg,
			const char *tmpdir, struct dumper_cmd *cmd, struct session_drill *dc)
{
	memset(dc, 0, sizeof *dc);
	dc->tee_fd = -1;
	const struct dumper_engine *e = dumper_engine_of(tg->kind);
	bool local = !tg->container && !tg->service;
	if (!e)
		return 0;
	/* The counts at dump time, if the engine has them: always when they
	 * cost the server nothing, else only for the full drill. */
	const struct dumper_dump_counter *c = &e->counter;
	if (c->begin && (local || !c->local_only) && (s->drill_full || !c->costly)) {
		int r = e->counter.begin(tg, tmpdir, cmd, &dc->counter_state);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			if ((r = fail_drill(dc, "no counts at dump time")) < 0)
				return r;
		} else {
			dc->counter = &e->counter;
		}
	}
	if (!s->drill_full || !local || e->no_drill)
		return 0;
	/* The dump again for the restore, in the private temp dir, gone
	 * with the fd (no name). */
	dc->tee_fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (dc->tee_fd < 0) {
		store_failp(-errno, "%s: a temp file for the drill", tmpdir);
		return fail_drill(dc, "cannot keep the dump for the drill");
	}
	return 0;
}

void session_drill_bytes(struct session_drill *dc, const void *buf, size_t n)
{
	if (dc->counter && dc->counter->bytes)
		dc->counter->bytes(dc->counter_state, buf, n);
	const char *p = buf;
	while (dc->tee_fd >= 0 && n) {
		ssize_t k = write(dc->tee_fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			store_failp(-errno, "writing the drill's copy of the dump");
			close(dc->tee_fd);
			dc->tee_fd = -1;
			fail_drill(dc, "cannot keep the dump for the drill");
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static int feed_fd(void *ctx, const struct dumper_cmd *cmd)
{
	int fd = *(int *)ctx;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return store_failp(-errno, "the drill's copy of the dump");
	return dumper_run_with_input(cmd, fd);
}

int session_drill_end(struct dumper_session *s, const struct dumper_target *tg,
		      const char *tmpdir, struct session_drill *dc, bool dumped, struct dumper_db *d)
{
	int r = 0;
	if (dc->counter) {
		const struct dumper_dump_counter *c = dc->counter;
		dc->counter = NULL;
		if (dumped) {
			r = c->end(dc->counter_state, &d->tables, &d->ntables,
				   c->schema ? &d->schema : NULL);
			if (r == -ENOMEM)
				return r;
			if (r < 0 && (r = fail_drill(dc, "no counts at dump time")) < 0)
				return r;
			/* The session ended early: the version asked now
			 * rather than not at all. */
			if (c->schema && dc->error && !d->schema.tool &&
			    (r = dumper_server_schema(tg, tmpdir, &d->schema)) < 0) {
				if (r == -ENOMEM)
					return r;
				store_error_clear();
			}
			r = 0;
		} else {
			c->abort(dc->counter_state);
		}
		dc->counter_state = NULL;
	}
	if (!s->drill_full || !dumped)
		return 0;
	struct dumper_full_drill *dr = &d->drill;
	if (dc->error) {
		dr->ran = true;
		if (!(dr->result = strdup(dc->error)))
			return -ENOMEM;
	} else if ((r = dumper_drill_full(tg, tmpdir, feed_fd, &dc->tee_fd, d->tables, d->ntables,
				       dr)) < 0) {
		return r;
	}
	if (dr->ran && !dr->ok) {
		d->ok = false;
		s->res.drill_failed++;
		if (dumper_session_problem(s, "database %s: drill failed: %s", tg->name, dr->result) < 0)
			return -ENOMEM;
	}
	return 0;
}

void session_drill_clear(struct session_drill *dc)
{
	if (dc->counter)
		dc->counter->abort(dc->counter_state);
	if (dc->tee_fd >= 0)
		close(dc->tee_fd);
	free(dc->error);
	memset(dc, 0, sizeof *dc);
	dc->tee_fd = -1;
}
