/* glob.h — the glob patterns of `ckptfs search`.
 *
 * The matcher is the one .ckptignore uses (store/ignore_glob.c): '*' any
 * run of bytes but '/', '?' one byte but '/', "[...]" a class ('!' or '^'
 * negates, ranges, "[:alpha:]"), '\' escapes, and "**" between slashes
 * any number of directories.  Bytes are compared as bytes.
 */
#ifndef CKPTFS_STORE_GLOB_H
#define CKPTFS_STORE_GLOB_H

#include <stdbool.h>

/* 0 if pattern is well formed; -EINVAL with a message naming it if it is
 * empty, has an unclosed '[' or ends in a lone '\'. */
int glob_check(const char *pattern);

/* Whether text matches pattern (a checked one). */
bool glob_match(const char *pattern, const char *text);

#endif
