/*
 * voter.h - the running voter (agent or witness), shared by agent.c
 * (the loop) and status.c (the status document).  Internal header.
 */
#ifndef HAPAIR_VOTER_H
#define HAPAIR_VOTER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "elect.h"
#include "events.h"
#include "proto.h"

struct guard;
struct ctl;
struct check_set;
struct notify_set;
struct api;
struct res_set;
struct ops_waiter;
struct alert_set;
struct evfile;

enum {
	RTT_BUCKETS = 12,	/* heartbeat RTT histogram (metrics.c) */
	OPS_WAITERS = 8,	/* operator requests waiting for an outcome */
};

/* Upper bounds of the RTT buckets, in microseconds (last = +Inf). */
extern const uint32_t voter_rtt_bounds_us[RTT_BUCKETS];

/* Where the time of the failover this node is taking part in goes
 * (trace.c; events.h, enum event_phase). */
struct trace {
	bool active;		/* an election that may make us primary */
	bool planned;		/* started by a STEP_DOWN (switchover) */
	bool replacing;		/* a primary existed before (failover) */
	bool promoting;		/* won; resources being promoted */
	bool awaiting_write;	/* promoted; waiting for writable */
	uint8_t old_leader;
	uint64_t last_hb_ms;	/* last heartbeat from the old primary */
	uint64_t detect_ms;	/* election started */
	uint64_t won_ms;
	uint64_t promoted_ms;
	uint32_t phase_ms[PHASE_MAX];
};

/* A planned switchover started by an operator on this node (ops.c). */
struct switchover {
	bool running;
	uint64_t term;		/* our term when it started */
	uint64_t started_ms;
	uint64_t handed_ms;	/* STEP_DOWN sent, 0 before */
	uint8_t to;		/* the standby */
	char result[400];	/* last outcome, for status */
};

struct voter {
	uv_loop_t *loop;
	struct conf conf;
	uint8_t key[PROTO_KEY_LEN];
	uint8_t self;		/* 1, 2, or ELECT_WITNESS_ID */
	const char *name;	/* node name, or "witness" */
	bool witness;
	char state_path[CONF_PATH_MAX + 80];
	char sock_path[CONF_PATH_MAX + 80];
	uint64_t epoch;
	uint64_t seq;
	uint64_t started_ms;

	struct elect st;
	struct proto_replay replay;

	uv_udp_t udp;
	uv_timer_t timer;
	uv_timer_t health_timer; /* retry after a failed promote */
	uv_timer_t res_kick;	/* feed resource state from the loop */
	uv_timer_t stall_watch;	/* notices the loop not running */
	uint64_t stall_last_ms;
	uv_signal_t sig_term, sig_int, sig_hup;
	const char *conf_path;	/* for SIGHUP reload */
	struct guard *guard;
	uint64_t guard_fences_seen;
	struct ctl *ctl;
	struct api *api;	/* HTTP API, NULL without [api] */
	bool stopping;
	bool stepping;		/* inside step(): no nested steps */

	/* health checks and notify programs (agents only) */
	struct check_set *checks;
	struct check_set *checks_next;	/* reloaded, until settled */
	struct notify_set *notify;

	/* resources (agents only) */
	struct res_set *res;
	bool res_healthy;	/* last aggregate health from monitoring */
	bool unfit;		/* a promote failed: unfit until retry */
	bool res_running;	/* an action the agent started runs */
	bool res_interrupting;	/* its done comes next, interrupted */
	bool await_final_pos;	/* quiesced: EV_QUIESCED after the next
				 * monitoring round */
	uint64_t monitor_kick_ms; /* last res_set_monitor_now() */

	/* events, alerts, operator requests, failover trace */
	struct event_log *events;
	struct alert_set *alerts;
	struct evfile *evfile;
	struct ops_waiter *waiters[OPS_WAITERS];
	struct switchover sw;
	struct trace trace;
	bool peer_up, witness_up;	/* last reachability reported */
	uint32_t last_phase_ms[PHASE_MAX]; /* last failover we took over */
	uint64_t last_failover_wall_ms;

	/* counters, exported by status */
	uint64_t rx_dropped[DROP_MAX];
	uint64_t rx_ok;
	uint64_t tx_ok, tx_errors;
	uint64_t elections_won;
	uint64_t failovers;	/* became primary replacing another */
	uint64_t switchovers[3]; /* done, aborted, refused (ops.c) */
	uint64_t rtt_bucket[RTT_BUCKETS]; /* not cumulative */
	uint64_t rtt_count, rtt_sum_us;
	uint64_t fences;
	uint64_t persist_errors;
	uint64_t resource_errors;
};

/* The status document (JSON text, malloc'd) for the control socket and
 * GET /v1/status. */
char *status_json(const struct voter *v, uint64_t now_ms);

/* Node id was heard within the lease promise (status.c). */
bool voter_reachable(const struct voter *v, uint8_t id, uint64_t now_ms);

/* The Prometheus metrics text (metrics.c), malloc'd; NULL if out of
 * memory.  Agents only. */
char *metrics_text(const struct voter *v, uint64_t now_ms);

/* Name of node id in this cluster ("a", "b", "witness"). */
const char *voter_node_name(const struct voter *v, uint8_t id);

/* Feed the state machine one simple event (agent.c). */
void voter_event(struct voter *v, enum elect_ev_type type, bool flag,
		 uint64_t gen);

/* Why a failover could not happen now, or NULL (status.c). */
const char *voter_failover_blocker(const struct voter *v, uint64_t now);

/* What a reload applies (reload.c -> voter_apply_conf in agent.c). */
enum {
	RELOAD_CHECKS = 1u << 0,
	RELOAD_NOTIFY = 1u << 1,
	RELOAD_ALERTS = 1u << 2,
	RELOAD_TOKEN = 1u << 3,
	RELOAD_TIMERS = 1u << 4,
};

/* Take over the validated config next (copied) and reopen what `what`
 * names.  Returns 0, or -1 with *err (the old setting then stays). */
int voter_apply_conf(struct voter *v, const struct conf *next,
		     unsigned what, struct hp_err *err);

/* trace.c: failover phases and events about the state. */
/* After a step that changed the state from old to v->st. */
void trace_step(struct voter *v, const struct elect *old, uint64_t now);
/* ACT_PROMOTE of the step to next is about to run. */
void trace_promoting(struct voter *v, const struct elect *next,
		     uint64_t now);
/* Resources finished promoting (rc 0) or failed. */
void trace_promoted(struct voter *v, int rc);
/* A monitoring round: the store may now accept writes. */
void trace_res_state(struct voter *v, bool writable);
/* An ACK to our heartbeat came back: round trip in us. */
void trace_rtt(struct voter *v, uint64_t rtt_us);

#endif
