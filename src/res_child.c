/*
 * res_child.c - one child process of a resource (see res_child.h).
 *
 * Three handles per run: the process, the pipe and the timer.  Each is
 * closed through child_close(), which holds the resource set until the
 * handle's close callback; the last of the three to close ends the run
 * and calls back.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "res_child.h"
#include "res_int.h"

enum { GRACE_MS = 200 };

static void child_closed(uv_handle_t *h)
{
	struct res_child *x = h->data;
	struct res *r = x->r;

	if (--x->open == 0) {
		res_child_cb cb = x->cb;

		x->running = false;
		x->cb = NULL;
		if (!res_closing(r) && cb)
			cb(r, x->timed_out ? -1 : (int)x->status, x->out);
	}
	res_release(r); /* last: may free x */
}

static void child_close(struct res_child *x, uv_handle_t *h)
{
	if (uv_is_closing(h))
		return;
	h->data = x;
	res_hold(x->r);
	uv_close(h, child_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char chunk[1024];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void keep_tail(struct res_child *x, const char *data, size_t k)
{
	if (k > RES_CHILD_OUT_MAX) {
		data += k - RES_CHILD_OUT_MAX;
		k = RES_CHILD_OUT_MAX;
	}
	if (x->len + k > RES_CHILD_OUT_MAX) {
		size_t drop = x->len + k - RES_CHILD_OUT_MAX;

		memmove(x->out, x->out + drop, x->len - drop);
		x->len -= drop;
	}
	memcpy(x->out + x->len, data, k);
	x->len += k;
	x->out[x->len] = '\0';
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct res_child *x = s->data;

	if (n >= 0) {
		keep_tail(x, buf->base, (size_t)n);
		return;
	}
	/* EOF: once the child has exited too, the timer is not needed. */
	child_close(x, (uv_handle_t *)s);
	if (uv_is_closing((uv_handle_t *)&x->proc))
		child_close(x, (uv_handle_t *)&x->timer);
}

static void on_timer(uv_timer_t *t)
{
	struct res_child *x = t->data;

	if (!uv_is_closing((uv_handle_t *)&x->proc)) {
		/* Still running: the timeout. */
		x->timed_out = true;
		uv_process_kill(&x->proc, SIGKILL);
		return;
	}
	/* Exited; a grandchild keeps the pipe open: stop reading. */
	child_close(x, (uv_handle_t *)&x->pipe);
	child_close(x, (uv_handle_t *)t);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct res_child *x = p->data;

	x->status = sig ? -1 : status;
	child_close(x, (uv_handle_t *)p);
	if (uv_is_closing((uv_handle_t *)&x->pipe)) {
		child_close(x, (uv_handle_t *)&x->timer);
		return;
	}
	uv_timer_start(&x->timer, on_timer, GRACE_MS, 0);
}

int res_child_run(struct res *r, struct res_child *x, const char *where,
		  const char *name, char *const argv[], char *const env[],
		  bool as_user, uid_t uid, gid_t gid, uint32_t timeout_ms,
		  res_child_cb cb, char *err, size_t size)
{
	uv_process_options_t o = { 0 };
	uv_stdio_container_t io[3];
	int rc;

	if (x->running) {
		snprintf(err, size, "%s: %s: another child still runs", where,
			 name);
		return -1;
	}
	x->r = r;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->len = 0;
	x->out[0] = '\0';
	x->timed_out = false;
	x->status = -1;
	x->cb = cb;
	uv_pipe_init(r->loop, &x->pipe, 0);
	x->pipe.data = x;
	uv_timer_init(r->loop, &x->timer);
	x->timer.data = x;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&x->pipe;
	io[2].flags = UV_IGNORE;
	o.file = argv[0];
	o.args = (char **)argv;
	o.env = (char **)env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_exit_cb;
	o.flags = UV_PROCESS_DETACHED;
	if (as_user) {
		o.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
		o.uid = uid;
		o.gid = gid;
	}
	x->proc.data = x;
	rc = uv_spawn(r->loop, &x->proc, &o);
	x->running = true;
	x->open = 2; /* pipe, timer */
	if (rc) {
		snprintf(err, size, "%s: %s: cannot start %s: %s", where,
			 name, argv[0], uv_strerror(rc));
		x->cb = NULL;
		child_close(x, (uv_handle_t *)&x->pipe);
		child_close(x, (uv_handle_t *)&x->timer);
		/* uv_spawn failed: the process handle is closed too. */
		x->open++;
		child_close(x, (uv_handle_t *)&x->proc);
		return -1;
	}
	x->open++;
	uv_read_start((uv_stream_t *)&x->pipe, on_alloc, on_read);
	uv_timer_start(&x->timer, on_timer, timeout_ms, 0);
	return 0;
}

void res_child_kill(struct res_child *x)
{
	if (x->running && !uv_is_closing((uv_handle_t *)&x->proc)) {
		x->timed_out = true;
		uv_process_kill(&x->proc, SIGKILL);
	}
}
