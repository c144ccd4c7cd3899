/*
 * test_conf.c - unit tests for the config parser (src/conf.c).
 *
 * A full config and the defaults first, then a table of broken configs:
 * each row names the mistake, the text, and two pieces every error for it
 * must contain, the "file:line:" and the "[section] key".  Then the
 * duration and percent parsers by table, interface@NODE resolution, the
 * key file, conf_load() on real files, and inputs a fuzzer would try.
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
#include "proto.h"

/* Lines 1-9 of most configs below; line 10 is the first one after. */
#define CLUSTER "[cluster]\nname = shop\nkey_file = /etc/hapair/key\n"
#define NODES                                                           \
	"[node a]\naddress = 192.0.2.1\n[node b]\naddress = 192.0.2.2\n"
#define WITNESS "[witness]\naddress = 192.0.2.3\n"
#define VALID CLUSTER NODES WITNESS
#define VIP "[resource v]\ntype = vip\naddress = 192.0.2.100/24\n"

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
	{ "unknown resource type", VALID "[resource r]\ntype = redis\n",
	  "t.conf:11:", "[resource r] type: expected a known resource type "
			"(vip), got \"redis\"" },
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_quorum_none),
		cmocka_unit_test(test_same_address_other_port),
		cmocka_unit_test(test_bad_configs),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
