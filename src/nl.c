/*
 * nl.c - one rtnetlink request and its answer (see nl.h).
 *
 * libmnl frames the messages and checks sequence numbers and port ids;
 * this file adds what it leaves to the caller: one deadline for the whole
 * exchange, telling the kernel's refusal (an errno the caller may accept,
 * such as EEXIST) from our own failure, and the kernel's extended-ack
 * text when it sends one.
 */
#define _DEFAULT_SOURCE
#include "nl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <linux/netlink.h>

/* The whole exchange, dumps included, must end within this. */
enum { NL_TIMEOUT_MS = 1000 };

/* Largest errno the kernel encodes in a negative return (MAX_ERRNO). */
enum { NL_MAX_ERRNO = 4095 };

/* What the callbacks learn while mnl_cb_run2() walks the answer. */
struct answer {
	mnl_cb_t cb;		/* caller's callback for data messages */
	void *data;
	int kernel_errno;	/* refusal from NLMSG_ERROR/NLMSG_DONE, or 0 */
	char ext_msg[160];	/* NLMSGERR_ATTR_MSG, "" if none */
};

static int64_t now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;

	return a->cb ? a->cb(nlh, a->data) : MNL_CB_OK;
}

/* Copy the kernel's extended-ack message, if any, into a->ext_msg.  The
 * attributes follow struct nlmsgerr, after the echoed request unless the
 * kernel capped it (NETLINK_CAP_ACK). */
static void read_ext_ack(const struct nlmsghdr *nlh, struct answer *a)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG ||
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		snprintf(a->ext_msg, sizeof(a->ext_msg), "%s",
			 mnl_attr_get_str(attr));
	}
}

/* NLMSG_ERROR: error 0 is the ack we wait for; anything else is the
 * kernel refusing the request. */
static int on_error(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) ||
	    e->error > 0 || e->error < -NL_MAX_ERRNO) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	a->kernel_errno = -e->error;
	read_ext_ack(nlh, a);
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; a dump that failed part way carries the
 * negative errno in its payload. */
static int on_done(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;
	int code;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(code))
		return MNL_CB_STOP;
	memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code >= 0 || code < -NL_MAX_ERRNO)
		return MNL_CB_STOP;
	a->kernel_errno = -code;
	return MNL_CB_ERROR;
}

static struct mnl_socket *open_socket(struct hp_err *err)
{
	struct mnl_socket *nl;
	int one = 1;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		hp_errf(err, "netlink socket: %s", strerror(errno));
		return NULL;
	}
	/* Best effort: an older kernel without them just sends no text and
	 * echoes the request back in each error. */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		hp_errf(err, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Let the next read wait only for what is left until deadline_ms. */
static int arm_timeout(struct mnl_socket *nl, int64_t deadline_ms)
{
	int64_t left_ms = deadline_ms - now_mono_ms();
	struct timeval tv;

	if (left_ms <= 0) {
		errno = EAGAIN;
		return -1;
	}
	tv.tv_sec = left_ms / 1000;
	tv.tv_usec = (left_ms % 1000) * 1000;
	return setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
			  &tv, sizeof(tv));
}

static int recv_failed(struct hp_err *err)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return hp_errf(err, "no answer from the kernel within %d ms",
			       NL_TIMEOUT_MS);
	if (errno == ENOSPC)
		return hp_errf(err, "netlink answer larger than %d bytes",
			       NL_BUF_SIZE);
	if (errno == ESRCH)
		return hp_errf(err, "netlink answer not from the kernel");
	return hp_errf(err, "netlink receive: %s", strerror(errno));
}

/* mnl_cb_run2() failed without a kernel errno: the answer was not ours
 * or not well formed. */
static int answer_failed(struct hp_err *err)
{
	if (errno == ESRCH)
		return hp_errf(err, "netlink answer for another socket "
			       "(port id mismatch)");
	if (errno == EPROTO)
		return hp_errf(err, "netlink answer for another request "
			       "(sequence number mismatch)");
	if (errno == EINTR)
		return hp_errf(err, "the kernel's table changed during the "
			       "dump; try again");
	return hp_errf(err, "malformed netlink answer: %s", strerror(errno));
}

static int kernel_failed(const struct answer *a, struct hp_err *err)
{
	/* Every rtnetlink change is checked against CAP_NET_ADMIN. */
	const char *hint = a->kernel_errno == EPERM ?
		" (needs CAP_NET_ADMIN)" : "";

	if (a->ext_msg[0])
		return hp_errf(err, "%s%s (kernel: %s)",
			       strerror(a->kernel_errno), hint, a->ext_msg);
	return hp_errf(err, "%s%s", strerror(a->kernel_errno), hint);
}

static int read_answer(struct mnl_socket *nl, unsigned int seq,
		       struct answer *a, struct hp_err *err)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = on_error,
		[NLMSG_DONE] = on_done,
	};
	_Alignas(struct nlmsghdr) char buf[NL_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	int64_t deadline_ms = now_mono_ms() + NL_TIMEOUT_MS;
	ssize_t n;
	int r = MNL_CB_OK;

	do {
		if (arm_timeout(nl, deadline_ms) < 0)
			return recv_failed(err);
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return recv_failed(err);
		r = mnl_cb_run2(buf, (size_t)n, seq, portid, on_data, a,
				ctl, MNL_ARRAY_SIZE(ctl));
	} while (n < 0 || r == MNL_CB_OK);
	if (r == MNL_CB_STOP)
		return 0;
	if (a->kernel_errno)
		return kernel_failed(a, err);
	return answer_failed(err);
}

int nl_talk(struct nlmsghdr *req, mnl_cb_t cb, void *data,
	    int *kernel_errno, struct hp_err *err)
{
	struct answer a = { .cb = cb, .data = data };
	struct mnl_socket *nl;
	int ret = -1;

	*kernel_errno = 0;
	nl = open_socket(err);
	if (!nl)
		return -1;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nlmsg_pid = 0;
	/* A fresh socket sees no stale answers; the number only has to
	 * be one the kernel echoes back. */
	req->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		hp_errf(err, "netlink send: %s", strerror(errno));
		goto out;
	}
	ret = read_answer(nl, req->nlmsg_seq, &a, err);
	*kernel_errno = a.kernel_errno;
out:
	mnl_socket_close(nl);
	return ret;
}
