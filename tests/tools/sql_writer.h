/*
 * sql_writer.h - what the SQL writers (pgwriter, mdbwriter) share: the
 * bookkeeping of a writer of numbered rows (one slot per interval, the
 * acknowledged ids, outages, the fault mark, the JSON result) and the
 * read-back check of the acknowledged ids.  Each tool brings its own
 * database calls: a write_one() for the slots, and the ids the server
 * holds for the check.  Header only (static inline), like tool_util.h,
 * which it needs first.
 */
#ifndef SQL_WRITER_H
#define SQL_WRITER_H

#include <inttypes.h>
#include <signal.h>

#include "tool_util.h"

enum {
	WLOG_ERR_MAX = 300,
	WLOG_MISSING_SHOWN = 20,
	WLOG_SERVER_MAX = 256,
};

/* One writer's record.  A commit is acked, an error, or unsafe (the
 * server said it committed but the wait for the standby was cut short:
 * not acknowledged). */
struct wlog {
	const char *out, *ids;	/* --out JSON, --ids file */
	const char *history;	/* --log: one line per accepted commit */
	FILE *idf, *hf;
	char server[WLOG_SERVER_MAX]; /* who answers this connection */
	long sent, acked, errors, unsafe, skipped, connects;
	int64_t start, last_ack, outage;
	int64_t fault, outage_after_fault; /* SIGUSR1 marks the fault */
	char last_error[WLOG_ERR_MAX];
};

/* SIGTERM/SIGINT: stop; SIGUSR1: mark the fault.  The mark is stamped
 * in the handler itself (clock_gettime is async-signal-safe): the main
 * loop may be inside a commit that blocks for the whole outage, and a
 * mark stamped only when that commit returns would leave the outage
 * before it, uncounted in outage_after_fault. */
static volatile sig_atomic_t stop, marked;
static volatile int64_t mark_ns;

static void on_signal(int sig)
{
	if (sig != SIGUSR1) {
		stop = 1;
	} else if (!marked) {
		mark_ns = now_ns();
		marked = 1;
	}
}

static inline void wlog_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* --prefix goes into SQL unquoted: 1 to 32 of [a-z0-9_]. */
static inline void wlog_check_prefix(const char *prefix)
{
	if (!*prefix || strlen(prefix) > 32)
		die("--prefix: expected 1 to 32 characters", prefix);
	for (const char *p = prefix; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			die("--prefix: expected [a-z0-9_]", prefix);
}

/* A stretch without acknowledged commits ends at t. */
static inline void wlog_gap_ends(struct wlog *l, int64_t t)
{
	int64_t gap = t - l->last_ack;

	if (marked && !l->fault)
		l->fault = mark_ns;
	if (gap > l->outage)
		l->outage = gap;
	if (l->fault && t > l->fault && gap > l->outage_after_fault)
		l->outage_after_fault = gap;
}

/* The name of the server a new connection reached, as the tool's
 * identity query answered it (NULL: unknown), for --log; whitespace
 * becomes '_' so a line stays five words. */
static inline void wlog_server(struct wlog *l, const char *name)
{
	snprintf(l->server, sizeof(l->server), "%s",
		 name && *name ? name : "-");
	for (char *c = l->server; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '\n')
			*c = '_';
}

/* --log: the server answered OK to row id's commit, sent at send_ns and
 * answered at ok_ns; acknowledged or not (unsafe).  The chaos checker's
 * history format (tests/chaos/checker.py), as rwriter --log writes it:
 * <id> <server> <send_ns> <ok_ns> <ack_ns | -1>. */
static inline void wlog_history(struct wlog *l, long id, int64_t send_ns,
				int64_t ok_ns, bool acked)
{
	if (!l->hf)
		return;
	fprintf(l->hf, "%ld %s %" PRId64 " %" PRId64 " %" PRId64 "\n", id,
		l->server[0] ? l->server : "-", send_ns, ok_ns,
		acked ? ok_ns : (int64_t)-1);
	fflush(l->hf);
}

/* Row id was acknowledged now. */
static inline void wlog_acked(struct wlog *l, long id)
{
	int64_t t = now_ns();

	wlog_gap_ends(l, t);
	l->last_ack = t;
	l->acked++;
	fprintf(l->idf, "%ld\n", id);
	fflush(l->idf);
}

static inline void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The result object, to --out (atomically). */
static inline void wlog_write_json(struct wlog *l)
{
	char tmp[PATH_MAX];
	FILE *f = atomic_open(l->out, tmp);

	wlog_gap_ends(l, now_ns());
	fprintf(f, "{\"mode\":\"insert\",\"sent\":%ld,\"acked\":%ld,"
		"\"errors\":%ld,\"unsafe\":%ld,\"skipped\":%ld,"
		"\"connects\":%ld,\"outage_ms\":%.3f,",
		l->sent, l->acked, l->errors, l->unsafe, l->skipped,
		l->connects, ms(l->outage));
	json_ms_or_null(f, "fault_ms", l->fault, l->fault - l->start);
	json_ms_or_null(f, "outage_after_fault_ms", l->fault,
			l->outage_after_fault);
	fprintf(f, "\"acked_ids_file\":");
	json_str(f, l->ids);
	fprintf(f, ",\"last_error\":");
	json_str(f, l->last_error);
	fprintf(f, "}\n");
	atomic_close(f, tmp, l->out);
}

/* Row i (0, 1, 2, ...) at start + k * interval: write_one(ctx, i) until
 * duration_ms, max rows (0: no limit) or a signal; slots missed while a
 * commit blocked are skipped.  The caller writes the JSON after. */
static inline void wlog_run(struct wlog *l, long interval_ms,
			    long duration_ms, long max,
			    void (*write_one)(void *ctx, long i), void *ctx)
{
	int64_t slot_ns = interval_ms * 1000000, end;
	long i = 0, k = 0;

	l->idf = fopen(l->ids, "w");
	if (!l->idf)
		die("cannot write", l->ids);
	if (l->history && !(l->hf = fopen(l->history, "w")))
		die("cannot write", l->history);
	l->start = l->last_ack = now_ns();
	end = l->start + duration_ms * 1000000;
	while (!stop && now_ns() < end && (!max || i < max)) {
		int64_t due = l->start + k * slot_ns, now = now_ns();

		if (due > now) {
			struct timespec ts = until(due);

			nanosleep(&ts, NULL);
			continue;
		}
		write_one(ctx, i++);
		k++;
		while (l->start + k * slot_ns < now_ns() - slot_ns) {
			k++;
			l->skipped++;
		}
	}
	fclose(l->idf);
	if (l->hf)
		fclose(l->hf);
	l->hf = NULL;
}

/* The check: every id of the ids file against have[0..max_id] (the ids
 * the server holds).  Prints {"missing_ids":[first 20],"checked":N,
 * "missing":N}. */
static inline void wlog_check_ids(const char *ids, const char *have,
				  long max_id)
{
	long checked = 0, missing = 0, id, shown = 0;
	FILE *f = fopen(ids, "r");

	if (!f)
		die("cannot read", ids);
	printf("{\"missing_ids\":[");
	while (fscanf(f, "%ld", &id) == 1) {
		checked++;
		if (id >= 0 && id <= max_id && have[id])
			continue;
		missing++;
		if (shown++ < WLOG_MISSING_SHOWN)
			printf("%s%ld", shown > 1 ? "," : "", id);
	}
	fclose(f);
	printf("],\"checked\":%ld,\"missing\":%ld}\n", checked, missing);
}

#endif
