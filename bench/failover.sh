#!/bin/bash
#
# failover.sh - client-visible outage and split-brain time on failover,
# hapair side by side with keepalived, on one harness (`make bench`).
#
# The network is the one of the system tests (tests/sys/lib.sh): servers
# a and b, witness w, client c on a bridge in 192.0.2.0/24, VIP
# 192.0.2.100.  a and b both run `probe serve`; the client sends a
# numbered UDP datagram to the VIP every 10 ms and notes who answers and
# the longest silence (outage_ms); vipwatch notes every instant at which
# a and b both hold the VIP (dual holders).
#
# For each tool, fault and trial, from a fresh network:
#   1. start the HA tool on a and b (and the witness, for hapair);
#   2. wait until exactly one server holds the VIP and the client gets
#      answers through it;
#   3. start vipwatch and the probe client; after BENCH_PRE_MS inject
#      the fault on the VIP holder (the primary) and mark the moment;
#   4. let the trial run BENCH_WINDOW_MS more (the recovery window);
#   5. collect, undo the fault, tear the network down.
# Only the start and fault commands differ between tools (ha_* below).
#
# Tools:
#   hapair           heartbeat 100ms, lease 700ms (the defaults)
#   hapair-tuned     heartbeat 10ms, lease 120ms
#   keepalived       VRRPv2, advert_int 1
#   keepalived-fast  VRRPv3, advert_int 0.01, max_auto_priority (real-
#                    time scheduling, as hapair uses)
# Faults:
#   linkdown   the primary's eth0 goes down
#   kill9      SIGKILL of the HA daemon on the primary (hapair: the agent,
#              its guard lives on; keepalived: parent and VRRP child)
#   sigstop    SIGSTOP of the same processes, SIGCONT after the trial
#   partition  a and b cannot reach each other (nftables in both, also
#              multicast); both still reach the witness and the client
#
# Where the old primary keeps the VIP (keepalived after kill9, sigstop
# or a partition), the client may never see an outage, and the dual
# holder columns show the price.
#
# Environment (defaults in brackets):
#   TRIALS [5]  BENCH_TOOLS [all four]  BENCH_FAULTS [all four]
#   BENCH_PRE_MS [1000]  BENCH_WINDOW_MS [per tool: 5000 hapair,
#   2000 hapair-tuned, 6000 keepalived, 2000 keepalived-fast]
#   HAPAIR_HB [100ms]  HAPAIR_LEASE [700ms]
#   HAPAIR_TUNED_HB [10ms]  HAPAIR_TUNED_LEASE [120ms]
#   BUILD [<repo>/build]  HAPAIR [$BUILD/hapair]  TOOLS [$BUILD]
#   BENCH_OUT [$BUILD/bench]
#
# Output: a table on stdout; $BENCH_OUT/failover.json, a list of
# {"tool","fault","trials","outage_ms":{"min","median","max"},
#  "dual_holder_samples","dual_holder_ms"} (dual holders summed over the
# trials); $BENCH_OUT/trials.jsonl, one line per trial.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/sys/lib.sh
source "$BENCH_DIR/../tests/sys/lib.sh"
# shellcheck source=bench/lib_ka.sh
source "$BENCH_DIR/lib_ka.sh"

TRIALS=${TRIALS:-5}
BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned keepalived keepalived-fast}
BENCH_FAULTS=${BENCH_FAULTS:-linkdown kill9 sigstop partition}
BENCH_PRE_MS=${BENCH_PRE_MS:-1000}
BENCH_OUT=${BENCH_OUT:-$HP_BUILD/bench}
HAPAIR_HB=${HAPAIR_HB:-100ms}
HAPAIR_LEASE=${HAPAIR_LEASE:-700ms}
HAPAIR_TUNED_HB=${HAPAIR_TUNED_HB:-10ms}
HAPAIR_TUNED_LEASE=${HAPAIR_TUNED_LEASE:-120ms}
PROBE_PORT=7000
PROBE_INTERVAL_MS=10
# Longest wait for the first primary: keepalived needs 3 adverts plus
# skew (about 4 s); hapair's cold start waits out the voters' promise.
START_TIMEOUT_MS=30000

# Recovery window after the fault, per tool: several times the worst
# expected failover, so a slow one is measured, not cut off.
window_ms()
{
	if [[ -n ${BENCH_WINDOW_MS:-} ]]; then
		echo "$BENCH_WINDOW_MS"
		return
	fi
	case $1 in
	hapair) echo 5000 ;;
	hapair-tuned) echo 2000 ;;
	keepalived) echo 6000 ;;
	keepalived-fast) echo 2000 ;;
	esac
}

# ---- keepalived -------------------------------------------------------

# ka_conf NODE PROFILE - one keepalived.conf per server.  VRRPv2 with
# advert_int 1 is keepalived's default setup; "fast" is VRRPv3 with a
# 10 ms advert and real-time scheduling.  Multicast adverts (default).
ka_conf()
{
	local node=$1 profile=$2 state=BACKUP prio=90 globals="" advert=1
	if [[ $node == a ]]; then
		state=MASTER
		prio=100
	fi
	if [[ $profile == fast ]]; then
		globals=$'\tvrrp_version 3\n\tmax_auto_priority'
		advert=0.01
	fi
	cat >"$HP_TMP/ka-$node.conf" <<-EOF
		global_defs {
			router_id hp_$node
		$globals
		}
		vrrp_instance VI_1 {
			state $state
			interface eth0
			virtual_router_id 51
			priority $prio
			advert_int $advert
			virtual_ipaddress {
				$HP_VIP_CIDR dev eth0
			}
		}
	EOF
}

# ---- the tool switch: the only place where tools differ ---------------

ha_start()
{
	case $1 in
	hapair | hapair-tuned)
		if [[ $1 == hapair ]]; then
			hp_conf "$HAPAIR_HB" "$HAPAIR_LEASE"
		else
			hp_conf "$HAPAIR_TUNED_HB" "$HAPAIR_TUNED_LEASE"
		fi
		start_witness
		start_agent a
		start_agent b
		;;
	keepalived) ka_start ka_conf default ;;
	keepalived-fast) ka_start ka_conf fast ;;
	esac
}

# ha_kill9 TOOL NODE - the HA daemon on NODE dies without cleanup.
ha_kill9()
{
	case $1 in
	hapair*) kill_agent "$2" KILL ;;
	keepalived*) ka_kill9 "$2" ;;
	esac
}

# ha_signal TOOL NODE SIGNAL - STOP or CONT the HA daemon on NODE.
ha_signal()
{
	case $1 in
	hapair*) kill_agent "$2" "$3" ;;
	keepalived*) ka_signal "$2" "$3" ;;
	esac
}

# ---- one trial ------------------------------------------------------------

# The client gets an answer through the VIP right now.
client_answered()
{
	in_ns c "$TOOLS/probe" client --addr "$HP_VIP" --port "$PROBE_PORT" \
		--interval-ms 10 --duration-ms 50 | jq -e '.received > 0'
}

inject()
{
	local tool=$1 fault=$2 node=$3
	case $fault in
	linkdown) link_down "$node" ;;
	kill9) ha_kill9 "$tool" "$node" ;;
	sigstop) ha_signal "$tool" "$node" STOP ;;
	partition) partition_servers ;;
	esac
}

undo()
{
	local tool=$1 fault=$2 node=$3
	case $fault in
	linkdown) link_up "$node" ;;
	kill9) ;;
	sigstop) ha_signal "$tool" "$node" CONT ;;
	partition) heal ;;
	esac
}

# run_trial TOOL FAULT N - runs in a process of its own (--trial): a
# failed trial is recorded and cleaned up, and the bench goes on.
run_trial()
{
	local tool=$1 fault=$2 n=$3 primary window total
	HP_TMP=$(mktemp -d /tmp/hapair-bench.XXXXXX)
	window=$(window_ms "$tool")
	total=$((BENCH_PRE_MS + window))
	topo_up
	bg_start serve-a a "$TOOLS/probe" serve --port "$PROBE_PORT" --name a
	bg_start serve-b b "$TOOLS/probe" serve --port "$PROBE_PORT" --name b
	ha_start "$tool"
	wait_for "$tool: exactly one VIP holder" "$START_TIMEOUT_MS" one_holder
	primary=$(vip_holders)
	wait_for "$tool: client answered through the VIP" 5000 client_answered
	holder_is "$primary" || bail "$tool: VIP moved from $primary at start"

	vipwatch_start $((total + 10000))
	bg_start probe c "$TOOLS/probe" client --addr "$HP_VIP" \
		--port "$PROBE_PORT" --interval-ms "$PROBE_INTERVAL_MS" \
		--duration-ms "$total" --out "$HP_TMP/probe.json"
	# The timeline, not a synchronisation: steady service before the
	# fault.  The probe timestamps the fault itself (SIGUSR1).
	sleep "$(printf '%d.%03d' $((BENCH_PRE_MS / 1000)) \
		$((BENCH_PRE_MS % 1000)))"
	bg_signal probe USR1
	inject "$tool" "$fault" "$primary"
	wait_for "$tool $fault: probe finished" $((window + 5000)) \
		test -s "$HP_TMP/probe.json"
	vipwatch_stop
	undo "$tool" "$fault" "$primary"

	jq -nc --arg tool "$tool" --arg fault "$fault" --argjson n "$n" \
		--arg primary "$primary" \
		--slurpfile p "$HP_TMP/probe.json" \
		--slurpfile v "$HP_TMP/vipwatch.json" '
		{tool: $tool, fault: $fault, trial: $n, ok: true,
		 primary: $primary,
		 outage_ms: $p[0].outage_ms,
		 outage_after_fault_ms: $p[0].outage_after_fault_ms,
		 max_gap_ms: $p[0].max_gap_ms, fault_ms: $p[0].fault_ms,
		 sent: $p[0].sent, received: $p[0].received,
		 responders: [$p[0].responders[] | .name],
		 last_responder: $p[0].last_responder,
		 dual_holder_samples: $v[0].dual_holder_samples,
		 dual_holder_ms: $v[0].dual_holder_ms,
		 vip_transitions: ($v[0].transitions | length),
		 vip_final: $v[0].final}' >>"$BENCH_OUT/trials.jsonl"
	tail -n 1 "$BENCH_OUT/trials.jsonl" | jq -r '
		"# \(.tool) \(.fault) #\(.trial): primary \(.primary),"
		+ " outage \(.outage_ms) ms, answered by"
		+ " \(.responders | join("+")),"
		+ " dual holders \(.dual_holder_samples) samples /"
		+ " \(.dual_holder_ms) ms"'
}

# ---- the summary ------------------------------------------------------

# Min/median/max per (tool, fault), ratios, failover.json.
summarize()
{
	python3 "$BENCH_DIR/failover_summary.py" "$BENCH_OUT/trials.jsonl" \
		"$BENCH_OUT/failover.json"
}

# ---- main ---------------------------------------------------------------

preflight()
{
	local tool
	[[ $EUID == 0 ]] || bail "the bench needs root (namespaces)"
	[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || bail "TRIALS: expected a number"
	for tool in $BENCH_TOOLS; do
		case $tool in
		hapair | hapair-tuned)
			[[ -x $HAPAIR ]] ||
				bail "$tool: no hapair binary at $HAPAIR" \
					"(build it, or set BENCH_TOOLS)"
			;;
		keepalived | keepalived-fast)
			command -v keepalived >/dev/null ||
				bail "$tool: keepalived is not installed"
			;;
		*) bail "unknown tool '$tool' in BENCH_TOOLS" ;;
		esac
	done
	for tool in $BENCH_FAULTS; do
		case $tool in
		linkdown | kill9 | sigstop | partition) ;;
		*) bail "unknown fault '$tool' in BENCH_FAULTS" ;;
		esac
	done
	[[ -x $TOOLS/probe && -x $TOOLS/vipwatch ]] ||
		bail "no probe/vipwatch in $TOOLS (build the tools)"
}

# A trial the harness could not measure: recorded, counted as failed.
record_failed()
{
	jq -nc --arg t "$1" --arg f "$2" --argjson n "$3" \
		'{tool: $t, fault: $f, trial: $n, ok: false}' \
		>>"$BENCH_OUT/trials.jsonl"
	echo "# $1 $2 #$3: FAILED"
}

main()
{
	local tool fault n
	preflight
	mkdir -p "$BENCH_OUT"
	: >"$BENCH_OUT/trials.jsonl"
	for tool in $BENCH_TOOLS; do
		for fault in $BENCH_FAULTS; do
			for ((n = 1; n <= TRIALS; n++)); do
				# A process per trial: its own EXIT trap tears
				# its network down even when the trial fails,
				# and `set -e` holds inside it.
				if ! "$BASH" "$BENCH_DIR/failover.sh" --trial \
					"$tool" "$fault" "$n"; then
					record_failed "$tool" "$fault" "$n"
				fi
			done
		done
	done
	echo
	summarize
}

if [[ ${1:-} == --trial ]]; then
	shift
	run_trial "$@"
else
	main "$@"
fi
