/*
 * alert.c - webhooks: events POSTed as JSON to each [alert] URL (see
 * alert.h).
 *
 * libcurl's multi interface does the HTTP on the agent's libuv loop
 * (the "multi_socket" integration): curl tells us, through
 * on_curl_socket(), which sockets to watch for what, and we watch them
 * with a uv_poll_t each; it asks, through on_curl_timer(), to be called
 * after some time, and one uv_timer_t does that.  Whenever a socket is
 * ready or the timer fires, curl_multi_socket_action() lets curl do the
 * I/O it can without blocking, and check_done() collects finished
 * transfers.  Names are resolved by libcurl's resolver thread.
 *
 * Each alert has one easy handle, set up once (URL, headers, timeout,
 * no redirects, http/https only, no signals, close-on-exec sockets) and
 * added to the multi handle for one POST at a time, which keeps
 * deliveries in order.  Its
 * queue is a ring of ALERT_QUEUE_MAX copied JSON lines; the head is the
 * one being delivered.  A failed attempt arms the alert's retry timer
 * (backoff_ms, doubling, at most BACKOFF_MAX_MS) until retries are used
 * up; then the event is counted failed, one line is logged with the
 * last reason, and the next event starts at once.
 *
 * URLs are never logged, only alert names: a webhook URL often carries
 * its secret in the path.  A set frees itself once every libuv handle
 * it opened (the curl timer, one retry timer per alert, one poll per
 * socket) has been closed.
 */
#define _POSIX_C_SOURCE 200809L

#include "alert.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"

enum {
	BACKOFF_MAX_MS = 60000,
	BODY_SHOWN = 100,	/* bytes of a failed answer in the log */
	DROP_LOG_MS = 10000,	/* at most one "queue full" line per alert */
	HEADER_MAX = CONF_TOKEN_MAX + 32,
};

struct item {
	char *json;
	size_t len;
	uint64_t id;
	enum event_kind kind;
};

struct alert {
	struct alert_set *set;
	struct conf_alert conf;
	CURL *easy;
	struct curl_slist *headers;
	bool in_flight;			/* easy is in the multi handle */
	uv_timer_t retry;
	bool backoff;			/* retry timer armed */
	struct item q[ALERT_QUEUE_MAX];
	unsigned head, count;
	unsigned attempt;		/* retries made for the head */
	char errbuf[CURL_ERROR_SIZE];
	char body[BODY_SHOWN + 1];	/* start of the answer, for the log */
	size_t body_len;
	uint64_t sent, failed, dropped, retries;
	uint64_t drop_logged_ms;
};

/* A socket curl asked us to watch. */
struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct alert_set *set;
	struct sock *next, **pprev;
};

struct alert_set {
	uv_loop_t *loop;
	CURLM *multi;
	bool curl_inited;
	uv_timer_t timer;		/* curl's timeout */
	struct sock *socks;
	int handles;			/* open libuv handles */
	bool closing;
	int n;
	struct alert alerts[];
};

static void start_next(struct alert *a);

static void maybe_free(struct alert_set *set)
{
	if (set->closing && set->handles == 0)
		free(set);
}

static void handle_closed(uv_handle_t *h)
{
	struct alert_set *set = h->data;

	set->handles--;
	maybe_free(set);
}

/* ---- the queue ---------------------------------------------------- */

static struct item *head_item(struct alert *a)
{
	return &a->q[a->head];
}

static void pop(struct alert *a)
{
	free(a->q[a->head].json);
	a->q[a->head].json = NULL;
	a->head = (a->head + 1) % ALERT_QUEUE_MAX;
	a->count--;
	a->attempt = 0;
}

/* Full queue: drop the oldest event not in flight (the head while it
 * waits for a retry, else the one after it). */
static void drop_oldest(struct alert *a)
{
	unsigned next = (a->head + 1) % ALERT_QUEUE_MAX;
	uint64_t now = uv_now(a->set->loop), id;

	if (!a->in_flight) {
		id = head_item(a)->id;
		pop(a);
	} else {
		id = a->q[next].id;
		free(a->q[next].json);
		a->q[next] = a->q[a->head];
		a->q[a->head].json = NULL;
		a->head = next;
		a->count--;
	}
	a->dropped++;
	if (a->drop_logged_ms && now < a->drop_logged_ms + DROP_LOG_MS)
		return;
	a->drop_logged_ms = now;
	hp_log(LOG_WARN, "alert %s: queue full (%d events); dropped event "
	       "%" PRIu64 ", %" PRIu64 " dropped so far", a->conf.name,
	       ALERT_QUEUE_MAX, id, a->dropped);
}

static void push(struct alert *a, const struct event *ev, const char *json)
{
	struct item it = { .len = strlen(json), .id = ev->id,
			   .kind = ev->kind };

	it.json = malloc(it.len + 1);
	if (!it.json) {
		a->dropped++;
		hp_log(LOG_WARN, "alert %s: out of memory; dropped event "
		       "%" PRIu64, a->conf.name, ev->id);
		return;
	}
	memcpy(it.json, json, it.len + 1);
	if (a->count == ALERT_QUEUE_MAX)
		drop_oldest(a);
	a->q[(a->head + a->count) % ALERT_QUEUE_MAX] = it;
	a->count++;
}

/* ---- one delivery ------------------------------------------------- */

/* The answer's body: keep its start for the log, discard the rest. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct alert *a = data;
	size_t n = size * nmemb, room = BODY_SHOWN - a->body_len;

	if (room > n)
		room = n;
	memcpy(a->body + a->body_len, ptr, room);
	a->body_len += room;
	a->body[a->body_len] = '\0';
	return n;
}

/* libcurl's sockets are not close-on-exec; without it every notify
 * program and check script would inherit the webhook connections. */
static int on_sockopt(void *data, curl_socket_t fd, curlsocktype purpose)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

/* "HTTP 500: first line of the body" with controls made '.'. */
static void status_reason(const struct alert *a, long status, char *out,
			  size_t cap)
{
	char shown[BODY_SHOWN + 1];
	size_t i;

	for (i = 0; i < a->body_len && a->body[i] != '\r' &&
		    a->body[i] != '\n'; i++)
		shown[i] = a->body[i] < ' ' || a->body[i] > '~' ? '.' :
			   a->body[i];
	shown[i] = '\0';
	snprintf(out, cap, "HTTP %ld%s%s%s", status,
		 status >= 300 && status < 400 ?
			 " (redirects are not followed)" : "",
		 i ? ": " : "", shown);
}

static uint32_t backoff_ms(const struct alert *a)
{
	uint64_t ms = a->conf.backoff_ms;
	unsigned i;

	for (i = 1; i < a->attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? (uint32_t)ms : BACKOFF_MAX_MS;
}

static void on_retry(uv_timer_t *t)
{
	struct alert *a = t->data;

	a->backoff = false;
	start_next(a);
}

/* An attempt at the head failed: retry later, or give up on it. */
static void attempt_failed(struct alert *a, const char *reason)
{
	struct item *it = head_item(a);
	uint32_t ms;

	if (a->attempt < a->conf.retries) {
		a->attempt++;
		a->retries++;
		ms = backoff_ms(a);
		hp_log(LOG_DEBUG, "alert %s: event %" PRIu64 ": %s; retry %u "
		       "of %" PRIu32 " in %" PRIu32 " ms", a->conf.name, it->id,
		       reason, a->attempt, a->conf.retries, ms);
		a->backoff = true;
		uv_timer_start(&a->retry, on_retry, ms, 0);
		return;
	}
	a->failed++;
	hp_log(LOG_WARN, "alert %s: event %" PRIu64 " (%s) not delivered "
	       "after %u attempt%s: %s", a->conf.name, it->id,
	       events_kind_name(it->kind), a->attempt + 1,
	       a->attempt ? "s" : "", reason);
	pop(a);
	start_next(a);
}

static void delivered(struct alert *a)
{
	struct item *it = head_item(a);

	a->sent++;
	if (a->attempt)
		hp_log(LOG_INFO, "alert %s: event %" PRIu64 " delivered after "
		       "%u retr%s", a->conf.name, it->id, a->attempt,
		       a->attempt == 1 ? "y" : "ies");
	pop(a);
	start_next(a);
}

/* The transfer of the head finished with res. */
static void transfer_done(struct alert *a, CURLcode res)
{
	char reason[CURL_ERROR_SIZE + BODY_SHOWN + 64];
	long status = 0;

	if (res == CURLE_OK)
		curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(a->set->multi, a->easy);
	a->in_flight = false;
	if (res == CURLE_OK && status >= 200 && status < 300) {
		delivered(a);
		return;
	}
	if (res != CURLE_OK)
		snprintf(reason, sizeof(reason), "%s", a->errbuf[0] ?
			 a->errbuf : curl_easy_strerror(res));
	else
		status_reason(a, status, reason, sizeof(reason));
	attempt_failed(a, reason);
}

/* POST the head.  Runs no I/O: curl starts on the next timer tick. */
static void start(struct alert *a)
{
	struct item *it = head_item(a);
	char reason[128];
	CURLMcode mc;

	a->errbuf[0] = '\0';
	a->body_len = 0;
	a->body[0] = '\0';
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, it->json);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE, (long)it->len);
	mc = curl_multi_add_handle(a->set->multi, a->easy);
	if (mc == CURLM_OK) {
		a->in_flight = true;
		return;
	}
	snprintf(reason, sizeof(reason), "cannot start the request: %s",
		 curl_multi_strerror(mc));
	attempt_failed(a, reason);
}

static void start_next(struct alert *a)
{
	if (a->set->closing || a->in_flight || a->backoff || !a->count)
		return;
	start(a);
}

/* ---- libcurl on libuv --------------------------------------------- */

/* Every transfer curl finished since the last call. */
static void check_done(struct alert_set *set)
{
	CURLMsg *msg;
	CURL *easy;
	CURLcode res;
	void *a;
	int left;

	while ((msg = curl_multi_info_read(set->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg does not outlive curl_multi_remove_handle(). */
		easy = msg->easy_handle;
		res = msg->data.result;
		a = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &a);
		if (a)
			transfer_done(a, res);
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	struct alert_set *set = s->set;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed inside (CURL_POLL_REMOVE); not used after. */
	curl_multi_socket_action(set->multi, s->fd, flags, &running);
	check_done(set);
}

static void on_timeout(uv_timer_t *t)
{
	struct alert_set *set = t->data;
	int running;

	curl_multi_socket_action(set->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(set);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *data)
{
	struct alert_set *set = data;

	if (set->closing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&set->timer);
	else
		uv_timer_start(&set->timer, on_timeout, (uint64_t)timeout_ms,
			       0);
	return 0;
}

static void sock_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	struct alert_set *set = s->set;

	free(s);
	set->handles--;
	maybe_free(set);
}

static void sock_close(struct sock *s)
{
	uv_poll_stop(&s->poll);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static struct sock *sock_open(struct alert_set *set, curl_socket_t fd)
{
	struct sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (uv_poll_init_socket(set->loop, &s->poll, fd)) {
		free(s);
		return NULL;
	}
	s->poll.data = s;
	s->fd = fd;
	s->set = set;
	s->next = set->socks;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &set->socks;
	set->socks = s;
	set->handles++;
	curl_multi_assign(set->multi, fd, s);
	return s;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what,
			  void *data, void *socketp)
{
	struct alert_set *set = data;
	struct sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sock_close(s);
			if (!set->closing)
				curl_multi_assign(set->multi, fd, NULL);
		}
		return 0;
	}
	if (!s && !(s = sock_open(set, fd))) {
		hp_log(LOG_WARN, "alert: cannot watch socket %d", (int)fd);
		return -1;
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

/* ---- set up and tear down ----------------------------------------- */

static int easy_fail(struct alert *a, const char *what, CURLcode rc,
		     struct hp_err *err)
{
	return hp_errf(err, "alert %s: libcurl: %s: %s", a->conf.name, what,
		       curl_easy_strerror(rc));
}

#define SETOPT(a, opt, val, err)                                         \
	do {                                                             \
		CURLcode rc_ = curl_easy_setopt((a)->easy, opt, val);    \
		if (rc_ != CURLE_OK)                                     \
			return easy_fail(a, #opt, rc_, err);             \
	} while (0)

static int add_header(struct alert *a, const char *h, struct hp_err *err)
{
	struct curl_slist *l = curl_slist_append(a->headers, h);

	if (!l)
		return hp_errf(err, "alert %s: out of memory", a->conf.name);
	a->headers = l;
	return 0;
}

static int set_headers(struct alert *a, struct hp_err *err)
{
	char auth[HEADER_MAX];
	int rc = 0;

	/* No "Expect: 100-continue" round trip for a small body. */
	if (add_header(a, "Content-Type: application/json", err) ||
	    add_header(a, "Expect:", err))
		return -1;
	if (a->conf.bearer_token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 a->conf.bearer_token);
		rc = add_header(a, auth, err);
		memset(auth, 0, sizeof(auth));
	}
	return rc;
}

/* The options every POST of this alert shares. */
static int setup_easy(struct alert *a, struct hp_err *err)
{
	a->easy = curl_easy_init();
	if (!a->easy)
		return hp_errf(err, "alert %s: libcurl: cannot create a "
			       "handle", a->conf.name);
	if (set_headers(a, err))
		return -1;
	SETOPT(a, CURLOPT_URL, a->conf.url, err);
	SETOPT(a, CURLOPT_PROTOCOLS_STR, "http,https", err);
	SETOPT(a, CURLOPT_FOLLOWLOCATION, 0L, err);
	SETOPT(a, CURLOPT_POST, 1L, err);
	SETOPT(a, CURLOPT_HTTPHEADER, a->headers, err);
	SETOPT(a, CURLOPT_USERAGENT, "hapair", err);
	SETOPT(a, CURLOPT_TIMEOUT_MS, (long)a->conf.timeout_ms, err);
	SETOPT(a, CURLOPT_NOSIGNAL, 1L, err);
	SETOPT(a, CURLOPT_PRIVATE, (void *)a, err);
	SETOPT(a, CURLOPT_ERRORBUFFER, a->errbuf, err);
	SETOPT(a, CURLOPT_WRITEFUNCTION, on_body, err);
	SETOPT(a, CURLOPT_WRITEDATA, (void *)a, err);
	SETOPT(a, CURLOPT_SOCKOPTFUNCTION, on_sockopt, err);
	return 0;
}

/* Free what open_curl made (before any libuv handle exists). */
static void free_curl(struct alert_set *set)
{
	struct alert *a;
	int i;

	for (i = 0; i < set->n; i++) {
		a = &set->alerts[i];
		curl_easy_cleanup(a->easy);
		curl_slist_free_all(a->headers);
		memset(a->conf.bearer_token, 0, sizeof(a->conf.bearer_token));
	}
	if (set->multi)
		curl_multi_cleanup(set->multi);
	set->multi = NULL;
	if (set->curl_inited)
		curl_global_cleanup();
	set->curl_inited = false;
}

static int open_curl(struct alert_set *set, struct hp_err *err)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	int i;

	if (rc != CURLE_OK)
		return hp_errf(err, "alerts: libcurl: cannot initialise: %s",
			       curl_easy_strerror(rc));
	set->curl_inited = true;
	set->multi = curl_multi_init();
	if (!set->multi)
		return hp_errf(err, "alerts: libcurl: cannot create a multi "
			       "handle");
	curl_multi_setopt(set->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(set->multi, CURLMOPT_SOCKETDATA, (void *)set);
	curl_multi_setopt(set->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(set->multi, CURLMOPT_TIMERDATA, (void *)set);
	for (i = 0; i < set->n; i++)
		if (setup_easy(&set->alerts[i], err))
			return -1;
	return 0;
}

int alert_set_open(uv_loop_t *loop, const struct conf *conf,
		   struct alert_set **out, struct hp_err *err)
{
	struct alert_set *set;
	struct alert *a;
	int i, n = conf->n_alerts;

	*out = NULL;
	set = calloc(1, sizeof(*set) + (size_t)n * sizeof(set->alerts[0]));
	if (!set)
		return hp_errf(err, "alerts: out of memory");
	set->loop = loop;
	set->n = n;
	for (i = 0; i < n; i++) {
		a = &set->alerts[i];
		a->set = set;
		a->conf = conf->alerts[i];
	}
	if (n && open_curl(set, err)) {
		free_curl(set);
		free(set);
		return -1;
	}
	if (n) {
		uv_timer_init(loop, &set->timer);
		set->timer.data = set;
		set->handles++;
	}
	for (i = 0; i < n; i++) {
		a = &set->alerts[i];
		uv_timer_init(loop, &a->retry);
		a->retry.data = a;
		set->handles++;
	}
	*out = set;
	return 0;
}

void alert_set_sink(void *data, const struct event *ev, const char *json)
{
	struct alert_set *set = data;
	struct alert *a;
	int i;

	if (!set || set->closing || (unsigned)ev->kind >= EVK_MAX)
		return;
	for (i = 0; i < set->n; i++) {
		a = &set->alerts[i];
		if ((uint32_t)ev->severity < a->conf.min_severity ||
		    !(a->conf.kinds & (1u << ev->kind)))
			continue;
		push(a, ev, json);
		start_next(a);
	}
}

/* The retry timer's handle is closed by alert_set_close(). */
static void close_alert(struct alert *a)
{
	if (a->count)
		hp_log(LOG_WARN, "alert %s: stopping; %u undelivered event%s "
		       "dropped", a->conf.name, a->count,
		       a->count == 1 ? "" : "s");
	if (a->in_flight)
		curl_multi_remove_handle(a->set->multi, a->easy);
	a->in_flight = false;
	while (a->count)
		pop(a);
	uv_timer_stop(&a->retry);
	a->retry.data = a->set;
	uv_close((uv_handle_t *)&a->retry, handle_closed);
}

void alert_set_close(struct alert_set *set)
{
	int i;

	if (!set)
		return;
	set->closing = true;
	for (i = 0; i < set->n; i++)
		close_alert(&set->alerts[i]);
	if (set->n) {
		/* Closes the connections kept for reuse: their sockets come
		 * back through on_curl_socket(CURL_POLL_REMOVE). */
		free_curl(set);
		while (set->socks)
			sock_close(set->socks);
		uv_timer_stop(&set->timer);
		uv_close((uv_handle_t *)&set->timer, handle_closed);
	}
	maybe_free(set);
}

int alert_set_count(const struct alert_set *set)
{
	return set ? set->n : 0;
}

void alert_set_stats(const struct alert_set *set, int i,
		     struct alert_stats *out)
{
	const struct alert *a = &set->alerts[i];

	out->name = a->conf.name;
	out->sent = a->sent;
	out->failed = a->failed;
	out->dropped = a->dropped;
	out->retries = a->retries;
	out->queued = a->count;
}
