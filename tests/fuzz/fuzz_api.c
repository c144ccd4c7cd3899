/*
 * fuzz_api.c - libFuzzer target for the HTTP API's request handling
 * (src/api_req.c: routing, query arguments, bearer token, JSON bodies).
 *
 * The input is split at its first three NUL bytes into a method, a
 * path, and an Authorization header; the rest is the body, which also
 * supplies the since/limit arguments (its first two lines) for
 * /v1/events.  Whatever the bytes: routing answers 0, 404 or 405;
 * parsing answers 0 or a 4xx with a reason; an accepted change had the
 * right token, and its target node name is a NUL-terminated string
 * that came from a JSON string; anything else aborts.  libmicrohttpd
 * itself (request line and header parsing, size limits) is not ours and
 * is fuzzed by its own project.
 *
 * Seeds: tests/fuzz/corpus/api/ (one valid request per endpoint and the
 * bad requests of tests/sys/test_api_ops.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char token[] = "0123456789abcdef0123456789abcdef";

/* The next NUL-terminated field of in (copied into out), or the rest. */
static size_t field(const uint8_t *in, size_t size, size_t pos, char *out,
		    size_t cap)
{
	size_t n = 0;

	while (pos < size && in[pos] && n + 1 < cap)
		out[n++] = (char)in[pos++];
	out[n] = '\0';
	while (pos < size && in[pos])	/* over-long: skip the rest */
		pos++;
	return pos < size ? pos + 1 : pos;
}

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_api: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[16], url[256], auth[300], since[32] = "", limit[32] = "";
	struct api_input in = { .token = token };
	struct ops_request op;
	enum api_route route = 0;
	const char *why = NULL, *nl;
	size_t pos = 0;
	int status;

	pos = field(data, size, pos, method, sizeof(method));
	pos = field(data, size, pos, url, sizeof(url));
	pos = field(data, size, pos, auth, sizeof(auth));
	status = api_route(method, url, &route, &why);
	check(status == 0 || status == 404 || status == 405, "route status");
	check(status == 0 || (why && *why), "route refusal without reason");
	if (status || !api_route_queued(route))
		return 0;

	in.route = route;
	in.authorization = auth[0] ? auth : NULL;
	in.body = (const char *)data + pos;
	in.body_len = size - pos;
	in.body_too_big = in.body_len > API_BODY_MAX;
	if (route == ROUTE_EVENTS) {
		nl = memchr(in.body, '\n', in.body_len);
		if (nl && (size_t)(nl - in.body) < sizeof(since)) {
			memcpy(since, in.body, (size_t)(nl - in.body));
			in.since = since;
			memcpy(limit, nl + 1, in.body_len -
			       (size_t)(nl + 1 - in.body) < sizeof(limit) - 1 ?
			       in.body_len - (size_t)(nl + 1 - in.body) :
			       sizeof(limit) - 1);
			in.limit = limit[0] ? limit : NULL;
		}
	}
	memset(&op, 0x5a, sizeof(op));
	status = api_parse(&in, &op, &why);
	check(status == 0 || status == 400 || status == 401 || status == 403,
	      "parse status");
	check(status == 0 || (why && *why), "parse refusal without reason");
	if (status)
		return 0;
	check(memchr(op.to, '\0', sizeof(op.to)) != NULL, "to not terminated");
	if (route == ROUTE_EVENTS) {
		check(op.verb == OPS_EVENTS, "events verb");
		check(op.limit >= 0 && op.limit <= API_EVENTS_MAX,
		      "events limit");
		return 0;
	}
	check(in.authorization && !strncmp(in.authorization, "Bearer ", 7) &&
	      !strcmp(in.authorization + 7, token), "change without token");
	check(op.verb == (route == ROUTE_SWITCHOVER ? OPS_SWITCHOVER :
			  route == ROUTE_PAUSE ? OPS_PAUSE : OPS_RESUME),
	      "verb does not match the route");
	check(route == ROUTE_SWITCHOVER || !op.to[0], "to on a pause");
	return 0;
}
