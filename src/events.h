/*
 * events.h - the agent's event log (DESIGN.md, Operations: events).
 *
 * Every role change, election, failover (with its phases), switchover,
 * check flip, fence, resource event, sync change, pause/resume and
 * config reload is one event: time, term, node, kind, severity and a
 * sentence.  The log keeps the newest EVENTS_RING in memory (status,
 * `hapair events`, GET /v1/events), writes each one to the log (and so
 * to the journal), and hands it to the sinks registered with
 * events_add_sink(): the JSON-lines file and the webhooks (alert.h).
 *
 * Loop-thread only, except events_json(), which reads a snapshot the
 * caller owns (the API thread is given text, never the ring).
 */
#ifndef HAPAIR_EVENTS_H
#define HAPAIR_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	EVENTS_RING = 256,	/* kept in memory */
	EVENT_TEXT_MAX = 400,
	EVENTS_MAX_SINKS = 4,
};

enum event_kind {
	EVK_ROLE = 0,	/* this node's role changed */
	EVK_ELECTION,	/* an election started, was won or lost */
	EVK_FAILOVER,	/* this node replaced a failed primary: phases */
	EVK_SWITCHOVER,	/* planned hand-over: requested, done, aborted */
	EVK_CHECK,	/* a health check passed/failed */
	EVK_FENCE,	/* this node (or its guard) stopped writes */
	EVK_RESOURCE,	/* a resource action failed, data kept aside, ... */
	EVK_SYNC,	/* sync mode: replica lost / back in sync */
	EVK_PEER,	/* peer or witness became unreachable / came back */
	EVK_PAUSE,	/* automatic failover paused / resumed */
	EVK_CONFIG,	/* configuration reloaded, or a reload refused */
	EVK_AGENT,	/* agent started / stopping */
	EVK_MAX
};

enum event_severity { SEV_INFO = 0, SEV_WARNING, SEV_CRITICAL, SEV_MAX };

/* Failover phases (DESIGN.md): where the time of one failover went. */
enum event_phase {
	PHASE_DETECT = 0, /* last heartbeat from the old primary -> this
			   * node decided it was gone */
	PHASE_FENCE,	  /* -> the old primary's lease had surely ended
			   * (its guard fences by then) */
	PHASE_ELECT,	  /* -> this node won the vote */
	PHASE_PROMOTE,	  /* -> data stores promoted */
	PHASE_VIP,	  /* -> VIP added and gratuitous ARPs sent */
	PHASE_FIRST_WRITE, /* -> the store reported it accepts writes */
	PHASE_MAX
};

struct event {
	uint64_t id;		/* 1, 2, ... within one agent run */
	uint64_t wall_ms;	/* CLOCK_REALTIME, ms since the epoch */
	uint64_t term;
	enum event_kind kind;
	enum event_severity severity;
	char text[EVENT_TEXT_MAX]; /* one sentence */
	bool has_phases;	/* EVK_FAILOVER, EVK_SWITCHOVER (done) */
	uint32_t phase_ms[PHASE_MAX];
};

/* A sink gets every event after it is in the ring, with its JSON text
 * (one line, no newline).  It must not block: queue and return. */
typedef void (*event_sink_fn)(void *data, const struct event *ev,
			      const char *json);

struct event_log;

/* node and cluster name every event (copied). */
struct event_log *events_new(const char *cluster, const char *node);
void events_free(struct event_log *log);

/* Also send each event to syslog(3) (facility daemon), or stop. */
void events_set_syslog(struct event_log *log, bool on);

int events_add_sink(struct event_log *log, event_sink_fn fn, void *data);
/* Remove every sink with this data pointer (before freeing it). */
void events_remove_sink(struct event_log *log, void *data);

/* Record an event (printf-style sentence); logs it at a level from the
 * severity and calls the sinks.  Returns the stored event; NULL (and
 * nothing done) when log is NULL, as on the witness. */
const struct event *events_add(struct event_log *log, enum event_kind kind,
			       enum event_severity sev, uint64_t term,
			       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Same with failover phases (phase_ms[PHASE_MAX]). */
const struct event *events_add_phases(struct event_log *log,
				      enum event_kind kind,
				      enum event_severity sev, uint64_t term,
				      const uint32_t *phase_ms,
				      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Events kept, oldest first: count and the i-th. */
int events_count(const struct event_log *log);
const struct event *events_get(const struct event_log *log, int i);
/* Events recorded since the start, per kind (metrics). */
uint64_t events_total(const struct event_log *log, enum event_kind kind);

/* One event as a JSON object (malloc'd text, one line):
 * {"id":7,"time":"2026-11-24T05:30:00.123Z","ts_ms":1795...,
 *  "cluster":"shop","node":"a","term":5,"kind":"failover",
 *  "severity":"warning","message":"...",
 *  "phases_ms":{"detect":..,"fence":..,"elect":..,"promote":..,
 *               "vip":..,"first_write":..}}       (phases_ms only if
 * has_phases).  NULL if out of memory. */
char *events_event_json(const struct event_log *log, const struct event *ev);

/* {"node":"a","events":[...]} with events whose id > since, oldest
 * first, at most limit (0 = all kept).  malloc'd, NULL if OOM. */
char *events_json(const struct event_log *log, uint64_t since, int limit);

const char *events_kind_name(enum event_kind k);
const char *events_severity_name(enum event_severity s);
const char *events_phase_name(enum event_phase p);
/* Parse a name back (config filters); -1 if unknown. */
int events_kind_parse(const char *name);
int events_severity_parse(const char *name);

#endif
