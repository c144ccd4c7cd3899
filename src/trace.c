/*
 * trace.c - what the state changes mean to an operator: events for role
 * changes, elections, fences, pause, sync-mode changes, switchovers and
 * reachability, and the phases of each failover this node takes over
 * in (DESIGN.md: detect -> elect -> fence -> promote -> VIP/GARP ->
 * first write accepted).
 *
 * The agent calls trace_step() after every step with the state before
 * it; the phases finish in trace_promoted() (resources done) and
 * trace_res_state() (the store accepts writes).
 *
 * Phases, for the node that takes over:
 *   detect       last heartbeat from the old primary -> it was judged
 *                silent (at most two heartbeat intervals of the wait)
 *   fence        -> the old primary's lease had surely run out, so its
 *                guard fenced it: the rest of the lease wait
 *   elect        -> pre-vote and vote won
 *   promote      data stores promoted (resource step durations)
 *   vip          VIPs added and gratuitous ARPs sent
 *   first_write  -> the store reported it accepts writes
 * A planned switchover has no detect or fence: the election starts when
 * the old primary hands over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "guard.h"
#include "res.h"
#include "voter.h"

const uint32_t voter_rtt_bounds_us[RTT_BUCKETS] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	1000000, UINT32_MAX,
};

static uint8_t peer_of(const struct voter *v)
{
	return v->self == 1 ? 2 : 1;
}

static uint32_t span(uint64_t from, uint64_t to)
{
	return to > from ? (uint32_t)(to - from) : 0;
}

void trace_rtt(struct voter *v, uint64_t rtt_us)
{
	int b = 0;

	while (b < RTT_BUCKETS - 1 && rtt_us > voter_rtt_bounds_us[b])
		b++;
	v->rtt_bucket[b]++;
	v->rtt_count++;
	v->rtt_sum_us += rtt_us;
}

/* The failover (or switchover) is complete: one event with its
 * phases, kept for metrics. */
static void finish(struct voter *v, uint64_t now)
{
	struct trace *t = &v->trace;
	const struct event *ev;
	uint32_t total = 0;

	t->phase_ms[PHASE_FIRST_WRITE] = t->awaiting_write ?
		span(t->promoted_ms, now) : 0;
	t->active = t->promoting = t->awaiting_write = false;
	for (int i = 0; i < PHASE_MAX; i++)
		total += t->phase_ms[i];
	if (!t->replacing && !t->planned) {
		events_add(v->events, EVK_ROLE, SEV_INFO, v->st.term,
			   "primary after start-up (no primary before); "
			   "writes accepted %u ms after the election began",
			   total);
		return;
	}
	memcpy(v->last_phase_ms, t->phase_ms, sizeof(v->last_phase_ms));
	if (t->planned) {
		ev = events_add_phases(v->events, EVK_SWITCHOVER, SEV_INFO,
				       v->st.term, t->phase_ms,
				       "took over from %s by planned "
				       "switchover: writes accepted %u ms "
				       "after the hand-over",
				       voter_node_name(v, t->old_leader),
				       total);
	} else {
		v->failovers++;
		ev = events_add_phases(v->events, EVK_FAILOVER, SEV_WARNING,
				       v->st.term, t->phase_ms,
				       "failover: took over from %s, writes "
				       "accepted %u ms after its last "
				       "heartbeat",
				       voter_node_name(v, t->old_leader),
				       total);
	}
	if (ev)
		v->last_failover_wall_ms = ev->wall_ms;
}

void trace_promoted(struct voter *v, int rc)
{
	struct trace *t = &v->trace;
	uint64_t now = mono_ms();
	bool has_data = false;

	if (!t->promoting)
		return;
	t->promoting = false;
	if (rc) {
		t->active = false;
		return;
	}
	t->phase_ms[PHASE_PROMOTE] = t->phase_ms[PHASE_VIP] = 0;
	for (int i = 0; i < res_set_count(v->res); i++) {
		bool data;
		const struct res_action_stats *s;

		res_set_name(v->res, i, &data);
		s = res_set_stats(v->res, i, RES_ACT_PROMOTE);
		t->phase_ms[data ? PHASE_PROMOTE : PHASE_VIP] += s->last_ms;
		has_data |= data;
	}
	t->promoted_ms = now;
	t->awaiting_write = has_data;
	if (!has_data)
		finish(v, now);
	else	/* ask the store now rather than at the next poll */
		res_set_monitor_now(v->res);
}

void trace_res_state(struct voter *v, bool writable)
{
	if (v->trace.awaiting_write && writable &&
	    v->st.role == ROLE_PRIMARY)
		finish(v, mono_ms());
}

/* An election began: remember what came before it. */
static void start(struct voter *v, const struct elect *old, uint64_t now)
{
	enum elect_why why = v->st.last_why;
	struct trace *t = &v->trace;
	uint32_t waited;

	memset(t, 0, sizeof(*t));
	t->active = true;
	t->planned = why == WHY_STEP_DOWN_RECEIVED;
	t->old_leader = old->leader;
	t->replacing = old->leader != 0 && old->leader != v->self;
	t->last_hb_ms = old->last_hb_ms;
	t->detect_ms = now;
	if (!t->replacing)
		return;
	waited = span(old->last_hb_ms, now);
	if (t->planned) {
		events_add(v->events, EVK_ELECTION, SEV_INFO, v->st.term,
			   "%s handed over (planned): taking over",
			   voter_node_name(v, old->leader));
		return;
	}
	t->phase_ms[PHASE_DETECT] = waited < 2 * v->conf.heartbeat_ms ?
				    waited : 2 * v->conf.heartbeat_ms;
	t->phase_ms[PHASE_FENCE] = waited - t->phase_ms[PHASE_DETECT];
	events_add(v->events, EVK_ELECTION, SEV_WARNING, v->st.term,
		   "primary %s silent for %u ms (its lease has run out): "
		   "election started", voter_node_name(v, old->leader),
		   waited);
}

static void role_events(struct voter *v, const struct elect *old,
			uint64_t now)
{
	const struct elect *st = &v->st;
	enum elect_why why = st->last_why;

	if (old->role == ROLE_STANDBY && st->role == ROLE_PRECANDIDATE &&
	    !v->trace.active)
		start(v, old, now);
	if (st->role == ROLE_STANDBY && st->leader &&
	    st->leader != v->self)
		v->trace.active = false; /* someone else leads */
	if (old->role == ROLE_PRIMARY && st->role != ROLE_PRIMARY) {
		bool planned = why == WHY_SWITCHOVER;

		v->trace.active = false;
		events_add(v->events, planned ? EVK_ROLE : EVK_FENCE,
			   planned ? SEV_INFO : SEV_WARNING, st->term,
			   "left primary (%s): VIPs removed, writes stopped",
			   why == WHY_LEASE_EXPIRED ?
			   "lease expired without a majority of acks" :
			   why == WHY_HIGHER_TERM ?
			   "another node leads a newer term" :
			   why == WHY_UNHEALTHY ?
			   "own checks fail; handed over" :
			   why == WHY_STORE_DOWN ?
			   "own data store dead for a lease and no standby "
			   "to take over; it is started again" :
			   planned ? "planned hand-over" :
			   elect_why_name(why));
	}
}

static void setting_events(struct voter *v, const struct elect *old)
{
	const struct elect *st = &v->st;

	if (old->paused != st->paused)
		events_add(v->events, EVK_PAUSE,
			   st->paused ? SEV_WARNING : SEV_INFO, st->term,
			   st->paused ? "automatic failover PAUSED "
			   "(maintenance): no node takes over until resume" :
			   "automatic failover resumed");
	if (old->role == ROLE_PRIMARY && st->role == ROLE_PRIMARY &&
	    old->sync_required != st->sync_required && v->conf.n_resources)
		events_add(v->events, EVK_SYNC,
			   st->sync_required ? SEV_INFO : SEV_CRITICAL,
			   st->term, st->sync_required ?
			   "standby back in sync: writes need it again" :
			   "standby out of sync (recorded by the witness): "
			   "writes go on WITHOUT a replica until it is back");
	if (!old->switching && st->switching)
		events_add(v->events, EVK_SWITCHOVER, SEV_INFO, st->term,
			   "switchover to %s: writes paused until it has "
			   "position-for-position everything (at most %u ms)",
			   voter_node_name(v, peer_of(v)),
			   v->conf.switchover_timeout_ms);
	if (old->switching && !st->switching && st->role == ROLE_PRIMARY)
		events_add(v->events, EVK_SWITCHOVER, SEV_WARNING, st->term,
			   "switchover aborted: %s did not reach position "
			   "%" PRIu64 " within %u ms (it reported %s); writes "
			   "resumed here", voter_node_name(v, peer_of(v)),
			   st->switch_pos, v->conf.switchover_timeout_ms,
			   st->peer_has_position ? "less" : "no position");
}

static void reach_event(struct voter *v, uint8_t id, bool *was,
			uint64_t now)
{
	bool up = voter_reachable(v, id, now);

	if (up == *was)
		return;
	*was = up;
	events_add(v->events, EVK_PEER, up ? SEV_INFO : SEV_WARNING,
		   v->st.term, "%s %s %s", id == ELECT_WITNESS_ID ?
		   "witness" : "peer", voter_node_name(v, id),
		   up ? "reachable" : "UNREACHABLE (nothing heard within "
		   "the lease)");
}

void trace_promoting(struct voter *v, const struct elect *next,
		     uint64_t now)
{
	struct trace *t = &v->trace;

	if (!v->events || t->promoting)
		return;
	if (!t->active)
		start(v, &v->st, now);
	t->won_ms = now;
	t->phase_ms[PHASE_ELECT] = span(t->detect_ms, now);
	t->promoting = true;
	events_add(v->events, EVK_ROLE, SEV_INFO, next->term,
		   "became primary in term %" PRIu64 " (votes won %u ms after "
		   "the election began)", next->term,
		   t->phase_ms[PHASE_ELECT]);
}

void trace_step(struct voter *v, const struct elect *old, uint64_t now)
{
	if (!v->events || v->witness)
		return;
	role_events(v, old, now);
	setting_events(v, old);
	reach_event(v, peer_of(v), &v->peer_up, now);
	if (v->conf.has_witness)
		reach_event(v, ELECT_WITNESS_ID, &v->witness_up, now);
}
