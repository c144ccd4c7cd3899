/*
 * notify.h - run [notify] programs on role changes, keepalived-style.
 *
 * Each program is run as `/bin/sh -c 'COMMAND "$@"' hapair TYPE NAME
 * STATE` (TYPE "INSTANCE", NAME the cluster name, STATE "MASTER",
 * "BACKUP" or "FAULT", as keepalived passes them) with HAPAIR_*
 * environment variables: HAPAIR_NODE, HAPAIR_PEER, HAPAIR_ROLE (hapair's
 * own role name), HAPAIR_TERM, HAPAIR_REASON, HAPAIR_CLUSTER.  Runs
 * under uv_spawn with a kill timer (SIGTERM at timeout, SIGKILL 1 s
 * later); never blocks the loop; at most one instance of each program at
 * a time - a newer notification waits for the running one and replaces
 * any older one still waiting (only the latest state matters).
 */
#ifndef HAPAIR_NOTIFY_H
#define HAPAIR_NOTIFY_H

#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "err.h"

struct notify_set;

struct notify_event {
	const char *node;	/* this node's name */
	const char *peer;	/* the other node's name */
	const char *role;	/* hapair role name: primary, standby, ... */
	const char *state;	/* keepalived state: MASTER, BACKUP, FAULT */
	uint64_t term;
	const char *reason;	/* why the role changed */
};

/* Called when a program finished badly: "notify pager: exit status 3",
 * "... killed after 10000 ms timeout", "... cannot run: ...". */
typedef void (*notify_fail_cb)(struct notify_set *set, const char *msg,
			       void *data);

int notify_set_open(uv_loop_t *loop, const struct conf *conf,
		    notify_fail_cb on_fail, void *data,
		    struct notify_set **out, struct hp_err *err);

/* Queue ev for every program (copies what it needs). */
void notify_set_run(struct notify_set *set, const struct notify_event *ev);

/* Kill running programs and free (after libuv closes the handles). */
void notify_set_close(struct notify_set *set);

#endif
