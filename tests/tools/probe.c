/*
 * probe - a UDP service and the client that measures how long it was
 * unreachable.  The failover bench and the system tests use it to see
 * what a client of the VIP sees: who answered, and the longest silence.
 *
 *   probe serve --port 7000 --name a [--duration-ms N]
 *   probe client --addr 192.0.2.100 --port 7000 [--interval-ms 10]
 *                --duration-ms N [--mark-file F] [--out FILE]
 *
 * serve answers every "HPPROBE <seq>" datagram with "HPPROBE <seq>
 * <name>", from the address the request was sent to (IP_PKTINFO), so a
 * reply to the VIP comes from the VIP.
 *
 * client sends request k at start + k * interval (CLOCK_MONOTONIC,
 * absolute deadlines: a late wake-up does not shift later sends; a slot
 * missed by more than one interval is skipped and counted).  After the
 * last send it waits 100 ms for late replies, then prints one JSON object
 * (to stdout, or atomically to --out FILE):
 *
 *   {"sent":N,"received":N,"max_gap_ms":X,"outage_ms":X,
 *    "fault_ms":X|null,"outage_after_fault_ms":X|null,
 *    "responders":[{"name":"a","first_ms":..,"last_ms":..,"count":N}],...}
 *
 * outage_ms is the longest time between two consecutive replies, by
 * time of receipt; the first send and the last send count as replies at
 * the edges, so a service that never answers, or stops answering for
 * good, shows an outage as long as that silence.  max_gap_ms is the same
 * seen from the sender: the longest time between the sends of two
 * consecutive answered requests.
 *
 * The fault mark: SIGUSR1, or the appearance of --mark-file (checked at
 * every send), records fault_ms; outage_after_fault_ms is then the
 * longest silence that ends after the mark.
 *
 * Every run is bounded: client --duration-ms is required (at most one
 * hour); serve stops after --duration-ms (default 10 minutes) or on
 * SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "probe"
#include "tool_util.h"

enum {
	MAX_DURATION_MS = 3600 * 1000,
	SERVE_DEFAULT_MS = 600 * 1000,
	DRAIN_MS = 100,
	MAX_RESPONDERS = 8,
	NAME_MAX_LEN = 32,
	MSG_MAX = 128,
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t mark_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_mark(int sig)
{
	(void)sig;
	mark_requested = 1;
}

/* Signals are blocked except inside ppoll(), so none is lost between
 * the check of the flag and the wait. */
static void setup_signals(sigset_t *waitmask)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction mark = { .sa_handler = on_mark };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGUSR1, &mark, NULL);
	sigemptyset(waitmask);
	prctl(PR_SET_TIMERSLACK, 1UL);
}

/* ---- serve ---------------------------------------------------------- */

/* Answer one request, from the address it was sent to. */
static void answer(int fd, const char *name)
{
	char buf[MSG_MAX], reply[MSG_MAX + NAME_MAX_LEN + 2];
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in peer;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = {
		.msg_name = &peer, .msg_namelen = sizeof(peer),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct in_pktinfo *pi = NULL;
	unsigned long long seq;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	int len;

	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "HPPROBE %llu", &seq) != 1)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			pi = (struct in_pktinfo *)CMSG_DATA(c);
	len = snprintf(reply, sizeof(reply), "HPPROBE %llu %s", seq, name);
	iov.iov_base = reply;
	iov.iov_len = (size_t)len;
	mh.msg_flags = 0;
	if (pi) {
		/* Reply from the destination of the request (the VIP). */
		pi->ipi_spec_dst = pi->ipi_addr;
		pi->ipi_ifindex = 0;
		mh.msg_controllen = CMSG_SPACE(sizeof(*pi));
	} else {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	sendmsg(fd, &mh, MSG_DONTWAIT);
}

static int serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ 0 }
	};
	const char *name = NULL;
	long port = 0, duration_ms = SERVE_DEFAULT_MS;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sigset_t waitmask;
	int fd, on = 1, c;
	int64_t end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = parse_num("--port", optarg, 65535);
			break;
		case 'n':
			name = optarg;
			break;
		case 'd':
			duration_ms = parse_num("--duration-ms", optarg,
					       MAX_DURATION_MS);
			break;
		default:
			die("usage", "probe serve --port N --name NAME "
			    "[--duration-ms N]");
		}
	}
	if (!port || !name || strlen(name) >= NAME_MAX_LEN ||
	    strchr(name, ' ') || strchr(name, '"'))
		die("usage", "probe serve --port N --name NAME (no spaces "
		    "or quotes, under 32 characters)");
	setup_signals(&waitmask);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind", strerror(errno));

	end = now_ns() + (int64_t)duration_ms * 1000000;
	while (!stop_requested && now_ns() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec ts = until(end);

		if (ppoll(&pfd, 1, &ts, &waitmask) > 0)
			for (int k = 0; k < 64; k++)
				answer(fd, name);
	}
	close(fd);
	return 0;
}

/* ---- client --------------------------------------------------------- */

struct responder {
	char name[NAME_MAX_LEN];
	int64_t first, last;
	uint64_t count;
};

struct client {
	int fd;
	struct sockaddr_in dst;
	int64_t start, interval;
	size_t slots;
	int64_t *sent_at;	/* per seq; 0 = not sent */
	bool *answered;
	uint64_t sent, received, duplicates, skipped, late;
	int64_t last_send;	/* time of the newest send */
	int64_t last_rx;	/* receipt time of the newest reply */
	int64_t outage;		/* longest receipt gap */
	int64_t fault;		/* mark time, 0 = none */
	int64_t outage_after_fault;
	struct responder resp[MAX_RESPONDERS];
	int n_resp;
	const char *last_name;
	uint64_t responder_changes;
};

/* A silence ends at time t: account for it. */
static void close_gap(struct client *cl, int64_t from, int64_t t)
{
	int64_t gap = t - from;

	if (gap > cl->outage)
		cl->outage = gap;
	if (cl->fault && t >= cl->fault && gap > cl->outage_after_fault)
		cl->outage_after_fault = gap;
}

static struct responder *responder(struct client *cl, const char *name)
{
	for (int i = 0; i < cl->n_resp; i++)
		if (strcmp(cl->resp[i].name, name) == 0)
			return &cl->resp[i];
	if (cl->n_resp == MAX_RESPONDERS)
		return NULL;
	snprintf(cl->resp[cl->n_resp].name, NAME_MAX_LEN, "%s", name);
	return &cl->resp[cl->n_resp++];
}

static void on_reply(struct client *cl, const char *buf, int64_t t)
{
	unsigned long long seq;
	char name[NAME_MAX_LEN];
	struct responder *r;

	if (sscanf(buf, "HPPROBE %llu %31s", &seq, name) != 2 ||
	    seq >= cl->slots || !cl->sent_at[seq])
		return;
	if (cl->answered[seq]) {
		cl->duplicates++;
		return;
	}
	cl->answered[seq] = true;
	cl->received++;
	if (t - cl->sent_at[seq] > 10 * cl->interval)
		cl->late++;
	close_gap(cl, cl->last_rx ? cl->last_rx : cl->start, t);
	cl->last_rx = t;
	r = responder(cl, name);
	if (!r)
		return;
	if (!r->count)
		r->first = t;
	r->last = t;
	r->count++;
	if (cl->last_name && strcmp(cl->last_name, r->name) != 0)
		cl->responder_changes++;
	cl->last_name = r->name;
}

static void receive_all(struct client *cl)
{
	char buf[MSG_MAX];

	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(cl->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		if (n <= 0)
			return;
		buf[n] = '\0';
		on_reply(cl, buf, now_ns());
	}
}

static void send_one(struct client *cl, size_t seq, int64_t t)
{
	char buf[MSG_MAX];
	int len = snprintf(buf, sizeof(buf), "HPPROBE %zu", seq);

	cl->sent_at[seq] = t;
	cl->last_send = t;
	cl->sent++;
	/* A send error (no route, unreachable) is an unanswered request. */
	sendto(cl->fd, buf, (size_t)len, MSG_DONTWAIT,
	       (struct sockaddr *)&cl->dst, sizeof(cl->dst));
}

static void check_mark(struct client *cl, const char *mark_file)
{
	struct stat st;

	if (cl->fault)
		return;
	if (mark_requested || (mark_file && stat(mark_file, &st) == 0))
		cl->fault = now_ns();
}

/* Longest time between the sends of two consecutive answered requests. */
static int64_t max_send_gap(const struct client *cl)
{
	int64_t prev = cl->start, best = 0;

	for (size_t s = 0; s < cl->slots; s++) {
		if (!cl->answered[s])
			continue;
		if (cl->sent_at[s] - prev > best)
			best = cl->sent_at[s] - prev;
		prev = cl->sent_at[s];
	}
	if (cl->last_send - prev > best)
		best = cl->last_send - prev;
	return best;
}

static void print_client(FILE *f, const struct client *cl)
{
	fprintf(f, "{\"sent\":%llu,\"received\":%llu,\"max_gap_ms\":%.3f,"
		"\"outage_ms\":%.3f,", (unsigned long long)cl->sent,
		(unsigned long long)cl->received, ms(max_send_gap(cl)),
		ms(cl->outage));
	json_ms_or_null(f, "fault_ms", cl->fault, cl->fault - cl->start);
	json_ms_or_null(f, "outage_after_fault_ms", cl->fault,
			cl->outage_after_fault);
	fprintf(f, "\"interval_ms\":%.3f,\"skipped\":%llu,\"late\":%llu,"
		"\"duplicates\":%llu,\"responder_changes\":%llu,",
		ms(cl->interval), (unsigned long long)cl->skipped,
		(unsigned long long)cl->late,
		(unsigned long long)cl->duplicates,
		(unsigned long long)cl->responder_changes);
	fprintf(f, "\"last_responder\":");
	if (cl->last_name)
		fprintf(f, "\"%s\",", cl->last_name);
	else
		fprintf(f, "null,");
	fprintf(f, "\"responders\":[");
	for (int i = 0; i < cl->n_resp; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"first_ms\":%.3f,"
			"\"last_ms\":%.3f,\"count\":%llu}", i ? "," : "",
			cl->resp[i].name, ms(cl->resp[i].first - cl->start),
			ms(cl->resp[i].last - cl->start),
			(unsigned long long)cl->resp[i].count);
	fprintf(f, "]}\n");
}

static void write_client(const struct client *cl, const char *out)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!out) {
		print_client(stdout, cl);
		return;
	}
	f = atomic_open(out, tmp);
	print_client(f, cl);
	atomic_close(f, tmp, out);
}

/* Send on the absolute schedule until the deadline, then drain. */
static void client_loop(struct client *cl, int64_t duration,
			const char *mark_file, const sigset_t *waitmask)
{
	int64_t send_end = cl->start + duration;
	int64_t drain_end = send_end + (int64_t)DRAIN_MS * 1000000;
	size_t next = 0;

	while (!stop_requested) {
		int64_t t = now_ns(), slot = cl->start + (int64_t)next *
			cl->interval, wake;
		struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
		struct timespec ts;

		check_mark(cl, mark_file);
		if (t >= drain_end)
			break;
		if (t < send_end && next < cl->slots && t >= slot) {
			send_one(cl, next, t);
			/* Skip the slots a stall made us miss. */
			next++;
			while (next < cl->slots && cl->start + (int64_t)next *
			       cl->interval <= t - cl->interval) {
				next++;
				cl->skipped++;
			}
			continue;
		}
		slot = cl->start + (int64_t)next * cl->interval;
		wake = (t < send_end && slot < send_end) ? slot : drain_end;
		ts = until(wake);
		if (ppoll(&pfd, 1, &ts, waitmask) > 0)
			receive_all(cl);
	}
	/* The last send is a virtual reply at the edge: silence until the
	 * end of sending counts as outage. */
	if (cl->last_send > cl->last_rx)
		close_gap(cl, cl->last_rx ? cl->last_rx : cl->start,
			  cl->last_send);
}

static int client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "mark-file", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 }
	};
	static struct client cl;
	const char *mark_file = NULL, *out = NULL;
	long port = 0, interval_ms = 10, duration_ms = 0;
	sigset_t waitmask;
	int c;

	cl.dst.sin_family = AF_INET;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &cl.dst.sin_addr) != 1)
				die("--addr: expected an IPv4 address", optarg);
			break;
		case 'p':
			port = parse_num("--port", optarg, 65535);
			break;
		case 'i':
			interval_ms = parse_num("--interval-ms", optarg, 10000);
			break;
		case 'd':
			duration_ms = parse_num("--duration-ms", optarg,
					       MAX_DURATION_MS);
			break;
		case 'm':
			mark_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			die("usage", "probe client --addr A --port N "
			    "--duration-ms N [--interval-ms N] "
			    "[--mark-file F] [--out FILE]");
		}
	}
	if (!port || !duration_ms || !cl.dst.sin_addr.s_addr)
		die("usage", "probe client needs --addr, --port and "
		    "--duration-ms");
	cl.dst.sin_port = htons((uint16_t)port);
	cl.interval = (int64_t)interval_ms * 1000000;
	cl.slots = (size_t)(duration_ms / interval_ms) + 1;
	cl.sent_at = calloc(cl.slots, sizeof(*cl.sent_at));
	cl.answered = calloc(cl.slots, sizeof(*cl.answered));
	if (!cl.sent_at || !cl.answered)
		die("out of memory", NULL);
	setup_signals(&waitmask);
	cl.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cl.fd < 0)
		die("socket", strerror(errno));

	cl.start = now_ns();
	client_loop(&cl, (int64_t)duration_ms * 1000000, mark_file,
		    &waitmask);
	write_client(&cl, out);
	close(cl.fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: probe serve --port N --name NAME "
		"[--duration-ms N]\n"
		"       probe client --addr A --port N --duration-ms N "
		"[--interval-ms N]\n"
		"                    [--mark-file F] [--out FILE]\n");
	return 2;
}
