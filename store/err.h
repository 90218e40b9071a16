/* err.h — the store's error convention.
 *
 * Every store function returns 0 (or a non-negative count) on success and a
 * negative errno on failure.  The function that *finds* a failure records a
 * one-line message saying what it concerns and why ("pack 3fa2…: trailer
 * checksum mismatch"), and returns the errno; callers above it pass the
 * errno up unchanged and do not print.  The CLI prints the message once as
 * "ckptfs: <message>".  Messages are per thread.
 */
#ifndef CKPTFS_STORE_ERR_H
#define CKPTFS_STORE_ERR_H

#include <errno.h>

/* Data failed authentication, decompression, id or structure checks:
 * corruption (or tampering).  The FUSE layer turns it into EIO. */
#define STORE_ECORRUPT EBADMSG
/* The repository was written by a newer ckptfs (format too new). */
#define STORE_ENEWER EPROTONOSUPPORT

/* Record "<formatted text>" as this thread's error message and return err
 * (which must be negative).  Use the "what: why" form. */
int store_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like store_fail, appending ": " and strerror(-err). */
int store_failp(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last recorded message, or NULL if none was recorded since
 * the last store_error_clear().  Owned by the store; valid until the next
 * store call on this thread. */
const char *store_error(void);

void store_error_clear(void);

#endif
