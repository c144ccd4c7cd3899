/*
 * guard.h - the fencing guard (DESIGN.md, Safety: the guard).
 *
 * A small process forked by the agent at start.  It shares one memory
 * page with the agent: the role and the lease deadline.  If the deadline
 * passes while the role is still primary - because the agent crashed,
 * hung or was stopped - the guard fences the resources itself (VIPs
 * removed, Redis writes paused: res_fence_sync).  A thread would not
 * do: a stopped or killed agent takes its threads with it.
 */
#ifndef HAPAIR_GUARD_H
#define HAPAIR_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

struct guard;

/* Fork the guard for node node_id of conf.  Call before the event loop
 * starts (no threads yet).  Returns 0 or -1 with *err set. */
int guard_start(const struct conf *conf, uint8_t node_id,
		struct guard **out, struct hp_err *err);

/* Publish what the guard enforces.  Call with primary = true and the
 * lease end before promoting; with primary = false after fencing. */
void guard_publish(struct guard *g, bool primary, uint64_t deadline_ms);

/* How many times the guard fenced on its own.  The agent compares it
 * after each step: a guard fence means the lease is gone. */
uint64_t guard_fence_count(const struct guard *g);

/* The guard's pid, for status. */
pid_t guard_pid(const struct guard *g);

/* Clean shutdown: disarm, tell the guard to exit, reap it. */
void guard_stop(struct guard *g);

/* CLOCK_MONOTONIC in milliseconds: the one clock agent and guard share. */
uint64_t mono_ms(void);

/* Lock memory and ask for real-time priority, as corosync does, so a
 * loaded machine neither delays a heartbeat nor a fence.  Returns 0, or
 * -1 with *err saying what could not be done (the caller logs it once). */
int guard_realtime(int priority, struct hp_err *err);

#endif
