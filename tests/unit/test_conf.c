/*
 * test_conf.c - unit tests for the config parser (src/conf.c).
 *
 * A full config and the defaults first, then a table of broken configs:
 * each row names the mistake, the text, and two pieces every error for it
 * must contain, the "file:line:" and the "[section] key".  Then the
 * duration and percent parsers by table, interface@NODE resolution, the
 * key file, conf_load() on real files, and inputs a fuzzer would try.
 * The [api] section (listen, listen@NODE) has rows and a test of its
 * own.  The redis resource, [check] and [notify] sections, sizes and the
 * Redis password file follow the same pattern.
 * Failures print every message the parser produced.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "events.h"
#include "proto.h"

/* Lines 1-9 of most configs below; line 10 is the first one after. */
#define CLUSTER "[cluster]\nname = shop\nkey_file = /etc/hapair/key\n"
#define NODES                                                           \
	"[node a]\naddress = 192.0.2.1\n[node b]\naddress = 192.0.2.2\n"
#define WITNESS "[witness]\naddress = 192.0.2.3\n"
#define VALID CLUSTER NODES WITNESS
#define VIP "[resource v]\ntype = vip\naddress = 192.0.2.100/24\n"
/* Lines 10-11; line 12 is the first key after. */
#define REDIS "[resource cache]\ntype = redis\n"
/* Lines 10-12; line 13 is the first key after. */
#define TCP "[check web]\ntype = tcp\nport = 80\n"
#define SCRIPT "[check s]\ntype = script\ncommand = true\n"
#define HTTP "[check h]\ntype = http\nport = 80\n"
#define REDIS_KEYS                                                      \
	"valid keys are type, port, host, user, password, password_file, " \
	"replication, max_lag_on_failover, timeout, monitor_interval, "   \
	"keep_dir"
#define VIP_KEYS                                                        \
	"valid keys are type, address, interface, garp_count, "           \
	"garp_interval, garp_refresh, interface@NODE"

static const char full[] =
	"# a comment\n"
	"; another\n"
	"[cluster]\n"
	"name = shop-db   # trailing comment\n"
	"key_file = /etc/hapair/key ; trailing too\n"
	"heartbeat_interval = 50ms\n"
	"lease = 1s\n"
	"drift = 2.25%\n"
	"quorum = witness\n"
	"failover_hold_down = 2m\n"
	"state_dir = /srv/state\n"
	"run_dir = /srv/run\n"
	"\n"
	"  [node a]  \n"
	"\taddress\t=\t192.0.2.1\t\n"
	"port = 6000\n"
	"priority = 255\n"
	"[node b]\n"
	"address = 2001:db8::2\n"
	"priority = 0\n"
	"[witness]\n"
	"address = 2001:db8::3\n"
	"port = 7000\n"
	"[resource web]\n"
	"type = vip\n"
	"address = 192.0.2.100/24\n"
	"interface = eth0\n"
	"interface@b = eth1\n"
	"garp_count = 0\n"
	"garp_interval = 1ms\n"
	"garp_refresh = 30s\n"
	"[resource web6]\n"
	"type = vip\n"
	"address = 2001:db8::100/128\n"
	"interface = eth0.10\n"
	"garp_refresh = 0";	/* no newline at the end */

static int parse(const char *text, struct conf *c, struct conf_errors *e)
{
	return conf_parse(text, strlen(text), "t.conf", c, e);
}

static void print_errors(const struct conf_errors *e)
{
	int i;

	for (i = 0; i < e->n; i++)
		print_error("  error %d: %s\n", i, e->msg[i]);
}

static bool has_error(const struct conf_errors *e, const char *a,
		      const char *b)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strstr(e->msg[i], a) && strstr(e->msg[i], b))
			return true;
	return false;
}

/* Some error must contain both a and b; else print them all and fail. */
static void expect_error(const struct conf_errors *e, const char *a,
			 const char *b)
{
	if (has_error(e, a, b))
		return;
	print_errors(e);
	fail_msg("no error (of %d above) contains \"%s\" and \"%s\"", e->n,
		 a, b);
}

static void expect_valid(const char *text, struct conf *c)
{
	struct conf_errors e;

	if (parse(text, c, &e) != 0 || e.n != 0) {
		print_errors(&e);
		fail_msg("config should be valid:\n%s", text);
	}
}

static void test_full(void **state)
{
	struct conf c;
	const struct sockaddr_in *a4;
	const struct sockaddr_in6 *b6, *w6;
	const struct conf_vip *v;
	uint8_t want6[16];

	expect_valid(full, &c);
	assert_string_equal(c.path, "t.conf");
	assert_string_equal(c.name, "shop-db");
	assert_true(c.cluster_id != 0);
	assert_true(c.cluster_id == proto_cluster_id("shop-db"));
	assert_string_equal(c.key_file, "/etc/hapair/key");
	assert_int_equal(c.heartbeat_ms, 50);
	assert_int_equal(c.lease_ms, 1000);
	assert_int_equal(c.drift_ppm, 22500);
	assert_int_equal(c.quorum, QUORUM_WITNESS);
	assert_int_equal(c.hold_down_ms, 120000);
	assert_string_equal(c.state_dir, "/srv/state");
	assert_string_equal(c.run_dir, "/srv/run");

	assert_string_equal(c.nodes[0].name, "a");
	assert_int_equal(c.nodes[0].id, 1);
	assert_string_equal(c.nodes[0].ep.host, "192.0.2.1");
	assert_int_equal(c.nodes[0].ep.port, 6000);
	assert_int_equal(c.nodes[0].priority, 255);
	a4 = (const struct sockaddr_in *)&c.nodes[0].ep.sa;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 6000);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0xc0000201);
	assert_int_equal(c.nodes[0].ep.sa_len, sizeof(struct sockaddr_in));

	assert_string_equal(c.nodes[1].name, "b");
	assert_int_equal(c.nodes[1].id, 2);
	assert_int_equal(c.nodes[1].ep.port, 5405);
	assert_int_equal(c.nodes[1].priority, 0);
	b6 = (const struct sockaddr_in6 *)&c.nodes[1].ep.sa;
	assert_int_equal(b6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(b6->sin6_port), 5405);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", want6), 1);
	assert_memory_equal(&b6->sin6_addr, want6, 16);
	assert_int_equal(c.nodes[1].ep.sa_len, sizeof(struct sockaddr_in6));

	assert_true(c.has_witness);
	assert_string_equal(c.witness.host, "2001:db8::3");
	w6 = (const struct sockaddr_in6 *)&c.witness.sa;
	assert_int_equal(w6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(w6->sin6_port), 7000);

	assert_int_equal(c.n_resources, 2);
	assert_string_equal(c.resources[0].name, "web");
	assert_int_equal(c.resources[0].type, RES_VIP);
	v = &c.resources[0].vip;
	assert_int_equal(v->family, AF_INET);
	assert_memory_equal(v->addr, "\xc0\x00\x02\x64", 4);
	assert_int_equal(v->prefix_len, 24);
	assert_string_equal(v->text, "192.0.2.100/24");
	assert_string_equal(v->interface, "eth0");
	assert_string_equal(v->node_interface[0], "");
	assert_string_equal(v->node_interface[1], "eth1");
	assert_int_equal(v->garp_count, 0);
	assert_int_equal(v->garp_interval_ms, 1);
	assert_int_equal(v->garp_refresh_ms, 30000);

	v = &c.resources[1].vip;
	assert_string_equal(c.resources[1].name, "web6");
	assert_int_equal(v->family, AF_INET6);
	assert_int_equal(v->prefix_len, 128);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::100", want6), 1);
	assert_memory_equal(v->addr, want6, 16);
	assert_string_equal(v->interface, "eth0.10");
	assert_int_equal(v->garp_refresh_ms, 0);
}

static void test_defaults(void **state)
{
	struct conf c;
	const struct conf_vip *v;

	expect_valid(VALID VIP "interface = eth0\n", &c);
	assert_int_equal(c.heartbeat_ms, 100);
	assert_int_equal(c.lease_ms, 700);
	assert_int_equal(c.drift_ppm, 10000);
	assert_int_equal(c.quorum, QUORUM_WITNESS);
	assert_int_equal(c.hold_down_ms, 60000);
	assert_string_equal(c.state_dir, "/var/lib/hapair");
	assert_string_equal(c.run_dir, "/run/hapair");
	assert_int_equal(c.nodes[0].ep.port, 5405);
	assert_int_equal(c.nodes[1].ep.port, 5405);
	assert_int_equal(c.nodes[0].priority, 100);
	assert_int_equal(c.nodes[1].priority, 100);
	assert_int_equal(c.witness.port, 5405);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&c.witness.sa)
				       ->sin_port), 5405);
	assert_true(c.has_witness);
	v = &c.resources[0].vip;
	assert_int_equal(v->garp_count, 5);
	assert_int_equal(v->garp_interval_ms, 100);
	assert_int_equal(v->garp_refresh_ms, 0);
}

static void test_quorum_none(void **state)
{
	struct conf c;

	/* No witness needed; one present is read but not used. */
	expect_valid(CLUSTER "quorum = none\n" NODES, &c);
	assert_int_equal(c.quorum, QUORUM_NONE);
	assert_false(c.has_witness);
	expect_valid(CLUSTER "quorum = none\n" NODES WITNESS, &c);
	assert_false(c.has_witness);
	expect_valid(CLUSTER "quorum = none\n" NODES "[witness]\nport = 1\n",
		     &c);
	assert_false(c.has_witness);
}

static void test_same_address_other_port(void **state)
{
	struct conf c;

	expect_valid(CLUSTER "[node a]\naddress = 127.0.0.1\nport = 6001\n"
		     "[node b]\naddress = 127.0.0.1\nport = 6002\n"
		     "[witness]\naddress = 127.0.0.1\nport = 6003\n", &c);
	assert_int_equal(c.nodes[1].ep.port, 6002);
}

struct bad_row {
	const char *name;
	const char *text;
	const char *where;	/* "t.conf:LINE:" */
	const char *what;	/* "[section] key" and/or the complaint */
};

static const struct bad_row bad_rows[] = {
	{ "example from conf.h",
	  CLUSTER "[node a]\naddress = 192.0.2.1\n[node b]\n"
		  "address = 10.0.0.300\n" WITNESS,
	  "t.conf:7:", "[node b] address: expected IPv4 or IPv6, got "
		       "\"10.0.0.300\"" },
	{ "unknown section", VALID "[bogus]\n",
	  "t.conf:10:", "[bogus]: unknown section" },
	{ "unknown cluster key lists the valid ones",
	  CLUSTER "heartbeat = 1s\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] heartbeat: unknown key; valid keys are "
		       "name, key_file, heartbeat_interval" },
	{ "unknown node key",
	  CLUSTER "[node a]\naddress = 192.0.2.1\nprio = 5\n"
		  "[node b]\naddress = 192.0.2.2\n" WITNESS,
	  "t.conf:6:", "[node a] prio: unknown key; valid keys are address, "
		       "port, priority" },
	{ "unknown resource key", VALID VIP "interface = eth0\nfoo = 1\n",
	  "t.conf:14:", "[resource v] foo: unknown key; valid keys are type, "
			"address, interface, garp_count, garp_interval, "
			"garp_refresh, interface@NODE" },
	{ "duplicate key", CLUSTER "name = again\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] name: duplicate key (first set on line 2)" },
	{ "duplicate node key",
	  CLUSTER "[node a]\naddress = 192.0.2.1\naddress = 192.0.2.5\n"
		  "[node b]\naddress = 192.0.2.2\n" WITNESS,
	  "t.conf:6:", "[node a] address: duplicate key" },
	{ "duplicate section", VALID "[cluster]\n",
	  "t.conf:10:", "[cluster]: duplicate section (first on line 1)" },
	{ "missing name", "[cluster]\nkey_file = /k\n" NODES WITNESS,
	  "t.conf:1:", "[cluster]: missing required key \"name\"" },
	{ "missing key_file", "[cluster]\nname = x\n" NODES WITNESS,
	  "t.conf:1:", "[cluster]: missing required key \"key_file\"" },
	{ "missing [cluster]", NODES WITNESS,
	  "t.conf: ", "missing [cluster] section" },
	{ "one node", CLUSTER "[node a]\naddress = 192.0.2.1\n" WITNESS,
	  "t.conf: ", "expected exactly two [node NAME] sections, found 1" },
	{ "three nodes", VALID "[node c]\naddress = 192.0.2.9\n",
	  "t.conf:10:", "[node c]: expected exactly two [node NAME] sections" },
	{ "node without address",
	  CLUSTER "[node a]\nport = 1\n[node b]\naddress = 192.0.2.2\n"
		  WITNESS,
	  "t.conf:4:", "[node a]: missing required key \"address\"" },
	{ "duplicate node name",
	  CLUSTER "[node a]\naddress = 192.0.2.1\n[node a]\n"
		  "address = 192.0.2.2\n" WITNESS,
	  "t.conf:6:", "[node a]: duplicate node name (first on line 4)" },
	{ "node name with a dot",
	  CLUSTER "[node a.b]\naddress = 192.0.2.1\n[node b]\n"
		  "address = 192.0.2.2\n" WITNESS,
	  "t.conf:4:", "[node a.b]: expected a node name" },
	{ "node name of 64 characters",
	  CLUSTER "[node aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"
		  "address = 192.0.2.1\n[node b]\n"
		  "address = 192.0.2.2\n" WITNESS,
	  "t.conf:4:", "expected a node name of 1 to 63" },
	{ "node without a name", CLUSTER "[node]\n" NODES WITNESS,
	  "t.conf:4:", "[node]: expected a name, as in [node NAME]" },
	{ "cluster with a name", "[cluster x]\nname = x\n" NODES WITNESS,
	  "t.conf:1:", "[cluster x]: expected [cluster] without a name" },
	{ "hostname as address",
	  CLUSTER "[node a]\naddress = db1.example.com\n[node b]\n"
		  "address = 192.0.2.2\n" WITNESS,
	  "t.conf:5:", "[node a] address: expected IPv4 or IPv6" },
	{ "two nodes on one address and port",
	  CLUSTER "[node a]\naddress = 192.0.2.1\n[node b]\n"
		  "address = 192.0.2.1\n" WITNESS,
	  "t.conf:7:", "[node b] address: expected an address and port other "
		       "than node a's" },
	{ "witness on a node's address and port",
	  CLUSTER NODES "[witness]\naddress = 192.0.2.2\n",
	  "t.conf:9:", "[witness] address: expected an address and port "
		       "other than node b's" },
	{ "no witness with quorum = witness", CLUSTER NODES,
	  "t.conf: ", "quorum = witness needs a [witness] section" },
	{ "witness without address", CLUSTER NODES "[witness]\nport = 1\n",
	  "t.conf:8:", "[witness]: missing required key \"address\"" },
	{ "port 0",
	  CLUSTER "[node a]\naddress = 192.0.2.1\nport = 0\n[node b]\n"
		  "address = 192.0.2.2\n" WITNESS,
	  "t.conf:6:", "[node a] port: expected a port number from 1 to "
		       "65535, got \"0\"" },
	{ "port 65536", VALID "port = 65536\n",
	  "t.conf:10:", "[witness] port: expected a port number" },
	{ "port -1", VALID "port = -1\n",
	  "t.conf:10:", "[witness] port: expected a port number" },
	{ "port with garbage", VALID "port = 54x\n",
	  "t.conf:10:", "[witness] port: expected a port number" },
	{ "priority 256",
	  CLUSTER "[node a]\naddress = 192.0.2.1\npriority = 256\n"
		  "[node b]\naddress = 192.0.2.2\n" WITNESS,
	  "t.conf:6:", "[node a] priority: expected an integer from 0 to 255, "
		       "got \"256\"" },
	{ "bare number heartbeat", CLUSTER "heartbeat_interval = 100\n"
				   NODES WITNESS,
	  "t.conf:4:", "[cluster] heartbeat_interval: expected a duration of "
		       "at least 5ms, such as 100ms, got \"100\"" },
	{ "heartbeat below 5ms", CLUSTER "heartbeat_interval = 4ms\n"
				 NODES WITNESS,
	  "t.conf:4:", "[cluster] heartbeat_interval: expected a duration" },
	{ "negative lease", CLUSTER "lease = -5ms\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] lease: expected a duration with a unit" },
	{ "lease overflow", CLUSTER "lease = 4294967296ms\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] lease: expected a duration with a unit" },
	{ "lease in hours", CLUSTER "lease = 1h\n" NODES WITNESS,
	  "t.conf:4:", "such as 700ms or 1s, got \"1h\"" },
	{ "lease of exactly two heartbeats",
	  CLUSTER "lease = 200ms\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] lease: expected more than 2 * "
		       "heartbeat_interval (200ms), got \"200ms\"" },
	{ "heartbeat too long for the default lease",
	  CLUSTER "heartbeat_interval = 400ms\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] heartbeat_interval: expected less than half "
		       "the lease (700ms), got \"400ms\"" },
	{ "drift above 20%", CLUSTER "drift = 21%\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] drift: expected a percentage from 0% to "
		       "20%, such as 1% or 0.5%, got \"21%\"" },
	{ "drift without %", CLUSTER "drift = 1\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] drift: expected a percentage" },
	{ "quorum majority", CLUSTER "quorum = majority\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] quorum: expected witness or none, got "
		       "\"majority\"" },
	{ "hold-down bare", CLUSTER "failover_hold_down = 60\n" NODES WITNESS,
	  "t.conf:4:", "[cluster] failover_hold_down: expected a duration" },
	{ "relative key_file", "[cluster]\nname = x\nkey_file = key\n"
			       NODES WITNESS,
	  "t.conf:3:", "[cluster] key_file: expected an absolute path" },
	{ "empty name", "[cluster]\nname =\nkey_file = /k\n" NODES WITNESS,
	  "t.conf:2:", "[cluster] name: expected a name of 1 to 63 letters, "
		       "digits, '_' or '-', got \"\"" },
	{ "unknown resource type", VALID "[resource r]\ntype = bogus\n",
	  "t.conf:11:", "[resource r] type: expected a known resource type "
			"(vip, redis, postgresql, mariadb), got \"bogus\"" },
	{ "resource without type",
	  VALID "[resource r]\naddress = 192.0.2.9/32\ninterface = lo\n",
	  "t.conf:10:", "[resource r]: missing required key \"type\"" },
	{ "vip without address", VALID "[resource r]\ntype = vip\n"
				 "interface = lo\n",
	  "t.conf:10:", "[resource r]: missing required key \"address\"" },
	{ "vip without prefix", VALID "[resource r]\ntype = vip\n"
				"address = 192.0.2.100\n",
	  "t.conf:12:", "[resource r] address: expected an IPv4 address with "
			"/1..32" },
	{ "vip /33", VALID "[resource r]\naddress = 192.0.2.100/33\n",
	  "t.conf:11:", "[resource r] address: expected" },
	{ "vip /0", VALID "[resource r]\naddress = 192.0.2.100/0\n",
	  "t.conf:11:", "[resource r] address: expected" },
	{ "vip6 /129", VALID "[resource r]\naddress = 2001:db8::1/129\n",
	  "t.conf:11:", "[resource r] address: expected" },
	{ "vip prefix garbage", VALID "[resource r]\naddress = ::1/6x\n",
	  "t.conf:11:", "[resource r] address: expected" },
	{ "vip without interface", VALID VIP,
	  "t.conf:10:", "[resource v]: missing required key \"interface\"" },
	{ "vip interface for one node only", VALID VIP "interface@a = eth0\n",
	  "t.conf:10:", "none for node b" },
	{ "interface of 16 characters", VALID VIP
	  "interface = abcdefghijklmnop\n",
	  "t.conf:13:", "[resource v] interface: expected an interface name" },
	{ "interface with a slash", VALID VIP "interface = a/b\n",
	  "t.conf:13:", "[resource v] interface: expected an interface name" },
	{ "interface@ unknown node", VALID VIP "interface = eth0\n"
					      "interface@c = eth1\n",
	  "t.conf:14:", "[resource v] interface@c: expected the name of a "
			"[node] section (a, b), got \"c\"" },
	{ "interface@ twice", VALID VIP "interface@a = eth0\n"
					"interface@a = eth1\n",
	  "t.conf:14:", "[resource v] interface@a: duplicate key (first set "
			"on line 13)" },
	{ "interface@ without node", VALID VIP "interface@ = eth0\n",
	  "t.conf:13:", "[resource v] interface@: expected interface@NODE" },
	{ "garp_count 101", VALID VIP "interface = eth0\ngarp_count = 101\n",
	  "t.conf:14:", "[resource v] garp_count: expected an integer from 0 "
			"to 100, got \"101\"" },
	{ "garp_interval bare", VALID VIP "interface = eth0\n"
					  "garp_interval = 100\n",
	  "t.conf:14:", "[resource v] garp_interval: expected a duration" },
	{ "garp_refresh garbage", VALID VIP "interface = eth0\n"
					    "garp_refresh = off\n",
	  "t.conf:14:", "[resource v] garp_refresh: expected 0 (off) or a "
			"duration" },
	{ "duplicate resource", VALID VIP "interface = eth0\n"
				      "[resource v]\n",
	  "t.conf:14:", "[resource v]: duplicate resource name (first on line "
			"10)" },
	{ "resource name with a space", VALID "[resource a b]\n",
	  "t.conf:10:", "[resource a b]: expected a resource name" },
	{ "key before any section", "name = x\n" VALID,
	  "t.conf:1:", "name: key outside any section" },
	{ "line that is no key", VALID "just words\n",
	  "t.conf:10:", "expected \"key = value\" or a [section] header, got "
			"\"just words\"" },
	{ "missing key before =", VALID "= 5\n",
	  "t.conf:10:", "expected \"key = value\"" },
	{ "unclosed header", VALID "[node c\n",
	  "t.conf:10:", "got \"[node c\"" },
	{ "control byte is escaped", VALID "port = 1\x01\n",
	  "t.conf:10:", "got \"1\\x01\"" },
	{ "unknown section lists check and notify", VALID "[checks x]\n",
	  "t.conf:10:", "[checks x]: unknown section; valid sections are "
			"[cluster], [node NAME], [witness], [resource NAME], "
			"[check NAME], [notify NAME], [api], [alert NAME] "
			"and [events]" },
	{ "api without listen", VALID "[api]\n",
	  "t.conf:10:", "[api]: missing required key \"listen\"" },
	{ "api listen without port", VALID "[api]\nlisten = 127.0.0.1\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT with an IPv4 "
			"address (127.0.0.1:9405) or an IPv6 address in "
			"brackets ([::1]:9405), got \"127.0.0.1\"" },
	{ "api listen port 0", VALID "[api]\nlisten = 127.0.0.1:0\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen port too big", VALID "[api]\nlisten = 127.0.0.1:65536\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen host name", VALID "[api]\nlisten = localhost:9405\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen IPv6 without brackets",
	  VALID "[api]\nlisten = ::1:9405\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen IPv4 in brackets", VALID
	  "[api]\nlisten = [127.0.0.1]:9405\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen bracket not closed", VALID "[api]\nlisten = [::1:9405\n",
	  "t.conf:11:", "[api] listen: expected ADDRESS:PORT" },
	{ "api listen twice", VALID "[api]\nlisten = 127.0.0.1:1\n"
	  "listen = 127.0.0.1:2\n",
	  "t.conf:12:", "[api] listen: duplicate key (first set on line 11)" },
	{ "api section twice", VALID "[api]\nlisten = 127.0.0.1:1\n[api]\n",
	  "t.conf:12:", "[api]: duplicate section (first on line 10)" },
	{ "api with a name", VALID "[api x]\n",
	  "t.conf:10:", "[api x]: expected [api] without a name" },
	{ "api unknown key lists listen@NODE", VALID
	  "[api]\nlisten = 127.0.0.1:1\ntoken = x\n",
	  "t.conf:12:", "[api] token: unknown key; valid keys are listen, "
			"token_file, listen@NODE" },
	{ "api listen needed unless every node has listen@NODE", VALID
	  "[api]\nlisten@a = 127.0.0.1:1\n",
	  "t.conf:10:", "[api]: missing required key \"listen\" (or "
			"listen@NODE for every node; none for b)" },
	{ "cluster switchover_timeout out of range",
	  "[cluster]\nname = c\nkey_file = /k\nswitchover_timeout = 50ms\n"
	  "[node a]\naddress = 192.0.2.1\n[node b]\naddress = 192.0.2.2\n"
	  "[witness]\naddress = 192.0.2.3\n",
	  "t.conf:4:", "[cluster] switchover_timeout: expected a duration "
		       "from 100ms to 10m" },
	{ "api listen@ unknown node", VALID "[api]\nlisten = 127.0.0.1:1\n"
	  "listen@c = 192.0.2.1:9405\n",
	  "t.conf:12:", "[api] listen@c: expected the name of a [node] "
			"section (a, b), got \"c\"" },
	{ "api listen@ twice", VALID "[api]\nlisten = 127.0.0.1:1\n"
	  "listen@a = 192.0.2.1:9405\nlisten@a = 192.0.2.1:9406\n",
	  "t.conf:13:", "[api] listen@a: duplicate key (first set on line "
			"12)" },
	{ "api listen@ bad value", VALID "[api]\nlisten = 127.0.0.1:1\n"
	  "listen@a = 192.0.2.1\n",
	  "t.conf:12:", "[api] listen@a: expected ADDRESS:PORT with an IPv4 "
			"address" },
	{ "api listen@ without node", VALID "[api]\nlisten = 127.0.0.1:1\n"
	  "listen@ = 192.0.2.1:1\n",
	  "t.conf:12:", "[api] listen@: expected listen@NODE" },

	/* type = redis */
	{ "vip key in a redis section", VALID REDIS "address = 192.0.2.9/24\n",
	  "t.conf:12:", "[resource cache] address: unknown key; " REDIS_KEYS },
	{ "interface@ in a redis section", VALID REDIS "interface@a = eth0\n",
	  "t.conf:12:", "[resource cache] interface@a: unknown key; "
			REDIS_KEYS },
	{ "redis key in a vip section", VALID VIP "interface = eth0\n"
					      "replication = sync\n",
	  "t.conf:14:", "[resource v] replication: unknown key; " VIP_KEYS },
	{ "redis key before type = vip", VALID "[resource v]\nport = 6379\n"
	  "type = vip\naddress = 192.0.2.9/24\ninterface = eth0\n",
	  "t.conf:11:", "[resource v] port: unknown key; " VIP_KEYS },
	{ "vip key before type = redis", VALID "[resource c]\n"
	  "interface = eth0\ntype = redis\n",
	  "t.conf:11:", "[resource c] interface: unknown key; " REDIS_KEYS },
	{ "two data resources", VALID REDIS "[resource other]\ntype = redis\n",
	  "t.conf:13:", "[resource other] type: expected at most one data "
			"resource (redis, postgresql, mariadb) per cluster, "
			"but [resource cache] on "
			"line 10 is one already, got \"redis\"" },
	{ "redis type twice", VALID REDIS "type = vip\n",
	  "t.conf:12:", "[resource cache] type: duplicate key (first set on "
			"line 11)" },
	{ "redis port 0", VALID REDIS "port = 0\n",
	  "t.conf:12:", "[resource cache] port: expected a port number from 1 "
			"to 65535, got \"0\"" },
	{ "redis port 65536", VALID REDIS "port = 65536\n",
	  "t.conf:12:", "[resource cache] port: expected a port number" },
	{ "redis host name", VALID REDIS "host = localhost\n",
	  "t.conf:12:", "[resource cache] host: expected an IPv4 or IPv6 "
			"address, such as 127.0.0.1, got \"localhost\"" },
	{ "redis host with scope", VALID REDIS "host = fe80::1%eth0\n",
	  "t.conf:12:", "[resource cache] host: expected an IPv4 or IPv6" },
	{ "redis user with a space", VALID REDIS "user = ha pair\n",
	  "t.conf:12:", "[resource cache] user: expected a user name of 1 to "
			"63 printable characters without spaces" },
	{ "redis user of 64 bytes", VALID REDIS "user = "
	  "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\n",
	  "t.conf:12:", "[resource cache] user: expected a user name" },
	{ "redis empty password", VALID REDIS "password =\n",
	  "t.conf:12:", "[resource cache] password: expected a password of 1 "
			"to 127 printable characters (or password_file), got 0 "
			"bytes (not shown)" },
	{ "redis password of 128 bytes", VALID REDIS "password = "
	  "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
	  "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\n",
	  "t.conf:12:", "[resource cache] password: expected a password of 1 "
			"to 127 printable characters (or password_file), got "
			"128 bytes (not shown)" },
	{ "redis password and password_file", VALID REDIS "password = x\n"
	  "password_file = /etc/hapair/redis.pass\n",
	  "t.conf:13:", "[resource cache] password_file: expected either "
			"password or password_file, not both (password is set "
			"on line 12)" },
	{ "redis password_file and password", VALID REDIS
	  "password_file = /etc/hapair/redis.pass\npassword = x\n",
	  "t.conf:13:", "[resource cache] password: expected either password "
			"or password_file, not both (password_file is set on "
			"line 12)" },
	{ "redis relative password_file", VALID REDIS
	  "password_file = redis.pass\n",
	  "t.conf:12:", "[resource cache] password_file: expected an absolute "
			"path" },
	{ "redis replication semisync", VALID REDIS "replication = semisync\n",
	  "t.conf:12:", "[resource cache] replication: expected sync or async, "
			"got \"semisync\"" },
	{ "redis bare lag", VALID REDIS "max_lag_on_failover = 1024\n",
	  "t.conf:12:", "[resource cache] max_lag_on_failover: expected a size "
			"with a unit (B, kB, MB, GB), such as 1MB, or 0; a "
			"time such as 5s; or none, got \"1024\"" },
	{ "redis lag time and unit", VALID REDIS
	  "max_lag_on_failover = 5 s\n", "t.conf:12:",
	  "[resource cache] max_lag_on_failover: expected a size" },
	{ "redis fractional lag", VALID REDIS "max_lag_on_failover = 1.5MB\n",
	  "t.conf:12:", "[resource cache] max_lag_on_failover: expected a "
			"size" },
	{ "redis timeout 0ms", VALID REDIS "timeout = 0ms\n",
	  "t.conf:12:", "[resource cache] timeout: expected a duration of at "
			"least 1ms, such as 1s, got \"0ms\"" },
	{ "redis bare monitor_interval", VALID REDIS "monitor_interval = 100\n",
	  "t.conf:12:", "[resource cache] monitor_interval: expected a "
			"duration of at least 1ms, such as 100ms" },
	{ "redis relative keep_dir", VALID REDIS "keep_dir = kept\n",
	  "t.conf:12:", "[resource cache] keep_dir: expected an absolute "
			"path" },
	{ "redis key twice", VALID REDIS "port = 1\nport = 2\n",
	  "t.conf:13:", "[resource cache] port: duplicate key (first set on "
			"line 12)" },

	/* [check NAME] */
	{ "check without a name", VALID "[check]\n",
	  "t.conf:10:", "[check]: expected a name, as in [check NAME]" },
	{ "check name with a dot", VALID "[check a.b]\n",
	  "t.conf:10:", "[check a.b]: expected a check name of 1 to 63 "
			"letters, digits, '_' or '-'" },
	{ "duplicate check", VALID TCP "[check web]\n",
	  "t.conf:13:", "[check web]: duplicate check name (first on line "
			"10)" },
	{ "check without type", VALID "[check web]\nport = 80\n",
	  "t.conf:10:", "[check web]: missing required key \"type\"" },
	{ "check type icmp", VALID "[check web]\ntype = icmp\n",
	  "t.conf:11:", "[check web] type: expected tcp, http or script, got "
			"\"icmp\"" },
	{ "unknown check key", VALID TCP "host = 127.0.0.1\n",
	  "t.conf:13:", "[check web] host: unknown key; valid keys are type, "
			"address, port, path, expect_status, command, "
			"interval, timeout, rise, fall" },
	{ "check key twice", VALID TCP "rise = 1\nrise = 2\n",
	  "t.conf:14:", "[check web] rise: duplicate key (first set on line "
			"13)" },
	{ "tcp without port", VALID "[check web]\ntype = tcp\n",
	  "t.conf:10:", "[check web]: missing required key \"port\" (type tcp "
			"needs it)" },
	{ "http without port", VALID "[check h]\ntype = http\npath = /\n",
	  "t.conf:10:", "[check h]: missing required key \"port\" (type http "
			"needs it)" },
	{ "script without command", VALID "[check s]\ntype = script\n",
	  "t.conf:10:", "[check s]: missing required key \"command\" (type "
			"script needs it)" },
	{ "script with port", VALID SCRIPT "port = 80\n",
	  "t.conf:13:", "[check s] port: not used by type script (only by "
			"types tcp and http); remove it" },
	{ "script with address", VALID SCRIPT "address = 127.0.0.1\n",
	  "t.conf:13:", "[check s] address: not used by type script" },
	{ "script with path", VALID SCRIPT "path = /\n",
	  "t.conf:13:", "[check s] path: not used by type script (only by "
			"type http); remove it" },
	{ "tcp with path", VALID TCP "path = /health\n",
	  "t.conf:13:", "[check web] path: not used by type tcp (only by type "
			"http); remove it" },
	{ "tcp with expect_status", VALID TCP "expect_status = 200\n",
	  "t.conf:13:", "[check web] expect_status: not used by type tcp" },
	{ "tcp with command", VALID TCP "command = true\n",
	  "t.conf:13:", "[check web] command: not used by type tcp (only by "
			"type script); remove it" },
	{ "http with command", VALID HTTP "command = true\n",
	  "t.conf:13:", "[check h] command: not used by type http" },
	{ "type after a key it does not use", VALID "[check s]\n"
	  "port = 80\ntype = script\ncommand = true\n",
	  "t.conf:11:", "[check s] port: not used by type script" },
	{ "check port 0", VALID "[check web]\ntype = tcp\nport = 0\n",
	  "t.conf:12:", "[check web] port: expected a port number from 1 to "
			"65535, got \"0\"" },
	{ "check address name", VALID TCP "address = localhost\n",
	  "t.conf:13:", "[check web] address: expected an IPv4 or IPv6 "
			"address, such as 127.0.0.1, got \"localhost\"" },
	{ "http path without slash", VALID HTTP "path = health\n",
	  "t.conf:13:", "[check h] path: expected a path starting with '/', "
			"without spaces, shorter than 256 bytes, got "
			"\"health\"" },
	{ "http path with a space", VALID HTTP "path = /a b\n",
	  "t.conf:13:", "[check h] path: expected a path starting with '/'" },
	{ "http status 199", VALID HTTP "expect_status = 199\n",
	  "t.conf:13:", "[check h] expect_status: expected an HTTP status from "
			"200 to 599, got \"199\"" },
	{ "http status 100", VALID HTTP "expect_status = 100\n",
	  "t.conf:13:", "[check h] expect_status: expected an HTTP status" },
	{ "http status 600", VALID HTTP "expect_status = 600\n",
	  "t.conf:13:", "[check h] expect_status: expected an HTTP status" },
	{ "empty command", VALID "[check s]\ntype = script\ncommand =\n",
	  "t.conf:12:", "[check s] command: expected a command of 1 to 511 "
			"bytes, got \"\"" },
	{ "command with a control byte", VALID "[check s]\ntype = script\n"
	  "command = true\x1b\n",
	  "t.conf:12:", "[check s] command: expected a command" },
	{ "bare interval", VALID TCP "interval = 5\n",
	  "t.conf:13:", "[check web] interval: expected a duration of at "
			"least 1ms, such as 1s, got \"5\"" },
	{ "interval 0ms", VALID TCP "interval = 0ms\n",
	  "t.conf:13:", "[check web] interval: expected a duration" },
	{ "timeout 0ms", VALID TCP "timeout = 0ms\n",
	  "t.conf:13:", "[check web] timeout: expected a duration" },
	{ "timeout above interval", VALID TCP "interval = 500ms\n"
	  "timeout = 2s\n",
	  "t.conf:14:", "[check web] timeout: expected at most the interval "
			"(500ms), got 2000ms" },
	{ "timeout before a shorter interval", VALID TCP "timeout = 2s\n"
	  "interval = 1s\n",
	  "t.conf:13:", "[check web] timeout: expected at most the interval "
			"(1000ms), got 2000ms" },
	{ "rise 0", VALID TCP "rise = 0\n",
	  "t.conf:13:", "[check web] rise: expected an integer from 1 to 100, "
			"got \"0\"" },
	{ "fall 101", VALID TCP "fall = 101\n",
	  "t.conf:13:", "[check web] fall: expected an integer from 1 to 100, "
			"got \"101\"" },

	/* [notify NAME] */
	{ "notify without a name", VALID "[notify]\n",
	  "t.conf:10:", "[notify]: expected a name, as in [notify NAME]" },
	{ "notify without command", VALID "[notify pager]\ntimeout = 5s\n",
	  "t.conf:10:", "[notify pager]: missing required key \"command\"" },
	{ "duplicate notify", VALID "[notify p]\ncommand = true\n"
	  "[notify p]\n",
	  "t.conf:12:", "[notify p]: duplicate notify name (first on line "
			"10)" },
	{ "notify timeout bare", VALID "[notify p]\ncommand = true\n"
	  "timeout = 10\n",
	  "t.conf:12:", "[notify p] timeout: expected a duration of at least "
			"1ms, such as 10s, got \"10\"" },
	{ "notify empty command", VALID "[notify p]\ncommand =\n",
	  "t.conf:11:", "[notify p] command: expected a command of 1 to 511 "
			"bytes" },
	{ "unknown notify key", VALID "[notify p]\ncommand = true\n"
	  "type = script\n",
	  "t.conf:12:", "[notify p] type: unknown key; valid keys are "
			"command, timeout" },
};

static void test_bad_configs(void **state)
{
	const struct bad_row *r;
	struct conf_errors e;
	struct conf c;
	size_t i;
	int j;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		r = &bad_rows[i];
		if (parse(r->text, &c, &e) != -1 || e.n == 0)
			fail_msg("row \"%s\": parsed without error", r->name);
		for (j = 0; j < e.n; j++)
			if (strncmp(e.msg[j], "t.conf", 6))
				fail_msg("row \"%s\": error without the file "
					 "name: %s", r->name, e.msg[j]);
		if (!has_error(&e, r->where, r->what)) {
			print_errors(&e);
			fail_msg("row \"%s\": no error above contains \"%s\" "
				 "and \"%s\"", r->name, r->where, r->what);
		}
	}
}

static void test_header_example_exact(void **state)
{
	struct conf_errors e;
	struct conf c;

	assert_int_equal(parse(bad_rows[0].text, &c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "t.conf:7: [node b] address: expected "
				      "IPv4 or IPv6, got \"10.0.0.300\"");
}

static void test_many_errors_one_pass(void **state)
{
	struct conf_errors e;
	struct conf c;

	assert_int_equal(parse("[cluster]\n"
			       "name = shop\n"
			       "key_file = /k\n"
			       "lease = 7\n"		/* 4 */
			       "[node a]\n"
			       "address = 192.0.2.1\n"
			       "port = 0\n"		/* 7 */
			       "[node b]\n"
			       "address = nowhere\n"	/* 9 */
			       "[resource r]\n"		/* 10: type */
			       "address = 192.0.2.9/24\n"
			       "interface@z = eth0\n",	/* 12 */
			       &c, &e), -1);
	expect_error(&e, "t.conf:4:", "[cluster] lease");
	expect_error(&e, "t.conf:7:", "[node a] port");
	expect_error(&e, "t.conf:9:", "[node b] address");
	expect_error(&e, "t.conf: ", "[witness]");
	expect_error(&e, "t.conf:10:", "missing required key \"type\"");
	expect_error(&e, "t.conf:12:", "interface@z");
	expect_error(&e, "t.conf:10:", "missing required key \"interface\"");
	if (e.n != 7) {
		print_errors(&e);
		fail_msg("expected 7 errors, got %d", e.n);
	}
	/* Line errors come in file order. */
	assert_non_null(strstr(e.msg[0], "t.conf:4:"));
	assert_non_null(strstr(e.msg[1], "t.conf:7:"));
	assert_non_null(strstr(e.msg[2], "t.conf:9:"));
}

static void test_error_limit(void **state)
{
	char text[4096];
	struct conf_errors e;
	struct conf c;
	size_t o;
	int i;

	o = (size_t)snprintf(text, sizeof(text), "%s", VALID);
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "nonsense %d\n", i);
	assert_int_equal(parse(text, &c, &e), -1);
	assert_int_equal(e.n, CONF_MAX_ERRORS);
	assert_non_null(strstr(e.msg[0], "t.conf:10:"));
	assert_non_null(strstr(e.msg[CONF_MAX_ERRORS - 2], "t.conf:40:"));
	assert_string_equal(e.msg[CONF_MAX_ERRORS - 1],
			    "t.conf: 9 more errors not shown");
}

struct duration_row {
	const char *text;
	int rc;
	uint32_t ms;
};

static void test_duration(void **state)
{
	static const struct duration_row rows[] = {
		{ "100ms", 0, 100 },	{ "1s", 0, 1000 },
		{ "2m", 0, 120000 },	{ "0ms", 0, 0 },
		{ "007s", 0, 7000 },	{ "4294967295ms", 0, 4294967295u },
		{ "4294967s", 0, 4294967000u },
		{ "71582m", 0, 4294920000u },
		{ "4294967296ms", -1, 0 },	{ "4294968s", -1, 0 },
		{ "71583m", -1, 0 },	{ "99999999999999999999999s", -1, 0 },
		{ "100", -1, 0 },	{ "0", -1, 0 },
		{ "", -1, 0 },		{ "ms", -1, 0 },
		{ "-5ms", -1, 0 },	{ "+5ms", -1, 0 },
		{ "1.5s", -1, 0 },	{ "1h", -1, 0 },
		{ "1 s", -1, 0 },	{ " 1s", -1, 0 },
		{ "1s ", -1, 0 },	{ "1S", -1, 0 },
		{ "1msx", -1, 0 },	{ "1sm", -1, 0 },
		{ "1mss", -1, 0 },	{ "0x10ms", -1, 0 },
	};
	uint32_t ms;
	size_t i;
	int rc;

	assert_int_equal(conf_parse_duration_ms(NULL, &ms), -1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ms = 12345;
		rc = conf_parse_duration_ms(rows[i].text, &ms);
		if (rc != rows[i].rc)
			fail_msg("\"%s\": rc %d, expected %d", rows[i].text, rc,
				 rows[i].rc);
		if (rc == 0 && ms != rows[i].ms)
			fail_msg("\"%s\": %u ms, expected %u", rows[i].text,
				 (unsigned)ms, (unsigned)rows[i].ms);
		if (rc != 0 && ms != 12345)
			fail_msg("\"%s\": output written on error",
				 rows[i].text);
	}
}

static void test_percent(void **state)
{
	static const struct duration_row rows[] = {
		{ "1%", 0, 10000 },	{ "0.5%", 0, 5000 },
		{ "2.25%", 0, 22500 },	{ "0%", 0, 0 },
		{ "20%", 0, 200000 },	{ "0.0001%", 0, 1 },
		{ "100%", 0, 1000000 },	{ "429496%", 0, 4294960000u },
		{ "429497%", -1, 0 },	{ "0.00001%", -1, 0 },
		{ "1", -1, 0 },		{ "%", -1, 0 },
		{ "", -1, 0 },		{ ".5%", -1, 0 },
		{ "1.%", -1, 0 },	{ "-1%", -1, 0 },
		{ "1 %", -1, 0 },	{ "1%%", -1, 0 },
		{ "1.2.3%", -1, 0 },	{ "1e2%", -1, 0 },
	};
	uint32_t ppm;
	size_t i;
	int rc;

	assert_int_equal(conf_parse_percent_ppm(NULL, &ppm), -1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ppm = 12345;
		rc = conf_parse_percent_ppm(rows[i].text, &ppm);
		if (rc != rows[i].rc)
			fail_msg("\"%s\": rc %d, expected %d", rows[i].text, rc,
				 rows[i].rc);
		if (rc == 0 && ppm != rows[i].ms)
			fail_msg("\"%s\": %u ppm, expected %u", rows[i].text,
				 (unsigned)ppm, (unsigned)rows[i].ms);
	}
}

static void test_interface_per_node(void **state)
{
	struct conf c;
	const struct conf_vip *v;

	/* interface@NODE before the [node] sections it names. */
	expect_valid(CLUSTER "[resource v]\ntype = vip\n"
			     "address = 192.0.2.100/24\n"
			     "interface@b = ens4\ninterface@a = ens3\n"
			     NODES WITNESS, &c);
	v = &c.resources[0].vip;
	assert_string_equal(v->interface, "");
	assert_string_equal(conf_vip_interface(v, 1), "ens3");
	assert_string_equal(conf_vip_interface(v, 2), "ens4");

	expect_valid(VALID VIP "interface = eth0\ninterface@b = eth1\n", &c);
	v = &c.resources[0].vip;
	assert_string_equal(conf_vip_interface(v, 1), "eth0");
	assert_string_equal(conf_vip_interface(v, 2), "eth1");
	assert_string_equal(conf_vip_interface(v, 0), "eth0");
	assert_string_equal(conf_vip_interface(v, 3), "eth0");
}

static void test_api(void **state)
{
	struct conf c;
	const struct conf_endpoint *ep;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;

	/* No [api] section: no API. */
	expect_valid(VALID, &c);
	assert_false(c.api.enabled);
	assert_null(conf_api_listen(&c, 1));

	/* listen@NODE before the [node] sections it names. */
	expect_valid(CLUSTER "[api]\nlisten@b = [2001:db8::2]:9500\n"
			     "listen = 127.0.0.1:9405\n" NODES WITNESS, &c);
	assert_true(c.api.enabled);
	ep = conf_api_listen(&c, 1);
	sin = (const struct sockaddr_in *)&ep->sa;
	assert_string_equal(ep->host, "127.0.0.1");
	assert_int_equal(ep->port, 9405);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 9405);
	assert_int_equal(ep->sa_len, sizeof(*sin));
	ep = conf_api_listen(&c, 2);
	sin6 = (const struct sockaddr_in6 *)&ep->sa;
	assert_string_equal(ep->host, "2001:db8::2");
	assert_int_equal(ep->port, 9500);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9500);

	expect_valid(VALID "[api]\nlisten = [::]:1\n", &c);
	assert_string_equal(conf_api_listen(&c, 2)->host, "::");
	assert_int_equal(conf_api_listen(&c, 2)->port, 1);
}

static void test_node_by_name(void **state)
{
	struct conf c;

	expect_valid(VALID, &c);
	assert_non_null(conf_node_by_name(&c, "a"));
	assert_int_equal(conf_node_by_name(&c, "a")->id, 1);
	assert_int_equal(conf_node_by_name(&c, "b")->id, 2);
	assert_null(conf_node_by_name(&c, "c"));
	assert_null(conf_node_by_name(&c, ""));
}

static void test_name_limits(void **state)
{
	static const char name63[] = "n23456789012345678901234567890123456789"
				     "012345678901234567890123";
	char text[512];
	struct conf c;

	assert_int_equal(strlen(name63), 63);
	snprintf(text, sizeof(text), "[cluster]\nname = %s\nkey_file = /k\n"
		 "[node %s]\naddress = 192.0.2.1\n[node b]\n"
		 "address = 192.0.2.2\n" WITNESS VIP "interface = "
		 "abcdefghijklmno\ninterface@%s = eth0\n", name63, name63,
		 name63);
	expect_valid(text, &c);
	assert_string_equal(c.name, name63);
	assert_non_null(conf_node_by_name(&c, name63));
	assert_string_equal(c.resources[0].vip.interface, "abcdefghijklmno");
	assert_string_equal(conf_vip_interface(&c.resources[0].vip, 1),
			    "eth0");
}

/* Inputs a fuzzer finds: none may crash, each gives a clear error. */
static void test_hostile_text(void **state)
{
	static const char nul[] = VALID "port = 1\0\n";
	char *big;
	struct conf_errors e;
	struct conf c;
	size_t n;

	assert_int_equal(conf_parse(nul, sizeof(nul) - 1, "t.conf", &c, &e),
			 -1);
	expect_error(&e, "t.conf:10:", "NUL byte");

	n = strlen(VALID);
	big = malloc(n + 2000);
	assert_non_null(big);
	memcpy(big, VALID, n);
	memset(big + n, 'x', 1025);
	assert_int_equal(conf_parse(big, n + 1025, "t.conf", &c, &e), -1);
	expect_error(&e, "t.conf:10:", "line is 1025 bytes long; the limit "
				       "is 1024");
	/* 1024 bytes is allowed (and then a syntax error). */
	assert_int_equal(conf_parse(big, n + 1024, "t.conf", &c, &e), -1);
	expect_error(&e, "t.conf:10:", "expected \"key = value\"");
	free(big);

	assert_int_equal(conf_parse(NULL, 0, NULL, &c, &e), -1);
	expect_error(&e, "<config>: ", "missing [cluster]");
	assert_int_equal(conf_parse("", 0, "t.conf", &c, NULL), -1);
	assert_int_equal(conf_parse("[", 1, "t.conf", &c, &e), -1);
	assert_int_equal(conf_parse("]", 1, "t.conf", &c, &e), -1);
	assert_int_equal(conf_parse("=", 1, "t.conf", &c, &e), -1);
	assert_int_equal(conf_parse("[]", 2, "t.conf", &c, &e), -1);
	expect_error(&e, "t.conf:1:", "[]: unknown section");
}

/* Fuzz find, 2026-11-24: a vip address with more than 63 bytes before
 * the '/' overflowed the stack copy of the host part.  Corpus file:
 * tests/fuzz/corpus/conf/crash-2026-11-24-vip-long-host.conf. */
static void test_fuzz_2026_11_24_vip_long_host(void **state)
{
	struct conf_errors e;
	struct conf c;

	assert_int_equal(parse(VALID "[resource v]\ntype = vip\n"
			       "interface = eth0\naddress = "
			       "1111111111111111111111111111111111111111111111"
			       "1111111111111111111111111/24\n", &c, &e), -1);
	expect_error(&e, "t.conf:13:", "[resource v] address: expected");
}

static void test_line_endings(void **state)
{
	struct conf c;

	expect_valid("\xef\xbb\xbf[cluster]\r\nname = shop\r\n"
		     "key_file = /k\r\n[node a]\r\naddress = 192.0.2.1\r\n"
		     "[node b]\r\naddress = 192.0.2.2\r\n[witness]\r\n"
		     "address = 192.0.2.3", &c);
	assert_string_equal(c.name, "shop");
	assert_string_equal(c.witness.host, "192.0.2.3");
	/* '#' inside a value is kept; after whitespace it starts a comment */
	expect_valid("[cluster]\nname = shop\nkey_file = /k#1 # comment\n"
		     NODES WITNESS, &c);
	assert_string_equal(c.key_file, "/k#1");
}

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

/* A temporary file with this content and mode; its path into path. */
static void write_tmp(char *path, size_t cap, const char *data, size_t len,
		      mode_t mode)
{
	int fd;

	snprintf(path, cap, "%s/hapair-test-XXXXXX", tmp_dir());
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static const char key_hex[] =
	"000102030405060708090a0b0c0d0e0f"
	"101112131415161718191A1B1C1D1E1F";

static int load_key_text(const char *text, mode_t mode, uint8_t key[32],
			 struct hp_err *err)
{
	struct conf c;
	int rc;

	memset(&c, 0, sizeof(c));
	write_tmp(c.key_file, sizeof(c.key_file), text, strlen(text), mode);
	rc = conf_load_key(&c, key, err);
	unlink(c.key_file);
	return rc;
}

static void expect_key_error(const char *text, mode_t mode, const char *want)
{
	struct hp_err err;
	uint8_t key[32];

	memset(&err, 0, sizeof(err));
	assert_int_equal(load_key_text(text, mode, key, &err), -1);
	if (!strstr(err.msg, "key file ") || !strstr(err.msg, want))
		fail_msg("got \"%s\", expected it to contain \"%s\"", err.msg,
			 want);
}

static void test_key(void **state)
{
	char text[200];
	struct hp_err err;
	uint8_t key[32], want[32];
	int i;

	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	snprintf(text, sizeof(text), "%s\n", key_hex);
	assert_int_equal(load_key_text(text, 0600, key, &err), 0);
	assert_memory_equal(key, want, 32);
	assert_int_equal(load_key_text(key_hex, 0400, key, &err), 0);
	assert_memory_equal(key, want, 32);
	snprintf(text, sizeof(text), "%s\r\n", key_hex);
	assert_int_equal(load_key_text(text, 0600, key, &err), 0);

	expect_key_error(key_hex, 0644, "mode 0644 lets others read the "
					"cluster key; chmod 600 it");
	expect_key_error(key_hex, 0640, "mode 0640");
	expect_key_error(key_hex, 0620, "mode 0620 lets others change");
	expect_key_error(key_hex, 0604, "chmod 600");
	expect_key_error("", 0600, "expected 64 hex digits (as written by "
				   "hapair keygen), got 0 bytes");
	expect_key_error("0011", 0600, "got 4 bytes");
	snprintf(text, sizeof(text), "%s00\n", key_hex);
	expect_key_error(text, 0600, "got 66 bytes");
	snprintf(text, sizeof(text), "%s\n\n", key_hex);
	expect_key_error(text, 0600, "expected 64 hex digits");
	snprintf(text, sizeof(text), "%s%s", key_hex, key_hex);
	expect_key_error(text, 0600, "got more than");
	snprintf(text, sizeof(text), "%s", key_hex);
	text[10] = 'g';
	expect_key_error(text, 0600, "non-hex character at byte 11");
}

static void test_key_missing(void **state)
{
	struct conf c;
	struct hp_err err;
	uint8_t key[32];

	memset(&c, 0, sizeof(c));
	assert_int_equal(conf_load_key(&c, key, &err), -1);
	assert_non_null(strstr(err.msg, "key_file"));
	snprintf(c.key_file, sizeof(c.key_file), "%s/hapair-no-such-key",
		 tmp_dir());
	assert_int_equal(conf_load_key(&c, key, &err), -1);
	assert_non_null(strstr(err.msg, "hapair-no-such-key: cannot open: "
					"No such file or directory"));
}

static void test_load_file(void **state)
{
	const char *data = getenv("HAPAIR_TEST_DATA");
	char path[512];
	struct conf_errors e;
	struct conf c;

	snprintf(path, sizeof(path), "%s/data/conf/full.conf",
		 data ? data : "tests");
	if (conf_load(path, &c, &e) != 0) {
		print_errors(&e);
		fail_msg("%s should load", path);
	}
	assert_string_equal(c.path, path);
	assert_string_equal(c.name, "shop-db");
	assert_int_equal(c.lease_ms, 400);
	assert_int_equal(c.drift_ppm, 5000);
	assert_int_equal(c.nodes[1].ep.port, 5406);
	assert_int_equal(c.n_resources, 2);
	assert_string_equal(conf_vip_interface(&c.resources[0].vip, 2), "eth1");
	assert_string_equal(conf_vip_interface(&c.resources[1].vip, 1), "ens3");
}

static void test_load_errors(void **state)
{
	char path[512];
	struct conf_errors e;
	struct conf c;
	int fd;

	assert_int_equal(conf_load("/nonexistent/hapair.conf", &c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "/nonexistent/hapair.conf: cannot open: "
				      "No such file or directory");

	assert_int_equal(conf_load(tmp_dir(), &c, &e), -1);
	assert_non_null(strstr(e.msg[0], "expected a regular file"));

	write_tmp(path, sizeof(path), "", 0, 0600);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024 + 1), 0);
	close(fd);
	assert_int_equal(conf_load(path, &c, &e), -1);
	unlink(path);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], ": file is 1048577 bytes; expected a "
					 "config file of at most 1 MiB"));

	/* Errors from a file carry its path. */
	write_tmp(path, sizeof(path), "[cluster]\nlease = 1\n", 20, 0600);
	assert_int_equal(conf_load(path, &c, &e), -1);
	unlink(path);
	expect_error(&e, path, ":2: [cluster] lease");
}

static void test_redis_full(void **state)
{
	struct conf c;
	const struct conf_redis *r;

	/* Every key, with "type" last: the look-ahead picks the table. */
	expect_valid(VALID "[resource cache]\n"
		     "port = 6380\n"
		     "host = ::1\n"
		     "user = hapair\n"
		     "password_file = /etc/hapair/redis.pass\n"
		     "replication = async\n"
		     "max_lag_on_failover = 64kB\n"
		     "timeout = 250ms\n"
		     "monitor_interval = 50ms\n"
		     "keep_dir = /srv/kept\n"
		     "type = redis   # after the others\n"
		     VIP "interface = eth0\n", &c);
	assert_int_equal(c.n_resources, 2);
	assert_int_equal(c.resources[0].type, RES_REDIS);
	assert_int_equal(c.resources[1].type, RES_VIP);
	r = &c.resources[0].redis;
	assert_int_equal(r->port, 6380);
	assert_string_equal(r->host, "::1");
	assert_string_equal(r->user, "hapair");
	assert_string_equal(r->password, "");
	assert_string_equal(r->password_file, "/etc/hapair/redis.pass");
	assert_int_equal(r->replication, REPL_ASYNC);
	assert_int_equal(r->max_lag_on_failover, 65536);
	assert_int_equal(r->timeout_ms, 250);
	assert_int_equal(r->monitor_interval_ms, 50);
	assert_string_equal(r->keep_dir, "/srv/kept");
	assert_ptr_equal(conf_data_resource(&c), &c.resources[0]);

	expect_valid(VALID REDIS "password = s3cret #x\n"
		     "max_lag_on_failover = 0\n", &c);
	r = &c.resources[0].redis;
	assert_string_equal(r->password, "s3cret");
	assert_string_equal(r->password_file, "");
	assert_int_equal(r->max_lag_on_failover, 0);
}

static void test_redis_defaults(void **state)
{
	struct conf c;
	const struct conf_redis *r;

	expect_valid(VALID REDIS, &c);
	r = &c.resources[0].redis;
	assert_int_equal(c.resources[0].type, RES_REDIS);
	assert_string_equal(c.resources[0].name, "cache");
	assert_int_equal(r->port, 6379);
	assert_string_equal(r->host, "127.0.0.1");
	assert_string_equal(r->user, "");
	assert_string_equal(r->password, "");
	assert_string_equal(r->password_file, "");
	assert_int_equal(r->replication, REPL_SYNC);
	assert_int_equal(r->max_lag_on_failover, 1024 * 1024);
	assert_int_equal(r->timeout_ms, 1000);
	assert_int_equal(r->monitor_interval_ms, 100);
	assert_string_equal(r->keep_dir, "/var/lib/hapair/kept");

	/* keep_dir follows a state_dir set after the resource. */
	expect_valid(REDIS CLUSTER "state_dir = /srv/ha/\n" NODES WITNESS, &c);
	assert_string_equal(c.resources[0].redis.keep_dir, "/srv/ha/kept");
	expect_valid(REDIS CLUSTER "state_dir = /\n" NODES WITNESS, &c);
	assert_string_equal(c.resources[0].redis.keep_dir, "/kept");
}

static void test_keep_dir_too_long(void **state)
{
	char text[1024], dir[300];
	struct conf_errors e;
	struct conf c;

	/* 251 bytes of state_dir + "/kept" = 256: one too many. */
	memset(dir, 'd', 251);
	dir[0] = '/';
	dir[251] = '\0';
	snprintf(text, sizeof(text), CLUSTER "state_dir = %s\n" NODES WITNESS
		 REDIS, dir);
	assert_int_equal(parse(text, &c, &e), -1);
	expect_error(&e, "t.conf:11:", "[resource cache]: keep_dir defaults "
				       "to <state_dir>/kept, which is longer "
				       "than 255 bytes; set keep_dir");
	assert_int_equal(e.n, 1);
	dir[250] = '\0';
	snprintf(text, sizeof(text), CLUSTER "state_dir = %s\n" NODES WITNESS
		 REDIS, dir);
	expect_valid(text, &c);
	assert_int_equal(strlen(c.resources[0].redis.keep_dir), 255);
}

/* An unknown type is reported once; its other keys are not guessed at. */
static void test_unknown_type_quiet(void **state)
{
	struct conf_errors e;
	struct conf c;

	assert_int_equal(parse(VALID "[resource r]\nport = 1\ntype = redi\n"
			       "address = x\nfoo = bar\n", &c, &e), -1);
	expect_error(&e, "t.conf:12:", "[resource r] type: expected a known "
				       "resource type (vip, redis, "
				       "postgresql, mariadb), got \"redi\"");
	if (e.n != 1) {
		print_errors(&e);
		fail_msg("expected only the type error, got %d", e.n);
	}
	assert_null(conf_data_resource(&c));
}

static void test_password_not_shown(void **state)
{
	struct conf_errors e;
	struct conf c;
	int i;

	assert_int_equal(parse(VALID REDIS "password = top\x01secret\n", &c,
			       &e), -1);
	expect_error(&e, "t.conf:12:", "got 10 bytes (not shown)");
	for (i = 0; i < e.n; i++)
		assert_null(strstr(e.msg[i], "secret"));
}

static void test_two_data_resources_names_both(void **state)
{
	struct conf_errors e;
	struct conf c;

	assert_int_equal(parse(VALID REDIS VIP "interface = eth0\n"
			       "[resource cache2]\ntype = redis\n", &c, &e),
			 -1);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "[resource cache2]"));
	assert_non_null(strstr(e.msg[0], "[resource cache]"));
}

static void test_data_resource(void **state)
{
	struct conf c;

	expect_valid(VALID, &c);
	assert_null(conf_data_resource(&c));
	expect_valid(VALID VIP "interface = eth0\n", &c);
	assert_null(conf_data_resource(&c));
	expect_valid(VALID VIP "interface = eth0\n" REDIS, &c);
	assert_ptr_equal(conf_data_resource(&c), &c.resources[1]);
	assert_string_equal(conf_data_resource(&c)->name, "cache");
}

static void test_checks(void **state)
{
	struct conf c;
	const struct conf_check *k;

	expect_valid(VALID
		     "[check web]\ntype = tcp\naddress = ::1\nport = 8080\n"
		     "interval = 2s\ntimeout = 2s\nrise = 1\nfall = 100\n"
		     "[check api]\nport = 80\npath = /health?x=1\n"
		     "expect_status = 204\ntype = http\n"
		     "[check disk]\ntype = script\n"
		     "command = test -w /var/lib/redis && echo ok\n"
		     "interval = 100ms\ntimeout = 50ms\n", &c);
	assert_int_equal(c.n_checks, 3);
	k = &c.checks[0];
	assert_string_equal(k->name, "web");
	assert_int_equal(k->type, CHECK_TCP);
	assert_string_equal(k->address, "::1");
	assert_int_equal(k->port, 8080);
	assert_int_equal(k->interval_ms, 2000);
	assert_int_equal(k->timeout_ms, 2000);
	assert_int_equal(k->rise, 1);
	assert_int_equal(k->fall, 100);
	k = &c.checks[1];
	assert_int_equal(k->type, CHECK_HTTP);
	assert_string_equal(k->address, "127.0.0.1");
	assert_string_equal(k->path, "/health?x=1");
	assert_int_equal(k->expect_status, 204);
	k = &c.checks[2];
	assert_int_equal(k->type, CHECK_SCRIPT);
	assert_string_equal(k->command,
			    "test -w /var/lib/redis && echo ok");
	assert_int_equal(k->interval_ms, 100);
	assert_int_equal(k->timeout_ms, 50);
}

static void test_check_defaults(void **state)
{
	struct conf c;
	const struct conf_check *k;

	expect_valid(VALID HTTP "expect_status = 599\n", &c);
	k = &c.checks[0];
	assert_string_equal(k->address, "127.0.0.1");
	assert_string_equal(k->path, "/");
	assert_int_equal(k->expect_status, 599);
	assert_int_equal(k->interval_ms, 1000);
	assert_int_equal(k->timeout_ms, 1000);
	assert_int_equal(k->rise, 2);
	assert_int_equal(k->fall, 2);
	expect_valid(VALID HTTP, &c);
	assert_int_equal(c.checks[0].expect_status, 200);

	/* The default timeout shrinks to a shorter interval. */
	expect_valid(VALID TCP "interval = 300ms\n", &c);
	assert_int_equal(c.checks[0].timeout_ms, 300);
	/* A check, a resource and a notify program may share a name. */
	expect_valid(VALID TCP "[resource web]\ntype = redis\n"
		     "[notify web]\ncommand = true\n", &c);
	assert_int_equal(c.n_checks, 1);
	assert_int_equal(c.n_resources, 1);
	assert_int_equal(c.n_notify, 1);
}

static void test_notify(void **state)
{
	struct conf c;

	expect_valid(VALID "[notify pager]\n"
		     "command = /usr/local/bin/page --to ops\n"
		     "timeout = 3s\n"
		     "[notify log]\ncommand = logger -t hapair\n", &c);
	assert_int_equal(c.n_notify, 2);
	assert_string_equal(c.notify[0].name, "pager");
	assert_string_equal(c.notify[0].command,
			    "/usr/local/bin/page --to ops");
	assert_int_equal(c.notify[0].timeout_ms, 3000);
	assert_string_equal(c.notify[1].command, "logger -t hapair");
	assert_int_equal(c.notify[1].timeout_ms, 10000);
}

/* Appends n sections "[WORD xI]" with body to text. */
static void add_sections(char *text, size_t cap, const char *word, int n,
			 const char *body)
{
	size_t o = strlen(text);
	int i;

	for (i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, cap - o, "[%s x%d]\n%s", word,
				      i, body);
}

static void test_section_limits(void **state)
{
	char text[8192], cmd[CONF_CMD_MAX + 16];
	struct conf_errors e;
	struct conf c;

	snprintf(text, sizeof(text), VALID);
	add_sections(text, sizeof(text), "check", CONF_MAX_CHECKS,
		     "type = tcp\nport = 1\n");
	add_sections(text, sizeof(text), "notify", CONF_MAX_NOTIFY,
		     "command = true\n");
	expect_valid(text, &c);
	assert_int_equal(c.n_checks, CONF_MAX_CHECKS);
	assert_int_equal(c.n_notify, CONF_MAX_NOTIFY);

	snprintf(text, sizeof(text), VALID "[check extra]\n"
		 "type = tcp\nport = 1\n[notify extra]\ncommand = true\n");
	add_sections(text, sizeof(text), "check", CONF_MAX_CHECKS,
		     "type = tcp\nport = 1\n");
	add_sections(text, sizeof(text), "notify", CONF_MAX_NOTIFY,
		     "command = true\n");
	assert_int_equal(parse(text, &c, &e), -1);
	expect_error(&e, "t.conf:60:", "[check x15]: too many checks; at most "
				       "16 are supported");
	expect_error(&e, "t.conf:77:", "[notify x7]: too many notify "
				       "sections; at most 8 are supported");
	assert_int_equal(e.n, 2);

	/* command: 511 bytes fit, 512 do not. */
	memset(cmd, 'c', CONF_CMD_MAX - 1);
	cmd[CONF_CMD_MAX - 1] = '\0';
	snprintf(text, sizeof(text), VALID SCRIPT "[notify n]\ncommand = "
		 "%s\n", cmd);
	expect_valid(text, &c);
	assert_int_equal(strlen(c.notify[0].command), CONF_CMD_MAX - 1);
	snprintf(text, sizeof(text), VALID "[check s]\ntype = script\n"
		 "command = %sc\n", cmd);
	assert_int_equal(parse(text, &c, &e), -1);
	expect_error(&e, "t.conf:12:", "[check s] command: expected a command "
				       "of 1 to 511 bytes");
}

struct size_row {
	const char *text;
	int rc;
	uint64_t bytes;
};

static void test_size(void **state)
{
	static const struct size_row rows[] = {
		{ "0", 0, 0 },			{ "0B", 0, 0 },
		{ "1B", 0, 1 },			{ "1kB", 0, 1024 },
		{ "1KB", 0, 1024 },		{ "1MB", 0, 1048576 },
		{ "3GB", 0, 3221225472u },	{ "007kB", 0, 7168 },
		{ "18446744073709551615B", 0, UINT64_MAX },
		{ "17179869183GB", 0, 17179869183ull << 30 },
		{ "18446744073709551616B", -1, 0 },
		{ "17179869184GB", -1, 0 },
		{ "99999999999999999999999B", -1, 0 },
		{ "1024", -1, 0 },		{ "00", -1, 0 },
		{ "", -1, 0 },			{ "MB", -1, 0 },
		{ "1 MB", -1, 0 },		{ " 1MB", -1, 0 },
		{ "1MB ", -1, 0 },		{ "1mb", -1, 0 },
		{ "1kb", -1, 0 },		{ "1Mb", -1, 0 },
		{ "1TB", -1, 0 },		{ "1.5MB", -1, 0 },
		{ "-1MB", -1, 0 },		{ "+1MB", -1, 0 },
		{ "1MBB", -1, 0 },		{ "0x10B", -1, 0 },
		{ "1KiB", -1, 0 },		{ "0MB", 0, 0 },
	};
	uint64_t v;
	size_t i;
	int rc;

	assert_int_equal(conf_parse_size(NULL, &v), -1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = 12345;
		rc = conf_parse_size(rows[i].text, &v);
		if (rc != rows[i].rc)
			fail_msg("\"%s\": rc %d, expected %d", rows[i].text, rc,
				 rows[i].rc);
		if (rc == 0 && v != rows[i].bytes)
			fail_msg("\"%s\": %llu bytes, expected %llu",
				 rows[i].text, (unsigned long long)v,
				 (unsigned long long)rows[i].bytes);
		if (rc != 0 && v != 12345)
			fail_msg("\"%s\": output written on error",
				 rows[i].text);
	}
}

static int load_password_text(const char *text, size_t len, mode_t mode,
			      struct conf_redis *r, struct hp_err *err)
{
	int rc;

	memset(r, 0, sizeof(*r));
	write_tmp(r->password_file, sizeof(r->password_file), text, len,
		  mode);
	rc = conf_load_redis_password(r, err);
	unlink(r->password_file);
	return rc;
}

static void expect_password(const char *text, const char *want)
{
	struct conf_redis r;
	struct hp_err err;

	if (load_password_text(text, strlen(text), 0600, &r, &err))
		fail_msg("\"%s\": %s", text, err.msg);
	assert_string_equal(r.password, want);
}

static void expect_password_error(const char *text, size_t len,
				  mode_t mode, const char *want)
{
	struct conf_redis r;
	struct hp_err err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(load_password_text(text, len, mode, &r, &err), -1);
	assert_string_equal(r.password, "");
	if (!strstr(err.msg, "redis password file /") ||
	    !strstr(err.msg, want))
		fail_msg("got \"%s\", expected it to contain \"%s\"", err.msg,
			 want);
}

static void test_redis_password_file(void **state)
{
	char big[200], want[128];
	struct conf_redis r;
	struct hp_err err;

	expect_password("s3cret\n", "s3cret");
	expect_password("s3cret", "s3cret");
	expect_password("s3cret\r\n", "s3cret");
	expect_password("with space \n", "with space ");
	/* 127 bytes fit, 128 do not. */
	memset(want, 'p', 127);
	want[127] = '\0';
	snprintf(big, sizeof(big), "%s\n", want);
	expect_password(big, want);
	snprintf(big, sizeof(big), "%sp\n", want);
	expect_password_error(big, 129, 0600, "bytes on one line, got more");
	memset(big, 'p', sizeof(big));
	expect_password_error("s3cret\n", 7, 0644, "mode 0644 lets others "
			      "read the Redis password; chmod 600 it");
	expect_password_error("s3cret\n", 7, 0620, "lets others change");
	expect_password_error("", 0, 0600, "expected a password of 1 to 127 "
			      "bytes on one line, got an empty file");
	expect_password_error("\n", 1, 0600, "got an empty file");
	expect_password_error("one\ntwo\n", 8, 0600, "a NUL or line break "
			      "inside");
	expect_password_error("s3\0cret", 7, 0600, "a NUL or line break");
	expect_password_error(big, sizeof(big), 0600, "expected a password "
			      "of at most 127 bytes, got more");

	/* No password_file: nothing to do, an inline password stays. */
	memset(&r, 0, sizeof(r));
	snprintf(r.password, sizeof(r.password), "inline");
	assert_int_equal(conf_load_redis_password(&r, &err), 0);
	assert_string_equal(r.password, "inline");
	snprintf(r.password_file, sizeof(r.password_file),
		 "%s/hapair-no-such-pass", tmp_dir());
	assert_int_equal(conf_load_redis_password(&r, &err), -1);
	assert_non_null(strstr(err.msg, "hapair-no-such-pass: cannot open: "
					"No such file or directory"));
}

/* [alert NAME] and [events] (conf_alert.c). */

#define ALERT "[alert pager]\nurl = https://alerts.example.net/hook\n"

static void test_alerts(void **state)
{
	struct conf c;

	expect_valid(VALID "[alert pager]\n"
		     "url = https://alerts.example.net/hook?x=1\n"
		     "bearer_token_file = /etc/hapair/pager.token\n"
		     "min_severity = warning\n"
		     "kinds = failover, switchover,sync ,fence\n"
		     "timeout = 2s\n"
		     "retries = 0\n"
		     "retry_backoff = 60s\n"
		     "[alert chat]\n"
		     "url = http://[2001:db8::7]:8080\n"
		     "[alert local]\n"
		     "url = http://127.0.0.1:9/x # comment\n"
		     "kinds = agent\n"
		     "min_severity = critical\n"
		     "retries = 100\n"
		     "[events]\n"
		     "file = /var/log/hapair/events.jsonl\n"
		     "syslog = yes\n", &c);
	assert_int_equal(c.n_alerts, 3);
	assert_string_equal(c.alerts[0].name, "pager");
	assert_string_equal(c.alerts[0].url,
			    "https://alerts.example.net/hook?x=1");
	assert_string_equal(c.alerts[0].bearer_token_file,
			    "/etc/hapair/pager.token");
	assert_string_equal(c.alerts[0].bearer_token, "");
	assert_int_equal(c.alerts[0].min_severity, SEV_WARNING);
	assert_int_equal(c.alerts[0].kinds,
			 1u << EVK_FAILOVER | 1u << EVK_SWITCHOVER |
			 1u << EVK_SYNC | 1u << EVK_FENCE);
	assert_int_equal(c.alerts[0].timeout_ms, 2000);
	assert_int_equal(c.alerts[0].retries, 0);
	assert_int_equal(c.alerts[0].backoff_ms, 60000);
	/* Defaults. */
	assert_string_equal(c.alerts[1].url, "http://[2001:db8::7]:8080");
	assert_string_equal(c.alerts[1].bearer_token_file, "");
	assert_int_equal(c.alerts[1].min_severity, SEV_INFO);
	assert_int_equal(c.alerts[1].kinds, (1u << EVK_MAX) - 1);
	assert_int_equal(c.alerts[1].timeout_ms, 5000);
	assert_int_equal(c.alerts[1].retries, 5);
	assert_int_equal(c.alerts[1].backoff_ms, 1000);
	assert_string_equal(c.alerts[2].url, "http://127.0.0.1:9/x");
	assert_int_equal(c.alerts[2].kinds, 1u << EVK_AGENT);
	assert_int_equal(c.alerts[2].min_severity, SEV_CRITICAL);
	assert_int_equal(c.alerts[2].retries, 100);
	assert_string_equal(c.events.file, "/var/log/hapair/events.jsonl");
	assert_true(c.events.syslog);
}

static void test_events_defaults(void **state)
{
	struct conf c;

	expect_valid(VALID, &c);
	assert_int_equal(c.n_alerts, 0);
	assert_string_equal(c.events.file, "");
	assert_false(c.events.syslog);
	expect_valid(VALID "[events]\n", &c);
	assert_string_equal(c.events.file, "");
	expect_valid(VALID "[events]\nsyslog = no\n", &c);
	assert_false(c.events.syslog);
}

static const struct bad_row alert_rows[] = {
	{ "alert without a name", VALID "[alert]\n",
	  "t.conf:10:", "[alert]: expected a name, as in [alert NAME]" },
	{ "alert without url", VALID "[alert pager]\nretries = 1\n",
	  "t.conf:10:", "[alert pager]: missing required key \"url\"" },
	{ "alert url ftp", VALID "[alert p]\nurl = ftp://example.net/\n",
	  "t.conf:11:", "[alert p] url: expected an http:// or https:// URL "
			"with a host" },
	{ "alert url without scheme", VALID "[alert p]\nurl = example.net\n",
	  "t.conf:11:", "got \"example.net\"" },
	{ "alert url without host", VALID "[alert p]\nurl = http:///hook\n",
	  "t.conf:11:", "[alert p] url: expected an http:// or https://" },
	{ "alert url only scheme", VALID "[alert p]\nurl = https://\n",
	  "t.conf:11:", "[alert p] url: expected" },
	{ "alert url port without host", VALID "[alert p]\n"
	  "url = http://:80/\n",
	  "t.conf:11:", "[alert p] url: expected" },
	{ "alert url port 0", VALID "[alert p]\nurl = http://h:0/\n",
	  "t.conf:11:", "got \"http://h:0/\"" },
	{ "alert url port too big", VALID "[alert p]\n"
	  "url = http://h:65536\n",
	  "t.conf:11:", "got \"http://h:65536\"" },
	{ "alert url empty port", VALID "[alert p]\nurl = http://h:/x\n",
	  "t.conf:11:", "got \"http://h:/x\"" },
	{ "alert url with user", VALID "[alert p]\n"
	  "url = https://me:pw@example.net/\n",
	  "t.conf:11:", "no user:password@ (use bearer_token_file)" },
	{ "alert url with space", VALID "[alert p]\n"
	  "url = http://example.net/a b\n",
	  "t.conf:11:", "without spaces" },
	{ "alert url bad host char", VALID "[alert p]\n"
	  "url = http://exa!mple.net/\n",
	  "t.conf:11:", "[alert p] url: expected" },
	{ "alert url bad ipv6", VALID "[alert p]\nurl = http://[::1/\n",
	  "t.conf:11:", "[alert p] url: expected" },
	{ "alert unknown key", VALID ALERT "token = abc\n",
	  "t.conf:12:", "[alert pager] token: unknown key; valid keys are "
			"url, bearer_token_file, min_severity, kinds, "
			"timeout, retries, retry_backoff" },
	{ "alert duplicate key", VALID ALERT "url = http://b/\n",
	  "t.conf:12:", "[alert pager] url: duplicate key (first set on line "
			"11)" },
	{ "alert token file relative", VALID ALERT
	  "bearer_token_file = pager.token\n",
	  "t.conf:12:", "[alert pager] bearer_token_file: expected an "
			"absolute path" },
	{ "alert min_severity", VALID ALERT "min_severity = error\n",
	  "t.conf:12:", "[alert pager] min_severity: expected info, warning "
			"or critical, got \"error\"" },
	{ "alert unknown kind", VALID ALERT "kinds = failover, failback\n",
	  "t.conf:12:", "[alert pager] kinds: expected a comma list of event "
			"kinds (role, election, failover, switchover, check, "
			"fence, resource, sync, peer, pause, config, agent), "
			"but \"failback\" is not one" },
	{ "alert empty kind", VALID ALERT "kinds = failover,,sync\n",
	  "t.conf:12:", "without empty items, got \"failover,,sync\"" },
	{ "alert trailing comma", VALID ALERT "kinds = failover,\n",
	  "t.conf:12:", "without empty items" },
	{ "alert no kinds", VALID ALERT "kinds =\n",
	  "t.conf:12:", "[alert pager] kinds: expected a comma list" },
	{ "alert kind case", VALID ALERT "kinds = Failover\n",
	  "t.conf:12:", "but \"Failover\" is not one" },
	{ "alert timeout bare", VALID ALERT "timeout = 5\n",
	  "t.conf:12:", "[alert pager] timeout: expected a duration of at "
			"least 1ms, such as 5s, got \"5\"" },
	{ "alert timeout 0", VALID ALERT "timeout = 0ms\n",
	  "t.conf:12:", "[alert pager] timeout: expected a duration" },
	{ "alert retries 101", VALID ALERT "retries = 101\n",
	  "t.conf:12:", "[alert pager] retries: expected an integer from 0 "
			"to 100, got \"101\"" },
	{ "alert retries negative", VALID ALERT "retries = -1\n",
	  "t.conf:12:", "[alert pager] retries: expected an integer" },
	{ "alert backoff above 60s", VALID ALERT "retry_backoff = 61s\n",
	  "t.conf:12:", "[alert pager] retry_backoff: expected a duration "
			"from 1ms to 60s, such as 1s, got \"61s\"" },
	{ "alert backoff bare", VALID ALERT "retry_backoff = 1\n",
	  "t.conf:12:", "[alert pager] retry_backoff: expected a duration" },
	{ "duplicate alert", VALID ALERT ALERT,
	  "t.conf:12:", "[alert pager]: duplicate alert name (first on line "
			"10)" },
	{ "alert bad name", VALID "[alert pa/ger]\n",
	  "t.conf:10:", "[alert pa/ger]: expected an alert name of 1 to "
			"63 letters" },
	{ "events with a name", VALID "[events log]\n",
	  "t.conf:10:", "[events log]: expected [events] without a name" },
	{ "duplicate events", VALID "[events]\n[events]\n",
	  "t.conf:11:", "[events]: duplicate section (first on line 10)" },
	{ "events file relative", VALID "[events]\nfile = events.jsonl\n",
	  "t.conf:11:", "[events] file: expected an absolute path shorter "
			"than 256 bytes, got \"events.jsonl\"" },
	{ "events syslog", VALID "[events]\nsyslog = true\n",
	  "t.conf:11:", "[events] syslog: expected yes or no, got \"true\"" },
	{ "events unknown key", VALID "[events]\nkinds = all\n",
	  "t.conf:11:", "[events] kinds: unknown key; valid keys are file, "
			"syslog" },
	{ "events duplicate key", VALID "[events]\nsyslog = no\n"
	  "syslog = yes\n",
	  "t.conf:12:", "[events] syslog: duplicate key (first set on line "
			"11)" },
};

static void test_alert_errors(void **state)
{
	const struct bad_row *r;
	struct conf_errors e;
	struct conf c;
	size_t i;

	for (i = 0; i < sizeof(alert_rows) / sizeof(alert_rows[0]); i++) {
		r = &alert_rows[i];
		if (parse(r->text, &c, &e) != -1 || e.n == 0)
			fail_msg("row \"%s\": parsed without error", r->name);
		if (!has_error(&e, r->where, r->what)) {
			print_errors(&e);
			fail_msg("row \"%s\": no error above contains \"%s\" "
				 "and \"%s\"", r->name, r->where, r->what);
		}
	}
}

static void test_alert_limit(void **state)
{
	char text[4096];
	struct conf_errors e;
	struct conf c;

	snprintf(text, sizeof(text), VALID);
	add_sections(text, sizeof(text), "alert", CONF_MAX_ALERTS,
		     "url = http://127.0.0.1/\n");
	expect_valid(text, &c);
	assert_int_equal(c.n_alerts, CONF_MAX_ALERTS);
	assert_string_equal(c.alerts[CONF_MAX_ALERTS - 1].name, "x7");
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		 "[alert extra]\nurl = http://h/\n");
	assert_int_equal(parse(text, &c, &e), -1);
	/* 9 + 2 * 8 lines, then the ninth header. */
	expect_error(&e, "t.conf:26:", "[alert extra]: too many alerts; at "
				       "most 8 are supported");
	assert_int_equal(e.n, 1);
	assert_int_equal(c.n_alerts, CONF_MAX_ALERTS);
}

/* A config with one alert whose token file holds text (mode); the
 * result of conf_load_alert_tokens. */
static int load_token_text(const char *text, size_t len, mode_t mode,
			   struct conf *c, struct hp_err *err)
{
	int rc;

	expect_valid(VALID ALERT "[alert plain]\nurl = http://h/\n", c);
	write_tmp(c->alerts[0].bearer_token_file,
		  sizeof(c->alerts[0].bearer_token_file), text, len, mode);
	memset(err, 0, sizeof(*err));
	rc = conf_load_alert_tokens(c, err);
	unlink(c->alerts[0].bearer_token_file);
	return rc;
}

static void expect_token_error(const char *text, size_t len, mode_t mode,
			       const char *want)
{
	struct hp_err err;
	struct conf c;

	assert_int_equal(load_token_text(text, len, mode, &c, &err), -1);
	assert_string_equal(c.alerts[0].bearer_token, "");
	if (!strstr(err.msg, "alert pager bearer_token_file /") ||
	    !strstr(err.msg, want))
		fail_msg("got \"%s\", expected it to contain \"%s\"", err.msg,
			 want);
}

static void test_alert_tokens(void **state)
{
	char big[300];
	struct hp_err err;
	struct conf c;

	assert_int_equal(load_token_text("s3cr3t-T0ken.x\n", 15, 0600, &c,
					 &err), 0);
	assert_string_equal(c.alerts[0].bearer_token, "s3cr3t-T0ken.x");
	assert_string_equal(c.alerts[1].bearer_token, "");
	assert_int_equal(load_token_text("abc", 3, 0400, &c, &err), 0);
	assert_string_equal(c.alerts[0].bearer_token, "abc");
	/* 255 bytes fit, 256 do not. */
	memset(big, 't', sizeof(big));
	big[255] = '\n';
	assert_int_equal(load_token_text(big, 256, 0600, &c, &err), 0);
	assert_int_equal(strlen(c.alerts[0].bearer_token), 255);
	big[255] = 't';
	big[256] = '\n';
	expect_token_error(big, 257, 0600, "expected a token of 1 to 255 "
			   "bytes on one line, got more");
	expect_token_error(big, sizeof(big), 0600, "expected a token of at "
			   "most 255 bytes, got more");
	expect_token_error("abc\n", 4, 0644, "mode 0644 lets others read the "
			   "bearer token; chmod 600 it");
	expect_token_error("abc\n", 4, 0620, "lets others change");
	expect_token_error("", 0, 0600, "got an empty file");
	expect_token_error("ab c\n", 5, 0600, "expected a token of printable "
			   "characters without spaces, got a space or control "
			   "byte at byte 3");
	expect_token_error("ab\tc", 4, 0600, "at byte 3");
	expect_token_error("a\nb\n", 4, 0600, "a NUL or line break inside");

	/* No token file: nothing read; a missing one names its path. */
	expect_valid(VALID ALERT, &c);
	assert_int_equal(conf_load_alert_tokens(&c, &err), 0);
	snprintf(c.alerts[0].bearer_token_file,
		 sizeof(c.alerts[0].bearer_token_file),
		 "%s/hapair-no-such-token", tmp_dir());
	assert_int_equal(conf_load_alert_tokens(&c, &err), -1);
	assert_non_null(strstr(err.msg, "alert pager bearer_token_file "));
	assert_non_null(strstr(err.msg, "hapair-no-such-token: cannot open: "
					"No such file or directory"));
}

/* ---- [resource NAME] type = postgresql ------------------------------ */

#define PG "[resource db]\ntype = postgresql\ndata_dir = /srv/pg\n"

static void test_pg_full(void **state)
{
	struct conf c;
	const struct conf_pg *g;

	(void)state;
	expect_valid(VALID "[resource db]\n"
		     "data_dir = /var/lib/postgresql/15/main\n"
		     "bin_dir = /opt/pg/bin\n"
		     "host = 127.0.0.1\n"
		     "port = 5433\n"
		     "os_user = pgsys\n"
		     "user = hasuper\n"
		     "password_file = /etc/hapair/pg.pass\n"
		     "database = admin\n"
		     "replication_user = repl\n"
		     "replication_password = r3pl\n"
		     "replication = async\n"
		     "max_lag_on_failover = 16MB\n"
		     "timeout = 500ms\n"
		     "action_timeout = 90s\n"
		     "monitor_interval = 50ms\n"
		     "keep_dir = /srv/kept\n"
		     "log_file = /srv/pg.log\n"
		     "type = postgresql\n"
		     VIP "interface = eth0\n", &c);
	assert_int_equal(c.resources[0].type, RES_POSTGRESQL);
	g = &c.resources[0].pg;
	assert_string_equal(g->data_dir, "/var/lib/postgresql/15/main");
	assert_string_equal(g->bin_dir, "/opt/pg/bin");
	assert_string_equal(g->host, "127.0.0.1");
	assert_int_equal(g->port, 5433);
	assert_string_equal(g->os_user, "pgsys");
	assert_string_equal(g->user, "hasuper");
	assert_string_equal(g->password_file, "/etc/hapair/pg.pass");
	assert_string_equal(g->database, "admin");
	assert_string_equal(g->repl_user, "repl");
	assert_string_equal(g->repl_password, "r3pl");
	assert_int_equal(g->replication, REPL_ASYNC);
	assert_int_equal(g->max_lag_on_failover, 16 * 1024 * 1024);
	assert_int_equal(g->timeout_ms, 500);
	assert_int_equal(g->action_timeout_ms, 90000);
	assert_int_equal(g->monitor_interval_ms, 50);
	assert_string_equal(g->keep_dir, "/srv/kept");
	assert_string_equal(g->log_file, "/srv/pg.log");
	/* agent.c reads these for every data resource. */
	assert_int_equal(conf_data_replication(&c.resources[0]), REPL_ASYNC);
	assert_int_equal(conf_data_max_lag(&c.resources[0]),
			 16 * 1024 * 1024);
	assert_ptr_equal(conf_data_resource(&c), &c.resources[0]);
}

static void test_pg_defaults(void **state)
{
	struct conf c;
	const struct conf_pg *g;

	(void)state;
	expect_valid(VALID PG, &c);
	g = &c.resources[0].pg;
	assert_string_equal(g->bin_dir, "/usr/lib/postgresql/15/bin");
	assert_string_equal(g->host, "/var/run/postgresql");
	assert_int_equal(g->port, 5432);
	assert_string_equal(g->os_user, "postgres");
	assert_string_equal(g->user, "postgres");
	assert_string_equal(g->database, "postgres");
	assert_string_equal(g->repl_user, "replicator");
	assert_int_equal(g->replication, REPL_SYNC);
	assert_int_equal(g->max_lag_on_failover, 1024 * 1024);
	assert_int_equal(g->timeout_ms, 2000);
	assert_int_equal(g->action_timeout_ms, 60000);
	assert_int_equal(g->monitor_interval_ms, 200);
	assert_string_equal(g->log_file, "/var/log/postgresql/hapair-db.log");
	assert_int_equal(c.resources[0].redis.replication, REPL_SYNC);
}

static void test_pg_errors(void **state)
{
	static const struct {
		const char *text, *at, *msg;
	} rows[] = {
		{ VALID "[resource db]\ntype = postgresql\n", "t.conf:10:",
		  "[resource db]: missing required key \"data_dir\"" },
		{ VALID PG "data_dir = x\n", "t.conf:13:",
		  "[resource db] data_dir: duplicate key" },
		{ VALID "[resource db]\ntype = postgresql\ndata_dir = pg\n",
		  "t.conf:12:", "[resource db] data_dir: expected an "
				"absolute path" },
		{ VALID PG "host = localhost\n", "t.conf:13:",
		  "[resource db] host: expected a socket directory (absolute "
		  "path) or an IP address, got \"localhost\"" },
		{ VALID PG "host = /run/it's\n", "t.conf:13:",
		  "[resource db] host: expected a socket directory" },
		{ VALID PG "port = 70000\n", "t.conf:13:",
		  "[resource db] port: expected a port number" },
		{ VALID PG "user = bob smith\n", "t.conf:13:",
		  "[resource db] user: expected a name of 1 to 63 letters, "
		  "digits, '_', '-' or '.'" },
		{ VALID PG "replication_user = 'r'\n", "t.conf:13:",
		  "[resource db] replication_user: expected a name" },
		{ VALID PG "password = a\npassword_file = /p\n", "t.conf:14:",
		  "[resource db] password_file: expected either password or "
		  "password_file, not both (password is set on line 13)" },
		{ VALID PG "replication_password_file = /p\n"
		  "replication_password = a\n", "t.conf:14:",
		  "[resource db] replication_password: expected either "
		  "replication_password or replication_password_file, not "
		  "both (replication_password_file is set on line 13)" },
		{ VALID PG "replication = quorum\n", "t.conf:13:",
		  "[resource db] replication: expected sync or async" },
		{ VALID PG "max_lag_on_failover = 16\n", "t.conf:13:",
		  "[resource db] max_lag_on_failover: expected a size of WAL" },
		{ VALID PG "action_timeout = 500ms\n", "t.conf:13:",
		  "[resource db] action_timeout: expected a duration of at "
		  "least 1s" },
		{ VALID PG "address = 192.0.2.9/24\n", "t.conf:13:",
		  "[resource db] address: unknown key; valid keys are type, "
		  "data_dir" },
		{ VALID REDIS PG, "t.conf:13:", "[resource db] type: expected "
		  "at most one data resource (redis, postgresql, mariadb) per "
		  "cluster, but [resource cache] on line 10 is one already" },
	};
	struct conf c;
	struct conf_errors e;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (parse(rows[i].text, &c, &e) == 0)
			fail_msg("config should be invalid:\n%s", rows[i].text);
		expect_error(&e, rows[i].at, rows[i].msg);
	}
}

static void test_pg_password_files(void **state)
{
	struct conf_pg g;
	struct hp_err err;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(conf_load_pg_passwords(&g, &err), 0);
	write_tmp(g.password_file, sizeof(g.password_file), "su\n", 3, 0600);
	write_tmp(g.repl_password_file, sizeof(g.repl_password_file),
		  "re'pl\n", 6, 0600);
	assert_int_equal(conf_load_pg_passwords(&g, &err), 0);
	assert_string_equal(g.password, "su");
	assert_string_equal(g.repl_password, "re'pl");
	assert_int_equal(chmod(g.repl_password_file, 0640), 0);
	assert_int_equal(conf_load_pg_passwords(&g, &err), -1);
	assert_non_null(strstr(err.msg, "postgresql replication password "
				       "file"));
	assert_non_null(strstr(err.msg, "mode 0640 lets others read the "
				       "PostgreSQL replication password; "
				       "chmod 600 it"));
	unlink(g.password_file);
	unlink(g.repl_password_file);
}

/* ---- [resource NAME] type = mariadb --------------------------------- */

#define MDB "[resource db]\ntype = mariadb\ndatadir = /srv/mysql\n"

static void test_mdb_full(void **state)
{
	struct conf c;
	const struct conf_mariadb *m;

	(void)state;
	expect_valid(VALID "[resource db]\n"
		     "datadir = /var/lib/mysql\n"
		     "socket = /run/my/s.sock\n"
		     "port = 3307\n"
		     "mariadbd = /opt/mariadb/bin/mariadbd\n"
		     "defaults_file = /etc/mysql/ha.cnf\n"
		     "os_user = mysqlsys\n"
		     "user = hapair\n"
		     "password_file = /etc/hapair/mdb.pass\n"
		     "replication_user = repl\n"
		     "replication_password = r3pl\n"
		     "replication = async\n"
		     "max_lag_on_failover = 250\n"
		     "gtid_domain = 7\n"
		     "timeout = 500ms\n"
		     "action_timeout = 90s\n"
		     "monitor_interval = 50ms\n"
		     "keep_dir = /srv/kept\n"
		     "log_file = /srv/mdb.log\n"
		     "type = mariadb\n"
		     VIP "interface = eth0\n", &c);
	assert_int_equal(c.resources[0].type, RES_MARIADB);
	m = &c.resources[0].mdb;
	assert_string_equal(m->datadir, "/var/lib/mysql");
	assert_string_equal(m->socket, "/run/my/s.sock");
	assert_int_equal(m->port, 3307);
	assert_string_equal(m->mariadbd, "/opt/mariadb/bin/mariadbd");
	assert_string_equal(m->defaults_file, "/etc/mysql/ha.cnf");
	assert_string_equal(m->os_user, "mysqlsys");
	assert_string_equal(m->user, "hapair");
	assert_string_equal(m->password_file, "/etc/hapair/mdb.pass");
	assert_string_equal(m->repl_user, "repl");
	assert_string_equal(m->repl_password, "r3pl");
	assert_int_equal(m->replication, REPL_ASYNC);
	assert_int_equal(m->max_lag_on_failover, 250);
	assert_int_equal(m->gtid_domain, 7);
	assert_int_equal(m->timeout_ms, 500);
	assert_int_equal(m->action_timeout_ms, 90000);
	assert_int_equal(m->monitor_interval_ms, 50);
	assert_string_equal(m->keep_dir, "/srv/kept");
	assert_string_equal(m->log_file, "/srv/mdb.log");
	/* agent.c reads these for every data resource. */
	assert_int_equal(conf_data_replication(&c.resources[0]), REPL_ASYNC);
	assert_int_equal(conf_data_max_lag(&c.resources[0]), 250);
	assert_ptr_equal(conf_data_resource(&c), &c.resources[0]);
}

static void test_mdb_defaults(void **state)
{
	struct conf c;
	const struct conf_mariadb *m;

	(void)state;
	expect_valid(VALID MDB, &c);
	m = &c.resources[0].mdb;
	assert_string_equal(m->socket, "/run/mysqld/mysqld.sock");
	assert_int_equal(m->port, 3306);
	assert_string_equal(m->mariadbd, "/usr/sbin/mariadbd");
	assert_string_equal(m->defaults_file, "");
	assert_string_equal(m->os_user, "mysql");
	assert_string_equal(m->user, "root");
	assert_string_equal(m->password, "");
	assert_string_equal(m->repl_user, "replicator");
	assert_int_equal(m->replication, REPL_SYNC);
	assert_int_equal(m->max_lag_on_failover, 1000);
	assert_int_equal(m->gtid_domain, 0);
	assert_int_equal(m->timeout_ms, 2000);
	assert_int_equal(m->action_timeout_ms, 60000);
	assert_int_equal(m->monitor_interval_ms, 200);
	assert_string_equal(m->log_file, "/var/log/mysql/hapair-db.log");
	assert_non_null(strstr(m->keep_dir, "/kept"));
	assert_int_equal(conf_data_replication(&c.resources[0]), REPL_SYNC);
	assert_int_equal(conf_data_max_lag(&c.resources[0]), 1000);
	assert_int_equal(conf_data_max_lag_ms(&c.resources[0]), 0);
}

/* max_lag_on_failover of every data type: a time bound instead of an
 * amount ("0s" is "fully caught up"), or "none". */
static void test_max_lag_time_and_none(void **state)
{
	static const char *const types[] = { VALID REDIS, VALID PG, VALID MDB };
	struct conf c;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char text[4096];

		snprintf(text, sizeof(text), "%smax_lag_on_failover = 5s\n",
			 types[i]);
		expect_valid(text, &c);
		assert_int_equal(conf_data_max_lag(&c.resources[0]),
				 CONF_LAG_NONE);
		assert_int_equal(conf_data_max_lag_ms(&c.resources[0]), 5000);

		snprintf(text, sizeof(text), "%smax_lag_on_failover = 0s\n",
			 types[i]);
		expect_valid(text, &c);
		assert_int_equal(conf_data_max_lag(&c.resources[0]), 0);
		assert_int_equal(conf_data_max_lag_ms(&c.resources[0]), 0);

		snprintf(text, sizeof(text), "%smax_lag_on_failover = none\n",
			 types[i]);
		expect_valid(text, &c);
		assert_int_equal(conf_data_max_lag(&c.resources[0]),
				 CONF_LAG_NONE);
		assert_int_equal(conf_data_max_lag_ms(&c.resources[0]), 0);
	}
}

static void test_mdb_errors(void **state)
{
	static const struct {
		const char *text, *at, *msg;
	} rows[] = {
		{ VALID "[resource db]\ntype = mariadb\n", "t.conf:10:",
		  "[resource db]: missing required key \"datadir\"" },
		{ VALID MDB "datadir = /x\n", "t.conf:13:",
		  "[resource db] datadir: duplicate key" },
		{ VALID "[resource db]\ntype = mariadb\ndatadir = my\n",
		  "t.conf:12:", "[resource db] datadir: expected an "
				"absolute path" },
		{ VALID MDB "socket = /run/my sock\n", "t.conf:13:",
		  "[resource db] socket: expected an absolute path without "
		  "spaces, quotes or backslashes" },
		{ VALID MDB "socket = sock\n", "t.conf:13:",
		  "[resource db] socket: expected an absolute path" },
		{ VALID MDB "port = 0\n", "t.conf:13:",
		  "[resource db] port: expected a port number" },
		{ VALID MDB "user = bob smith\n", "t.conf:13:",
		  "[resource db] user: expected a name of 1 to 63 letters, "
		  "digits, '_', '-' or '.'" },
		{ VALID MDB "replication_user = 'r'\n", "t.conf:13:",
		  "[resource db] replication_user: expected a name" },
		{ VALID MDB "password = a\npassword_file = /p\n", "t.conf:14:",
		  "[resource db] password_file: expected either password or "
		  "password_file, not both (password is set on line 13)" },
		{ VALID MDB "replication_password_file = /p\n"
		  "replication_password = a\n", "t.conf:14:",
		  "[resource db] replication_password: expected either "
		  "replication_password or replication_password_file, not "
		  "both (replication_password_file is set on line 13)" },
		{ VALID MDB "replication = semi\n", "t.conf:13:",
		  "[resource db] replication: expected sync (semi-synchronous) "
		  "or async, got \"semi\"" },
		{ VALID MDB "max_lag_on_failover = 16MB\n", "t.conf:13:",
		  "[resource db] max_lag_on_failover: expected a number of "
		  "transactions (GTID sequence numbers)" },
		{ VALID MDB "gtid_domain = -1\n", "t.conf:13:",
		  "[resource db] gtid_domain: expected a GTID domain id from 0 "
		  "to 4294967295" },
		{ VALID MDB "action_timeout = 500ms\n", "t.conf:13:",
		  "[resource db] action_timeout: expected a duration of at "
		  "least 1s" },
		{ VALID MDB "monitor_interval = soon\n", "t.conf:13:",
		  "[resource db] monitor_interval: expected a duration" },
		{ VALID MDB "mariadbd = mariadbd\n", "t.conf:13:",
		  "[resource db] mariadbd: expected an absolute path" },
		{ VALID MDB "data_dir = /srv/mysql\n", "t.conf:13:",
		  "[resource db] data_dir: unknown key; valid keys are type, "
		  "datadir" },
		{ VALID REDIS MDB, "t.conf:13:", "[resource db] type: expected "
		  "at most one data resource (redis, postgresql, mariadb) per "
		  "cluster, but [resource cache] on line 10 is one already" },
	};
	struct conf c;
	struct conf_errors e;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (parse(rows[i].text, &c, &e) == 0)
			fail_msg("config should be invalid:\n%s", rows[i].text);
		expect_error(&e, rows[i].at, rows[i].msg);
	}
}

static void test_mdb_password_files(void **state)
{
	struct conf_mariadb m;
	struct hp_err err;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(conf_load_mdb_passwords(&m, &err), 0);
	write_tmp(m.password_file, sizeof(m.password_file), "su\n", 3, 0600);
	write_tmp(m.repl_password_file, sizeof(m.repl_password_file),
		  "re'pl\n", 6, 0600);
	assert_int_equal(conf_load_mdb_passwords(&m, &err), 0);
	assert_string_equal(m.password, "su");
	assert_string_equal(m.repl_password, "re'pl");
	assert_int_equal(chmod(m.password_file, 0604), 0);
	assert_int_equal(conf_load_mdb_passwords(&m, &err), -1);
	assert_non_null(strstr(err.msg, "mariadb password file"));
	assert_non_null(strstr(err.msg, "lets others read the MariaDB "
				       "password; chmod 600 it"));
	unlink(m.password_file);
	unlink(m.repl_password_file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_quorum_none),
		cmocka_unit_test(test_same_address_other_port),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_header_example_exact),
		cmocka_unit_test(test_many_errors_one_pass),
		cmocka_unit_test(test_error_limit),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_interface_per_node),
		cmocka_unit_test(test_node_by_name),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_fuzz_2026_11_24_vip_long_host),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_missing),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_redis_full),
		cmocka_unit_test(test_redis_defaults),
		cmocka_unit_test(test_keep_dir_too_long),
		cmocka_unit_test(test_unknown_type_quiet),
		cmocka_unit_test(test_password_not_shown),
		cmocka_unit_test(test_two_data_resources_names_both),
		cmocka_unit_test(test_data_resource),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_check_defaults),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_section_limits),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_redis_password_file),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_events_defaults),
		cmocka_unit_test(test_alert_errors),
		cmocka_unit_test(test_alert_limit),
		cmocka_unit_test(test_alert_tokens),
		cmocka_unit_test(test_pg_full),
		cmocka_unit_test(test_pg_defaults),
		cmocka_unit_test(test_pg_errors),
		cmocka_unit_test(test_pg_password_files),
		cmocka_unit_test(test_mdb_full),
		cmocka_unit_test(test_mdb_defaults),
		cmocka_unit_test(test_max_lag_time_and_none),
		cmocka_unit_test(test_mdb_errors),
		cmocka_unit_test(test_mdb_password_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
