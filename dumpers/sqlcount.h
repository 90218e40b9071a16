/* sqlcount.h — counting the rows of each table in a mysqldump stream
 * (dumpers-internal).
 *
 * mariadb-dump/mysqldump write a table's rows as extended inserts, each
 * statement starting a line: INSERT INTO `t` VALUES (…),(…); (newer
 * mariadb-dump: a newline after VALUES and after each tuple).  Counting
 * the tuples of those statements as the dump streams by gives the rows
 * of every table exactly as the dump's own transaction saw them — the
 * counts a full drill compares the restored database with.  The counter
 * is fed the stream in pieces of any size (a statement may span many);
 * strings are skipped with their escapes ('…\'…', '…''…'), so a '(' or
 * ';' in the data counts for nothing.
 */
#ifndef CKPTFS_DUMPERS_SQLCOUNT_H
#define CKPTFS_DUMPERS_SQLCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpers/sqlite.h"

#define SQLCOUNT_NAME_MAX 192

struct dumper_sqlcount {
	int state;
	size_t match;                  /* bytes of the prefix matched so far */
	char name[SQLCOUNT_NAME_MAX + 1];
	size_t name_len;
	bool name_cut;                 /* longer than we keep: not counted */
	int depth;                     /* parentheses inside VALUES */
	char quote;                    /* the open string's quote, or 0 */
	bool escaped;                  /* after a backslash in a string */
	struct dumper_table_count *tables; /* in the order met; malloc'd */
	size_t ntables;
	int err;                       /* -ENOMEM once memory failed */
};

/* Feed n more bytes of the dump. */
void dumper_sqlcount_feed(struct dumper_sqlcount *c, const char *buf, size_t n);

/* Free what c holds (and zero it). */
void dumper_sqlcount_clear(struct dumper_sqlcount *c);

/* The string rule of a dump's VALUES tuples, one byte at a time: ' or "
 * opens a string, a backslash escapes the next byte, the same quote closes
 * it ('' closes and reopens at once: still inside).  True if ch belongs to
 * a string (its quotes included); the caller looks at ch only when false.
 * Shared by the row counter and the migration reader (sqlmigr.c). */
static inline bool sql_string_byte(char *quote, bool *escaped, char ch)
{
	if (*quote) {
		if (*escaped)
			*escaped = false;
		else if (ch == '\\')
			*escaped = true;
		else if (ch == *quote)
			*quote = 0;
		return true;
	}
	if (ch == '\'' || ch == '"') {
		*quote = ch;
		return true;
	}
	return false;
}

#endif
