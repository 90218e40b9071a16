/* session_notes.c — the databases part of a snapshot's notes, and printing
 * it back for `ckptfs snap` and `ckptfs show`.
 *
 *   "databases": [
 *     {"name": "data/app.db", "kind": "sqlite", "file": "data/app.db",
 *      "method": "backup-held", "check": "integrity_check", "ok": true,
 *      "result": "ok", "bytes": 8192, "tables": [["users", 3], …],
 *      "rows": 3, "max_step_us": 210, "restarts": 0,
 *      "wal": "1234:8272:1771065000123456789:1771065000123456789"},
 *     {"name": "postgres-app", "kind": "postgres",
 *      "file": "@databases/postgres-app.dump", "source": ".env: DATABASE_URL",
 *      "method": "pg_dump", "check": "pg_restore --list", "ok": true,
 *      "result": "ok", "bytes": 4096, "entries": 12},
 *     {"name": "data/busy.db", "kind": "sqlite", "inconsistent": true,
 *      "ok": false, "result": "…why it could not be captured…"},
 *     {"name": "postgres-app", "kind": "postgres", "method": "docker",
 *      "ok": false, "skipped": true, "where": "compose service db",
 *      "result": "not running", "bytes": 0}]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/json_lite.h"
#include "dumpers/session.h"

/* Table counts kept per database (the rest is summed in "rows"). */
#define NOTES_MAX_TABLES 100

/* "tables": [[name, rows], …], "ntables": N, "rows": SUM */
static void tables_json(FILE *f, const struct dumper_db *d)
{
	int64_t rows = 0;
	fputs(", \"tables\": [", f);
	for (size_t i = 0; i < d->ntables; i++) {
		if (d->tables[i].rows > 0)
			rows += d->tables[i].rows;
		if (i >= NOTES_MAX_TABLES)
			continue;
		fputs(i ? ", [" : "[", f);
		jv_write_str(f, d->tables[i].name);
		if (d->tables[i].rows >= 0)
			fprintf(f, ", %lld]", (long long)d->tables[i].rows);
		else
			fputs(", null]", f);
	}
	fprintf(f, "], \"ntables\": %zu, \"rows\": %lld", d->ntables, (long long)rows);
}

static void db_json(FILE *f, const struct dumper_db *d)
{
	fputs("{\"name\": ", f);
	jv_write_str(f, d->name);
	fputs(", \"kind\": ", f);
	jv_write_str(f, d->kind);
	if (d->file) {
		fputs(", \"file\": ", f);
		jv_write_str(f, d->file);
	}
	if (d->source) {
		fputs(", \"source\": ", f);
		jv_write_str(f, d->source);
	}
	if (d->method) {
		fputs(", \"method\": ", f);
		jv_write_str(f, d->method);
	}
	if (d->how) {
		fputs(", \"check\": ", f);
		jv_write_str(f, d->how);
	}
	fprintf(f, ", \"ok\": %s", d->ok ? "true" : "false");
	if (d->inconsistent)
		fputs(", \"inconsistent\": true", f);
	if (d->skipped)
		fputs(", \"skipped\": true", f);
	if (d->where) {
		fputs(", \"where\": ", f);
		jv_write_str(f, d->where);
	}
	fputs(", \"result\": ", f);
	jv_write_str(f, d->check);
	fprintf(f, ", \"bytes\": %llu", (unsigned long long)d->bytes);
	if (d->entries >= 0)
		fprintf(f, ", \"entries\": %lld", (long long)d->entries);
	if (d->schema.tool) {
		fputs(", \"schema\": {\"tool\": ", f);
		jv_write_str(f, d->schema.tool);
		fputs(", \"version\": ", f);
		jv_write_str(f, d->schema.version);
		fputc('}', f);
	}
	bool sqlite = !strcmp(d->kind, "sqlite") && !d->inconsistent;
	if (!sqlite && d->ntables)
		/* Server: the counts at dump time (MySQL always, Postgres with
		 * --drill=full), what a later drill compares with. */
		tables_json(f, d);
	if (d->drill.result) {
		fprintf(f, ", \"drill\": {\"kind\": \"full\", \"ran\": %s, \"ok\": %s, \"result\": ",
			d->drill.ran ? "true" : "false", d->drill.ok ? "true" : "false");
		jv_write_str(f, d->drill.result);
		fprintf(f, ", \"ntables\": %zu, \"rows\": %lld, \"ms\": %lld", d->drill.ntables,
			(long long)d->drill.rows, (long long)d->drill.ms);
		if (d->drill.ran)
			fprintf(f, ", \"where\": \"%s\"",
				d->drill.private_server ? "private server" : "scratch database");
		fputc('}', f);
	}
	if (sqlite) {
		tables_json(f, d);
		fprintf(f, ", \"max_step_us\": %lld, \"restarts\": %u", (long long)d->max_step_us,
			d->restarts);
		/* A string: JSON numbers are doubles here, ns times need 61 bits. */
		if (d->src_size >= 0)
			fprintf(f, ", \"src_size\": %lld", (long long)d->src_size);
		if (d->have_wal)
			fprintf(f, ", \"wal\": \"%llu:%llu:%lld:%lld\"", (unsigned long long)d->wal.ino,
				(unsigned long long)d->wal.size, (long long)d->wal.mtime_ns,
				(long long)d->wal.ctime_ns);
	}
	fputc('}', f);
}

char *dumper_session_notes(struct dumper_session *s, int *ret_err)
{
	/* A drill still running has the last word on its record. */
	*ret_err = session_sqdrill_wait(s);
	if (*ret_err < 0)
		return NULL;
	if (!s->ndbs)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	fputs("\"databases\": [", f);
	for (size_t i = 0; i < s->ndbs; i++) {
		if (i)
			fputs(", ", f);
		db_json(f, &s->dbs[i]);
	}
	fputc(']', f);
	if (fclose(f) != 0) {
		free(text);
		*ret_err = -ENOMEM;
		return NULL;
	}
	return text;
}

/* 1234567 → "1,234,567" */
static const char *commas(double v, char buf[32])
{
	char raw[32];
	snprintf(raw, sizeof raw, "%.0f", v < 0 ? 0 : v);
	size_t n = strlen(raw), o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

static void print_one(FILE *f, const struct jv *d)
{
	const char *kind = jv_str(d, "kind");
	const char *check = jv_str(d, "check"), *result = jv_str(d, "result");
	bool ok = jv_bool(d, "ok"), inc = jv_bool(d, "inconsistent");
	char a[32], b[32];
	/* Names are file paths: one line each, whatever bytes they hold. */
	char *name = jv_printable(jv_str(d, "name") ? jv_str(d, "name") : "?");
	fprintf(f, "  %-9s %s  ", kind ? kind : "?", name ? name : "?");
	free(name);
	if (inc) {
		fprintf(f, "STORED RAW, possibly inconsistent: %s\n", result ? result : "?");
		return;
	}
	bool sqlite = kind && !strcmp(kind, "sqlite");
	if (jv_bool(d, "skipped")) {
		char *where = jv_printable(jv_str(d, "where") ? jv_str(d, "where") : "docker");
		fprintf(f, "skipped (%s): %s\n", where ? where : "?", result ? result : "?");
		free(where);
		return;
	}
	if (!ok) {
		/* A server that refused never got to the check: its words only. */
		fprintf(f, "FAILED%s%s: %s\n", sqlite && check ? " " : "", sqlite && check ? check : "",
			result ? result : "?");
		return;
	}
	if (sqlite) {
		double nt = jv_num(d, "ntables", 0), rows = jv_num(d, "rows", 0);
		const char *method = jv_str(d, "method");
		bool same = method && !strcmp(method, "unchanged");
		fprintf(f, "ok (%s%s%s; %s %s, %s %s)\n", same ? "unchanged since the last snapshot, " : "",
			check ? check : "check", same ? " then" : "", commas(nt, a),
			nt == 1 ? "table" : "tables", commas(rows, b), rows == 1 ? "row" : "rows");
		const struct jv *t = jv_get(d, "tables");
		if (t && t->t == J_ARR && t->n) {
			fputs("            ", f);
			for (size_t i = 0; i < t->n && i < 8; i++) {
				const struct jv *e = &t->items[i];
				if (e->t != J_ARR || e->n != 2 || e->items[0].t != J_STR)
					continue;
				char *t_name = jv_printable(e->items[0].s);
				fprintf(f, "%s%s %s", i ? ", " : "", t_name ? t_name : "?",
					e->items[1].t == J_NUM ? commas(e->items[1].num, a) : "?");
				free(t_name);
			}
			fputs(t->n > 8 ? ", …\n" : "\n", f);
		}
		return;
	}
	char *file = jv_printable(jv_str(d, "file") ? jv_str(d, "file") : "");
	fprintf(f, "ok (%s", check ? check : "check");
	double entries = jv_num(d, "entries", -1);
	if (entries >= 0)
		fprintf(f, ": %s entries", commas(entries, a));
	fprintf(f, "; %s bytes)  %s\n", commas(jv_num(d, "bytes", 0), b), file ? file : "");
	free(file);
}

/* "            schema  alembic 3f2a1b9c0d1e" under its database. */
static void print_schema(FILE *f, const struct jv *d)
{
	const struct jv *sc = jv_get(d, "schema");
	const char *tool = sc ? jv_str(sc, "tool") : NULL;
	if (!tool)
		return;
	const char *version = jv_str(sc, "version");
	char *t = jv_printable(tool), *v = version ? jv_printable(version) : NULL;
	fprintf(f, "            schema  %s %s\n", t ? t : "?", v ? v : "(no migration run yet)");
	free(t);
	free(v);
}

/* "            drill   proven: … (1.2 s)" under its database. */
static void print_drill(FILE *f, const struct jv *d)
{
	const struct jv *dr = jv_get(d, "drill");
	const char *result = dr ? jv_str(dr, "result") : NULL;
	if (!result)
		return;
	char *text = jv_printable(result);
	double ms = jv_num(dr, "ms", 0);
	bool failed = jv_bool(dr, "ran") && !jv_bool(dr, "ok");
	fprintf(f, "            drill   %s%s (%.1f s)\n", failed ? "FAILED: " : "",
		text ? text : "?", ms / 1000);
	free(text);
}

int dumper_notes_print(FILE *f, const char *notes)
{
	if (!notes || !*notes)
		return 0;
	struct jv v;
	if (jv_parse(notes, &v) < 0) {
		fputs("  (notes unreadable)\n", f);
		return 1;
	}
	const struct jv *dbs = jv_get(&v, "databases");
	int n = 0;
	if (dbs && dbs->t == J_ARR)
		for (size_t i = 0; i < dbs->n; i++, n++) {
			print_one(f, &dbs->items[i]);
			print_schema(f, &dbs->items[i]);
			print_drill(f, &dbs->items[i]);
		}
	jv_clear(&v);
	return n;
}

bool dumper_notes_failed(const char *notes)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return false;
	const struct jv *dbs = jv_get(&v, "databases");
	bool failed = false;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++)
		failed |= !jv_bool(&dbs->items[i], "ok") && !jv_bool(&dbs->items[i], "skipped");
	jv_clear(&v);
	return failed;
}

const char *dumper_notes_drill(const char *notes)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return NULL;
	const struct jv *dbs = jv_get(&v, "databases");
	bool any = false, failed = false, unproven = false, priv = false;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
		const struct jv *dr = jv_get(&dbs->items[i], "drill");
		if (!dr || !jv_bool(dr, "ran"))
			continue;
		any = true;
		const char *res = jv_str(dr, "result");
		failed |= !jv_bool(dr, "ok");
		unproven |= jv_bool(dr, "ok") && (!res || strncmp(res, "proven", 6) != 0);
		const char *where = jv_str(dr, "where");
		priv |= where && !strcmp(where, "private server");
	}
	jv_clear(&v);
	return !any ? NULL : failed ? "drill failed" : unproven ? "restored"
			   : priv ? "proven in a private server" : "proven";
}

bool dumper_notes_have_folder(const char *notes)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return false;
	const struct jv *dbs = jv_get(&v, "databases");
	bool server = false;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n && !server; i++) {
		const char *kind = jv_str(&dbs->items[i], "kind");
		server = kind && strcmp(kind, "sqlite") != 0;
	}
	jv_clear(&v);
	return server;
}

static int schema_text(const char *tool, const char *version, char **ret)
{
	*ret = NULL;
	if (!tool)
		return 0;
	if (asprintf(ret, "%s %s", tool, version ? version : "(no migration run yet)") < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

int dumper_notes_db_schema(const char *notes, const char *name, char **ret)
{
	struct jv v;
	*ret = NULL;
	if (!notes || jv_parse(notes, &v) < 0)
		return 0;
	const struct jv *dbs = jv_get(&v, "databases");
	int r = 0;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n; i++) {
		const struct jv *d = &dbs->items[i];
		const char *n = jv_str(d, "name");
		if (!n || strcmp(n, name))
			continue;
		const struct jv *sc = jv_get(d, "schema");
		if (sc)
			r = schema_text(jv_str(sc, "tool"), jv_str(sc, "version"), ret);
		break;
	}
	jv_clear(&v);
	return r;
}

int dumper_notes_db_status(const char *notes, const char *name, char **ret_why)
{
	struct jv v;
	if (!notes || jv_parse(notes, &v) < 0)
		return -ENOENT;
	const struct jv *dbs = jv_get(&v, "databases");
	int r = -ENOENT;
	for (size_t i = 0; dbs && dbs->t == J_ARR && i < dbs->n && r == -ENOENT; i++) {
		const struct jv *d = &dbs->items[i];
		const char *n = jv_str(d, "name");
		if (!n || strcmp(n, name))
			continue;
		r = jv_bool(d, "ok") ? 1 : 0;
		if (r == 0 && ret_why) {
			const char *why = jv_str(d, "result");
			bool skipped = jv_bool(d, "skipped");
			if (asprintf(ret_why, "%s%s", skipped ? "skipped: " : "", why ? why : "failed") < 0) {
				*ret_why = NULL;
				r = -ENOMEM;
			}
		}
	}
	jv_clear(&v);
	return r;
}
