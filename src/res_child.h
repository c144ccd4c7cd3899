/*
 * res_child.h - one child process of a resource at a time (pg_ctl,
 * pg_rewind, mariadb-dump, a start script, ...) on the agent's loop.
 * Internal to the resource types (res_pg*.c, res_mariadb*.c).
 *
 * The child is spawned detached (its own session) with stdin ignored,
 * its stdout in a pipe of which the tail is kept (stderr: the caller
 * joins it, e.g. through sh -c 'exec "$0" "$@" 2>&1'), optionally as
 * another uid/gid, and killed (SIGKILL) at its timeout.  A child that
 * exited while a grandchild (a daemon it started) still holds the pipe
 * is done after a short grace.  The callback runs once every handle of
 * the run has closed, so it may start the next child at once; it does
 * not run while the resource set is closing.
 */
#ifndef HAPAIR_RES_CHILD_H
#define HAPAIR_RES_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct res;

enum { RES_CHILD_OUT_MAX = 4096 }; /* tail of the output kept */

/* status: the exit status, -1 if killed (timeout, res_child_kill) or
 * ended by a signal; out: the tail of its output. */
typedef void (*res_child_cb)(struct res *r, int status, const char *out);

struct res_child {
	struct res *r;
	uv_process_t proc;
	uv_pipe_t pipe;		/* its stdout (and stderr, if joined) */
	uv_timer_t timer;	/* timeout, then the grace after exit */
	bool running;
	bool timed_out;
	int open;		/* handles of this run not yet closed */
	int64_t status;
	res_child_cb cb;
	char name[32];		/* "pg_ctl start", for messages */
	char out[RES_CHILD_OUT_MAX + 1];
	size_t len;
};

/* Run argv[0] (a path) with env (NULL-ended, may be NULL), as uid/gid
 * when as_user, bounded by timeout_ms.  where and name go into the
 * message.  Returns 0, or -1 with err set if it could not start (cb is
 * not called). */
int res_child_run(struct res *r, struct res_child *x, const char *where,
		  const char *name, char *const argv[], char *const env[],
		  bool as_user, uid_t uid, gid_t gid, uint32_t timeout_ms,
		  res_child_cb cb, char *err, size_t size);

/* Kill the running child (SIGKILL); its cb still runs, with -1. */
void res_child_kill(struct res_child *x);

#endif
