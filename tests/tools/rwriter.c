/*
 * rwriter - a Redis writer that records every acknowledged write, and
 * the checker that reads them back.  The Redis system tests, the Redis
 * failover bench and the demo use it to see what a client of the pair
 * sees: how long writes were not acknowledged, and whether any write
 * that was acknowledged is missing afterwards.
 *
 *   rwriter --addr A --port P --duration-ms N --out FILE
 *           [--interval-ms 10] [--wait-ms 200] [--no-wait] [--prefix w]
 *           [--sentinel HOST:PORT,HOST:PORT,... --master-name NAME]
 *           [--ids FILE] [--mark-file F] [--log FILE]
 *   rwriter check --addr A --port P --ids FILE [--prefix w]
 *
 * The writer sends write i (0, 1, 2, ...) at start + k * interval
 * (CLOCK_MONOTONIC, absolute slots; slots missed while a command blocked
 * are skipped and counted): SET <prefix>:<i> <i>, then WAIT 1 <wait-ms>.
 * Write i is acknowledged when WAIT answers >= 1: a replica has it (the
 * sync-mode acknowledgement of DESIGN.md, Data protection).  With
 * --no-wait there is no WAIT and a write is acknowledged when SET
 * answers OK (what a plain client, e.g. of Sentinel, takes as done).
 * Both are recorded either way: "set_ok" counts the writes the server
 * accepted, "acked" the acknowledged ones.
 *
 * Connections: without --sentinel, to --addr (the VIP).  With
 * --sentinel, every (re)connect first asks the sentinels in turn (the
 * last one that answered first) for the master of --master-name and
 * checks with ROLE that the server it got is a master (a Sentinel
 * client's duty).  Connect and command timeouts are short (CONNECT_MS,
 * COMMAND_MS; WAIT gets wait-ms on top), and any error drops the
 * connection, so the next slot reconnects: the writer measures an
 * outage, it does not sit in one.  On connect, CONFIG GET
 * bind names the server (its first bind address), for "servers".
 *
 * Output, when the duration is over or on SIGTERM/SIGINT: the ids of
 * the acknowledged writes, one per line, to --ids FILE (default
 * FILE.ids), the ids SET accepted to that name + ".set", and one JSON
 * object to --out FILE (written atomically through a rename):
 *
 *   {"mode":"wait","sent":N,"acked":N,"set_ok":N,"errors":N,
 *    "wait_timeouts":N,"skipped":N,"connects":N,"outage_ms":X,
 *    "set_ok_outage_ms":X,"fault_ms":X|null,"outage_after_fault_ms":X|null,
 *    "set_ok_outage_after_fault_ms":X|null,"acked_ids_file":"...",
 *    "set_ok_ids_file":"...","last_error":"...",
 *    "servers":[{"addr":"192.0.2.1","first_ms":..,"last_ms":..,"acked":N}]}
 *
 * outage_ms is the longest time between two consecutive acknowledged
 * writes, by the time the acknowledgement arrived; the start and the
 * last send count as acknowledgements at the edges, so a server that
 * never acknowledges, or stops for good, shows an outage as long as that
 * silence.  set_ok_outage_ms is the same over accepted writes.  The
 * fault mark (SIGUSR1, or the appearance of --mark-file) records
 * fault_ms; the *_after_fault_ms values are then the longest silences
 * that end after it.
 *
 * --log FILE (the chaos runner's history) gets one line per write that
 * SET accepted, as it happens:
 *
 *   <id> <server> <send_ns> <set_ok_ns> <ack_ns>
 *
 * server is the first bind address of the server that accepted it (or
 * "-" when unknown); the times are CLOCK_MONOTONIC nanoseconds (shared
 * by every namespace of the machine): when SET was sent, when it
 * answered OK, when WAIT answered >= 1 (-1 when the write was not
 * acknowledged; with --no-wait the same as set_ok_ns).
 *
 * check reads every id of --ids back from one server (MGET in batches)
 * and prints {"checked":N,"missing":N,"missing_ids":[first 20]}: a key
 * that is absent or holds another value is missing.  Exit status 0 when
 * the check ran (whatever it found), 1 when the server could not be
 * read, 2 on bad usage.
 *
 * Everything is bounded: --duration-ms (at most one hour), every
 * connect and command by its timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "rwriter"
#include "tool_util.h"

enum {
	MAX_DURATION_MS = 3600 * 1000,
	MAX_SENTINELS = 8,
	MAX_SERVERS = 8,
	CONNECT_MS = 100,	/* connect to a server or sentinel */
	COMMAND_MS = 200,	/* any command; WAIT gets wait-ms on top */
	SENTINEL_MS = 100,	/* per sentinel, connect and ask */
	CHECK_TIMEOUT_MS = 2000,
	CHECK_BATCH = 500,
	MISSING_SHOWN = 20,
	HOST_MAX = 64,
	ERR_MAX = 160,
};

enum { W_SET_OK = 1, W_ACKED = 2 };

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t mark_requested;
static volatile int64_t mark_ns;

static struct timeval tv_ms(long msec)
{
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	return tv;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The fault mark is stamped in the handler itself: the main loop may be
 * inside a blocking command for a few hundred ms. */
static void on_mark(int sig)
{
	(void)sig;
	if (!mark_requested) {
		mark_ns = now_ns();
		mark_requested = 1;
	}
}

/* The key prefix goes into keys and JSON: keep it plain. */
static const char *parse_prefix(const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n > 32 || strspn(text, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_-") != n)
		die("--prefix: expected 1-32 letters, digits, _ or -", text);
	return text;
}

/* Print s as a JSON string. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ---- the writer ------------------------------------------------------ */

struct endpoint {
	char host[HOST_MAX];
	int port;
};

/* A server that acknowledged writes, named by its first bind address. */
struct server {
	char addr[HOST_MAX];
	int64_t first, last;
	uint64_t acked;
};

/* Silences between acknowledgements, of one kind (acked or set_ok). */
struct timeline {
	int64_t last;			/* newest acknowledgement */
	int64_t outage;			/* longest silence */
	int64_t outage_after_fault;	/* longest one ending after it */
};

struct writer {
	/* options */
	struct endpoint direct;
	struct endpoint sentinel[MAX_SENTINELS];
	int n_sentinels;
	const char *master_name;
	const char *prefix;
	bool no_wait;
	long wait_ms;
	int64_t interval;

	/* the connection and the server behind it */
	redisContext *ctx;
	struct server *server;

	/* per write id: W_SET_OK | W_ACKED */
	uint8_t *flags;
	size_t slots;

	uint64_t sent, acked, set_ok, errors, wait_timeouts, skipped;
	uint64_t connects;
	int64_t start, last_send, fault;
	struct timeline t_acked, t_set;
	struct server servers[MAX_SERVERS];
	int n_servers;
	char last_error[2 * ERR_MAX];
	FILE *log;			/* --log, or NULL */
};

static void note_error(struct writer *w, const char *what, const char *why)
{
	/* A message cut short is still a message (snprintf ends it). */
	if (snprintf(w->last_error, sizeof(w->last_error), "%s: %s", what,
		     why ? why : "unknown error") >= (int)sizeof(w->last_error))
		return;
}

static void drop_connection(struct writer *w)
{
	if (w->ctx)
		redisFree(w->ctx);
	w->ctx = NULL;
	w->server = NULL;
}

/* An acknowledgement (of either kind) arrived at time t. */
static void timeline_mark(struct writer *w, struct timeline *tl, int64_t t)
{
	int64_t from = tl->last ? tl->last : w->start;
	int64_t gap = t - from;

	if (gap > tl->outage)
		tl->outage = gap;
	if (w->fault && t >= w->fault && gap > tl->outage_after_fault)
		tl->outage_after_fault = gap;
	tl->last = t;
}

static struct server *server_named(struct writer *w, const char *addr)
{
	for (int i = 0; i < w->n_servers; i++)
		if (strcmp(w->servers[i].addr, addr) == 0)
			return &w->servers[i];
	if (w->n_servers == MAX_SERVERS)
		return NULL;
	snprintf(w->servers[w->n_servers].addr, HOST_MAX, "%s", addr);
	return &w->servers[w->n_servers++];
}

static redisContext *connect_to(const char *host, int port, long timeout_ms,
				char *why, size_t why_len)
{
	redisContext *c = redisConnectWithTimeout(host, port,
						  tv_ms(timeout_ms));

	if (!c) {
		snprintf(why, why_len, "%s:%d: out of memory", host, port);
		return NULL;
	}
	if (c->err) {
		snprintf(why, why_len, "%s:%d: %s", host, port, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv_ms(timeout_ms)) != REDIS_OK) {
		snprintf(why, why_len, "%s:%d: cannot set a timeout", host,
			 port);
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Ask the sentinels, in turn, where the master is; 0 and *out set, or
 * -1 with w->last_error set. */
static int ask_sentinels(struct writer *w, struct endpoint *out)
{
	char why[ERR_MAX] = "no sentinel answered";

	for (int i = 0; i < w->n_sentinels; i++) {
		const struct endpoint *s = &w->sentinel[i];
		redisContext *c = connect_to(s->host, s->port, SENTINEL_MS,
					     why, sizeof(why));
		redisReply *r;

		if (!c)
			continue;
		r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
				 w->master_name);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING) {
			snprintf(out->host, HOST_MAX, "%s",
				 r->element[0]->str);
			out->port = atoi(r->element[1]->str);
			freeReplyObject(r);
			redisFree(c);
			/* Ask the one that answered first next time (as
			 * redis-py's Sentinel client does): a dead sentinel
			 * costs its timeout once, not on every reconnect. */
			if (i) {
				struct endpoint t = w->sentinel[0];

				w->sentinel[0] = w->sentinel[i];
				w->sentinel[i] = t;
			}
			return 0;
		}
		snprintf(why, sizeof(why), "sentinel %.40s:%d: %.60s", s->host,
			 s->port, !r ? c->errstr : "no master known");
		if (r)
			freeReplyObject(r);
		redisFree(c);
	}
	note_error(w, "sentinels", why);
	return -1;
}

/* Is the server behind c a master (ROLE)? */
static bool is_master(redisContext *c)
{
	redisReply *r = redisCommand(c, "ROLE");
	bool yes = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		   r->element[0]->type == REDIS_REPLY_STRING &&
		   strcmp(r->element[0]->str, "master") == 0;

	if (r)
		freeReplyObject(r);
	return yes;
}

/* The server's first bind address, or fallback. */
static void server_addr(redisContext *c, const char *fallback, char *out)
{
	redisReply *r = redisCommand(c, "CONFIG GET bind");

	snprintf(out, HOST_MAX, "%s", fallback);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[1]->str[0] != '\0') {
		snprintf(out, HOST_MAX, "%s", r->element[1]->str);
		out[strcspn(out, " ")] = '\0';
	}
	if (r)
		freeReplyObject(r);
}

/* Connect to the current master: the direct address, or the one the
 * sentinels name.  0, or -1 with w->last_error set. */
static int reconnect(struct writer *w)
{
	struct endpoint to = w->direct;
	char why[ERR_MAX], addr[HOST_MAX];

	drop_connection(w);
	if (w->n_sentinels && ask_sentinels(w, &to) < 0)
		return -1;
	w->ctx = connect_to(to.host, to.port, CONNECT_MS, why, sizeof(why));
	if (!w->ctx) {
		note_error(w, "connect", why);
		return -1;
	}
	if (w->n_sentinels && !is_master(w->ctx)) {
		snprintf(why, sizeof(why), "%s:%d is not a master (yet)",
			 to.host, to.port);
		note_error(w, "connect", why);
		drop_connection(w);
		return -1;
	}
	server_addr(w->ctx, to.host, addr);
	w->server = server_named(w, addr);
	w->connects++;
	return 0;
}

/* A command failed: an error reply or a broken connection.  Either way
 * the connection goes: the next slot reconnects (and, with sentinels,
 * asks again where the master is). */
static void command_failed(struct writer *w, const char *cmd,
			   redisReply *r)
{
	note_error(w, cmd, !r ? w->ctx->errstr :
		   r->str ? r->str : "unexpected reply");
	if (r)
		freeReplyObject(r);
	w->errors++;
	drop_connection(w);
}

static void acknowledged(struct writer *w, uint64_t id, int64_t t)
{
	w->flags[id] |= W_ACKED;
	w->acked++;
	timeline_mark(w, &w->t_acked, t);
	if (w->server) {
		if (!w->server->acked)
			w->server->first = t;
		w->server->last = t;
		w->server->acked++;
	}
}

/* One line of --log: a write SET accepted, acknowledged at ack (or -1). */
static void log_write(struct writer *w, uint64_t id, int64_t send,
		      int64_t set, int64_t ack)
{
	if (!w->log)
		return;
	fprintf(w->log, "%" PRIu64 " %s %" PRId64 " %" PRId64 " %" PRId64
		"\n", id, w->server ? w->server->addr : "-", send, set, ack);
}

/* Write number id: SET, then (unless --no-wait) WAIT 1 wait-ms. */
static void write_one(struct writer *w, uint64_t id)
{
	redisReply *r;
	int64_t t, send;

	if (!w->ctx && reconnect(w) < 0) {
		w->errors++;
		return;
	}
	send = now_ns();
	r = redisCommand(w->ctx, "SET %s:%" PRIu64 " %" PRIu64, w->prefix,
			 id, id);
	if (!r || r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK")) {
		command_failed(w, "SET", r);
		return;
	}
	freeReplyObject(r);
	t = now_ns();
	w->flags[id] |= W_SET_OK;
	w->set_ok++;
	timeline_mark(w, &w->t_set, t);
	if (w->no_wait) {
		log_write(w, id, send, t, t);
		acknowledged(w, id, t);
		return;
	}
	redisSetTimeout(w->ctx, tv_ms(w->wait_ms + COMMAND_MS));
	r = redisCommand(w->ctx, "WAIT 1 %ld", w->wait_ms);
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		log_write(w, id, send, t, -1);
		command_failed(w, "WAIT", r);
		return;
	}
	redisSetTimeout(w->ctx, tv_ms(COMMAND_MS));
	if (r->integer >= 1) {
		int64_t ack = now_ns();

		log_write(w, id, send, t, ack);
		acknowledged(w, id, ack);
	} else {
		log_write(w, id, send, t, -1);
		w->wait_timeouts++;
	}
	freeReplyObject(r);
}

static void check_mark(struct writer *w, const char *mark_file)
{
	struct stat st;

	if (w->fault)
		return;
	if (mark_requested)
		w->fault = mark_ns;
	else if (mark_file && stat(mark_file, &st) == 0)
		w->fault = now_ns();
}

/* Write on the absolute schedule until the deadline or a stop signal. */
static void writer_loop(struct writer *w, int64_t duration,
			const char *mark_file, const sigset_t *waitmask)
{
	int64_t end = w->start + duration;
	size_t next = 0;

	while (!stop_requested && next < w->slots) {
		int64_t t = now_ns();
		int64_t slot = w->start + (int64_t)next * w->interval;
		struct timespec ts;

		check_mark(w, mark_file);
		if (t >= end)
			break;
		if (t < slot) {
			ts = until(slot);
			ppoll(NULL, 0, &ts, waitmask);
			continue;
		}
		w->last_send = t;
		write_one(w, w->sent++);
		check_mark(w, mark_file);
		/* Skip the slots a blocking command made us miss. */
		next++;
		t = now_ns();
		while (next < w->slots &&
		       w->start + (int64_t)next * w->interval <=
		       t - w->interval) {
			next++;
			w->skipped++;
		}
	}
	/* The last send is a virtual acknowledgement at the edge: silence
	 * until the end of sending counts as outage. */
	if (w->last_send > w->t_acked.last)
		timeline_mark(w, &w->t_acked, w->last_send);
	if (w->last_send > w->t_set.last)
		timeline_mark(w, &w->t_set, w->last_send);
	drop_connection(w);
}

static void write_ids(const struct writer *w, const char *path, int flag)
{
	char tmp[PATH_MAX];
	FILE *f;

	f = atomic_open(path, tmp);
	for (uint64_t id = 0; id < w->sent; id++)
		if (w->flags[id] & flag)
			fprintf(f, "%" PRIu64 "\n", id);
	atomic_close(f, tmp, path);
}

static void print_writer(FILE *f, const struct writer *w,
			 const char *ids, const char *set_ids)
{
	fprintf(f, "{\"mode\":\"%s\",\"sent\":%" PRIu64 ",\"acked\":%" PRIu64
		",\"set_ok\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"wait_timeouts\":%" PRIu64 ",\"skipped\":%" PRIu64
		",\"connects\":%" PRIu64 ",\"outage_ms\":%.3f"
		",\"set_ok_outage_ms\":%.3f,",
		w->no_wait ? "no-wait" : "wait", w->sent, w->acked,
		w->set_ok, w->errors, w->wait_timeouts, w->skipped,
		w->connects, ms(w->t_acked.outage), ms(w->t_set.outage));
	json_ms_or_null(f, "fault_ms", w->fault, w->fault - w->start);
	json_ms_or_null(f, "outage_after_fault_ms", w->fault,
			w->t_acked.outage_after_fault);
	json_ms_or_null(f, "set_ok_outage_after_fault_ms", w->fault,
			w->t_set.outage_after_fault);
	fprintf(f, "\"interval_ms\":%.3f,\"wait_ms\":%ld,",
		ms(w->interval), w->no_wait ? 0 : w->wait_ms);
	fprintf(f, "\"acked_ids_file\":");
	json_str(f, ids);
	fprintf(f, ",\"set_ok_ids_file\":");
	json_str(f, set_ids);
	fprintf(f, ",\"last_error\":");
	json_str(f, w->last_error);
	fprintf(f, ",\"servers\":[");
	for (int i = 0; i < w->n_servers; i++) {
		const struct server *s = &w->servers[i];

		fprintf(f, "%s{\"addr\":", i ? "," : "");
		json_str(f, s->addr);
		if (s->acked)
			fprintf(f, ",\"first_ms\":%.3f,\"last_ms\":%.3f",
				ms(s->first - w->start),
				ms(s->last - w->start));
		else
			fprintf(f, ",\"first_ms\":null,\"last_ms\":null");
		fprintf(f, ",\"acked\":%" PRIu64 "}", s->acked);
	}
	fprintf(f, "]}\n");
}

static void write_result(const struct writer *w, const char *out,
			 const char *ids)
{
	char set_ids[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	if (snprintf(set_ids, sizeof(set_ids), "%s.set", ids) >=
	    (int)sizeof(set_ids))
		die("--ids: path too long", ids);
	write_ids(w, ids, W_ACKED);
	write_ids(w, set_ids, W_SET_OK);
	f = atomic_open(out, tmp);
	print_writer(f, w, ids, set_ids);
	atomic_close(f, tmp, out);
}

/* "host:port,host:port" into w->sentinel. */
static void parse_sentinels(struct writer *w, const char *text)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(text) >= sizeof(buf))
		die("--sentinel: list too long", text);
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		struct endpoint *e;

		if (w->n_sentinels == MAX_SENTINELS)
			die("--sentinel: too many sentinels", text);
		if (!colon || colon == tok ||
		    (size_t)(colon - tok) >= HOST_MAX)
			die("--sentinel: expected HOST:PORT,...", tok);
		e = &w->sentinel[w->n_sentinels++];
		*colon = '\0';
		snprintf(e->host, HOST_MAX, "%s", tok);
		e->port = (int)parse_num("--sentinel port", colon + 1, 65535);
	}
	if (!w->n_sentinels)
		die("--sentinel: expected HOST:PORT,...", text);
}

static void setup_signals(sigset_t *waitmask)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction mark = { .sa_handler = on_mark,
				  .sa_flags = SA_RESTART };
	sigset_t block;

	/* Stop requests wait for the next slot (commands are bounded);
	 * the fault mark is taken at once (on_mark). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGUSR1, &mark, NULL);
	sigemptyset(waitmask);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1UL);
}

static const char writer_usage[] =
	"rwriter --addr A --port P --duration-ms N --out FILE "
	"[--interval-ms 10] [--wait-ms 200] [--no-wait] [--prefix w] "
	"[--sentinel H:P,... --master-name NAME] [--ids FILE] "
	"[--mark-file F] [--log FILE]";

static int writer_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'x' },
		{ "sentinel", required_argument, NULL, 's' },
		{ "master-name", required_argument, NULL, 'm' },
		{ "ids", required_argument, NULL, 'I' },
		{ "mark-file", required_argument, NULL, 'M' },
		{ "out", required_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'L' },
		{ 0 }
	};
	static struct writer w;
	const char *out = NULL, *ids = NULL, *mark_file = NULL;
	const char *log = NULL;
	char ids_default[PATH_MAX];
	long duration_ms = 0, interval_ms = 10;
	sigset_t waitmask;
	int c;

	w.prefix = "w";
	w.wait_ms = 200;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strlen(optarg) >= HOST_MAX)
				die("--addr: too long", optarg);
			snprintf(w.direct.host, HOST_MAX, "%s", optarg);
			break;
		case 'p':
			w.direct.port = (int)parse_num("--port", optarg,
						       65535);
			break;
		case 'd':
			duration_ms = parse_num("--duration-ms", optarg,
					       MAX_DURATION_MS);
			break;
		case 'i':
			interval_ms = parse_num("--interval-ms", optarg, 10000);
			break;
		case 'w':
			w.wait_ms = parse_num("--wait-ms", optarg, 60000);
			break;
		case 'n':
			w.no_wait = true;
			break;
		case 'x':
			w.prefix = parse_prefix(optarg);
			break;
		case 's':
			parse_sentinels(&w, optarg);
			break;
		case 'm':
			w.master_name = optarg;
			break;
		case 'I':
			ids = optarg;
			break;
		case 'M':
			mark_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'L':
			log = optarg;
			break;
		default:
			die("usage", writer_usage);
		}
	}
	if (optind != argc || !duration_ms || !out ||
	    (!w.n_sentinels && (!w.direct.host[0] || !w.direct.port)) ||
	    (w.n_sentinels && !w.master_name))
		die("usage", writer_usage);
	if (!ids) {
		snprintf(ids_default, sizeof(ids_default), "%s.ids", out);
		ids = ids_default;
	}
	w.interval = (int64_t)interval_ms * 1000000;
	w.slots = (size_t)(duration_ms / interval_ms) + 1;
	w.flags = calloc(w.slots, sizeof(*w.flags));
	if (!w.flags)
		die("out of memory", NULL);
	if (log) {
		w.log = fopen(log, "w");
		if (!w.log)
			die("--log: cannot write", log);
	}
	setup_signals(&waitmask);

	w.start = now_ns();
	writer_loop(&w, (int64_t)duration_ms * 1000000, mark_file,
		    &waitmask);
	if (w.log && fclose(w.log) != 0)
		die("--log: cannot write", log);
	write_result(&w, out, ids);
	free(w.flags);
	return 0;
}

/* ---- check ------------------------------------------------------------ */

struct check {
	uint64_t checked, missing;
	uint64_t shown[MISSING_SHOWN];
	int n_shown;
};

static void missing_id(struct check *ck, uint64_t id)
{
	ck->missing++;
	if (ck->n_shown < MISSING_SHOWN)
		ck->shown[ck->n_shown++] = id;
}

/* MGET one batch of ids; 0, or -1 with a message on stderr. */
static int check_batch(redisContext *c, const char *prefix,
		       const uint64_t *ids, size_t n, struct check *ck)
{
	static char keys[CHECK_BATCH + 1][48];
	const char *argv[CHECK_BATCH + 1];
	char want[24];
	redisReply *r;

	argv[0] = "MGET";
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i + 1], sizeof(keys[i + 1]), "%s:%" PRIu64,
			 prefix, ids[i]);
		argv[i + 1] = keys[i + 1];
	}
	r = redisCommandArgv(c, (int)n + 1, argv, NULL);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		fprintf(stderr, "rwriter check: MGET: %s\n",
			!r ? c->errstr : r->type == REDIS_REPLY_ERROR ?
			r->str : "unexpected reply");
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = r->element[i];

		snprintf(want, sizeof(want), "%" PRIu64, ids[i]);
		ck->checked++;
		if (e->type != REDIS_REPLY_STRING || strcmp(e->str, want))
			missing_id(ck, ids[i]);
	}
	freeReplyObject(r);
	return 0;
}

static int check_run(redisContext *c, FILE *in, const char *prefix,
		     struct check *ck)
{
	static uint64_t batch[CHECK_BATCH];
	char line[64];
	size_t n = 0;

	while (fgets(line, sizeof(line), in)) {
		char *end;
		unsigned long long id = strtoull(line, &end, 10);

		if (end == line || (*end != '\n' && *end != '\0')) {
			fprintf(stderr, "rwriter check: bad id line: %s",
				line);
			return -1;
		}
		batch[n++] = id;
		if (n == CHECK_BATCH) {
			if (check_batch(c, prefix, batch, n, ck) < 0)
				return -1;
			n = 0;
		}
	}
	if (n && check_batch(c, prefix, batch, n, ck) < 0)
		return -1;
	return 0;
}

static int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "ids", required_argument, NULL, 'I' },
		{ "prefix", required_argument, NULL, 'x' },
		{ 0 }
	};
	const char *addr = NULL, *ids = NULL, *prefix = "w";
	char why[ERR_MAX];
	struct check ck = { 0 };
	redisContext *c;
	long port = 0;
	FILE *in;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = parse_num("--port", optarg, 65535);
			break;
		case 'I':
			ids = optarg;
			break;
		case 'x':
			prefix = parse_prefix(optarg);
			break;
		default:
			die("usage", "rwriter check --addr A --port P "
			    "--ids FILE [--prefix w]");
		}
	}
	if (optind != argc || !addr || !port || !ids)
		die("usage", "rwriter check --addr A --port P --ids FILE "
		    "[--prefix w]");
	in = fopen(ids, "r");
	if (!in) {
		fprintf(stderr, "rwriter check: %s: %s\n", ids,
			strerror(errno));
		return 1;
	}
	c = connect_to(addr, (int)port, CHECK_TIMEOUT_MS, why, sizeof(why));
	if (!c) {
		fprintf(stderr, "rwriter check: connect %s\n", why);
		fclose(in);
		return 1;
	}
	rc = check_run(c, in, prefix, &ck);
	redisFree(c);
	fclose(in);
	if (rc < 0)
		return 1;
	printf("{\"checked\":%" PRIu64 ",\"missing\":%" PRIu64
	       ",\"missing_ids\":[", ck.checked, ck.missing);
	for (int i = 0; i < ck.n_shown; i++)
		printf("%s%" PRIu64, i ? "," : "", ck.shown[i]);
	printf("]}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	return writer_main(argc, argv);
}
