/*
 * ops.h - operator requests, the same for the CLI (control socket) and
 * the HTTP API: status, events, switchover, pause, resume.
 *
 * Every request gets exactly one answer through its reply function: an
 * HTTP-style status (200 done, 400 bad request, 404 unknown, 409 not
 * possible now, 500 failed, 503 shutting down, 504 no outcome in time)
 * and a JSON body.  Status and events answer at once; a switchover
 * answers when it is done or aborted.  Loop thread only.
 */
#ifndef HAPAIR_OPS_H
#define HAPAIR_OPS_H

#include <stddef.h>
#include <stdint.h>

struct voter;

enum ops_verb { OPS_STATUS, OPS_EVENTS, OPS_SWITCHOVER, OPS_PAUSE,
		OPS_RESUME };

struct ops_request {
	enum ops_verb verb;
	char to[64];		/* switchover: target node, "" = the peer */
	uint64_t since;		/* events: ids above this */
	int limit;		/* events: at most this many, 0 = all kept */
	char origin[96];	/* who asked, for the log: "cli", "api from
				 * 192.0.2.10" */
};

/* body: malloc'd JSON text (ownership passes), never NULL unless out of
 * memory. */
typedef void (*ops_reply_fn)(void *ctx, int status, char *body);

void ops_handle(struct voter *v, const struct ops_request *req,
		ops_reply_fn reply, void *ctx);

/* After every step: finish switchover requests whose outcome is known. */
void ops_after_step(struct voter *v);

/* Shutting down: answer every waiting request with 503. */
void ops_close(struct voter *v);

/* Parse a control-socket line ("switchover b", "events 10 50", ...)
 * into req.  Returns 0, or -1 with a sentence in err. */
int ops_parse_line(const char *line, struct ops_request *req, char *err,
		   size_t size);

#endif
