# shellcheck shell=bash
#
# lib.sh - the network and process harness of the hapair system tests,
# the failover bench and the demo.  Source it; it builds a small network
# out of namespaces, starts processes inside it, injects faults, and
# tears everything down again on exit, also after a failure or a signal.
#
#                        namespace hp<ID>sw ("switch")
#          +---------------------------------------------------+
#          |                    bridge br0                     |
#          |     pa            pb            pw            pc  |
#          +-----|-------------|-------------|-------------|---+
#                | veth        | veth        | veth        | veth
#             eth0          eth0          eth0          eth0
#         +---------+   +---------+   +---------+   +---------+
#         | hp<ID>a |   | hp<ID>b |   | hp<ID>w |   | hp<ID>c |
#         | server a|   | server b|   | witness |   | client  |
#         |   .1    |   |   .2    |   |   .3    |   |   .10   |
#         +---------+   +---------+   +---------+   +---------+
#                  192.0.2.0/24 (TEST-NET-1), VIP 192.0.2.100
#
# Every namespace has lo up and one /24 address on eth0, and no default
# route: nothing can leave 192.0.2.0/24 and 127.0.0.0/8.  <ID> is the PID
# of the test shell, so concurrent runs do not collide.
#
# Processes: bg_start NAME NODE CMD... runs CMD inside NODE's namespace
# in the background, logs to $HP_TMP/NAME.log, and registers its PID and
# start time.  topo_down stops the registered processes (checking the
# start time, so a reused PID is never hit), then whatever else is left
# inside our own namespaces (the agents' guard children, keepalived's
# VRRP child), then deletes the namespaces and $HP_TMP.
#
# Synchronisation is by polling with a deadline (wait_for, hold_for),
# never by a bare sleep.  Assertions print TAP-like "ok - ..." and
# "not ok - ..." lines; the test's exit status says whether any failed.
#
# Environment:
#   BUILD    the CMake build directory (default <repo>/build)
#   HAPAIR   the hapair binary (default $BUILD/hapair)
#   TOOLS    the directory with vipwatch and probe (default $BUILD)
#   HP_KEEP  1: keep $HP_TMP (configs, logs, JSON) after the test

# Globals set here (HP_PRIMARY, HP_LEASE_MS, ...) are for the scripts
# that source this file.
# shellcheck disable=SC2034

if [[ -n ${HP_LIB_LOADED:-} ]]; then
	return 0
fi
HP_LIB_LOADED=1

HP_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HP_BUILD=${BUILD:-$HP_REPO/build}
HAPAIR=${HAPAIR:-$HP_BUILD/hapair}
TOOLS=${TOOLS:-$HP_BUILD}
HP_ID=${HP_ID:-$$}
HP_NODES="a b w c"
HP_VIP=192.0.2.100
HP_VIP_CIDR=$HP_VIP/24
HP_PREFIX=hp$HP_ID
HP_FAILS=0
HP_OKS=0
HP_TMP=

# ---- basics -----------------------------------------------------------

# Milliseconds, from bash's own clock (no fork per poll).
now_ms()
{
	local us=${EPOCHREALTIME/./}
	echo $((us / 1000))
}

# Address of a node on the test network.
node_addr()
{
	case $1 in
	a) echo 192.0.2.1 ;;
	b) echo 192.0.2.2 ;;
	w) echo 192.0.2.3 ;;
	c) echo 192.0.2.10 ;;
	*) echo "node_addr: unknown node '$1'" >&2; return 1 ;;
	esac
}

# Namespace name of a node (a, b, w, c) or of the switch (sw).
ns_of()
{
	echo "$HP_PREFIX$1"
}

# The other server.
peer_of()
{
	case $1 in
	a) echo b ;;
	b) echo a ;;
	*) echo "peer_of: '$1' is not a server" >&2; return 1 ;;
	esac
}

# Run a command inside a node's namespace.
in_ns()
{
	local node=$1
	shift
	ip netns exec "$(ns_of "$node")" "$@"
}

# ---- assertions -------------------------------------------------------

ok()
{
	HP_OKS=$((HP_OKS + 1))
	echo "ok - $*"
}

not_ok()
{
	HP_FAILS=$((HP_FAILS + 1))
	echo "not ok - $*"
}

# assert_none_missing WHAT NODE RESULT - RESULT is a writer's check
# ({"checked":N,"missing":N,"missing_ids":[...]}): ok when none of the
# acknowledged WHAT ("writes of w", ...) is missing on NODE.
assert_none_missing()
{
	local what=$1 node=$2 res=$3 checked missing
	checked=$(jq -r .checked <<<"$res")
	missing=$(jq -r .missing <<<"$res")
	if [[ $missing == 0 ]]; then
		ok "all $checked acknowledged $what are on $node"
	else
		not_ok "$missing of $checked acknowledged $what missing on" \
			"$node: $(jq -c .missing_ids <<<"$res")"
	fi
}

# assert_eq DESCRIPTION EXPECTED ACTUAL
assert_eq()
{
	if [[ $2 == "$3" ]]; then
		ok "$1"
	else
		not_ok "$1: expected '$2', got '$3'"
	fi
}

# assert_ge DESCRIPTION LOW ACTUAL (integers)
assert_ge()
{
	if [[ $3 =~ ^-?[0-9]+$ ]] && (($3 >= $2)); then
		ok "$1"
	else
		not_ok "$1: expected >= $2, got '$3'"
	fi
}

# assert_true DESCRIPTION CMD... - the command succeeds now.
assert_true()
{
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		ok "$desc"
	else
		not_ok "$desc (failed: $*)"
	fi
}

# assert_false DESCRIPTION CMD... - the command fails now.
assert_false()
{
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		not_ok "$desc (succeeded: $*)"
	else
		ok "$desc"
	fi
}

# Stop the test here (a later step would only fail in confusing ways).
bail()
{
	not_ok "$*"
	exit 1
}

# wait_for DESCRIPTION TIMEOUT_MS CMD...
# Poll CMD every ~15 ms until it succeeds.  On the deadline print
# "not ok - DESCRIPTION" and return 1 (which ends a `set -e` test).
# Bounded twice: by the deadline and by an iteration count that the
# deadline cannot exceed.
wait_for()
{
	local desc=$1 timeout_ms=$2 start deadline i max
	shift 2
	start=$(now_ms)
	deadline=$((start + timeout_ms))
	max=$((timeout_ms / 10 + 10))
	for ((i = 0; i < max; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if (($(now_ms) >= deadline)); then
			break
		fi
		sleep 0.015
	done
	not_ok "$desc (not within $timeout_ms ms)"
	return 1
}

# hold_for DESCRIPTION DURATION_MS CMD...
# The opposite of wait_for: CMD must keep succeeding, polled every
# ~15 ms, for the whole duration.  Prints ok/not ok; returns 1 on the
# first failure.
hold_for()
{
	local desc=$1 duration_ms=$2 start deadline i max
	shift 2
	start=$(now_ms)
	deadline=$((start + duration_ms))
	max=$((duration_ms / 10 + 10))
	for ((i = 0; i < max; i++)); do
		if ! "$@" >/dev/null 2>&1; then
			not_ok "$desc (broke after $(($(now_ms) - start)) ms)"
			return 1
		fi
		if (($(now_ms) >= deadline)); then
			ok "$desc"
			return 0
		fi
		sleep 0.015
	done
	ok "$desc"
}

# ---- processes --------------------------------------------------------

# Start time of a process in clock ticks since boot (field 22 of
# /proc/PID/stat), to tell our process from a later one with its PID.
# /proc files are read with `read`, never `$(<file)`: under `set -e`,
# bash 5.2 exits the whole shell when `$(<file)` cannot open the file,
# even behind `||`, and a process may vanish at any moment.
pid_starttime()
{
	local stat rest
	local -a f
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${stat##*) }
	read -ra f <<<"$rest"
	echo "${f[19]}"
}

# Does the process still run (not gone, not a zombie)?
pid_alive()
{
	local stat rest
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${stat##*) }
	[[ ${rest:0:1} != Z ]]
}

pid_gone()
{
	! pid_alive "$1"
}

# Is PID still the process we registered (same start time)?
pid_is_ours()
{
	local pid=$1 start=$2 now
	now=$(pid_starttime "$pid" 2>/dev/null) || return 1
	[[ $now == "$start" ]]
}

# bg_start NAME NODE CMD...
# Run CMD in the background inside NODE's namespace ("-" = this one),
# stdout and stderr to $HP_TMP/NAME.log; register NAME, PID, start time.
# `ip netns exec` execs CMD, so the PID is CMD's own.
bg_start()
{
	local name=$1 node=$2 pid start
	shift 2
	if [[ $node == - ]]; then
		"$@" >>"$HP_TMP/$name.log" 2>&1 &
	else
		ip netns exec "$(ns_of "$node")" "$@" \
			>>"$HP_TMP/$name.log" 2>&1 &
	fi
	pid=$!
	# Not a job of ours any more: no "Killed" chatter from bash; bash
	# still reaps it.
	disown "$pid"
	start=$(pid_starttime "$pid" 2>/dev/null) || start=gone
	echo "$name $pid $start" >>"$HP_TMP/pids"
}

# PID of the newest process registered as NAME.
bg_pid()
{
	local name=$1 n pid start found=''
	while read -r n pid start; do
		if [[ $n == "$name" ]]; then
			found=$pid
		fi
	done <"$HP_TMP/pids"
	if [[ -z $found ]]; then
		echo "bg_pid: no process '$name'" >&2
		return 1
	fi
	echo "$found"
}

# bg_signal NAME SIGNAL - signal the newest NAME, if it is still ours.
bg_signal()
{
	local name=$1 sig=$2 n pid start tpid='' tstart=''
	while read -r n pid start; do
		if [[ $n == "$name" ]]; then
			tpid=$pid
			tstart=$start
		fi
	done <"$HP_TMP/pids"
	if [[ -z $tpid ]]; then
		echo "bg_signal: no process '$name'" >&2
		return 1
	fi
	pid_is_ours "$tpid" "$tstart" || return 1
	kill -s "$sig" "$tpid"
}

# bg_wait_exit NAME TIMEOUT_MS - wait until the newest NAME has exited.
bg_wait_exit()
{
	local pid
	pid=$(bg_pid "$1")
	wait_for "$1 (pid $pid) exits" "$2" pid_gone "$pid"
}

# Stop every registered process still running: SIGCONT (a stopped one
# cannot act on SIGTERM) and SIGTERM, a bounded wait, then SIGKILL.
bg_stop_all()
{
	local n pid start i
	local -a live=()
	[[ -f $HP_TMP/pids ]] || return 0
	while read -r n pid start; do
		if pid_is_ours "$pid" "$start"; then
			live+=("$pid")
		fi
	done <"$HP_TMP/pids"
	((${#live[@]})) || return 0
	kill -s CONT "${live[@]}" 2>/dev/null || true
	kill -s TERM "${live[@]}" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		local any=0 p
		for p in "${live[@]}"; do
			pid_alive "$p" && any=1
		done
		((any)) || return 0
		sleep 0.02
	done
	kill -s KILL "${live[@]}" 2>/dev/null || true
}

# Kill whatever still runs inside our namespaces: children the test did
# not start itself (guard processes, keepalived's VRRP child).  They are
# ours by construction: nobody else enters these namespaces.
ns_kill_all()
{
	local node pids
	for node in $HP_NODES sw; do
		[[ -e /var/run/netns/$(ns_of "$node") ]] || continue
		pids=$(ip netns pids "$(ns_of "$node")" 2>/dev/null) || continue
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086
			kill -s KILL $pids 2>/dev/null || true
		fi
	done
}

# ---- topology ---------------------------------------------------------

# Build the network drawn at the top.  Sets HP_TMP if not set yet.
topo_up()
{
	local sw node ns
	[[ $EUID == 0 ]] || bail "system tests need root (namespaces)"
	if [[ -z $HP_TMP ]]; then
		HP_TMP=$(mktemp -d /tmp/hapair-sys.XXXXXX)
	fi
	: >>"$HP_TMP/pids"
	sw=$(ns_of sw)
	ip netns add "$sw"
	ip -n "$sw" link set lo up
	# STP off and no multicast snooping: ports forward at once and
	# VRRP/hapair multicast reaches every port.
	ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 \
		mcast_snooping 0
	ip -n "$sw" link set br0 up
	for node in $HP_NODES; do
		ns=$(ns_of "$node")
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$sw" link add "p$node" type veth peer name eth0 \
			netns "$ns"
		ip -n "$sw" link set "p$node" master br0 up
		ip -n "$ns" addr add "$(node_addr "$node")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
	for node in a b w; do
		wait_for "client reaches $node" 5000 \
			in_ns c ping -n -q -c 1 -W 1 "$(node_addr "$node")"
	done
}

# Tear everything down; safe to call twice and after a partial topo_up.
topo_down()
{
	local node
	if [[ -n $HP_TMP && -d $HP_TMP ]]; then
		bg_stop_all
	fi
	ns_kill_all
	for node in $HP_NODES sw; do
		if [[ -e /var/run/netns/$(ns_of "$node") ]]; then
			ip netns del "$(ns_of "$node")" 2>/dev/null || true
		fi
	done
}

# Show the end of every log, for a failed test.
dump_logs()
{
	local f
	[[ -n $HP_TMP && -d $HP_TMP ]] || return 0
	for f in "$HP_TMP"/*.log; do
		[[ -s $f ]] || continue
		echo "# ---- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f" | sed 's/^/# /'
	done
}

# The EXIT trap: report, tear down, keep the exit status honest.
hp_exit()
{
	local rc=$?
	trap - EXIT
	set +e
	if ((rc == 0 && HP_FAILS > 0)); then
		rc=1
	fi
	if ((rc != 0)); then
		dump_logs
	fi
	topo_down
	if [[ -n $HP_TMP && -d $HP_TMP ]]; then
		if [[ ${HP_KEEP:-0} == 1 ]]; then
			echo "# kept $HP_TMP"
		else
			rm -rf "$HP_TMP"
		fi
	fi
	if ((HP_OKS + HP_FAILS > 0)); then
		echo "# $HP_OKS ok, $HP_FAILS not ok"
	fi
	exit "$rc"
}

# A signal ends the test through the EXIT trap, so cleanup always runs.
trap hp_exit EXIT
# Name the command that ended a `set -e` test, not only its status.
trap 'echo "# stopped by a failing command at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- faults -------------------------------------------------------------

link_down()
{
	ip -n "$(ns_of "$1")" link set eth0 down
}

link_up()
{
	ip -n "$(ns_of "$1")" link set eth0 up
}

# Cut server a off from server b and back.  Inside each server, drop
# everything from the peer, by IP source and by Ethernet source (so
# multicast and IPv6 from it are dropped too: VRRP adverts, hapair
# heartbeats), and everything sent to the peer's address.  The witness
# and the client stay reachable from both.
partition_servers()
{
	local node peer mac
	for node in a b; do
		peer=$(peer_of "$node")
		mac=$(ip -n "$(ns_of "$peer")" -j link show eth0 |
			jq -r '.[0].address')
		in_ns "$node" nft -f - <<-EOF
			table inet hp_partition {
				chain in {
					type filter hook prerouting \
						priority raw;
					ether saddr $mac drop
					ip saddr $(node_addr "$peer") drop
				}
				chain out {
					type filter hook output priority raw;
					ip daddr $(node_addr "$peer") drop
				}
			}
		EOF
	done
}

heal()
{
	local node
	for node in a b; do
		in_ns "$node" nft delete table inet hp_partition 2>/dev/null ||
			true
	done
}

# ---- the VIP ------------------------------------------------------------

# Does NODE have the VIP configured right now?
has_vip()
{
	ip -n "$(ns_of "$1")" -o -4 addr show dev eth0 2>/dev/null |
		grep -q " inet $HP_VIP/"
}

# Which servers hold the VIP now, e.g. "a", "b", "a b" or "".
vip_holders()
{
	local node out=()
	for node in a b; do
		if has_vip "$node"; then
			out+=("$node")
		fi
	done
	echo "${out[*]}"
}

# Exactly one server holds the VIP.
one_holder()
{
	local h
	h=$(vip_holders)
	[[ $h == a || $h == b ]]
}

holder_is()
{
	[[ $(vip_holders) == "$1" ]]
}

# vipwatch_start - watch the VIP on a and b from now on (vipwatch runs in
# the root namespace and enters the others itself).
vipwatch_start()
{
	local duration_ms=${1:-600000}
	rm -f "$HP_TMP/vipwatch.json" "$HP_TMP/vipwatch.ready"
	bg_start vipwatch - "$TOOLS/vipwatch" --ns "$(ns_of a)" \
		--ns "$(ns_of b)" --addr "$HP_VIP" \
		--duration-ms "$duration_ms" --out "$HP_TMP/vipwatch.json" \
		--ready-file "$HP_TMP/vipwatch.ready"
	wait_for "vipwatch is watching" 5000 test -e "$HP_TMP/vipwatch.ready"
}

# vipwatch_stop - stop it; its JSON is then in $HP_TMP/vipwatch.json.
vipwatch_stop()
{
	bg_signal vipwatch TERM || true
	wait_for "vipwatch wrote its result" 5000 \
		test -s "$HP_TMP/vipwatch.json"
}

# jq over the vipwatch result.
vipwatch_q()
{
	jq -r "$@" "$HP_TMP/vipwatch.json"
}

# The invariant: never two holders, by sampling and by exact overlap.
assert_no_dual_holder()
{
	local samples dual
	samples=$(vipwatch_q .dual_holder_samples)
	dual=$(vipwatch_q .dual_holder_ms)
	assert_eq "never two VIP holders (1 ms samples)" 0 "$samples"
	# jq prints 0.000 as 0; any overlap at all is a failure.
	assert_eq "never two VIP holders (exact overlap, ms)" 0 "$dual"
}

# How many times NODE gained the VIP while vipwatch ran.
vip_gains()
{
	vipwatch_q --arg ns "$(ns_of "$1")" \
		'[.transitions[] | select(.ns == $ns and .holds)] | length'
}

# assert_handover FROM TO - in vipwatch's record, FROM's last loss of the
# VIP comes before TO's first gain after it.
assert_handover()
{
	local from=$1 to=$2 lost gained
	lost=$(vipwatch_q --arg ns "$(ns_of "$from")" \
		'[.transitions[] | select(.ns == $ns and (.holds | not))
		  | .t_ms] | last // "none"')
	if [[ $lost == none ]]; then
		not_ok "vipwatch saw $from give up the VIP"
		return 0
	fi
	gained=$(vipwatch_q --arg ns "$(ns_of "$to")" --argjson t "$lost" \
		'[.transitions[] | select(.ns == $ns and .holds and
		  .t_ms >= $t) | .t_ms] | first // "none"')
	if [[ $gained == none ]]; then
		not_ok "vipwatch saw $to take the VIP after $from gave it up"
		return 0
	fi
	ok "VIP left $from at $lost ms, reached $to at $gained ms"
}

# ---- hapair -------------------------------------------------------------

# hp_conf [HEARTBEAT [LEASE [HOLD_DOWN]]] - write $HP_TMP/hapair.conf and
# a fresh key.  Durations as in the config ("20ms", "1s").  Sets HP_CONF,
# HP_HB_MS, HP_LEASE_MS, and HP_FAILOVER_MS: the deadline for a failover
# (expected within about 3 leases; generous for a loaded machine).
hp_conf()
{
	local hb=${1:-20ms} lease=${2:-200ms} hold=${3:-60s} key
	[[ -x $HAPAIR ]] || bail "no hapair binary at $HAPAIR (set HAPAIR)"
	HP_HB_MS=$(dur_ms "$hb")
	HP_LEASE_MS=$(dur_ms "$lease")
	HP_FAILOVER_MS=$((10 * HP_LEASE_MS + 3000))
	HP_CONF=$HP_TMP/hapair.conf
	key=$HP_TMP/key
	mkdir -p "$HP_TMP/state" "$HP_TMP/run"
	# The key is secret from its first byte: no world-readable window.
	(umask 077 && "$HAPAIR" keygen >"$key")
	chmod 600 "$key"
	grep -qE '^[0-9a-f]{64}$' "$key" ||
		bail "hapair keygen: expected 64 hex characters," \
			"got '$(head -c 80 "$key")'"
	cat >"$HP_CONF" <<-EOF
		[cluster]
		name = sys$HP_ID
		key_file = $key
		heartbeat_interval = $hb
		lease = $lease
		drift = 1%
		quorum = witness
		failover_hold_down = $hold
		state_dir = $HP_TMP/state
		run_dir = $HP_TMP/run

		[node a]
		address = $(node_addr a)
		priority = 100

		[node b]
		address = $(node_addr b)
		priority = 90

		[witness]
		address = $(node_addr w)

		[resource vip]
		type = vip
		address = $HP_VIP_CIDR
		interface = eth0
		garp_count = 3
		garp_interval = 50ms
	EOF
	local out
	out=$("$HAPAIR" check-config "$HP_CONF" 2>&1) ||
		bail "hapair check-config rejects the test config: $out"
}

# leases N - N leases in ms, for hold_for and deadlines.
leases()
{
	echo $(($1 * HP_LEASE_MS))
}

# "20ms" -> 20, "1s" -> 1000, "2m" -> 120000.
dur_ms()
{
	case $1 in
	*ms) echo "${1%ms}" ;;
	*s) echo $((${1%s} * 1000)) ;;
	*m) echo $((${1%m} * 60000)) ;;
	*) echo "dur_ms: '$1' has no unit" >&2; return 1 ;;
	esac
}

start_agent()
{
	local node=$1
	bg_start "agent-$node" "$node" "$HAPAIR" agent -c "$HP_CONF" -n "$node"
	wait_for "agent $node answers status" 5000 hp_status "$node"
}

start_witness()
{
	bg_start witness w "$HAPAIR" witness -c "$HP_CONF"
}

# kill_agent NODE [SIGNAL] - signal the agent only (default KILL); its
# guard child is left alone, as after a real crash.  After KILL, waits
# until the process is gone.
kill_agent()
{
	local node=$1 sig=${2:-KILL}
	bg_signal "agent-$node" "$sig" || bail "agent $node is not running"
	if [[ $sig == KILL || $sig == 9 ]]; then
		bg_wait_exit "agent-$node" 2000
	fi
}

# stop_agent NODE - orderly stop (SIGTERM), waits for the exit.
stop_agent()
{
	bg_signal "agent-$1" TERM || bail "agent $1 is not running"
	bg_wait_exit "agent-$1" 5000
}

kill_witness()
{
	bg_signal witness KILL || bail "witness is not running"
	bg_wait_exit witness 2000
}

# hp_status NODE - the agent's status JSON (fails if it does not answer
# within 2 s, e.g. while stopped).
hp_status()
{
	in_ns "$1" timeout 2 "$HAPAIR" status -c "$HP_CONF" -n "$1" --json
}

# hp_field NODE JQ_FILTER - one field of NODE's status.
hp_field()
{
	local json
	json=$(hp_status "$1") || return 1
	jq -er "$2" <<<"$json"
}

hp_role()
{
	hp_field "$1" .role
}

hp_term()
{
	hp_field "$1" .term
}

role_is()
{
	[[ $(hp_role "$1") == "$2" ]]
}

# Exactly one agent says primary, and that one alone holds the VIP.
# Prints the primary's name.
sole_primary()
{
	local ra rb
	ra=$(hp_role a 2>/dev/null) || ra=down
	rb=$(hp_role b 2>/dev/null) || rb=down
	if [[ $ra == primary && $rb != primary ]] && holder_is a; then
		echo a
	elif [[ $rb == primary && $ra != primary ]] && holder_is b; then
		echo b
	else
		return 1
	fi
}

# NODE is primary (status) and alone holds the VIP.
primary_is()
{
	[[ $(sole_primary) == "$1" ]]
}

# switchover_on FROM TO - `hapair switchover` on FROM once FROM says a
# failover is possible; TO must then be the primary holding the VIP
# alone.  The data checks are the caller's.
switchover_on()
{
	local from=$1 to=$2 t0 out
	wait_for "failover possible on $from" 10000 hp_field "$from" \
		'.failover_possible == true'
	t0=$(now_ms)
	if out=$(in_ns "$from" timeout 20 "$HAPAIR" switchover -c "$HP_CONF" \
		--node "$from" 2>&1); then
		ok "hapair switchover on $from: $out ($(($(now_ms) - t0)) ms)"
	else
		not_ok "hapair switchover on $from failed: $out"
	fi
	wait_for "$to is the primary holding the VIP alone" 10000 \
		primary_is "$to"
}

# wait_one_primary TIMEOUT_MS - wait for one primary; then HP_PRIMARY
# and HP_STANDBY name the two servers.
wait_one_primary()
{
	wait_for "exactly one primary, holding the VIP alone" "$1" \
		sole_primary || return 1
	HP_PRIMARY=$(sole_primary) || bail "the primary changed at once"
	HP_STANDBY=$(peer_of "$HP_PRIMARY")
}

# Standard start of a test: topology, watcher, config, witness, agents,
# one primary.  Arguments go to hp_conf.  Sets HP_PRIMARY, HP_STANDBY.
hp_cluster_up()
{
	topo_up
	vipwatch_start 600000
	hp_conf "$@"
	start_witness
	start_agent a
	start_agent b
	# Cold start first waits out the voters' start-up promise,
	# L*(1+d), then elects; 20 leases is ample.
	wait_one_primary $((20 * HP_LEASE_MS + 5000))
}

# ---- roles and the witness's sync record, whatever the data ------------------

# primary_is_why NODE - primary_is, and on failure what each side said
# (to $HP_TMP/why).
primary_is_why()
{
	local ra rb
	primary_is "$1" && return 0
	ra=$(hp_status a 2>&1 | jq -r .role 2>&1) || true
	rb=$(hp_status b 2>&1 | jq -r .role 2>&1) || true
	echo "a: $ra; b: $rb; VIP on: $(vip_holders)" >"$HP_TMP/why"
	return 1
}

# No server says primary and none holds the VIP.
no_primary()
{
	local n r
	[[ -z $(vip_holders) ]] || return 1
	for n in a b; do
		r=$(hp_role "$n" 2>/dev/null) || r=down
		[[ $r != primary ]] || return 1
	done
}

# hapair's node id: a is 1, b is 2 (the order of the [node] sections).
node_id()
{
	case $1 in
	a) echo 1 ;;
	b) echo 2 ;;
	*) echo "node_id: '$1' is not a server" >&2; return 1 ;;
	esac
}

# The witness's record of the servers in sync, as bits (1 << node id),
# e.g. 6 for both; fails when the witness does not answer.
witness_synced_bits()
{
	local json
	json=$(in_ns w timeout 2 "$HAPAIR" status -c "$HP_CONF" --witness \
		--json) || return 1
	jq -er '.synced | numbers' <<<"$json"
}

# witness_synced NODE / witness_not_synced NODE - the witness answered,
# and its record has NODE in sync / out of sync.
witness_synced()
{
	local bits id
	bits=$(witness_synced_bits) || return 1
	id=$(node_id "$1") || return 1
	(((bits >> id) & 1))
}

witness_not_synced()
{
	local bits id
	bits=$(witness_synced_bits) || return 1
	id=$(node_id "$1") || return 1
	((((bits >> id) & 1) == 0))
}

# NODE's data resource reports its replication link up (standby).
res_link_up()
{
	[[ $(hp_field "$1" '.resources.link_up') == true ]]
}
