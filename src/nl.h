/*
 * nl.h - one rtnetlink request and its answer, bounded in time.
 *
 * Each call opens its own NETLINK_ROUTE socket, sends one request with
 * NLM_F_ACK, reads until the ack (or NLMSG_DONE for a dump), checks the
 * sequence number and port id of every answer, and closes the socket.
 * No state survives a call, so it is safe in a forked child.
 */
#ifndef HAPAIR_NL_H
#define HAPAIR_NL_H

#include <libmnl/libmnl.h>

#include "err.h"

/* Room for one request or one batch of dump answers.  The kernel sizes
 * dump batches by the reader's buffer, starting from at most 8 KiB. */
enum { NL_BUF_SIZE = 8192 };

/* Send req (nl_talk sets NLM_F_ACK, seq and pid) and wait for the
 * answer, at most 1 s per read.  cb, if not NULL, sees each data message
 * (dump entries) with data; it returns MNL_CB_OK to go on.
 *
 * Returns 0 when the kernel accepted the request.  Otherwise returns -1
 * with err set to the reason (no context: callers prefix their own) and
 * *kernel_errno set to the errno the kernel answered with, or to 0 if the
 * failure was ours (socket, timeout, malformed answer), so callers can
 * treat answers like EEXIST as success. */
int nl_talk(struct nlmsghdr *req, mnl_cb_t cb, void *data,
	    int *kernel_errno, struct hp_err *err);

#endif
