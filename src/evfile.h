/*
 * evfile.h - the JSON-lines event file ([events] file = ...).
 *
 * evfile_sink() is an event_sink_fn (events.h): it appends each event's
 * JSON and a newline to the file, through libuv's thread pool, one
 * write at a time and in order, so the loop never waits for the disk.
 * At most EVFILE_QUEUE_MAX lines wait; beyond that new ones are dropped
 * and counted.  A failed write (disk full, file removed) is counted and
 * logged (rate-limited), and the next line reopens the file.  For
 * logrotate, evfile_reopen() (on SIGHUP) makes the next write reopen the
 * path, creating the new file.  Loop thread only.
 */
#ifndef HAPAIR_EVFILE_H
#define HAPAIR_EVFILE_H

#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "events.h"

enum { EVFILE_QUEUE_MAX = 1024 };

struct evfile;

/* Open path (O_APPEND | O_CREAT, mode 0640 less the umask) now, at
 * start-up, so a bad path is an error before the agent runs: "events
 * file /var/log/hapair/events.jsonl: cannot open: Permission denied".
 * Returns 0, or -1 with *err set. */
int evfile_open(uv_loop_t *loop, const char *path, struct evfile **out,
		struct hp_err *err);

/* An event_sink_fn; data is the evfile.  Queues json + "\n". */
void evfile_sink(void *data, const struct event *ev, const char *json);

/* Close the file before the next write and open the path again. */
void evfile_reopen(struct evfile *f);

/* Write what is queued, close the file and free f.  The queued lines
 * are written by the loop (uv_run must go on until it has no more
 * requests, as it does at shutdown).  Remove the sink from the event log
 * first (events_remove_sink). */
void evfile_close(struct evfile *f);

struct evfile_stats {
	uint64_t written;	/* lines appended */
	uint64_t failed;	/* lines lost to a failed open or write */
	uint64_t dropped;	/* lines refused by a full queue */
	unsigned queued;	/* waiting, the one being written included */
};

void evfile_stats(const struct evfile *f, struct evfile_stats *out);

#endif
