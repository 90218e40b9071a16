/* sqlsection.c — chosen tables' sections of a mysqldump (sqlsection.h). */
#include "dumpers/sqlsection.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char table_mark[] = "-- Table structure for table `";
static const char *const other_marks[] = {
	"-- Temporary table structure for view", "-- Temporary view structure for view",
	"-- Final view structure for view", "-- Dumping routines for database",
	"-- Dumping events for database",
};
static const char footer_mark[] = "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE";

int dumper_sqlsection_init(struct dumper_sqlsection *s, const char *const *tables, size_t n)
{
	memset(s, 0, sizeof *s);
	s->tables = tables;
	s->ntables = n;
	s->keep = true; /* the header */
	s->at_start = true;
	if (n && !(s->seen = calloc(n, sizeof *s->seen)))
		return -ENOMEM;
	return 0;
}

void dumper_sqlsection_clear(struct dumper_sqlsection *s)
{
	free(s->seen);
	memset(s, 0, sizeof *s);
}

const char *dumper_sqlsection_missing(const struct dumper_sqlsection *s)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (!s->seen[i])
			return s->tables[i];
	return NULL;
}

static bool starts(const char *line, size_t n, const char *mark)
{
	size_t m = strlen(mark);
	return n >= m && !memcmp(line, mark, m);
}

/* The name in "-- Table structure for table `na``me`", unquoted, into
 * buf; false if it does not end within the line. */
static bool mark_name(const char *line, size_t n, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = sizeof table_mark - 1; i < n; i++) {
		if (line[i] == '`') {
			if (i + 1 < n && line[i + 1] == '`') {
				i++;
			} else {
				buf[o] = '\0';
				return true;
			}
		}
		if (o + 1 >= cap)
			return false;
		buf[o++] = line[i];
	}
	return false;
}

/* The fate of the line held in s->line (complete, or as long as kept). */
static void decide(struct dumper_sqlsection *s)
{
	const char *l = s->line;
	size_t n = s->line_len;
	if (s->footer) {
		s->keep = true;
	} else if (starts(l, n, table_mark)) {
		char name[sizeof s->line];
		s->keep = false;
		if (mark_name(l, n, name, sizeof name))
			for (size_t i = 0; i < s->ntables; i++)
				if (!strcmp(name, s->tables[i])) {
					s->keep = true;
					s->seen[i] = true;
				}
	} else if (starts(l, n, footer_mark)) {
		s->footer = s->keep = true;
	} else {
		for (size_t i = 0; i < sizeof other_marks / sizeof *other_marks; i++)
			if (starts(l, n, other_marks[i]))
				s->keep = false;
	}
	s->line_decided = true;
}

int dumper_sqlsection_feed(struct dumper_sqlsection *s, const char *buf, size_t n,
			   dumper_sql_out_fn out, void *ctx)
{
	size_t i = 0;
	while (i < n) {
		if (s->line_decided) {
			/* The rest of a decided line: through (or not) as a run. */
			const char *nl = memchr(buf + i, '\n', n - i);
			size_t k = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
			if (s->keep) {
				int r = out(ctx, buf + i, k);
				if (r < 0)
					return r;
			}
			i += k;
			if (nl) {
				s->line_decided = false;
				s->line_len = 0;
			}
			continue;
		}
		/* Collect the line's start until its end or the buffer is full. */
		char c = buf[i++];
		s->line[s->line_len++] = c;
		if (c == '\n' || s->line_len == sizeof s->line) {
			decide(s);
			if (s->keep) {
				int r = out(ctx, s->line, s->line_len);
				if (r < 0)
					return r;
			}
			if (c == '\n') {
				s->line_decided = false;
				s->line_len = 0;
			}
		}
	}
	return 0;
}

int dumper_sqlsection_end(struct dumper_sqlsection *s, dumper_sql_out_fn out, void *ctx)
{
	if (!s->line_decided && s->line_len) {
		decide(s);
		if (s->keep)
			return out(ctx, s->line, s->line_len);
	}
	return 0;
}
