/*
 * res_redis_conn.c - the Redis resource's connection to its local Redis
 * (see res_redis.c for what is done over it).
 *
 * One hiredis async connection on the agent's libuv loop, made lazily
 * and authenticated (AUTH user password, or password only) before
 * anything else is sent on it.  hiredis 0.14 has no connect or command
 * timeout of its own: cmd_timer runs while replies are outstanding and
 * drops the connection when none came within the resource's timeout; the
 * next command reconnects.  Monitoring waits out a back-off after a
 * failed connection, actions do not.  Its libuv adapter loses poll
 * errors, so this file hooks its own poll callback in (attach()).
 *
 * Also here: INFO reply parsing, and the guard's blocking fence.
 */
#include <hiredis/adapters/libuv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res_redis_int.h"

/* ---- the connection ------------------------------------------------- */

/* The connection ac is gone (or being dropped): forget it, say why, and
 * make monitoring wait before it reconnects. */
static void conn_lost(struct rds *d, const redisAsyncContext *ac,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conn_lost(struct rds *d, const redisAsyncContext *ac,
		      const char *fmt, ...)
{
	int n;
	va_list ap;

	if (d->ac != ac)
		return;
	d->ac = NULL;
	d->pending = 0;
	uv_timer_stop(&d->cmd_timer);
	n = snprintf(d->conn_err, sizeof(d->conn_err), "%s: ", d->where);
	va_start(ap, fmt);
	vsnprintf(d->conn_err + n, sizeof(d->conn_err) - (size_t)n, fmt, ap);
	va_end(ap);
	d->retry_at_ms = mono_ms() + d->backoff_ms;
	d->backoff_ms = d->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			d->backoff_ms * 2;
}

/* Pending callbacks run with a NULL reply now, or after the current
 * callback returns, and find d->conn_err. */
void redis_drop(struct rds *d, const char *why)
{
	redisAsyncContext *ac = d->ac;

	if (!ac)
		return;
	conn_lost(d, ac, "%s", why);
	redisAsyncFree(ac);
}

static void cmd_timeout(uv_timer_t *t)
{
	struct res *r = t->data;
	struct rds *d = r->priv;
	char why[96];

	snprintf(why, sizeof(why), "no answer within %u ms; connection "
		 "dropped", r->timeout_ms);
	redis_drop(d, why);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		conn_lost(ac->data, ac, "connect: %s", ac->c.errstr);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rds *d = ac->data;
	bool idle = d->ac == ac && d->pending == 0;

	if (status != REDIS_OK)
		conn_lost(d, ac, "connection lost: %s", ac->c.errstr);
	else
		conn_lost(d, ac, "connection closed");
	if (idle) {
		/* Closed while nothing was asked (Redis killed or
		 * restarted, CLIENT KILL): reconnect and look at once. */
		d->retry_at_ms = 0;
		d->backoff_ms = BACKOFF_MIN_MS;
		res_monitor_soon(d->r);
	}
}

struct rds *redis_got_reply(redisAsyncContext *ac, const redisReply *rep)
{
	struct rds *d = ac->data;

	if (d->ac != ac)
		return d; /* leftovers of a dropped connection */
	if (!rep) {
		conn_lost(d, ac, "connection lost: %s",
			  ac->c.err ? ac->c.errstr : "closed");
		return d;
	}
	d->backoff_ms = BACKOFF_MIN_MS;
	if (d->pending > 0 && --d->pending > 0)
		uv_timer_start(&d->cmd_timer, cmd_timeout, d->r->timeout_ms, 0);
	else
		uv_timer_stop(&d->cmd_timer);
	return d;
}

bool redis_failed(const struct rds *d, const redisReply *rep,
		  const char *what, char *msg, size_t size)
{
	if (!rep) {
		snprintf(msg, size, "%s", d->conn_err);
		return true;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(msg, size, "%s: %s: %s", d->where, what, rep->str);
		return true;
	}
	return false;
}

static void auth_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rds *d = redis_got_reply(ac, reply);
	const redisReply *rep = reply;

	/* Commands queued behind AUTH fail with the AUTH error. */
	if (d->ac == ac && rep && rep->type == REDIS_REPLY_ERROR) {
		char why[HP_ERR_MAX];

		snprintf(why, sizeof(why), "AUTH: %s", rep->str);
		redis_drop(d, why);
	}
}

static void queue(struct rds *d, redisCallbackFn *fn, void *priv, int argc,
		  const char **argv)
{
	if (redisAsyncCommandArgv(d->ac, fn, priv, argc, argv, NULL) !=
	    REDIS_OK) {
		redis_drop(d, "hiredis refused to queue a command");
		return;
	}
	if (d->pending++ == 0)
		uv_timer_start(&d->cmd_timer, cmd_timeout, d->r->timeout_ms, 0);
}

/* The libuv adapter of hiredis 0.14 drops poll errors: libuv reports a
 * refused connect (POLLERR) as status UV_EBADF with the handle stopped,
 * the adapter returns, and hiredis waits forever.  These hooks replace
 * its four event hooks (its attach and cleanup stay) and hand an error
 * to hiredis as readiness, so it finds the socket error itself. */
static void poll_cb(uv_poll_t *h, int status, int events)
{
	redisLibuvEvents *p = h->data;

	if (status < 0)
		events = p->events;
	if (p->context && (events & UV_READABLE))
		redisAsyncHandleRead(p->context);
	if (p->context && (events & UV_WRITABLE))
		redisAsyncHandleWrite(p->context);
}

static void poll_set(redisLibuvEvents *p, int events)
{
	p->events = events;
	if (events)
		uv_poll_start(&p->handle, events, poll_cb);
	else
		uv_poll_stop(&p->handle);
}

static void poll_add_read(void *data)
{
	redisLibuvEvents *p = data;

	poll_set(p, p->events | UV_READABLE);
}

static void poll_del_read(void *data)
{
	redisLibuvEvents *p = data;

	poll_set(p, p->events & ~UV_READABLE);
}

static void poll_add_write(void *data)
{
	redisLibuvEvents *p = data;

	poll_set(p, p->events | UV_WRITABLE);
}

static void poll_del_write(void *data)
{
	redisLibuvEvents *p = data;

	poll_set(p, p->events & ~UV_WRITABLE);
}

static int attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	if (redisLibuvAttach(ac, loop) != REDIS_OK)
		return -1;
	ac->ev.addRead = poll_add_read;
	ac->ev.delRead = poll_del_read;
	ac->ev.addWrite = poll_add_write;
	ac->ev.delWrite = poll_del_write;
	return 0;
}

static int connect_now(struct rds *d)
{
	const struct conf_redis *c = d->c;
	redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);

	if (!ac || ac->err) {
		snprintf(d->conn_err, sizeof(d->conn_err), "%s: connect: %s",
			 d->where, ac ? ac->c.errstr : "out of memory");
		goto fail;
	}
	if (attach(ac, d->r->loop)) {
		snprintf(d->conn_err, sizeof(d->conn_err), "%s: connect: "
			 "cannot watch the socket on the event loop", d->where);
		/* A half-done attach must not run its cleanup on free. */
		memset(&ac->ev, 0, sizeof(ac->ev));
		goto fail;
	}
	ac->data = d;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	d->ac = ac;
	d->pending = 0;
	if (c->password[0]) {
		const char *user[] = { "AUTH", c->user, c->password };
		const char *pass[] = { "AUTH", c->password };

		queue(d, auth_reply, NULL, c->user[0] ? 3 : 2,
		      c->user[0] ? user : pass);
	}
	return d->ac ? 0 : -1;
fail:
	if (ac)
		redisAsyncFree(ac);
	d->retry_at_ms = mono_ms() + d->backoff_ms;
	return -1;
}

int redis_send(struct rds *d, redisCallbackFn *fn, void *priv, int argc,
	       const char **argv)
{
	if (!d->ac && connect_now(d))
		return -1;
	queue(d, fn, priv, argc, argv);
	return d->ac ? 0 : -1;
}

/* ---- INFO parsing --------------------------------------------------- */

/* Value of "key:value" in an INFO reply, or "" if absent. */
void redis_info_field(const char *info, const char *key, char *out,
		      size_t size)
{
	size_t klen = strlen(key);

	out[0] = '\0';
	for (const char *p = info; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			size_t n = strcspn(p + klen + 1, "\r\n");

			if (n >= size)
				n = size - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return;
		}
	}
}

uint64_t redis_info_u64(const char *info, const char *key, bool *found)
{
	char buf[32];

	redis_info_field(info, key, buf, sizeof(buf));
	if (found)
		*found = buf[0] != '\0';
	return strtoull(buf, NULL, 10);
}

bool redis_info_is_master(const char *info)
{
	char role[16];

	redis_info_field(info, "role", role, sizeof(role));
	return strcmp(role, "master") == 0;
}

/* ---- the guard's fence ---------------------------------------------- */

static int sync_cmd(redisContext *c, const char *where, const char *what,
		    int argc, const char **argv, struct hp_err *err)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
	int rc = 0;

	if (!rep)
		return hp_errf(err, "%s: %s: %s", where, what, c->errstr);
	if (rep->type == REDIS_REPLY_ERROR)
		rc = hp_errf(err, "%s: %s: %s", where, what, rep->str);
	freeReplyObject(rep);
	return rc;
}

int redis_fence_sync(const struct conf *conf,
		     const struct conf_resource *cr, uint8_t self_id,
		     struct hp_err *err)
{
	const struct conf_redis *rc = &cr->redis;
	uint32_t ms = rc->timeout_ms ? rc->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	char where[160], pause[16];
	const char *user[] = { "AUTH", rc->user, rc->password };
	const char *pass[] = { "AUTH", rc->password };
	const char *argv[] = { "CLIENT", "PAUSE", pause, "WRITE" };
	redisContext *c;
	int ret = -1;

	snprintf(where, sizeof(where), "redis %s at %s:%u", cr->name,
		 rc->host, rc->port);
	snprintf(pause, sizeof(pause), "%d", PAUSE_MS);
	c = redisConnectWithTimeout(rc->host, rc->port, tv);
	if (!c)
		return hp_errf(err, "%s: connect: out of memory", where);
	if (c->err) {
		hp_errf(err, "%s: connect: %s", where, c->errstr);
		goto out;
	}
	redisSetTimeout(c, tv);
	if (rc->password[0] &&
	    sync_cmd(c, where, "AUTH", rc->user[0] ? 3 : 2,
		     rc->user[0] ? user : pass, err))
		goto out;
	if (sync_cmd(c, where, "CLIENT PAUSE", 4, argv, err))
		goto out;
	ret = 0;
out:
	redisFree(c);
	return ret;
}
