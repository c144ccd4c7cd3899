/*
 * api.c - the agent's HTTP API, served by libmicrohttpd.
 *
 *   GET /v1/status   the status document (as `hapair status --json`)
 *   GET /primary     200 "primary" while this node holds a live lease,
 *                    else 503: for HAProxy-style health checks
 *   GET /replica     200 "replica" while a healthy standby, else 503
 *   GET /metrics     Prometheus text format 0.0.4 (metrics.c)
 *
 * Anything else is 404, another method 405, both with a JSON body that
 * says what exists.  HEAD is answered as GET.  Request bodies are never
 * read: every request is answered at its first callback.
 *
 * Threads: MHD runs its own polling thread, and the election state
 * belongs to the libuv loop.  So the handlers read only a snapshot, a
 * mutex-protected copy of the status JSON, the metrics text and the two
 * answers, which the loop replaces after each step (api_refresh) and on
 * a timer.  /primary compares the snapshot's lease end with the clock at
 * the time of the request, so a lease never looks live after it ends.
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

#include "guard.h"
#include "voter.h"

enum {
	API_REFRESH_MS = 200,
	CONN_LIMIT = 64,
	CONN_TIMEOUT_S = 10,
	MEMORY_LIMIT = 16 * 1024,	/* request line + headers, per conn */
	LISTEN_BACKLOG = 64,
	URL_SHOWN_MAX = 128,		/* bytes of a bad URL echoed back */
};

static const char endpoints[] =
	"GET /v1/status, /primary, /replica and /metrics";

struct api {
	struct voter *v;
	struct MHD_Daemon *mhd;
	uv_timer_t timer;

	pthread_mutex_t lock;	/* guards everything below */
	char *status;		/* NULL until the first refresh */
	char *metrics;
	uint64_t lease_end_ms;	/* primary: its lease end, else 0 */
	bool replica;		/* a healthy standby */
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
	pthread_mutex_unlock(&a->lock);
	free(old_status);
	free(old_metrics);
}

static void refresh_cb(uv_timer_t *t)
{
	api_refresh(t->data);
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
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* {"error": "WHY WHAT; endpoints are ..."}, what (a URL or method from
 * the client) cut to URL_SHOWN_MAX bytes and escaped by cJSON. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code,
				   const char *why, const char *what)
{
	char shown[URL_SHOWN_MAX + 4], msg[512], *text;
	cJSON *o = cJSON_CreateObject();
	enum MHD_Result rc;

	snprintf(shown, sizeof(shown), "%.*s%s", URL_SHOWN_MAX, what,
		 strlen(what) > URL_SHOWN_MAX ? "..." : "");
	snprintf(msg, sizeof(msg), "%s%s; endpoints are %s", why, shown,
		 endpoints);
	if (!o || !cJSON_AddStringToObject(o, "error", msg) ||
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) ||
		   !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool known = !strcmp(url, "/v1/status") || !strcmp(url, "/primary") ||
		     !strcmp(url, "/replica") || !strcmp(url, "/metrics");

	/* Answered at the first call; a body that follows is discarded. */
	if (*con_cls) {
		*upload_size = 0;
		return MHD_YES;
	}
	*con_cls = a;
	if (!known)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint: ",
				   url);
	if (!get)
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method not allowed: ", method);
	if (!strcmp(url, "/v1/status") || !strcmp(url, "/metrics"))
		return serve_text(a, c, url[1] == 'm');
	return serve_role(a, c, url[1] == 'p');
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
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
		handle, a, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
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
	api_refresh(a);
	uv_timer_start(&a->timer, refresh_cb, API_REFRESH_MS, API_REFRESH_MS);
	*out = a;
	return 0;
}

static void free_api(uv_handle_t *h)
{
	struct api *a = h->data;

	free(a->status);
	free(a->metrics);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void api_close(struct api *a)
{
	if (!a)
		return;
	/* Joins the server thread: no handler runs after this. */
	MHD_stop_daemon(a->mhd);
	uv_close((uv_handle_t *)&a->timer, free_api);
}
