/* toml_lite.h — the TOML subset ckptfs's own configuration files use
 * ($XDG_CONFIG_HOME/ckptfs/config.toml, a project's .ckptfs.toml), read
 * into (table, key, value) callbacks.
 *
 * Accepted, one item per line: blank lines and # comments; [table]
 * headers whose dotted parts are bare (A-Za-z0-9_-) or "quoted"
 * ([retention."my app"] is table `retention.my app`); key = value with a
 * bare key and a value that is a "basic" string (\" \\ \n \t escapes), a
 * 'literal' string, a decimal integer, true/false, or a one-line array of
 * strings (["a", 'b'], each element handed over as its own value).
 * Anything else on a line is an error naming file and line — a typo in a
 * retention policy must not silently become another policy.  Strings hold
 * no NUL (an escape cannot make one) and no raw newline.
 */
#ifndef CKPTFS_STORE_TOML_LITE_H
#define CKPTFS_STORE_TOML_LITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type { TOML_STRING, TOML_INT, TOML_BOOL };

struct toml_value {
	enum toml_type type;
	const char *s; /* TOML_STRING; valid during the callback only */
	int64_t i;     /* TOML_INT */
	bool b;        /* TOML_BOOL */
	bool in_array; /* one element of an array */
};

/* Called for every key (every element of an array), in file order, with
 * the current table ("" before the first header).  A negative return
 * stops the parse and is returned (the callback records its message, e.g.
 * with store_fail naming file:line). */
typedef int (*toml_fn)(void *ctx, const char *table, const char *key, const struct toml_value *v,
		       int line);

/* Parse text (len bytes, NUL not required; a NUL byte is an error) from
 * the file named file (for messages).  0, -EINVAL with "file:line: why"
 * recorded, -ENOMEM, or the callback's error. */
int toml_parse(const char *text, size_t len, const char *file, toml_fn fn, void *ctx);

/* Called for every [table] header, in file order, before its keys (a
 * table may have none: .ckptfs.toml's [databases.NAME] lists a database
 * by its name alone).  A negative return stops the parse. */
typedef int (*toml_table_fn)(void *ctx, const char *table, int line);

/* toml_parse, telling table_fn (if not NULL) of every header too. */
int toml_parse_tables(const char *text, size_t len, const char *file, toml_fn fn,
		      toml_table_fn table_fn, void *ctx);

#endif
