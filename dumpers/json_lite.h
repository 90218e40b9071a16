/* json_lite.h — a small JSON reader for snapshot notes (dumpers-internal).
 *
 * Notes are written by ckptfs itself, but a repository is data: the reader
 * is strict (RFC 8259 values, \uXXXX escapes incl. surrogate pairs, depth
 * limited) and never trusts lengths.
 */
#ifndef CKPTFS_DUMPERS_JSON_LITE_H
#define CKPTFS_DUMPERS_JSON_LITE_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	char *s;          /* J_STR: NUL-terminated (a \u0000 ends it early) */
	struct jv *items; /* J_ARR, J_OBJ: n values */
	char **keys;      /* J_OBJ: n keys */
	size_t n;
};

/* Parse text (the whole of it) into *ret; -EINVAL if it is not JSON,
 * -ENOMEM. */
int jv_parse(const char *text, struct jv *ret);

void jv_clear(struct jv *v);

/* Member key of object o, or NULL (also if o is not an object). */
const struct jv *jv_get(const struct jv *o, const char *key);

/* o's member key as a string / number / bool, or the default. */
const char *jv_str(const struct jv *o, const char *key);
double jv_num(const struct jv *o, const char *key, double dflt);
bool jv_bool(const struct jv *o, const char *key);

#endif
