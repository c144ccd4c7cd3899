/*
 * api.h - the agent's HTTP API (libmicrohttpd): GET /v1/status,
 * /primary, /replica and /metrics.
 *
 * The server runs in its own thread but never touches the loop's state:
 * it answers from a snapshot (status JSON, metrics text, role) that the
 * loop publishes with api_refresh() after each step and on a timer.
 */
#ifndef HAPAIR_API_H
#define HAPAIR_API_H

#include "conf.h"
#include "err.h"

struct api;
struct voter;

/* Listen on ep and start serving v's snapshots; refreshes them every
 * API_REFRESH_MS on v's loop.  Returns 0, or -1 with *err set (address
 * in use, not local, ...). */
int api_open(struct voter *v, const struct conf_endpoint *ep,
	     struct api **out, struct hp_err *err);

/* Take a new snapshot of v: call on the loop after each step. */
void api_refresh(struct api *a);

/* Stop the server thread and free a once its timer has closed. */
void api_close(struct api *a);

#endif
