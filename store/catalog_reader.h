/* catalog_reader.h — a read connection to the catalog per thread, for
 * the blob index lookups of a repository opened REPO_READ, and of a
 * writer's thread that holds one (why in catalog_reader.c).  Private to
 * catalog*.c, repo_open.c and writer.c.
 */
#ifndef CKPTFS_STORE_CATALOG_READER_H
#define CKPTFS_STORE_CATALOG_READER_H

#include <sqlite3.h>

struct repo;
struct cat_reader;

enum cat_reader_q {
	CAT_READER_BLOB_LOOKUP,
	CAT_READER_BLOB_LOOKUP_ANY,
	CAT_READER_Q_COUNT
};

/* The calling thread's connection, opened on first use; NULL when the
 * repository is not REPO_READ and the thread holds none, or the connection
 * cannot be had (then use the shared connection under db_lock: slower, the
 * same answers).  A held one is inside its read transaction. */
struct cat_reader *cat_reader_get(struct repo *repo);

/* The calling thread's blob lookups (any mode) go to its own connection,
 * several in one read transaction that is renewed whenever the shared
 * connection has changed rows since it began.  Nested holds count; each
 * is released with cat_reader_unhold.  A connection that cannot be opened
 * leaves lookups on the shared one. */
void cat_reader_hold(struct repo *repo);
void cat_reader_unhold(struct repo *repo);

/* End the calling thread's held read transaction, if one is open, keeping
 * the hold and the connection: its next lookup begins a new one and sees
 * the catalog as it is then.  No hold: nothing. */
void cat_reader_renew(struct repo *repo);

/* Statement q of rd (sql prepared on first use, else reset with its
 * bindings cleared) in *ret.  An SQLite result code. */
int cat_reader_stmt(struct cat_reader *rd, enum cat_reader_q q, const char *sql,
		    sqlite3_stmt **ret);

/* rd's handle, for error messages. */
sqlite3 *cat_reader_db(struct cat_reader *rd);

/* Destructor of repo->reader_key's values. */
void cat_reader_release(void *p);

/* Close the calling thread's connection, if any (repo_close: other
 * threads' were closed when they exited). */
void cat_reader_close_mine(struct repo *repo);

#endif
