/*
 * loop_util.h - helpers for the loop_test_*.c programs: run the libuv
 * loop until a condition holds or a deadline passes, drain it at the end
 * of a test (every handle closed, so uv_loop_close() succeeds), and
 * temporary files.  Each program includes it once.
 */
#ifndef HAPAIR_LOOP_UTIL_H
#define HAPAIR_LOOP_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t test_loop;
static uv_timer_t test_tick;

static inline uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000;
}

static inline void tick_cb(uv_timer_t *t)
{
	(void)t;
}

static inline void count_handle(uv_handle_t *h, void *arg)
{
	if (h != (uv_handle_t *)&test_tick)
		(*(int *)arg)++;
}

/* True when no handle but the tick is left (closing ones count). */
static inline bool loop_drained(void *arg)
{
	int n = 0;

	(void)arg;
	uv_walk(&test_loop, count_handle, &n);
	return n == 0;
}

/* Run the loop until done(arg) or max_ms have passed; a 5 ms tick keeps
 * UV_RUN_ONCE from blocking past the deadline.  Returns done(arg). */
static inline bool run_until(bool (*done)(void *), void *arg,
			     uint64_t max_ms)
{
	uint64_t end = now_ms() + max_ms;
	bool ok;

	uv_timer_init(&test_loop, &test_tick);
	uv_timer_start(&test_tick, tick_cb, 5, 5);
	while (!(ok = done(arg)) && now_ms() < end)
		uv_run(&test_loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&test_tick, NULL);
	uv_run(&test_loop, UV_RUN_NOWAIT);
	return ok;
}

static inline bool never(void *arg)
{
	(void)arg;
	return false;
}

static inline void run_for(uint64_t ms)
{
	run_until(never, NULL, ms);
}

/* End of a test: everything closed within 3 s, the loop closes. */
static inline int drain_loop(void)
{
	if (!run_until(loop_drained, NULL, 3000))
		return -1;
	return uv_loop_close(&test_loop);
}

/* A fresh directory under $TMPDIR (or /tmp) into dir. */
static inline void make_tmp_dir(char *dir, size_t cap)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, cap, "%s/hapair-loop-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
}

/* Whole file into buf (NUL-terminated); -1 if it cannot be read. */
static inline int read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static inline void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		abort();
	}
}

/* rm -rf of a test directory, through the shell for brevity. */
static inline void remove_tmp_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
