/* passphrase.h — where the CLI gets a passphrase, and how it never leaks it.
 *
 * In this order: standard input when the command was given
 * --passphrase-stdin (its first line); the file named by
 * $CKPTFS_PASSPHRASE_FILE (its first line; for scripts and tests); the
 * terminal (/dev/tty, echo off; asked twice when a new one is set).  A
 * passphrase is never taken from argv or an environment variable's value,
 * and never printed.  With none of the three: one line saying how to give
 * one.  Buffers are wiped before they are freed (pass_free).
 */
#ifndef CKPTFS_SRC_PASSPHRASE_H
#define CKPTFS_SRC_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

/* Get a passphrase for what ("new passphrase", "passphrase of …").  With
 * confirm (a new passphrase) a terminal asks twice and an empty one is
 * refused.  *ret malloc'd (*ret_len bytes, NUL-terminated); free it with
 * pass_free.  0 or a negative errno with a recorded message. */
int pass_get(const char *what, bool confirm, bool from_stdin, char **ret, size_t *ret_len);

/* Wipe and free. NULL is a no-op. */
void pass_free(char *pass, size_t len);

/* The repository's passphrase source (repokey_set_pass_source): the
 * file, else the terminal. */
int pass_repo_source(const char *what, char **ret, size_t *ret_len);

#endif
