/*
 * ctl.h - the local control socket (a Unix stream socket per node).
 *
 * The CLI sends one request line ("status\n"); the agent answers with
 * one JSON document and closes.  Only root (the socket is 0600) may ask.
 */
#ifndef HAPAIR_CTL_H
#define HAPAIR_CTL_H

#include <uv.h>

#include "err.h"

struct ctl;

/* Build the reply to one request line.  Returns a malloc'd string the
 * server frees, or NULL for an unknown request. */
typedef char *(*ctl_handler)(void *data, const char *request);

/* Listen on path (an old socket file there is replaced).  Returns 0 or
 * -1 with *err set. */
int ctl_listen(uv_loop_t *loop, const char *path, ctl_handler handler,
	       void *data, struct ctl **out, struct hp_err *err);

/* Stop listening, close open connections and unlink the socket file. */
void ctl_close(struct ctl *ctl);

/* Client side (blocking, with timeout_ms): send request, return the
 * malloc'd reply in *reply.  Returns 0 or -1 with *err set. */
int ctl_request(const char *path, const char *request, int timeout_ms,
		char **reply, struct hp_err *err);

#endif
