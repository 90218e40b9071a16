/* drill.c — restoring a dump into a scratch database and counting it
 * (drill.h). */
#include "dumpers/drill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dumpers/engine.h"
#include "dumpers/privsrv.h"
#include "dumpers/proc.h"
#include "store/err.h"


const char dumper_pg_counts_sql[] =
	"SELECT format('%I.%I', n.nspname, c.relname), (xpath('/row/c/text()', "
	"query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), "
	"false, true, '')))[1]::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
	"AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1";

void dumper_full_drill_clear(struct dumper_full_drill *d)
{
	free(d->result);
	memset(d, 0, sizeof *d);
}

void dumper_table_counts_free(struct dumper_table_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int dumper_counts_parse(const char *rows, struct dumper_table_count **ret, size_t *ret_n)
{
	struct dumper_table_count *v = NULL;
	size_t n = 0;
	for (const char *p = rows ? rows : ""; *p;) {
		size_t len = strcspn(p, "\n");
		const char *tab = memchr(p, '\t', len);
		if (tab) {
			struct dumper_table_count *nv = realloc(v, (n + 1) * sizeof *nv);
			if (!nv)
				goto nomem;
			v = nv;
			if (!(v[n].name = strndup(p, (size_t)(tab - p))))
				goto nomem;
			char *end;
			long long c = strtoll(tab + 1, &end, 10);
			v[n].rows = end != tab + 1 && c >= 0 ? c : -1;
			n++;
		}
		p += len;
		if (*p)
			p++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
nomem:
	dumper_table_counts_free(v, n);
	return -ENOMEM;
}

int dumper_table_counts(const struct dumper_target *t, const char *tmpdir, const char *db,
			struct dumper_table_count **ret, size_t *ret_n)
{
	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (!e || !e->counts)
		return store_fail(-EINVAL, "database %s: %s", t->name,
				  e && e->no_drill ? e->no_drill : "its tables cannot be counted");
	return e->counts(t, tmpdir, db, ret, ret_n);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run cmd with stdin from /dev/null: 0 or -EIO with the tool's words. */
static int run_plain(const struct dumper_cmd *c)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "/dev/null");
	int r = dumper_run_with_input(c, fd);
	close(fd);
	return r;
}

/* The restored counts against those at dump time: NULL if equal, else the
 * first difference (malloc'd, or "" on ENOMEM). */
static char *compare(const struct dumper_table_count *want, size_t nwant,
		     const struct dumper_table_count *got, size_t ngot)
{
	char *m = NULL;
	for (size_t i = 0; i < nwant; i++) {
		const struct dumper_table_count *g = NULL;
		for (size_t k = 0; k < ngot && !g; k++)
			if (!strcmp(got[k].name, want[i].name))
				g = &got[k];
		if (!g) {
			if (want[i].rows == 0)
				continue; /* an empty table may leave no trace in the stream */
			if (asprintf(&m, "table %s: %lld rows at dump time, missing after the restore",
				     want[i].name, (long long)want[i].rows) < 0)
				return strdup("");
			return m;
		}
		if (g->rows != want[i].rows) {
			if (asprintf(&m, "table %s: %lld rows at dump time, %lld restored", want[i].name,
				     (long long)want[i].rows, (long long)g->rows) < 0)
				return strdup("");
			return m;
		}
	}
	return NULL;
}

static const char *commas(int64_t v, char buf[32])
{
	char raw[32];
	snprintf(raw, sizeof raw, "%lld", (long long)(v < 0 ? 0 : v));
	size_t n = strlen(raw), o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

static int set_result(struct dumper_full_drill *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int set_result(struct dumper_full_drill *d, const char *fmt, ...)
{
	free(d->result);
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&d->result, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->result = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Where a drill runs: the real server (a scratch database on it) or a
 * private one. */
struct drill_place {
	const struct dumper_target *t;
	const char *const *restore_args; /* extra restore arguments, or NULL */
	const char *version;             /* the private server's, or NULL */
};

/* Create a scratch database on p, restore the dump into it, count and
 * compare, drop it.  *ret_no_create: creating the scratch database was
 * refused (d then untouched). */
static int drill_at(const struct drill_place *p, const char *tmpdir, dumper_feed_fn feed,
		    void *fctx, const struct dumper_table_count *want, size_t nwant,
		    struct dumper_full_drill *d, bool *ret_no_create)
{
	const struct dumper_target *t = p->t;
	struct dumper_cmd create = {0}, restore = {0}, drop = {0};
	struct dumper_table_count *got = NULL;
	size_t ngot = 0;
	char scratch[64], *diff = NULL;
	const char *why;
	bool priv = p->version != NULL;
	int r;

	*ret_no_create = false;
	unsigned char rnd[4];
	int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (ufd < 0 || read(ufd, rnd, sizeof rnd) != (ssize_t)sizeof rnd)
		memset(rnd, 0, sizeof rnd);
	if (ufd >= 0)
		close(ufd);
	snprintf(scratch, sizeof scratch, "ckptfs_drill_%ld_%02x%02x%02x%02x", (long)getpid(), rnd[0],
		 rnd[1], rnd[2], rnd[3]);
	if ((r = dumper_create_cmd(t, tmpdir, scratch, &create)) < 0 || (r = run_plain(&create)) < 0) {
		if (r == -ENOMEM)
			goto out;
		if (!priv) {
			*ret_no_create = true; /* the message stays recorded */
			r = 0;
			goto out;
		}
		why = store_error() ? store_error() : "failed";
		r = set_result(d, "the private server (%s) refused a scratch database: %s", p->version, why);
		store_error_clear();
		goto out;
	}
	/* From here the scratch database exists: dropped whatever happens. */
	if ((r = dumper_restore_cmd(t, tmpdir, scratch, &restore)) < 0)
		goto drop;
	for (size_t i = 0; p->restore_args && p->restore_args[i] && r == 0; i++)
		r = dumper_cmd_add_arg(&restore, p->restore_args[i]);
	if (r < 0 || (r = feed(fctx, &restore)) < 0) {
		if (r == -ENOMEM)
			goto drop;
		why = store_error() ? store_error() : "failed";
		r = priv ? set_result(d, "the restore into a private server (%s) failed: %s", p->version, why)
			 : set_result(d, "the restore into a scratch database failed: %s", why);
		store_error_clear();
		goto drop;
	}
	if ((r = dumper_table_counts(t, tmpdir, scratch, &got, &ngot)) < 0) {
		if (r == -ENOMEM)
			goto drop;
		why = store_error() ? store_error() : "failed";
		r = set_result(d, "restored, but the tables cannot be counted: %s", why);
		store_error_clear();
		goto drop;
	}
	for (size_t i = 0; i < ngot; i++)
		d->rows += got[i].rows > 0 ? got[i].rows : 0;
	d->ntables = ngot;
	if (want && (diff = compare(want, nwant, got, ngot))) {
		r = *diff ? set_result(d, "%s%s", diff, priv ? " (in a private server)" : "") : -ENOMEM;
		goto drop;
	}
	d->ok = true;
	char a[32], b[32];
	const char *ts = d->ntables == 1 ? "" : "s";
	commas(d->rows, a);
	commas((int64_t)d->ntables, b);
	if (priv)
		r = want ? set_result(d, "proven in a private server (%s): %s rows in %s table%s as at dump "
					 "time", p->version, a, b, ts)
			 : set_result(d, "restored into a private server (%s), %s rows in %s table%s (no "
					 "counts recorded at dump time to compare)", p->version, a, b, ts);
	else
		r = want ? set_result(d, "proven: restored into a scratch database, %s rows in %s table%s "
					 "as at dump time", a, b, ts)
			 : set_result(d, "restored into a scratch database, %s rows in %s table%s (no counts "
					 "recorded at dump time to compare)", a, b, ts);
drop:;
	/* A private server goes away whole. */
	int dr = priv ? 0 : dumper_drop_cmd(t, tmpdir, scratch, &drop);
	if (dr == 0 && !priv)
		dr = run_plain(&drop);
	if (dr < 0 && dr != -ENOMEM && r == 0) {
		/* Said, not hidden: a scratch database left behind. */
		char *m = NULL;
		if (asprintf(&m, "%s; the scratch database %s could not be dropped: %s", d->result, scratch,
			     store_error() ? store_error() : "failed") >= 0) {
			free(d->result);
			d->result = m;
		}
		store_error_clear();
	}
	if (r == 0 && dr == -ENOMEM)
		r = dr;
out:
	dumper_cmd_clear(&create);
	dumper_cmd_clear(&restore);
	dumper_cmd_clear(&drop);
	dumper_table_counts_free(got, ngot);
	free(diff);
	return r;
}

/* No scratch database on the real server (why_create): the drill in a
 * private server of the engine's, if one can run here. */
static int drill_private(const struct dumper_engine *e, const struct dumper_target *t,
			 const char *tmpdir, dumper_feed_fn feed, void *fctx,
			 const struct dumper_table_count *want, size_t nwant, const char *why_create,
			 struct dumper_full_drill *d)
{
	struct dumper_privsrv srv = {0};
	const struct dumper_privsrv_kind *k = e->private_server;
	if (!k)
		return set_result(d, "cannot create a scratch database: %s (no private server: %s)",
				  why_create, e->no_private ? e->no_private : "none for this engine");
	int r = dumper_privsrv_start(k, t, tmpdir, &srv);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		r = set_result(d, "cannot create a scratch database: %s; no private server either: %s",
			       why_create, store_error() ? store_error() : "failed");
		store_error_clear();
		return r;
	}
	struct drill_place p = {.t = &srv.target, .restore_args = k->restore_args,
				.version = srv.version};
	bool no_create;
	d->private_server = true;
	r = drill_at(&p, tmpdir, feed, fctx, want, nwant, d, &no_create);
	dumper_privsrv_stop(&srv);
	return r;
}

int dumper_drill_full(const struct dumper_target *t, const char *tmpdir, dumper_feed_fn feed,
		      void *fctx, const struct dumper_table_count *want, size_t nwant,
		      struct dumper_full_drill *ret)
{
	struct dumper_full_drill d = {0};
	int64_t t0 = mono_ms();
	int r = 0;

	const struct dumper_engine *e = dumper_engine_of(t->kind);
	if (t->container || t->service) {
		r = set_result(&d, "not drilled: databases in docker are not drilled yet (the dump's "
				   "own check ran)");
		goto done;
	}
	if (!e || e->no_drill) {
		r = set_result(&d, "not drilled: %s (the dump's own check ran)",
			       e ? e->no_drill : "this kind has no drill");
		goto done;
	}
	d.ran = true;
	/* Private servers left by a ckptfs that was killed go first. */
	struct dumper_privsrv_reaped reaped = {0};
	if (dumper_privsrv_reap(&reaped) < 0)
		store_error_clear();
	struct drill_place here = {.t = t};
	bool no_create;
	if ((r = drill_at(&here, tmpdir, feed, fctx, want, nwant, &d, &no_create)) < 0)
		goto fail;
	if (no_create) {
		/* No right to create databases here. */
		char *why = strdup(store_error() ? store_error() : "failed");
		store_error_clear();
		if (!why) {
			r = -ENOMEM;
			goto fail;
		}
		r = drill_private(e, t, tmpdir, feed, fctx, want, nwant, why, &d);
		free(why);
		if (r < 0)
			goto fail;
	}
done:
	d.ms = mono_ms() - t0;
	if (r < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	dumper_full_drill_clear(&d);
	return r;
}
