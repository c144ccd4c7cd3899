/*
 * vip.h - the virtual IP: add/remove over rtnetlink (libmnl) and
 * announce it with gratuitous ARP (IPv4) or unsolicited neighbour
 * advertisements (IPv6).
 *
 * All calls are synchronous and bounded (netlink reply waited for with a
 * timeout), idempotent (adding a present address succeeds, removing an
 * absent one succeeds), and safe to call from the guard process.
 * Errors carry context, e.g.
 *   "vip 192.0.2.100/24 on eth0: add: Operation not permitted (needs
 *    CAP_NET_ADMIN)"
 */
#ifndef HAPAIR_VIP_H
#define HAPAIR_VIP_H

#include <stdbool.h>

#include "conf.h"
#include "err.h"

/* Add the address to ifname.  IPv6 addresses are added with NODAD so
 * they serve at once.  Returns 0 (also if already present) or -1. */
int vip_add(const struct conf_vip *vip, const char *ifname,
	    struct hp_err *err);

/* Remove the address from ifname.  Returns 0 (also if absent) or -1. */
int vip_remove(const struct conf_vip *vip, const char *ifname,
	       struct hp_err *err);

/* Is the address configured on ifname right now?  Returns 1, 0, or -1. */
int vip_present(const struct conf_vip *vip, const char *ifname,
		struct hp_err *err);

/* Send one gratuitous ARP (IPv4: ARP request, sender = target = VIP,
 * broadcast) or one unsolicited NA (IPv6: to ff02::1, override flag,
 * target link-layer address option) for the VIP out of ifname.
 * Returns 0 or -1. */
int vip_announce(const struct conf_vip *vip, const char *ifname,
		 struct hp_err *err);

#endif
