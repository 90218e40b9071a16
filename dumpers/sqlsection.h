/* sqlsection.h — the sections of chosen tables out of a mysqldump stream
 * (dumpers-internal), for restore --db NAME --table T on MySQL/MariaDB.
 *
 * mariadb-dump/mysqldump write one section per table, opened by the
 * comment line "-- Table structure for table `T`": its DROP TABLE,
 * CREATE TABLE, data and triggers.  The filter passes the header (the
 * session settings before the first section: foreign key checks off,
 * character set), the sections of the tables asked for, and the footer
 * (from the "SET TIME_ZONE=@OLD_TIME_ZONE" line on: the settings put
 * back); it drops every other section — other tables, views, routines,
 * events.  Lines are cut from a stream given in pieces of any size.
 */
#ifndef CKPTFS_DUMPERS_SQLSECTION_H
#define CKPTFS_DUMPERS_SQLSECTION_H

#include <stdbool.h>
#include <stddef.h>

/* Output of the filter: 0 or a negative errno (which stops it). */
typedef int (*dumper_sql_out_fn)(void *ctx, const char *buf, size_t n);

struct dumper_sqlsection {
	const char *const *tables;
	size_t ntables;
	bool keep;         /* the current part is passed */
	bool footer;       /* past the sections */
	bool at_start;     /* the next byte starts a line */
	char line[512];    /* the start of the current line, to tell sections */
	size_t line_len;
	bool line_decided; /* the current line's fate is known (passed or not) */
	bool *seen;        /* per table: its section was met (malloc'd) */
};

/* Start a filter for tables.  0 or -ENOMEM. */
int dumper_sqlsection_init(struct dumper_sqlsection *s, const char *const *tables, size_t n);

/* Filter n more bytes, passing what is kept to out. */
int dumper_sqlsection_feed(struct dumper_sqlsection *s, const char *buf, size_t n,
			   dumper_sql_out_fn out, void *ctx);

/* At the end: flush a last line without newline.  0 or out's error. */
int dumper_sqlsection_end(struct dumper_sqlsection *s, dumper_sql_out_fn out, void *ctx);

/* The first table whose section was never met, or NULL. */
const char *dumper_sqlsection_missing(const struct dumper_sqlsection *s);

void dumper_sqlsection_clear(struct dumper_sqlsection *s);

#endif
