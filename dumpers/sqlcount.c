/* sqlcount.c — rows per table in a mysqldump stream (sqlcount.h). */
#include "dumpers/sqlcount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	S_LINE,   /* at a line start: matching "INSERT INTO `" */
	S_SKIP,   /* in a line that is not an insert: to its end */
	S_NAME,   /* the table name, up to its closing backtick */
	S_TICK,   /* a backtick in the name: doubled (part of it) or the end */
	S_VALUES, /* " VALUES " before the first tuple */
	S_TUPLES, /* the tuples, to the ';' that ends the statement */
};

static const char prefix[] = "INSERT INTO `";
static const char values[] = " VALUES";

static struct dumper_table_count *table(struct dumper_sqlcount *c)
{
	if (c->ntables && !strcmp(c->tables[c->ntables - 1].name, c->name))
		return &c->tables[c->ntables - 1];
	for (size_t i = 0; i < c->ntables; i++)
		if (!strcmp(c->tables[i].name, c->name))
			return &c->tables[i];
	struct dumper_table_count *v = realloc(c->tables, (c->ntables + 1) * sizeof *v);
	if (!v)
		return NULL;
	c->tables = v;
	v[c->ntables].name = strdup(c->name);
	if (!v[c->ntables].name)
		return NULL;
	v[c->ntables].rows = 0;
	return &v[c->ntables++];
}

static void tuple(struct dumper_sqlcount *c)
{
	if (c->name_cut || c->err)
		return;
	struct dumper_table_count *t = table(c);
	if (!t) {
		c->err = -ENOMEM;
		return;
	}
	t->rows++;
}

void dumper_sqlcount_feed(struct dumper_sqlcount *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];
		switch (c->state) {
		case S_LINE:
			if (ch == prefix[c->match]) {
				if (!prefix[++c->match]) {
					c->state = S_NAME;
					c->name_len = 0;
					c->name_cut = false;
				}
			} else {
				c->state = ch == '\n' ? S_LINE : S_SKIP;
				c->match = 0;
			}
			break;
		case S_SKIP:
			if (ch == '\n') {
				c->state = S_LINE;
				c->match = 0;
			}
			break;
		case S_NAME:
			if (ch == '`') {
				c->state = S_TICK;
			} else if (ch == '\n') {
				c->state = S_LINE;
				c->match = 0;
			} else if (c->name_len < SQLCOUNT_NAME_MAX) {
				c->name[c->name_len++] = ch;
			} else {
				c->name_cut = true;
			}
			break;
		case S_TICK:
			if (ch == '`') { /* `` is one backtick of the name */
				if (c->name_len < SQLCOUNT_NAME_MAX)
					c->name[c->name_len++] = ch;
				else
					c->name_cut = true;
				c->state = S_NAME;
				break;
			}
			c->name[c->name_len] = '\0';
			c->match = 0;
			c->state = S_VALUES;
			/* fall through: ch is the first byte after the name */
			/* FALLTHROUGH */
		case S_VALUES:
			if (!values[c->match] && (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')) {
				/* " VALUES" then a space, or a newline (mariadb-dump
				 * 10.11+ writes each tuple on its own line) */
				c->state = S_TUPLES;
				c->depth = 0;
				c->quote = 0;
				c->escaped = false;
			} else if (values[c->match] && ch == values[c->match]) {
				c->match++;
			} else {
				/* Not a plain VALUES insert (a column list, say). */
				c->state = ch == '\n' ? S_LINE : S_SKIP;
				c->match = 0;
			}
			break;
		case S_TUPLES:
			if (sql_string_byte(&c->quote, &c->escaped, ch))
				break;
			if (ch == '(') {
				if (c->depth++ == 0)
					tuple(c);
			} else if (ch == ')') {
				if (c->depth > 0)
					c->depth--;
			} else if (ch == ';' && c->depth == 0) {
				c->state = S_SKIP;
			}
			break;
		}
	}
}

void dumper_sqlcount_clear(struct dumper_sqlcount *c)
{
	for (size_t i = 0; i < c->ntables; i++)
		free(c->tables[i].name);
	free(c->tables);
	memset(c, 0, sizeof *c);
}
