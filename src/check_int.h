/*
 * check_int.h - inside the check module (check.c, check_net.c,
 * check_script.c); callers use check.h.
 *
 * check.c owns the schedule and the rise/fall count; a type file owns
 * one run.  A run goes: check.c starts it and arms the deadline; the type
 * file opens its per-run handles (each counted in c->open, each closed
 * with check_run_handle_closed), records one result with check_result()
 * and closes them; when the last is closed check.c counts the result and
 * schedules the next run.  Because the next run starts only after every
 * handle of this one is closed, two runs of a check never overlap.
 */
#ifndef HAPAIR_CHECK_INT_H
#define HAPAIR_CHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "conf.h"

enum {
	CHECK_REASON_MAX = 200,
	CHECK_WHERE_MAX = 80,		/* "[ipv6]:port" */
	HTTP_REQUEST_MAX = 512,
	HTTP_READ_MAX = 4096,		/* read for the status line */
	SCRIPT_LINE_MAX = 160,		/* output kept for the reason */
	SCRIPT_SINK_MAX = 512,		/* read chunk for the rest */
};

struct check_set;

/* A tcp or http run: one connection. */
struct check_net {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	char request[HTTP_REQUEST_MAX];
	char buf[HTTP_READ_MAX];
	size_t used;
};

/* A script run: the shell and one pipe for its stdout and stderr. */
struct check_script {
	uv_process_t proc;
	uv_pipe_t out;
	bool spawned;
	bool exited;
	bool eof;
	int64_t status;
	int signal;
	char line[SCRIPT_LINE_MAX];	/* first line of output */
	size_t line_len;
	bool line_done;
	char sink[SCRIPT_SINK_MAX];
};

struct check {
	struct check_set *set;
	struct conf_check conf;
	struct sockaddr_storage sa;	/* tcp, http: address and port */
	char where[CHECK_WHERE_MAX];	/* "127.0.0.1:80", "[::1]:80" */
	uv_timer_t timer;		/* next run, or the running deadline */

	bool healthy;
	bool reported;			/* a state has been reported */
	bool last_pass;
	uint32_t in_a_row;		/* results like last_pass in a row */
	char last_reason[CHECK_REASON_MAX];

	bool running;
	uint64_t started_ms;
	int open;			/* this run's handles not yet closed */
	bool decided;
	bool pass;
	char reason[CHECK_REASON_MAX];
	union {
		struct check_net net;
		struct check_script script;
	} u;
};

/* Record the run's result; only the first call of a run counts. */
void check_result(struct check *c, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The loop of c's set. */
uv_loop_t *check_loop(const struct check *c);

/* Count a per-run handle opened / give this as its close callback. */
void check_run_handle_opened(struct check *c);
void check_run_handle_closed(uv_handle_t *h);

/* The set of c is being closed. */
bool check_closing(const struct check *c);

/* Text for a libuv status code, e.g. "Connection refused". */
const char *check_strerror(int status);

/* Start a run of a tcp or http check / a script check. */
void check_net_start(struct check *c);
void check_script_start(struct check *c);

/* End the run now: at the deadline (timed_out, records "timeout after N
 * ms" unless a result is known) or because the set closes. */
void check_net_stop(struct check *c, bool timed_out);
void check_script_stop(struct check *c, bool timed_out);

#endif
