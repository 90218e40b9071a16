/* session_restore.c — `ckptfs restore --db NAME`: a dump out of the store
 * into the database's own restore tool.
 *
 * The dump is streamed: this thread reads it with content_read (the repo
 * belongs to the calling thread) and writes it into a pipe; a helper thread
 * runs the tool with the pipe as its stdin and collects its stderr.  No
 * copy of the dump is written to disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpers/drill.h"
#include "dumpers/engine.h"
#include "dumpers/migration.h"
#include "dumpers/server.h"
#include "dumpers/sqlsection.h"
#include "dumpers/session.h"
#include "store/content.h"
#include "store/err.h"
#include "store/json_lite.h"
#include "store/tree.h"

static const struct dumper_target *find(const struct dumper_session *s, const char *name)
{
	for (size_t i = 0; i < s->targets.n; i++)
		if (dumper_target_enabled(&s->targets.v[i]) && !strcmp(s->targets.v[i].name, name))
			return &s->targets.v[i];
	return NULL;
}

static int unknown(const struct dumper_session *s, const char *name)
{
	char *known = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&known, &len);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0, n = 0; i < s->targets.n; i++)
		if (dumper_target_enabled(&s->targets.v[i]))
			fprintf(f, "%s%s", n++ ? ", " : "", s->targets.v[i].name);
	fclose(f);
	int r = store_fail(-ENOENT, "database %s: not found in this project (%s%s)", name,
			   len ? "known: " : "none found in .env, config/database.yml, compose files or .ckptfs.toml",
			   len ? known : "");
	free(known);
	return r;
}

int dumper_session_dump_file(const struct dumper_session *s, const char *name, char **ret)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	char *f;
	if (asprintf(&f, "%s%s", t->name, dumper_kind_ext(t->kind)) < 0)
		return -ENOMEM;
	*ret = f;
	return 0;
}

struct runner {
	const struct dumper_cmd *cmd;
	const struct dumper_cmd *cmd2; /* NULL, or cmd | cmd2 */
	int fd;
	int r;
	char *msg;
};

static void *run_thread(void *arg)
{
	struct runner *ru = arg;
	ru->r = ru->cmd2 ? dumper_run_pipe(ru->cmd, ru->cmd2, ru->fd) : dumper_run_with_input(ru->cmd, ru->fd);
	close(ru->fd);
	if (ru->r < 0 && store_error())
		ru->msg = strdup(store_error());
	return NULL;
}

struct pipe_out {
	int fd;
	const char *tool;
};

/* Write all of buf to the tool's stdin: 0, -EPIPE when it stopped reading
 * (its status says why), or an error recorded. */
static int pipe_write(void *ctx, const char *buf, size_t n)
{
	struct pipe_out *po = ctx;
	while (n) {
		ssize_t k = write(po->fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno == EPIPE ? -EPIPE : store_failp(-errno, "restore: writing to %s", po->tool);
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Feed file's content into cmd's stdin (cmd | cmd2 if cmd2), through the
 * section filter flt if not NULL. */
static int feed2(struct repo *repo, const struct node *file, const struct dumper_cmd *cmd,
		 const struct dumper_cmd *cmd2, struct dumper_sqlsection *flt)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return store_failp(-errno, "pipe");
	struct runner ru = {.cmd = cmd, .cmd2 = cmd2, .fd = p[0]};
	pthread_t th;
	int r = -pthread_create(&th, NULL, run_thread, &ru);
	if (r < 0) {
		close(p[0]);
		close(p[1]);
		return store_fail(r, "restore: cannot start a thread");
	}
	enum { BUF = 1 << 20 };
	char *buf = malloc(BUF);
	if (!buf) {
		close(p[1]);
		pthread_join(th, NULL);
		free(ru.msg);
		return -ENOMEM;
	}
	int wr = 0;
	for (uint64_t off = 0; off < file->size;) {
		ssize_t n = content_read(repo, file, off, buf, BUF);
		if (n < 0) {
			wr = (int)n;
			break;
		}
		if (n == 0)
			break;
		struct pipe_out po = {.fd = p[1], .tool = cmd->tool};
		wr = flt ? dumper_sqlsection_feed(flt, buf, (size_t)n, pipe_write, &po)
			 : pipe_write(&po, buf, (size_t)n);
		if (wr < 0)
			break;
		off += (uint64_t)n;
	}
	if (wr == 0 && flt) {
		struct pipe_out po = {.fd = p[1], .tool = cmd->tool};
		wr = dumper_sqlsection_end(flt, pipe_write, &po);
	}
	if (wr == -EPIPE)
		wr = 0;
	free(buf);
	close(p[1]);
	pthread_join(th, NULL);
	if (wr < 0) {
		free(ru.msg);
		return wr;
	}
	if (ru.r < 0) {
		r = store_fail(ru.r, "%s", ru.msg ? ru.msg : cmd->tool);
		free(ru.msg);
		return r;
	}
	return 0;
}

static int feed(struct repo *repo, const struct node *file, const struct dumper_cmd *cmd)
{
	return feed2(repo, file, cmd, NULL, NULL);
}

int dumper_session_tables_ok(const struct dumper_session *s, const char *name)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (t->container || t->service || !e || !e->restore_tables)
		return store_fail(-EINVAL, "database %s: tables can be restored alone only from a local "
					   "Postgres or MySQL dump (%s; restore the whole database with --into)",
				  t->name, t->container || t->service ? "this one is in docker"
					   : e && e->no_tables ? e->no_tables : "not this kind");
	return 0;
}

static int discard(void *ctx, const char *buf, size_t n)
{
	(void)ctx, (void)buf, (void)n;
	return 0;
}

/* The dump in a snapshot, for an engine's table restore. */
struct table_src {
	struct repo *repo;
	const struct node *file;
	const char *name;
};

static int tables_feed(void *ctx, const struct dumper_cmd *a, const struct dumper_cmd *b,
		       struct dumper_sqlsection *flt)
{
	struct table_src *src = ctx;
	return feed2(src->repo, src->file, a, b, flt);
}

/* Read the dump through flt, sending nothing. */
static int tables_scan(void *ctx, struct dumper_sqlsection *flt)
{
	struct table_src *src = ctx;
	char *buf = malloc(1 << 20);
	int r = 0;
	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < src->file->size;) {
		ssize_t k = content_read(src->repo, src->file, off, buf, 1 << 20);
		if (k <= 0) {
			r = k < 0 ? (int)k : store_fail(-EIO, "database %s: short read of the dump", src->name);
			break;
		}
		if ((r = dumper_sqlsection_feed(flt, buf, (size_t)k, discard, NULL)) < 0)
			break;
		off += (uint64_t)k;
	}
	free(buf);
	return r;
}

int dumper_session_restore_tables(struct dumper_session *s, struct repo *repo,
				  const struct node *file, const char *name,
				  const char *const *tables, size_t n, const char *into)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	if (file->type != NODE_FILE || (file->flags & NODE_F_UNREADABLE))
		return store_fail(-EINVAL, "database %s: the snapshot's dump is not a readable file", name);
	int r = dumper_session_tables_ok(s, name);
	const char *tmp;
	if (r < 0 || (r = dumper_session_tmpdir(s, &tmp)) < 0)
		return r;
	struct table_src src = {.repo = repo, .file = file, .name = t->name};
	struct dumper_tables_job j = {.t = t, .tmpdir = tmp, .tables = tables, .n = n, .into = into,
				      .feed = tables_feed, .scan = tables_scan, .ctx = &src};
	return dumper_engine_of(t->kind)->restore_tables(&j);
}

static int create_db(struct dumper_session *s, const struct dumper_target *t, const char *into)
{
	struct dumper_cmd c = {0};
	const char *tmp;
	int r = dumper_session_tmpdir(s, &tmp);
	if (r < 0 || (r = dumper_create_cmd(t, tmp, into, &c)) < 0 || !c.argv)
		return r;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dumper_cmd_clear(&c);
		return store_failp(-errno, "/dev/null");
	}
	r = dumper_run_with_input(&c, fd);
	close(fd);
	/* An existing database is fine (createdb has no IF NOT EXISTS). */
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (r < 0 && e && e->create_exists && store_error() && strstr(store_error(), e->create_exists)) {
		store_error_clear();
		r = 0;
	}
	dumper_cmd_clear(&c);
	return r;
}

int dumper_session_live_schema(struct dumper_session *s, const char *name, char **ret)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	struct dumper_schema sc = {0};
	const char *tmp;
	int r = dumper_session_tmpdir(s, &tmp);
	if (r < 0 || (r = dumper_server_schema(t, tmp, &sc)) < 0)
		return r;
	r = dumper_schema_text(&sc, ret);
	dumper_schema_clear(&sc);
	return r;
}

void dumper_drill_verdict_clear(struct dumper_drill_verdict *v)
{
	free(v->result);
	memset(v, 0, sizeof *v);
}

struct feed_ctx {
	struct repo *repo;
	const struct node *file;
};

static int feed_repo(void *ctx, const struct dumper_cmd *cmd)
{
	struct feed_ctx *f = ctx;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int r = feed(f->repo, f->file, cmd);
	sigaction(SIGPIPE, &old, NULL);
	return r;
}

/* The counts at dump time the notes record for name ("tables"). */
static int notes_counts(const char *notes, const char *name, struct dumper_table_count **ret,
			size_t *ret_n)
{
	struct jv v;
	*ret = NULL;
	*ret_n = 0;
	if (!notes || jv_parse(notes, &v) < 0)
		return 0;
	const struct jv *dbs = jv_get(&v, "databases"), *t = NULL;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n && !t; i++) {
		const char *n = jv_str(&dbs->items[i], "name");
		if (n && !strcmp(n, name))
			t = jv_get(&dbs->items[i], "tables");
	}
	int r = 0;
	/* Only a complete list: counts cut at the notes' limit cannot prove. */
	double nt = 0;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
		const char *n = jv_str(&dbs->items[i], "name");
		if (n && !strcmp(n, name))
			nt = jv_num(&dbs->items[i], "ntables", 0);
	}
	if (t && t->t == J_ARR && t->n && nt == (double)t->n) {
		struct dumper_table_count *c = calloc(t->n, sizeof *c);
		size_t k = 0;
		for (size_t i = 0; c && i < t->n; i++) {
			const struct jv *e = &t->items[i];
			if (e->t != J_ARR || e->n != 2 || e->items[0].t != J_STR || e->items[1].t != J_NUM)
				continue;
			if (!(c[k].name = strdup(e->items[0].s))) {
				dumper_table_counts_free(c, k);
				c = NULL;
				break;
			}
			c[k++].rows = (int64_t)e->items[1].num;
		}
		if (!c) {
			r = -ENOMEM;
		} else {
			*ret = c;
			*ret_n = k;
		}
	}
	jv_clear(&v);
	return r;
}

int dumper_session_drill(struct dumper_session *s, struct repo *repo, const struct node *file,
			 const char *name, const char *notes, struct dumper_drill_verdict *ret)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	if (file->type != NODE_FILE || (file->flags & NODE_F_UNREADABLE))
		return store_fail(-EINVAL, "database %s: the snapshot's dump is not a readable file", name);
	struct dumper_table_count *want = NULL;
	size_t nwant = 0;
	const char *tmp;
	int r = notes_counts(notes, name, &want, &nwant);
	if (r < 0 || (r = dumper_session_tmpdir(s, &tmp)) < 0)
		goto out;
	struct feed_ctx fc = {.repo = repo, .file = file};
	struct dumper_full_drill d = {0};
	if ((r = dumper_drill_full(t, tmp, feed_repo, &fc, want, nwant, &d)) < 0)
		goto out;
	*ret = (struct dumper_drill_verdict){.ran = d.ran, .ok = d.ok, .result = d.result, .ms = d.ms};
out:
	dumper_table_counts_free(want, nwant);
	return r;
}

int dumper_session_restore(struct dumper_session *s, struct repo *repo, const struct node *file,
			   const char *name, const char *into)
{
	const struct dumper_target *t = find(s, name);
	if (!t)
		return unknown(s, name);
	if (file->type != NODE_FILE || (file->flags & NODE_F_UNREADABLE))
		return store_fail(-EINVAL, "database %s: the snapshot's dump is not a readable file", name);
	int r;
	if (into && (r = create_db(s, t, into)) < 0)
		return r;
	struct dumper_cmd cmd = {0};
	const char *tmp;
	if ((r = dumper_session_tmpdir(s, &tmp)) < 0 || (r = dumper_restore_cmd(t, tmp, into, &cmd)) < 0)
		return r;
	/* A tool that exits early must not kill us with SIGPIPE. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	r = feed(repo, file, &cmd);
	sigaction(SIGPIPE, &old, NULL);
	dumper_cmd_clear(&cmd);
	return r;
}
