/*
 * check.h - health checks: tcp, http, script (DESIGN.md, Checks).
 *
 * Each [check NAME] runs every `interval` with a `timeout`, on the
 * agent's libuv loop (never blocking it).  A check turns failed after
 * `fall` failures in a row and healthy again after `rise` passes in a
 * row; it starts healthy-unknown and counts as failed until its first
 * `rise` passes.  The set is healthy when every check is.
 */
#ifndef HAPAIR_CHECK_H
#define HAPAIR_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "err.h"

struct check_set;

/* Called when one check flips (healthy <-> failed): name, new state and
 * the reason of the last result ("connect 127.0.0.1:80: Connection
 * refused", "HTTP 503", "exit status 2", "timeout after 1000 ms"). */
typedef void (*check_flip_cb)(struct check_set *set, const char *name,
			      bool healthy, const char *reason, void *data);

/* Open every [check] of conf; does not start them. */
int check_set_open(uv_loop_t *loop, const struct conf *conf,
		   check_flip_cb on_flip, void *data, struct check_set **out,
		   struct hp_err *err);

/* Start running the checks (first run of each at once). */
void check_set_start(struct check_set *set);

/* Every check currently healthy (true for an empty set). */
bool check_set_healthy(const struct check_set *set);

/* For status: number of checks, and for check i its name, state,
 * consecutive count and last reason.  Returns false if i is out of
 * range. */
int check_set_count(const struct check_set *set);
bool check_set_get(const struct check_set *set, int i, const char **name,
		   bool *healthy, const char **last_reason);

/* Stop and free (after libuv closes the handles). */
void check_set_close(struct check_set *set);

/* Has every check of the set reached its first verdict (rise passes or
 * fall failures)?  A reloaded set replaces the running one only then. */
bool check_set_settled(const struct check_set *set);

#endif
