/*
 * api_req.c - routing and validation of API requests (see api_req.h).
 * The token is compared in constant time (sodium_memcmp).
 */
#include "api_req.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char api_endpoints[] =
	"GET /, /v1/status, /v1/events, /primary, /replica, /metrics; "
	"POST /v1/switchover, /v1/pause, /v1/resume";

static const struct {
	const char *path;
	enum api_route route;
	bool post;
} routes[] = {
	{ "/", ROUTE_DASHBOARD, false },
	{ "/index.html", ROUTE_DASHBOARD, false },
	{ "/v1/status", ROUTE_STATUS, false },
	{ "/metrics", ROUTE_METRICS, false },
	{ "/primary", ROUTE_PRIMARY, false },
	{ "/replica", ROUTE_REPLICA, false },
	{ "/v1/events", ROUTE_EVENTS, false },
	{ "/v1/switchover", ROUTE_SWITCHOVER, true },
	{ "/v1/pause", ROUTE_PAUSE, true },
	{ "/v1/resume", ROUTE_RESUME, true },
};

int api_route(const char *method, const char *url, enum api_route *route,
	      const char **why)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST");

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path))
			continue;
		if (routes[i].post ? !post : !get) {
			*why = routes[i].post ? "use POST for " :
						"use GET for ";
			return 405;
		}
		*route = routes[i].route;
		return 0;
	}
	*why = "no such endpoint: ";
	return 404;
}

bool api_route_queued(enum api_route route)
{
	return route >= ROUTE_EVENTS;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	*out = 0;
	if (!s)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

/* The bearer token: NULL if it matches, else why not (*status). */
static const char *auth_failure(const struct api_input *in, int *status)
{
	const char *h = in->authorization;
	size_t len = strlen(in->token);

	*status = 401;
	if (!len) {
		*status = 403;
		return "changes are disabled: no [api] token_file configured";
	}
	if (!h || strncmp(h, "Bearer ", 7))
		return "missing bearer token (Authorization: Bearer TOKEN)";
	if (strlen(h + 7) != len || sodium_memcmp(h + 7, in->token, len))
		return "wrong bearer token";
	return NULL;
}

/* A JSON object with at most the string field `allowed` ("to"); NULL if
 * fine, else why not.  An empty body is an empty object. */
static const char *parse_body(const struct api_input *in,
			      const char *allowed, struct ops_request *op)
{
	const char *why = NULL;
	cJSON *o, *f;

	if (in->body_too_big || in->body_len > API_BODY_MAX)
		return "request body too large (at most 4096 bytes)";
	if (!in->body_len)
		return NULL;
	o = cJSON_ParseWithLength(in->body, in->body_len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return "request body is not a JSON object";
	}
	cJSON_ArrayForEach(f, o) {
		if (!allowed || !f->string || strcmp(f->string, allowed)) {
			why = allowed ? "unknown field in the request body "
				       "(expected only \"to\")" :
				"this request takes no fields";
			break;
		}
		if (!cJSON_IsString(f) || !f->valuestring[0] ||
		    strlen(f->valuestring) >= sizeof(op->to)) {
			why = "\"to\" must be a node name";
			break;
		}
		snprintf(op->to, sizeof(op->to), "%s", f->valuestring);
	}
	cJSON_Delete(o);
	return why;
}

int api_parse(const struct api_input *in, struct ops_request *op,
	      const char **why)
{
	uint64_t n;
	int status;

	memset(op, 0, sizeof(*op));
	switch (in->route) {
	case ROUTE_EVENTS:
		op->verb = OPS_EVENTS;
		if (parse_u64(in->since, UINT64_MAX / 2, &op->since) ||
		    parse_u64(in->limit, API_EVENTS_MAX, &n)) {
			*why = "since and limit must be whole numbers (limit "
			       "at most 256)";
			return 400;
		}
		op->limit = (int)n;
		return 0;
	case ROUTE_SWITCHOVER:
	case ROUTE_PAUSE:
	case ROUTE_RESUME:
		break;
	default:
		*why = "not an operator request";
		return 400;
	}
	*why = auth_failure(in, &status);
	if (*why)
		return status;
	op->verb = in->route == ROUTE_SWITCHOVER ? OPS_SWITCHOVER :
		   in->route == ROUTE_PAUSE ? OPS_PAUSE : OPS_RESUME;
	*why = parse_body(in, in->route == ROUTE_SWITCHOVER ? "to" : NULL, op);
	if (*why) {
		memset(op->to, 0, sizeof(op->to));
		return 400;
	}
	return 0;
}
