/*
 * tool_util.h - helpers the test tools probe and rwriter share: the
 * monotonic clock, fatal errors, whole-number options and result files
 * written atomically.  Header only (static inline): CMake builds each
 * .c file in tests/tools as a program of its own.
 *
 * Define TOOL_NAME, the program's name for its messages, before the
 * include.
 */
#ifndef TOOL_UTIL_H
#define TOOL_UTIL_H

#ifndef TOOL_NAME
#error "define TOOL_NAME before including tool_util.h"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* The time left until deadline (now_ns() time), for ppoll(). */
static inline struct timespec until(int64_t deadline)
{
	int64_t d = deadline - now_ns();
	struct timespec ts = { 0, 0 };

	if (d > 0) {
		ts.tv_sec = d / 1000000000;
		ts.tv_nsec = d % 1000000000;
	}
	return ts;
}

static inline void die(const char *what, const char *arg)
{
	fprintf(stderr, TOOL_NAME ": %s%s%s\n", what, arg ? ": " : "",
		arg ? arg : "");
	exit(2);
}

/* A whole number in 1..max for option opt, or exit with a message. */
static inline long parse_num(const char *opt, const char *text, long max)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v <= 0 || v > max) {
		fprintf(stderr, TOOL_NAME ": %s: expected a whole number in "
			"1..%ld, got \"%s\"\n", opt, max, text);
		exit(2);
	}
	return v;
}

/* "key":<ns in ms>, or "key":null, when the value is not known. */
static inline void json_ms_or_null(FILE *f, const char *key, bool known,
				   int64_t ns)
{
	if (known)
		fprintf(f, "\"%s\":%.3f,", key, ms(ns));
	else
		fprintf(f, "\"%s\":null,", key);
}

/* A file written atomically: write to what atomic_open() returns, then
 * atomic_close() renames path.tmp (in tmp) onto path.  Either exits
 * with a message when it cannot. */
static inline FILE *atomic_open(const char *path, char tmp[PATH_MAX])
{
	FILE *f;

	snprintf(tmp, PATH_MAX, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write", tmp);
	return f;
}

static inline void atomic_close(FILE *f, const char *tmp, const char *path)
{
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write", path);
}

#endif
