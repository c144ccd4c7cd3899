/*
 * res_int.h - what a resource type (res_vip.c, res_redis.c) implements
 * and what the set (res.c) gives it back.  Internal header: only res*.c
 * include it; everyone else uses res.h.
 *
 * The set owns one struct res per configured resource and drives it
 * through the ops table of its type.  A type keeps its own state in
 * r->priv (malloc'd in open, freed by the set after close) and reports
 * back through res_step_done(), res_monitor_done() and res_event().
 * Every libuv handle a type owns has h->data = r and is closed through
 * res_close_handle(), so the set knows when it may free the memory.
 */
#ifndef HAPAIR_RES_INT_H
#define HAPAIR_RES_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "err.h"
#include "res.h"

struct res;

struct res_ops {
	const char *type;	/* "vip", "redis": starts every message */
	bool data;		/* a data store: position, writable, link */

	/* Allocate r->priv and init handles; touch nothing outside yet. */
	int (*open)(struct res *r, struct hp_err *err);
	/* Drop connections, stop timers, res_close_handle() each handle. */
	void (*close)(struct res *r);
	/* Become primary / follow primary_id (0: none).  Finish with
	 * res_step_done(r, token, ...), possibly before returning.  A new
	 * call (or fence) supersedes one still running. */
	void (*promote)(struct res *r, unsigned token);
	void (*demote)(struct res *r, uint8_t primary_id, unsigned token);
	/* Stop accepting writes now; fire and forget; errors as events. */
	void (*fence)(struct res *r);
	/* Planned switchover (primary): stop accepting writes but keep
	 * replication flowing, so the standby can reach this node's exact
	 * position (Redis: CLIENT PAUSE WRITE; PostgreSQL: read-only).
	 * Finish with res_step_done(); the monitoring round after that
	 * reports the final position.  NULL: nothing to do. */
	void (*quiesce)(struct res *r, unsigned token);
	/* The switchover was aborted: accept writes again.  Fire and
	 * forget.  NULL: nothing to do. */
	void (*unquiesce)(struct res *r);
	/* The switchover handed over: the standby confirmed this store's
	 * exact final position, so the coming demote need not keep a copy
	 * of its data.  NULL: nothing to do. */
	void (*handed_over)(struct res *r);
	/* The other data node just reported its store's position (a HELLO
	 * or vote request received now: fresh, not a remembered one).
	 * NULL: not needed. */
	void (*peer_position)(struct res *r, bool has, uint64_t position);
	/* One monitoring round: update r->state, then res_monitor_done().
	 * NULL: nothing to watch (r->state is set once, in open). */
	void (*monitor)(struct res *r);
	/* Sync-mode write guard (res_set_sync); NULL: not applicable. */
	void (*set_sync)(struct res *r, bool require);
	/* The guard's fence: blocking, bounded by the resource's timeout. */
	int (*fence_sync)(const struct conf *conf,
			  const struct conf_resource *cr, uint8_t self_id,
			  struct hp_err *err);
};

struct res {
	struct res_set *set;
	const struct conf *conf;
	const struct conf_resource *cr;
	const struct res_ops *ops;
	uint8_t self_id;
	uint32_t timeout_ms;	/* per promote/demote step */
	uint32_t monitor_ms;	/* monitoring interval, 0 = none */
	uv_loop_t *loop;
	uv_timer_t monitor_timer;
	struct res_state state;	/* this resource's last monitoring result */
	void *priv;		/* the type's own state */
};

extern const struct res_ops res_vip_ops;
extern const struct res_ops res_redis_ops;
extern const struct res_ops res_pg_ops;
extern const struct res_ops res_mariadb_ops;

/* The step started with token finished: rc 0 (msg: a short note for the
 * log, or NULL) or -1 (msg: a sentence naming the resource).  Stale
 * tokens (a timed-out or superseded step) are ignored. */
void res_step_done(struct res *r, unsigned token, int rc, const char *msg);

/* The step started with token needs up to ms more from now (Redis
 * setting its data aside before a resync). */
void res_step_extend(struct res *r, unsigned token, uint32_t ms);

/* A monitoring round finished; r->state holds its result. */
void res_monitor_done(struct res *r);

/* Run r's next monitoring round on the next loop turn instead of at its
 * interval: a connection the resource keeps was lost, and how the server
 * is should be known now, not up to one interval later. */
void res_monitor_soon(struct res *r);

/* Something an operator must hear about (DESIGN.md: nothing discarded
 * silently; a fence that failed).  printf-style, one sentence. */
void res_event(struct res *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Stop and close a malloc'd poll handle of r's (a connection's socket
 * watcher), before the client library closes the socket; it is freed
 * once libuv has closed it.  *poll becomes NULL; NULL is a no-op. */
void res_close_poll(struct res *r, uv_poll_t **poll);

/* r->state.detail, printf-style (truncated to fit). */
void res_detail(struct res *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A data store that does not answer: not healthy, no position, not
 * writable, no replication link or threads; why goes to the detail. */
void res_down(struct res *r, const char *why);

/* Close a handle the type owns (h->data must be r); the set frees its
 * memory only after every such handle has closed. */
void res_close_handle(struct res *r, uv_handle_t *h);

/* Keep the set alive while a request (uv_fs_t) is in flight; release
 * in its callback.  res_closing() says whether the set is closing. */
void res_hold(struct res *r);
void res_release(struct res *r);
bool res_closing(const struct res *r);

/* CLOCK_MONOTONIC in ms (guard.c). */
uint64_t mono_ms(void);

#endif
