/* output.h — everything the user reads: numbers, sizes, times, JSON
 * strings, error lines and the progress line.
 *
 * Formatting functions write into a caller's buffer of OUT_BUF bytes and
 * return it, so several can appear in one printf.
 */
#ifndef CKPTFS_SRC_OUTPUT_H
#define CKPTFS_SRC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_BUF 48

/* Exit statuses (documented in ckptfs(1)). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3, /* snapshot written, but some files could not be stored */
	EXIT_LOCKED = 4,  /* the repository stayed locked by another writer */
	EXIT_MISSING = 5, /* snap --all: some project roots are gone (the rest were taken) */
};

/* "0 B", "999 B", "1.0 KiB", "38.4 MiB", "1.2 GiB" (binary units, one
 * decimal from KiB up). */
const char *out_size(uint64_t bytes, char buf[OUT_BUF]);

/* "7", "12,431", "1,000,000". */
const char *out_count(uint64_t n, char buf[OUT_BUF]);

/* "0.41 s" under 10 s, "12.3 s" under a minute, "2 min 05 s" under an
 * hour, then "1 h 02 min".  Negative durations print as 0. */
const char *out_duration(int64_t ns, char buf[OUT_BUF]);

/* How long ago something was, for lists: "just now" (under 10 s; also for
 * the future, which clock skew can produce), "42 s ago", "3 min ago",
 * "5 h ago", "2 days ago", "3 weeks ago", "4 months ago", "2 years ago". */
const char *out_age(int64_t ago_ns, char buf[OUT_BUF]);

/* How long until something happens, rounded to the nearest unit so a
 * window of 7 days that began a moment ago reads "in 7 days": "now" (at or
 * past it), "in seconds" (under 10 s), "in 42 s", "in 3 min", "in 5 h",
 * "in 7 days", "in 3 weeks", "in 4 months", "in 2 years". */
const char *out_time_left(int64_t left_ns, char buf[OUT_BUF]);

/* Local time of ns as "2026-02-14 10:30:12" (with_seconds) or
 * "2026-02-14 10:30". */
const char *out_local_time(int64_t ns, bool with_seconds, char buf[OUT_BUF]);

/* UTC ISO 8601 with ns: "2026-02-14T09:30:12.123456789Z", for JSON. */
const char *out_utc_iso(int64_t ns, char buf[OUT_BUF]);

/* Write s as a quoted JSON string: ", \ and control characters escaped;
 * valid UTF-8 passed through; each byte that is not part of valid UTF-8
 * (file names need not be text) written as \udcXX, the lone-surrogate
 * convention of Python's "surrogateescape", so no byte is lost.  NULL is
 * written as null.  This is jv_write_str (store/json_lite.h), the
 * writer the snapshot notes use too, whose reader undoes it. */
void out_json_str(FILE *f, const char *s);

/* A name for terminal output: valid UTF-8 printable text unchanged;
 * control characters (a newline in a file name) and invalid bytes as
 * \n, \t, \xNN, backslash as \\, so one entry stays one line.  Returns
 * a malloc'd string (NULL on ENOMEM). */
char *out_printable(const char *s);

/* Print "ckptfs: <formatted>" and a newline on stderr. */
void out_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the store's recorded message for the failure r (a negative errno):
 * "ckptfs: <store message>", or "ckptfs: <what>: <strerror>" when the
 * store recorded none.  Returns the exit status for r: EXIT_LOCKED for
 * -EWOULDBLOCK, else EXIT_ERROR. */
int out_store_err(int r, const char *what);

/* A single status line on stderr that rewrites itself, for long work.  It
 * appears only when stderr is a terminal, only after the work has run for
 * about a second, and at most ten times a second. */
struct out_progress {
	bool enabled, shown;
	int64_t start_ns, last_ns;
};

/* enabled = !quiet && stderr is a terminal. */
void out_progress_init(struct out_progress *p, bool quiet);

/* Show the formatted text (cut to the terminal width) if it is time to. */
void out_progress_update(struct out_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Erase the line if shown (before printing anything else on stderr, and
 * at the end). */
void out_progress_clear(struct out_progress *p);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
int64_t out_mono_ns(void);
int64_t out_now_ns(void);

/* The time commands that judge ages go by (status, forget, trash):
 * $CKPTFS_NOW (UTC seconds; for tests) if set, else out_now_ns(). */
int64_t out_clock_ns(void);

#endif
