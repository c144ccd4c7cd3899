/*
 * ctl.c - control socket server (libuv) and blocking client.
 *
 * Requests are one line, at most CTL_MAX_REQUEST bytes; a client that
 * sends more, or nothing within the idle timeout, is disconnected.
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { CTL_MAX_REQUEST = 256, CTL_IDLE_MS = 2000, CTL_MAX_REPLY = 1 << 20 };

struct ctl_req;

struct ctl {
	uv_pipe_t server;
	ctl_handler handler;
	void *data;
	char path[108];
	struct ctl_req *conns;	/* open connections, closed with us */
};

struct ctl_req {
	uv_pipe_t pipe;
	uv_timer_t idle;
	struct ctl *ctl;
	char buf[CTL_MAX_REQUEST];
	size_t len;
	int closing;
	int refs;	/* open handles + 1 while a reply is owed */
	bool asked;	/* the handler has the request */
	struct ctl_req *prev, *next;	/* in ctl->conns until closed */
};

#define ctl_conn ctl_req

static void conn_unref(struct ctl_conn *c)
{
	if (--c->refs == 0)
		free(c);
}

static void conn_freed(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void conn_close(struct ctl_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->pipe, conn_freed);
	uv_close((uv_handle_t *)&c->idle, conn_freed);
}

static void write_done(uv_write_t *req, int status)
{
	struct ctl_conn *c = req->data;

	free(((uv_buf_t *)(req + 1))->base);
	free(req);
	conn_close(c);
}

static void respond(struct ctl_conn *c, char *reply)
{
	uv_write_t *req = malloc(sizeof(*req) + sizeof(uv_buf_t));
	uv_buf_t *buf;

	if (!req) {
		free(reply);
		conn_close(c);
		return;
	}
	buf = (uv_buf_t *)(req + 1);
	*buf = uv_buf_init(reply, (unsigned)strlen(reply));
	req->data = c;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (uv_write(req, (uv_stream_t *)&c->pipe, buf, 1, write_done)) {
		free(reply);
		free(req);
		conn_close(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_conn *c = h->data;

	*buf = uv_buf_init(c->buf + c->len,
			   (unsigned)(sizeof(c->buf) - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ctl_conn *c = s->data;
	char *nl;

	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = strchr(c->buf, '\n');
	if (!nl) {
		if (c->len >= sizeof(c->buf) - 1)
			respond(c, strdup("{\"error\":\"request too long\"}\n"));
		return;
	}
	*nl = '\0';
	if (c->asked)
		return; /* one request per connection */
	c->asked = true;
	c->refs++;	/* released by ctl_reply */
	uv_timer_stop(&c->idle);
	uv_read_stop(s);
	c->ctl->handler(c->ctl->data, c->buf, c);
}

void ctl_reply(struct ctl_req *c, char *reply)
{
	if (c->closing) {
		free(reply);
	} else if (reply) {
		respond(c, reply);
	} else {
		conn_close(c);
	}
	conn_unref(c);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	struct ctl_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->ctl = ctl;
	c->refs = 2;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	uv_pipe_init(server->loop, &c->pipe, 0);
	uv_timer_init(server->loop, &c->idle);
	c->pipe.data = c;
	c->idle.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->idle, on_idle, CTL_IDLE_MS, 0);
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void server_freed(uv_handle_t *h)
{
	free(h->data);
}

int ctl_listen(uv_loop_t *loop, const char *path, ctl_handler handler,
	       void *data, struct ctl **out, struct hp_err *err)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	mode_t old;
	int rc;

	if (!ctl)
		return hp_errf(err, "control socket: out of memory");
	if (strlen(path) >= sizeof(ctl->path)) {
		free(ctl);
		return hp_errf(err, "control socket %s: path longer than %zu "
			       "bytes", path, sizeof(ctl->path) - 1);
	}
	strcpy(ctl->path, path);
	ctl->handler = handler;
	ctl->data = data;
	unlink(path);
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	old = umask(077);
	rc = uv_pipe_bind(&ctl->server, path);
	umask(old);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
	if (rc) {
		*out = NULL;
		hp_errf(err, "control socket %s: %s", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&ctl->server, server_freed);
		return -1;
	}
	*out = ctl;
	return 0;
}


void ctl_close(struct ctl *ctl)
{
	if (!ctl)
		return;
	unlink(ctl->path);
	while (ctl->conns)
		conn_close(ctl->conns);
	uv_close((uv_handle_t *)&ctl->server, server_freed);
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

int ctl_request(const char *path, const char *request, int timeout_ms,
		char **reply, struct hp_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 4096, len = 0;
	char *buf = NULL;
	int fd, rc = -1;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return hp_errf(err, "control socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hp_errf(err, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		hp_errf(err, "cannot reach the agent at %s: %s (is "
			"`hapair agent` running for this node?)", path,
			strerror(errno));
		goto out;
	}
	if (write(fd, request, strlen(request)) < 0 || write(fd, "\n", 1) < 0) {
		hp_errf(err, "control socket %s: write: %s", path,
			strerror(errno));
		goto out;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf || wait_fd(fd, POLLIN, timeout_ms) <= 0) {
			hp_errf(err, "control socket %s: no answer within "
				"%d ms", path, timeout_ms);
			goto out;
		}
		if (len + 1 >= cap) {
			char *nb = cap < CTL_MAX_REPLY ?
					   realloc(buf, cap * 2) : NULL;

			if (!nb) {
				hp_errf(err, "control socket %s: reply too "
					"large", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			hp_errf(err, "control socket %s: read: %s", path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*reply = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}
