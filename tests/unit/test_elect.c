/*
 * test_elect.c - the election/lease state machine (src/elect.c), in two
 * layers.
 *
 * 1. A table of single steps.  Each row names a scenario, builds its start
 *    state with a setup function, feeds one event at one `now`, and lists
 *    the expected role, term, vote, lease end, promise, wake-up time and
 *    the exact ordered action list (type and why; for a send also the
 *    destination, message type, term, flags, reason, wait_ms and the other
 *    body fields).  Failures print the row, the field, and both values.
 *
 * 2. A deterministic cluster simulator.  Three voters (agent 1, agent 2,
 *    witness 3) each hold their own struct elect.  Time advances 1 ms at a
 *    time; in each millisecond the simulator first delivers the messages
 *    that are due (in the order they were sent), then ticks every running
 *    node whose wake_at_ms has come, then checks the safety invariants.
 *    Links have a delivery delay (1 ms in scenarios, 1-3 ms in the stress
 *    test), a cut switch per direction, loss and duplication (the copy
 *    arrives 1-30 ms late).  There is no replay filter: duplicates and late
 *    copies reach elect_step(), which must be safe without one.
 *      - Crash: memory is lost; the node's "disk" keeps term, voted_for and
 *        synced as the last ACT_PERSIST wrote them (the step's `next`).
 *        Messages already sent are still delivered; messages to a crashed
 *        node are lost.  A node that crashes while primary counts as
 *        primary until the lease deadline it had (what its guard enforces)
 *        or until its restart demotes.  Restart is elect_init() from the
 *        disk plus EV_START.
 *      - Freeze (SIGSTOP): the node gets no events; messages to it wait in
 *        the queue.  On resume they are delivered first, then it is ticked
 *        (libuv runs the I/O that woke the poll before timers).  A frozen
 *        node counts as primary while elect_is_primary() says so, i.e.
 *        until its lease_end_ms: that is what the guard enforces.
 *      - Every event carries `rand` from a seeded splitmix64; a node can
 *        be given a fixed rand to force identical jitter.
 *    Checked after every step: elect_invariant_violation() is NULL; no
 *    send before an ACT_PERSIST, none but a refusal before an ACT_FENCE;
 *    ACT_PROMOTE only with a live lease and never with ACT_FENCE; term,
 *    voted_for and synced change only with an ACT_PERSIST; terms never
 *    go down.  Checked every
 *    millisecond: never two primaries, at most one primary per term ever,
 *    and on restart the disk's term is at least the highest term the node
 *    held in memory.
 *
 * Data positions are left out of the simulator (no node reports one);
 * the table covers the position rules.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elect.h"
#include "proto.h"

enum {
	HB_MS = 20,
	LEASE_MS = 200,
	DRIFT_PPM = 10000,
	HOLD_DOWN_MS = 60000,
	PRIO_A = 100,
	PRIO_B = 90,
	W = ELECT_WITNESS_ID,
	LIVE = 198,	/* L*(1-d): the primary's lease after a send */
	PROMISE = 202,	/* L*(1+d): a voter's promise after a receipt */
};

/* Table rows start from states built around T0; HELLOs are due only at
 * NO_HELLO so they do not clutter the action lists. */
#define T0 100000u
#define NO_HELLO (T0 + 100000u)

/* Node id to its bit in a sync set or a granted set. */
#define BIT(id) ((uint8_t)(1u << (id)))

static struct elect_conf conf_for(uint8_t id)
{
	struct elect_conf c = {
		.self = id,
		.witness = id == W,
		.heartbeat_ms = HB_MS,
		.lease_ms = LEASE_MS,
		.drift_ppm = DRIFT_PPM,
		.hold_down_ms = HOLD_DOWN_MS,
		.priority = id == 1 ? PRIO_A : id == 2 ? PRIO_B : 0,
	};

	return c;
}

/* Compare two numbers; on a mismatch name the context and the field and
 * print both values before cmocka fails the test. */
static void expect_eq(const char *ctx, const char *what, uint64_t exp,
		      uint64_t act)
{
	if (exp == act)
		return;
	print_error("%s: %s: expected %" PRIu64 ", actual %" PRIu64 "\n", ctx,
		    what, exp, act);
	assert_int_equal(exp, act);
}

static void expect_str(const char *ctx, const char *what, const char *exp,
		       const char *act)
{
	if (!strcmp(exp, act))
		return;
	print_error("%s: %s: expected %s, actual %s\n", ctx, what, exp, act);
	assert_string_equal(exp, act);
}

static void expect_no_violation(const char *ctx, const struct elect *st,
				uint64_t now)
{
	const char *why = elect_invariant_violation(st, now);

	if (why)
		print_error("%s: invariant broken: %s\n", ctx, why);
	assert_null(why);
}

/* Index of the first action of a type, or -1. */
static int find_act(const struct elect_actions *out, enum elect_act_type t)
{
	for (int i = 0; i < out->n; i++)
		if (out->a[i].type == t)
			return i;
	return -1;
}

static void dump_actions(const char *ctx, const struct elect_actions *out)
{
	for (int i = 0; i < out->n; i++) {
		const struct elect_action *a = &out->a[i];

		print_error("%s: action %d: %s (%s)", ctx, i,
			    elect_act_name(a->type), elect_why_name(a->why));
		if (a->type == ACT_SEND)
			print_error(" %s to %u term %" PRIu64 " flags 0x%x "
				    "reason %s", proto_type_name(a->msg.type),
				    a->to, a->msg.term, a->msg.flags,
				    proto_reason_name(a->msg.reason));
		print_error("\n");
	}
}

/* A send that gives nothing: a refused (pre-)vote or a NACK. */
static bool is_refusal(const struct elect_action *a)
{
	return (a->msg.type == MSG_PREVOTE_REPLY ||
		a->msg.type == MSG_VOTE_REPLY || a->msg.type == MSG_ACK) &&
	       !(a->msg.flags & PF_GRANTED);
}

/* Ordering rules every step obeys (STYLE.md, State machine): persist
 * before send; fence before any send but a refusal (which lets no one
 * win; an unhealthy primary may refuse a request and then find, in the
 * same step, that the requester can take over); promote only with a
 * live lease, and never in a step that fences. */
static void expect_order(const char *ctx, const struct elect *next,
			 const struct elect_actions *out, uint64_t now)
{
	int send = find_act(out, ACT_SEND);
	int persist = find_act(out, ACT_PERSIST);
	int fence = find_act(out, ACT_FENCE);
	int promote = find_act(out, ACT_PROMOTE);
	const char *broken = NULL;

	if (send >= 0 && persist > send)
		broken = "ACT_PERSIST after an ACT_SEND";
	for (int i = 0; i < fence; i++)
		if (out->a[i].type == ACT_SEND && !is_refusal(&out->a[i]))
			broken = "ACT_FENCE after an ACT_SEND that is not a "
				 "refusal";
	if (promote >= 0 && fence >= 0)
		broken = "ACT_PROMOTE and ACT_FENCE in one step";
	if (promote >= 0 && !elect_is_primary(next, now))
		broken = "ACT_PROMOTE without a live lease";
	if (!broken)
		return;
	print_error("%s: %s (role %s, lease end %" PRIu64 ", now %" PRIu64
		    ")\n", ctx, broken, elect_role_name(next->role),
		    next->lease_end_ms, now);
	dump_actions(ctx, out);
	fail();
}

/* ---- layer 1: single-step table ---------------------------------------- */

/* One expected action.  For ACT_SEND every listed field of the message is
 * compared; fields a row leaves out are expected to be zero. */
struct xact {
	enum elect_act_type type;
	enum elect_why why;
	uint8_t to;
	uint8_t msg;
	uint64_t term;
	uint8_t flags;
	uint8_t reason;
	uint32_t wait_ms;
	uint64_t hb_send_ms;
	uint8_t sync_set;
	uint32_t lease_ms;
	uint8_t role;
	uint32_t priority;
	uint64_t position;
};

struct row {
	const char *name;
	void (*setup)(struct elect *st);
	struct elect_event ev;
	uint64_t now;
	enum elect_role role;
	uint64_t term;
	uint8_t voted_for;
	uint64_t lease_end_ms;
	uint8_t promise_to;
	uint64_t promise_until_ms;
	uint64_t wake_at_ms;
	struct xact act[ELECT_MAX_ACTIONS]; /* ends at type 0 */
	void (*extra)(const char *ctx, const struct elect *next,
		      const struct elect_actions *out);
};

#define ACT(t, w) { .type = (t), .why = (w) }
#define SEND(dst, mt, trm) .type = ACT_SEND, .to = (dst), .msg = (mt), \
			   .term = (trm)
#define HB(dst, trm, sync) { SEND(dst, MSG_HEARTBEAT, trm), \
			     .sync_set = (sync), .lease_ms = LEASE_MS }
#define RECV(mt, from, trm) .type = EV_RECV, .msg.type = (mt), \
			    .msg.sender = (from), .msg.term = (trm)

/* Term 5: agent 1 won it with the votes of everyone; all heard each other
 * at T0, agent 1 sent its last heartbeat at T0 and all voters acked it. */
static void base(struct elect *st, uint8_t self)
{
	struct elect_conf c = conf_for(self);

	elect_init(st, &c, 5, 1, BIT(1) | BIT(2));
	st->role = self == W ? ROLE_WITNESS : ROLE_STANDBY;
	st->next_hello_ms = NO_HELLO;
	st->last_why = WHY_FOLLOW;
	st->last_change_ms = T0 - 5000;
	st->election_at_ms = NO_HELLO;
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++)
		st->heard_ms[id] = id == self ? 0 : T0;
	if (self != W) {
		st->peer_seen = true;
		st->peer_priority = self == 1 ? PRIO_B : PRIO_A;
		st->peer_healthy = true;
		st->peer_role = self == 1 ? ROLE_STANDBY : ROLE_PRIMARY;
	}
}

static void primary_a(struct elect *st)
{
	base(st, 1);
	st->role = ROLE_PRIMARY;
	st->last_why = WHY_ELECTED;
	st->leader = 1;
	st->lease_end_ms = T0 + LIVE;
	st->next_hb_ms = T0 + HB_MS;
	st->peer_ack_ms = T0;
	st->elected_ms = T0 - 5000;
}

/* Agent 1 has sent the heartbeat of T0 + 20 too, none acked yet. */
static void primary_a_sent(struct elect *st)
{
	primary_a(st);
	st->next_hb_ms = T0 + 2 * HB_MS;
}

/* Agent 2 took over from agent 1 (a failover) 30 s ago. */
static void primary_b_hold_down(struct elect *st)
{
	base(st, 2);
	st->term = 6;
	st->voted_for = 2;
	st->role = ROLE_PRIMARY;
	st->last_why = WHY_ELECTED;
	st->leader = 2;
	st->followed = true;
	st->was_failover = true;
	st->elected_ms = T0 - 30000;
	st->lease_end_ms = T0 + LIVE;
	st->next_hb_ms = T0 + HB_MS;
	st->peer_ack_ms = T0;
}

/* The same, but the failover was a full hold-down ago. */
static void primary_b_after_hold_down(struct elect *st)
{
	primary_b_hold_down(st);
	st->elected_ms = T0 - HOLD_DOWN_MS;
}

static void primary_a_peer_unreachable(struct elect *st)
{
	primary_a(st);
	st->heard_ms[2] = T0 - 300;
}

/* Agent 1 is primary, its checks fail, and agent 2 was unreachable. */
static void primary_a_unfit_alone(struct elect *st)
{
	primary_a_peer_unreachable(st);
	st->healthy = false;
}

/* Agent 1 is primary, agent 2 unreachable, and agent 1's data store has
 * not answered since `since`. */
static void store_down_alone(struct elect *st, uint64_t since)
{
	primary_a_peer_unreachable(st);
	st->healthy = false;
	st->store_down = true;
	st->store_down_ms = since;
}

static void primary_a_store_down_lease(struct elect *st)
{
	store_down_alone(st, T0 + 10 - LEASE_MS);
}

static void primary_a_store_down_short(struct elect *st)
{
	store_down_alone(st, T0 + 11 - LEASE_MS);
}

static void primary_a_peer_unhealthy(struct elect *st)
{
	primary_a(st);
	st->peer_healthy = false;
}

/* Agent 2 follows agent 1 in term 5: acked the heartbeat of T0. */
static void standby_b(struct elect *st)
{
	base(st, 2);
	st->leader = 1;
	st->following = 1;
	st->followed = true;
	st->last_hb_ms = T0;
	st->promise_to = 1;
	st->promise_term = 5;
	st->promise_until_ms = T0 + PROMISE;
	st->election_at_ms = T0 + PROMISE;
}

/* Its election timer fires early, while its own promise still runs. */
static void standby_b_early_timer(struct elect *st)
{
	standby_b(st);
	st->election_at_ms = T0 + 100;
}

static void standby_b_unhealthy(struct elect *st)
{
	standby_b(st);
	st->healthy = false;
}

/* Agent 2 has moved on to term 7 (voted for nobody there yet). */
static void standby_b_term7(struct elect *st)
{
	standby_b(st);
	st->term = 7;
	st->voted_for = 0;
	st->leader = 0;
}

/* Agent 1, standby at position 500, its promise long expired. */
static void standby_a_pos500(struct elect *st)
{
	base(st, 1);
	st->has_position = true;
	st->position = 500;
}

/* Agent 2 asked pre-votes for term 6 at T0 + 202 (rand 0: no jitter). */
static void precandidate_b(struct elect *st)
{
	standby_b(st);
	st->role = ROLE_PRECANDIDATE;
	st->round_ms = T0 + PROMISE;
	st->round_deadline_ms = T0 + PROMISE + 2 * HB_MS + 10;
}

/* Agent 2 raised to term 6 and asked votes at T0 + 204. */
static void candidate_b(struct elect *st)
{
	standby_b(st);
	st->role = ROLE_CANDIDATE;
	st->term = 6;
	st->voted_for = 2;
	st->leader = 0;
	st->round_ms = T0 + 204;
	st->round_deadline_ms = T0 + 204 + 2 * HB_MS + 10;
}

/* Its checks failed after it asked. */
static void candidate_b_unhealthy(struct elect *st)
{
	candidate_b(st);
	st->healthy = false;
}

/* The witness acked agent 1's heartbeat of T0 in term 5. */
static void witness(struct elect *st)
{
	base(st, W);
	st->leader = 1;
	st->promise_to = 1;
	st->promise_term = 5;
	st->promise_until_ms = T0 + PROMISE;
}

static void witness_synced_a_only(struct elect *st)
{
	witness(st);
	st->synced = BIT(1);
}

/* The witness voted for agent 2 in term 6 at T0. */
static void witness_voted_b6(struct elect *st)
{
	witness(st);
	st->term = 6;
	st->voted_for = 2;
	st->leader = 0;
	st->promise_to = 2;
	st->promise_term = 6;
	st->promise_until_ms = T0 + PROMISE;
}

/* The witness acked agent 1 again, now primary of term 7. */
static void witness_promised_a7(struct elect *st)
{
	witness(st);
	st->term = 7;
	st->promise_term = 7;
}

/* A voter that (re)started at T0: elect_init from disk, then EV_START. */
static void started(struct elect *st, uint8_t self)
{
	struct elect_conf c = conf_for(self);
	struct elect_event ev = { .type = EV_START };
	struct elect_actions out;
	struct elect fresh;

	elect_init(&fresh, &c, 5, 1, BIT(1) | BIT(2));
	elect_step(&fresh, &ev, T0, st, &out);
	st->next_hello_ms = NO_HELLO;
}

static void witness_restarted(struct elect *st)
{
	started(st, W);
}

static void agent_a_restarted(struct elect *st)
{
	started(st, 1);
}

/* Agent 1 started at T0 with rand 19: the full spread (the peer's
 * priority unknown yet) put its timer at T0 + 202 + 19. */
static void agent_a_restarted_rand19(struct elect *st)
{
	started(st, 1);
	st->election_at_ms = T0 + PROMISE + 19;
}

/* Agent 1 from its state file only, before EV_START. */
static void agent_a_loaded(struct elect *st)
{
	struct elect_conf c = conf_for(1);

	elect_init(st, &c, 5, 1, BIT(1) | BIT(2));
}

/* Agent 1 in sync mode, back after a restart with its grace over and
 * its own store not read yet (no position): its state file holds the
 * sync set it last sent as primary, which left agent 2 out. */
static void sync_a_left_b_out(struct elect *st)
{
	base(st, 1);
	st->conf.sync_mode = true;
	st->synced = BIT(1);
}

static void sync_a_record_both(struct elect *st)
{
	sync_a_left_b_out(st);
	st->synced = BIT(1) | BIT(2);
}

static void async_a_left_b_out(struct elect *st)
{
	sync_a_left_b_out(st);
	st->conf.sync_mode = false;
}

/* Agent 1, primary in sync mode with data; agent 2's last ACK said its
 * link was down. */
static void sync_primary_a_peer_out(struct elect *st)
{
	primary_a(st);
	st->conf.sync_mode = true;
	st->sync_required = true;
	st->has_position = true;
	st->position = 1000;
}

static void sync_standby_b(struct elect *st)
{
	standby_b(st);
	st->conf.sync_mode = true;
}

/* ---- row-specific checks ---- */

static void extra_before_promises_end(const char *ctx, const struct elect *n,
				      const struct elect_actions *out)
{
	/* The voters acked the heartbeat sent at T0 no earlier than T0, so
	 * their promises run at least until T0 + 202: the fence at
	 * T0 + 198 comes while no one else can be elected. */
	expect_eq(ctx, "fence is the first action", ACT_FENCE, out->a[0].type);
	assert_true(T0 + LIVE < T0 + PROMISE);
	assert_false(elect_is_primary(n, T0 + LIVE));
}

static void extra_serving(const char *ctx, const struct elect *n,
			  const struct elect_actions *out)
{
	assert_true(elect_is_primary(n, T0 + LIVE - 1));
	expect_eq(ctx, "wake at lease end at the latest", 1,
		  out->wake_at_ms <= n->lease_end_ms);
}

static void extra_persist_first(const char *ctx, const struct elect *n,
				const struct elect_actions *out)
{
	int persist = find_act(out, ACT_PERSIST);
	int send = find_act(out, ACT_SEND);

	expect_eq(ctx, "ACT_PERSIST present", 1, persist >= 0);
	expect_eq(ctx, "ACT_SEND present", 1, send >= 0);
	expect_eq(ctx, "persist index < send index", 1, persist < send);
}

static void extra_fence_first(const char *ctx, const struct elect *n,
			      const struct elect_actions *out)
{
	int fence = find_act(out, ACT_FENCE);
	int send = find_act(out, ACT_SEND);

	expect_eq(ctx, "ACT_FENCE present", 1, fence >= 0);
	expect_eq(ctx, "fence index < send index", 1, fence < send);
	assert_false(elect_is_primary(n, T0 + 10));
}

static void extra_promise_term5(const char *ctx, const struct elect *n,
				const struct elect_actions *out)
{
	expect_eq(ctx, "promise_term", 5, n->promise_term);
}

static void extra_step_down_pending(const char *ctx, const struct elect *n,
				    const struct elect_actions *out)
{
	expect_eq(ctx, "step_down_pending", 1, n->step_down_pending);
}

static void extra_unhealthy_primary(const char *ctx, const struct elect *n,
				    const struct elect_actions *out)
{
	expect_eq(ctx, "healthy", 0, n->healthy);
	expect_eq(ctx, "still primary", 1, elect_is_primary(n, T0 + 10));
}

static void extra_store_down_since(const char *ctx, const struct elect *n,
				   const struct elect_actions *out)
{
	extra_unhealthy_primary(ctx, n, out);
	expect_eq(ctx, "store_down", 1, n->store_down);
	expect_eq(ctx, "store_down_ms", T0 + 10, n->store_down_ms);
}

static void extra_synced_a(const char *ctx, const struct elect *n,
			   const struct elect_actions *out)
{
	expect_eq(ctx, "synced", BIT(1), n->synced);
}

static void extra_peer_ack(const char *ctx, const struct elect *n,
			   const struct elect_actions *out)
{
	expect_eq(ctx, "peer_ack_ms", T0 + 22, n->peer_ack_ms);
}

static void extra_grace(const char *ctx, const struct elect *n,
			const struct elect_actions *out)
{
	expect_eq(ctx, "grace_until_ms", T0 + PROMISE, n->grace_until_ms);
	expect_eq(ctx, "election_at_ms", T0 + PROMISE, n->election_at_ms);
}

static const struct row rows[] = {
{
	"primary with a live lease keeps serving and wakes at its lease end",
	primary_a, { .type = EV_TICK }, T0 + 190,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + LIVE,
	{ HB(2, 5, BIT(1) | BIT(2)), HB(W, 5, BIT(1) | BIT(2)) },
	extra_serving,
}, {
	/* Lease L*(1-d) from the send of the newest acked heartbeat. */
	"isolated primary fences before its lease ends",
	primary_a, { .type = EV_TICK }, T0 + LIVE,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + LIVE + PROMISE,
	{ ACT(ACT_FENCE, WHY_LEASE_EXPIRED),
	  ACT(ACT_ROLE, WHY_LEASE_EXPIRED) },
	extra_before_promises_end,
}, {
	"voter refuses pre-vote while its promise to the primary is live",
	witness, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 100,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_PROMISE,
	    .wait_ms = 102 } },
	NULL,
}, {
	"refused vote request does not raise the voter's term",
	witness, { RECV(MSG_VOTE_REQ, 2, 6) }, T0 + 100,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { SEND(2, MSG_VOTE_REPLY, 5), .reason = RR_PROMISE,
	    .wait_ms = 102 } },
	NULL,
}, {
	"granted vote is persisted before the reply",
	witness, { RECV(MSG_VOTE_REQ, 2, 6) }, T0 + 300,
	ROLE_WITNESS, 6, 2, 0, 2, T0 + 300 + PROMISE, NO_HELLO,
	{ ACT(ACT_PERSIST, WHY_NONE),
	  { SEND(2, MSG_VOTE_REPLY, 6), .flags = PF_GRANTED } },
	extra_persist_first,
}, {
	"pre-vote grant changes nothing on the voter",
	witness, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 300,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .flags = PF_GRANTED } },
	NULL,
}, {
	"voter that voted for another in the term refuses",
	witness_voted_b6, { RECV(MSG_VOTE_REQ, 1, 6) }, T0 + 300,
	ROLE_WITNESS, 6, 2, 0, 2, T0 + PROMISE, NO_HELLO,
	{ { SEND(1, MSG_VOTE_REPLY, 6), .reason = RR_VOTED } },
	NULL,
}, {
	"vote request of an older term is refused and changes nothing",
	witness_voted_b6, { RECV(MSG_VOTE_REQ, 1, 5) }, T0 + 300,
	ROLE_WITNESS, 6, 2, 0, 2, T0 + PROMISE, NO_HELLO,
	{ { SEND(1, MSG_VOTE_REPLY, 6), .reason = RR_STALE_TERM } },
	NULL,
}, {
	"stale-term heartbeat gets a NACK carrying the newer term",
	standby_b_term7,
	{ RECV(MSG_HEARTBEAT, 1, 6), .msg.send_ms = T0 + 9 }, T0 + 10,
	ROLE_STANDBY, 7, 0, 0, 1, T0 + PROMISE, T0 + PROMISE,
	{ { SEND(1, MSG_ACK, 7), .reason = RR_STALE_TERM } },
	NULL,
}, {
	"stale heartbeat reaching the witness after its vote in T+1 is NACKed",
	witness_voted_b6,
	{ RECV(MSG_HEARTBEAT, 1, 5), .msg.send_ms = T0 + 9 }, T0 + 10,
	ROLE_WITNESS, 6, 2, 0, 2, T0 + PROMISE, NO_HELLO,
	{ { SEND(1, MSG_ACK, 6), .reason = RR_STALE_TERM } },
	NULL,
}, {
	"frozen primary resumed after lease: first thing is FENCE",
	primary_a,
	{ RECV(MSG_HEARTBEAT, 2, 6), .msg.seq = 77,
	  .msg.send_ms = T0 + 990 }, T0 + 1000,
	ROLE_STANDBY, 6, 0, 0, 2, T0 + 1000 + PROMISE, T0 + 1000 + PROMISE,
	{ ACT(ACT_FENCE, WHY_LEASE_EXPIRED),
	  ACT(ACT_ROLE, WHY_LEASE_EXPIRED),
	  ACT(ACT_PERSIST, WHY_NONE),
	  { .type = ACT_FOLLOW, .why = WHY_FOLLOW, .to = 2 },
	  { SEND(2, MSG_ACK, 6), .flags = PF_GRANTED,
	    .hb_send_ms = T0 + 990 } },
	NULL,
}, {
	"newer term in an ACK makes the primary fence, then persist",
	primary_a,
	{ RECV(MSG_ACK, 2, 6), .msg.reason = RR_STALE_TERM }, T0 + 10,
	ROLE_STANDBY, 6, 0, 0, 0, 0, T0 + 10 + PROMISE,
	{ ACT(ACT_FENCE, WHY_HIGHER_TERM),
	  ACT(ACT_ROLE, WHY_HIGHER_TERM),
	  ACT(ACT_PERSIST, WHY_NONE) },
	NULL,
}, {
	"the guard fenced: the primary fences at once",
	primary_a, { .type = EV_GUARD_FENCED }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + 10 + PROMISE,
	{ ACT(ACT_FENCE, WHY_LEASE_EXPIRED),
	  ACT(ACT_ROLE, WHY_LEASE_EXPIRED) },
	NULL,
}, {
	"STEP_DOWN(T) from X releases only X's promise in T",
	witness, { RECV(MSG_STEP_DOWN, 1, 5) }, T0 + 50,
	ROLE_WITNESS, 5, 1, 0, 1, 0, NO_HELLO,
	{ { 0 } },
	extra_promise_term5,
}, {
	"delayed STEP_DOWN(T) after a promise to Y in T+1 releases nothing",
	witness_voted_b6, { RECV(MSG_STEP_DOWN, 1, 5) }, T0 + 50,
	ROLE_WITNESS, 6, 2, 0, 2, T0 + PROMISE, NO_HELLO,
	{ { 0 } },
	NULL,
}, {
	"delayed STEP_DOWN(T) after a promise to X in T+2 releases nothing",
	witness_promised_a7, { RECV(MSG_STEP_DOWN, 1, 5) }, T0 + 50,
	ROLE_WITNESS, 7, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { 0 } },
	NULL,
}, {
	"STEP_DOWN from another node than the promised one releases nothing",
	witness, { RECV(MSG_STEP_DOWN, 2, 5) }, T0 + 50,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { 0 } },
	NULL,
}, {
	"standby handed over to campaigns at once, without a lease wait",
	standby_b,
	{ RECV(MSG_STEP_DOWN, 1, 5), .msg.flags = PF_SWITCHOVER }, T0 + 50,
	ROLE_PRECANDIDATE, 5, 1, 0, 1, 0, T0 + 100,
	{ ACT(ACT_ROLE, WHY_STEP_DOWN_RECEIVED),
	  { SEND(1, MSG_PREVOTE_REQ, 6) },
	  { SEND(W, MSG_PREVOTE_REQ, 6) } },
	extra_step_down_pending,
}, {
	"witness in restart grace refuses votes with wait_ms",
	witness_restarted, { RECV(MSG_VOTE_REQ, 2, 6) }, T0 + 50,
	ROLE_WITNESS, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_VOTE_REPLY, 5), .reason = RR_GRACE,
	    .wait_ms = PROMISE - 50 } },
	NULL,
}, {
	"witness in restart grace refuses pre-votes with wait_ms",
	witness_restarted, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 50,
	ROLE_WITNESS, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_GRACE,
	    .wait_ms = PROMISE - 50 } },
	NULL,
}, {
	"agent in restart grace refuses votes with wait_ms",
	agent_a_restarted, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 100,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + PROMISE,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_GRACE,
	    .wait_ms = PROMISE - 100 } },
	NULL,
}, {
	"restart: agent starts standby, demotes and waits out the grace",
	agent_a_loaded, { .type = EV_START }, T0,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + HB_MS,
	{ ACT(ACT_DEMOTE, WHY_START),
	  { SEND(2, MSG_HELLO, 5), .flags = PF_HEALTHY,
	    .role = ROLE_STANDBY, .priority = PRIO_A },
	  { SEND(W, MSG_HELLO, 5), .flags = PF_HEALTHY,
	    .role = ROLE_STANDBY, .priority = PRIO_A } },
	extra_grace,
}, {
	/* Priority 100 over the peer's 90: spread 20 / 2, 19 % 11 = 8. */
	"after a start, the higher priority waits less once it hears the peer",
	agent_a_restarted_rand19,
	{ RECV(MSG_HELLO, 2, 5), .rand = 19, .msg.priority = PRIO_B,
	  .msg.flags = PF_HEALTHY }, T0 + 5,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + PROMISE + 8,
	{ { 0 } },
	NULL,
}, {
	"witness refuses a candidate not in its synced record",
	witness_synced_a_only, { RECV(MSG_VOTE_REQ, 2, 6) }, T0 + 300,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + PROMISE, NO_HELLO,
	{ { SEND(2, MSG_VOTE_REPLY, 5), .reason = RR_NOT_SYNCED } },
	NULL,
}, {
	/* It may have acked writes alone that agent 2 lacks: agent 2 and
	 * the witness must not elect agent 2 while agent 1's store is
	 * still coming up (the witness refuses it too). */
	"sync mode: agent refuses a candidate its sync record left out",
	sync_a_left_b_out,
	{ RECV(MSG_PREVOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 400 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_NOT_SYNCED } },
	NULL,
}, {
	"sync mode: the same for a vote, term unchanged",
	sync_a_left_b_out,
	{ RECV(MSG_VOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 400 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_VOTE_REPLY, 5), .reason = RR_NOT_SYNCED } },
	NULL,
}, {
	"sync mode: agent grants a candidate its sync record holds",
	sync_a_record_both,
	{ RECV(MSG_PREVOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 400 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .flags = PF_GRANTED } },
	NULL,
}, {
	"async mode: an agent's sync record does not bind its vote",
	async_a_left_b_out,
	{ RECV(MSG_PREVOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 400 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .flags = PF_GRANTED } },
	NULL,
}, {
	"sync mode: primary persists a sync set before the heartbeat with it",
	sync_primary_a_peer_out, { .type = EV_TICK }, T0 + HB_MS,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + 2 * HB_MS,
	{ ACT(ACT_PERSIST, WHY_NONE), HB(2, 5, BIT(1)), HB(W, 5, BIT(1)) },
	extra_synced_a,
}, {
	"sync mode: standby records a new sync set durably before acking",
	sync_standby_b,
	{ RECV(MSG_HEARTBEAT, 1, 5), .msg.send_ms = T0 + 19,
	  .msg.sync_set = BIT(1) }, T0 + 20,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + 20 + PROMISE, T0 + 20 + PROMISE,
	{ ACT(ACT_PERSIST, WHY_NONE),
	  { SEND(1, MSG_ACK, 5), .flags = PF_GRANTED,
	    .hb_send_ms = T0 + 19 } },
	extra_synced_a,
}, {
	"agent refuses candidate behind its own position",
	standby_a_pos500,
	{ RECV(MSG_PREVOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 400 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_BEHIND } },
	NULL,
}, {
	"agent refuses a vote to a candidate behind it, term unchanged",
	standby_a_pos500,
	{ RECV(MSG_VOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 499 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_VOTE_REPLY, 5), .reason = RR_BEHIND } },
	NULL,
}, {
	"agent refuses a candidate that reports no position",
	standby_a_pos500, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_BEHIND } },
	NULL,
}, {
	"agent grants a pre-vote to a candidate at its position",
	standby_a_pos500,
	{ RECV(MSG_PREVOTE_REQ, 2, 6), .msg.flags = PF_HAS_POSITION,
	  .msg.position = 500 }, T0 + 300,
	ROLE_STANDBY, 5, 1, 0, 0, 0, NO_HELLO,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .flags = PF_GRANTED } },
	NULL,
}, {
	"a live primary never votes another in",
	primary_a, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 10,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_UNFIT } },
	NULL,
}, {
	"ack extends lease to hb_send_ms + L*(1-d)",
	primary_a_sent,
	{ RECV(MSG_ACK, 2, 5), .msg.flags = PF_GRANTED, .msg.hb_seq = 9,
	  .msg.hb_send_ms = T0 + HB_MS }, T0 + 22,
	ROLE_PRIMARY, 5, 1, T0 + HB_MS + LIVE, 0, 0, T0 + 2 * HB_MS,
	{ { 0 } },
	extra_peer_ack,
}, {
	"an older ack does not shorten the lease",
	primary_a_sent,
	{ RECV(MSG_ACK, W, 5), .msg.flags = PF_GRANTED,
	  .msg.hb_send_ms = T0 - 100 }, T0 + 22,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + 2 * HB_MS,
	{ { 0 } },
	NULL,
}, {
	"a refusing ack does not extend the lease",
	primary_a_sent,
	{ RECV(MSG_ACK, W, 5), .msg.hb_send_ms = T0 + HB_MS }, T0 + 22,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + 2 * HB_MS,
	{ { 0 } },
	NULL,
}, {
	"heartbeat renews the standby's promise, acked with its send time",
	standby_b,
	{ RECV(MSG_HEARTBEAT, 1, 5), .msg.seq = 10, .msg.send_ms = T0 + 19,
	  .msg.sync_set = BIT(1) | BIT(2) }, T0 + 20,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + 20 + PROMISE, T0 + 20 + PROMISE,
	{ { SEND(1, MSG_ACK, 5), .flags = PF_GRANTED,
	    .hb_send_ms = T0 + 19 } },
	NULL,
}, {
	"witness records a new sync set durably before acking",
	witness,
	{ RECV(MSG_HEARTBEAT, 1, 5), .msg.send_ms = T0 + 19,
	  .msg.sync_set = BIT(1) }, T0 + 20,
	ROLE_WITNESS, 5, 1, 0, 1, T0 + 20 + PROMISE, NO_HELLO,
	{ ACT(ACT_PERSIST, WHY_NONE),
	  { SEND(1, MSG_ACK, 5), .flags = PF_GRANTED,
	    .hb_send_ms = T0 + 19 } },
	extra_synced_a,
}, {
	"fence comes before any send in the same step",
	primary_a, { .type = EV_HEALTH, .flag = false }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ ACT(ACT_FENCE, WHY_UNHEALTHY),
	  ACT(ACT_ROLE, WHY_UNHEALTHY),
	  { SEND(2, MSG_STEP_DOWN, 5) },
	  { SEND(W, MSG_STEP_DOWN, 5) } },
	extra_fence_first,
}, {
	/* Hearing the standby again (its pre-vote) lets the unhealthy
	 * primary hand over in the same step.  It answered as primary
	 * first: a refusal, which lets no one win; the fence still comes
	 * before the STEP_DOWNs. */
	"unhealthy primary hearing its standby again refuses, then hands over",
	primary_a_unfit_alone, { RECV(MSG_PREVOTE_REQ, 2, 6) }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ { SEND(2, MSG_PREVOTE_REPLY, 5), .reason = RR_UNFIT },
	  ACT(ACT_FENCE, WHY_UNHEALTHY),
	  ACT(ACT_ROLE, WHY_UNHEALTHY),
	  { SEND(2, MSG_STEP_DOWN, 5) },
	  { SEND(W, MSG_STEP_DOWN, 5) } },
	NULL,
}, {
	"unhealthy primary within failover_hold_down after a failover stays "
	"primary (ACT_NOTE hold_down)",
	primary_b_hold_down, { .type = EV_HEALTH, .flag = false }, T0 + 10,
	ROLE_PRIMARY, 6, 2, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ ACT(ACT_NOTE, WHY_HOLD_DOWN) },
	extra_unhealthy_primary,
}, {
	"within the hold-down a primary whose data store does not answer "
	"steps down at once (chaos trials 90, 93, 2026-11-24)",
	primary_b_hold_down,
	{ .type = EV_HEALTH, .flag = false, .store_down = true }, T0 + 10,
	ROLE_STANDBY, 6, 2, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ ACT(ACT_FENCE, WHY_UNHEALTHY),
	  ACT(ACT_ROLE, WHY_UNHEALTHY),
	  { SEND(1, MSG_STEP_DOWN, 6) },
	  { SEND(W, MSG_STEP_DOWN, 6) } },
	NULL,
}, {
	"after the hold-down it steps down with FENCE then STEP_DOWN to both "
	"voters",
	primary_b_after_hold_down, { .type = EV_HEALTH, .flag = false },
	T0 + 10,
	ROLE_STANDBY, 6, 2, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ ACT(ACT_FENCE, WHY_UNHEALTHY),
	  ACT(ACT_ROLE, WHY_UNHEALTHY),
	  { SEND(1, MSG_STEP_DOWN, 6) },
	  { SEND(W, MSG_STEP_DOWN, 6) } },
	NULL,
}, {
	"unhealthy primary with unreachable standby does not step down",
	primary_a_peer_unreachable, { .type = EV_HEALTH, .flag = false },
	T0 + 10,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ { 0 } },
	extra_unhealthy_primary,
}, {
	"a primary whose data store stops answering, with no standby to "
	"take over, stays primary for now and notes since when",
	primary_a_peer_unreachable,
	{ .type = EV_HEALTH, .flag = false, .store_down = true }, T0 + 10,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ { 0 } },
	extra_store_down_since,
}, {
	"... still primary 1 ms short of a lease of a dead store",
	primary_a_store_down_short, { .type = EV_TICK }, T0 + 10,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ { 0 } },
	extra_unhealthy_primary,
}, {
	"... steps down once its store has been dead a lease, so that the "
	"store is started again (test_mdb_acked_alone, 2026-12-07)",
	primary_a_store_down_lease, { .type = EV_TICK }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ ACT(ACT_FENCE, WHY_STORE_DOWN),
	  ACT(ACT_ROLE, WHY_STORE_DOWN),
	  { SEND(2, MSG_STEP_DOWN, 5) },
	  { SEND(W, MSG_STEP_DOWN, 5) } },
	NULL,
}, {
	"unhealthy primary with unhealthy standby does not step down",
	primary_a_peer_unhealthy, { .type = EV_HEALTH, .flag = false },
	T0 + 10,
	ROLE_PRIMARY, 5, 1, T0 + LIVE, 0, 0, T0 + HB_MS,
	{ { 0 } },
	extra_unhealthy_primary,
}, {
	"planned switchover: fence, then STEP_DOWN flagged switchover",
	primary_a, { .type = EV_SWITCHOVER }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 0, 0, T0 + 10 + 2 * PROMISE,
	{ ACT(ACT_FENCE, WHY_SWITCHOVER),
	  ACT(ACT_ROLE, WHY_SWITCHOVER),
	  { SEND(2, MSG_STEP_DOWN, 5), .flags = PF_SWITCHOVER },
	  { SEND(W, MSG_STEP_DOWN, 5), .flags = PF_SWITCHOVER } },
	NULL,
}, {
	"switchover on a standby does nothing",
	standby_b, { .type = EV_SWITCHOVER }, T0 + 10,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + PROMISE, T0 + PROMISE,
	{ { 0 } },
	NULL,
}, {
	"standby asks pre-votes for term+1 when the election timeout passes",
	standby_b, { .type = EV_TICK }, T0 + PROMISE,
	ROLE_PRECANDIDATE, 5, 1, 0, 1, T0 + PROMISE, T0 + PROMISE + 50,
	{ ACT(ACT_ROLE, WHY_PRIMARY_SILENT),
	  { SEND(1, MSG_PREVOTE_REQ, 6) },
	  { SEND(W, MSG_PREVOTE_REQ, 6) } },
	NULL,
}, {
	"standby does not campaign before its promise ends",
	standby_b, { .type = EV_TICK }, T0 + PROMISE - 1,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + PROMISE, T0 + PROMISE,
	{ { 0 } },
	NULL,
}, {
	/* Its own ack was a promise too: campaigning before it ends could
	 * elect it while the primary still counts on that ack. */
	"standby does not campaign while its own promise is live",
	standby_b_early_timer, { .type = EV_TICK }, T0 + 150,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + PROMISE, T0 + 151,
	{ { 0 } },
	NULL,
}, {
	"unhealthy standby does not campaign",
	standby_b_unhealthy, { .type = EV_TICK }, T0 + PROMISE,
	ROLE_STANDBY, 5, 1, 0, 1, T0 + PROMISE, T0 + PROMISE + 1,
	{ { 0 } },
	NULL,
}, {
	"pre-vote majority raises the term, votes for itself, persists, asks",
	precandidate_b,
	{ RECV(MSG_PREVOTE_REPLY, W, 5), .msg.flags = PF_GRANTED,
	  .msg.hb_send_ms = T0 + PROMISE }, T0 + 204,
	ROLE_CANDIDATE, 6, 2, 0, 1, T0 + PROMISE, T0 + 204 + 50,
	{ ACT(ACT_ROLE, WHY_PRIMARY_SILENT),
	  ACT(ACT_PERSIST, WHY_NONE),
	  { SEND(1, MSG_VOTE_REQ, 6) },
	  { SEND(W, MSG_VOTE_REQ, 6) } },
	extra_persist_first,
}, {
	"a grant answering an earlier pre-vote round is not counted "
	"(model trail, 2026-11-24)",
	precandidate_b,
	{ RECV(MSG_PREVOTE_REPLY, W, 5), .msg.flags = PF_GRANTED,
	  .msg.hb_send_ms = T0 + PROMISE - 30 }, T0 + 204,
	ROLE_PRECANDIDATE, 5, 1, 0, 1, T0 + PROMISE,
	T0 + PROMISE + 2 * HB_MS + 10,
	{ { 0 } },
	NULL,
}, {
	"refused pre-vote with wait_ms schedules the retry",
	precandidate_b,
	{ RECV(MSG_PREVOTE_REPLY, W, 5), .msg.reason = RR_PROMISE,
	  .msg.wait_ms = 7, .msg.hb_send_ms = T0 + PROMISE }, T0 + 204,
	ROLE_PRECANDIDATE, 5, 1, 0, 1, T0 + PROMISE, T0 + 204 + 7 + 1,
	{ { 0 } },
	NULL,
}, {
	"vote majority: primary, lease counted from the vote request",
	candidate_b,
	{ RECV(MSG_VOTE_REPLY, W, 6), .msg.flags = PF_GRANTED }, T0 + 206,
	ROLE_PRIMARY, 6, 2, T0 + 204 + LIVE, 1, T0 + PROMISE,
	T0 + 206 + HB_MS,
	{ ACT(ACT_ROLE, WHY_ELECTED),
	  HB(1, 6, BIT(2)), HB(W, 6, BIT(2)),
	  ACT(ACT_PROMOTE, WHY_ELECTED) },
	NULL,
}, {
	/* It would hand over again in the same step: promote, then fence. */
	"candidate whose checks failed does not become primary on the vote",
	candidate_b_unhealthy,
	{ RECV(MSG_VOTE_REPLY, W, 6), .msg.flags = PF_GRANTED }, T0 + 206,
	ROLE_CANDIDATE, 6, 2, 0, 1, T0 + PROMISE, T0 + 254,
	{ { 0 } },
	NULL,
}, {
	"vote reply of another term is ignored",
	candidate_b,
	{ RECV(MSG_VOTE_REPLY, W, 5), .msg.flags = PF_GRANTED }, T0 + 206,
	ROLE_CANDIDATE, 6, 2, 0, 1, T0 + PROMISE, T0 + 254,
	{ { 0 } },
	NULL,
}, {
	/* A candidate stalled past its round (SIGSTOP, a long pause) reads
	 * the grant only after the lease it could give is over. */
	"late vote reply after the round deadline does not make a primary",
	candidate_b,
	{ RECV(MSG_VOTE_REPLY, W, 6), .msg.flags = PF_GRANTED }, T0 + 600,
	ROLE_STANDBY, 6, 2, 0, 1, T0 + PROMISE, T0 + 600 + HB_MS,
	{ ACT(ACT_ROLE, WHY_VOTE_LOST) },
	NULL,
}, {
	"candidate without a majority by the deadline returns to standby",
	candidate_b, { .type = EV_TICK }, T0 + 254,
	ROLE_STANDBY, 6, 2, 0, 1, T0 + PROMISE, T0 + 254 + HB_MS,
	{ ACT(ACT_ROLE, WHY_VOTE_LOST) },
	NULL,
},
};

static void run_row(const struct row *r)
{
	struct elect cur, next;
	struct elect_actions out;
	int n = 0;
	char ctx[256];

	print_message("[ row ] %s\n", r->name);
	memset(&cur, 0, sizeof(cur));
	r->setup(&cur);
	expect_no_violation(r->name, &cur, r->now);
	elect_step(&cur, &r->ev, r->now, &next, &out);

	expect_no_violation(r->name, &next, r->now);
	expect_order(r->name, &next, &out, r->now);
	expect_str(r->name, "role", elect_role_name(r->role),
		   elect_role_name(next.role));
	expect_eq(r->name, "term", r->term, next.term);
	expect_eq(r->name, "voted_for", r->voted_for, next.voted_for);
	expect_eq(r->name, "lease_end_ms", r->lease_end_ms, next.lease_end_ms);
	expect_eq(r->name, "promise_to", r->promise_to, next.promise_to);
	expect_eq(r->name, "promise_until_ms", r->promise_until_ms,
		  next.promise_until_ms);
	expect_eq(r->name, "wake_at_ms", r->wake_at_ms, out.wake_at_ms);

	while (n < ELECT_MAX_ACTIONS && r->act[n].type)
		n++;
	if (n != out.n) {
		for (int i = 0; i < out.n; i++)
			print_error("%s: actual action %d: %s (%s) to %u %s "
				    "term %" PRIu64 "\n", r->name, i,
				    elect_act_name(out.a[i].type),
				    elect_why_name(out.a[i].why),
				    out.a[i].to,
				    out.a[i].type == ACT_SEND ?
				    proto_type_name(out.a[i].msg.type) : "",
				    out.a[i].msg.term);
	}
	expect_eq(r->name, "number of actions", n, out.n);
	for (int i = 0; i < n; i++) {
		const struct xact *x = &r->act[i];
		const struct elect_action *a = &out.a[i];
		const struct proto_msg *m = &a->msg;

		snprintf(ctx, sizeof(ctx), "%s: action %d", r->name, i);
		expect_str(ctx, "type", elect_act_name(x->type),
			   elect_act_name(a->type));
		expect_str(ctx, "why", elect_why_name(x->why),
			   elect_why_name(a->why));
		if (x->type != ACT_SEND)
			continue;
		expect_eq(ctx, "to", x->to, a->to);
		expect_str(ctx, "message", proto_type_name(x->msg),
			   proto_type_name(m->type));
		expect_eq(ctx, "sender", next.conf.self, m->sender);
		expect_eq(ctx, "msg term", x->term, m->term);
		expect_eq(ctx, "flags", x->flags, m->flags);
		expect_str(ctx, "reason", proto_reason_name(x->reason),
			   proto_reason_name(m->reason));
		expect_eq(ctx, "wait_ms", x->wait_ms, m->wait_ms);
		expect_eq(ctx, "hb_send_ms", x->hb_send_ms, m->hb_send_ms);
		expect_eq(ctx, "sync_set", x->sync_set, m->sync_set);
		expect_eq(ctx, "lease_ms", x->lease_ms, m->lease_ms);
		expect_eq(ctx, "role", x->role, m->role);
		expect_eq(ctx, "priority", x->priority, m->priority);
		expect_eq(ctx, "position", x->position, m->position);
	}
	if (r->extra)
		r->extra(r->name, &next, &out);
}

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

static void test_lease_arithmetic(void **state)
{
	struct elect_conf c = conf_for(1);

	expect_eq("lease", "elect_lease_ms", LIVE, elect_lease_ms(&c));
	expect_eq("lease", "elect_promise_ms", PROMISE, elect_promise_ms(&c));
}

/* ---- layer 2: cluster simulator ----------------------------------------- */

enum {
	SIM_QCAP = 8192,	/* messages in flight; beyond it they drop */
	SIM_TERMS = 4096,	/* terms tracked for "one primary per term" */
	SIM_SETTLE_MS = 1000,
};

struct sim_msg {
	uint64_t at;		/* delivery time */
	uint8_t to;
	struct proto_msg m;
};

struct sim_node {
	struct elect st;
	bool up;		/* process running (not crashed) */
	bool frozen;		/* SIGSTOP: no events until resumed */
	uint64_t wake_at;
	bool fixed_rand;	/* give every event rand = rand_value */
	uint32_t rand_value;
	uint64_t disk_term;	/* what the last ACT_PERSIST wrote */
	uint8_t disk_voted_for;
	uint8_t disk_synced;
	uint64_t seq;
	uint64_t max_term;	/* highest term ever held in memory */
	uint64_t ghost_until;	/* crashed primary: its guard fences then */
	bool resumed;		/* next step is the first after a resume */
	int first_act_after_resume;
	uint64_t cand_term;	/* term of its last candidacy */
	uint64_t primary_since;	/* when it last became primary */
};

struct sim {
	struct sim_node n[PROTO_MAX_NODE + 1];
	uint64_t now;
	uint64_t rng;
	struct sim_msg *q;
	int qn;
	bool cut[PROTO_MAX_NODE + 1][PROTO_MAX_NODE + 1]; /* [from][to] */
	uint32_t delay_ms;
	uint32_t delay_spread_ms;	/* extra 0..spread per message */
	uint32_t loss_pct;
	uint32_t dup_pct;
	uint8_t term_primary[SIM_TERMS];
	/* what was sent: [message type][reason] (granted: RR_NONE) */
	unsigned sent[MSG_TYPE_MAX][RR_MAX];
	unsigned hold_down_notes;
	unsigned elections;
	struct proto_msg step_down;	/* the last STEP_DOWN sent */
	bool has_step_down;
};

static uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t sim_between(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + sim_rand(s) % (hi - lo + 1);
}

static bool sim_chance(struct sim *s, uint32_t pct)
{
	return pct && sim_rand(s) % 100 < pct;
}

static void sim_fail(const struct sim *s, uint8_t id, const char *what)
{
	print_error("t=%" PRIu64 " node %u: %s\n", s->now, id, what);
	for (uint8_t i = 1; i <= PROTO_MAX_NODE; i++) {
		const struct sim_node *nd = &s->n[i];

		print_error("  node %u: %s%s role %s term %" PRIu64
			    " voted %u lease_end %" PRIu64 " promise %u/%"
			    PRIu64 " until %" PRIu64 "\n", i,
			    nd->up ? "up" : "down",
			    nd->frozen ? " frozen" : "",
			    elect_role_name(nd->st.role), nd->st.term,
			    nd->st.voted_for, nd->st.lease_end_ms,
			    nd->st.promise_to, nd->st.promise_term,
			    nd->st.promise_until_ms);
	}
	fail();
}

static void sim_send(struct sim *s, uint8_t from, struct proto_msg m,
		     uint8_t to)
{
	struct sim_node *nd = &s->n[from];
	int copies = 1;

	m.cluster = 1;
	m.seq = ++nd->seq;
	m.send_ms = s->now;
	if (s->cut[from][to] || sim_chance(s, s->loss_pct))
		return;
	if (sim_chance(s, s->dup_pct))
		copies = 2;
	for (int i = 0; i < copies && s->qn < SIM_QCAP; i++) {
		struct sim_msg *q = &s->q[s->qn++];

		q->at = s->now + s->delay_ms;
		if (s->delay_spread_ms)
			q->at += sim_between(s, 0, s->delay_spread_ms);
		if (i)
			q->at += sim_between(s, 1, 30); /* the late copy */
		q->to = to;
		q->m = m;
	}
}

/* The checks every step passes, then the step's effects on the world. */
static void sim_after_step(struct sim *s, uint8_t id, const struct elect *cur,
			   const struct elect_event *ev,
			   const struct elect *next,
			   const struct elect_actions *out)
{
	struct sim_node *nd = &s->n[id];
	const char *why = elect_invariant_violation(next, s->now);
	char ctx[128];
	bool persisted = find_act(out, ACT_PERSIST) >= 0;

	snprintf(ctx, sizeof(ctx), "t=%" PRIu64 " node %u (%s) on %s %s",
		 s->now, id, elect_role_name(cur->role),
		 elect_ev_name(ev->type),
		 ev->type == EV_RECV ? proto_type_name(ev->msg.type) : "");
	if (why)
		sim_fail(s, id, why);
	expect_order(ctx, next, out, s->now);
	if (next->term < cur->term)
		sim_fail(s, id, "term went down");
	if (!persisted && (next->term != cur->term ||
			   next->voted_for != cur->voted_for ||
			   next->synced != cur->synced))
		sim_fail(s, id, "term/vote/synced changed without persist");
	if (persisted) {
		nd->disk_term = next->term;
		nd->disk_voted_for = next->voted_for;
		nd->disk_synced = next->synced;
	}
	if (next->term > nd->max_term)
		nd->max_term = next->term;
	if (next->role == ROLE_CANDIDATE && cur->role != ROLE_CANDIDATE)
		nd->cand_term = next->term;
	if (next->role == ROLE_PRIMARY && cur->role != ROLE_PRIMARY) {
		nd->primary_since = s->now;
		s->elections++;
	}
	if (nd->resumed) {
		nd->resumed = false;
		nd->first_act_after_resume = out->n ? (int)out->a[0].type : 0;
	}
}

static void sim_step(struct sim *s, uint8_t id, struct elect_event *ev)
{
	struct sim_node *nd = &s->n[id];
	struct elect next;
	struct elect_actions out;

	ev->rand = nd->fixed_rand ? nd->rand_value : (uint32_t)sim_rand(s);
	elect_step(&nd->st, ev, s->now, &next, &out);
	sim_after_step(s, id, &nd->st, ev, &next, &out);
	for (int i = 0; i < out.n; i++) {
		const struct elect_action *a = &out.a[i];

		switch (a->type) {
		case ACT_SEND:
			s->sent[a->msg.type][a->msg.reason]++;
			if (a->msg.type == MSG_STEP_DOWN) {
				s->step_down = a->msg;
				s->has_step_down = true;
			}
			sim_send(s, id, a->msg, a->to);
			break;
		case ACT_FENCE:
		case ACT_DEMOTE:
			nd->ghost_until = 0;
			break;
		case ACT_NOTE:
			if (a->why == WHY_HOLD_DOWN)
				s->hold_down_notes++;
			break;
		default:
			break;
		}
	}
	nd->st = next;
	nd->wake_at = out.wake_at_ms;
}

static bool sim_serving(const struct sim *s, uint8_t id)
{
	const struct sim_node *nd = &s->n[id];

	if (!nd->up)
		return s->now < nd->ghost_until;
	return elect_is_primary(&nd->st, s->now);
}

/* The one node serving as primary now, or 0. */
static uint8_t sim_primary(const struct sim *s)
{
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++)
		if (sim_serving(s, id))
			return id;
	return 0;
}

/* Safety, every millisecond: one primary at most, one per term, and the
 * per-state invariants of every running node. */
static void sim_check(struct sim *s)
{
	int serving = 0;

	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++) {
		struct sim_node *nd = &s->n[id];
		const char *why;

		if (nd->up &&
		    (why = elect_invariant_violation(&nd->st, s->now)))
			sim_fail(s, id, why);
		if (!sim_serving(s, id))
			continue;
		serving++;
		if (nd->st.term >= SIM_TERMS)
			sim_fail(s, id, "term beyond the simulator's table");
		if (s->term_primary[nd->st.term] &&
		    s->term_primary[nd->st.term] != id)
			sim_fail(s, id, "second primary in one term");
		s->term_primary[nd->st.term] = id;
	}
	if (serving > 1)
		sim_fail(s, 0, "two primaries at once");
}

static void sim_deliver(struct sim *s)
{
	int kept = 0;

	/* Steps append to the queue while we walk it; new messages are due
	 * later and are kept like any other. */
	for (int i = 0; i < s->qn; i++) {
		struct sim_msg m = s->q[i];
		struct sim_node *nd = &s->n[m.to];

		if (m.at > s->now || (nd->up && nd->frozen)) {
			s->q[kept++] = m;
			continue;
		}
		if (nd->up) {
			struct elect_event ev = { .type = EV_RECV,
						  .msg = m.m };

			sim_step(s, m.to, &ev);
		}
	}
	s->qn = kept;
}

static void sim_tick(struct sim *s)
{
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++) {
		struct sim_node *nd = &s->n[id];
		struct elect_event ev = { .type = EV_TICK };

		if (nd->up && !nd->frozen && s->now >= nd->wake_at)
			sim_step(s, id, &ev);
	}
}

static void sim_ms(struct sim *s)
{
	s->now++;
	sim_deliver(s);
	sim_tick(s);
	sim_check(s);
}

static void sim_run_until(struct sim *s, uint64_t t)
{
	while (s->now < t)
		sim_ms(s);
}

/* Run until a node other than `not_id` serves as primary, at most until
 * `deadline`.  Returns that node, or 0. */
static uint8_t sim_wait_primary(struct sim *s, uint8_t not_id,
				uint64_t deadline)
{
	uint8_t p;

	while ((p = sim_primary(s)) == 0 || p == not_id) {
		if (s->now >= deadline)
			return 0;
		sim_ms(s);
	}
	return p;
}

static void sim_event(struct sim *s, uint8_t id, enum elect_ev_type type,
		      bool flag)
{
	struct elect_event ev = { .type = type, .flag = flag };

	sim_step(s, id, &ev);
}

/* (Re)start a node from its disk. */
static void sim_start_node(struct sim *s, uint8_t id)
{
	struct sim_node *nd = &s->n[id];
	struct elect_conf c = conf_for(id);

	if (nd->disk_term < nd->max_term)
		sim_fail(s, id, "restart: the disk's term is below one the "
			 "node held");
	elect_init(&nd->st, &c, nd->disk_term, nd->disk_voted_for,
		   nd->disk_synced);
	nd->up = true;
	nd->frozen = false;
	nd->wake_at = 0;
	sim_event(s, id, EV_START, false);
}

static void sim_crash(struct sim *s, uint8_t id)
{
	struct sim_node *nd = &s->n[id];
	int kept = 0;

	nd->ghost_until = sim_serving(s, id) ? nd->st.lease_end_ms : 0;
	nd->up = false;
	nd->frozen = false;
	/* What waited in its socket while it was frozen is gone with it. */
	for (int i = 0; i < s->qn; i++)
		if (s->q[i].to != id || s->q[i].at > s->now)
			s->q[kept++] = s->q[i];
	s->qn = kept;
}

static void sim_freeze(struct sim *s, uint8_t id)
{
	s->n[id].frozen = true;
}

static void sim_resume(struct sim *s, uint8_t id)
{
	s->n[id].frozen = false;
	s->n[id].resumed = true;
	s->n[id].first_act_after_resume = -1;
}

/* Cut (or heal) both directions between a and b. */
static void sim_cut(struct sim *s, uint8_t a, uint8_t b, bool cut)
{
	s->cut[a][b] = cut;
	s->cut[b][a] = cut;
}

static void sim_isolate(struct sim *s, uint8_t id, bool cut)
{
	for (uint8_t o = 1; o <= PROTO_MAX_NODE; o++)
		if (o != id)
			sim_cut(s, id, o, cut);
}

static void sim_heal(struct sim *s)
{
	memset(s->cut, 0, sizeof(s->cut));
	s->loss_pct = 0;
	s->dup_pct = 0;
}

/* Put a message on the wire by hand, as if `m.sender` sent it now. */
static void sim_inject(struct sim *s, struct proto_msg m, uint8_t to)
{
	bool cut = s->cut[m.sender][to];

	s->cut[m.sender][to] = false;
	sim_send(s, m.sender, m, to);
	s->cut[m.sender][to] = cut;
}

/* A fresh cluster, never run before: empty disks, all three started at
 * t = 0.  The caller frees with sim_free(). */
static struct sim *sim_new(uint64_t seed)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->q = calloc(SIM_QCAP, sizeof(*s->q));
	assert_non_null(s->q);
	s->rng = seed;
	s->delay_ms = 1;
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++)
		sim_start_node(s, id);
	return s;
}

static void sim_free(struct sim *s)
{
	free(s->q);
	free(s);
}

/* A cluster that has elected its first primary and run a second more. */
static struct sim *sim_settled(uint64_t seed)
{
	struct sim *s = sim_new(seed);
	uint8_t p = sim_wait_primary(s, 0, SIM_SETTLE_MS);

	if (!p)
		sim_fail(s, 0, "no primary within 1 s of a clean start");
	sim_run_until(s, s->now + SIM_SETTLE_MS);
	if (sim_primary(s) != p)
		sim_fail(s, p, "the first primary did not keep its role");
	return s;
}

static uint8_t other_agent(uint8_t id)
{
	return id == 1 ? 2 : 1;
}

/* Run `ms` more milliseconds; fail if `p` stops being primary, or with
 * `fixed_terms` if any running voter's term moves. */
static void sim_hold_terms(struct sim *s, uint8_t p, uint64_t ms,
			   bool fixed_terms, const char *what)
{
	uint64_t terms[PROTO_MAX_NODE + 1];
	uint64_t end = s->now + ms;

	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++)
		terms[id] = s->n[id].st.term;
	while (s->now < end) {
		sim_ms(s);
		if (sim_primary(s) != p)
			sim_fail(s, p, what);
		for (uint8_t id = 1; fixed_terms && id <= PROTO_MAX_NODE; id++)
			if (s->n[id].up && s->n[id].st.term != terms[id])
				sim_fail(s, id, "term changed");
	}
}

/* The primary keeps its lease and no term moves anywhere. */
static void sim_hold_still(struct sim *s, uint8_t p, uint64_t ms,
			   const char *what)
{
	sim_hold_terms(s, p, ms, true, what);
}

/* The primary keeps its lease (others may still catch up on its term). */
static void sim_hold(struct sim *s, uint8_t p, uint64_t ms, const char *what)
{
	sim_hold_terms(s, p, ms, false, what);
}

/* ---- scenarios ---- */

static void test_clean_start(void **state)
{
	unsigned won[PROTO_MAX_NODE + 1] = { 0 };
	uint64_t worst = 0;

	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim *s = sim_new(seed);
		uint8_t p = sim_wait_primary(s, 0, SIM_SETTLE_MS);

		if (!p)
			sim_fail(s, 0, "no primary within 1 s");
		if (p == W)
			sim_fail(s, p, "the witness became primary");
		won[p]++;
		if (s->now > worst)
			worst = s->now;
		/* Exactly one, and it stays. */
		sim_hold(s, p, SIM_SETTLE_MS, "clean start: primary lost");
		sim_free(s);
	}
	print_message("clean start: 20 runs, first primary after at most %"
		      PRIu64 " ms; agent 1 (priority %d) won %u, agent 2 "
		      "(priority %d) won %u\n", worst, PRIO_A, won[1], PRIO_B,
		      won[2]);
}

static void test_primary_crash(void **state)
{
	uint64_t min = UINT64_MAX, max = 0, sum = 0;
	const uint64_t bound = LEASE_MS * 101 / 100 + 3 * HB_MS + 50;
	const int runs = 40;

	for (int i = 0; i < runs; i++) {
		struct sim *s = sim_settled(100 + (uint64_t)i);
		uint8_t p = sim_primary(s);
		uint8_t q;
		uint64_t t;

		/* Crash at every phase of the heartbeat cycle. */
		sim_run_until(s, s->now + (uint64_t)i % HB_MS);
		t = s->now;
		sim_crash(s, p);
		q = sim_wait_primary(s, p, t + 2000);
		if (q != other_agent(p))
			sim_fail(s, p, "standby did not take over");
		t = s->now - t;
		if (t > bound) {
			print_error("failover took %" PRIu64 " ms, bound %"
				    PRIu64 "\n", t, bound);
			fail();
		}
		min = t < min ? t : min;
		max = t > max ? t : max;
		sum += t;
		/* The old primary comes back as standby of the new term. */
		sim_start_node(s, p);
		sim_hold(s, q, 2000, "restarted primary disturbed the new one");
		expect_str("primary crash", "restarted node's role",
			   elect_role_name(ROLE_STANDBY),
			   elect_role_name(s->n[p].st.role));
		expect_eq("primary crash", "restarted node's term",
			  s->n[q].st.term, s->n[p].st.term);
		sim_free(s);
	}
	print_message("primary crash: failover in %" PRIu64 "..%" PRIu64
		      " ms, mean %" PRIu64 " ms over %d crash phases (bound %"
		      PRIu64 " ms)\n", min, max, sum / runs, runs, bound);
}

static void test_primary_isolated(void **state)
{
	uint64_t fence_max = 0, take_max = 0, gap_min = UINT64_MAX;

	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim *s = sim_settled(200 + seed);
		uint8_t p = sim_primary(s);
		uint8_t q = other_agent(p);
		uint64_t cut = s->now, fenced = 0;
		uint64_t term = s->n[p].st.term;

		sim_isolate(s, p, true);
		while (!elect_is_primary(&s->n[q].st, s->now)) {
			if (!fenced && s->n[p].st.role != ROLE_PRIMARY)
				fenced = s->now;
			if (s->now > cut + 2000)
				sim_fail(s, q, "no failover within 2 s");
			sim_ms(s);
		}
		if (!fenced || fenced >= s->now)
			sim_fail(s, p, "isolated primary did not fence "
				 "before the other became primary");
		fence_max = fenced - cut > fence_max ? fenced - cut : fence_max;
		gap_min = s->now - fenced < gap_min ? s->now - fenced : gap_min;
		take_max = s->now - cut > take_max ? s->now - cut : take_max;
		/* Healed, it rejoins as standby of the new term. */
		sim_run_until(s, s->now + 500);
		sim_isolate(s, p, false);
		sim_hold(s, q, 1000, "healed old primary disturbed the new");
		expect_str("primary isolated", "old primary's role",
			   elect_role_name(ROLE_STANDBY),
			   elect_role_name(s->n[p].st.role));
		expect_eq("primary isolated", "term", term + 1,
			  s->n[p].st.term);
		sim_free(s);
	}
	print_message("primary isolated: fenced itself at most %" PRIu64
		      " ms after the cut, at least %" PRIu64 " ms before the "
		      "other became primary (at most %" PRIu64 " ms after the "
		      "cut), 10 runs\n", fence_max, gap_min, take_max);
}

static void test_standby_isolated(void **state)
{
	struct sim *s = sim_settled(301);
	uint8_t p = sim_primary(s);

	sim_isolate(s, other_agent(p), true);
	sim_hold_still(s, p, 5000, "primary lost its lease");
	sim_isolate(s, other_agent(p), false);
	sim_hold_still(s, p, 1000, "primary lost its lease after the heal");
	expect_eq("standby isolated", "standby follows", p,
		  s->n[other_agent(p)].st.leader);
	sim_free(s);
}

static void test_witness_down(void **state)
{
	struct sim *s = sim_settled(401);
	uint8_t p = sim_primary(s);

	sim_crash(s, W);
	sim_hold_still(s, p, 5000,
		       "primary lost its lease with the witness down");
	sim_start_node(s, W);
	sim_hold_still(s, p, 1000,
		       "primary lost its lease as the witness came back");
	sim_free(s);
}

static void test_both_agents_restart(void **state)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim *s = sim_settled(500 + seed);
		uint64_t term = s->n[sim_primary(s)].st.term;
		uint8_t p;

		sim_crash(s, 1);
		sim_crash(s, 2);
		sim_run_until(s, s->now + sim_between(s, 1, 400));
		sim_start_node(s, 1);
		sim_run_until(s, s->now + sim_between(s, 0, 50));
		sim_start_node(s, 2);
		p = sim_wait_primary(s, 0, s->now + 1500);
		if (!p)
			sim_fail(s, 0, "no primary after both agents restart");
		if (s->n[p].st.term <= term)
			sim_fail(s, p, "new primary's term did not grow");
		sim_hold(s, p, 1000, "primary lost after restart");
		sim_free(s);
	}
}

static void test_competing_candidates(void **state)
{
	struct sim *s = sim_settled(601);
	uint8_t p = sim_primary(s);
	uint8_t q = other_agent(p);
	uint64_t term = s->n[p].st.term;
	uint8_t winner;

	/* Identical jitter everywhere: both agents' timers line up. */
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++)
		s->n[id].fixed_rand = true;
	/* The primary sends a heartbeat at its next_hb_ms and dies right
	 * after; it restarts when the standby receives that heartbeat, so
	 * its grace ends exactly when the standby's promise does. */
	sim_run_until(s, s->n[p].st.next_hb_ms);
	sim_crash(s, p);
	sim_ms(s);
	sim_start_node(s, p);
	winner = sim_wait_primary(s, 0, s->now + 1000);
	if (!winner)
		sim_fail(s, 0, "no winner");
	expect_eq("competing", "both were candidates in T+1: node 1",
		  term + 1, s->n[p].cand_term);
	expect_eq("competing", "both were candidates in T+1: node 2",
		  term + 1, s->n[q].cand_term);
	expect_eq("competing", "winner's term", term + 1,
		  s->n[winner].st.term);
	sim_hold(s, winner, 1000, "winner lost");
	expect_str("competing", "loser's role", elect_role_name(ROLE_STANDBY),
		   elect_role_name(s->n[other_agent(winner)].st.role));
	print_message("competing candidates: both asked for term %" PRIu64
		      " at the same instant; agent %u won\n", term + 1,
		      winner);
	sim_free(s);
}

static void test_standby_cut_from_primary(void **state)
{
	struct sim *s = sim_settled(701);
	uint8_t p = sim_primary(s);
	unsigned prevotes = s->sent[MSG_PREVOTE_REQ][RR_NONE];

	sim_cut(s, 1, 2, true);
	sim_hold_still(s, p, 5000,
		       "standby cut from the primary disturbed it");
	if (s->sent[MSG_PREVOTE_REQ][RR_NONE] == prevotes)
		sim_fail(s, other_agent(p), "the standby never asked");
	sim_cut(s, 1, 2, false);
	sim_hold_still(s, p, 1000, "primary lost after the heal");
	sim_free(s);
}

static void test_stale_term_messages(void **state)
{
	struct sim *s = sim_settled(801);
	uint8_t a = sim_primary(s), b = other_agent(a);
	uint64_t t;
	unsigned nacks, stale_votes;
	struct proto_msg m;

	/* Move the cluster to T: a's crash makes b primary. */
	sim_crash(s, a);
	if (sim_wait_primary(s, a, s->now + 1000) != b)
		sim_fail(s, b, "no failover");
	sim_start_node(s, a);
	sim_run_until(s, s->now + 1000);
	t = s->n[b].st.term;
	nacks = s->sent[MSG_ACK][RR_STALE_TERM];
	stale_votes = s->sent[MSG_VOTE_REPLY][RR_STALE_TERM] +
		      s->sent[MSG_PREVOTE_REPLY][RR_STALE_TERM];

	/* Old heartbeat of T-1 from a, as if from before its crash. */
	memset(&m, 0, sizeof(m));
	m.type = MSG_HEARTBEAT;
	m.sender = a;
	m.term = t - 1;
	m.sync_set = BIT(a);
	m.lease_ms = LEASE_MS;
	sim_inject(s, m, b);
	sim_inject(s, m, W);
	/* Its old vote request and a granted vote in T-1. */
	m.type = MSG_VOTE_REQ;
	m.sync_set = 0;
	m.lease_ms = 0;
	sim_inject(s, m, W);
	sim_inject(s, m, b);
	m.type = MSG_VOTE_REPLY;
	m.flags = PF_GRANTED;
	sim_inject(s, m, b);
	m.type = MSG_PREVOTE_REQ;
	m.flags = 0;
	sim_inject(s, m, W);
	/* And a witness's ack of T-1 to the current primary. */
	m.type = MSG_ACK;
	m.sender = W;
	m.flags = PF_GRANTED;
	m.hb_send_ms = s->now;
	sim_inject(s, m, b);

	sim_hold_still(s, b, 1000, "stale messages disturbed the primary");
	if (s->sent[MSG_ACK][RR_STALE_TERM] < nacks + 2)
		sim_fail(s, b, "stale heartbeats were not NACKed");
	if (s->sent[MSG_VOTE_REPLY][RR_STALE_TERM] +
	    s->sent[MSG_PREVOTE_REPLY][RR_STALE_TERM] < stale_votes + 2)
		sim_fail(s, W, "stale requests were not refused as stale");
	/* No regression anywhere. */
	expect_eq("stale", "witness term", t, s->n[W].st.term);
	expect_eq("stale", "follower term", t, s->n[a].st.term);
	expect_str("stale", "follower role", elect_role_name(ROLE_STANDBY),
		   elect_role_name(s->n[a].st.role));
	expect_eq("stale", "follower's leader", b, s->n[a].st.leader);
	expect_eq("stale", "witness promise", b, s->n[W].st.promise_to);
	sim_free(s);
}

static void test_frozen_primary_resumed(void **state)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim *s = sim_settled(900 + seed);
		uint8_t p = sim_primary(s), q = other_agent(p);
		uint64_t term = s->n[p].st.term;
		uint64_t frozen = s->now;
		uint64_t end;

		sim_freeze(s, p);
		if (sim_wait_primary(s, p, frozen + 1000) != q)
			sim_fail(s, q, "no takeover from a frozen primary");
		sim_run_until(s, frozen + 1000);
		sim_resume(s, p);
		end = s->now + 1000;
		while (s->now < end) {
			sim_ms(s);
			if (sim_serving(s, p))
				sim_fail(s, p, "resumed old primary serves");
		}
		expect_str("frozen", "first action after resume",
			   elect_act_name(ACT_FENCE),
			   elect_act_name((enum elect_act_type)
					  s->n[p].first_act_after_resume));
		expect_str("frozen", "old primary's role",
			   elect_role_name(ROLE_STANDBY),
			   elect_role_name(s->n[p].st.role));
		expect_eq("frozen", "old primary's term", term + 1,
			  s->n[p].st.term);
		expect_eq("frozen", "old primary follows", q,
			  s->n[p].st.leader);
		sim_free(s);
	}
}

static void test_witness_restart_grace(void **state)
{
	struct sim *s = sim_settled(1001);
	uint8_t p = sim_primary(s), q = other_agent(p);
	unsigned graced;
	uint64_t grace_end, restart;

	/* No jitter for the standby: its timeout ends as early as it can. */
	s->n[q].fixed_rand = true;
	/* The witness restarts just before the primary's next heartbeat,
	 * and the primary dies before sending it: the standby's promise
	 * ends ~20 ms before the witness's grace. */
	sim_run_until(s, s->n[p].st.next_hb_ms - 1);
	restart = s->now;
	sim_crash(s, W);
	sim_start_node(s, W);
	grace_end = s->n[W].st.grace_until_ms;
	sim_crash(s, p);
	graced = s->sent[MSG_PREVOTE_REPLY][RR_GRACE] +
		 s->sent[MSG_VOTE_REPLY][RR_GRACE];
	while (!elect_is_primary(&s->n[q].st, s->now)) {
		if (s->now > grace_end + 1000)
			sim_fail(s, q, "no failover after the grace");
		sim_ms(s);
	}
	if (s->now < grace_end)
		sim_fail(s, q, "elected during the witness's restart grace");
	if (s->sent[MSG_PREVOTE_REPLY][RR_GRACE] +
	    s->sent[MSG_VOTE_REPLY][RR_GRACE] == graced)
		sim_fail(s, W, "the witness was never asked during its grace");
	print_message("witness restart: its grace ended %" PRIu64 " ms "
		      "after it restarted, the standby was elected after %"
		      PRIu64 " ms\n", grace_end - restart, s->now - restart);
	sim_free(s);
}

/* Cold start: a cluster ran, then all three stopped; only agent 1 and the
 * witness come back.  `a_in_sync` picks the witness's last record. */
static void cold_start(bool a_in_sync)
{
	struct sim *s = sim_settled(1101);
	uint8_t p = sim_primary(s);
	unsigned refused;

	if (!a_in_sync) {
		/* Agent 1 dies; agent 2 (primary now or after the failover)
		 * records that only it is in sync. */
		sim_crash(s, 1);
		if (p == 1 && sim_wait_primary(s, 1, s->now + 1000) != 2)
			sim_fail(s, 2, "no failover");
		sim_run_until(s, s->now + 1000);
		expect_eq("cold start", "witness record", BIT(2),
			  s->n[W].disk_synced);
		sim_crash(s, 2);
	} else {
		expect_eq("cold start", "witness record", BIT(1) | BIT(2),
			  s->n[W].disk_synced);
		sim_crash(s, 1);
		sim_crash(s, 2);
	}
	sim_crash(s, W);
	sim_run_until(s, s->now + 2000);
	sim_start_node(s, W);
	sim_start_node(s, 1);
	refused = s->sent[MSG_PREVOTE_REPLY][RR_NOT_SYNCED];
	if (a_in_sync) {
		if (sim_wait_primary(s, 0, s->now + 5000) != 1)
			sim_fail(s, 1, "in-sync agent not promoted");
		sim_hold(s, 1, 1000, "primary lost");
	} else {
		for (uint64_t end = s->now + 5000; s->now < end;) {
			sim_ms(s);
			if (sim_primary(s))
				sim_fail(s, 1, "agent not in the witness's "
					 "record became primary");
		}
		if (s->sent[MSG_PREVOTE_REPLY][RR_NOT_SYNCED] == refused)
			sim_fail(s, W, "the witness never refused");
	}
	sim_free(s);
}

static void test_cold_start_not_synced(void **state)
{
	cold_start(false);
}

static void test_cold_start_synced(void **state)
{
	cold_start(true);
}

static void test_delayed_duplicate_step_down(void **state)
{
	struct sim *s = sim_settled(1201);
	uint8_t a = sim_primary(s), b = other_agent(a);
	struct proto_msg old;
	unsigned elections;

	/* a hands over to b in T -> T+1. */
	sim_event(s, a, EV_SWITCHOVER, false);
	if (sim_wait_primary(s, a, s->now + 200) != b)
		sim_fail(s, b, "switchover failed");
	assert_true(s->has_step_down);
	old = s->step_down;
	sim_run_until(s, s->now + 500);

	/* A late copy of a's STEP_DOWN(T): releases nothing. */
	elections = s->elections;
	sim_inject(s, old, W);
	sim_inject(s, old, b);
	sim_run_until(s, s->now + 2);
	if (s->n[W].st.promise_to != b ||
	    s->n[W].st.promise_until_ms <= s->now)
		sim_fail(s, W, "a late STEP_DOWN released the promise to b");
	sim_hold_still(s, b, 1000, "late STEP_DOWN disturbed the primary");

	/* Back to a in T+2, and the same old STEP_DOWN(T) again. */
	sim_event(s, b, EV_SWITCHOVER, false);
	if (sim_wait_primary(s, b, s->now + 200) != a)
		sim_fail(s, a, "switchover back failed");
	sim_run_until(s, s->now + 500);
	sim_inject(s, old, W);
	sim_inject(s, old, b);
	sim_run_until(s, s->now + 2);
	if (s->n[W].st.promise_to != a ||
	    s->n[W].st.promise_until_ms <= s->now)
		sim_fail(s, W, "STEP_DOWN(T) released a's promise in T+2");
	sim_hold_still(s, a, 1000, "late STEP_DOWN disturbed the primary");
	expect_eq("late step-down", "elections", elections + 1, s->elections);
	sim_free(s);
}

/* A failover to agent q; the returned sim has p restarted and following. */
static struct sim *failover_to_other(uint64_t seed, uint8_t *p, uint8_t *q)
{
	struct sim *s = sim_settled(seed);

	*p = sim_primary(s);
	*q = other_agent(*p);
	sim_crash(s, *p);
	if (sim_wait_primary(s, *p, s->now + 1000) != *q)
		sim_fail(s, *q, "no failover");
	sim_start_node(s, *p);
	sim_run_until(s, s->now + 1000);
	return s;
}

static void test_failover_hold_down(void **state)
{
	uint8_t p, q;
	struct sim *s = failover_to_other(1301, &p, &q);
	uint64_t elected = s->n[q].primary_since;
	uint64_t t;

	/* Within the hold-down a failing check does not move the primary. */
	sim_event(s, q, EV_HEALTH, false);
	if (!s->hold_down_notes)
		sim_fail(s, q, "no hold_down note");
	sim_hold_still(s, q, elected + HOLD_DOWN_MS - 1 - s->now,
		       "unhealthy new primary stepped down within the "
		       "hold-down");
	/* When the hold-down is over it hands over, without a lease wait. */
	t = s->now;
	if (sim_wait_primary(s, q, t + 1000) != p)
		sim_fail(s, p, "no hand-over after the hold-down");
	print_message("hold-down: unhealthy primary handed over %" PRIu64
		      " ms after the hold-down ended\n", s->now - t);
	if (s->now - t > 50)
		sim_fail(s, p, "hand-over after the hold-down was slow");
	sim_free(s);

	/* Its real death still fails over, hold-down or not. */
	s = failover_to_other(1302, &p, &q);
	sim_event(s, q, EV_HEALTH, false);
	sim_run_until(s, s->now + 1000);
	sim_crash(s, q);
	t = s->now;
	if (sim_wait_primary(s, q, t + 1000) != p)
		sim_fail(s, p, "crash within the hold-down did not fail over");
	print_message("hold-down: crash of the new primary failed over in %"
		      PRIu64 " ms\n", s->now - t);
	sim_free(s);
}

static void test_planned_switchover(void **state)
{
	uint64_t max = 0;

	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim *s = sim_settled(1400 + seed);
		uint8_t p = sim_primary(s), q = other_agent(p);
		uint64_t t = s->now;

		sim_event(s, p, EV_SWITCHOVER, false);
		if (sim_wait_primary(s, p, t + LEASE_MS / 4) != q)
			sim_fail(s, q, "switchover took over a quarter lease");
		max = s->now - t > max ? s->now - t : max;
		sim_hold(s, q, 1000, "switchover target lost the role");
		expect_str("switchover", "old primary",
			   elect_role_name(ROLE_STANDBY),
			   elect_role_name(s->n[p].st.role));
		sim_free(s);
	}
	print_message("planned switchover: new primary within %" PRIu64
		      " ms (10 runs)\n", max);
}

/* A candidate stalls (SIGSTOP) right after asking for votes; the other
 * agent is elected in a later term; then the stalled one resumes and
 * reads the old grant first.  It must not promote: its round's lease is
 * long over and the other node holds the VIP. */
static void test_stalled_candidate_resumed(void **state)
{
	struct sim *s = sim_settled(1501);
	uint8_t p = sim_primary(s), q = other_agent(p);

	sim_crash(s, p);
	while (s->n[q].st.role != ROLE_CANDIDATE) {
		if (s->now > 100000)
			sim_fail(s, q, "never became a candidate");
		sim_ms(s);
	}
	sim_freeze(s, q);
	/* The grant is the first thing waiting for it. */
	sim_run_until(s, s->now + 5);
	sim_start_node(s, p);
	if (sim_wait_primary(s, 0, s->now + 2000) != p)
		sim_fail(s, p, "no primary while the candidate is stalled");
	sim_run_until(s, s->now + 300);
	sim_resume(s, q);
	sim_hold(s, p, 1000, "stalled candidate disturbed the primary");
	expect_str("stalled candidate", "role", elect_role_name(ROLE_STANDBY),
		   elect_role_name(s->n[q].st.role));
	expect_eq("stalled candidate", "follows", p, s->n[q].st.leader);
	sim_free(s);
}

/* ---- randomized stress ---- */

enum {
	STRESS_RUNS = 200,
	STRESS_MS = 10000,
	STRESS_HEAL_MS = 8000,	/* faults stop here ... */
	STRESS_LIVE_MS = 2000,	/* ... and a primary exists this soon */
	STRESS_FAULTS = 16,
};

struct fault {
	uint64_t until;		/* 0: slot free */
	int kind;
	uint8_t a, b;
};

enum {
	F_CRASH,	/* kill -9, restart at the end */
	F_FREEZE,	/* SIGSTOP, SIGCONT at the end */
	F_CUT,		/* one direction of one link */
	F_ISOLATE,	/* both directions of all a node's links */
	F_LOSSY,	/* 10 % loss, 5 % duplication everywhere */
	F_UNHEALTHY,	/* a node's checks fail */
	F_SWITCHOVER,	/* the operator asks the primary to hand over */
	F_KINDS
};

static void fault_end(struct sim *s, struct fault *f)
{
	switch (f->kind) {
	case F_CRASH:
		if (!s->n[f->a].up)
			sim_start_node(s, f->a);
		break;
	case F_FREEZE:
		if (s->n[f->a].up && s->n[f->a].frozen)
			sim_resume(s, f->a);
		break;
	case F_CUT:
		s->cut[f->a][f->b] = false;
		break;
	case F_ISOLATE:
		sim_isolate(s, f->a, false);
		break;
	case F_LOSSY:
		s->loss_pct = 0;
		s->dup_pct = 0;
		break;
	case F_UNHEALTHY:
		if (s->n[f->a].up && f->a != W)
			sim_event(s, f->a, EV_HEALTH, true);
		break;
	default:
		break;
	}
	f->until = 0;
}

static void fault_start(struct sim *s, struct fault *f)
{
	f->kind = (int)sim_between(s, 0, F_KINDS - 1);
	f->a = (uint8_t)sim_between(s, 1, PROTO_MAX_NODE);
	f->b = (uint8_t)sim_between(s, 1, PROTO_MAX_NODE - 1);
	if (f->b >= f->a)
		f->b++;
	f->until = s->now + sim_between(s, 20, 1500);
	switch (f->kind) {
	case F_CRASH:
		if (s->n[f->a].up)
			sim_crash(s, f->a);
		break;
	case F_FREEZE:
		if (s->n[f->a].up)
			sim_freeze(s, f->a);
		break;
	case F_CUT:
		s->cut[f->a][f->b] = true;
		break;
	case F_ISOLATE:
		sim_isolate(s, f->a, true);
		break;
	case F_LOSSY:
		s->loss_pct = 10;
		s->dup_pct = 5;
		break;
	case F_UNHEALTHY:
		if (s->n[f->a].up && !s->n[f->a].frozen && f->a != W)
			sim_event(s, f->a, EV_HEALTH, false);
		break;
	default:
		for (uint8_t id = 1; id <= 2; id++)
			if (s->n[id].up && !s->n[id].frozen &&
			    s->n[id].st.role == ROLE_PRIMARY)
				sim_event(s, id, EV_SWITCHOVER, false);
		break;
	}
}

static void stress_run(uint64_t seed, uint64_t *worst_live,
		       unsigned *elections)
{
	struct sim *s = sim_new(seed);
	struct fault f[STRESS_FAULTS];
	uint64_t live;

	memset(f, 0, sizeof(f));
	s->delay_spread_ms = 2;
	while (s->now < STRESS_HEAL_MS) {
		sim_ms(s);
		for (int i = 0; i < STRESS_FAULTS; i++)
			if (f[i].until && s->now >= f[i].until)
				fault_end(s, &f[i]);
		if (sim_chance(s, 1)) {
			for (int i = 0; i < STRESS_FAULTS; i++) {
				if (!f[i].until) {
					fault_start(s, &f[i]);
					break;
				}
			}
		}
	}
	for (int i = 0; i < STRESS_FAULTS; i++)
		if (f[i].until)
			fault_end(s, &f[i]);
	sim_heal(s);
	for (uint8_t id = 1; id <= PROTO_MAX_NODE; id++) {
		if (!s->n[id].up)
			sim_start_node(s, id);
		else if (s->n[id].frozen)
			sim_resume(s, id);
		if (id != W && !s->n[id].st.healthy)
			sim_event(s, id, EV_HEALTH, true);
	}
	if (!sim_wait_primary(s, 0, STRESS_HEAL_MS + STRESS_LIVE_MS)) {
		print_error("seed %" PRIu64 ": no primary %d ms after the "
			    "faults healed\n", seed, STRESS_LIVE_MS);
		sim_fail(s, 0, "no liveness");
	}
	live = s->now - STRESS_HEAL_MS;
	*worst_live = live > *worst_live ? live : *worst_live;
	sim_run_until(s, STRESS_MS);
	if (!sim_primary(s))
		sim_fail(s, 0, "no primary at the end of the run");
	*elections += s->elections;
	sim_free(s);
}

static void test_stress(void **state)
{
	uint64_t worst = 0;
	unsigned elections = 0;

	for (uint64_t i = 0; i < STRESS_RUNS; i++)
		stress_run(0x5eed0000u + i * 7919u, &worst, &elections);
	print_message("stress: %d runs x %d ms, %u elections, a primary at "
		      "most %" PRIu64 " ms after the faults healed\n",
		      STRESS_RUNS, STRESS_MS, elections, worst);
}

/* ---- data positions and sync mode ---------------------------------- */

static int count_act(const struct elect_actions *out, enum elect_act_type t,
		     int flag)
{
	int n = 0;

	for (int i = 0; i < out->n; i++)
		if (out->a[i].type == t && (flag < 0 || out->a[i].flag == flag))
			n++;
	return n;
}

static const struct elect_action *find_send(const struct elect_actions *out,
					    uint8_t to, uint8_t type)
{
	for (int i = 0; i < out->n; i++)
		if (out->a[i].type == ACT_SEND && out->a[i].to == to &&
		    out->a[i].msg.type == type)
			return &out->a[i];
	return NULL;
}

/* Sync mode: the standby's link goes down.  The write guard stays on
 * until the witness has acked a heartbeat that left the standby out of
 * the sync set; only then ACT_SYNC(false). */
static void test_sync_relaxed_only_after_witness_record(void **state)
{
	struct elect cur, next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_TICK };
	const struct elect_action *hb;

	primary_a(&cur);
	cur.conf.sync_mode = true;
	cur.sync_required = true;
	cur.has_position = true;
	cur.position = 1000;
	cur.peer_in_sync = false; /* its last ACK said link down */
	elect_step(&cur, &ev, T0 + HB_MS, &next, &out);
	hb = find_send(&out, W, MSG_HEARTBEAT);
	assert_non_null(hb);
	assert_int_equal(hb->msg.sync_set, BIT(1));
	assert_int_equal(count_act(&out, ACT_SYNC, -1), 0);
	assert_int_equal(next.relax_from_ms, T0 + HB_MS);

	/* An ack of an older heartbeat (sent with the peer in) relaxes
	 * nothing. */
	cur = next;
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_RECV;
	ev.msg.type = MSG_ACK;
	ev.msg.sender = W;
	ev.msg.term = 5;
	ev.msg.flags = PF_GRANTED;
	ev.msg.hb_send_ms = T0;
	elect_step(&cur, &ev, T0 + HB_MS + 1, &next, &out);
	assert_int_equal(count_act(&out, ACT_SYNC, -1), 0);
	assert_true(next.sync_required);

	/* The witness acks the peerless heartbeat: relax. */
	cur = next;
	ev.msg.hb_send_ms = T0 + HB_MS;
	elect_step(&cur, &ev, T0 + HB_MS + 2, &next, &out);
	assert_int_equal(count_act(&out, ACT_SYNC, 0), 1);
	assert_false(next.sync_required);

	/* The standby catches up (ACK in sync): the guard is back at the
	 * next heartbeat. */
	cur = next;
	ev.msg.sender = 2;
	ev.msg.flags = PF_GRANTED | PF_IN_SYNC | PF_HAS_POSITION;
	ev.msg.position = 990;
	elect_step(&cur, &ev, T0 + HB_MS + 3, &next, &out);
	cur = next;
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_TICK;
	elect_step(&cur, &ev, T0 + 2 * HB_MS, &next, &out);
	assert_int_equal(count_act(&out, ACT_SYNC, 1), 1);
	hb = find_send(&out, W, MSG_HEARTBEAT);
	assert_non_null(hb);
	assert_int_equal(hb->msg.sync_set, BIT(1) | BIT(2));
	/* The committed position is what the standby confirmed. */
	assert_int_equal(hb->msg.position, 990);
	assert_int_equal(hb->msg.flags & (PF_HAS_POSITION | PF_ASYNC),
			 PF_HAS_POSITION);
}

/* A new primary starts with the write guard on (ACT_SYNC before
 * ACT_PROMOTE), whatever it had before. */
static void test_sync_guard_on_at_promotion(void **state)
{
	struct elect cur, next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_RECV };
	int sync_at = -1, promote_at = -1;

	base(&cur, 2);
	cur.conf.sync_mode = true;
	cur.role = ROLE_CANDIDATE;
	cur.term = 6;
	cur.voted_for = 2;
	cur.round_ms = T0;
	cur.round_deadline_ms = T0 + 50;
	ev.msg.type = MSG_VOTE_REPLY;
	ev.msg.sender = W;
	ev.msg.term = 6;
	ev.msg.flags = PF_GRANTED;
	elect_step(&cur, &ev, T0 + 2, &next, &out);
	assert_int_equal(next.role, ROLE_PRIMARY);
	for (int i = 0; i < out.n; i++) {
		if (out.a[i].type == ACT_SYNC && out.a[i].flag)
			sync_at = i;
		if (out.a[i].type == ACT_PROMOTE)
			promote_at = i;
	}
	assert_true(sync_at >= 0);
	assert_true(promote_at > sync_at);
}

/* Async mode: a standby further behind the primary's last position than
 * max_lag_on_failover does not campaign; within it, it does. */
static void test_async_lag_blocks_campaign(void **state)
{
	struct elect cur, next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_TICK };

	standby_b(&cur);
	cur.conf.lag_bound = true;
	cur.conf.max_lag = 100;
	cur.has_position = true;
	cur.position = 800;
	cur.has_primary_pos = true;
	cur.primary_pos = 1000;
	assert_true(elect_too_far_behind(&cur));
	elect_step(&cur, &ev, T0 + PROMISE + 1, &next, &out);
	assert_int_equal(next.role, ROLE_STANDBY);
	assert_null(find_send(&out, W, MSG_PREVOTE_REQ));

	cur.position = 950;
	assert_false(elect_too_far_behind(&cur));
	elect_step(&cur, &ev, T0 + PROMISE + 1, &next, &out);
	assert_int_equal(next.role, ROLE_PRECANDIDATE);
	assert_non_null(find_send(&out, W, MSG_PREVOTE_REQ));
}

/* Async mode, amount bound 0 (max_lag_on_failover = 0): only a fully
 * caught-up standby campaigns; without a bound any lag is allowed. */
static void test_async_lag_zero_means_caught_up(void **state)
{
	struct elect cur;

	(void)state;
	standby_b(&cur);
	cur.has_position = true;
	cur.position = 999;
	cur.has_primary_pos = true;
	cur.primary_pos = 1000;
	assert_false(elect_too_far_behind(&cur)); /* no bound: any lag */
	cur.conf.lag_bound = true;
	cur.conf.max_lag = 0;
	assert_true(elect_too_far_behind(&cur));
	cur.position = 1000;
	assert_false(elect_too_far_behind(&cur));
	cur.has_position = false; /* own position unknown: behind */
	assert_true(elect_too_far_behind(&cur));
}

/* One async heartbeat of primary A in term 5 carrying `pos`. */
static void async_hb(struct elect *cur, uint64_t pos, uint64_t now)
{
	struct elect next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_RECV };

	ev.msg.type = MSG_HEARTBEAT;
	ev.msg.sender = 1;
	ev.msg.term = 5;
	ev.msg.flags = PF_HAS_POSITION | PF_ASYNC;
	ev.msg.position = pos;
	elect_step(cur, &ev, now, &next, &out);
	*cur = next;
}

static void own_pos(struct elect *cur, uint64_t pos, uint64_t now)
{
	struct elect next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_POSITION, .has_position = true,
				  .position = pos, .flag = true };

	elect_step(cur, &ev, now, &next, &out);
	*cur = next;
}

/* Async mode, time bound (max_lag_on_failover = 1s): the lag is how long
 * before the primary's last heartbeat it wrote what the standby still
 * lacks.  A standby a few writes behind a busy primary stays within it;
 * one cut off while the primary keeps writing passes it; an idle primary
 * never makes a standby lag; a new term starts a new history. */
static void test_async_lag_time_bound(void **state)
{
	struct elect cur;
	uint64_t t = T0;

	(void)state;
	standby_b(&cur);
	cur.conf.max_lag_ms = 1000;
	cur.healthy = true;
	assert_false(elect_too_far_behind(&cur)); /* no primary position */
	own_pos(&cur, 0, t);
	/* Busy primary, the standby always 5 writes behind the newest
	 * heartbeat: 10 ms behind in time, never "equal". */
	for (int i = 0; i < 100; i++, t += HB_MS) {
		async_hb(&cur, 100 + 10 * (uint64_t)i, t);
		own_pos(&cur, 95 + 10 * (uint64_t)i, t + 1);
	}
	assert_true(elect_lag_ms(&cur) <= 2 * HB_MS);
	assert_false(elect_too_far_behind(&cur));

	/* Replication cut at position 1085: the primary writes on. */
	for (int i = 100; i < 180; i++, t += HB_MS)
		async_hb(&cur, 100 + 10 * (uint64_t)i, t);
	assert_true(elect_lag_ms(&cur) > 1000);
	assert_true(elect_too_far_behind(&cur));
	{
		struct elect next;
		struct elect_actions out;
		struct elect_event tick = { .type = EV_TICK };

		elect_step(&cur, &tick, t + PROMISE + 1, &next, &out);
		assert_int_equal(next.role, ROLE_STANDBY);
		assert_null(find_send(&out, W, MSG_PREVOTE_REQ));
	}

	/* It catches up with everything the primary reported: lag 0. */
	own_pos(&cur, 100 + 10 * 179, t);
	assert_int_equal(elect_lag_ms(&cur), 0);
	assert_false(elect_too_far_behind(&cur));

	/* An idle primary: same position for 5 s, no lag. */
	for (int i = 0; i < 250; i++, t += HB_MS)
		async_hb(&cur, 100 + 10 * 179, t);
	assert_int_equal(elect_lag_ms(&cur), 0);

	/* A standby restarted behind a primary of a newer term has never
	 * caught up in that term: unknown lag, no campaign. */
	standby_b(&cur);
	cur.conf.max_lag_ms = 1000;
	cur.term = 5;
	own_pos(&cur, 10, t);
	async_hb(&cur, 500, t);
	assert_int_equal(elect_lag_ms(&cur), UINT64_MAX);
	assert_true(elect_too_far_behind(&cur));
	own_pos(&cur, 500, t + 5);
	assert_false(elect_too_far_behind(&cur));
}

/* A standby re-points its data at a new primary once (ACT_FOLLOW), and
 * acks in sync only when its own link is up. */
static void test_follow_new_primary(void **state)
{
	struct elect cur, next;
	struct elect_actions out;
	struct elect_event ev = { .type = EV_RECV };
	const struct elect_action *ack;

	standby_b_term7(&cur);
	cur.following = 1;
	cur.in_sync = false;
	ev.msg.type = MSG_HEARTBEAT;
	ev.msg.sender = 1;
	ev.msg.term = 8;
	elect_step(&cur, &ev, T0 + 10, &next, &out);
	assert_int_equal(count_act(&out, ACT_FOLLOW, -1), 0); /* same one */
	ack = find_send(&out, 1, MSG_ACK);
	assert_non_null(ack);
	assert_int_equal(ack->msg.flags & PF_IN_SYNC, 0);

	cur.following = 0; /* after a fence or a start */
	cur.in_sync = true;
	elect_step(&cur, &ev, T0 + 10, &next, &out);
	assert_int_equal(count_act(&out, ACT_FOLLOW, -1), 1);
	assert_int_equal(next.following, 1);
	ack = find_send(&out, 1, MSG_ACK);
	assert_non_null(ack);
	assert_int_equal(ack->msg.flags & PF_IN_SYNC, PF_IN_SYNC);
}


/* ---- planned switchover and pause (table-free, single steps) ---- */

static void step1(struct elect *cur, struct elect_event *ev, uint64_t now,
		  struct elect_actions *out)
{
	struct elect next;

	elect_step(cur, ev, now, &next, out);
	expect_no_violation("step1", &next, now);
	*cur = next;
}

static void ack_from_b(struct elect *st, uint64_t now, uint64_t pos,
		       struct elect_actions *out)
{
	struct elect_event ev = { RECV(MSG_ACK, 2, 5) };

	ev.msg.flags = PF_GRANTED | PF_HAS_POSITION | PF_IN_SYNC;
	ev.msg.position = pos;
	ev.msg.hb_send_ms = now;
	step1(st, &ev, now, out);
}

/* A switchover stops writes, waits until the standby reports exactly
 * the final position, and only then hands over with STEP_DOWN. */
static void test_switchover_waits_for_position(void **state)
{
	struct elect st;
	struct elect_actions out;
	struct elect_event sw = { .type = EV_SWITCHOVER, .flag = true };
	struct elect_event pos = { .type = EV_POSITION, .has_position = true,
				   .position = 1000, .flag = false };
	struct elect_event q = { .type = EV_QUIESCED };
	const struct elect_action *a;

	primary_a(&st);
	st.conf.switchover_timeout_ms = 500;
	st.has_position = true;
	st.position = 990;
	st.peer_in_sync = true;
	st.peer_has_position = true;
	st.peer_position = 990;
	step1(&st, &sw, T0 + 1, &out);
	assert_int_equal(count_act(&out, ACT_QUIESCE, -1), 1);
	assert_int_equal(count_act(&out, ACT_FENCE, -1), 0);
	assert_true(st.switching);
	/* Heartbeats go out at once and ten times as often, flagged. */
	a = find_send(&out, 2, MSG_HEARTBEAT);
	assert_non_null(a);
	assert_int_equal(a->msg.flags & PF_SWITCHOVER, PF_SWITCHOVER);
	assert_int_equal(st.next_hb_ms, T0 + 1 + HB_MS / 10);

	/* A write landed before the pause took effect: final is 1000. */
	step1(&st, &pos, T0 + 2, &out);
	step1(&st, &q, T0 + 2, &out);
	assert_true(st.quiesced);
	assert_int_equal(st.switch_pos, 1000);
	ack_from_b(&st, T0 + 3, 995, &out);
	assert_int_equal(st.role, ROLE_PRIMARY);
	assert_null(find_send(&out, 2, MSG_STEP_DOWN));

	ack_from_b(&st, T0 + 5, 1000, &out);
	assert_int_equal(st.role, ROLE_STANDBY);
	assert_int_equal(count_act(&out, ACT_FENCE, -1), 1);
	a = find_send(&out, 2, MSG_STEP_DOWN);
	assert_non_null(a);
	assert_int_equal(a->msg.flags & PF_SWITCHOVER, PF_SWITCHOVER);
	assert_int_equal(a->msg.position, 1000);
	assert_false(st.switching);
}

/* The standby does not catch up in time: writes resume, we stay. */
static void test_switchover_aborts_at_timeout(void **state)
{
	struct elect st;
	struct elect_actions out;
	struct elect_event sw = { .type = EV_SWITCHOVER, .flag = true };
	struct elect_event q = { .type = EV_QUIESCED };
	struct elect_event tick = { .type = EV_TICK };

	primary_a(&st);
	st.conf.switchover_timeout_ms = 50;
	st.has_position = true;
	st.position = 1000;
	st.peer_in_sync = true;
	step1(&st, &sw, T0 + 1, &out);
	step1(&st, &q, T0 + 2, &out);
	for (uint64_t t = T0 + 3; t < T0 + 51; t += 2) {
		ack_from_b(&st, t, 900, &out);
		assert_int_equal(count_act(&out, ACT_UNQUIESCE, -1), 0);
	}
	assert_true(st.switching);
	assert_true(st.next_hb_ms <= T0 + 51 || st.switch_until_ms == T0 + 51);
	step1(&st, &tick, T0 + 51, &out);
	assert_int_equal(count_act(&out, ACT_UNQUIESCE, -1), 1);
	assert_int_equal(count_act(&out, ACT_FENCE, -1), 0);
	assert_int_equal(st.role, ROLE_PRIMARY);
	assert_false(st.switching);
	assert_null(find_send(&out, 2, MSG_STEP_DOWN));
	/* A late ACK with the position changes nothing now. */
	ack_from_b(&st, T0 + 52, 1000, &out);
	assert_int_equal(st.role, ROLE_PRIMARY);
}

/* Not while paused: the paused standby would not take over. */
static void test_switchover_refused_while_paused(void **state)
{
	struct elect st;
	struct elect_actions out;
	struct elect_event sw = { .type = EV_SWITCHOVER, .flag = true };

	primary_a(&st);
	st.paused = true;
	step1(&st, &sw, T0 + 1, &out);
	assert_false(st.switching);
	assert_int_equal(count_act(&out, ACT_QUIESCE, -1), 0);
}

static void sim_pause(struct sim *s, uint8_t id, bool on, uint64_t gen)
{
	struct elect_event ev = { .type = EV_PAUSE, .flag = on, .gen = gen };

	sim_step(s, id, &ev);
}

/* The whole planned switchover in the simulator, with the quiesce the
 * agent reports back. */
static void test_planned_switchover_quiesced(void **state)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct sim *s = sim_settled(1600 + seed);
		uint8_t p = sim_primary(s), q = other_agent(p);
		uint64_t t = s->now;

		sim_event(s, p, EV_SWITCHOVER, true);
		if (!s->n[p].st.switching)
			sim_fail(s, p, "switchover did not start");
		sim_run_until(s, s->now + 3);
		sim_event(s, p, EV_QUIESCED, false);
		if (sim_wait_primary(s, p, t + LEASE_MS / 2) != q)
			sim_fail(s, q, "quiesced switchover took half a lease");
		sim_hold(s, q, 500, "switchover target lost the role");
		sim_free(s);
	}
}

/* Pause is cluster-wide: set on one agent it reaches the other in its
 * next HELLO; then the standby never takes over, while a primary that
 * merely restarted gets its role back; resume on the other agent wins
 * by its newer generation. */
static void test_pause_cluster_wide(void **state)
{
	struct sim *s = sim_settled(1700);
	uint8_t p = sim_primary(s), q = other_agent(p);
	uint64_t t;

	sim_pause(s, p, true, 1000);
	sim_run_until(s, s->now + 3 * HB_MS);
	if (!s->n[q].st.paused || s->n[q].st.pause_gen != 1000)
		sim_fail(s, q, "pause did not reach the standby");
	/* An older generation from anywhere changes nothing. */
	sim_pause(s, q, false, 999);
	if (!s->n[q].st.paused)
		sim_fail(s, q, "an older resume overrode the pause");

	sim_crash(s, p);
	t = s->now;
	sim_run_until(s, t + 10 * LEASE_MS);
	if (sim_primary(s))
		sim_fail(s, q, "the paused standby took over");
	/* The old primary comes back (the disk of the sim has no pause
	 * record: give it the agent's one) and leads again. */
	sim_start_node(s, p);
	s->n[p].st.paused = true;
	s->n[p].st.pause_gen = 1000;
	if (sim_wait_primary(s, 0, s->now + 10 * LEASE_MS) != p)
		sim_fail(s, p, "the restarted primary did not lead again "
			 "while paused");
	sim_pause(s, q, false, 2000);
	sim_run_until(s, s->now + 3 * HB_MS);
	if (s->n[p].st.paused)
		sim_fail(s, p, "resume did not reach the primary");
	sim_crash(s, p);
	if (sim_wait_primary(s, p, s->now + 10 * LEASE_MS) != q)
		sim_fail(s, q, "no failover after resume");
	sim_free(s);
}

/* A paused primary whose checks fail does not hand over. */
static void test_pause_no_unhealthy_handover(void **state)
{
	struct sim *s = sim_settled(1800);
	uint8_t p = sim_primary(s);

	sim_pause(s, p, true, 5);
	sim_run_until(s, s->now + 3 * HB_MS);
	sim_event(s, p, EV_HEALTH, false);
	sim_hold_still(s, p, 5 * LEASE_MS, "a paused unhealthy primary "
		       "handed over");
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_arithmetic),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_clean_start),
		cmocka_unit_test(test_primary_crash),
		cmocka_unit_test(test_primary_isolated),
		cmocka_unit_test(test_standby_isolated),
		cmocka_unit_test(test_witness_down),
		cmocka_unit_test(test_both_agents_restart),
		cmocka_unit_test(test_competing_candidates),
		cmocka_unit_test(test_standby_cut_from_primary),
		cmocka_unit_test(test_stale_term_messages),
		cmocka_unit_test(test_frozen_primary_resumed),
		cmocka_unit_test(test_witness_restart_grace),
		cmocka_unit_test(test_cold_start_not_synced),
		cmocka_unit_test(test_cold_start_synced),
		cmocka_unit_test(test_delayed_duplicate_step_down),
		cmocka_unit_test(test_failover_hold_down),
		cmocka_unit_test(test_planned_switchover),
		cmocka_unit_test(test_stalled_candidate_resumed),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_sync_relaxed_only_after_witness_record),
		cmocka_unit_test(test_sync_guard_on_at_promotion),
		cmocka_unit_test(test_async_lag_blocks_campaign),
		cmocka_unit_test(test_async_lag_zero_means_caught_up),
		cmocka_unit_test(test_async_lag_time_bound),
		cmocka_unit_test(test_follow_new_primary),
		cmocka_unit_test(test_switchover_waits_for_position),
		cmocka_unit_test(test_switchover_aborts_at_timeout),
		cmocka_unit_test(test_switchover_refused_while_paused),
		cmocka_unit_test(test_planned_switchover_quiesced),
		cmocka_unit_test(test_pause_cluster_wide),
		cmocka_unit_test(test_pause_no_unhealthy_handover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
