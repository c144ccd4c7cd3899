/*
 * err.c - formatting for struct hp_err.  PURE: libc only.
 */
#include "err.h"

#include <stdio.h>
#include <string.h>

int hp_errf(struct hp_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int hp_err_prefix(struct hp_err *err, const char *fmt, ...)
{
	char ctx[HP_ERR_MAX], old[HP_ERR_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Keep as much of both as fits; the tail of a long message goes. */
	snprintf(err->msg, sizeof(err->msg), "%.200s: %.300s", ctx, old);
	return -1;
}
