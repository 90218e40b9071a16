/* shquote.h — a command line as a POSIX shell would read it back: the
 * message `ckptfs run` gives its snapshot, so `log` and `show` say exactly
 * which command it was taken before.
 */
#ifndef CKPTFS_SRC_SHQUOTE_H
#define CKPTFS_SRC_SHQUOTE_H

#include <stddef.h>

/* argv[0..argc) joined by single spaces, each word left bare when it is
 * made only of characters no shell treats specially, else put in single
 * quotes (a ' inside becoming '\'').  An empty word is ''.  Returns a
 * malloc'd string (the caller frees it), or NULL when out of memory. */
char *shquote_argv(int argc, char *const *argv);

#endif
