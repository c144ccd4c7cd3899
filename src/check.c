/*
 * check.c - health checks: the schedule and the rise/fall count (see
 * check.h; one run of each type is in check_net.c and check_script.c).
 *
 * Each check has one timer.  While idle it counts down to the next run;
 * while a run is going it is that run's deadline.  A run starts
 * `interval` after the previous one started, or at once when that one
 * ended later (it can end past its deadline: a killed script still has
 * to be reaped).  So a run still going when the next is due is never
 * started twice, and a run that ends in time keeps the cadence.
 *
 * Counting: a check is healthy after `rise` passes in a row and failed
 * after `fall` failures in a row.  It starts failed and not yet
 * reported; the first state it reaches (healthy after `rise` passes,
 * failed after `fall` failures) is reported through the flip callback
 * too, so a check that never passes is logged once with its reason
 * rather than staying silent.
 *
 * Closing: check_set_close() stops the timers, ends running runs (a
 * script's process group is killed) and frees the set once libuv has
 * closed every handle; no callback is called after it.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

struct check_set {
	uv_loop_t *loop;
	check_flip_cb on_flip;
	void *data;
	int handles;		/* open libuv handles, timers included */
	bool closing;
	int n;
	struct check checks[];
};

static void run_start(struct check *c);

uv_loop_t *check_loop(const struct check *c)
{
	return c->set->loop;
}

/* On Unix libuv's codes are negated errno values, apart from UV_EOF and
 * a few of its own (below -3000); strerror() words them as people know
 * them ("Connection refused"). */
const char *check_strerror(int status)
{
	if (status == UV_EOF)
		return "connection closed";
	if (status < 0 && status > -3000)
		return strerror(-status);
	return uv_strerror(status);
}

void check_result(struct check *c, bool pass, const char *fmt, ...)
{
	va_list ap;

	if (c->decided)
		return;
	c->decided = true;
	c->pass = pass;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

bool check_closing(const struct check *c)
{
	return c->set->closing;
}

static void maybe_free(struct check_set *set)
{
	if (set->closing && set->handles == 0)
		free(set);
}

/* Count one result; call the flip callback when the state changes (or
 * is reached for the first time, see the top of the file). */
static void count_result(struct check *c)
{
	const struct conf_check *k = &c->conf;
	struct check_set *set = c->set;

	memcpy(c->last_reason, c->reason, sizeof(c->last_reason));
	if (c->in_a_row && c->last_pass == c->pass)
		c->in_a_row++;
	else
		c->in_a_row = 1;
	c->last_pass = c->pass;
	if (c->pass && (!c->healthy || !c->reported) && c->in_a_row >= k->rise)
		c->healthy = true;
	else if (!c->pass && (c->healthy || !c->reported) &&
		 c->in_a_row >= k->fall)
		c->healthy = false;
	else
		return;
	c->reported = true;
	set->on_flip(set, k->name, c->healthy, c->last_reason, set->data);
}

static void on_tick(uv_timer_t *t)
{
	run_start(t->data);
}

/* Every handle of the run is closed: count it, schedule the next. */
static void run_done(struct check *c)
{
	struct check_set *set = c->set;
	uint64_t now, due;

	uv_timer_stop(&c->timer);
	c->running = false;
	if (set->closing)
		return;
	if (!c->decided)
		check_result(c, false, "run ended without a result");
	count_result(c);
	if (set->closing)	/* closed by the flip callback */
		return;
	now = uv_now(set->loop);
	due = c->started_ms + c->conf.interval_ms;
	uv_timer_start(&c->timer, on_tick, due > now ? due - now : 0, 0);
}

void check_run_handle_opened(struct check *c)
{
	c->open++;
	c->set->handles++;
}

void check_run_handle_closed(uv_handle_t *h)
{
	struct check *c = h->data;
	struct check_set *set = c->set;

	set->handles--;
	if (--c->open == 0)
		run_done(c);
	maybe_free(set);
}

static void stop_run(struct check *c, bool timed_out)
{
	if (c->conf.type == CHECK_SCRIPT)
		check_script_stop(c, timed_out);
	else
		check_net_stop(c, timed_out);
}

static void on_deadline(uv_timer_t *t)
{
	stop_run(t->data, true);
}

static void run_start(struct check *c)
{
	c->running = true;
	c->started_ms = uv_now(c->set->loop);
	c->decided = false;
	c->pass = false;
	c->reason[0] = '\0';
	c->open = 0;
	memset(&c->u, 0, sizeof(c->u));
	uv_timer_start(&c->timer, on_deadline, c->conf.timeout_ms, 0);
	if (c->conf.type == CHECK_SCRIPT)
		check_script_start(c);
	else
		check_net_start(c);
}

/* Address and port of a tcp or http check, and "addr:port" for
 * messages. */
static int set_address(struct check *c, struct hp_err *err)
{
	const struct conf_check *k = &c->conf;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->sa;

	if (k->type == CHECK_SCRIPT)
		return 0;
	if (uv_ip4_addr(k->address, k->port, sin) == 0) {
		snprintf(c->where, sizeof(c->where), "%s:%u", k->address,
			 (unsigned)k->port);
		return 0;
	}
	if (uv_ip6_addr(k->address, k->port, sin6) == 0) {
		snprintf(c->where, sizeof(c->where), "[%s]:%u", k->address,
			 (unsigned)k->port);
		return 0;
	}
	return hp_errf(err, "check %s: address \"%s\": expected an IPv4 or "
		       "IPv6 address", k->name, k->address);
}

int check_set_open(uv_loop_t *loop, const struct conf *conf,
		   check_flip_cb on_flip, void *data, struct check_set **out,
		   struct hp_err *err)
{
	struct check_set *set;
	struct check *c;
	int i, n = conf->n_checks;

	*out = NULL;
	if (n < 0 || n > CONF_MAX_CHECKS)
		return hp_errf(err, "checks: %d configured; expected 0 to %d",
			       n, CONF_MAX_CHECKS);
	set = calloc(1, sizeof(*set) + (size_t)n * sizeof(set->checks[0]));
	if (!set)
		return hp_errf(err, "checks: out of memory");
	set->loop = loop;
	set->on_flip = on_flip;
	set->data = data;
	for (i = 0; i < n; i++) {
		c = &set->checks[i];
		c->set = set;
		c->conf = conf->checks[i];
		snprintf(c->last_reason, sizeof(c->last_reason),
			 "not run yet");
		if (set_address(c, err)) {
			free(set);
			return -1;
		}
	}
	/* Timers last: nothing to close if an address was bad. */
	for (i = 0; i < n; i++) {
		c = &set->checks[i];
		uv_timer_init(loop, &c->timer);
		c->timer.data = c;
		set->handles++;
	}
	set->n = n;
	*out = set;
	return 0;
}

void check_set_start(struct check_set *set)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (!set->checks[i].running)
			uv_timer_start(&set->checks[i].timer, on_tick, 0, 0);
}

bool check_set_healthy(const struct check_set *set)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (!set->checks[i].healthy)
			return false;
	return true;
}

int check_set_count(const struct check_set *set)
{
	return set->n;
}

bool check_set_get(const struct check_set *set, int i, const char **name,
		   bool *healthy, const char **last_reason)
{
	const struct check *c;

	if (i < 0 || i >= set->n)
		return false;
	c = &set->checks[i];
	if (name)
		*name = c->conf.name;
	if (healthy)
		*healthy = c->healthy;
	if (last_reason)
		*last_reason = c->last_reason;
	return true;
}

bool check_set_settled(const struct check_set *set)
{
	for (int i = 0; i < set->n; i++)
		if (!set->checks[i].reported)
			return false;
	return true;
}

static void timer_closed(uv_handle_t *h)
{
	struct check *c = h->data;
	struct check_set *set = c->set;

	set->handles--;
	maybe_free(set);
}

void check_set_close(struct check_set *set)
{
	struct check *c;
	int i;

	if (!set || set->closing)
		return;
	set->closing = true;
	for (i = 0; i < set->n; i++) {
		c = &set->checks[i];
		uv_timer_stop(&c->timer);
		if (c->running)
			stop_run(c, false);
		uv_close((uv_handle_t *)&c->timer, timer_closed);
	}
	maybe_free(set);
}
