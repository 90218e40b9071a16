/* sqlmigr.h — the migration version read from a mysqldump stream
 * (dumpers-internal).
 *
 * MySQL cannot hand one transaction's snapshot to another session, so the
 * version asked after the dump may be newer than the dump.  The dump's own
 * text holds it: the CREATE TABLE and INSERT sections of the migration
 * tools' tables (migration.h: alembic_version, schema_migrations, …).
 * As the dump streams by, those sections are kept — the column names of
 * each CREATE TABLE, the tuples of each INSERT (at most SQLMIGR_MAX bytes
 * in all; a dump with more has them "not read") — and afterwards loaded
 * into an in-memory SQLite database where the same probes as for every
 * other database choose the tool and read its version
 * (dumper_sqlite_schema).  Fed in pieces of any size; strings are read
 * with MySQL's escapes ('\'', '\\', '\n', '' …), numbers stay numbers so
 * "ORDER BY id" orders as on the server.
 */
#ifndef CKPTFS_DUMPERS_SQLMIGR_H
#define CKPTFS_DUMPERS_SQLMIGR_H

#include <stdbool.h>
#include <stddef.h>

#include "dumpers/migration.h"

#define SQLMIGR_MAX (4u << 20)
#define SQLMIGR_HEAD 256

struct sqlmigr_table {
	char **cols;        /* column names of its CREATE TABLE (malloc'd) */
	size_t ncols;
	bool created;       /* its CREATE TABLE was seen whole */
	char *values;       /* its INSERTs' tuples, one statement after another */
	size_t vlen, vcap;
};

struct dumper_sqlmigr {
	int state;
	char head[SQLMIGR_HEAD];  /* the start of the current line */
	size_t hlen;
	int table;                /* the candidate whose section this is, or -1 */
	/* The INSERT being kept: strings and escapes, so a ';' in one does not
	 * end it. */
	char quote;
	bool escaped;
	int depth;
	struct sqlmigr_table *tables; /* one per probe (migration.h), in its order */
	size_t ntables;
	size_t kept;              /* bytes kept in all */
	bool overflow;            /* more than SQLMIGR_MAX: nothing is read */
	int err;                  /* -ENOMEM once memory failed */
};

/* Start c.  0 or -ENOMEM. */
int dumper_sqlmigr_init(struct dumper_sqlmigr *c);

/* Feed n more bytes of the dump. */
void dumper_sqlmigr_feed(struct dumper_sqlmigr *c, const char *buf, size_t n);

/* The migration version the dump holds, into *ret (tool NULL: none).
 * *ret_found: the dump had a migration tool's table and it was read
 * (false: none, or too large, or its text not understood — then the
 * version must be asked elsewhere).  0 or -ENOMEM. */
int dumper_sqlmigr_schema(const struct dumper_sqlmigr *c, struct dumper_schema *ret,
			  bool *ret_found);

/* Free what c holds (and zero it). */
void dumper_sqlmigr_clear(struct dumper_sqlmigr *c);

#endif
