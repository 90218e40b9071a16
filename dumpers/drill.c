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

int dumper_drill_full(const struct dumper_target *t, const char *tmpdir, dumper_feed_fn feed,
		      void *fctx, const struct dumper_table_count *want, size_t nwant,
		      struct dumper_full_drill *ret)
{
	struct dumper_full_drill d = {0};
	struct dumper_cmd create = {0}, restore = {0}, drop = {0};
	struct dumper_table_count *got = NULL;
	size_t ngot = 0;
	char scratch[64], *diff = NULL;
	int64_t t0 = mono_ms();
	int r = 0;
	const char *why;

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
	unsigned char rnd[4];
	int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (ufd < 0 || read(ufd, rnd, sizeof rnd) != (ssize_t)sizeof rnd)
		memset(rnd, 0, sizeof rnd);
	if (ufd >= 0)
		close(ufd);
	snprintf(scratch, sizeof scratch, "ckptfs_drill_%ld_%02x%02x%02x%02x", (long)getpid(), rnd[0],
		 rnd[1], rnd[2], rnd[3]);
	d.ran = true;
	if ((r = dumper_create_cmd(t, tmpdir, scratch, &create)) < 0 || (r = run_plain(&create)) < 0) {
		if (r == -ENOMEM)
			goto out;
		why = store_error() ? store_error() : "failed";
		/* No right to create databases here; a private server (initdb)
		 * is not tried yet. */
		r = set_result(&d, "cannot create a scratch database: %s%s", why, "");
		store_error_clear();
		goto done;
	}
	/* From here the scratch database exists: dropped whatever happens. */
	if ((r = dumper_restore_cmd(t, tmpdir, scratch, &restore)) < 0 || (r = feed(fctx, &restore)) < 0) {
		if (r == -ENOMEM)
			goto drop;
		why = store_error() ? store_error() : "failed";
		r = set_result(&d, "the restore into a scratch database failed: %s%s", why, "");
		store_error_clear();
		goto drop;
	}
	if ((r = dumper_table_counts(t, tmpdir, scratch, &got, &ngot)) < 0) {
		if (r == -ENOMEM)
			goto drop;
		why = store_error() ? store_error() : "failed";
		r = set_result(&d, "restored, but the tables cannot be counted: %s%s", why, "");
		store_error_clear();
		goto drop;
	}
	for (size_t i = 0; i < ngot; i++)
		d.rows += got[i].rows > 0 ? got[i].rows : 0;
	d.ntables = ngot;
	if (want && (diff = compare(want, nwant, got, ngot))) {
		r = *diff ? set_result(&d, "%s%s", diff, "") : -ENOMEM;
		goto drop;
	}
	d.ok = true;
	char a[32], b[32];
	r = set_result(&d, want ? "proven: restored into a scratch database, %s rows in %s tables "
				  "as at dump time"
				: "restored into a scratch database, %s rows in %s tables (no counts "
				  "recorded at dump time to compare)",
		       commas(d.rows, a), commas((int64_t)d.ntables, b));
drop:;
	int dr = dumper_drop_cmd(t, tmpdir, scratch, &drop);
	if (dr == 0)
		dr = run_plain(&drop);
	if (dr < 0 && dr != -ENOMEM && r == 0) {
		/* Said, not hidden: a scratch database left behind. */
		char *m = NULL;
		if (asprintf(&m, "%s; the scratch database %s could not be dropped: %s", d.result, scratch,
			     store_error() ? store_error() : "failed") >= 0) {
			free(d.result);
			d.result = m;
		}
		store_error_clear();
	}
	if (r == 0 && dr == -ENOMEM)
		r = dr;
done:
	d.ms = mono_ms() - t0;
out:
	dumper_cmd_clear(&create);
	dumper_cmd_clear(&restore);
	dumper_cmd_clear(&drop);
	dumper_table_counts_free(got, ngot);
	free(diff);
	if (r < 0) {
		dumper_full_drill_clear(&d);
		return r;
	}
	*ret = d;
	return 0;
}
