/*
 * elect.h - election and lease: one pure state machine for every voter.
 *
 * elect_step(cur, event, now) -> (next, actions).  No I/O, no clock, no
 * randomness: time and jitter come in with the call.  The agent and the
 * witness turn what happened into an event, call elect_step(), then carry
 * out the actions in order (persist before send; fence before anything
 * that lets the other side win) and keep `next` only if every
 * ACT_PERSIST succeeded.  See elect.c for the state diagram.
 */
#ifndef HAPAIR_ELECT_H
#define HAPAIR_ELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

enum {
	ELECT_WITNESS_ID = 3,	/* node ids: agents 1 and 2, witness 3 */
	ELECT_MAX_ACTIONS = 16,
	ELECT_LAG_SAMPLES = 16,	/* async time bound: primary positions kept */
};

enum elect_role {
	ROLE_STANDBY = 0,	/* follows a primary or waits for one */
	ROLE_PRECANDIDATE,	/* asking pre-votes for term + 1 */
	ROLE_CANDIDATE,		/* term raised, asking votes */
	ROLE_PRIMARY,		/* holds a lease: serves until lease_end_ms */
	ROLE_WITNESS,		/* voter only, never a candidate */
	ROLE_MAX
};

/* Why something happened; carried by actions for logs and `status`. */
enum elect_why {
	WHY_NONE = 0,
	WHY_START,		/* agent started: clean up, wait grace */
	WHY_LEASE_EXPIRED,	/* no majority ack within the lease */
	WHY_HIGHER_TERM,	/* saw a newer term: someone else leads */
	WHY_ELECTED,		/* won a vote majority */
	WHY_PRIMARY_SILENT,	/* no heartbeat for the election timeout */
	WHY_STEP_DOWN_RECEIVED,	/* primary handed over */
	WHY_UNHEALTHY,		/* own checks fail: hand over */
	WHY_HOLD_DOWN,		/* unhealthy but within failover_hold_down */
	WHY_PREVOTE_LOST,	/* pre-vote round got no majority */
	WHY_VOTE_LOST,		/* vote round got no majority */
	WHY_FOLLOW,		/* accepted a primary's heartbeat */
	WHY_SWITCHOVER,		/* operator asked for a planned hand-over */
	WHY_SWITCHOVER_ABORTED,	/* the standby did not catch up in time */
	WHY_PAUSE,		/* pause setting changed (own or adopted) */
	WHY_STORE_DOWN,		/* own data store dead for a lease, no
				 * standby to hand over to */
	WHY_MAX
};

enum elect_ev_type {
	EV_START = 1,	/* process start; state loaded from the state file */
	EV_TICK,	/* a timer fired (wake_at_ms reached, or any time) */
	EV_RECV,	/* an authenticated, non-replayed message */
	EV_HEALTH,	/* own checks changed: healthy or not */
	EV_POSITION,	/* own data position changed */
	EV_SWITCHOVER,	/* primary only.  flag true: planned switchover
			 * (quiesce, wait for the standby's exact
			 * position, then hand over; abort after
			 * switchover_timeout_ms).  flag false: hand over
			 * now (shutdown) */
	EV_PAUSE,	/* operator: pause (true) / resume (false), as of
			 * generation gen (above the current one) */
	EV_GUARD_FENCED, /* the guard fenced us: the lease is gone */
	EV_QUIESCED,	/* switchover: resources stopped taking writes
			 * and the position now in the state (EV_POSITION
			 * came first) is final */
	EV_MAX
};

struct elect_event {
	enum elect_ev_type type;
	uint32_t rand;		/* uniform random, used for election jitter */
	bool flag;		/* EV_HEALTH: healthy; EV_PAUSE: paused;
				 * EV_POSITION: replication link to the
				 * primary is up (replica in sync) */
	bool has_position;	/* EV_POSITION */
	uint64_t position;	/* EV_POSITION */
	bool store_down;	/* EV_HEALTH: the data store does not answer
				 * (killed, not running), not merely a
				 * failing check */
	uint64_t gen;		/* EV_PAUSE: pause generation */
	struct proto_msg msg;	/* EV_RECV */
};

enum elect_act_type {
	ACT_PERSIST = 1, /* write term + voted_for (+ synced) durably; only
			  * then carry out the actions after it */
	ACT_SEND,	/* send msg to node `to` */
	ACT_FENCE,	/* stop serving now: fence resources, remove VIP */
	ACT_PROMOTE,	/* become primary: promote resources, add VIP, GARP */
	ACT_DEMOTE,	/* be standby: demote resources, make sure no VIP */
	ACT_ROLE,	/* role changed (for events/status); why says why */
	ACT_NOTE,	/* something worth a log line; why says what */
	ACT_FOLLOW,	/* standby: data follows primary `to` (0 = none) */
	ACT_SYNC,	/* primary, sync mode: flag = require a replica for
			 * writes (false only after the witness recorded the
			 * standby out of sync) */
	ACT_QUIESCE,	/* switchover: stop taking writes, keep replicating;
			 * then feed EV_POSITION and EV_QUIESCED */
	ACT_UNQUIESCE,	/* switchover aborted: take writes again */
	ACT_MAX
};

struct elect_action {
	enum elect_act_type type;
	uint8_t to;		/* ACT_SEND: destination; ACT_FOLLOW: primary */
	bool flag;		/* ACT_SYNC: require a replica */
	enum elect_why why;
	struct proto_msg msg;	/* ACT_SEND: header fields term/type/sender
				 * and body are filled; cluster, seq and
				 * send_ms are filled by the caller */
};

struct elect_actions {
	int n;
	struct elect_action a[ELECT_MAX_ACTIONS];
	uint64_t wake_at_ms;	/* call elect_step(EV_TICK) by then */
};

/* Static parameters of one voter. */
struct elect_conf {
	uint8_t self;		/* 1, 2 (agents) or 3 (witness) */
	bool witness;		/* voter only */
	bool quorum_none;	/* no witness: highest priority wins alone */
	uint32_t heartbeat_ms;
	uint32_t lease_ms;
	uint32_t drift_ppm;	/* clock-rate drift allowance, 10000 = 1% */
	uint32_t hold_down_ms;
	uint32_t priority;	/* own; peer's comes in HELLO */
	bool sync_mode;		/* replication = sync: ACT_SYNC, committed
				 * positions in heartbeats */
	bool lag_bound;		/* async: max_lag applies */
	uint64_t max_lag;	/* async: no campaign further behind the
				 * primary's position than this */
	uint32_t max_lag_ms;	/* async: no campaign when the primary
				 * wrote, more than this before its last
				 * heartbeat, what this node still lacks
				 * (0 = no time bound) */
	uint32_t switchover_timeout_ms; /* standby must catch up by then */
};

/* The whole state of one voter.  Plain data: copy it, compare it. */
struct elect {
	struct elect_conf conf;
	enum elect_role role;

	/* persisted (ACT_PERSIST writes these) */
	uint64_t term;
	uint8_t voted_for;	/* node id voted for in `term`, 0 = none */
	uint8_t synced;		/* nodes recorded in sync (bits): the
				 * witness's record; an agent in sync mode
				 * keeps the last one it sent or heard */
	bool paused;		/* automatic failover paused (maintenance) */
	uint64_t pause_gen;	/* generation of that setting: an operator
				 * command raises it; the higher one heard
				 * in a peer's HELLO is adopted */

	/* voter side: the promise (DESIGN.md, Heartbeat and lease) */
	uint8_t promise_to;	/* node promised to, 0 = none */
	uint64_t promise_term;
	uint64_t promise_until_ms;
	uint64_t grace_until_ms;	/* restart: no votes before this */
	uint64_t committed_pos;	/* newest primary position seen */
	bool has_committed;

	bool store_down;	/* own data store does not answer (EV_HEALTH) */
	uint64_t store_down_ms;	/* since when (0: it answers) */

	/* standby side */
	uint8_t leader;		/* primary of `term`, 0 = unknown */
	uint64_t last_hb_ms;	/* last valid heartbeat from leader */
	uint64_t election_at_ms;	/* start pre-vote at this time */
	bool followed;		/* saw a primary since start */
	bool peer_seen;		/* heard the other agent since start */
	uint64_t peer_position;	/* from its HELLO/ACK/heartbeat */
	bool peer_has_position;
	uint32_t peer_priority;
	uint8_t peer_role;
	bool peer_healthy;
	uint64_t stepped_down_pos; /* STEP_DOWN's final position */
	bool step_down_pending;	/* leader handed over: go when caught up */

	/* candidate side */
	uint8_t granted;	/* bits of voters who said yes this round */
	uint64_t round_ms;	/* when this (pre)vote round was sent */
	uint64_t round_deadline_ms;
	uint64_t retry_at_ms;	/* a refusal said: ask again then */

	/* primary side */
	uint64_t lease_end_ms;	/* act as primary only before this */
	uint64_t next_hb_ms;	/* send the next heartbeat then */
	uint64_t peer_ack_ms;	/* last ack from the other agent */
	uint64_t elected_ms;	/* when this node last became primary */
	bool was_failover;	/* became primary by replacing another */

	/* data following (standby) and sync state (primary) */
	uint8_t following;	/* primary our data follows (ACT_FOLLOW) */
	bool in_sync;		/* own replication link to the primary up */
	bool has_primary_pos;	/* async: primary's own position, from */
	uint64_t primary_pos;	/* its heartbeats */
	uint64_t primary_pos_ms; /* when primary_pos was heard */
	/* async time bound: primary positions with the time each was heard
	 * (a ring, one sample per lag_sample_ms), and the newest such time
	 * whose position this node had reached (0 = none yet) */
	struct elect_lag_sample {
		uint64_t pos;
		uint64_t ms;
	} lag_samples[ELECT_LAG_SAMPLES];
	uint8_t lag_next;
	uint64_t lag_term;	/* term of the samples */
	uint64_t caught_up_ms;
	uint8_t hb_sync_set;	/* standby: sync set of the last heartbeat
				 * (what the witness records) */
	bool peer_in_sync;	/* primary: peer's last ACK said in sync */
	bool sync_required;	/* primary: last ACT_SYNC flag */
	uint64_t relax_from_ms;	/* primary: first heartbeat sent without
				 * the peer in sync_set; 0 = peer in it */

	/* planned switchover (primary) */
	bool switching;		/* waiting for the standby to catch up */
	bool quiesced;		/* writes stopped, switch_pos is final */
	uint64_t switch_until_ms; /* abort if not handed over by then */
	uint64_t switch_pos;	/* own final position */

	/* own data */
	bool healthy;
	bool has_position;
	uint64_t position;
	uint64_t next_hello_ms;

	/* last time each node was heard (for reachability) */
	uint64_t heard_ms[PROTO_MAX_NODE + 1];

	enum elect_why last_why; /* why the role last changed */
	uint64_t last_change_ms;
};

/* A fresh state for a voter that loaded term/voted_for/synced from its
 * state file.  Feed EV_START next. */
void elect_init(struct elect *st, const struct elect_conf *conf,
		uint64_t term, uint8_t voted_for, uint8_t synced);

/* The state machine.  cur and next may not alias.  out->wake_at_ms is
 * always set: the caller ticks again no later than that. */
void elect_step(const struct elect *cur, const struct elect_event *ev,
		uint64_t now_ms, struct elect *next,
		struct elect_actions *out);

/* Is this node acting as primary at now (role primary, lease live)? */
bool elect_is_primary(const struct elect *st, uint64_t now_ms);

/* NULL if st satisfies the per-state invariants listed in elect.c, else
 * a sentence naming the broken one.  Unit tests call it after every
 * step. */
const char *elect_invariant_violation(const struct elect *st,
				      uint64_t now_ms);

/* Async mode: is this standby further behind the primary's last known
 * position than max_lag_on_failover (so it must not campaign)? */
bool elect_too_far_behind(const struct elect *st);

/* Async mode with a time bound: how long before the primary's last
 * heartbeat it wrote the oldest data this node still lacks (0: caught
 * up).  UINT64_MAX when unknown (no position, or never caught up since
 * this primary's term began). */
uint64_t elect_lag_ms(const struct elect *st);

/* Lease arithmetic, exposed for the agent and tests. */
uint64_t elect_lease_ms(const struct elect_conf *c);	/* L*(1-d) */
uint64_t elect_promise_ms(const struct elect_conf *c);	/* L*(1+d) */

const char *elect_role_name(enum elect_role r);
const char *elect_why_name(enum elect_why w);
const char *elect_ev_name(enum elect_ev_type t);
const char *elect_act_name(enum elect_act_type t);

#endif
