#!/bin/bash
#
# test_vip.sh - system test of src/vip.c, driven through tests/tools/vipctl.
#
# Builds its own namespaces (names carry $$) and removes them on exit:
#
#   netns hp$$a             netns hp$$s                netns hp$$b
#   +------------------+    +-----------------------+   +------------------+
#   | eth0             |    |  bridge hpbr$$        |   | eth0             |
#   | 192.0.2.1/24     +----+ hpa$$           hpb$$ +---+ 192.0.2.2/24     |
#   | 02:00:00:00:00:0a|    +-----------------------+   | 2001:db8::2/64   |
#   +------------------+                                +------------------+
#
# A is the server taking over the VIP (192.0.2.100/24, 2001:db8::100/64);
# B is a client whose neighbour cache still points the VIP at the old
# server's MAC.  No default route; nothing leaves 192.0.2.0/24 and
# 2001:db8::/32.
#
# Asserts: add and remove are idempotent and the kernel agrees with
# vip_present(); a missing interface is an error that names it; an IPv6
# VIP is usable at once (NODAD, not tentative); after A announces, B's
# existing neighbour entry for the VIP points at A's MAC (gratuitous ARP
# for IPv4 with arp_accept=0, unsolicited NA for IPv6).
#
# Usage, as root: BUILD=/path/to/build tests/sys/test_vip.sh
# Prints "ok - ..." or "FAIL: ..." per check; exits 1 if any failed.

set -u

BUILD=${BUILD:-/work/main/build}
VIPCTL=$BUILD/vipctl
A=hp$$a
B=hp$$b
S=hp$$s
BR=hpbr$$
A_MAC=02:00:00:00:00:0a
OLD_MAC=02:00:00:00:00:99	# the server that held the VIP before
VIP4=192.0.2.100/24
VIP6=2001:db8::100/64
FAILS=0
CREATED=()

ok() { echo "ok - $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

cleanup() {
	local ns
	for ns in "${CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A setup step that fails leaves nothing to test.
run() {
	"$@" || { fail "setup: $*"; exit 1; }
}

mkns() {
	run ip netns add "$1"
	CREATED+=("$1")
}

# wait_for SECONDS CMD...: poll CMD until it succeeds or time is up.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

vipctl_a() { ip netns exec "$A" "$VIPCTL" "$@"; }

# expect_ok DESC CMD...: CMD exits 0.
expect_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		fail "$desc: exit $?: $out"
	fi
}

# expect_present WANT ADDR IFNAME: vipctl present prints WANT.
expect_present() {
	local got
	got=$(vipctl_a present "$2" "$3" 2>&1)
	if [[ $got == "$1" ]]; then
		ok "present $2 on $3 says $1"
	else
		fail "present $2 on $3: expected $1, got '$got'"
	fi
}

# addr_lines FAMILY ADDR: A's eth0 lines for ADDR, as the kernel sees it.
addr_lines() {
	ip -n "$A" -o "$1" addr show dev eth0 | grep -F " $2 "
}

# expect_kernel_count N FAMILY ADDR: eth0 on A carries ADDR N times.
expect_kernel_count() {
	local n
	n=$(addr_lines "$2" "$3" | wc -l)
	if [[ $n == "$1" ]]; then
		ok "kernel lists $3 on A's eth0 $1 time(s)"
	else
		fail "kernel lists $3 on A's eth0 $n time(s), expected $1"
	fi
}

# neigh_mac NS ADDR: the lladdr of NS's eth0 neighbour entry for ADDR.
neigh_mac() {
	ip -n "$1" neigh show "$2" dev eth0 |
		awk '{ for (i = 1; i < NF; i++)
			if ($i == "lladdr") print $(i + 1) }'
}

neigh_is() { [[ $(neigh_mac "$1" "$2") == "$3" ]]; }

preflight() {
	if [[ $(id -u) != 0 ]]; then
		fail "must run as root (creates network namespaces)"
		exit 1
	fi
	if [[ ! -x $VIPCTL ]]; then
		fail "no $VIPCTL; build it or set BUILD"
		exit 1
	fi
}

setup() {
	mkns "$A"
	mkns "$B"
	mkns "$S"
	run ip -n "$S" link add "$BR" type bridge
	run ip -n "$S" link add "hpa$$" type veth peer name eth0 netns "$A"
	run ip -n "$S" link add "hpb$$" type veth peer name eth0 netns "$B"
	run ip -n "$S" link set "hpa$$" master "$BR" up
	run ip -n "$S" link set "hpb$$" master "$BR" up
	run ip -n "$S" link set "$BR" up
	run ip -n "$A" link set eth0 address "$A_MAC"
	# Only updates of entries B already has: the failover case.
	run ip netns exec "$B" sysctl -qw net.ipv4.conf.eth0.arp_accept=0
	run ip -n "$A" addr add 192.0.2.1/24 dev eth0
	run ip -n "$B" addr add 192.0.2.2/24 dev eth0
	run ip -n "$A" link set eth0 up
	run ip -n "$B" link set eth0 up
	if ! wait_for 10 ip netns exec "$A" ping -c 1 -W 1 -q 192.0.2.2 \
		>/dev/null; then
		fail "setup: A cannot reach B over the bridge"
		exit 1
	fi
}

test_add_remove_v4() {
	expect_present 0 "$VIP4" eth0
	expect_ok "add $VIP4" vipctl_a add "$VIP4" eth0
	expect_ok "add $VIP4 again (idempotent)" vipctl_a add "$VIP4" eth0
	expect_kernel_count 1 -4 "$VIP4"
	expect_present 1 "$VIP4" eth0
	expect_present 0 "$VIP4" lo
	expect_ok "remove $VIP4" vipctl_a remove "$VIP4" eth0
	expect_ok "remove $VIP4 again (idempotent)" \
		vipctl_a remove "$VIP4" eth0
	expect_kernel_count 0 -4 "$VIP4"
	expect_present 0 "$VIP4" eth0
}

test_missing_interface() {
	local cmd out rc want="vip $VIP4 on eth9: no such interface"

	for cmd in add remove present announce; do
		out=$(vipctl_a "$cmd" "$VIP4" eth9 2>&1)
		rc=$?
		if [[ $rc == 1 && $out == *"$want"* ]]; then
			ok "$cmd on eth9 fails with '$want'"
		else
			fail "$cmd on eth9: expected exit 1 and '$want'," \
				"got exit $rc: '$out'"
		fi
	done
}

test_add_remove_v6() {
	local line

	expect_ok "add $VIP6" vipctl_a add "$VIP6" eth0
	expect_ok "add $VIP6 again (idempotent)" vipctl_a add "$VIP6" eth0
	expect_kernel_count 1 -6 "$VIP6"
	# No polling: NODAD must make it usable at once.
	line=$(addr_lines -6 "$VIP6")
	if [[ $line == *nodad* && $line != *tentative* &&
	      $line != *dadfailed* ]]; then
		ok "$VIP6 is nodad and not tentative right after add"
	else
		fail "$VIP6 should be nodad and not tentative: '$line'"
	fi
	expect_present 1 "$VIP6" eth0
	expect_ok "remove $VIP6" vipctl_a remove "$VIP6" eth0
	expect_ok "remove $VIP6 again (idempotent)" \
		vipctl_a remove "$VIP6" eth0
	expect_kernel_count 0 -6 "$VIP6"
	expect_present 0 "$VIP6" eth0
}

# test_announce VIP: B's stale entry for VIP, pointing at the old
# server, must move to A's MAC after A announces, and not before.
test_announce() {
	local vip=$1 addr=${1%/*} mac

	expect_ok "add $vip for announce" vipctl_a add "$vip" eth0
	run ip -n "$B" neigh replace "$addr" lladdr "$OLD_MAC" dev eth0 \
		nud stale
	mac=$(neigh_mac "$B" "$addr")
	if [[ $mac != "$OLD_MAC" ]]; then
		fail "B's entry for $addr is '$mac' before announce," \
			"expected the old server's $OLD_MAC"
	fi
	expect_ok "announce $vip" vipctl_a announce "$vip" eth0
	if wait_for 5 neigh_is "$B" "$addr" "$A_MAC"; then
		ok "B's neighbour entry for $addr moved to A's $A_MAC"
	else
		fail "B's neighbour entry for $addr is still" \
			"'$(ip -n "$B" neigh show "$addr" dev eth0)'," \
			"expected lladdr $A_MAC"
	fi
	expect_ok "remove $vip after announce" vipctl_a remove "$vip" eth0
}

preflight
setup
test_add_remove_v4
test_missing_interface
test_announce "$VIP4"
if [[ -d /proc/sys/net/ipv6 ]]; then
	run ip -n "$B" addr add 2001:db8::2/64 dev eth0 nodad
	test_add_remove_v6
	test_announce "$VIP6"
else
	echo "skip - IPv6 tests: this kernel has no IPv6"
fi

if ((FAILS > 0)); then
	echo "FAIL: $FAILS check(s) failed"
	exit 1
fi
echo "ok - all checks passed"
