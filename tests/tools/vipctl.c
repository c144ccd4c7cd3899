/*
 * vipctl.c - drive src/vip.c by hand, for tests/sys/test_vip.sh.
 *
 *   vipctl add|remove|present|announce ADDR/PREFIX IFNAME
 *
 * Fills a struct conf_vip itself (no config file) and calls the matching
 * vip_*() function.  "present" prints 1 or 0.  On failure prints the
 * hp_err message to stderr and exits 1; bad usage exits 2.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vip.h"

static int usage(void)
{
	fprintf(stderr, "usage: vipctl add|remove|present|announce "
		"ADDR/PREFIX IFNAME\n");
	return 2;
}

/* "192.0.2.100/24" or "2001:db8::100/64" -> *vip; 0 or -1. */
static int parse_vip(const char *arg, const char *ifname,
		     struct conf_vip *vip)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(arg, '/');
	unsigned long prefix;
	char *end;

	memset(vip, 0, sizeof(*vip));
	if (!slash || (size_t)(slash - arg) >= sizeof(addr))
		return -1;
	memcpy(addr, arg, (size_t)(slash - arg));
	addr[slash - arg] = '\0';
	if (inet_pton(AF_INET, addr, vip->addr) == 1)
		vip->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, vip->addr) == 1)
		vip->family = AF_INET6;
	else
		return -1;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end ||
	    prefix > (vip->family == AF_INET ? 32u : 128u))
		return -1;
	vip->prefix_len = (uint8_t)prefix;
	snprintf(vip->text, sizeof(vip->text), "%s", arg);
	snprintf(vip->interface, sizeof(vip->interface), "%s", ifname);
	vip->garp_count = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct conf_vip vip;
	struct hp_err err = { "" };
	const char *cmd, *ifname;
	int r;

	if (argc != 4)
		return usage();
	cmd = argv[1];
	ifname = argv[3];
	if (parse_vip(argv[2], ifname, &vip) < 0) {
		fprintf(stderr, "vipctl: expected ADDR/PREFIX, got \"%s\"\n",
			argv[2]);
		return 2;
	}
	if (strcmp(cmd, "add") == 0)
		r = vip_add(&vip, ifname, &err);
	else if (strcmp(cmd, "remove") == 0)
		r = vip_remove(&vip, ifname, &err);
	else if (strcmp(cmd, "present") == 0)
		r = vip_present(&vip, ifname, &err);
	else if (strcmp(cmd, "announce") == 0)
		r = vip_announce(&vip, ifname, &err);
	else
		return usage();
	if (r < 0) {
		fprintf(stderr, "vipctl: %s\n", err.msg);
		return 1;
	}
	if (strcmp(cmd, "present") == 0)
		printf("%d\n", r);
	return 0;
}
