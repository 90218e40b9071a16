/* session_dump.c — server dumps into the reserved @databases folder.
 *
 * Each enabled target's tool runs as a child process whose stdout is
 * streamed through writer_put_stream straight into the store; the dump is
 * verified on the way (server.h).  The folder also holds RESTORE.txt with
 * the exact restore commands, written last so it can say which databases
 * could not be dumped.  The folder is built before the walk and handed to
 * it as an extra root entry; a project entry of the same name is left out
 * by the walk, with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dumpers/docker.h"
#include "dumpers/engine.h"
#include "dumpers/migration.h"
#include "dumpers/server.h"
#include "dumpers/session.h"
#include "store/err.h"
#include "store/fileio.h"
#include "store/writer.h"

struct put_ctx {
	struct dumper_session *s;
	struct writer *w;
	struct node *node;
	const char *file; /* "@databases/x.dump", for progress */
	dumper_read_fn read;
	void *rctx;
	struct walk_progress prog;
	struct session_drill *dc;
};

/* The tool's output on its way to the store, with progress for the CLI
 * (a large dump takes a while before the walk starts). */
static int read_progress(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct put_ctx *p = ctx;
	int r = p->read(p->rctx, buf, cap, ret_n);
	if (r == 0)
		session_drill_bytes(p->dc, buf, *ret_n);
	if (r == 0 && p->s->outer && p->s->outer->progress) {
		p->prog.bytes += *ret_n;
		p->prog.read_bytes += *ret_n;
		p->prog.current = p->file;
		p->s->outer->progress(p->s->outer->ctx, &p->prog);
	}
	return r;
}

static int consume(void *cctx, dumper_read_fn read, void *rctx)
{
	struct put_ctx *p = cctx;
	p->read = read;
	p->rctx = rctx;
	return writer_put_stream(p->w, read_progress, p, p->node);
}

struct mem_src {
	const char *p;
	size_t len, pos;
};

static int mem_read(void *ctx, void *buf, size_t cap, size_t *ret_n)
{
	struct mem_src *m = ctx;
	size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	*ret_n = n;
	return 0;
}

static void file_meta(struct node *n, uint32_t mode)
{
	n->type = NODE_FILE;
	n->mode = mode;
	n->uid = (uint32_t)getuid();
	n->gid = (uint32_t)getgid();
	n->mtime_ns = n->ctime_ns = fio_now_ns();
}

/* A target name not used by an earlier dump of this session. */
static int unique_name(const struct tree *t, const struct dumper_target *tg, char **ret)
{
	const char *ext = dumper_kind_ext(tg->kind);
	for (int i = 1;; i++) {
		char *n;
		if ((i == 1 ? asprintf(&n, "%s%s", tg->name, ext)
			    : asprintf(&n, "%s-%d%s", tg->name, i, ext)) < 0)
			return -ENOMEM;
		bool used = !strcmp(n, "RESTORE.txt");
		for (size_t k = 0; k < t->n && !used; k++)
			used = !strcmp(t->nodes[k].name, n);
		if (!used) {
			*ret = n;
			return 0;
		}
		free(n);
	}
}

/* A target in docker that cannot be reached now: recorded as skipped
 * (one notice), or, if .ckptfs.toml requires it, as refused.  d's name,
 * source and file are filled. */
static int skip_one(struct dumper_session *s, const struct dumper_target *tg,
		    const struct dumper_docker_probe *pr, struct dumper_db *d, FILE *txt)
{
	char where[160];
	dumper_docker_where(tg, where, sizeof where);
	if (!(d->where = strdup(where)))
		return -ENOMEM;
	d->method = "docker";
	if (tg->required) {
		if (asprintf(&d->check, "%s %s (required in .ckptfs.toml)", where, pr->why) < 0) {
			d->check = NULL;
			return -ENOMEM;
		}
		s->res.refused++;
		if (dumper_session_problem(s, "database %s (%s): %s — required in .ckptfs.toml",
					   tg->name, where, pr->why) < 0)
			return -ENOMEM;
		fprintf(txt, "  %s (%s): NOT dumped in this snapshot: %s\n\n", tg->name,
			dumper_kind_name(tg->kind), d->check);
		return 0;
	}
	if (!(d->check = strdup(pr->why)))
		return -ENOMEM;
	d->skipped = true;
	s->res.skipped++;
	if (dumper_session_notice(s, "database %s (%s): %s — skipped", tg->name, where, pr->why) < 0)
		return -ENOMEM;
	fprintf(txt, "  %s (%s): skipped in this snapshot (%s): %s\n\n", tg->name,
		dumper_kind_name(tg->kind), where, pr->why);
	return 0;
}

/* tg as the dump sees it: for a compose service, the probe's compose
 * flavour and the compose file by its absolute path (snap may run in a
 * subfolder).  Shallow: *abs owns the one string that differs. */
static int docker_view(const struct dumper_session *s, const struct dumper_target *tg,
		       const struct dumper_docker_probe *pr, struct dumper_target *ret, char **abs)
{
	*ret = *tg;
	ret->compose_v1 = pr->compose_v1;
	*abs = NULL;
	if (tg->service && tg->compose && tg->compose[0] != '/') {
		if (asprintf(abs, "%s/%s", s->root, tg->compose) < 0) {
			*abs = NULL;
			return -ENOMEM;
		}
		ret->compose = *abs;
	}
	return 0;
}

/* Dump one target into a new node of t; refusals are recorded. */
static int dump_one(struct dumper_session *s, struct writer *w, const struct dumper_target *tg0,
		    struct tree *t, FILE *txt)
{
	struct dumper_target view;
	const struct dumper_target *tg = tg0;
	char *abs = NULL;
	struct node n = {0};
	struct dumper_cmd cmd = {0};
	struct dumper_dump_result res = {0};
	struct dumper_db d = {.kind = dumper_kind_name(tg->kind), .entries = -1};
	struct session_drill dc = {.tee_fd = -1};
	const char *tmp = NULL;
	int r = unique_name(t, tg, &n.name);
	if (r < 0)
		return r;
	file_meta(&n, 0600);
	r = -ENOMEM;
	if (!(d.name = strdup(tg->name)) || (tg->source && !(d.source = strdup(tg->source))))
		goto out;
	if (asprintf(&d.file, "%s/%s", DUMPER_FOLDER, n.name) < 0) {
		d.file = NULL;
		goto out;
	}
	if (dumper_target_in_docker(tg)) {
		struct dumper_docker_probe pr;
		if ((r = dumper_docker_probe(tg, s->root, &pr)) < 0)
			goto out;
		if (pr.state != DOCKER_READY && pr.state != DOCKER_FAILED) {
			r = skip_one(s, tg, &pr, &d, txt);
			if (r == 0)
				r = dumper_session_add_db(s, &d);
			goto out;
		}
		if (pr.state == DOCKER_FAILED) {
			/* The daemon answers but will not tell: an error. */
			if (!(res.error = strdup(pr.why))) {
				r = -ENOMEM;
				goto out;
			}
			goto judged;
		}
		if ((r = docker_view(s, tg, &pr, &view, &abs)) < 0)
			goto out;
		tg = &view;
	}
	if ((r = dumper_session_tmpdir(s, &tmp)) < 0)
		goto out;
	if ((r = dumper_dump_cmd(tg, tmp, &cmd)) < 0) {
		if (r == -ENOMEM)
			goto out;
		/* Cannot even build the command (bad settings): a refusal. */
		res.error = strdup(store_error() ? store_error() : strerror(-r));
		store_error_clear();
		if (!res.error) {
			r = -ENOMEM;
			goto out;
		}
	} else {
		d.method = cmd.tool;
		if ((r = session_drill_begin(s, tg, tmp, &cmd, &dc)) < 0)
			goto out;
		struct put_ctx pc = {.s = s, .w = w, .node = &n, .file = d.file, .dc = &dc};
		if ((r = dumper_dump_run(tg, &cmd, consume, &pc, &res)) < 0)
			goto out;
		d.how = res.check;
		/* The migration it holds: read in the dump's own snapshot by
		 * the engine's counter if it can (session_drill_end), else
		 * asked right after the dump.  A database without a migration
		 * table has none, and a client that cannot ask leaves it
		 * unknown, not the dump failed. */
		bool in_snapshot = dc.counter && dc.counter->schema;
		if (res.ok && !in_snapshot && (r = dumper_server_schema(tg, tmp, &d.schema)) < 0) {
			if (r == -ENOMEM)
				goto out;
			store_error_clear();
		}
	}
judged:
	d.ok = res.ok;
	d.bytes = res.bytes;
	d.entries = res.entries;
	if (tmp && (r = session_drill_end(s, tg, tmp, &dc, res.ok, &d)) < 0)
		goto out;
	r = -ENOMEM;
	if (res.ok && !d.ok) {
		if (asprintf(&d.check, "drill failed: %s", d.drill.result) < 0) {
			d.check = NULL;
			goto out;
		}
	} else if (!(d.check = strdup(res.ok ? "ok" : res.error))) {
		goto out;
	}
	if (!res.ok) {
		s->res.refused++;
		if (dumper_session_problem(s, "database %s: %s", tg->name, res.error) < 0)
			goto out;
		fprintf(txt, "  %s (%s): NOT dumped in this snapshot: %s\n\n", tg->name,
			dumper_kind_name(tg->kind), res.error);
	} else {
		s->res.dumped++;
		char *hint = dumper_restore_hint(tg0, n.name);
		if (!hint)
			goto out;
		fprintf(txt, "  %s  (%s, found in %s)\n    %s\n\n", n.name, dumper_kind_name(tg->kind),
			tg->source ? tg->source : "?", hint);
		free(hint);
		t->nodes[t->n++] = n;
		memset(&n, 0, sizeof n);
	}
	r = dumper_session_add_db(s, &d);
out:
	session_drill_clear(&dc);
	dumper_db_clear(&d);
	dumper_dump_result_clear(&res);
	dumper_cmd_clear(&cmd);
	node_clear(&n);
	free(abs);
	return r;
}

static const char restore_head[] =
	"Databases of this snapshot\n"
	"==========================\n"
	"\n"
	"ckptfs dumped these server databases with their own tools when it took\n"
	"the snapshot.  To put one back (ckptfs first saves the current state in\n"
	"a new snapshot, then streams the dump into the database's restore tool):\n"
	"\n"
	"  ckptfs restore --db NAME --from WHEN             into the same database\n"
	"  ckptfs restore --db NAME --from WHEN --into NEW  into a new database\n"
	"\n"
	"NAME is the file name below without its extension, WHEN this snapshot\n"
	"(its name as `ckptfs log` shows it).  By hand, from a copy of this\n"
	"folder (ckptfs mount, or ckptfs restore --to), give the password as the\n"
	"tool asks for it:\n"
	"\n";

int dumper_session_dump(struct dumper_session *s, struct writer *w)
{
	struct tree t = {0};
	char *txt = NULL;
	size_t txt_len = 0;
	FILE *f = NULL;
	size_t n = 0;
	int r = -ENOMEM;
	for (size_t i = 0; i < s->targets.n; i++)
		n += dumper_target_enabled(&s->targets.v[i]);
	if (!n)
		return 0;
	if (!(t.nodes = calloc(n + 1, sizeof *t.nodes)) || !(f = open_memstream(&txt, &txt_len)))
		goto out;
	fputs(restore_head, f);
	for (size_t i = 0; i < s->targets.n; i++) {
		if (!dumper_target_enabled(&s->targets.v[i]))
			continue;
		if ((r = dump_one(s, w, &s->targets.v[i], &t, f)) < 0)
			goto out;
	}
	r = -ENOMEM;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	struct node *rt = &t.nodes[t.n];
	if (!(rt->name = strdup("RESTORE.txt")))
		goto out;
	t.n++;
	file_meta(rt, 0644);
	struct mem_src m = {.p = txt, .len = txt_len};
	if ((r = writer_put_stream(w, mem_read, &m, rt)) < 0)
		goto out;
	tree_sort(&t);
	struct node folder = {.type = NODE_DIR, .mode = 0700};
	if ((r = writer_put_tree(w, &t, &folder.subtree)) < 0)
		goto out;
	if (!(folder.name = strdup(DUMPER_FOLDER))) {
		r = -ENOMEM;
		goto out;
	}
	folder.uid = (uint32_t)getuid();
	folder.gid = (uint32_t)getgid();
	folder.mtime_ns = folder.ctime_ns = fio_now_ns();
	if (s->have_folder)
		node_clear(&s->folder);
	s->folder = folder;
	s->have_folder = true;
	r = 0;
out:
	if (f)
		fclose(f);
	free(txt);
	for (size_t i = 0; i < t.n; i++)
		node_clear(&t.nodes[i]);
	free(t.nodes);
	return r;
}
