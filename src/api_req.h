/*
 * api_req.h - what an HTTP request to the agent's API asks, decided from
 * its method, path, query arguments, Authorization header and body.
 * No I/O, no libmicrohttpd: api.c feeds it what MHD parsed, the fuzzer
 * (tests/fuzz/fuzz_api.c) feeds it anything.  Depends on cJSON only.
 */
#ifndef HAPAIR_API_REQ_H
#define HAPAIR_API_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "ops.h"

enum {
	API_BODY_MAX = 4096,	/* POST body, bytes */
	API_EVENTS_MAX = 256,	/* largest limit= */
};

enum api_route {
	ROUTE_DASHBOARD = 1,	/* GET / */
	ROUTE_STATUS,		/* GET /v1/status */
	ROUTE_METRICS,		/* GET /metrics */
	ROUTE_PRIMARY,		/* GET /primary */
	ROUTE_REPLICA,		/* GET /replica */
	ROUTE_EVENTS,		/* GET /v1/events: needs the loop */
	ROUTE_SWITCHOVER,	/* POST /v1/switchover */
	ROUTE_PAUSE,		/* POST /v1/pause */
	ROUTE_RESUME,		/* POST /v1/resume */
};

extern const char api_endpoints[];	/* for 404/405 answers */

/* Route a request line.  HEAD counts as GET.  Returns 0 and *route, or
 * an HTTP status (404 no such path, 405 wrong method) with *why. */
int api_route(const char *method, const char *url, enum api_route *route,
	      const char **why);

/* Does the route need the loop (events and the POSTs)? */
bool api_route_queued(enum api_route route);

struct api_input {
	enum api_route route;
	const char *since, *limit;	/* GET /v1/events args, or NULL */
	const char *authorization;	/* the header, or NULL */
	const char *token;		/* configured; "" = changes off */
	const char *body;		/* POST body (not NUL-terminated) */
	size_t body_len;
	bool body_too_big;		/* more than API_BODY_MAX came */
};

/* The operator request of a queued route: 0 and *op filled (origin
 * left to the caller), or an HTTP status - 400 bad arguments or body,
 * 401 missing or wrong token, 403 no token configured - with *why. */
int api_parse(const struct api_input *in, struct ops_request *op,
	      const char **why);

#endif
