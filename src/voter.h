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

struct vip_announcer {
	uv_timer_t timer;
	struct voter *v;
	int index;		/* resource index in conf */
	uint32_t left;		/* announcements still to send */
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
	uv_signal_t sig_term, sig_int, sig_hup;
	struct vip_announcer announcers[CONF_MAX_RESOURCES];
	struct guard *guard;
	uint64_t guard_fences_seen;
	struct ctl *ctl;
	bool stopping;

	/* counters, exported by status */
	uint64_t rx_dropped[DROP_MAX];
	uint64_t rx_ok;
	uint64_t tx_ok, tx_errors;
	uint64_t elections_won;
	uint64_t fences;
	uint64_t persist_errors;
	uint64_t resource_errors;
};

/* The status document (JSON text, malloc'd) for the control socket. */
char *status_json(const struct voter *v, uint64_t now_ms);

/* Name of node id in this cluster ("a", "b", "witness"). */
const char *voter_node_name(const struct voter *v, uint8_t id);

#endif
