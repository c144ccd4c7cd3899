/*
 * reload.h - SIGHUP: reload the configuration file with validation.
 *
 * A new file with any error, a secret that cannot be read, or a change
 * that only a restart can apply (cluster identity and timers, nodes,
 * witness, resources, API address) is refused as a whole, with an event
 * naming why; the agent keeps running the configuration it has.
 * Otherwise what may change live is applied: checks, notify programs,
 * alerts and the events file, the API token, node priorities,
 * failover_hold_down and switchover_timeout.
 */
#ifndef HAPAIR_RELOAD_H
#define HAPAIR_RELOAD_H

struct voter;

void reload_config(struct voter *v);

#endif
