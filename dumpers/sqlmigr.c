/* sqlmigr.c — the migration tables' sections of a mysqldump stream, and
 * their version read in an in-memory SQLite database (sqlmigr.h). */
#include "dumpers/sqlmigr.h"
#include "dumpers/sqlcount.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

enum {
	M_HEAD,   /* the start of a line, kept in head until it says what it is */
	M_SKIP,   /* the rest of a line that is not ours */
	M_VALUES, /* the tuples of a migration table's INSERT, to its ';' */
};

#define SQLMIGR_COLS 32 /* columns of a tool's table, at most */

/* Whether the line being read is a column line of a kept CREATE TABLE. */
#define CREATING(c) ((c)->table >= 0 && (c)->state != M_VALUES)

int dumper_sqlmigr_init(struct dumper_sqlmigr *c)
{
	memset(c, 0, sizeof *c);
	c->table = -1;
	size_t n;
	dumper_migration_probes(&n);
	if (!(c->tables = calloc(n, sizeof *c->tables)))
		return c->err = -ENOMEM;
	c->ntables = n;
	return 0;
}

static void free_cols(struct sqlmigr_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	t->cols = NULL;
	t->ncols = 0;
}

void dumper_sqlmigr_clear(struct dumper_sqlmigr *c)
{
	for (size_t i = 0; c->tables && i < c->ntables; i++) {
		free_cols(&c->tables[i]);
		free(c->tables[i].values);
	}
	free(c->tables);
	memset(c, 0, sizeof *c);
	c->table = -1;
}

/* The probe whose table is named by the backticked name at s (len bytes
 * of line), with *ret_end just past its closing backtick; -1 if none. */
static int candidate(const char *s, size_t len, size_t *ret_end)
{
	const char *tick = memchr(s, '`', len);
	if (!tick || ((size_t)(tick - s) + 1 < len && tick[1] == '`'))
		return -1; /* cut, or a doubled backtick: no tool's name */
	size_t n, nl = (size_t)(tick - s);
	const struct dumper_migration_probe *p = dumper_migration_probes(&n);
	for (size_t i = 0; i < n; i++)
		if (strlen(p[i].table) == nl && !memcmp(p[i].table, s, nl)) {
			*ret_end = nl + 1;
			return (int)i;
		}
	return -1;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	return len >= pl && !memcmp(s, prefix, pl);
}

static void keep(struct dumper_sqlmigr *c, char ch)
{
	struct sqlmigr_table *t = &c->tables[c->table];
	if (c->overflow || c->err)
		return;
	if (c->kept >= SQLMIGR_MAX) {
		c->overflow = true;
		return;
	}
	if (t->vlen + 1 >= t->vcap) {
		size_t nc = t->vcap ? t->vcap * 2 : 256;
		char *v = realloc(t->values, nc);
		if (!v) {
			c->err = -ENOMEM;
			return;
		}
		t->values = v;
		t->vcap = nc;
	}
	t->values[t->vlen++] = ch;
	t->values[t->vlen] = '\0';
	c->kept++;
}

/* One byte of a kept INSERT's tuples. */
static void value_byte(struct dumper_sqlmigr *c, char ch)
{
	if (sql_string_byte(&c->quote, &c->escaped, ch)) {
		/* inside a string: kept as it is */
	} else if (ch == '(') {
		c->depth++;
	} else if (ch == ')') {
		if (c->depth > 0)
			c->depth--;
	} else if (ch == ';' && c->depth == 0) {
		c->state = M_SKIP;
		c->table = -1;
		return;
	}
	keep(c, ch);
}

static void add_col(struct dumper_sqlmigr *c, const char *name, size_t n)
{
	struct sqlmigr_table *t = &c->tables[c->table];
	char **v = realloc(t->cols, (t->ncols + 1) * sizeof *v);
	if (!v) {
		c->err = -ENOMEM;
		return;
	}
	t->cols = v;
	if (!(v[t->ncols] = malloc(n + 1))) {
		c->err = -ENOMEM;
		return;
	}
	/* `` is one backtick of the name. */
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		v[t->ncols][o++] = name[i];
		if (name[i] == '`')
			i++;
	}
	v[t->ncols++][o] = '\0';
}

/* The line in head (whole: complete) says what it is. */
static void decide(struct dumper_sqlmigr *c, bool complete)
{
	const char *s = c->head;
	size_t len = c->hlen, end;
	int next = complete ? M_HEAD : M_SKIP;
	if (complete && len && s[len - 1] == '\n')
		len--;
	c->hlen = 0;
	if (CREATING(c)) {
		/* "  `name` type …," — a column; ")…;" — the end. */
		if (starts(s, len, "  `")) {
			size_t i = 3;
			while (i < len && !(s[i] == '`' && (i + 1 >= len || s[i + 1] != '`')))
				i += s[i] == '`' ? 2 : 1;
			if (i < len)
				add_col(c, s + 3, i - 3);
		} else if (starts(s, len, ")")) {
			c->tables[c->table].created = true;
			c->table = -1;
		}
		c->state = next;
		return;
	}
	int i;
	if (starts(s, len, "CREATE TABLE `") &&
	    (i = candidate(s + 14, len - 14, &end)) >= 0 && starts(s + 14 + end, len - 14 - end, " (")) {
		/* Only the last CREATE counts (the dump has one per table). */
		free_cols(&c->tables[i]);
		c->tables[i].created = false;
		c->table = i;
	} else if (starts(s, len, "INSERT INTO `") &&
		   (i = candidate(s + 13, len - 13, &end)) >= 0 &&
		   starts(s + 13 + end, len - 13 - end, " VALUES")) {
		c->table = i;
		c->quote = 0;
		c->escaped = false;
		c->depth = 0;
		c->state = M_VALUES;
		if (c->tables[i].vlen)
			keep(c, ','); /* after the tuples of an earlier INSERT */
		size_t stop = len + (complete ? 1 : 0);
		for (size_t k = 13 + end + 7; k < stop; k++) {
			char ch = k < len ? s[k] : '\n';
			if (c->state != M_VALUES) {
				/* Ended on this line: the rest of it is not ours. */
				if (ch == '\n')
					c->state = M_HEAD;
				continue;
			}
			value_byte(c, ch);
		}
		if (c->state == M_SKIP && complete)
			c->state = M_HEAD;
		return;
	}
	c->state = next;
}

void dumper_sqlmigr_feed(struct dumper_sqlmigr *c, const char *buf, size_t n)
{
	if (!c->tables)
		return;
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		switch (c->state) {
		case M_HEAD:
			c->head[c->hlen++] = ch;
			if (ch == '\n')
				decide(c, true);
			else if (c->hlen == SQLMIGR_HEAD)
				decide(c, false);
			break;
		case M_SKIP:
			if (ch == '\n')
				c->state = M_HEAD;
			break;
		case M_VALUES:
			value_byte(c, ch);
			break;
		}
	}
}

/* ---- reading the kept tuples ---- */

struct val {
	enum { V_NULL, V_INT, V_REAL, V_TEXT } t;
	int64_t i;
	double d;
	char *s; /* V_TEXT, malloc'd */
	size_t n;
};

static const char *ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* A quoted string at p (at its quote): into v, the end past it, or NULL. */
static const char *string(const char *p, const char *e, struct val *v)
{
	char q = *p++;
	char *o = malloc((size_t)(e - p) + 1);
	size_t n = 0;
	if (!o)
		return NULL;
	for (; p < e; p++) {
		if (*p == '\\' && p + 1 < e) {
			p++;
			static const char from[] = "0bnrtZ", to[] = {'\0', '\b', '\n', '\r', '\t', 26};
			const char *f = strchr(from, *p);
			o[n++] = f && *p ? to[f - from] : *p;
		} else if (*p == q) {
			if (p + 1 < e && p[1] == q) { /* '' is one quote */
				o[n++] = q;
				p++;
			} else {
				o[n] = '\0';
				v->t = V_TEXT;
				v->s = o;
				v->n = n;
				return p + 1;
			}
		} else {
			o[n++] = *p;
		}
	}
	free(o);
	return NULL;
}

/* One value at p: into v, the end past it, or NULL if not understood. */
static const char *value(const char *p, const char *e, struct val *v)
{
	memset(v, 0, sizeof *v);
	if (p < e && (*p == '\'' || *p == '"'))
		return string(p, e, v);
	if (e - p >= 4 && !memcmp(p, "NULL", 4)) {
		v->t = V_NULL;
		return p + 4;
	}
	if (p < e && *p == '_') { /* a charset introducer: _binary '…' */
		const char *q = p + 1;
		while (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
			q++;
		q = ws(q, e);
		return q < e && *q == '\'' ? string(q, e, v) : NULL;
	}
	const char *q = p;
	bool real = false;
	if (q < e && (*q == '-' || *q == '+'))
		q++;
	const char *digits = q;
	while (q < e && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
			 ((*q == '-' || *q == '+') && (q[-1] == 'e' || q[-1] == 'E')))) {
		real |= !(*q >= '0' && *q <= '9');
		q++;
	}
	if (q == digits || (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))))
		return NULL; /* 0x…, b'…', a word: not a migration table's */
	char num[64];
	if ((size_t)(q - p) >= sizeof num)
		return NULL;
	memcpy(num, p, (size_t)(q - p));
	num[q - p] = '\0';
	char *end;
	errno = 0;
	if (!real) {
		v->i = strtoll(num, &end, 10);
		if (!errno && !*end) {
			v->t = V_INT;
			return q;
		}
	}
	v->d = strtod(num, &end);
	if (*end)
		return NULL;
	v->t = V_REAL;
	return q;
}

static void free_row(struct val *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].s);
}

/* Load table t (name) into db: 0, -EINVAL (not understood), -ENOMEM. */
static int load(sqlite3 *db, const char *name, const struct sqlmigr_table *t)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "CREATE TABLE \"%s\" (", name);
	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? ", \"" : "\"", f);
		for (const char *p = t->cols[i]; *p; p++)
			fputs(*p == '"' ? "\"\"" : (char[]){*p, 0}, f);
		fputc('"', f);
	}
	fputs(")", f);
	if (fclose(f) != 0) {
		free(sql);
		return -ENOMEM;
	}
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
	if (t->ncols > SQLMIGR_COLS)
		return -EINVAL; /* no tool's table has that many columns */
	char marks[2 * SQLMIGR_COLS + 1];
	marks[0] = '?';
	for (size_t i = 1; i < t->ncols; i++)
		memcpy(marks + 2 * i - 1, ",?", 2);
	marks[2 * t->ncols - 1] = '\0';
	if (asprintf(&sql, "INSERT INTO \"%s\" VALUES (%s)", name, marks) < 0)
		return -ENOMEM;
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
	struct val row[SQLMIGR_COLS];
	int r = 0;
	const char *p = t->values ? t->values : "", *e = p + t->vlen;
	for (;;) {
		p = ws(p, e);
		while (p < e && *p == ',')
			p = ws(p + 1, e);
		if (p >= e)
			break;
		if (*p != '(') {
			r = -EINVAL;
			break;
		}
		size_t n = 0;
		p++;
		for (;;) {
			p = ws(p, e);
			if (n == t->ncols || !(p = value(p, e, &row[n]))) {
				r = -EINVAL;
				break;
			}
			n++;
			p = ws(p, e);
			if (p < e && *p == ',') {
				p++;
				continue;
			}
			if (p < e && *p == ')') {
				p++;
				break;
			}
			r = -EINVAL;
			break;
		}
		if (r == 0 && n != t->ncols)
			r = -EINVAL;
		for (size_t k = 0; r == 0 && k < n; k++) {
			int b = row[k].t == V_NULL ? sqlite3_bind_null(st, (int)k + 1)
				: row[k].t == V_INT ? sqlite3_bind_int64(st, (int)k + 1, row[k].i)
				: row[k].t == V_REAL ? sqlite3_bind_double(st, (int)k + 1, row[k].d)
				: sqlite3_bind_text(st, (int)k + 1, row[k].s, (int)row[k].n, SQLITE_TRANSIENT);
			if (b != SQLITE_OK)
				r = b == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
		}
		if (r == 0 && (rc = sqlite3_step(st)) != SQLITE_DONE)
			r = rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
		sqlite3_reset(st);
		free_row(row, n);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	return r;
}

int dumper_sqlmigr_schema(const struct dumper_sqlmigr *c, struct dumper_schema *ret,
			  bool *ret_found)
{
	memset(ret, 0, sizeof *ret);
	*ret_found = false;
	if (c->err)
		return c->err;
	bool any = false;
	for (size_t i = 0; i < c->ntables; i++)
		any |= c->tables[i].created && c->tables[i].ncols;
	if (!any || c->overflow)
		return 0;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -ENOMEM;
	}
	size_t n;
	const struct dumper_migration_probe *p = dumper_migration_probes(&n);
	int r = 0;
	for (size_t i = 0; i < c->ntables && i < n && r == 0; i++)
		if (c->tables[i].created && c->tables[i].ncols)
			r = load(db, p[i].table, &c->tables[i]);
	if (r == 0 && (r = dumper_sqlite_schema(db, ret)) == 0)
		*ret_found = true;
	sqlite3_close(db);
	/* Text it does not understand: not read (asked elsewhere). */
	return r == -EINVAL ? 0 : r;
}
