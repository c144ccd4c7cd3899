/*
 * check_net.c - one run of a tcp or http check (see check_int.h).
 *
 * tcp: connect to address:port; connected is a pass.  http: then send
 * "GET path HTTP/1.0" with Host and "Connection: close", read at most
 * HTTP_READ_MAX bytes until the end of the status line and compare its
 * code with expect_status.  HTTP/1.0 keeps the answer simple: no chunked
 * encoding, no keep-alive, no 1xx interim answers.  The one connection
 * is closed as soon as the result is known (or at the deadline, which
 * cancels whatever is pending).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "check_int.h"

/* Close the connection (once), after the result is recorded. */
static void finish(struct check *c)
{
	uv_handle_t *h = (uv_handle_t *)&c->u.net.tcp;

	if (!uv_is_closing(h))
		uv_close(h, check_run_handle_closed);
}

/* Printable copy of an answer for a message: controls become '?'. */
static void show(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i;

	if (len >= cap)
		len = cap - 1;
	for (i = 0; i < len; i++)
		dst[i] = src[i] >= ' ' && src[i] <= '~' ? src[i] : '?';
	dst[len] = '\0';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* "HTTP/1.1 200 OK" (RFC 9112 status-line): the code, or -1. */
static int status_code(const char *line, size_t len)
{
	const char *d;
	size_t i;

	if (len < 12 || memcmp(line, "HTTP/", 5))
		return -1;
	for (i = 5; i < len && line[i] != ' '; i++)
		if (line[i] != '.' && !is_digit(line[i]))
			return -1;
	if (i == 5 || i + 4 > len)
		return -1;
	d = line + i + 1;
	if (!is_digit(d[0]) || !is_digit(d[1]) || !is_digit(d[2]) ||
	    (i + 4 < len && d[3] != ' '))
		return -1;
	return (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
}

/* Judge the status line (len bytes, without its line end). */
static void judge(struct check *c, const char *line, size_t len)
{
	char shown[64];
	int code;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	code = status_code(line, len);
	if (code < 0) {
		show(shown, sizeof(shown), line, len);
		check_result(c, false, "%s: expected an HTTP status line, got "
			     "\"%s\"", c->where, shown);
	} else if ((uint32_t)code == c->conf.expect_status) {
		check_result(c, true, "HTTP %d", code);
	} else {
		check_result(c, false, "HTTP %d, expected %u", code,
			     (unsigned)c->conf.expect_status);
	}
	finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct check *c = h->data;
	struct check_net *n = &c->u.net;

	buf->base = n->buf + n->used;
	buf->len = sizeof(n->buf) - n->used;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct check *c = s->data;
	struct check_net *n = &c->u.net;
	const char *nl;

	if (c->decided || nread == 0)
		return;
	if (nread == UV_EOF && n->used > 0) {
		judge(c, n->buf, n->used);	/* no line end; judge it */
		return;
	}
	if (nread < 0) {
		check_result(c, false, "%s: %s before an HTTP status line",
			     c->where, check_strerror((int)nread));
		finish(c);
		return;
	}
	nl = memchr(n->buf + n->used, '\n', (size_t)nread);
	n->used += (size_t)nread;
	if (nl) {
		judge(c, n->buf, (size_t)(nl - n->buf));
	} else if (n->used == sizeof(n->buf)) {
		check_result(c, false, "%s: no HTTP status line in the first "
			     "%d bytes", c->where, HTTP_READ_MAX);
		finish(c);
	}
}

static void on_write(uv_write_t *req, int status)
{
	struct check *c = req->data;

	if (c->decided || status == 0)
		return;
	check_result(c, false, "send to %s: %s", c->where,
		     check_strerror(status));
	finish(c);
}

/* Host names the server as the client would: brackets around IPv6, the
 * port unless it is 80. */
static void send_request(struct check *c)
{
	struct check_net *n = &c->u.net;
	const struct conf_check *k = &c->conf;
	bool v6 = strchr(k->address, ':') != NULL;
	char port[8] = "";
	uv_buf_t buf;
	int len, rc;

	if (k->port != 80)
		snprintf(port, sizeof(port), ":%u", (unsigned)k->port);
	len = snprintf(n->request, sizeof(n->request), "GET %s HTTP/1.0\r\n"
		       "Host: %s%s%s%s\r\nConnection: close\r\n\r\n", k->path,
		       v6 ? "[" : "", k->address, v6 ? "]" : "", port);
	if (len < 0 || (size_t)len >= sizeof(n->request)) {
		check_result(c, false, "%s: request for path %s too long",
			     c->where, k->path);
		finish(c);
		return;
	}
	buf = uv_buf_init(n->request, (unsigned)len);
	n->write.data = c;
	rc = uv_write(&n->write, (uv_stream_t *)&n->tcp, &buf, 1, on_write);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&n->tcp, on_alloc, on_read);
	if (rc < 0) {
		check_result(c, false, "send to %s: %s", c->where,
			     check_strerror(rc));
		finish(c);
	}
}

static void on_connect(uv_connect_t *req, int status)
{
	struct check *c = req->data;

	if (c->decided)
		return;
	if (status < 0) {
		check_result(c, false, "connect %s: %s", c->where,
			     check_strerror(status));
		finish(c);
	} else if (c->conf.type == CHECK_TCP) {
		check_result(c, true, "connected to %s", c->where);
		finish(c);
	} else {
		send_request(c);
	}
}

void check_net_start(struct check *c)
{
	struct check_net *n = &c->u.net;
	int rc;

	uv_tcp_init(check_loop(c), &n->tcp);
	n->tcp.data = c;
	check_run_handle_opened(c);
	n->connect.data = c;
	rc = uv_tcp_connect(&n->connect, &n->tcp,
			    (const struct sockaddr *)&c->sa, on_connect);
	if (rc < 0) {
		check_result(c, false, "connect %s: %s", c->where,
			     check_strerror(rc));
		finish(c);
	}
}

void check_net_stop(struct check *c, bool timed_out)
{
	if (timed_out)
		check_result(c, false, "timeout after %u ms",
			     (unsigned)c->conf.timeout_ms);
	finish(c);
}
