/*
 * res.h - the resource contract (DESIGN.md, Resources).
 *
 * A resource is something a role change drives: the VIP, a Redis
 * server, ...  Each type implements the same operations: promote,
 * demote (follow a given primary, or none), fence (the fastest way to
 * stop accepting writes), monitor (healthy? data position? replication
 * link?), and set_sync (sync-mode write guard on the primary).
 *
 * The set runs promote in configured order and demote in reverse order,
 * each step bounded by a timeout, all asynchronous on the agent's libuv
 * loop: nothing here blocks the loop (heartbeats must keep flowing).
 * res_fence_sync() is the one blocking call, for the guard process,
 * which has no loop.
 */
#ifndef HAPAIR_RES_H
#define HAPAIR_RES_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "err.h"

struct res_set;

/* Aggregate state of this node's resources, from monitoring. */
struct res_state {
	bool healthy;		/* every resource answers as expected */
	bool has_position;	/* a data resource reported a position */
	uint64_t position;	/* its data position (Redis: repl offset) */
	bool writable;		/* the store says it accepts writes (primary) */
	bool link_up;		/* replica: replication link to primary up */
	char detail[200];	/* one line for status/logs, e.g.
				 * "redis: role replica, link up, offset 123" or
				 * "redis: NOAUTH Authentication required" */
	/* Replication threads of a replica (MariaDB), for status and
	 * metrics: io_running to repl_error mean something only when
	 * has_replica_threads; gtid also on a primary. */
	bool has_replica_threads;
	bool io_running;	/* receives the primary's binlog */
	bool sql_running;	/* applies it */
	int64_t seconds_behind;	/* -1 unknown */
	char repl_error[160];	/* last IO/SQL error text, "" = none */
	char gtid[96];		/* human GTID position, "" = unknown */
};

/* Called when an action on the whole set finished: rc 0 or -1 with a
 * sentence naming the resource and what failed. */
typedef void (*res_done_cb)(struct res_set *set, int rc, const char *msg,
			    void *data);

/* Called after each monitoring round, with the aggregate state. */
typedef void (*res_state_cb)(struct res_set *set,
			     const struct res_state *state, void *data);

/* Called when a resource set something aside before resyncing (DESIGN.md:
 * nothing discarded silently): msg names what and where. */
typedef void (*res_event_cb)(struct res_set *set, const char *msg,
			     void *data);

/* Open every resource of node self_id (1 or 2) of conf.  Does not touch
 * the resources yet (connections are made lazily and retried).  Returns
 * 0 or -1 with *err set. */
int res_set_open(uv_loop_t *loop, const struct conf *conf, uint8_t self_id,
		 res_state_cb on_state, res_event_cb on_event, void *data,
		 struct res_set **out, struct hp_err *err);

/* Close connections and timers; the set is freed once libuv has closed
 * its handles (run the loop). */
void res_set_close(struct res_set *set);

/* Start periodic monitoring (each resource at its own interval); the
 * state callback fires after each round. */
void res_set_monitor_start(struct res_set *set);

/* Become primary: each resource in config order (data stores before
 * the VIP so the VIP never points at a read-only store).  Stops at the
 * first failure and calls done(-1); a failed promote must leave the node
 * not serving, so the caller fences after a failure. */
void res_set_promote(struct res_set *set, res_done_cb done, void *data);

/* Become standby following node primary_id (1 or 2), or 0 when no
 * primary is known (stay read-only, follow nobody).  Reverse order.
 * Every resource is tried; done(-1) if any failed. */
void res_set_demote(struct res_set *set, uint8_t primary_id,
		    res_done_cb done, void *data);

/* Stop accepting writes now: remove VIPs, pause writes on the store.
 * Fire and forget (asynchronous), idempotent. */
void res_set_fence(struct res_set *set);

/* Planned switchover: every data resource stops accepting writes but
 * keeps replicating (res_ops.quiesce), config order; done(-1) on the
 * first failure.  res_set_unquiesce() undoes it (switchover aborted). */
void res_set_quiesce(struct res_set *set, res_done_cb done, void *data);
void res_set_unquiesce(struct res_set *set);

/* The switchover handed over (res_ops.handed_over): the standby has
 * every write, nothing needs keeping aside on the coming demote. */
void res_set_handed_over(struct res_set *set);

/* The peer node's data position, as its message received now says
 * (res_ops.peer_position). */
void res_set_peer_position(struct res_set *set, bool has, uint64_t position);

/* Run a monitoring round now (the state callback fires when it ends),
 * e.g. to learn the final position during a switchover. */
void res_set_monitor_now(struct res_set *set);

/* Sync-mode write guard on the primary (DESIGN.md, Data protection):
 * require = true makes the store refuse writes no replica has (Redis:
 * min-replicas-to-write 1); false relaxes it - call only after the
 * witness recorded the standby as not in sync. */
void res_set_sync(struct res_set *set, bool require);

/* Action timing per resource, for metrics and failover phases. */
enum res_action { RES_ACT_PROMOTE, RES_ACT_DEMOTE, RES_ACT_QUIESCE,
		  RES_ACT_MAX };
enum { RES_STAT_BUCKETS = 10 };
/* Upper bounds of the histogram buckets, in ms (the last is +Inf). */
extern const uint32_t res_stat_bounds_ms[RES_STAT_BUCKETS];

struct res_action_stats {
	uint64_t count;
	uint64_t sum_us;
	uint64_t bucket[RES_STAT_BUCKETS]; /* not cumulative */
	uint32_t last_ms;	/* the last one's duration */
	bool last_ok;
};

int res_set_count(const struct res_set *set);
/* Name of resource i ([resource NAME]) and whether it is a data store. */
const char *res_set_name(const struct res_set *set, int i, bool *data);
const struct res_action_stats *res_set_stats(const struct res_set *set,
					     int i, enum res_action a);
const char *res_action_name(enum res_action a);

/* The last aggregate state (for status). */
const struct res_state *res_set_state(const struct res_set *set);

/* For the guard process: fence every resource of node self_id of conf,
 * synchronously, each bounded by its timeout.  Errors go to stderr. */
void res_fence_sync(const struct conf *conf, uint8_t self_id);

#endif
