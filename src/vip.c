/*
 * vip.c - the virtual IP on this server: add and remove it over
 * rtnetlink, ask whether it is there, and announce it to the segment.
 *
 * Add and remove are idempotent: the kernel's "already there" (EEXIST)
 * and "not there" (EADDRNOTAVAIL and kin) answers count as success, so
 * start-up can remove what a crash left and promotion can repeat itself.
 * IPv6 addresses are added with NODAD: the VIP moves to us because the
 * other server gave it up, and a second of duplicate address detection
 * would only delay service.
 *
 * The announcement tells neighbours the VIP now lives at our MAC: a
 * gratuitous ARP request for IPv4, an unsolicited neighbour
 * advertisement with the override flag for IPv6 (RFC 4861 7.2.6).
 * Receivers update the entries they already have for the VIP (Linux
 * creates none unless arp_accept is set), which is what a failover needs.
 * Sends never block.
 *
 * Every call opens and closes its own sockets and keeps no state, so
 * the guard process can call it after fork().  Nothing here logs.
 */
#define _DEFAULT_SOURCE
#include "vip.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "nl.h"

/* Room for one address request: header, ifaddrmsg, three attributes. */
enum { VIP_REQ_SIZE = 256 };

/* Unsolicited NAs and the ND checks of every receiver (RFC 4861 7.1.2)
 * require the largest hop limit. */
enum { ND_HOP_LIMIT = 255 };

/* Unsolicited neighbour advertisement with a target link-layer address
 * option: 24 + 2 + 6 = 32 bytes, a multiple of 8 as options need. */
struct na_packet {
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt;
	uint8_t mac[ETH_ALEN];
};
_Static_assert(sizeof(struct na_packet) == 32, "NA packet size");
_Static_assert(sizeof(struct ether_arp) == 28, "ARP packet size");

/* Finds the VIP in an RTM_GETADDR dump. */
struct addr_match {
	const struct conf_vip *vip;
	int ifindex;
	int found;
};

static size_t addr_len(const struct conf_vip *vip)
{
	return vip->family == AF_INET ? 4 : 16;
}

/* Prefix err with "vip ADDR/LEN on IFNAME" and, if op, ": op". */
static int context(struct hp_err *err, const struct conf_vip *vip,
		   const char *ifname, const char *op)
{
	char name[sizeof(vip->text) + 1], a[INET6_ADDRSTRLEN];

	if (vip->text[0])
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(vip->text),
			 vip->text);
	else if (inet_ntop(vip->family, vip->addr, a, sizeof(a)))
		snprintf(name, sizeof(name), "%s/%u", a, vip->prefix_len);
	else
		snprintf(name, sizeof(name), "(family %d)", vip->family);
	if (!ifname || !ifname[0])
		ifname = "(no interface)";
	if (op)
		return hp_err_prefix(err, "vip %s on %s: %s", name, ifname,
				     op);
	return hp_err_prefix(err, "vip %s on %s", name, ifname);
}

/* Check what the caller passed and find the interface's index. */
static int resolve(const struct conf_vip *vip, const char *ifname,
		   int *ifindex, struct hp_err *err)
{
	unsigned int index;

	if (vip->family != AF_INET && vip->family != AF_INET6)
		return hp_errf(err, "address family %d is neither IPv4 nor "
			       "IPv6", vip->family);
	if (vip->prefix_len > addr_len(vip) * 8)
		return hp_errf(err, "prefix length %u is longer than the "
			       "address", vip->prefix_len);
	if (!ifname || !ifname[0])
		return hp_errf(err, "no interface given");
	if (strlen(ifname) >= IFNAMSIZ)
		return hp_errf(err, "interface name longer than %d "
			       "characters", IFNAMSIZ - 1);
	index = if_nametoindex(ifname);
	if (index == 0 && (errno == ENODEV || errno == ENXIO))
		return hp_errf(err, "no such interface");
	if (index == 0)
		return hp_errf(err, "interface lookup: %s", strerror(errno));
	*ifindex = (int)index;
	return 0;
}

/* Start an address request for ifindex in buf (VIP_REQ_SIZE bytes). */
static struct nlmsghdr *addr_request(char *buf, uint16_t type,
				     uint16_t flags, int family, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = (uint32_t)ifindex;
	return nlh;
}

/* The address attributes of an add or a remove.  IPv4 wants IFA_LOCAL
 * (our address) and IFA_ADDRESS (the same, not being point-to-point);
 * IPv6 takes IFA_ADDRESS alone. */
static void put_vip(struct nlmsghdr *nlh, const struct conf_vip *vip)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	ifa->ifa_prefixlen = vip->prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (vip->family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, addr_len(vip), vip->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(vip), vip->addr);
}

int vip_add(const struct conf_vip *vip, const char *ifname,
	    struct hp_err *err)
{
	_Alignas(struct nlmsghdr) char buf[VIP_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ifindex, kernel_errno;

	if (resolve(vip, ifname, &ifindex, err) < 0)
		return context(err, vip, ifname, NULL);
	nlh = addr_request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
			   vip->family, ifindex);
	put_vip(nlh, vip);
	if (vip->family == AF_INET6) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		/* The header byte for old kernels, IFA_FLAGS for new. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	if (nl_talk(nlh, NULL, NULL, &kernel_errno, err) == 0 ||
	    kernel_errno == EEXIST)
		return 0;
	return context(err, vip, ifname, "add");
}

int vip_remove(const struct conf_vip *vip, const char *ifname,
	       struct hp_err *err)
{
	_Alignas(struct nlmsghdr) char buf[VIP_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ifindex, kernel_errno;

	if (resolve(vip, ifname, &ifindex, err) < 0)
		return context(err, vip, ifname, NULL);
	nlh = addr_request(buf, RTM_DELADDR, 0, vip->family, ifindex);
	put_vip(nlh, vip);
	if (nl_talk(nlh, NULL, NULL, &kernel_errno, err) == 0)
		return 0;
	/* The ways the kernel says the address is not there. */
	if (kernel_errno == EADDRNOTAVAIL || kernel_errno == ENOENT ||
	    kernel_errno == ESRCH)
		return 0;
	return context(err, vip, ifname, "remove");
}

/* One address of the dump: is it the VIP on our interface?  IFA_LOCAL
 * is the local address when present (IFA_ADDRESS is then the peer of a
 * point-to-point link); otherwise IFA_ADDRESS is. */
static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_match *m = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const void *local = NULL, *address = NULL;
	size_t len = addr_len(m->vip);
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    ifa->ifa_family != m->vip->family ||
	    ifa->ifa_index != (uint32_t)m->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_payload_len(attr) != len)
			continue;
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = mnl_attr_get_payload(attr);
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = mnl_attr_get_payload(attr);
	}
	if (!local)
		local = address;
	if (local && memcmp(local, m->vip->addr, len) == 0)
		m->found = 1;
	return MNL_CB_OK;
}

/* Any prefix length counts: a copy of the address with another prefix
 * still answers ARP and ND for it. */
int vip_present(const struct conf_vip *vip, const char *ifname,
		struct hp_err *err)
{
	_Alignas(struct nlmsghdr) char buf[VIP_REQ_SIZE];
	struct addr_match m = { .vip = vip };
	struct nlmsghdr *nlh;
	int kernel_errno;

	if (resolve(vip, ifname, &m.ifindex, err) < 0)
		return context(err, vip, ifname, NULL);
	/* Older kernels ignore the index in a dump request and send every
	 * interface's addresses; on_addr() filters. */
	nlh = addr_request(buf, RTM_GETADDR, NLM_F_DUMP, vip->family,
			   m.ifindex);
	if (nl_talk(nlh, on_addr, &m, &kernel_errno, err) < 0)
		return context(err, vip, ifname, "list addresses");
	return m.found;
}

/* err for a failed system call; EPERM on a raw or packet socket means
 * the process lacks CAP_NET_RAW. */
static int sys_failed(struct hp_err *err, const char *what)
{
	return hp_errf(err, "%s: %s%s", what, strerror(errno),
		       errno == EPERM ? " (needs CAP_NET_RAW)" : "");
}

/* The interface's Ethernet address, which the announcement carries. */
static int read_mac(int fd, const char *ifname, uint8_t mac[ETH_ALEN],
		    struct hp_err *err)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return sys_failed(err, "read MAC address");
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return hp_errf(err, "not an Ethernet interface (hardware "
			       "type %d)", ifr.ifr_hwaddr.sa_family);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

/* ARP request, sender = target = VIP, sent to the broadcast MAC. */
static int send_garp(int fd, const struct conf_vip *vip, int ifindex,
		     const uint8_t mac[ETH_ALEN], struct hp_err *err)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct ether_arp arp;
	ssize_t n;

	memset(&arp, 0, sizeof(arp));
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETHERTYPE_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, mac, ETH_ALEN);
	memcpy(arp.arp_spa, vip->addr, 4);
	memcpy(arp.arp_tpa, vip->addr, 4);
	n = sendto(fd, &arp, sizeof(arp), MSG_DONTWAIT,
		   (const struct sockaddr *)&to, sizeof(to));
	if (n < 0)
		return sys_failed(err, "send ARP");
	if ((size_t)n != sizeof(arp))
		return hp_errf(err, "send ARP: sent %zd of %zu bytes", n,
			       sizeof(arp));
	return 0;
}

static int announce4(const struct conf_vip *vip, const char *ifname,
		     int ifindex, struct hp_err *err)
{
	/* Protocol 0: the socket only sends, so it queues no ARP input. */
	struct sockaddr_ll self = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
	};
	uint8_t mac[ETH_ALEN];
	int fd, ret = -1;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sys_failed(err, "ARP socket");
	if (bind(fd, (const struct sockaddr *)&self, sizeof(self)) < 0) {
		sys_failed(err, "bind ARP socket");
		goto out;
	}
	if (read_mac(fd, ifname, mac, err) < 0)
		goto out;
	ret = send_garp(fd, vip, ifindex, mac, err);
out:
	close(fd);
	return ret;
}

/* Hop limit 255, out of ifindex only, not looped back to our own
 * neighbour discovery, and no ICMPv6 input queued on the socket. */
static int setup_nd_socket(int fd, int ifindex, struct hp_err *err)
{
	int hops = ND_HOP_LIMIT, loop = 0;
	struct icmp6_filter filter;

	ICMP6_FILTER_SETBLOCKALL(&filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter,
		       sizeof(filter)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
		       sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
		       sizeof(ifindex)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop,
		       sizeof(loop)) < 0)
		return sys_failed(err, "set up ICMPv6 socket");
	return 0;
}

/* Unsolicited NA to all nodes: solicited flag clear (none asked),
 * override set (replace the old server's MAC in every cache).  The
 * kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets. */
static int send_na(int fd, const struct conf_vip *vip, int ifindex,
		   const uint8_t mac[ETH_ALEN], struct hp_err *err)
{
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
		.sin6_scope_id = (uint32_t)ifindex,
	};
	struct na_packet pkt;
	ssize_t n;

	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	memset(&pkt, 0, sizeof(pkt));
	pkt.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	pkt.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	memcpy(&pkt.na.nd_na_target, vip->addr, 16);
	pkt.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
	pkt.opt.nd_opt_len = (sizeof(pkt.opt) + sizeof(pkt.mac)) / 8;
	memcpy(pkt.mac, mac, ETH_ALEN);
	n = sendto(fd, &pkt, sizeof(pkt), MSG_DONTWAIT,
		   (const struct sockaddr *)&to, sizeof(to));
	if (n < 0)
		return sys_failed(err, "send neighbour advertisement");
	if ((size_t)n != sizeof(pkt))
		return hp_errf(err, "send neighbour advertisement: sent %zd "
			       "of %zu bytes", n, sizeof(pkt));
	return 0;
}

static int announce6(const struct conf_vip *vip, const char *ifname,
		     int ifindex, struct hp_err *err)
{
	uint8_t mac[ETH_ALEN];
	int fd, ret = -1;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return sys_failed(err, "ICMPv6 socket");
	if (setup_nd_socket(fd, ifindex, err) < 0)
		goto out;
	if (read_mac(fd, ifname, mac, err) < 0)
		goto out;
	ret = send_na(fd, vip, ifindex, mac, err);
out:
	close(fd);
	return ret;
}

int vip_announce(const struct conf_vip *vip, const char *ifname,
		 struct hp_err *err)
{
	int ifindex, ret;

	if (resolve(vip, ifname, &ifindex, err) < 0)
		return context(err, vip, ifname, NULL);
	if (vip->family == AF_INET)
		ret = announce4(vip, ifname, ifindex, err);
	else
		ret = announce6(vip, ifname, ifindex, err);
	if (ret < 0)
		return context(err, vip, ifname, "announce");
	return 0;
}
