/*
 * loop_test_alert.c - webhooks (src/alert.c) on a real libuv loop.
 *
 * The webhook receiver is a small HTTP/1.1 server on 127.0.0.1 (an
 * ephemeral port) written here on libuv: it keeps connections alive,
 * records each request's head and body with the time it came, and
 * answers as the test says: 200, 500 for the next N requests, 500 for
 * every third, a redirect, nothing (it holds the request until
 * released) or a closed connection.  A 5 ms ticker runs during every
 * alert test and its longest gap is asserted: curl must never block the
 * loop.  Backoffs and timeouts are a few ms to a few hundred ms, so the
 * program runs in a few seconds.
 */
#define _GNU_SOURCE	/* strcasestr */

#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "loop_util.h"

enum {
	REQS_MAX = 256,
	CONN_BUF = 16384,
	TICK_MS = 5,
	MAX_GAP_MS = 300,	/* longest loop stall tolerated (ASan, 2 cores) */
};

enum mode { MODE_OK, MODE_HANG, MODE_CLOSE, MODE_REDIRECT, MODE_EVERY3 };

struct req {
	char head[2048];
	char body[1024];
	uint64_t ms;
};

struct conn {
	uv_tcp_t tcp;
	char buf[CONN_BUF];
	size_t len;
	int held;		/* requests not answered yet (MODE_HANG) */
	struct conn *next;
};

static struct {
	uv_tcp_t tcp;
	uint16_t port;
	enum mode mode;
	int fail_next;		/* answer 500 to this many requests first */
	struct req reqs[REQS_MAX];
	int n_reqs;
	int accepts;
	struct conn *conns;
} server;

static struct {
	uv_timer_t timer;
	uint64_t last_ms, max_gap_ms;
} ticker;

/* ---- the webhook receiver ------------------------------------------ */

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data, **pp;

	for (pp = &server.conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void conn_close(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void written(uv_write_t *w, int status)
{
	free(w);
}

static void send_text(struct conn *c, const char *text)
{
	uv_write_t *w = malloc(sizeof(*w));
	uv_buf_t buf = uv_buf_init((char *)text, (unsigned)strlen(text));

	assert_non_null(w);
	if (uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, written))
		free(w);
}

static const char ok_text[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char fail_text[] = "HTTP/1.1 500 Internal Server Error\r\n"
				"Content-Length: 13\r\n\r\nboom\x01 at line";
static const char redirect_text[] = "HTTP/1.1 301 Moved Permanently\r\n"
				    "Location: /other\r\n"
				    "Content-Length: 0\r\n\r\n";

static void respond(struct conn *c)
{
	if (server.fail_next > 0) {
		server.fail_next--;
		send_text(c, fail_text);
		return;
	}
	switch (server.mode) {
	case MODE_OK:
		send_text(c, ok_text);
		break;
	case MODE_HANG:
		c->held++;
		break;
	case MODE_CLOSE:
		conn_close(c);
		break;
	case MODE_REDIRECT:
		send_text(c, redirect_text);
		break;
	case MODE_EVERY3:
		send_text(c, server.n_reqs % 3 == 0 ? fail_text : ok_text);
		break;
	}
}

/* Content-Length of a request head (0 without one). */
static size_t content_length(const char *head)
{
	const char *p = strcasestr(head, "\r\ncontent-length:");

	return p ? (size_t)strtoul(p + 17, NULL, 10) : 0;
}

/* Every complete request in c's buffer: record it, answer it. */
static void take_requests(struct conn *c)
{
	struct req *r;
	char *end;
	size_t head_len, body_len;

	while (c->len && (end = strstr(c->buf, "\r\n\r\n"))) {
		head_len = (size_t)(end - c->buf) + 4;
		c->buf[head_len - 2] = '\0';
		body_len = content_length(c->buf);
		c->buf[head_len - 2] = '\r';
		if (c->len < head_len + body_len)
			return;
		assert_true(server.n_reqs < REQS_MAX);
		r = &server.reqs[server.n_reqs++];
		assert_true(head_len < sizeof(r->head));
		assert_true(body_len < sizeof(r->body));
		memcpy(r->head, c->buf, head_len);
		r->head[head_len] = '\0';
		memcpy(r->body, c->buf + head_len, body_len);
		r->body[body_len] = '\0';
		r->ms = now_ms();
		c->len -= head_len + body_len;
		memmove(c->buf, c->buf + head_len + body_len, c->len);
		c->buf[c->len] = '\0';
		respond(c);
		if (uv_is_closing((uv_handle_t *)&c->tcp))
			return;
	}
}

static void conn_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	struct conn *c = h->data;

	buf->base = c->buf + c->len;
	buf->len = sizeof(c->buf) - 1 - c->len;
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->buf[c->len] = '\0';
	assert_true(c->len < sizeof(c->buf) - 1);
	take_requests(c);
}

static void on_connection(uv_stream_t *s, int status)
{
	struct conn *c;

	assert_int_equal(status, 0);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	uv_tcp_init(&test_loop, &c->tcp);
	c->tcp.data = c;
	c->next = server.conns;
	server.conns = c;
	assert_int_equal(uv_accept(s, (uv_stream_t *)&c->tcp), 0);
	server.accepts++;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void server_start(void)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	uv_tcp_init(&test_loop, &server.tcp);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_tcp_bind(&server.tcp, (struct sockaddr *)&sin, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&server.tcp, 16,
				   on_connection), 0);
	uv_tcp_getsockname(&server.tcp, (struct sockaddr *)&ss, &len);
	server.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Answer every held request with text, and 200 from now on. */
static void server_release_with(const char *text)
{
	struct conn *c;

	server.mode = MODE_OK;
	for (c = server.conns; c; c = c->next)
		for (; c->held > 0; c->held--)
			send_text(c, text);
}

static void server_release(void)
{
	server_release_with(ok_text);
}

static void server_stop(void)
{
	struct conn *c;

	for (c = server.conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&server.tcp, NULL);
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static uint16_t closed_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* ---- the ticker: is the loop ever stalled? ------------------------- */

static void on_tick(uv_timer_t *t)
{
	uint64_t now = now_ms();

	if (now - ticker.last_ms > ticker.max_gap_ms)
		ticker.max_gap_ms = now - ticker.last_ms;
	ticker.last_ms = now;
}

static void ticker_start(void)
{
	ticker.last_ms = now_ms();
	ticker.max_gap_ms = 0;
	uv_timer_init(&test_loop, &ticker.timer);
	uv_timer_start(&ticker.timer, on_tick, TICK_MS, TICK_MS);
}

static void ticker_stop(void)
{
	uv_close((uv_handle_t *)&ticker.timer, NULL);
	if (ticker.max_gap_ms > MAX_GAP_MS)
		fail_msg("the loop stalled for %llu ms (at most %d expected)",
			 (unsigned long long)ticker.max_gap_ms, MAX_GAP_MS);
}

/* ---- alerts: config, events, waiting ------------------------------- */

static struct conf conf;

/* Alert i posting to 127.0.0.1:port/hook, short timers, no filters. */
static struct conf_alert *add_alert(const char *name, uint16_t port)
{
	struct conf_alert *a = &conf.alerts[conf.n_alerts++];

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->url, sizeof(a->url), "http://127.0.0.1:%u/hook",
		 (unsigned)port);
	a->min_severity = SEV_INFO;
	a->kinds = (1u << EVK_MAX) - 1;
	a->timeout_ms = 2000;
	a->retries = 3;
	a->backoff_ms = 10;
	return a;
}

static char json_of[REQS_MAX][200];

/* Event id (1..) of kind and severity, through the sink. */
static void emit(struct alert_set *set, uint64_t id, enum event_kind kind,
		 enum event_severity sev)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = id;
	ev.kind = kind;
	ev.severity = sev;
	assert_true(id < REQS_MAX);
	snprintf(json_of[id], sizeof(json_of[id]),
		 "{\"id\":%llu,\"kind\":\"%s\",\"severity\":\"%s\","
		 "\"message\":\"say \\\"hi\\\"\"}", (unsigned long long)id,
		 events_kind_name(kind), events_severity_name(sev));
	alert_set_sink(set, &ev, json_of[id]);
}

static struct alert_set *open_set(void)
{
	struct alert_set *set;
	struct hp_err err;

	if (alert_set_open(&test_loop, &conf, &set, &err))
		fail_msg("alert_set_open: %s", err.msg);
	assert_int_equal(alert_set_count(set), conf.n_alerts);
	return set;
}

static struct alert_stats stats_of(struct alert_set *set, int i)
{
	struct alert_stats st;

	alert_set_stats(set, i, &st);
	return st;
}

struct want {
	struct alert_set *set;
	int alert;
	uint64_t done;		/* sent + failed */
};

static bool all_done(void *arg)
{
	struct want *w = arg;
	struct alert_stats st = stats_of(w->set, w->alert);

	return st.sent + st.failed >= w->done && st.queued == 0;
}

/* Run until alert i has sent or given up n events, or max_ms. */
static void wait_done(struct alert_set *set, int i, uint64_t n,
		      uint64_t max_ms)
{
	struct want w = { set, i, n };
	struct alert_stats st;

	if (run_until(all_done, &w, max_ms))
		return;
	st = stats_of(set, i);
	fail_msg("alert %s: expected %llu events done within %llu ms; sent "
		 "%llu, failed %llu, queued %u, requests seen %d", st.name,
		 (unsigned long long)n, (unsigned long long)max_ms,
		 (unsigned long long)st.sent, (unsigned long long)st.failed,
		 st.queued, server.n_reqs);
}

static bool reqs_at_least(void *arg)
{
	return server.n_reqs >= *(int *)arg;
}

static void wait_reqs(int n, uint64_t max_ms)
{
	if (!run_until(reqs_at_least, &n, max_ms))
		fail_msg("expected %d requests within %llu ms, got %d", n,
			 (unsigned long long)max_ms, server.n_reqs);
}

static void expect_stats(struct alert_set *set, int i, uint64_t sent,
			 uint64_t failed, uint64_t dropped, uint64_t retries)
{
	struct alert_stats st = stats_of(set, i);

	if (st.sent == sent && st.failed == failed && st.dropped == dropped &&
	    st.retries == retries)
		return;
	fail_msg("alert %s: expected sent %llu failed %llu dropped %llu "
		 "retries %llu, got %llu %llu %llu %llu", st.name,
		 (unsigned long long)sent, (unsigned long long)failed,
		 (unsigned long long)dropped, (unsigned long long)retries,
		 (unsigned long long)st.sent, (unsigned long long)st.failed,
		 (unsigned long long)st.dropped,
		 (unsigned long long)st.retries);
}

/* Request r carried event id. */
static void expect_body(int r, uint64_t id)
{
	assert_true(r < server.n_reqs);
	if (strcmp(server.reqs[r].body, json_of[id]))
		fail_msg("request %d: expected body %s, got %s", r,
			 json_of[id], server.reqs[r].body);
}

static bool has_header(int r, const char *line)
{
	char want[300];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strstr(server.reqs[r].head, want) != NULL;
}

static int alert_setup(void **state)
{
	memset(&server, 0, sizeof(server));
	memset(&conf, 0, sizeof(conf));
	assert_int_equal(uv_loop_init(&test_loop), 0);
	server_start();
	ticker_start();
	return 0;
}

static int alert_teardown(void **state)
{
	ticker_stop();
	server_stop();
	assert_int_equal(drain_loop(), 0);
	return 0;
}

/* ---- alert tests ---------------------------------------------------- */

static void test_empty_set(void **state)
{
	struct alert_set *set = open_set();

	emit(set, 1, EVK_ROLE, SEV_CRITICAL);
	run_for(20);
	assert_int_equal(alert_set_count(set), 0);
	assert_int_equal(server.n_reqs, 0);
	alert_set_close(set);
}

static void test_delivery(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;
	int r;

	snprintf(a->bearer_token, sizeof(a->bearer_token), "t0k-en.42");
	add_alert("plain", server.port);
	set = open_set();
	/* Nothing is sent until an event comes. */
	run_for(30);
	assert_int_equal(server.accepts, 0);
	emit(set, 1, EVK_FAILOVER, SEV_WARNING);
	wait_done(set, 0, 1, 8000);
	wait_done(set, 1, 1, 8000);
	assert_int_equal(server.n_reqs, 2);
	for (r = 0; r < 2; r++) {
		expect_body(r, 1);
		assert_non_null(strstr(server.reqs[r].head,
				       "POST /hook HTTP/1.1\r\n"));
		assert_true(has_header(r, "Content-Type: application/json"));
		assert_true(has_header(r, "User-Agent: hapair"));
		assert_null(strcasestr(server.reqs[r].head, "\r\nExpect:"));
	}
	/* Only the alert with a token sends one (in either order). */
	r = has_header(0, "Authorization: Bearer t0k-en.42") ? 0 : 1;
	assert_true(has_header(r, "Authorization: Bearer t0k-en.42"));
	assert_null(strcasestr(server.reqs[1 - r].head, "Authorization:"));
	expect_stats(set, 0, 1, 0, 0, 0);
	expect_stats(set, 1, 1, 0, 0, 0);
	assert_string_equal(stats_of(set, 0).name, "pager");
	alert_set_close(set);
}

static void test_retry_then_success(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->retries = 5;
	a->backoff_ms = 40;
	server.fail_next = 2;
	set = open_set();
	emit(set, 1, EVK_FENCE, SEV_CRITICAL);
	wait_done(set, 0, 1, 8000);
	expect_stats(set, 0, 1, 0, 0, 2);
	assert_int_equal(server.n_reqs, 3);
	for (int r = 0; r < 3; r++)
		expect_body(r, 1);
	/* Backoff 40 ms, then doubled to 80 ms. */
	assert_true(server.reqs[1].ms - server.reqs[0].ms >= 38);
	assert_true(server.reqs[2].ms - server.reqs[1].ms >= 78);
	alert_set_close(set);
}

static void test_give_up(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->retries = 2;
	server.fail_next = 3;
	set = open_set();
	emit(set, 1, EVK_SYNC, SEV_WARNING);
	emit(set, 2, EVK_SYNC, SEV_INFO);
	wait_done(set, 0, 2, 8000);
	/* Event 1: the first try and two retries, all 500; given up.
	 * Event 2 then goes out at once and succeeds. */
	expect_stats(set, 0, 1, 1, 0, 2);
	assert_int_equal(server.n_reqs, 4);
	expect_body(2, 1);
	expect_body(3, 2);
	run_for(50);
	assert_int_equal(server.n_reqs, 4);
	alert_set_close(set);
}

static void test_no_retries(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->retries = 0;
	server.fail_next = 1;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 1, 8000);
	expect_stats(set, 0, 0, 1, 0, 0);
	assert_int_equal(server.n_reqs, 1);
	alert_set_close(set);
}

static void test_timeout(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;
	uint64_t t0;

	/* Longer than MAX_GAP_MS: a blocking wait would show as a stall. */
	a->timeout_ms = 500;
	a->retries = 1;
	server.mode = MODE_HANG;
	set = open_set();
	t0 = now_ms();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 1, 8000);
	expect_stats(set, 0, 0, 1, 0, 1);
	assert_int_equal(server.n_reqs, 2);
	/* Two attempts of 500 ms and a 10 ms backoff. */
	assert_true(now_ms() - t0 >= 1000);
	assert_true(now_ms() - t0 < 5000);
	alert_set_close(set);
}

static void test_unreachable(void **state)
{
	struct conf_alert *a = add_alert("pager", closed_port());
	struct alert_set *set;

	a->retries = 2;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	emit(set, 2, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 2, 8000);
	expect_stats(set, 0, 0, 2, 0, 4);
	alert_set_close(set);
}

static void test_closed_connection(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->retries = 1;
	server.mode = MODE_CLOSE;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 1, 8000);
	expect_stats(set, 0, 0, 1, 0, 1);
	assert_int_equal(server.n_reqs, 2);
	alert_set_close(set);
}

static void test_redirect_not_followed(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->retries = 0;
	server.mode = MODE_REDIRECT;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 1, 8000);
	run_for(30);
	expect_stats(set, 0, 0, 1, 0, 0);
	assert_int_equal(server.n_reqs, 1);
	alert_set_close(set);
}

static void test_filters(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	struct alert_set *set;

	a->min_severity = SEV_WARNING;
	a->kinds = 1u << EVK_FAILOVER | 1u << EVK_FENCE;
	add_alert("all", server.port)->kinds = 1u << EVK_ROLE;
	set = open_set();
	emit(set, 1, EVK_FAILOVER, SEV_INFO);		/* too mild */
	emit(set, 2, EVK_ROLE, SEV_CRITICAL);		/* other kind */
	emit(set, 3, EVK_FAILOVER, SEV_WARNING);
	emit(set, 4, EVK_FENCE, SEV_CRITICAL);
	emit(set, 5, EVK_SYNC, SEV_CRITICAL);		/* other kind */
	wait_done(set, 0, 2, 8000);
	wait_done(set, 1, 1, 8000);
	run_for(30);
	expect_stats(set, 0, 2, 0, 0, 0);
	expect_stats(set, 1, 1, 0, 0, 0);
	assert_int_equal(server.n_reqs, 3);
	alert_set_close(set);
}

/* Bodies of all requests, in order, must be ids ascending (with
 * repeats for retries) and cover want[0..n). */
static void expect_order(const uint64_t *want, int n)
{
	int r, i = 0;

	for (r = 0; r < server.n_reqs; r++) {
		if (i > 0 && !strcmp(server.reqs[r].body, json_of[want[i - 1]]))
			continue;	/* a retry of the previous one */
		assert_true(i < n);
		expect_body(r, want[i++]);
	}
	assert_int_equal(i, n);
}

static void test_order_with_retries(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	uint64_t want[30];
	struct alert_set *set;
	int i;

	a->backoff_ms = 1;
	server.mode = MODE_EVERY3;
	set = open_set();
	for (i = 0; i < 30; i++) {
		want[i] = (uint64_t)i + 1;
		emit(set, want[i], EVK_CHECK, SEV_INFO);
	}
	wait_done(set, 0, 30, 10000);
	expect_stats(set, 0, 30, 0, 0, stats_of(set, 0).retries);
	assert_true(stats_of(set, 0).retries >= 10);
	expect_order(want, 30);
	/* One connection kept alive for all of them (500s too). */
	assert_int_equal(server.accepts, 1);
	alert_set_close(set);
}

static void test_queue_overflow(void **state)
{
	struct conf_alert *a = add_alert("pager", server.port);
	uint64_t want[ALERT_QUEUE_MAX];
	struct alert_set *set;
	int i, n = 0, extra = 6;

	a->timeout_ms = 5000;
	server.mode = MODE_HANG;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_reqs(1, 8000);
	/* 1 in flight + 63 waiting fill the queue; the 6 beyond push out
	 * the oldest waiting ones, 2..7, never the one in flight. */
	for (i = 2; i <= ALERT_QUEUE_MAX + extra; i++)
		emit(set, (uint64_t)i, EVK_ROLE, SEV_INFO);
	assert_int_equal(stats_of(set, 0).queued, ALERT_QUEUE_MAX);
	assert_int_equal(stats_of(set, 0).dropped, extra);
	/* The held request fails: its retry must still carry event 1. */
	server_release_with(fail_text);
	wait_done(set, 0, ALERT_QUEUE_MAX, 10000);
	expect_stats(set, 0, ALERT_QUEUE_MAX, 0, extra, 1);
	expect_body(1, 1);
	want[n++] = 1;
	for (i = 2 + extra; i <= ALERT_QUEUE_MAX + extra; i++)
		want[n++] = (uint64_t)i;
	expect_order(want, n);
	alert_set_close(set);
}

/* While waiting for a retry, the head may be the one dropped. */
static void test_overflow_during_backoff(void **state)
{
	struct conf_alert *a = add_alert("pager", closed_port());
	struct alert_set *set;
	int i;

	a->backoff_ms = 60000;
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	run_until(never, NULL, 100);
	assert_int_equal(stats_of(set, 0).retries, 1);
	for (i = 2; i <= ALERT_QUEUE_MAX + 1; i++)
		emit(set, (uint64_t)i, EVK_ROLE, SEV_INFO);
	assert_int_equal(stats_of(set, 0).queued, ALERT_QUEUE_MAX);
	assert_int_equal(stats_of(set, 0).dropped, 1);
	alert_set_close(set);
}

/* Close with a request in flight on one alert, one waiting for a retry
 * on another and events queued on both: all is freed (ASan checks). */
static void test_close_pending(void **state)
{
	struct alert_set *set;
	uint64_t t0;
	int i;

	add_alert("hung", server.port)->timeout_ms = 10000;
	add_alert("down", closed_port())->backoff_ms = 60000;
	add_alert("idle", server.port)->kinds = 0;
	server.mode = MODE_HANG;
	set = open_set();
	for (i = 1; i <= 5; i++)
		emit(set, (uint64_t)i, EVK_FAILOVER, SEV_CRITICAL);
	wait_reqs(1, 8000);
	run_for(50);
	assert_int_equal(stats_of(set, 0).queued, 5);
	assert_int_equal(stats_of(set, 1).retries, 1);
	t0 = now_ms();
	alert_set_close(set);
	server_release();
	run_for(50);
	assert_int_equal(server.n_reqs, 1);
	/* teardown drains the loop: every handle closed within 3 s. */
	assert_true(now_ms() - t0 < 2000);
}

static bool no_conns(void *arg)
{
	return server.conns == NULL;
}

/* How many of our sockets connected to the receiver, and how many of
 * them are close-on-exec (notify programs must not inherit them). */
static int receiver_sockets(int *cloexec)
{
	struct sockaddr_in peer;
	socklen_t len;
	int fd, n = 0;

	*cloexec = 0;
	for (fd = 3; fd < 1024; fd++) {
		len = sizeof(peer);
		if (getpeername(fd, (struct sockaddr *)&peer, &len) ||
		    peer.sin_family != AF_INET ||
		    ntohs(peer.sin_port) != server.port)
			continue;
		n++;
		if (fcntl(fd, F_GETFD) & FD_CLOEXEC)
			(*cloexec)++;
	}
	return n;
}

/* Close right after a delivery: the kept-alive connection is closed. */
static void test_close_idle_connection(void **state)
{
	struct alert_set *set;
	int n;

	add_alert("pager", server.port);
	set = open_set();
	emit(set, 1, EVK_ROLE, SEV_INFO);
	wait_done(set, 0, 1, 8000);
	assert_non_null(server.conns);
	assert_int_equal(receiver_sockets(&n), 1);
	assert_int_equal(n, 1);
	alert_set_close(set);
	if (!run_until(no_conns, NULL, 8000))
		fail_msg("the kept-alive connection was not closed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define ALERT_TEST(t) \
	cmocka_unit_test_setup_teardown(t, alert_setup, alert_teardown)
		ALERT_TEST(test_empty_set),
		ALERT_TEST(test_delivery),
		ALERT_TEST(test_retry_then_success),
		ALERT_TEST(test_give_up),
		ALERT_TEST(test_no_retries),
		ALERT_TEST(test_timeout),
		ALERT_TEST(test_unreachable),
		ALERT_TEST(test_closed_connection),
		ALERT_TEST(test_redirect_not_followed),
		ALERT_TEST(test_filters),
		ALERT_TEST(test_order_with_retries),
		ALERT_TEST(test_queue_overflow),
		ALERT_TEST(test_overflow_during_backoff),
		ALERT_TEST(test_close_pending),
		ALERT_TEST(test_close_idle_connection),
	};

	/* As in the agent: a peer that closed first is an EPIPE, not a
	 * signal (the receiver writes to connections curl may close). */
	signal(SIGPIPE, SIG_IGN);
	/* The receiver is on 127.0.0.1: no proxy from the environment. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
