/* relpath.h — store-internal: the relative path ("src/lib/x.c") of the
 * entry a tree descent (walk, restore, diff) is at, grown in place as it
 * goes down and cut back as it comes up.
 */
#ifndef CKPTFS_STORE_RELPATH_H
#define CKPTFS_STORE_RELPATH_H

#include <stddef.h>

struct relpath {
	char *s; /* NUL-terminated; "" at the top once initialised */
	size_t len, cap;
};

/* Start p as "" (so p->s can be read before the first push).  -ENOMEM
 * (nothing recorded). */
int relpath_init(struct relpath *p);

/* Append "/name" ("name" at the top).  *ret_old, if not NULL, gets the
 * length to give relpath_pop to undo it.  -ENOMEM (nothing recorded). */
int relpath_push(struct relpath *p, const char *name, size_t *ret_old);

/* Cut the path back to len bytes. */
void relpath_pop(struct relpath *p, size_t len);

/* Free the buffer; p is empty again. */
void relpath_free(struct relpath *p);

#endif
