/*
 * vipwatch - watch which network namespaces hold one address, and say
 * whether two of them ever held it at the same instant.
 *
 * The system tests and the failover bench run it for the whole of a
 * scenario: invariant 1 of DESIGN.md (no split brain) is checked against
 * what the kernels of the servers actually had configured, not against
 * what the agents claim.
 *
 *   vipwatch --ns NAME --ns NAME ... --addr 192.0.2.100
 *            [--duration-ms N] [--out FILE] [--ready-file FILE]
 *
 * For each namespace we enter it (setns on /var/run/netns/NAME), open an
 * rtnetlink socket subscribed to the IPv4 and IPv6 address groups, and
 * go back; a socket stays bound to the namespace it was created in.  The
 * current addresses are then dumped once, so the initial state is known
 * before the first event.
 *
 * Two measures of overlap are kept:
 *   - dual_holder_ms: exact, event based.  Every address event is stamped
 *     with CLOCK_MONOTONIC when it is read; whenever the number of
 *     holders changes, the time spent at two or more holders is added.
 *   - dual_holder_samples: the combined state is sampled every 1 ms on
 *     an absolute schedule; a sample with two or more holders counts.
 * Events are read as soon as ppoll() reports them (the loop never sleeps
 * longer than until the next sample), so a 2 ms overlap shows up in both.
 *
 * Stops on SIGTERM or SIGINT, or when --duration-ms has passed (at most
 * one hour), then prints one JSON object to stdout or, written atomically
 * through a rename, to --out FILE:
 *
 *   {"dual_holder_samples":0,"dual_holder_ms":0.000,"samples":5012,
 *    "sample_max_gap_ms":1.08,"overruns":0,"transitions_dropped":0,
 *    "realtime":true,
 *    "initial":{"hp1a":true,"hp1b":false},"final":{...},
 *    "transitions":[{"t_ms":812.345,"ns":"hp1a","holds":false},...]}
 *
 * t_ms counts from the moment the initial dump finished; start_mono_ms
 * is that moment on CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_NS = 8,
	MAX_IFS = 16,		/* per namespace, holding the address */
	MAX_TRANSITIONS = 100000,
	SAMPLE_NS = 1000000,	/* 1 ms */
	MAX_DURATION_MS = 3600 * 1000,
	RCVBUF = 1 << 20,
};

/* One watched namespace. */
struct watched {
	const char *name;
	int ns_fd;			/* /var/run/netns/NAME */
	struct mnl_socket *events;	/* subscribed to address groups */
	int ifindex[MAX_IFS];		/* interfaces holding it */
	int n_if;
	bool initial;
	bool holds;
};

struct transition {
	int64_t t_ns;
	int ns;
	bool holds;
};

/* Everything the loop and the callbacks share. */
struct watch {
	struct watched ns[MAX_NS];
	int n_ns;
	int self_ns_fd;
	int family;
	uint8_t addr[16];
	size_t addr_len;

	int64_t start_ns;
	int holders;			/* namespaces holding right now */
	int64_t last_change_ns;
	int64_t dual_ns;
	uint64_t samples;
	uint64_t dual_samples;
	int64_t sample_max_gap_ns;
	uint64_t overruns;

	struct transition *tr;
	size_t n_tr;
	uint64_t tr_dropped;
	bool started;			/* initial dump done */
	bool realtime;			/* running SCHED_FIFO */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Start-up errors only: say what is wrong and exit 2. */
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vipwatch: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/*
 * A namespace starts or stops holding the address at time t.  Keeps the
 * holder count and the exact overlap sum; records the transition once
 * the initial state is known.
 */
static void set_holds(struct watch *w, int i, bool holds, int64_t t)
{
	struct watched *ns = &w->ns[i];

	if (ns->holds == holds)
		return;
	if (w->started && w->holders >= 2)
		w->dual_ns += t - w->last_change_ns;
	w->last_change_ns = t;
	ns->holds = holds;
	w->holders += holds ? 1 : -1;
	if (!w->started)
		return;
	if (w->n_tr == MAX_TRANSITIONS) {
		w->tr_dropped++;
		return;
	}
	w->tr[w->n_tr].t_ns = t;
	w->tr[w->n_tr].ns = i;
	w->tr[w->n_tr].holds = holds;
	w->n_tr++;
}

static void ifset_add(struct watched *ns, int ifindex)
{
	for (int k = 0; k < ns->n_if; k++)
		if (ns->ifindex[k] == ifindex)
			return;
	if (ns->n_if < MAX_IFS)
		ns->ifindex[ns->n_if++] = ifindex;
}

static void ifset_del(struct watched *ns, int ifindex)
{
	for (int k = 0; k < ns->n_if; k++) {
		if (ns->ifindex[k] == ifindex) {
			ns->ifindex[k] = ns->ifindex[--ns->n_if];
			return;
		}
	}
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Context for one batch of netlink messages from one namespace. */
struct batch {
	struct watch *w;
	int ns;
	int64_t t;
};

/* RTM_NEWADDR / RTM_DELADDR: is it our address, and on which interface. */
static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct batch *b = data;
	struct watch *w = b->w;
	struct watched *ns = &w->ns[b->ns];
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return MNL_CB_OK;
	if (ifa->ifa_family != w->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, tb);
	/* IFA_LOCAL is the local address; IFA_ADDRESS is the peer on
	 * point-to-point links and equals IFA_LOCAL elsewhere. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != w->addr_len)
		return MNL_CB_OK;
	if (memcmp(mnl_attr_get_payload(a), w->addr, w->addr_len) != 0)
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWADDR)
		ifset_add(ns, (int)ifa->ifa_index);
	else
		ifset_del(ns, (int)ifa->ifa_index);
	set_holds(w, b->ns, ns->n_if > 0, b->t);
	return MNL_CB_OK;
}

/*
 * Open a netlink socket inside namespace i: enter it, open, come back.
 * groups 0 gives a plain request socket.
 */
static struct mnl_socket *open_in_ns(struct watch *w, int i,
				     unsigned int groups)
{
	struct mnl_socket *nl;
	int rcvbuf = RCVBUF;

	if (setns(w->ns[i].ns_fd, CLONE_NEWNET) < 0)
		die("setns into %s failed (needs CAP_SYS_ADMIN)",
		    w->ns[i].name);
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0)
		die("rtnetlink socket in %s failed", w->ns[i].name);
	if (setns(w->self_ns_fd, CLONE_NEWNET) < 0)
		die("setns back from %s failed", w->ns[i].name);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	return nl;
}

/*
 * Ask namespace i for all its addresses and rebuild its interface set
 * from the answer.  Used at start and after an event overrun.
 */
static void dump_ns(struct watch *w, int i)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = open_in_ns(w, i, 0);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	unsigned int seq = (unsigned int)time(NULL);
	unsigned int portid = mnl_socket_get_portid(nl);
	struct batch b = { .w = w, .ns = i };
	int ret;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)w->family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die("address dump request in %s failed", w->ns[i].name);
	w->ns[i].n_if = 0;
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0)
			die("address dump in %s failed", w->ns[i].name);
		b.t = now_ns();
		ret = mnl_cb_run(buf, (size_t)ret, seq, portid, addr_cb, &b);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		die("address dump in %s: bad answer", w->ns[i].name);
	set_holds(w, i, w->ns[i].n_if > 0, now_ns());
	mnl_socket_close(nl);
}

static void open_all(struct watch *w)
{
	char path[PATH_MAX];

	w->self_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (w->self_ns_fd < 0)
		die("cannot open %s", "/proc/self/ns/net");
	for (int i = 0; i < w->n_ns; i++) {
		snprintf(path, sizeof(path), "/var/run/netns/%s",
			 w->ns[i].name);
		w->ns[i].ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (w->ns[i].ns_fd < 0)
			die("no network namespace %s", path);
		/* Subscribe before the dump so no change falls between. */
		w->ns[i].events = open_in_ns(w, i, RTMGRP_IPV4_IFADDR |
						   RTMGRP_IPV6_IFADDR);
		fcntl(mnl_socket_get_fd(w->ns[i].events), F_SETFL, O_NONBLOCK);
	}
	for (int i = 0; i < w->n_ns; i++) {
		dump_ns(w, i);
		w->ns[i].initial = w->ns[i].holds;
	}
}

/* Read every queued event of namespace i, each stamped when read. */
static void drain_ns(struct watch *w, int i)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct batch b = { .w = w, .ns = i };
	ssize_t n;

	for (int k = 0; k < 10000; k++) {
		n = mnl_socket_recvfrom(w->ns[i].events, buf, sizeof(buf));
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: the dump is the truth again. */
			w->overruns++;
			dump_ns(w, i);
			continue;
		}
		if (n <= 0)
			return;
		b.t = now_ns();
		mnl_cb_run(buf, (size_t)n, 0, 0, addr_cb, &b);
	}
}

static void sample(struct watch *w, int64_t t, int64_t *last_sample)
{
	w->samples++;
	if (w->holders >= 2)
		w->dual_samples++;
	if (*last_sample && t - *last_sample > w->sample_max_gap_ns)
		w->sample_max_gap_ns = t - *last_sample;
	*last_sample = t;
}

/* The loop: sample every 1 ms on an absolute schedule, read events as
 * they come, stop on a signal or at the deadline. */
static void run(struct watch *w, int64_t duration_ns)
{
	struct pollfd pfd[MAX_NS];
	sigset_t waitmask;
	int64_t next_sample = w->start_ns, last_sample = 0;
	int64_t end = w->start_ns + duration_ns;

	sigemptyset(&waitmask);
	for (int i = 0; i < w->n_ns; i++) {
		pfd[i].fd = mnl_socket_get_fd(w->ns[i].events);
		pfd[i].events = POLLIN;
	}
	while (!stop_requested) {
		int64_t t = now_ns(), wake;
		struct timespec ts;

		if (t >= next_sample) {
			sample(w, t, &last_sample);
			next_sample += SAMPLE_NS;
			/* Behind after a stall: skip, never burst. */
			if (next_sample <= t)
				next_sample = t + SAMPLE_NS;
		}
		if (t >= end)
			break;
		wake = next_sample < end ? next_sample : end;
		ts.tv_sec = (wake - t) / 1000000000;
		ts.tv_nsec = (wake - t) % 1000000000;
		/* Signals are blocked except while waiting here, so a
		 * SIGTERM can never slip in between the check and the wait. */
		if (ppoll(pfd, (nfds_t)w->n_ns, &ts, &waitmask) <= 0)
			continue;
		for (int i = 0; i < w->n_ns; i++)
			if (pfd[i].revents)
				drain_ns(w, i);
	}
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void print_states(FILE *f, const struct watch *w, bool initial)
{
	fprintf(f, "{");
	for (int i = 0; i < w->n_ns; i++)
		fprintf(f, "%s\"%s\":%s", i ? "," : "", w->ns[i].name,
			(initial ? w->ns[i].initial : w->ns[i].holds) ?
			"true" : "false");
	fprintf(f, "}");
}

static void print_json(FILE *f, const struct watch *w)
{
	fprintf(f, "{\"dual_holder_samples\":%llu,\"dual_holder_ms\":%.3f,",
		(unsigned long long)w->dual_samples, ms(w->dual_ns));
	fprintf(f, "\"samples\":%llu,\"sample_max_gap_ms\":%.3f,",
		(unsigned long long)w->samples, ms(w->sample_max_gap_ns));
	/* The start on CLOCK_MONOTONIC (shared by every namespace of the
	 * machine), so other records can be put on the same time line. */
	fprintf(f, "\"start_mono_ms\":%.3f,", ms(w->start_ns));
	fprintf(f, "\"overruns\":%llu,\"transitions_dropped\":%llu,"
		"\"realtime\":%s,", (unsigned long long)w->overruns,
		(unsigned long long)w->tr_dropped,
		w->realtime ? "true" : "false");
	fprintf(f, "\"initial\":");
	print_states(f, w, true);
	fprintf(f, ",\"final\":");
	print_states(f, w, false);
	fprintf(f, ",\"transitions\":[");
	for (size_t k = 0; k < w->n_tr; k++)
		fprintf(f, "%s{\"t_ms\":%.3f,\"ns\":\"%s\",\"holds\":%s}",
			k ? "," : "", ms(w->tr[k].t_ns - w->start_ns),
			w->ns[w->tr[k].ns].name,
			w->tr[k].holds ? "true" : "false");
	fprintf(f, "]}\n");
}

/* Write to FILE.tmp and rename, so a reader never sees half a result. */
static void write_out(const struct watch *w, const char *out)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!out) {
		print_json(stdout, w);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write %s", tmp);
	print_json(f, w);
	if (fclose(f) != 0 || rename(tmp, out) != 0)
		die("cannot write %s", out);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		die("cannot create %s", path);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vipwatch --ns NAME [--ns NAME ...] --addr ADDRESS\n"
		"                [--duration-ms N] [--out FILE] "
		"[--ready-file FILE]\n");
	exit(2);
}

static void parse_addr(struct watch *w, const char *text)
{
	if (inet_pton(AF_INET, text, w->addr) == 1) {
		w->family = AF_INET;
		w->addr_len = 4;
	} else if (inet_pton(AF_INET6, text, w->addr) == 1) {
		w->family = AF_INET6;
		w->addr_len = 16;
	} else {
		die("--addr: expected an IPv4 or IPv6 address, got \"%s\"",
		    text);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ns", required_argument, NULL, 'n' },
		{ "addr", required_argument, NULL, 'a' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ 0 }
	};
	static struct watch w;
	const char *out = NULL, *ready = NULL;
	long duration_ms = MAX_DURATION_MS;
	struct sigaction sa = { .sa_handler = on_signal };
	struct sched_param rt = { .sched_priority = 1 };
	sigset_t block;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (w.n_ns == MAX_NS)
				die("at most %d --ns", MAX_NS);
			w.ns[w.n_ns++].name = optarg;
			break;
		case 'a':
			parse_addr(&w, optarg);
			break;
		case 'd':
			duration_ms = strtol(optarg, NULL, 10);
			if (duration_ms <= 0 || duration_ms > MAX_DURATION_MS)
				die("--duration-ms: expected 1..3600000, "
				    "got \"%s\"", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			usage();
		}
	}
	if (w.n_ns == 0 || w.family == 0 || optind != argc)
		usage();
	w.tr = calloc(MAX_TRANSITIONS, sizeof(*w.tr));
	if (!w.tr)
		die("out of memory for transitions");

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Wake-ups on the 1 ms schedule should be punctual, also on a
	 * busy two-core machine: lowest real-time priority if allowed
	 * (the loop sleeps between wake-ups; the kernel's RT throttling
	 * bounds it anyway), and no timer slack. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	w.realtime = sched_setscheduler(0, SCHED_FIFO, &rt) == 0;

	open_all(&w);
	w.start_ns = now_ns();
	w.last_change_ns = w.start_ns;
	w.started = true;
	if (ready)
		touch(ready);
	run(&w, (int64_t)duration_ms * 1000000);

	/* Close the open overlap interval, if any, at the end. */
	if (w.holders >= 2)
		w.dual_ns += now_ns() - w.last_change_ns;
	write_out(&w, out);
	return 0;
}
