/* json_lite.h — a small JSON reader and string writer, for snapshot notes
 * and the CLI's --json output.
 *
 * Notes are written by ckptfs itself, but a repository is data: the reader
 * is strict (RFC 8259 values, \uXXXX escapes incl. surrogate pairs, depth
 * limited) and never trusts lengths.  Names are bytes, not always UTF-8:
 * the writer escapes a byte that is not part of valid UTF-8 as a lone
 * surrogate \udc80-\udcff (Python's surrogateescape, so json.loads and
 * os.fsencode give the name back), and the reader turns such an escape
 * back into the byte, so every name survives a round trip.
 */
#ifndef CKPTFS_STORE_JSON_LITE_H
#define CKPTFS_STORE_JSON_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* Write s as a JSON string literal ("null" for NULL): quotes, backslashes
 * and control characters escaped, valid UTF-8 as it is, other bytes as
 * \udcXX (see above). */
void jv_write_str(FILE *f, const char *s);

/* s for a terminal: valid UTF-8 printable text unchanged; control
 * characters and bytes that are not UTF-8 as \n, \t, \xNN, a backslash
 * as \\, so a name stays on one line and no byte is hidden.  malloc'd,
 * NULL on ENOMEM.  (The CLI's out_printable.) */
char *jv_printable(const char *s);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if the byte at s
 * does not start one.  Rejects overlong forms, surrogates and > U+10FFFF. */
size_t jv_utf8_len(const unsigned char *s);

#endif
