/*
 * ctl.h - the local control socket (a Unix stream socket per node).
 *
 * The CLI sends one request line ("status\n"); the agent answers with
 * one JSON document and closes.  Only root (the socket is 0600) may ask.
 * The answer may come later (a switchover waits for its outcome): the
 * handler gets the request and answers it with ctl_reply() whenever it
 * is ready, exactly once.  A client that went away meanwhile costs
 * nothing: the reply is dropped.
 */
#ifndef HAPAIR_CTL_H
#define HAPAIR_CTL_H

#include <uv.h>

#include "err.h"

struct ctl;

struct ctl_req;

/* Handle one request line; answer with ctl_reply(req, ...) now or
 * later. */
typedef void (*ctl_handler)(void *data, const char *request,
			    struct ctl_req *req);

/* Answer req with reply (malloc'd, taken over; NULL = out of memory).
 * req is gone afterwards. */
void ctl_reply(struct ctl_req *req, char *reply);

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
