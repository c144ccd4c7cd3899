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
#include "proto.h"

struct guard;
struct ctl;
struct check_set;
struct notify_set;
struct api;
struct res_set;

enum {
	VOTER_EVENTS = 16,	/* resource events kept for status */
	VOTER_EVENT_LEN = 512,
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
	uv_signal_t sig_term, sig_int, sig_hup;
	struct guard *guard;
	uint64_t guard_fences_seen;
	struct ctl *ctl;
	struct api *api;	/* HTTP API, NULL without [api] */
	bool stopping;
	bool stepping;		/* inside step(): no nested steps */

	/* health checks and notify programs (agents only) */
	struct check_set *checks;
	struct notify_set *notify;

	/* resources (agents only) */
	struct res_set *res;
	bool res_healthy;	/* last aggregate health from monitoring */
	bool unfit;		/* a promote failed: unfit until retry */
	bool res_running;	/* an action the agent started runs */
	bool res_interrupting;	/* its done comes next, interrupted */
	char events[VOTER_EVENTS][VOTER_EVENT_LEN]; /* ring, see n_events */
	uint64_t n_events;	/* newest: events[(n_events - 1) % 16] */

	/* counters, exported by status */
	uint64_t rx_dropped[DROP_MAX];
	uint64_t rx_ok;
	uint64_t tx_ok, tx_errors;
	uint64_t elections_won;
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

#endif
