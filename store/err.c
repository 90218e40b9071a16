/* err.c — per-thread error messages (see err.h). */
#include "store/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[1024];
static _Thread_local int err_set;

static int vfail(int err, int with_errno, const char *fmt, va_list ap)
{
	int n = vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof err_buf)
		snprintf(err_buf + n, sizeof err_buf - (size_t)n, ": %s", strerror(-err));
	err_set = 1;
	return err;
}

int store_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, 0, fmt, ap);
	va_end(ap);
	return err;
}

int store_failp(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, 1, fmt, ap);
	va_end(ap);
	return err;
}

const char *store_error(void)
{
	return err_set ? err_buf : NULL;
}

void store_error_clear(void)
{
	err_set = 0;
	err_buf[0] = '\0';
}
