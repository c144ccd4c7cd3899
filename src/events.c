/*
 * events.c - the event log (see events.h): a ring of the newest
 * EVENTS_RING events, each logged, optionally sent to syslog, and
 * handed with its JSON text to the registered sinks (JSON-lines file,
 * webhooks).
 */
#define _GNU_SOURCE
#include "events.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "syslog_out.h"

struct sink {
	event_sink_fn fn;
	void *data;
};

struct event_log {
	char cluster[64];
	char node[64];
	bool syslog;
	uint64_t next_id;	/* id of the next event */
	struct event ring[EVENTS_RING];
	uint64_t totals[EVK_MAX];
	struct sink sinks[EVENTS_MAX_SINKS];
	int n_sinks;
};

struct event_log *events_new(const char *cluster, const char *node)
{
	struct event_log *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	snprintf(log->cluster, sizeof(log->cluster), "%s", cluster);
	snprintf(log->node, sizeof(log->node), "%s", node);
	log->next_id = 1;
	return log;
}

void events_free(struct event_log *log)
{
	if (log && log->syslog)
		syslog_out_close();
	free(log);
}

void events_set_syslog(struct event_log *log, bool on)
{
	if (!log)
		return;
	if (on && !log->syslog)
		syslog_out_open();
	else if (!on && log->syslog)
		syslog_out_close();
	log->syslog = on;
}

int events_add_sink(struct event_log *log, event_sink_fn fn, void *data)
{
	if (log->n_sinks >= EVENTS_MAX_SINKS)
		return -1;
	log->sinks[log->n_sinks++] = (struct sink){ fn, data };
	return 0;
}

void events_remove_sink(struct event_log *log, void *data)
{
	int j = 0;

	for (int i = 0; i < log->n_sinks; i++)
		if (log->sinks[i].data != data)
			log->sinks[j++] = log->sinks[i];
	log->n_sinks = j;
}

int events_count(const struct event_log *log)
{
	uint64_t n = log->next_id - 1;

	return n > EVENTS_RING ? EVENTS_RING : (int)n;
}

const struct event *events_get(const struct event_log *log, int i)
{
	uint64_t first = log->next_id - (uint64_t)events_count(log);

	if (i < 0 || i >= events_count(log))
		return NULL;
	return &log->ring[(first + (uint64_t)i) % EVENTS_RING];
}

uint64_t events_total(const struct event_log *log, enum event_kind kind)
{
	return (unsigned)kind < EVK_MAX ? log->totals[kind] : 0;
}

static cJSON *event_object(const struct event_log *log,
			   const struct event *ev)
{
	cJSON *o = cJSON_CreateObject();
	char ts[40], full[48];
	time_t sec = (time_t)(ev->wall_ms / 1000);
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(full, sizeof(full), "%s.%03uZ", ts,
		 (unsigned)(ev->wall_ms % 1000));
	cJSON_AddNumberToObject(o, "id", (double)ev->id);
	cJSON_AddStringToObject(o, "time", full);
	cJSON_AddNumberToObject(o, "ts_ms", (double)ev->wall_ms);
	cJSON_AddStringToObject(o, "cluster", log->cluster);
	cJSON_AddStringToObject(o, "node", log->node);
	cJSON_AddNumberToObject(o, "term", (double)ev->term);
	cJSON_AddStringToObject(o, "kind", events_kind_name(ev->kind));
	cJSON_AddStringToObject(o, "severity",
				events_severity_name(ev->severity));
	cJSON_AddStringToObject(o, "message", ev->text);
	if (ev->has_phases) {
		cJSON *p = cJSON_AddObjectToObject(o, "phases_ms");

		for (int i = 0; p && i < PHASE_MAX; i++)
			cJSON_AddNumberToObject(p, events_phase_name(i),
						ev->phase_ms[i]);
	}
	return o;
}

char *events_event_json(const struct event_log *log, const struct event *ev)
{
	cJSON *o = event_object(log, ev);
	char *text;

	if (!o)
		return NULL;
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

char *events_json(const struct event_log *log, uint64_t since, int limit)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	int n = events_count(log), start = 0, shown = 0;
	char *text;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "node", log->node);
	cJSON_AddStringToObject(root, "cluster", log->cluster);
	arr = cJSON_AddArrayToObject(root, "events");
	/* The newest `limit` of those after `since`, oldest first. */
	for (int i = 0; i < n; i++)
		if (events_get(log, i)->id > since)
			shown++;
	if (limit > 0 && shown > limit)
		start = shown - limit;
	shown = 0;
	for (int i = 0; arr && i < n; i++) {
		const struct event *ev = events_get(log, i);

		if (ev->id <= since || shown++ < start)
			continue;
		cJSON_AddItemToArray(arr, event_object(log, ev));
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static const struct event *add(struct event_log *log, enum event_kind kind,
			       enum event_severity sev, uint64_t term,
			       const uint32_t *phase_ms, const char *fmt,
			       va_list ap)
{
	static const enum log_level level[SEV_MAX] = {
		[SEV_INFO] = LOG_INFO, [SEV_WARNING] = LOG_WARN,
		[SEV_CRITICAL] = LOG_ERR,
	};
	struct event *ev;
	struct timespec ts;
	char *json;

	if (!log)
		return NULL;
	ev = &log->ring[log->next_id % EVENTS_RING];
	memset(ev, 0, sizeof(*ev));
	clock_gettime(CLOCK_REALTIME, &ts);
	ev->id = log->next_id++;
	ev->wall_ms = (uint64_t)ts.tv_sec * 1000 +
		      (uint64_t)ts.tv_nsec / 1000000;
	ev->term = term;
	ev->kind = (unsigned)kind < EVK_MAX ? kind : EVK_AGENT;
	ev->severity = (unsigned)sev < SEV_MAX ? sev : SEV_INFO;
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	if (phase_ms) {
		ev->has_phases = true;
		memcpy(ev->phase_ms, phase_ms, sizeof(ev->phase_ms));
	}
	log->totals[ev->kind]++;

	hp_log(level[ev->severity], "event %s: %s (term %" PRIu64 ")",
	       events_kind_name(ev->kind), ev->text, term);
	if (log->syslog) {
		char line[EVENT_TEXT_MAX + 200];

		snprintf(line, sizeof(line), "%s/%s %s: %s (term %" PRIu64 ")",
			 log->cluster, log->node, events_kind_name(ev->kind),
			 ev->text, term);
		syslog_out(ev->severity, line);
	}
	if (log->n_sinks) {
		json = events_event_json(log, ev);
		for (int i = 0; json && i < log->n_sinks; i++)
			log->sinks[i].fn(log->sinks[i].data, ev, json);
		cJSON_free(json);
	}
	return ev;
}

const struct event *events_add(struct event_log *log, enum event_kind kind,
			       enum event_severity sev, uint64_t term,
			       const char *fmt, ...)
{
	const struct event *ev;
	va_list ap;

	va_start(ap, fmt);
	ev = add(log, kind, sev, term, NULL, fmt, ap);
	va_end(ap);
	return ev;
}

const struct event *events_add_phases(struct event_log *log,
				      enum event_kind kind,
				      enum event_severity sev, uint64_t term,
				      const uint32_t *phase_ms,
				      const char *fmt, ...)
{
	const struct event *ev;
	va_list ap;

	va_start(ap, fmt);
	ev = add(log, kind, sev, term, phase_ms, fmt, ap);
	va_end(ap);
	return ev;
}
