/*
 * alert.h - webhooks: events POSTed as JSON to each [alert] URL.
 *
 * alert_set_sink() is an event_sink_fn (events.h): every event that
 * passes an alert's filters (min_severity, kinds) is queued for it and
 * POSTed, one line of JSON, with Content-Type: application/json,
 * User-Agent: hapair and, if a token was loaded, Authorization: Bearer.
 * A 2xx answer is a delivery; anything else (another status, a redirect,
 * a connection error, the timeout) is retried after retry_backoff,
 * doubling up to 60 s, at most `retries` times, then counted failed and
 * logged once with the reason.  Each alert delivers in order with one
 * request in flight; its queue holds ALERT_QUEUE_MAX events and, when
 * full, drops the oldest one not in flight (counted).  Nothing blocks
 * the loop: libcurl's multi interface runs on libuv poll and timer
 * handles.  Loop thread only.  The process must ignore SIGPIPE (the
 * agent does): with CURLOPT_NOSIGNAL, libcurl does not do it itself.
 */
#ifndef HAPAIR_ALERT_H
#define HAPAIR_ALERT_H

#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "err.h"
#include "events.h"

enum { ALERT_QUEUE_MAX = 64 };

struct alert_set;

/* One queue per conf->alerts[i] (url, filters, token as loaded by
 * conf_load_alert_tokens(), all copied); nothing is sent until events
 * arrive.  With no [alert] the set is empty and the sink does nothing.
 * Returns 0, or -1 with *err set (libcurl could not start). */
int alert_set_open(uv_loop_t *loop, const struct conf *conf,
		   struct alert_set **out, struct hp_err *err);

/* An event_sink_fn; data is the set.  Queues ev's JSON for every alert
 * it passes the filters of, and returns. */
void alert_set_sink(void *data, const struct event *ev, const char *json);

/* Stop: abort requests in flight, drop what is queued (logged per alert
 * with how many), and free the set once libuv has closed its handles.
 * Remove the sink from the event log first (events_remove_sink). */
void alert_set_close(struct alert_set *a);

/* Counters of one alert, for status and metrics.  name is the set's. */
struct alert_stats {
	const char *name;
	uint64_t sent;		/* delivered (2xx) */
	uint64_t failed;	/* given up after every retry */
	uint64_t dropped;	/* pushed out of a full queue */
	uint64_t retries;	/* attempts after a first one failed */
	unsigned queued;	/* waiting, the one in flight included */
};

int alert_set_count(const struct alert_set *a);
void alert_set_stats(const struct alert_set *a, int i,
		     struct alert_stats *out);

#endif
