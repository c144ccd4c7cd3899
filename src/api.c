/*
 * api.c - the agent's HTTP API, served by libmicrohttpd.
 *
 *   GET  /              the dashboard (dashboard.html, one page)
 *   GET  /v1/status     the status document (as `hapair status --json`)
 *   GET  /v1/events     recent events; ?since=ID&limit=N
 *   GET  /primary       200 "primary" while this node holds a live lease,
 *                       else 503: for HAProxy-style health checks
 *   GET  /replica       200 "replica" while a healthy standby, else 503
 *   GET  /metrics       Prometheus text format 0.0.4 (metrics.c)
 *   POST /v1/switchover {"to": "b"} (optional): planned switchover;
 *                       answers when it is done (200) or not (409/504)
 *   POST /v1/pause      automatic failover off (both nodes)
 *   POST /v1/resume     and on again
 *
 * POST needs "Authorization: Bearer <token>" with the token of [api]
 * token_file: none configured is 403, missing or wrong is 401 (logged,
 * rate-limited).  A body that is not a JSON object, has unknown fields or
 * is over 4 KiB is 400 (api_req.c decides).  Unknown paths are 404, other methods
 * 405, all with a JSON body saying what exists.  HEAD is answered as GET.
 *
 * Threads: MHD runs its own polling thread, and the election state
 * belongs to the libuv loop.  GETs of status, metrics and the role
 * checks read only a snapshot, a mutex-protected copy the loop replaces
 * after each step (api_refresh) and on a timer.  /primary compares the
 * snapshot's lease end with the clock at the time of the request, so a
 * lease never looks live after it ends.  Requests that need the loop
 * (events, the POSTs) are queued to it through a uv_async_t while their
 * connection is suspended; the loop answers through ops.c and resumes
 * the connection, whose next callback sends the answer.
 *
 * Bad requests are bounded by MHD: a connection gets at most
 * MEMORY_LIMIT bytes for its request line and headers (more is answered
 * with an error by MHD itself), at most CONN_LIMIT connections are open
 * and an idle one is closed after CONN_TIMEOUT_S.
 */
#define _GNU_SOURCE
#include "api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "api_req.h"
#include "dashboard.h"
#include "guard.h"
#include "log.h"
#include "ops.h"
#include "voter.h"

enum {
	API_REFRESH_MS = 200,
	CONN_LIMIT = 64,
	CONN_TIMEOUT_S = 10,
	MEMORY_LIMIT = 16 * 1024,	/* request line + headers, per conn */
	LISTEN_BACKLOG = 64,
	URL_SHOWN_MAX = 128,		/* bytes of a bad URL echoed back */
	AUTH_LOG_SLOT = LOG_RL_SLOTS - 1,
	AUTH_LOG_MS = 5000,
};


/* One request that needs the loop (con_cls of its connection). */
struct api_req {
	struct api *a;
	struct MHD_Connection *conn;
	enum api_route route;
	char body[API_BODY_MAX + 1];
	size_t len;
	bool too_big;
	bool queued;		/* handed to the loop, connection suspended */
	bool done;		/* the loop answered: status, answer */
	int status;
	char *answer;
	struct ops_request op;
	struct api_req *next;	/* the queue to the loop */
};

struct api {
	struct voter *v;
	struct MHD_Daemon *mhd;
	uv_timer_t timer;

	pthread_mutex_t lock;	/* guards everything below */
	char *status;		/* NULL until the first refresh */
	char *metrics;
	uint64_t lease_end_ms;	/* primary: its lease end, else 0 */
	bool replica;		/* a healthy standby */
	char token[CONF_TOKEN_MAX]; /* "" = mutating calls disabled */
	struct api_req *queue;	/* requests for the loop, newest first */
	bool closing;		/* no new requests go to the loop */

	uv_async_t wake;	/* the loop takes the queue */
	int handles;		/* still closing */
};

/* ---- the snapshot (loop side) ---------------------------------------- */

void api_refresh(struct api *a)
{
	struct voter *v = a->v;
	uint64_t now = mono_ms();
	char *status = status_json(v, now), *metrics = metrics_text(v, now);
	char *old_status, *old_metrics;

	pthread_mutex_lock(&a->lock);
	old_status = a->status;
	old_metrics = a->metrics;
	a->status = status;
	a->metrics = metrics;
	a->lease_end_ms = v->st.role == ROLE_PRIMARY ? v->st.lease_end_ms : 0;
	a->replica = v->st.role == ROLE_STANDBY && v->st.healthy;
	memcpy(a->token, v->conf.api.token, sizeof(a->token));
	pthread_mutex_unlock(&a->lock);
	free(old_status);
	free(old_metrics);
}

static void refresh_cb(uv_timer_t *t)
{
	api_refresh(t->data);
}

/* ---- the loop side of queued requests ------------------------------- */

/* ops.c answered: keep the answer, let MHD send it (any thread may
 * resume a connection). */
static void loop_answered(void *ctx, int status, char *body)
{
	struct api_req *r = ctx;
	struct api *a = r->a;

	pthread_mutex_lock(&a->lock);
	r->status = body ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
	r->answer = body;
	r->done = true;
	MHD_resume_connection(r->conn);
	pthread_mutex_unlock(&a->lock);
}

static void wake_cb(uv_async_t *h)
{
	struct api *a = h->data;
	struct api_req *list, *next, *rev = NULL;

	pthread_mutex_lock(&a->lock);
	list = a->queue;
	a->queue = NULL;
	pthread_mutex_unlock(&a->lock);
	for (; list; list = next) { /* oldest first */
		next = list->next;
		list->next = rev;
		rev = list;
	}
	for (; rev; rev = next) {
		next = rev->next;
		ops_handle(a->v, &rev->op, loop_answered, rev);
	}
}

/* ---- answers (MHD thread) -------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
			     const char *type, const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* Read-only JSON may be read by the peer's dashboard. */
	if (!strcmp(type, "application/json"))
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"hapair\"");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* {"error": "WHY WHAT; endpoints are ...", "status": code}, what (from
 * the client) cut to URL_SHOWN_MAX bytes and escaped by cJSON. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code,
				   const char *why, const char *what)
{
	char shown[URL_SHOWN_MAX + 4], msg[512], *text;
	cJSON *o = cJSON_CreateObject();
	enum MHD_Result rc;

	snprintf(shown, sizeof(shown), "%.*s%s", URL_SHOWN_MAX, what,
		 strlen(what) > URL_SHOWN_MAX ? "..." : "");
	snprintf(msg, sizeof(msg), "%s%s%s%s", why, shown,
		 code == MHD_HTTP_NOT_FOUND ||
		 code == MHD_HTTP_METHOD_NOT_ALLOWED ? "; endpoints are " : "",
		 code == MHD_HTTP_NOT_FOUND ||
		 code == MHD_HTTP_METHOD_NOT_ALLOWED ? api_endpoints : "");
	if (!o || !cJSON_AddStringToObject(o, "error", msg) ||
	    !cJSON_AddNumberToObject(o, "status", code) ||
	    !(text = cJSON_PrintUnformatted(o))) {
		cJSON_Delete(o);
		return MHD_NO;
	}
	cJSON_Delete(o);
	rc = reply(c, code, "application/json", text);
	cJSON_free(text);
	return rc;
}

/* The status or metrics text under the lock (copied by reply()). */
static enum MHD_Result serve_text(struct api *a, struct MHD_Connection *c,
				  bool metrics)
{
	static const char json[] = "application/json";
	static const char prom[] = "text/plain; version=0.0.4; charset=utf-8";
	enum MHD_Result rc;
	const char *text;

	pthread_mutex_lock(&a->lock);
	text = metrics ? a->metrics : a->status;
	if (text)
		rc = reply(c, MHD_HTTP_OK, metrics ? prom : json, text);
	else
		rc = MHD_NO;
	pthread_mutex_unlock(&a->lock);
	if (!text)
		return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "no snapshot yet (starting, or out of "
				   "memory): ",
				   metrics ? "/metrics" : "/v1/status");
	return rc;
}

static enum MHD_Result serve_role(struct api *a, struct MHD_Connection *c,
				  bool primary)
{
	bool yes;

	pthread_mutex_lock(&a->lock);
	yes = primary ? mono_ms() < a->lease_end_ms : a->replica;
	pthread_mutex_unlock(&a->lock);
	if (primary)
		return reply(c, yes ? MHD_HTTP_OK :
			     MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
			     yes ? "primary\n" : "not primary\n");
	return reply(c, yes ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		     "text/plain",
		     yes ? "replica\n" : "not a healthy replica\n");
}

static enum MHD_Result serve_dashboard(struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t len;
	const char *page = dashboard_html(&len);

	r = MHD_create_response_from_buffer(len, (void *)page,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/html; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

static void client_name(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(buf, size, "?");
	if (ci && ci->client_addr)
		uv_ip_name(ci->client_addr, buf, size);
}

/* Hand r to the loop and suspend its connection until it answers. */
static enum MHD_Result to_loop(struct api *a, struct api_req *r)
{
	bool closing;

	pthread_mutex_lock(&a->lock);
	closing = a->closing;
	if (!closing) {
		r->next = a->queue;
		a->queue = r;
		r->queued = true;
		MHD_suspend_connection(r->conn);
	}
	pthread_mutex_unlock(&a->lock);
	if (closing)
		return reply_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the agent is shutting down", "");
	uv_async_send(&a->wake);
	return MHD_YES;
}

/* A complete request that needs the loop: check it (api_req.c), then
 * queue it.  Refused changes are logged, rate-limited. */
static enum MHD_Result start_request(struct api *a, struct api_req *r,
				     const char *url)
{
	struct MHD_Connection *c = r->conn;
	struct api_input in = {
		.route = r->route,
		.since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						     "since"),
		.limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						     "limit"),
		.authorization = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		.body = r->body,
		.body_len = r->len,
		.body_too_big = r->too_big,
	};
	char who[64], token[CONF_TOKEN_MAX];
	const char *why;
	int status;

	pthread_mutex_lock(&a->lock);
	memcpy(token, a->token, sizeof(token));
	pthread_mutex_unlock(&a->lock);
	in.token = token;
	status = api_parse(&in, &r->op, &why);
	sodium_memzero(token, sizeof(token));
	client_name(c, who, sizeof(who));
	snprintf(r->op.origin, sizeof(r->op.origin), "api %s %s from %s",
		 r->route == ROUTE_EVENTS ? "GET" : "POST", url, who);
	if (status == MHD_HTTP_UNAUTHORIZED || status == MHD_HTTP_FORBIDDEN)
		log_ratelimited(AUTH_LOG_SLOT, mono_ms(), AUTH_LOG_MS, LOG_WARN,
				"%s: refused (%d): %s", r->op.origin, status,
				why);
	if (status)
		return reply_error(c, (unsigned)status, why, "");
	return to_loop(a, r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *r = *con_cls;
	enum api_route route;
	const char *why;
	int status;

	if (r == (void *)a) {		/* answered; discard any body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (r) {
		if (r->done)		/* resumed: the loop's answer */
			return reply(c, (unsigned)r->status,
				     "application/json", r->answer);
		if (*upload_size) {	/* more of a POST body */
			if (*upload_size > API_BODY_MAX - r->len)
				r->too_big = true;
			else
				memcpy(r->body + r->len, upload, *upload_size);
			if (!r->too_big)
				r->len += *upload_size;
			*upload_size = 0;
			return MHD_YES;
		}
		if (r->queued)
			return MHD_YES;
		return start_request(a, r, url);
	}
	/* First call: the request line and headers. */
	status = api_route(method, url, &route, &why);
	if (status) {
		*con_cls = a;
		return reply_error(c, (unsigned)status, why, url);
	}
	if (api_route_queued(route)) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->a = a;
		r->conn = c;
		r->route = route;
		*con_cls = r;
		if (route != ROUTE_EVENTS)
			return MHD_YES;	/* the body comes next */
		return start_request(a, r, url);
	}
	*con_cls = a;
	switch (route) {
	case ROUTE_STATUS:
	case ROUTE_METRICS:
		return serve_text(a, c, route == ROUTE_METRICS);
	case ROUTE_DASHBOARD:
		return serve_dashboard(c);
	default:
		return serve_role(a, c, route == ROUTE_PRIMARY);
	}
}

/* The connection is over: free its request (never while queued: a
 * suspended connection does not complete until resumed). */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode why)
{
	struct api_req *r = *con_cls;

	if (!r || r == cls)
		return;
	free(r->answer);
	free(r);
	*con_cls = NULL;
}

/* ---- start and stop -------------------------------------------------- */

/* The listening socket, made here so that a failure names its cause. */
static int listen_on(const struct conf_endpoint *ep, struct hp_err *err)
{
	bool v6 = ep->sa.ss_family == AF_INET6;
	char where[80];
	int fd, one = 1;

	snprintf(where, sizeof(where), "%s%s%s:%u", v6 ? "[" : "", ep->host,
		 v6 ? "]" : "", (unsigned)ep->port);
	fd = socket(ep->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hp_errf(err, "api listen %s: socket: %s", where,
			       strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&ep->sa, ep->sa_len) < 0) {
		hp_errf(err, "api listen %s: bind: %s (is the address "
			"configured on this host, and the port free?)", where,
			strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		hp_errf(err, "api listen %s: listen: %s", where,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int api_open(struct voter *v, const struct conf_endpoint *ep,
	     struct api **out, struct hp_err *err)
{
	struct api *a;
	int fd;

	*out = NULL;
	fd = listen_on(ep, err);
	if (fd < 0)
		return -1;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return hp_errf(err, "api: out of memory");
	}
	a->v = v;
	pthread_mutex_init(&a->lock, NULL);
	a->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
		handle, a, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, completed, a,
		MHD_OPTION_END);
	if (!a->mhd) {
		close(fd);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return hp_errf(err, "api on %s port %u: libmicrohttpd could "
			       "not start its server thread", ep->host,
			       (unsigned)ep->port);
	}
	uv_timer_init(v->loop, &a->timer);
	a->timer.data = a;
	uv_async_init(v->loop, &a->wake, wake_cb);
	a->wake.data = a;
	api_refresh(a);
	uv_timer_start(&a->timer, refresh_cb, API_REFRESH_MS, API_REFRESH_MS);
	*out = a;
	return 0;
}

/* Both handles closed: free.  (Both are closed in api_close() itself:
 * the agent closes every other handle of the loop right after it.) */
static void handle_closed(uv_handle_t *h)
{
	struct api *a = h->data;

	if (--a->handles)
		return;
	free(a->status);
	free(a->metrics);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void api_close(struct api *a)
{
	struct api_req *r, *next;

	if (!a)
		return;
	/* Requests the loop has not taken get 503; then no new ones. */
	pthread_mutex_lock(&a->lock);
	a->closing = true;
	r = a->queue;
	a->queue = NULL;
	pthread_mutex_unlock(&a->lock);
	for (; r; r = next) {
		next = r->next;
		loop_answered(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			      strdup("{\"error\":\"the agent is shutting "
				     "down\",\"status\":503}\n"));
	}
	/* Joins the server thread: no handler runs after this. */
	MHD_stop_daemon(a->mhd);
	a->handles = 2;
	uv_close((uv_handle_t *)&a->timer, handle_closed);
	uv_close((uv_handle_t *)&a->wake, handle_closed);
}
