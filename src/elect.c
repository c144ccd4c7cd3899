/*
 * elect.c - election and lease state machine.  PURE: no I/O, no clock,
 * no randomness, no globals.  One function, elect_step(), turns
 * (state, event, now) into (next state, ordered actions).
 *
 * Voters: agent 1, agent 2 and the witness (id 3).  A majority is two;
 * with quorum = none it is one (keepalived-like, unsafe on partitions).
 *
 *                 EV_START
 *                    |
 *                    v
 *   +---------->  STANDBY  --(election_at, eligible)-->  PRECANDIDATE
 *   |               ^   ^                                 |   |
 *   |               |   +------(heartbeat of term T)------+   |
 *   |               |                         pre-vote majority:
 *   |               |                   term+1, vote self, persist
 *   |   (round timeout, heartbeat,                            |
 *   |    higher term)                                         v
 *   |               +------------------------------------ CANDIDATE
 *   |                                                         |
 *   |                                             vote majority
 *   |                                                         v
 *   +--(lease expired: FENCE | higher term: FENCE |       PRIMARY
 *       unhealthy / switchover: FENCE + STEP_DOWN)-----------+
 *
 *   WITNESS: voter only; never leaves this state.
 *
 * Transitions and the branch that makes each:
 *   START          -> STANDBY/WITNESS  on_start(): demote, restart grace
 *   STANDBY        -> PRECANDIDATE     tick(): election_at passed and
 *                                      eligible() (healthy, not paused,
 *                                      grace over, own promise expired)
 *   PRECANDIDATE   -> CANDIDATE        on_prevote_reply(): majority
 *   CANDIDATE      -> PRIMARY          on_vote_reply(): majority
 *   CANDIDATE      -> STANDBY          tick(): round deadline passed
 *   PRE/CANDIDATE  -> STANDBY          on_heartbeat(): a primary exists
 *   PRIMARY        -> STANDBY          expire_lease(): now >= lease_end
 *                                      adopt_term(): newer term seen
 *                                      step_down(): unhealthy/switchover
 *
 * What is true in each state (elect_invariant_violation() checks it
 * after every step in the unit tests):
 *   PRIMARY:   leader == self, voted_for == self, lease_end_ms > 0.
 *   CANDIDATE: voted_for == self.
 *   WITNESS:   conf.witness, never a leader.
 *   any voter: promise_until_ms <= now + promise; a promise is to one
 *              node in one term.
 *
 * Voter rules (DESIGN.md, Safety):
 *   - Acking HEARTBEAT(T) from P promises: no (pre-)vote for anyone else
 *     until now + L*(1+d).  Granting a vote is the same promise.
 *   - At most one vote per term, persisted before the reply.
 *   - A refused request never raises the voter's term.
 *   - No vote for L*(1+d) after start (promises lived in memory only).
 *   - A witness votes only for a node its persisted record says is in
 *     sync; an agent only for a candidate whose data is not behind its own
 *     and, in sync mode, that the last sync record it knows (sent as
 *     primary, heard as standby; persisted) does not leave out.
 */
#include "elect.h"

#include <string.h>

enum { MAJORITY_WITNESS = 2, MAJORITY_NONE = 1 };

static uint8_t bit(uint8_t id)
{
	return (uint8_t)(1u << id);
}

static int popcount8(uint8_t v)
{
	int n = 0;

	for (; v; v &= (uint8_t)(v - 1))
		n++;
	return n;
}

uint64_t elect_lease_ms(const struct elect_conf *c)
{
	return c->lease_ms - (uint64_t)c->lease_ms * c->drift_ppm / 1000000;
}

uint64_t elect_promise_ms(const struct elect_conf *c)
{
	return c->lease_ms + (uint64_t)c->lease_ms * c->drift_ppm / 1000000;
}

static uint8_t peer_id(const struct elect *st)
{
	return st->conf.self == 1 ? 2 : 1;
}

static int majority(const struct elect *st)
{
	return st->conf.quorum_none ? MAJORITY_NONE : MAJORITY_WITNESS;
}

/* ---- action helpers ------------------------------------------------ */

static struct elect_action *push(struct elect_actions *out,
				 enum elect_act_type type, enum elect_why why)
{
	struct elect_action *a;

	if (out->n >= ELECT_MAX_ACTIONS)
		return NULL; /* cannot happen: a step emits at most ~10 */
	a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->why = why;
	return a;
}

static void persist(struct elect_actions *out)
{
	for (int i = 0; i < out->n; i++)
		if (out->a[i].type == ACT_PERSIST)
			return; /* the caller writes the final state once */
	push(out, ACT_PERSIST, WHY_NONE);
}

static struct proto_msg *send_to(const struct elect *st,
				 struct elect_actions *out, uint8_t to,
				 uint8_t type, uint64_t term)
{
	struct elect_action *a = push(out, ACT_SEND, WHY_NONE);

	if (!a)
		return NULL;
	a->to = to;
	a->msg.type = type;
	a->msg.sender = st->conf.self;
	a->msg.term = term;
	return &a->msg;
}

static void set_position(const struct elect *st, struct proto_msg *m)
{
	if (m && st->has_position) {
		m->flags |= PF_HAS_POSITION;
		m->position = st->position;
	}
}

/* Send to every other voter (the peer agent, and the witness unless
 * quorum = none; the witness sends to both agents). */
static void broadcast(const struct elect *st, struct elect_actions *out,
		      uint8_t type, uint64_t term, struct proto_msg *tmpl)
{
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++) {
		struct proto_msg *m;

		if (id == st->conf.self)
			continue;
		if (id == ELECT_WITNESS_ID && st->conf.quorum_none)
			continue;
		m = send_to(st, out, id, type, term);
		if (m && tmpl) {
			uint8_t sender = m->sender;

			*m = *tmpl;
			m->type = type;
			m->sender = sender;
			m->term = term;
		}
	}
}

static void set_role(struct elect *st, struct elect_actions *out,
		     enum elect_role role, enum elect_why why, uint64_t now)
{
	if (st->role == role)
		return;
	st->role = role;
	st->last_why = why;
	st->last_change_ms = now;
	push(out, ACT_ROLE, why);
}

static uint64_t jitter(const struct elect *st, uint32_t rand)
{
	uint64_t spread = st->conf.heartbeat_ms;

	/* The higher priority waits less, so it usually asks first. */
	if (st->peer_seen && st->conf.priority > st->peer_priority)
		spread /= 2;
	return spread ? rand % (spread + 1) : 0;
}

static void arm_election(struct elect *st, uint64_t at, uint32_t rand)
{
	st->election_at_ms = at + jitter(st, rand);
}

/* ---- leaving primary ------------------------------------------------ */

/* Stop acting as primary now.  FENCE comes first in the action list:
 * nothing after it may let the other side win while we still serve. */
static void fence_to_standby(struct elect *st, struct elect_actions *out,
			     enum elect_why why, uint64_t now, uint32_t rand)
{
	push(out, ACT_FENCE, why);
	st->lease_end_ms = 0;
	st->switching = false;
	st->quiesced = false;
	st->following = 0; /* the next primary's heartbeat re-points us */
	if (st->leader == st->conf.self)
		st->leader = 0;
	set_role(st, out, ROLE_STANDBY, why, now);
	arm_election(st, now + elect_promise_ms(&st->conf), rand);
}

/* Lease check done before anything else in every step: a primary that
 * was frozen past its lease must fence before it handles any message. */
static void expire_lease(struct elect *st, struct elect_actions *out,
			 uint64_t now, uint32_t rand)
{
	if (st->role == ROLE_PRIMARY && now >= st->lease_end_ms)
		fence_to_standby(st, out, WHY_LEASE_EXPIRED, now, rand);
}

/* Adopt a newer term seen in a message that is not a request (requests
 * never raise a voter's term unless granted).  A primary or candidate of
 * an older term gives up at once. */
static void adopt_term(struct elect *st, struct elect_actions *out,
		       uint64_t term, uint64_t now, uint32_t rand)
{
	if (term <= st->term)
		return;
	if (st->role == ROLE_PRIMARY)
		fence_to_standby(st, out, WHY_HIGHER_TERM, now, rand);
	st->term = term;
	st->voted_for = 0;
	st->leader = 0;
	if (st->role == ROLE_PRECANDIDATE || st->role == ROLE_CANDIDATE) {
		set_role(st, out, ROLE_STANDBY, WHY_HIGHER_TERM, now);
		arm_election(st, now + elect_promise_ms(&st->conf), rand);
	}
	persist(out);
}

/* Hand over: fence, then release our lease at the voters with the final
 * position, so the standby campaigns at once once it has reached it. */
static void step_down(struct elect *st, struct elect_actions *out,
		      enum elect_why why, bool planned, uint64_t now,
		      uint32_t rand)
{
	struct proto_msg tmpl;
	uint64_t term = st->term;

	fence_to_standby(st, out, why, now, rand);
	memset(&tmpl, 0, sizeof(tmpl));
	set_position(st, &tmpl);
	if (planned)
		tmpl.flags |= PF_SWITCHOVER;
	broadcast(st, out, MSG_STEP_DOWN, term, &tmpl);
	/* Let the standby go first: we wait a full promise plus jitter. */
	arm_election(st, now + 2 * elect_promise_ms(&st->conf), rand);
}

/* ---- becoming primary ------------------------------------------------ */

static void set_sync(struct elect *st, struct elect_actions *out,
		     bool require)
{
	struct elect_action *a;

	if (!st->conf.sync_mode || st->sync_required == require)
		return;
	st->sync_required = require;
	a = push(out, ACT_SYNC, WHY_NONE);
	if (a)
		a->flag = require;
}

/* Is the peer in sync: it acked within a promise and, when there is
 * data, its own replication link to us is up. */
static bool peer_in_sync(const struct elect *st, uint64_t now)
{
	if (!st->peer_ack_ms ||
	    now >= st->peer_ack_ms + elect_promise_ms(&st->conf))
		return false;
	return !st->has_position || st->peer_in_sync;
}

/* Sync bookkeeping for one heartbeat round (DESIGN.md, Data protection).
 * The heartbeat tells the voters who is in sync; the witness persists it
 * before acking.  A peer that drops out starts relax_from_ms: the write
 * guard is lifted only when the witness acks a heartbeat sent after it
 * (on_ack), so a standby the witness still believes in sync can never be
 * behind an acknowledged write. */
static void fill_sync(struct elect *st, struct elect_actions *out,
		      struct proto_msg *tmpl, uint64_t now)
{
	bool peer = peer_in_sync(st, now);

	tmpl->sync_set = bit(st->conf.self);
	if (peer)
		tmpl->sync_set |= bit(peer_id(st));
	/* The primary keeps its own durable copy of the record it sends:
	 * restarted, it still refuses a standby it left out, which may
	 * lack writes acked without it, even before its own store can say
	 * how far it goes (vote_decision). */
	if (st->conf.sync_mode && tmpl->sync_set != st->synced) {
		st->synced = tmpl->sync_set;
		persist(out);
	}
	if (!st->conf.sync_mode && st->has_position) {
		tmpl->flags |= PF_HAS_POSITION | PF_ASYNC;
		tmpl->position = st->position;
	} else if (peer && st->peer_has_position) {
		/* Committed: what the in-sync standby confirmed having. */
		tmpl->flags |= PF_HAS_POSITION;
		tmpl->position = st->peer_position;
	}
	if (peer) {
		st->relax_from_ms = 0;
		set_sync(st, out, true);
	} else if (!st->relax_from_ms) {
		st->relax_from_ms = now;
		if (st->conf.quorum_none)
			set_sync(st, out, false); /* nobody to record it */
	}
}

static uint64_t switch_hb_ms(const struct elect *st)
{
	uint64_t ms = st->conf.heartbeat_ms / 10;

	return ms < 2 ? 2 : ms;
}

static void send_heartbeats(struct elect *st, struct elect_actions *out,
			    uint64_t now)
{
	struct proto_msg tmpl;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.lease_ms = st->conf.lease_ms;
	fill_sync(st, out, &tmpl, now);
	if (st->switching)
		tmpl.flags |= PF_SWITCHOVER;
	broadcast(st, out, MSG_HEARTBEAT, st->term, &tmpl);
	/* A switchover waits for the standby's position with writes
	 * stopped: ask for it ten times as often. */
	st->next_hb_ms = now + (st->switching ? switch_hb_ms(st) :
				st->conf.heartbeat_ms);
	if (st->conf.quorum_none)
		st->lease_end_ms = now + elect_lease_ms(&st->conf);
}

static void become_primary(struct elect *st, struct elect_actions *out,
			   uint64_t now, enum elect_why why)
{
	/* A grant read late (agent stalled) may come after the lease it
	 * would give has ended: promoting then could add the VIP while a
	 * later primary holds it. */
	if (now >= st->round_ms + elect_lease_ms(&st->conf)) {
		set_role(st, out, ROLE_STANDBY, WHY_VOTE_LOST, now);
		arm_election(st, now + st->conf.heartbeat_ms, 0);
		return;
	}
	st->was_failover = st->followed;
	st->leader = st->conf.self;
	st->following = 0;
	st->peer_ack_ms = 0;
	st->peer_in_sync = false;
	st->relax_from_ms = 0;
	/* Writes need a replica until the witness records otherwise. */
	st->sync_required = false;
	set_sync(st, out, true);
	st->elected_ms = now;
	st->step_down_pending = false;
	/* Each vote was a promise made at or after round_ms (its receipt),
	 * so the lease runs from when we asked. */
	st->lease_end_ms = st->round_ms + elect_lease_ms(&st->conf);
	set_role(st, out, ROLE_PRIMARY, why, now);
	send_heartbeats(st, out, now);
	push(out, ACT_PROMOTE, why);
}

static void become_candidate(struct elect *st, struct elect_actions *out,
			     uint64_t now)
{
	struct proto_msg tmpl;

	st->term++;
	st->voted_for = st->conf.self;
	st->leader = 0;
	st->granted = 0;
	st->round_ms = now;
	st->round_deadline_ms = now + 2 * st->conf.heartbeat_ms + 10;
	set_role(st, out, ROLE_CANDIDATE, WHY_PRIMARY_SILENT, now);
	persist(out);
	if (majority(st) <= 1) {
		become_primary(st, out, now, WHY_ELECTED);
		return;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	set_position(st, &tmpl);
	if (!st->followed && !st->peer_seen)
		tmpl.flags |= PF_COLD;
	broadcast(st, out, MSG_VOTE_REQ, st->term, &tmpl);
}

static void start_prevote(struct elect *st, struct elect_actions *out,
			  uint64_t now, uint32_t rand)
{
	struct proto_msg tmpl;

	set_role(st, out, ROLE_PRECANDIDATE, st->step_down_pending ?
		 WHY_STEP_DOWN_RECEIVED : WHY_PRIMARY_SILENT, now);
	st->granted = 0;
	st->round_ms = now;
	/* Jittered, so two nodes asking at once drift apart. */
	st->round_deadline_ms = now + 2 * st->conf.heartbeat_ms + 10 +
				jitter(st, rand);
	st->retry_at_ms = 0;
	if (majority(st) <= 1) {
		become_candidate(st, out, now);
		return;
	}
	memset(&tmpl, 0, sizeof(tmpl));
	set_position(st, &tmpl);
	if (!st->followed && !st->peer_seen)
		tmpl.flags |= PF_COLD;
	broadcast(st, out, MSG_PREVOTE_REQ, st->term + 1, &tmpl);
}

/* ---- async lag ------------------------------------------------------- */

/* One sample per this many ms: the ring then spans twice the bound. */
static uint64_t lag_sample_ms(const struct elect *st)
{
	uint64_t ms = st->conf.max_lag_ms * 2 / ELECT_LAG_SAMPLES;

	return ms > st->conf.heartbeat_ms ? ms : st->conf.heartbeat_ms;
}

/* Own position or the primary's moved: the newest time the primary had
 * heard of nothing this node lacks.  Conservative: with only samples,
 * the time of the newest sample at or below the own position. */
static void update_caught_up(struct elect *st)
{
	if (!st->conf.max_lag_ms || !st->has_position || !st->has_primary_pos)
		return;
	if (st->position >= st->primary_pos) {
		st->caught_up_ms = st->primary_pos_ms;
		return;
	}
	for (int i = 0; i < ELECT_LAG_SAMPLES; i++) {
		const struct elect_lag_sample *s = &st->lag_samples[i];

		if (s->ms > st->caught_up_ms && s->pos <= st->position)
			st->caught_up_ms = s->ms;
	}
}

/* A heartbeat of the primary of `term` carried its own position. */
static void note_primary_pos(struct elect *st, uint64_t term, uint64_t pos,
			     uint64_t now)
{
	const struct elect_lag_sample *last;

	st->has_primary_pos = true;
	st->primary_pos = pos;
	st->primary_pos_ms = now;
	if (!st->conf.max_lag_ms)
		return;
	if (st->lag_term != term) {
		/* Another primary: its positions start a new history. */
		memset(st->lag_samples, 0, sizeof(st->lag_samples));
		st->lag_next = 0;
		st->lag_term = term;
		st->caught_up_ms = 0;
	}
	last = &st->lag_samples[(st->lag_next + ELECT_LAG_SAMPLES - 1) %
				ELECT_LAG_SAMPLES];
	if (!last->ms || now >= last->ms + lag_sample_ms(st)) {
		st->lag_samples[st->lag_next] =
			(struct elect_lag_sample){ .pos = pos, .ms = now };
		st->lag_next = (st->lag_next + 1) % ELECT_LAG_SAMPLES;
	}
	update_caught_up(st);
}

uint64_t elect_lag_ms(const struct elect *st)
{
	if (!st->has_position || !st->has_primary_pos || !st->caught_up_ms)
		return UINT64_MAX;
	return st->primary_pos_ms > st->caught_up_ms ?
	       st->primary_pos_ms - st->caught_up_ms : 0;
}

/* May this node campaign now?  Its own vote obeys the voter rules. */
bool elect_too_far_behind(const struct elect *st)
{
	if (st->conf.sync_mode || !st->has_primary_pos)
		return false;
	if (!st->conf.lag_bound && !st->conf.max_lag_ms)
		return false;
	if (!st->has_position)
		return true;
	if (st->conf.lag_bound && st->primary_pos > st->position &&
	    st->primary_pos - st->position > st->conf.max_lag)
		return true;
	return st->conf.max_lag_ms && elect_lag_ms(st) > st->conf.max_lag_ms;
}

/* Paused: no automatic failover.  Only the node that holds its own vote
 * in the newest term it knows - the last primary or candidate, e.g. one
 * whose agent restarted - may campaign, so a pair whose primary merely
 * restarted gets it back; the standby never takes over. */
static bool paused_out(const struct elect *st)
{
	return st->paused && st->voted_for != st->conf.self;
}

static bool eligible(const struct elect *st, uint64_t now)
{
	if (st->conf.witness || !st->healthy || paused_out(st))
		return false;
	if (now < st->grace_until_ms)
		return false;
	if (st->promise_to && st->promise_to != st->conf.self &&
	    now < st->promise_until_ms)
		return false;
	if (st->step_down_pending && st->has_position &&
	    st->position < st->stepped_down_pos)
		return false;
	if (elect_too_far_behind(st))
		return false;
	return true;
}

/* ---- voter side ------------------------------------------------------ */

/* Would this voter give candidate `m->sender` its vote for term m->term?
 * Returns RR_NONE for yes.  *wait_ms says when a refusal may turn. */
static uint8_t vote_decision(const struct elect *st,
			     const struct proto_msg *m, bool prevote,
			     uint64_t now, uint32_t *wait_ms)
{
	uint8_t c = m->sender;
	bool has_pos = m->flags & PF_HAS_POSITION;

	*wait_ms = 0;
	if (c == ELECT_WITNESS_ID)
		return RR_UNFIT;
	if (st->role == ROLE_PRIMARY)
		return RR_UNFIT; /* a live primary never votes another in */
	if (prevote ? m->term <= st->term : m->term < st->term)
		return RR_STALE_TERM;
	if (!prevote && m->term == st->term && st->voted_for &&
	    st->voted_for != c)
		return RR_VOTED;
	if (now < st->grace_until_ms) {
		*wait_ms = (uint32_t)(st->grace_until_ms - now);
		return RR_GRACE;
	}
	/* Lease wait: we acked P at t, so voting before t + L*(1+d) could
	 * elect a second primary while P still serves. */
	if (st->promise_to && st->promise_to != c &&
	    now < st->promise_until_ms) {
		*wait_ms = (uint32_t)(st->promise_until_ms - now);
		return RR_PROMISE;
	}
	if (st->has_committed && (!has_pos || m->position < st->committed_pos))
		return RR_BEHIND;
	if (!st->conf.witness && st->has_position &&
	    (!has_pos || m->position < st->position))
		return RR_BEHIND;
	if (st->conf.witness && !(st->synced & bit(c)))
		return RR_NOT_SYNCED;
	/* An agent refuses a candidate its last known sync record leaves
	 * out (an agent with no record yet leaves that to the witness). */
	if (st->conf.sync_mode && st->synced && !(st->synced & bit(c)))
		return RR_NOT_SYNCED;
	return RR_NONE;
}

static struct proto_msg *reply(const struct elect *st,
				struct elect_actions *out,
				const struct proto_msg *req, uint8_t type,
				uint8_t reason, uint32_t wait_ms)
{
	struct proto_msg *m = send_to(st, out, req->sender, type, st->term);

	if (!m)
		return NULL;
	m->reason = reason;
	m->wait_ms = wait_ms;
	if (reason == RR_NONE)
		m->flags |= PF_GRANTED;
	return m;
}

static void on_prevote_req(struct elect *st, struct elect_actions *out,
			   const struct proto_msg *m, uint64_t now)
{
	uint32_t wait_ms;
	uint8_t r = vote_decision(st, m, true, now, &wait_ms);
	struct proto_msg *a;

	/* Pre-votes change nothing, whatever the answer.  The answer
	 * names the round it answers (the request's send time). */
	a = reply(st, out, m, MSG_PREVOTE_REPLY, r, wait_ms);
	if (a)
		a->hb_send_ms = m->send_ms;
}

static void on_vote_req(struct elect *st, struct elect_actions *out,
			const struct proto_msg *m, uint64_t now,
			uint32_t rand)
{
	uint32_t wait_ms;
	uint8_t r = vote_decision(st, m, false, now, &wait_ms);

	if (r == RR_NONE) {
		/* A refused request never raises our term; a granted one
		 * does, and the vote is persisted before the reply. */
		if (m->term > st->term) {
			st->term = m->term;
			st->leader = 0;
		}
		st->voted_for = m->sender;
		st->promise_to = m->sender;
		st->promise_term = m->term;
		st->promise_until_ms = now + elect_promise_ms(&st->conf);
		if (st->role == ROLE_PRECANDIDATE ||
		    st->role == ROLE_CANDIDATE) {
			set_role(st, out, ROLE_STANDBY, WHY_HIGHER_TERM, now);
		}
		if (!st->conf.witness)
			arm_election(st, st->promise_until_ms, rand);
		persist(out);
	}
	reply(st, out, m, MSG_VOTE_REPLY, r, wait_ms);
}

static void on_heartbeat(struct elect *st, struct elect_actions *out,
			 const struct proto_msg *m, uint64_t now,
			 uint32_t rand)
{
	struct proto_msg *ack;

	if (m->term < st->term) {
		/* Stale primary: tell it our term so it steps down. */
		reply(st, out, m, MSG_ACK, RR_STALE_TERM, 0);
		return;
	}
	if (st->role == ROLE_PRIMARY) {
		/* Same term, two primaries: only possible with quorum =
		 * none after a partition.  Lower priority (then higher id)
		 * yields. */
		if (st->conf.priority > st->peer_priority ||
		    (st->conf.priority == st->peer_priority &&
		     st->conf.self < m->sender))
			return;
		fence_to_standby(st, out, WHY_HIGHER_TERM, now, rand);
	}
	if (st->leader && st->leader != m->sender) {
		push(out, ACT_NOTE, WHY_NONE); /* two leaders in one term */
		return;
	}
	st->leader = m->sender;
	st->last_hb_ms = now;
	st->hb_sync_set = m->sync_set;
	st->followed = true;
	st->step_down_pending = false;
	st->promise_to = m->sender;
	st->promise_term = m->term;
	st->promise_until_ms = now + elect_promise_ms(&st->conf);
	if ((m->flags & PF_HAS_POSITION) && (m->flags & PF_ASYNC)) {
		note_primary_pos(st, m->term, m->position, now);
	} else if (m->flags & PF_HAS_POSITION) {
		st->has_committed = true;
		st->committed_pos = m->position;
	}
	/* The record is durable before we ack it.  A standby in sync mode
	 * keeps it too: it is the agent's record of the term (see
	 * fill_sync). */
	if ((st->conf.witness || st->conf.sync_mode) && m->sync_set &&
	    m->sync_set != st->synced) {
		st->synced = m->sync_set;
		persist(out);
	}
	if (!st->conf.witness) {
		set_role(st, out, ROLE_STANDBY, WHY_FOLLOW, now);
		/* No jitter: a following standby is the only node that will
		 * ask when the primary dies, and every ms here is outage.
		 * Jitter only separates nodes that ask at once (start,
		 * lost rounds). */
		st->election_at_ms = st->promise_until_ms;
		if (st->following != m->sender) {
			struct elect_action *f = push(out, ACT_FOLLOW,
						      WHY_FOLLOW);

			st->following = m->sender;
			if (f)
				f->to = m->sender;
		}
	}
	ack = send_to(st, out, m->sender, MSG_ACK, st->term);
	if (!ack)
		return;
	ack->flags |= PF_GRANTED;
	if (st->in_sync)
		ack->flags |= PF_IN_SYNC;
	ack->hb_seq = m->seq;
	ack->hb_send_ms = m->send_ms;
	set_position(st, ack);
}

static void try_hand_over(struct elect *st, struct elect_actions *out,
			  uint64_t now, uint32_t rand);

static void on_ack(struct elect *st, struct elect_actions *out,
		   const struct proto_msg *m, uint64_t now)
{
	uint64_t end;

	if (st->role != ROLE_PRIMARY || m->term != st->term)
		return;
	if (!(m->flags & PF_GRANTED) || m->hb_send_ms > now)
		return;
	end = m->hb_send_ms + elect_lease_ms(&st->conf);
	if (end > st->lease_end_ms)
		st->lease_end_ms = end;
	if (m->sender == peer_id(st)) {
		st->peer_ack_ms = now;
		st->peer_has_position = m->flags & PF_HAS_POSITION;
		st->peer_position = m->position;
		st->peer_in_sync = m->flags & PF_IN_SYNC;
		try_hand_over(st, out, now, 0);
	}
	/* The witness acked a heartbeat that left the peer out of the sync
	 * set: it has persisted that record, so writes may go on alone. */
	if (m->sender == ELECT_WITNESS_ID && st->relax_from_ms &&
	    m->hb_send_ms >= st->relax_from_ms)
		set_sync(st, out, false);
}

static void on_prevote_reply(struct elect *st, struct elect_actions *out,
			     const struct proto_msg *m, uint64_t now)
{
	if (st->role != ROLE_PRECANDIDATE)
		return;
	/* An answer to an earlier round (delayed, duplicated) says
	 * nothing about this one: counting its grant would let this node
	 * raise its term without a pre-vote majority now, and disturb a
	 * primary elected since (the model's trail, model/README.md). */
	if (m->hb_send_ms < st->round_ms)
		return;
	if (m->flags & PF_GRANTED) {
		st->granted |= bit(m->sender);
		if (popcount8(st->granted) + 1 >= majority(st))
			become_candidate(st, out, now);
		return;
	}
	if (m->wait_ms) {
		uint64_t at = now + m->wait_ms + 1;

		if (!st->retry_at_ms || at < st->retry_at_ms)
			st->retry_at_ms = at;
	}
}

static void on_vote_reply(struct elect *st, struct elect_actions *out,
			  const struct proto_msg *m, uint64_t now)
{
	if (st->role != ROLE_CANDIDATE || m->term != st->term)
		return;
	if (!(m->flags & PF_GRANTED))
		return;
	/* The round is over: tick() turns us standby in this very step.  A
	 * grant read this late (the agent stalled, the reply queued) would
	 * make us primary with a lease that may already have ended, and
	 * ACT_PROMOTE would add the VIP while a later primary holds it. */
	if (now >= st->round_deadline_ms)
		return;
	/* A node whose checks fail cannot become primary (DESIGN.md,
	 * Checks; eligible()), even if they failed after it asked. */
	if (!st->healthy || paused_out(st))
		return;
	st->granted |= bit(m->sender);
	if (popcount8(st->granted) + 1 >= majority(st))
		become_primary(st, out, now, WHY_ELECTED);
}

/* STEP_DOWN(T) from X releases only the promise made to X in term T: a
 * delayed or duplicated one must not release a promise to a later
 * primary (or to X in a later term). */
static void on_step_down(struct elect *st, const struct proto_msg *m,
			 uint64_t now)
{
	if (st->promise_to == m->sender && st->promise_term == m->term)
		st->promise_until_ms = 0;
	if (st->conf.witness || st->role != ROLE_STANDBY ||
	    st->leader != m->sender || st->term != m->term)
		return;
	st->step_down_pending = true;
	st->stepped_down_pos = m->flags & PF_HAS_POSITION ? m->position : 0;
	st->election_at_ms = now; /* no lease wait: go when caught up */
}

static void note_peer(struct elect *st, struct elect_actions *out,
		      const struct proto_msg *m, uint64_t now, uint32_t rand)
{
	bool first;

	if (m->sender != peer_id(st) || st->conf.witness)
		return;
	first = !st->peer_seen;
	st->peer_seen = true;
	if (m->type == MSG_HELLO) {
		if (m->pause_gen > st->pause_gen) {
			/* The newer operator command wins (either node). */
			st->paused = m->flags & PF_PAUSED;
			st->pause_gen = m->pause_gen;
			persist(out);
		}
		st->peer_role = m->role;
		st->peer_priority = m->priority;
		st->peer_healthy = m->flags & PF_HEALTHY;
		/* on_start() armed the timer before it knew the peer's
		 * priority: draw it again, so that after a start too the
		 * higher priority waits less (DESIGN.md, Election). */
		if (first && st->role == ROLE_STANDBY && !st->followed &&
		    now < st->grace_until_ms)
			arm_election(st, st->grace_until_ms, rand);
	}
	if (m->type == MSG_HELLO || m->type == MSG_PREVOTE_REQ ||
	    m->type == MSG_VOTE_REQ) {
		st->peer_has_position = m->flags & PF_HAS_POSITION;
		st->peer_position = m->position;
	}
}

static void on_recv(struct elect *st, struct elect_actions *out,
		    const struct proto_msg *m, uint64_t now, uint32_t rand)
{
	if (m->sender == 0 || m->sender > PROTO_MAX_NODE ||
	    m->sender == st->conf.self)
		return;
	st->heard_ms[m->sender] = now;
	note_peer(st, out, m, now, rand);
	if (m->type != MSG_PREVOTE_REQ && m->type != MSG_VOTE_REQ)
		adopt_term(st, out, m->term, now, rand);

	switch (m->type) {
	case MSG_HEARTBEAT:
		on_heartbeat(st, out, m, now, rand);
		break;
	case MSG_ACK:
		on_ack(st, out, m, now);
		break;
	case MSG_PREVOTE_REQ:
		on_prevote_req(st, out, m, now);
		break;
	case MSG_PREVOTE_REPLY:
		on_prevote_reply(st, out, m, now);
		break;
	case MSG_VOTE_REQ:
		on_vote_req(st, out, m, now, rand);
		break;
	case MSG_VOTE_REPLY:
		on_vote_reply(st, out, m, now);
		break;
	case MSG_STEP_DOWN:
		on_step_down(st, m, now);
		break;
	default:
		break; /* HELLO: liveness and peer info only */
	}
}

/* ---- operator and local events ---------------------------------------- */

static bool peer_can_take_over(const struct elect *st, uint64_t now)
{
	uint64_t heard = st->heard_ms[peer_id(st)];

	return st->peer_healthy && heard &&
	       now < heard + elect_promise_ms(&st->conf);
}

/* A primary whose checks fail hands over at once to a healthy standby,
 * unless it took over less than hold_down ago (DESIGN.md, hold-down):
 * then only its real death moves the primary again.  A data store that
 * does not answer at all is that death, not a flapping check: a Redis
 * without persistence restarted by its supervisor comes back as an
 * empty master, and the standby resyncs from it within milliseconds
 * (found by the chaos runner: acknowledged writes lost).
 *
 * With no standby to hand over to, a failing check keeps the primary
 * (nothing better is on offer), but a store dead for a whole lease is
 * not coming back by itself: the primary steps down, so that its
 * resources start the store again as after a fence, and the node, being
 * the one that can win, is elected again with the store's position. */
static void check_health(struct elect *st, struct elect_actions *out,
			 uint64_t now, uint32_t rand)
{
	if (st->role != ROLE_PRIMARY || st->healthy || st->paused)
		return;
	if (!peer_can_take_over(st, now)) {
		if (st->store_down &&
		    now >= st->store_down_ms + st->conf.lease_ms)
			step_down(st, out, WHY_STORE_DOWN, false, now, rand);
		return;
	}
	if (st->was_failover && !st->store_down &&
	    now < st->elected_ms + st->conf.hold_down_ms) {
		if (st->last_why != WHY_HOLD_DOWN) {
			st->last_why = WHY_HOLD_DOWN;
			push(out, ACT_NOTE, WHY_HOLD_DOWN);
		}
		return;
	}
	step_down(st, out, WHY_UNHEALTHY, false, now, rand);
}

/* Planned switchover (DESIGN.md, Operations): stop taking writes, wait
 * until the standby reports exactly our final position, then hand over
 * with STEP_DOWN.  The standby goes at once (PF_SWITCHOVER).  Not while
 * paused: the paused standby would not take over. */
static void start_switchover(struct elect *st, struct elect_actions *out,
			     uint64_t now)
{
	uint32_t limit = st->conf.switchover_timeout_ms;

	if (st->switching || st->paused)
		return;
	st->switching = true;
	st->quiesced = false;
	st->switch_until_ms = now + (limit ? limit : 5000);
	push(out, ACT_QUIESCE, WHY_SWITCHOVER);
	st->next_hb_ms = now; /* ask for the standby's position now */
}

/* Hand over once writes stopped and the standby has everything. */
static void try_hand_over(struct elect *st, struct elect_actions *out,
			  uint64_t now, uint32_t rand)
{
	if (st->role != ROLE_PRIMARY || !st->switching || !st->quiesced ||
	    !peer_can_take_over(st, now))
		return;
	if (st->has_position &&
	    (!peer_in_sync(st, now) || !st->peer_has_position ||
	     st->peer_position < st->switch_pos))
		return;
	step_down(st, out, WHY_SWITCHOVER, true, now, rand);
}

/* The standby did not catch up in time: take writes again, stay. */
static void abort_switchover(struct elect *st, struct elect_actions *out)
{
	st->switching = false;
	st->quiesced = false;
	push(out, ACT_UNQUIESCE, WHY_SWITCHOVER_ABORTED);
	push(out, ACT_NOTE, WHY_SWITCHOVER_ABORTED);
	st->next_hb_ms = 0;
}

static void on_start(struct elect *st, struct elect_actions *out,
		     uint64_t now, uint32_t rand)
{
	/* Promises lived in memory only: no vote for a promise's length. */
	st->grace_until_ms = now + elect_promise_ms(&st->conf);
	st->next_hello_ms = now;
	st->last_change_ms = now;
	st->last_why = WHY_START;
	if (st->conf.witness) {
		st->role = ROLE_WITNESS;
		return;
	}
	st->role = ROLE_STANDBY;
	/* Start-up removes what a crash may have left: VIP, writable data. */
	push(out, ACT_DEMOTE, WHY_START);
	arm_election(st, st->grace_until_ms, rand);
}

static void send_hello(struct elect *st, struct elect_actions *out,
		       uint64_t now)
{
	struct proto_msg tmpl;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.role = (uint8_t)st->role;
	tmpl.priority = st->conf.priority;
	if (st->healthy)
		tmpl.flags |= PF_HEALTHY;
	if (st->paused)
		tmpl.flags |= PF_PAUSED;
	tmpl.pause_gen = st->pause_gen;
	set_position(st, &tmpl);
	broadcast(st, out, MSG_HELLO, st->term, &tmpl);
	st->next_hello_ms = now + st->conf.heartbeat_ms;
}

/* Time-driven work: heartbeats, hellos, elections, round deadlines. */
static void tick(struct elect *st, struct elect_actions *out, uint64_t now,
		 uint32_t rand)
{
	if (now >= st->next_hello_ms)
		send_hello(st, out, now);
	switch (st->role) {
	case ROLE_PRIMARY:
		if (st->switching && now >= st->switch_until_ms)
			abort_switchover(st, out);
		if (now >= st->next_hb_ms)
			send_heartbeats(st, out, now);
		break;
	case ROLE_STANDBY:
		if (now >= st->election_at_ms && eligible(st, now))
			start_prevote(st, out, now, rand);
		break;
	case ROLE_PRECANDIDATE:
		if (!eligible(st, now)) {
			set_role(st, out, ROLE_STANDBY, WHY_PREVOTE_LOST, now);
			arm_election(st, now + st->conf.heartbeat_ms, rand);
		} else if ((st->retry_at_ms && now >= st->retry_at_ms) ||
			   now >= st->round_deadline_ms) {
			start_prevote(st, out, now, rand); /* next round */
		}
		break;
	case ROLE_CANDIDATE:
		if (now >= st->round_deadline_ms) {
			set_role(st, out, ROLE_STANDBY, WHY_VOTE_LOST, now);
			arm_election(st, now + st->conf.heartbeat_ms, rand);
		}
		break;
	default:
		break;
	}
}

static uint64_t min_nz(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static uint64_t next_wake(const struct elect *st, uint64_t now)
{
	uint64_t t = st->next_hello_ms;

	switch (st->role) {
	case ROLE_PRIMARY:
		t = min_nz(t, st->next_hb_ms);
		t = min_nz(t, st->lease_end_ms);
		if (st->switching)
			t = min_nz(t, st->switch_until_ms);
		break;
	case ROLE_STANDBY:
		t = min_nz(t, st->election_at_ms);
		break;
	case ROLE_PRECANDIDATE:
		t = min_nz(t, st->retry_at_ms);
		/* fall through */
	case ROLE_CANDIDATE:
		t = min_nz(t, st->round_deadline_ms);
		break;
	default:
		break;
	}
	return t > now ? t : now + 1;
}

void elect_init(struct elect *st, const struct elect_conf *conf,
		uint64_t term, uint8_t voted_for, uint8_t synced)
{
	memset(st, 0, sizeof(*st));
	st->conf = *conf;
	st->term = term;
	st->voted_for = voted_for;
	st->synced = synced;
	st->healthy = true;
	st->peer_priority = 0;
	st->role = conf->witness ? ROLE_WITNESS : ROLE_STANDBY;
}

void elect_step(const struct elect *cur, const struct elect_event *ev,
		uint64_t now, struct elect *next, struct elect_actions *out)
{
	*next = *cur;
	memset(out, 0, sizeof(*out));

	expire_lease(next, out, now, ev->rand);
	switch (ev->type) {
	case EV_START:
		on_start(next, out, now, ev->rand);
		break;
	case EV_RECV:
		on_recv(next, out, &ev->msg, now, ev->rand);
		break;
	case EV_HEALTH:
		next->healthy = ev->flag;
		next->store_down = !ev->flag && ev->store_down;
		if (!next->store_down)
			next->store_down_ms = 0;
		else if (!cur->store_down)
			next->store_down_ms = now;
		break;
	case EV_POSITION:
		next->has_position = ev->has_position;
		next->position = ev->position;
		next->in_sync = ev->flag;
		update_caught_up(next);
		break;
	case EV_SWITCHOVER:
		if (next->role != ROLE_PRIMARY)
			break;
		if (ev->flag)
			start_switchover(next, out, now);
		else
			step_down(next, out, WHY_SWITCHOVER, true, now,
				  ev->rand);
		break;
	case EV_QUIESCED:
		if (next->switching) {
			next->quiesced = true;
			next->switch_pos = next->position;
			try_hand_over(next, out, now, ev->rand);
		}
		break;
	case EV_PAUSE:
		if (ev->gen > next->pause_gen && !next->conf.witness) {
			next->paused = ev->flag;
			next->pause_gen = ev->gen;
			persist(out);
			next->next_hello_ms = now; /* tell the peer now */
		}
		break;
	case EV_GUARD_FENCED:
		if (next->role == ROLE_PRIMARY)
			fence_to_standby(next, out, WHY_LEASE_EXPIRED, now,
					 ev->rand);
		break;
	default:
		break;
	}
	if (!next->conf.witness) {
		check_health(next, out, now, ev->rand);
		tick(next, out, now, ev->rand);
	} else if (now >= next->next_hello_ms) {
		send_hello(next, out, now);
	}
	out->wake_at_ms = next_wake(next, now);
}

bool elect_is_primary(const struct elect *st, uint64_t now)
{
	return st->role == ROLE_PRIMARY && now < st->lease_end_ms;
}

const char *elect_invariant_violation(const struct elect *st, uint64_t now)
{
	if (st->conf.witness != (st->role == ROLE_WITNESS))
		return "witness role and conf disagree";
	if (st->role == ROLE_PRIMARY) {
		if (st->leader != st->conf.self)
			return "primary but leader is not self";
		if (st->voted_for != st->conf.self)
			return "primary without its own vote in its term";
		if (!st->lease_end_ms)
			return "primary without a lease";
	}
	if (st->role == ROLE_CANDIDATE && st->voted_for != st->conf.self)
		return "candidate without its own vote";
	if (st->promise_until_ms > now + elect_promise_ms(&st->conf))
		return "promise longer than lease*(1+drift)";
	if (st->role == ROLE_WITNESS && st->leader == st->conf.self)
		return "witness as leader";
	return NULL;
}

/* ---- names ------------------------------------------------------------ */

const char *elect_role_name(enum elect_role r)
{
	static const char *const names[ROLE_MAX] = {
		[ROLE_STANDBY] = "standby",
		[ROLE_PRECANDIDATE] = "precandidate",
		[ROLE_CANDIDATE] = "candidate",
		[ROLE_PRIMARY] = "primary",
		[ROLE_WITNESS] = "witness",
	};

	return (unsigned)r < ROLE_MAX ? names[r] : "unknown";
}

const char *elect_why_name(enum elect_why w)
{
	static const char *const names[WHY_MAX] = {
		[WHY_NONE] = "none",
		[WHY_START] = "start",
		[WHY_LEASE_EXPIRED] = "lease_expired",
		[WHY_HIGHER_TERM] = "higher_term",
		[WHY_ELECTED] = "elected",
		[WHY_PRIMARY_SILENT] = "primary_silent",
		[WHY_STEP_DOWN_RECEIVED] = "step_down_received",
		[WHY_UNHEALTHY] = "unhealthy",
		[WHY_HOLD_DOWN] = "hold_down",
		[WHY_PREVOTE_LOST] = "prevote_lost",
		[WHY_VOTE_LOST] = "vote_lost",
		[WHY_FOLLOW] = "follow",
		[WHY_SWITCHOVER] = "switchover",
		[WHY_SWITCHOVER_ABORTED] = "switchover_aborted",
		[WHY_PAUSE] = "pause",
		[WHY_STORE_DOWN] = "store_down",
	};

	return (unsigned)w < WHY_MAX ? names[w] : "unknown";
}

const char *elect_ev_name(enum elect_ev_type t)
{
	static const char *const names[EV_MAX] = {
		[EV_START] = "start",	   [EV_TICK] = "tick",
		[EV_RECV] = "recv",	   [EV_HEALTH] = "health",
		[EV_POSITION] = "position", [EV_SWITCHOVER] = "switchover",
		[EV_PAUSE] = "pause",	   [EV_GUARD_FENCED] = "guard_fenced",
		[EV_QUIESCED] = "quiesced",
	};

	return (unsigned)t < EV_MAX && names[t] ? names[t] : "unknown";
}

const char *elect_act_name(enum elect_act_type t)
{
	static const char *const names[ACT_MAX] = {
		[ACT_PERSIST] = "persist", [ACT_SEND] = "send",
		[ACT_FENCE] = "fence",	   [ACT_PROMOTE] = "promote",
		[ACT_DEMOTE] = "demote",   [ACT_ROLE] = "role",
		[ACT_NOTE] = "note",	   [ACT_FOLLOW] = "follow",
		[ACT_SYNC] = "sync",	   [ACT_QUIESCE] = "quiesce",
		[ACT_UNQUIESCE] = "unquiesce",
	};

	return (unsigned)t < ACT_MAX && names[t] ? names[t] : "unknown";
}
