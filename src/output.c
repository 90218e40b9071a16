/* output.c — formatting for humans and scripts (see output.h). */
#include "src/output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "store/json_lite.h"
#include "store/err.h"
#include "store/fileio.h"

#define NS 1000000000LL

const char *out_size(uint64_t bytes, char buf[OUT_BUF])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, OUT_BUF, "%u B", (unsigned)bytes);
		return buf;
	}
	/* Round to tenths in integer arithmetic first, so 1023.96 KiB prints
	 * as "1.0 MiB" and not "1024.0 KiB". */
	int u = 0;
	long double v = (long double)bytes / 1024;
	while (v * 10 + 0.5 >= 1024 * 10 && u < 5) {
		v /= 1024;
		u++;
	}
	unsigned long long tenths = (unsigned long long)(v * 10 + 0.5);
	snprintf(buf, OUT_BUF, "%llu.%llu %s", tenths / 10, tenths % 10, units[u]);
	return buf;
}

const char *out_count(uint64_t n, char buf[OUT_BUF])
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
	char *o = buf;
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			*o++ = ',';
		*o++ = digits[i];
	}
	*o = '\0';
	return buf;
}

const char *out_duration(int64_t ns, char buf[OUT_BUF])
{
	if (ns < 0)
		ns = 0;
	if (ns < 10 * NS) {
		long long cs = (ns + NS / 200) / (NS / 100); /* hundredths, rounded */
		snprintf(buf, OUT_BUF, "%lld.%02lld s", cs / 100, cs % 100);
	} else if (ns < 60 * NS) {
		long long ds = (ns + NS / 20) / (NS / 10);
		snprintf(buf, OUT_BUF, "%lld.%lld s", ds / 10, ds % 10);
	} else if (ns < 3600 * NS) {
		long long s = (ns + NS / 2) / NS;
		snprintf(buf, OUT_BUF, "%lld min %02lld s", s / 60, s % 60);
	} else {
		long long m = (ns + 30 * NS) / (60 * NS);
		snprintf(buf, OUT_BUF, "%lld h %02lld min", m / 60, m % 60);
	}
	return buf;
}

/* The units lists use for a span of time, from seconds to years. */
static const struct span_step {
	int64_t below, unit;
	const char *one, *many;
} span_steps[] = {
	{60, 1, "s", "s"},
	{3600, 60, "min", "min"},
	{86400, 3600, "h", "h"},
	{14 * 86400, 86400, "day", "days"},
	{61 * 86400, 7 * 86400, "week", "weeks"},
	{730 * 86400, 30 * 86400, "month", "months"},
	{INT64_MAX, 365 * 86400, "year", "years"},
};

/* "N unit(s)" for a span of s >= 0 seconds in the unit its size calls for;
 * nearest rounds to the closest whole unit instead of down. */
static void span_words(int64_t s, bool nearest, char buf[OUT_BUF - 8])
{
	for (size_t i = 0; i < sizeof span_steps / sizeof span_steps[0]; i++)
		if (s < span_steps[i].below) {
			const struct span_step *st = &span_steps[i];
			long long n = (s + (nearest ? st->unit / 2 : 0)) / st->unit;
			snprintf(buf, OUT_BUF - 8, "%lld %s", n, n == 1 ? st->one : st->many);
			return;
		}
}

const char *out_age(int64_t ago_ns, char buf[OUT_BUF])
{
	int64_t s = ago_ns / NS;
	if (s < 10) {
		snprintf(buf, OUT_BUF, "just now");
		return buf;
	}
	char span[OUT_BUF - 8];
	span_words(s, false, span);
	snprintf(buf, OUT_BUF, "%s ago", span);
	return buf;
}

const char *out_time_left(int64_t left_ns, char buf[OUT_BUF])
{
	int64_t s = left_ns / NS;
	if (left_ns <= 0) {
		snprintf(buf, OUT_BUF, "now");
		return buf;
	}
	if (s < 10) {
		snprintf(buf, OUT_BUF, "in seconds");
		return buf;
	}
	char span[OUT_BUF - 8];
	span_words(s, true, span);
	snprintf(buf, OUT_BUF, "in %s", span);
	return buf;
}

const char *out_local_time(int64_t ns, bool with_seconds, char buf[OUT_BUF])
{
	time_t t = (time_t)(ns / NS - (ns < 0 && ns % NS ? 1 : 0));
	struct tm tm;
	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, OUT_BUF, with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, OUT_BUF, "?");
	return buf;
}

const char *out_utc_iso(int64_t ns, char buf[OUT_BUF])
{
	int64_t sec = ns / NS, frac = ns % NS;
	if (frac < 0) {
		frac += NS;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	char day[32];
	if (!gmtime_r(&t, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(day, sizeof day, "?");
	snprintf(buf, OUT_BUF, "%s.%09lldZ", day, (long long)frac);
	return buf;
}

void out_json_str(FILE *f, const char *s)
{
	jv_write_str(f, s);
}

char *out_printable(const char *s)
{
	return jv_printable(s);
}

void out_err(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One write, so lines of concurrent processes do not interleave. */
	fprintf(stderr, "ckptfs: %s\n", msg);
}

int out_store_err(int r, const char *what)
{
	const char *msg = store_error();
	if (msg)
		out_err("%s", msg);
	else
		out_err("%s: %s", what, strerror(-r));
	return r == -EWOULDBLOCK ? EXIT_LOCKED : EXIT_ERROR;
}

int64_t out_mono_ns(void)
{
	return fio_mono_ns();
}

int64_t out_now_ns(void)
{
	return fio_now_ns();
}

int64_t out_clock_ns(void)
{
	const char *e = getenv("CKPTFS_NOW");
	if (e && *e) {
		char *end;
		long long sec = strtoll(e, &end, 10);
		if (!*end && sec > 0 && sec < INT64_MAX / 1000000000LL)
			return (int64_t)sec * 1000000000LL;
	}
	return out_now_ns();
}

void out_progress_init(struct out_progress *p, bool quiet)
{
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->shown = false;
	p->start_ns = out_mono_ns();
	p->last_ns = 0;
}

void out_progress_update(struct out_progress *p, const char *fmt, ...)
{
	if (!p->enabled)
		return;
	int64_t now = out_mono_ns();
	if (now - p->start_ns < NS || now - p->last_ns < NS / 10)
		return;
	p->last_ns = now;
	struct winsize ws;
	size_t width = 80;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* Keep one column free so the cursor never wraps to a new line. */
	if (width - 1 < sizeof line) {
		size_t cut = width - 1;
		while (cut > 0 && ((unsigned char)line[cut] & 0xc0) == 0x80)
			cut--; /* not inside a UTF-8 sequence */
		line[cut] = '\0';
	}
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	p->shown = true;
}

void out_progress_clear(struct out_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = false;
	}
}
