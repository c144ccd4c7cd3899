/*
 * err.h - one error message that travels up the call chain.
 *
 * Functions that can fail return 0 or a negative code and fill a
 * caller-supplied struct hp_err with one sentence a person can act on:
 * what failed, on what, why, what was expected.  Low layers never print;
 * the caller decides whether the message goes to the log, the CLI or an
 * HTTP client.  hp_err_prefix() adds context as the error travels up.
 */
#ifndef HAPAIR_ERR_H
#define HAPAIR_ERR_H

#include <stdarg.h>

enum { HP_ERR_MAX = 512 };

struct hp_err {
	char msg[HP_ERR_MAX];
};

/* Set the message (printf-style) and return -1 so callers can write
 * `return hp_errf(err, "...")`.  err may be NULL. */
int hp_errf(struct hp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the existing message; returns -1. */
int hp_err_prefix(struct hp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
