/*
 * hapair.pml - Promela model of hapair's election and lease protocol
 * (src/elect.c, DESIGN.md "Safety"), checked with spin by model/run.
 *
 * Three voters: agents 1 and 2, witness 3.  Majority is two, so a
 * candidate (or primary) needs its own vote plus ONE other.  Each
 * voter's elect_step() is one d_step: it reads one message or does one
 * timer-driven thing, at one instant, with persist-before-send for free
 * (a crash between the persist and the send is the same as the send
 * being lost, which the network does anyway).
 *
 * What the model keeps, named after elect.c:
 *   - expire_lease() first in every step of a node;
 *   - adopt_term() for every message that is not a request;
 *   - vote_decision(): no vote as primary, stale term, one vote per
 *     term (persisted), restart grace, live promise to someone else;
 *   - on_vote_req(): a grant raises the term, persists the vote and
 *     promises L(1+d); a refusal changes nothing (never raises a term);
 *   - on_heartbeat(): stale -> term notice; same-term primary yields by
 *     id; a second leader in one term is ignored; else promise + ACK;
 *   - on_ack(): lease = max(lease, hb send time + L(1-d)), same term and
 *     still primary only;
 *   - become_primary(): lease counted from round_ms (when the votes were
 *     asked), and a grant read after that lease ended is refused;
 *   - step_down(): fence, then STEP_DOWN(T); on_step_down() releases only
 *     the promise made to that sender in that term;
 *   - on_start(): restart grace of L(1+d), VIP/resources removed;
 *   - the guard: a crashed primary still holds the VIP until its lease
 *     ends (that is what the guard waits for before fencing).
 *
 * Time.  One global clock of integer ticks; every deadline is stored as
 * "ticks left" and Tick counts them all down at once (so the state space
 * stays finite).  Clock drift is folded into the two lengths:
 *   LT = the longest real time P's lease L(1-d), run on P's clock, can
 *        last;
 *   PT = the shortest real time a promise L(1+d), run on a voter's clock,
 *        can last.
 * With clock rates within 1 +- d of real time both are L (L(1-d)/(1-d)
 * and L(1+d)/(1+d)), so LT = PT = L.  P's lease counts from the SEND
 * time of the acked heartbeat (the message carries its remaining lease
 * and Tick ages it in flight); a promise counts from RECEIPT.  A node
 * that is stopped or slow simply takes no step while ticks go on.
 * -DBUG_PROMISE_EQUALS_LEASE models both sides using plain L on clocks
 * that drift: lease up to L/(1-d) -> LT = L+1 (rounded up), promise
 * down to L/(1+d) -> PT = L (the gentlest rounding that still shows the
 * bug).  Events happen on ticks; rounding the lease up and the promise
 * down keeps the digitisation on the unsafe side (no digitisation proof
 * that integer ticks lose no continuous-time interleaving).
 *
 * Network.  A set of at most K messages in flight, kept sorted so that
 * equal sets are equal states.  Any message in flight may be delivered
 * next (reordering); delivery takes it out or leaves it in flight to be
 * delivered again (duplication); Lose removes any message at any time
 * (loss).  A send into a full network is lost; a broadcast may send in
 * either order, so either copy can be the one lost.  Messages that can
 * have no effect any more are removed at once (gc(): same as a loss).
 *
 * Abstractions (each one adds behaviours or is named as a bound):
 *   - Timers that only delay a node (election_at with jitter, heartbeat
 *     interval, hello, pre-vote retry, round deadline) are free choices:
 *     a node may do them at any time the code's other conditions allow.
 *   - Data positions, the witness's sync record, health, pause and the
 *     hold-down only ever REFUSE a vote or a campaign; the model leaves
 *     them out, so it has every behaviour the code has and more.
 *     (Invariant 2 of DESIGN.md, no acknowledged write lost, is not
 *     covered here.)
 *   - HELLO carries no election state the model needs (priorities only
 *     shape timing) and is left out.
 *   - Message fields elect.c never reads for the checked rules are zero
 *     (the sender of an ACK or of a term notice), so equal messages
 *     merge.  A refused reply or stale ACK is a "term notice" TN(term);
 *     one that cannot raise the receiver's term (terms only grow) is not
 *     sent.
 *   - Bounds: terms up to MT (no campaign beyond it), at most K
 *     messages in flight, at most MAXCRASH crashes (any node, any
 *     moment) per run, lease L ticks.
 *
 * Mutants (spin -DNAME): each removes one rule and must fail.
 *   BUG_NO_GRACE              restarted voter votes at once
 *   BUG_PROMISE_EQUALS_LEASE  promise L, lease L: drift eats the margin
 *   BUG_STEP_DOWN_ANY_TERM    STEP_DOWN releases any promise to sender
 *   BUG_LEASE_FROM_ELECTED    lease counted from election, not round_ms
 *   BUG_VOTE_NOT_PERSISTED    restart forgets voted_for
 *   BUG_TERM_NOT_PERSISTED    restart forgets term and vote
 */

#ifndef MT
#define MT	3		/* highest term explored */
#endif
#ifndef K
#define K	4		/* messages in flight at most, 2..6 */
#endif
#if K < 2 || K > 6
#error "K must be 2..6"
#endif
#ifndef MAXCRASH
#define MAXCRASH 2		/* crashes in one run at most */
#endif
#ifndef L
#define L	2		/* lease length in ticks */
#endif

#ifdef BUG_PROMISE_EQUALS_LEASE
#define LT	(L + 1)
#define PT	L
#else
#define LT	L
#define PT	L
#endif

#ifdef BUG_NO_GRACE
#define GRACE	0
#else
#define GRACE	PT
#endif

#define W	3		/* the witness's id */

/* roles (elect.h enum elect_role, plus DOWN: process not running) */
#define STANDBY	0
#define PRECAND	1
#define CAND	2
#define PRIMARY	3
#define WITNESS	4
#define DOWN	5

/* message types */
#define HB	1	/* HEARTBEAT(T), rem = lease left from its send time */
#define ACK	2	/* granted ACK(T) of a heartbeat, rem copied from it */
#define TN	3	/* term notice: refused reply or stale ACK */
#define PVQ	4	/* PREVOTE_REQ(T + 1) */
#define PVG	5	/* granted PREVOTE_REPLY, voter's term */
#define VQ	6	/* VOTE_REQ(T) */
#define VG	7	/* granted VOTE_REPLY(T) */
#define SD	8	/* STEP_DOWN(T) */

/* one message in a short: type | from | to | term | rem */
#define MK(ty, fr, to, tm, rm) \
	(((ty) << 11) | ((fr) << 9) | ((to) << 7) | ((tm) << 3) | (rm))
#define TY(x)	(((x) >> 11) & 15)
#define FR(x)	(((x) >> 9) & 3)
#define TO(x)	(((x) >> 7) & 3)
#define TM(x)	(((x) >> 3) & 15)
#define RM(x)	((x) & 7)

short net[K];		/* sorted descending, 0 = free */

byte role[4];		/* index 1..3 */
byte term[4];		/* persisted */
byte voted[4];		/* persisted: voted_for in term */
byte leader[4];
byte pto[4];		/* promise_to */
byte pterm[4];		/* promise_term */
byte prem[4];		/* promise: ticks left */
byte grace[4];		/* restart grace: ticks left */
byte lease[4];		/* primary (or its guard when DOWN): ticks left */
byte rage[4];		/* candidate: ticks since round_ms, up to LT */

/* observers for the properties (not node state) */
byte crashes;		/* crashes so far (bounded by MAXCRASH) */
bit term_back;		/* some voter's term went down */
bit double_vote;	/* some voter voted for two nodes in one term */
byte vhist[4 * (MT + 1)];	/* vote given by voter i in term t */

/* scratch for d_steps: not part of the state */
hidden short hm, hx, sx;
hidden byte hj, sj, sk, hp, hc, hb, hf, ok;
hidden byte hord;	/* this step sends to the highest id first */
hidden byte hkeep;	/* this delivery leaves the message in flight */

#define LIVE(n)	((role[n] == PRIMARY || role[n] == DOWN) && lease[n] > 0)
#define NLIVE	(LIVE(1) + LIVE(2) + LIVE(3))

/* Safety properties as monitors: each blocks until its property is
 * false, so it adds no interleavings; spin explores every state, so a
 * violation anywhere makes the assert fire.  init starts them last: pan
 * tries the highest pid first, so they fire as soon as it is false. */
proctype one_primary()
{
	atomic { !(NLIVE <= 1) -> assert(NLIVE <= 1) }
}

proctype term_monotonic()
{
	atomic { term_back -> assert(!term_back) }
}

proctype one_vote_per_term()
{
	atomic { double_vote -> assert(!double_vote) }
}

/* ---- network ------------------------------------------------------ */

/* Drop duplicates, then insertion sort, largest first (0s last). */
inline sortnet()
{
	for (sj : 1 .. K - 1) {
		for (sk : 0 .. sj - 1) {
			if
			:: net[sj] != 0 && net[sj] == net[sk] -> net[sj] = 0
			:: else
			fi
		}
	}
	for (sj : 1 .. K - 1) {
		sx = net[sj];
		sk = sj;
		do
		:: sk > 0 && net[sk - 1] < sx ->
			net[sk] = net[sk - 1];
			sk--
		:: else -> break
		od;
		net[sk] = sx
	};
	skip	/* a loop may not end a d_step */
}

/* Messages that can have no effect any more, whatever happens next,
 * are taken out at once: the same as a loss, but fewer states.
 *   ACK(T, rem) to P: only if P is primary of T and rem > its lease
 *     (both count down together; P is never primary of T again);
 *   VOTE_REPLY(T) to C: only if C is candidate of T (never again);
 *   TN(T) to n: only if T > term[n] (terms only grow). */
#define USELESS(x) \
	((TY(x) == ACK && !(role[TO(x)] == PRIMARY && \
			    term[TO(x)] == TM(x) && RM(x) > lease[TO(x)])) || \
	 (TY(x) == VG && !(role[TO(x)] == CAND && term[TO(x)] == TM(x))) || \
	 (TY(x) == TN && TM(x) <= term[TO(x)]))

inline gc()
{
	hf = 0;
	for (hj : 0 .. K - 1) {
		if
		:: net[hj] != 0 && USELESS(net[hj]) -> net[hj] = 0; hf = 1
		:: else
		fi
	}
	if
	:: hf -> sortnet()
	:: else
	fi
}

inline send(ty, fr, to, tm, rm)
{
	hx = MK(ty, fr, to, tm, rm);
	hf = 0;
	for (hj : 0 .. K - 1) {
		if
		:: net[hj] == hx -> hf = 1
		:: else
		fi
	}
	if
	:: hf == 0 && net[K - 1] == 0 ->
		net[K - 1] = hx;
		sortnet()
	:: else		/* already in flight, or network full: lost */
	fi
}

/* To every other voter, in the order hord says: when only one slot is
 * free, either copy may be the one lost. */
inline bcast(ty, tm, rm)
{
	for (hb : 1 .. 3) {
		hc = (hord -> 4 - hb : hb);
		if
		:: hc != me -> send(ty, me, hc, tm, rm)
		:: else
		fi
	};
	skip
}

/* A refused reply or stale ACK: it only matters if it raises the
 * receiver's term, and terms only grow, so skip it when it cannot. */
inline notice(to)
{
	if
	:: term[me] > term[to] -> send(TN, 0, to, term[me], 0)
	:: else
	fi
}

/* ---- voter state helpers ------------------------------------------- */

inline setterm(v)
{
	if
	:: v < term[me] -> term_back = 1
	:: else
	fi;
	term[me] = v
}

inline record_vote(t, c)
{
	if
	:: vhist[me * (MT + 1) + t] != 0 && vhist[me * (MT + 1) + t] != c ->
		double_vote = 1
	:: else
	fi;
	vhist[me * (MT + 1) + t] = c
}

/* Fields nobody reads in this state are zero, so equal states match.
 * The vote history of terms below the current one can never change
 * again (no vote for a stale term), so only it is forgotten. */
inline canon()
{
	for (hj : 0 .. MT) {
		if
		:: hj < term[me] -> vhist[me * (MT + 1) + hj] = 0
		:: else
		fi
	};
	if
	:: prem[me] == 0 -> pto[me] = 0; pterm[me] = 0
	:: else
	fi;
	if
	:: role[me] != CAND -> rage[me] = 0
	:: else
	fi
}

/* fence_to_standby() */
inline fence()
{
	lease[me] = 0;
	if
	:: leader[me] == me -> leader[me] = 0
	:: else
	fi;
	role[me] = STANDBY
}

/* expire_lease(): before anything else in every step */
inline expire()
{
	if
	:: role[me] == PRIMARY && lease[me] == 0 -> fence()
	:: else
	fi
}

/* adopt_term() */
inline adopt(t)
{
	if
	:: t > term[me] ->
		if
		:: role[me] == PRIMARY -> fence()
		:: else
		fi;
		setterm(t);
		voted[me] = 0;
		leader[me] = 0;
		if
		:: role[me] == PRECAND || role[me] == CAND -> role[me] = STANDBY
		:: else
		fi
	:: else
	fi
}

/* eligible(): grace over, own promise to another expired (health,
 * pause, positions: left out, they only refuse). */
#define ELIGIBLE	(me != W && grace[me] == 0 && \
			 !(pto[me] != 0 && pto[me] != me && prem[me] > 0))

/* vote_decision() -> ok (positions and the sync record left out) */
inline decide(prevote, c, t)
{
	ok = (c != W && role[me] != PRIMARY &&
	      (prevote -> t > term[me] : t >= term[me]) &&
	      !(!prevote && t == term[me] && voted[me] != 0 &&
		voted[me] != c) &&
	      grace[me] == 0 &&
	      !(pto[me] != 0 && pto[me] != c && prem[me] > 0))
}

/* ---- transitions ---------------------------------------------------- */

inline become_primary()
{
#ifdef BUG_LEASE_FROM_ELECTED
	lease[me] = LT;
	leader[me] = me;
	role[me] = PRIMARY;
	bcast(HB, term[me], LT)
#else
	if
	:: rage[me] >= LT ->	/* grant read after the lease it gives */
		role[me] = STANDBY
	:: else ->
		lease[me] = LT - rage[me];
		leader[me] = me;
		role[me] = PRIMARY;
		bcast(HB, term[me], LT)
	fi
#endif
}

inline become_candidate()
{
	assert(term[me] < MT);
	setterm(term[me] + 1);
	voted[me] = me;
	record_vote(term[me], me);
	leader[me] = 0;
	rage[me] = 0;
	role[me] = CAND;
	bcast(VQ, term[me], 0)
}

inline on_heartbeat()
{
	if
	:: TM(hm) < term[me] -> notice(hp)
	:: else ->
		ok = 1;
		if
		:: role[me] == PRIMARY ->
			if
			:: me < hp -> ok = 0	/* equal priority: lower id stays */
			:: else -> fence()
			fi
		:: else
		fi;
		if
		:: ok && leader[me] != 0 && leader[me] != hp -> ok = 0
		:: else
		fi;
		if
		:: ok ->
			leader[me] = hp;
			pto[me] = hp;
			pterm[me] = TM(hm);
			prem[me] = PT;
			if
			:: me != W -> role[me] = STANDBY
			:: else
			fi;
			send(ACK, 0, hp, term[me], RM(hm))
		:: else
		fi
	fi
}

inline on_ack()
{
	if
	:: role[me] == PRIMARY && TM(hm) == term[me] && RM(hm) > lease[me] ->
		lease[me] = RM(hm)
	:: else
	fi
}

inline on_prevote_req()
{
	decide(1, hp, TM(hm));
	if
	:: ok -> send(PVG, me, hp, term[me], 0)
	:: else -> notice(hp)
	fi
}

inline on_prevote_reply()
{
	if
	:: role[me] == PRECAND -> become_candidate()	/* self + 1 */
	:: else
	fi
}

inline on_vote_req()
{
	decide(0, hp, TM(hm));
	if
	:: ok ->
		if
		:: TM(hm) > term[me] ->
			setterm(TM(hm));
			leader[me] = 0
		:: else
		fi;
		voted[me] = hp;
		record_vote(term[me], hp);
		pto[me] = hp;
		pterm[me] = TM(hm);
		prem[me] = PT;
		if
		:: role[me] == PRECAND || role[me] == CAND -> role[me] = STANDBY
		:: else
		fi;
		send(VG, me, hp, term[me], 0)
	:: else -> notice(hp)
	fi
}

inline on_vote_reply()
{
	if
	:: role[me] == CAND && TM(hm) == term[me] -> become_primary()
	:: else
	fi
}

inline on_step_down()
{
#ifdef BUG_STEP_DOWN_ANY_TERM
	if
	:: pto[me] == hp -> prem[me] = 0
	:: else
	fi
#else
	if
	:: pto[me] == hp && pterm[me] == TM(hm) -> prem[me] = 0
	:: else
	fi
#endif
}

/* ---- trail printing (spin -t only; pan prints nothing) ------------- */

#define RCH(r)	(r == STANDBY -> 'S' : (r == PRECAND -> 'p' : \
		 (r == CAND -> 'C' : (r == PRIMARY -> 'P' : \
		 (r == WITNESS -> 'W' : '-')))))

/* One line per step: who did what, then each node as
 * role(S standby, p precandidate, C candidate, P primary, W witness,
 * - down) term/vote lease promise-to:ticks grace. */
inline say_state()
{
	printf("    | ");
	for (hb : 1 .. 3) {
		printf("%d:%c T%d v%d L%d p%d:%d g%d  ", hb, RCH(role[hb]),
		       term[hb], voted[hb], lease[hb], pto[hb], prem[hb],
		       grace[hb])
	};
	hc = 0;
	for (hb : 0 .. K - 1) {
		hc = hc + (net[hb] != 0)
	};
	printf("in flight %d\n", hc)
}

inline say_msg(x)
{
	if
	:: TY(x) == HB -> printf("HEARTBEAT")
	:: TY(x) == ACK -> printf("ACK")
	:: TY(x) == TN -> printf("term-notice")
	:: TY(x) == PVQ -> printf("PREVOTE_REQ")
	:: TY(x) == PVG -> printf("PREVOTE_GRANT")
	:: TY(x) == VQ -> printf("VOTE_REQ")
	:: TY(x) == VG -> printf("VOTE_GRANT")
	:: TY(x) == SD -> printf("STEP_DOWN")
	:: else -> printf("?")
	fi;
	printf("(T%d) from %d rem %d", TM(x), FR(x), RM(x))
}

/* on_recv() for net[k] */
inline deliver(k)
{
	hm = net[k];
	hp = FR(hm);
	printf("node %d gets ", me);
	say_msg(hm);
	if
	:: hkeep -> printf(" (stays in flight)\n")
	:: else -> printf("\n")
	fi;
	if
	:: !hkeep -> net[k] = 0; sortnet()
	:: else
	fi;
	expire();
	if
	:: TY(hm) != PVQ && TY(hm) != VQ -> adopt(TM(hm))
	:: else
	fi;
	if
	:: TY(hm) == HB -> on_heartbeat()
	:: TY(hm) == ACK -> on_ack()
	:: TY(hm) == PVQ -> on_prevote_req()
	:: TY(hm) == PVG -> on_prevote_reply()
	:: TY(hm) == VQ -> on_vote_req()
	:: TY(hm) == VG -> on_vote_reply()
	:: TY(hm) == SD -> on_step_down()
	:: else		/* TN: adopt_term() only */
	fi;
	canon();
	gc();
	say_state()
}

#define CAN_RECV(k)	(role[me] != DOWN && net[k] != 0 && TO(net[k]) == me)
#define NEARLY_FULL(free)	(net[K - (free)] != 0)	/* < free slots */
#define RECV(k) \
	:: d_step { CAN_RECV(k) -> hkeep = 0; hord = 0; deliver(k) } \
	:: d_step { CAN_RECV(k) && NEARLY_FULL(1) -> \
		hkeep = 0; hord = 1; deliver(k) } \
	:: d_step { CAN_RECV(k) -> hkeep = 1; hord = 0; deliver(k) } \
	:: d_step { CAN_RECV(k) && NEARLY_FULL(2) -> \
		hkeep = 1; hord = 1; deliver(k) }

proctype Node(byte me)
{
	do
	/* a message, any in flight to me: taken out, or left in flight to
	 * come again (duplication); the sends in the other order only
	 * differ when the network is nearly full */
	RECV(0)
	RECV(1)
#if K > 2
	RECV(2)
#endif
#if K > 3
	RECV(3)
#endif
#if K > 4
	RECV(4)
#endif
#if K > 5
	RECV(5)
#endif
	/* timer: the lease ended (agent's tick, or the guard) */
	:: d_step { role[me] == PRIMARY && lease[me] == 0 ->
		printf("node %d: lease ended, fences\n", me);
		fence(); canon(); gc(); say_state() }
	/* timer: heartbeat (the lease is live, so expire() is a no-op) */
	:: d_step { role[me] == PRIMARY && lease[me] > 0 ->
		printf("node %d sends HEARTBEAT(T%d)\n", me, term[me]);
		hord = 0;
		bcast(HB, term[me], LT); say_state() }
	:: d_step { role[me] == PRIMARY && lease[me] > 0 && NEARLY_FULL(2) ->
		printf("node %d sends HEARTBEAT(T%d), witness first\n",
		       me, term[me]);
		hord = 1;
		bcast(HB, term[me], LT); say_state() }
	/* timer: election_at passed and eligible -> pre-vote for T + 1 */
	:: d_step { role[me] == STANDBY && ELIGIBLE && term[me] < MT ->
		printf("node %d asks pre-votes for T%d\n", me, term[me] + 1);
		role[me] = PRECAND;
		hord = 0;
		bcast(PVQ, term[me] + 1, 0); say_state() }
	:: d_step { role[me] == STANDBY && ELIGIBLE && term[me] < MT &&
		    NEARLY_FULL(2) ->
		printf("node %d asks pre-votes for T%d, witness first\n",
		       me, term[me] + 1);
		role[me] = PRECAND;
		hord = 1;
		bcast(PVQ, term[me] + 1, 0); say_state() }
	/* timer: next pre-vote round, or no longer eligible */
	:: d_step { role[me] == PRECAND ->
		if
		:: ELIGIBLE -> hord = 0; bcast(PVQ, term[me] + 1, 0);
			printf("node %d: pre-vote round again\n", me)
		:: else -> role[me] = STANDBY;
			printf("node %d: no longer eligible\n", me)
		fi;
		gc(); say_state() }
	:: d_step { role[me] == PRECAND && ELIGIBLE && NEARLY_FULL(2) ->
		printf("node %d: pre-vote round again, witness first\n", me);
		hord = 1;
		bcast(PVQ, term[me] + 1, 0); say_state() }
	/* timer: vote round deadline passed */
	:: d_step { role[me] == CAND ->
		printf("node %d: vote round over, standby\n", me);
		role[me] = STANDBY; canon(); gc(); say_state() }
	/* checks failed or switchover: fence, then STEP_DOWN(T) */
	:: d_step { role[me] == PRIMARY && lease[me] > 0 ->
		printf("node %d steps down from T%d\n", me, term[me]);
		fence();
		hord = 0;
		bcast(SD, term[me], 0);
		gc(); say_state() }
	:: d_step { role[me] == PRIMARY && lease[me] > 0 && NEARLY_FULL(2) ->
		printf("node %d steps down from T%d, witness first\n",
		       me, term[me]);
		fence();
		hord = 1;
		bcast(SD, term[me], 0);
		gc(); say_state() }
	/* crash (kill -9): memory lost; a primary's guard keeps the VIP
	 * until the lease ends, then fences */
	:: d_step { role[me] != DOWN && crashes < MAXCRASH ->
		printf("node %d crashes\n", me);
		crashes++;
		if
		:: role[me] != PRIMARY -> lease[me] = 0
		:: else
		fi;
		role[me] = DOWN;
		leader[me] = 0;
		pto[me] = 0;
		pterm[me] = 0;
		prem[me] = 0;
		grace[me] = 0;
		rage[me] = 0;
		gc(); say_state() }
	/* start: term and vote from the state file; demote, VIP removed,
	 * no vote for L(1+d) */
	:: d_step { role[me] == DOWN ->
		printf("node %d starts\n", me);
		role[me] = (me == W -> WITNESS : STANDBY);
		lease[me] = 0;
		grace[me] = GRACE;
#ifdef BUG_VOTE_NOT_PERSISTED
		voted[me] = 0;
#endif
#ifdef BUG_TERM_NOT_PERSISTED
		setterm(0);
		voted[me] = 0;
#endif
		say_state() }
	od
}

/* Time: one tick for everyone, and for every message in flight. */
active proctype Tick()
{
	do
	:: d_step {
		for (hc : 1 .. 3) {
			if
			:: lease[hc] > 0 -> lease[hc]--
			:: else
			fi;
			if
			:: prem[hc] > 0 -> prem[hc]--
			:: else
			fi;
			if
			:: prem[hc] == 0 -> pto[hc] = 0; pterm[hc] = 0
			:: else
			fi;
			if
			:: grace[hc] > 0 -> grace[hc]--
			:: else
			fi;
			if
			:: role[hc] == CAND && rage[hc] < LT -> rage[hc]++
			:: else
			fi
		}
		for (hj : 0 .. K - 1) {
			if
			:: (TY(net[hj]) == HB || TY(net[hj]) == ACK) &&
			   RM(net[hj]) > 0 -> net[hj]--
			:: else
			fi
		};
		sortnet();
		gc();
		printf("tick\n");
		say_state() }
	od
}

/* Loss: any message in flight may vanish at any time. */
active proctype Lose()
{
	do
	:: d_step { net[0] != 0 -> printf("lost: "); say_msg(net[0]);
		printf(" to %d\n", TO(net[0])); net[0] = 0; sortnet(); say_state() }
	:: d_step { net[1] != 0 -> printf("lost: "); say_msg(net[1]);
		printf(" to %d\n", TO(net[1])); net[1] = 0; sortnet(); say_state() }
#if K > 2
	:: d_step { net[2] != 0 -> printf("lost: "); say_msg(net[2]);
		printf(" to %d\n", TO(net[2])); net[2] = 0; sortnet(); say_state() }
#endif
#if K > 3
	:: d_step { net[3] != 0 -> printf("lost: "); say_msg(net[3]);
		printf(" to %d\n", TO(net[3])); net[3] = 0; sortnet(); say_state() }
#endif
#if K > 4
	:: d_step { net[4] != 0 -> printf("lost: "); say_msg(net[4]);
		printf(" to %d\n", TO(net[4])); net[4] = 0; sortnet(); say_state() }
#endif
#if K > 5
	:: d_step { net[5] != 0 -> printf("lost: "); say_msg(net[5]);
		printf(" to %d\n", TO(net[5])); net[5] = 0; sortnet(); say_state() }
#endif
	od
}

init
{
	atomic {
		/* everyone starts: no vote for L(1+d) (on_start()) */
		grace[1] = GRACE;
		grace[2] = GRACE;
		grace[3] = GRACE;
		role[W] = WITNESS;
		run Node(1);
		run Node(2);
		run Node(3);
		run one_primary();
		run term_monotonic();
		run one_vote_per_term()
	}
}
