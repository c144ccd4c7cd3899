#!/bin/bash
#
# redis_failover.sh - what a Redis client sees on failover: how long its
# writes were refused, and how many acknowledged writes were lost,
# hapair side by side with Redis Sentinel, on one harness (`make bench`).
#
# The network is the one of the system tests (tests/sys/lib.sh): servers
# a and b, witness w, client c on a bridge in 192.0.2.0/24.  a and b run
# redis-server (no persistence; tests/sys/lib_redis.sh start_redis).
# The client runs rwriter: one SET every 10 ms, each id recorded when it
# is acknowledged.
#
#   hapair:   the agents manage replication (sync mode) and the VIP
#             192.0.2.100; the writer goes through the VIP and, as sync
#             mode says, takes a write as acknowledged when WAIT 1 100
#             answers >= 1.  vipwatch notes any instant at which a and b
#             both hold the VIP (dual holders).
#   sentinel: b is made a replica of a by hand (REPLICAOF); three
#             redis-sentinel (on a, b and w, quorum 2) watch them; the
#             writer asks the sentinels for the master on every
#             (re)connect, checks ROLE, and takes a write as acknowledged
#             when SET answers OK (--no-wait: what Sentinel's clients do;
#             Sentinel has no VIP, so dual holders are null).
#
# For each tool, fault and trial, from a fresh network:
#   1. start Redis and the HA tool; wait for one master with its replica
#      linked (and, for Sentinel, every sentinel knowing the replica and
#      the two other sentinels);
#   2. start the writer (and vipwatch); after BENCH_PRE_MS mark the fault
#      in the writer (SIGUSR1) and inject it on the primary;
#   3. let the trial run BENCH_WINDOW_MS more (the recovery window);
#   4. read every acknowledged id back from the final primary (hapair:
#      the VIP holder's Redis; Sentinel: the master the surviving
#      sentinels name); undo the fault, tear the network down.
#
# Measures per trial:
#   outage_ms   the longest stretch, ending after the fault, in which no
#               write was accepted (no SET answered OK): the client-
#               visible write outage, the same measure for every tool.
#               (With hapair, a write is acknowledged only once a replica
#               has it: while the old primary stays down, the new one
#               accepts writes but has no replica to acknowledge them;
#               acked_outage_ms in trials.jsonl shows that stretch.)
#               It is what a client with rwriter's timeouts sees
#               (connect 100 ms, command 200 ms, WAIT 100 ms on top; with
#               Sentinel, 100 ms per sentinel asked).
#   acked_lost  acknowledged ids missing on the final primary.
#   set_ok_lost accepted (SET OK) ids missing on the final primary.
#
# Tools:
#   hapair            heartbeat 100ms, lease 700ms (the defaults)
#   hapair-tuned      heartbeat 15ms, lease 150ms
#   sentinel-default  down-after-milliseconds 30000 (Sentinel's default),
#                     failover-timeout 180000 (default)
#   sentinel-1000ms   down-after-milliseconds 1000, failover-timeout 10000
# Faults:
#   redis_kill9  kill -9 of the primary's redis-server (not restarted
#                within the trial)
#   linkdown     the primary's eth0 goes down
#
# Sentinel-default trials need more than 30 s each (window 45 s).  If
# TRIALS of every tool would take longer than BENCH_BUDGET_S (1500 s),
# sentinel-default runs fewer trials (at least 1) and says so.
#
# Environment (defaults in brackets):
#   TRIALS [5]  BENCH_TOOLS [all four]  BENCH_FAULTS [both]
#   BENCH_PRE_MS [1000]  BENCH_WINDOW_MS [per tool: 5000 hapair,
#   3000 hapair-tuned, 45000 sentinel-default, 8000 sentinel-1000ms]
#   BENCH_BUDGET_S [1500]  SENTINEL_DEFAULT_TRIALS [from the budget]
#   HAPAIR_HB [100ms] HAPAIR_LEASE [700ms]
#   HAPAIR_TUNED_HB [15ms] HAPAIR_TUNED_LEASE [150ms]
#   BUILD [<repo>/build]  HAPAIR [$BUILD/hapair]  TOOLS [$BUILD]
#   BENCH_OUT [$BUILD/bench]
#
# Output: a table on stdout; $BENCH_OUT/redis_failover.json, a list of
# {"tool","fault","trials","outage_ms":{"min","median","max"},
#  "dual_holder_samples","dual_holder_ms","acked_lost", ...} (dual
# holders and losses summed over the trials); $BENCH_OUT/
# redis_trials.jsonl, one line per trial.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/sys/lib_redis.sh
source "$BENCH_DIR/../tests/sys/lib_redis.sh"

TRIALS=${TRIALS:-5}
BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned sentinel-default sentinel-1000ms}
BENCH_FAULTS=${BENCH_FAULTS:-redis_kill9 linkdown}
BENCH_PRE_MS=${BENCH_PRE_MS:-1000}
BENCH_BUDGET_S=${BENCH_BUDGET_S:-1500}
BENCH_OUT=${BENCH_OUT:-$HP_BUILD/bench}
HAPAIR_HB=${HAPAIR_HB:-100ms}
HAPAIR_LEASE=${HAPAIR_LEASE:-700ms}
HAPAIR_TUNED_HB=${HAPAIR_TUNED_HB:-15ms}
HAPAIR_TUNED_LEASE=${HAPAIR_TUNED_LEASE:-150ms}
SENTINEL_PORT=26379
MASTER_NAME=hp
WAIT_MS=100
START_TIMEOUT_MS=30000
PRIMARY=

# Recovery window after the fault, per tool: well beyond the expected
# failover, so a slow one is measured, not cut off.
window_ms()
{
	if [[ -n ${BENCH_WINDOW_MS:-} ]]; then
		echo "$BENCH_WINDOW_MS"
		return
	fi
	case $1 in
	hapair) echo 5000 ;;
	hapair-tuned) echo 3000 ;;
	sentinel-default) echo 45000 ;;
	sentinel-1000ms) echo 8000 ;;
	esac
}

# Rough seconds per trial (start-up, pre-fault time, window, teardown),
# for the time budget only.
trial_cost_s()
{
	echo $(($(window_ms "$1") / 1000 + 7))
}

# ---- Redis Sentinel -----------------------------------------------------

# sentinel_conf NODE PROFILE - a sentinel config in a writable file
# (Sentinel rewrites it with what it learns).
sentinel_conf()
{
	local node=$1 down=30000 failover=180000 dir
	if [[ $2 == fast ]]; then
		down=1000
		# Long enough for one promotion, short enough that a failed
		# attempt is retried within the trial's window.
		failover=10000
	fi
	dir=$HP_TMP/sentinel-$node
	mkdir -p "$dir"
	cat >"$dir/sentinel.conf" <<-EOF
		port $SENTINEL_PORT
		bind $(node_addr "$node") 127.0.0.1
		protected-mode no
		daemonize no
		dir $dir
		sentinel resolve-hostnames no
		sentinel monitor $MASTER_NAME $(node_addr a) $REDIS_PORT 2
		sentinel down-after-milliseconds $MASTER_NAME $down
		sentinel failover-timeout $MASTER_NAME $failover
		sentinel parallel-syncs $MASTER_NAME 1
	EOF
}

sentinel_cli()
{
	in_ns "$1" timeout 2 redis-cli -h 127.0.0.1 -p "$SENTINEL_PORT" \
		"${@:2}"
}

# sentinel_knows_all NODE - NODE's sentinel sees the replica and the
# two other sentinels (until then a failover cannot be agreed on).
sentinel_knows_all()
{
	local out
	out=$(sentinel_cli "$1" SENTINEL master "$MASTER_NAME") || return 1
	awk 'NR % 2 == 1 { k = $0; next }
		k == "num-slaves" { s = $0 }
		k == "num-other-sentinels" { o = $0 }
		END { exit !(s == 1 && o == 2) }' <<<"$out"
}

# The node whose Redis the sentinels of a live node name as master.
sentinel_master_node()
{
	local n out addr
	for n in w b a; do
		out=$(sentinel_cli "$n" SENTINEL get-master-addr-by-name \
			"$MASTER_NAME" 2>/dev/null) || continue
		addr=$(head -n 1 <<<"$out")
		case $addr in
		"$(node_addr a)") echo a; return 0 ;;
		"$(node_addr b)") echo b; return 0 ;;
		esac
	done
	return 1
}

sentinel_start()
{
	local profile=$1 n
	redis_cli b REPLICAOF "$(node_addr a)" "$REDIS_PORT" >/dev/null
	wait_for "b's Redis follows a's" 10000 redis_follows b a
	for n in a b w; do
		sentinel_conf "$n" "$profile"
		bg_start "sentinel-$n" "$n" redis-sentinel \
			"$HP_TMP/sentinel-$n/sentinel.conf"
	done
	for n in a b w; do
		wait_for "sentinel on $n knows the replica and 2 sentinels" \
			20000 sentinel_knows_all "$n"
	done
}

# ---- the tool switch: the only place where tools differ ---------------

# ha_start TOOL - start the tool; sets PRIMARY, the node whose Redis is
# the master.
ha_start()
{
	case $1 in
	hapair | hapair-tuned)
		if [[ $1 == hapair ]]; then
			hp_conf_redis "$HAPAIR_HB" "$HAPAIR_LEASE"
		else
			hp_conf_redis "$HAPAIR_TUNED_HB" "$HAPAIR_TUNED_LEASE"
		fi
		start_witness
		start_agent a
		start_agent b
		wait_one_primary "$START_TIMEOUT_MS"
		wait_for "$1: the standby's Redis follows the primary's" 10000 \
			redis_pair_ok "$HP_PRIMARY"
		PRIMARY=$HP_PRIMARY
		;;
	sentinel-default)
		sentinel_start default
		PRIMARY=a
		;;
	sentinel-1000ms)
		sentinel_start fast
		PRIMARY=a
		;;
	esac
}

# writer_args TOOL - how the writer reaches the master, and what counts
# as acknowledged.
writer_args()
{
	local n list=''
	case $1 in
	hapair*) echo "--wait-ms $WAIT_MS" ;;
	sentinel*)
		for n in a b w; do
			list+=${list:+,}$(node_addr "$n"):$SENTINEL_PORT
		done
		echo "--no-wait --sentinel $list --master-name $MASTER_NAME"
		;;
	esac
}

# The node whose Redis is the primary at the end of the trial.
final_primary()
{
	case $1 in
	hapair*) vip_holders ;;
	sentinel*) sentinel_master_node ;;
	esac
}

inject()
{
	case $1 in
	redis_kill9) kill_redis "$2" KILL ;;
	linkdown) link_down "$2" ;;
	esac
}

undo()
{
	case $1 in
	redis_kill9) ;;
	linkdown) link_up "$2" ;;
	esac
}

# lost NODE IDS_FILE - ids of the file missing on NODE's Redis ("null" if
# it cannot be read).
lost()
{
	local res
	[[ -n $1 ]] || { echo null; return; }
	res=$(writer_check w "$1" "$2" 2>/dev/null) || { echo null; return; }
	jq -r .missing <<<"$res"
}

# ---- one trial ------------------------------------------------------------

# run_trial TOOL FAULT N - runs in a process of its own (--trial): a
# failed trial is recorded and cleaned up, and the bench goes on.
run_trial()
{
	local tool=$1 fault=$2 n=$3 primary final window total hapair=0
	local acked_lost set_lost
	local -a wargs
	HP_TMP=$(mktemp -d /tmp/hapair-rbench.XXXXXX)
	window=$(window_ms "$tool")
	total=$((BENCH_PRE_MS + window))
	[[ $tool == hapair* ]] && hapair=1
	topo_up
	start_redis a
	start_redis b
	ha_start "$tool"
	primary=$PRIMARY
	read -ra wargs <<<"$(writer_args "$tool")"

	if ((hapair)); then
		vipwatch_start $((total + 10000))
	fi
	writer_start w "$total" "${wargs[@]}"
	# The timeline, not a synchronisation: steady writes before the
	# fault.  The writer stamps the fault itself (SIGUSR1).
	sleep "$(printf '%d.%03d' $((BENCH_PRE_MS / 1000)) \
		$((BENCH_PRE_MS % 1000)))"
	bg_signal w USR1
	inject "$fault" "$primary"
	writer_wait w $((window + 5000))
	if ((hapair)); then
		vipwatch_stop
	fi
	final=$(final_primary "$tool") || final=''
	[[ $final == a || $final == b ]] || final=''
	acked_lost=$(lost "$final" "$HP_TMP/w.ids")
	set_lost=$(lost "$final" "$HP_TMP/w.ids.set")
	undo "$fault" "$primary"

	jq -nc --arg tool "$tool" --arg fault "$fault" --argjson n "$n" \
		--arg primary "$primary" --arg final "$final" \
		--argjson acked_lost "$acked_lost" \
		--argjson set_lost "$set_lost" --argjson hapair "$hapair" \
		--slurpfile w "$HP_TMP/w.json" \
		--slurpfile v <(if ((hapair)); then
			cat "$HP_TMP/vipwatch.json"; else echo null; fi) '
		{tool: $tool, fault: $fault, trial: $n, ok: true,
		 primary: $primary, final_primary: $final,
		 outage_ms: $w[0].set_ok_outage_after_fault_ms,
		 acked_outage_ms: $w[0].outage_after_fault_ms,
		 fault_ms: $w[0].fault_ms, mode: $w[0].mode,
		 sent: $w[0].sent, set_ok: $w[0].set_ok, acked: $w[0].acked,
		 errors: $w[0].errors,
		 acked_lost: $acked_lost, set_ok_lost: $set_lost,
		 servers: [$w[0].servers[] | {addr, acked}],
		 dual_holder_samples:
			(if $hapair == 1 then $v[0].dual_holder_samples
			 else null end),
		 dual_holder_ms:
			(if $hapair == 1 then $v[0].dual_holder_ms
			 else null end)}' >>"$BENCH_OUT/redis_trials.jsonl"
	tail -n 1 "$BENCH_OUT/redis_trials.jsonl" | jq -r '
		"# \(.tool) \(.fault) #\(.trial): primary \(.primary) -> "
		+ "\(.final_primary), outage \(.outage_ms) ms, acked "
		+ "\(.acked) (lost \(.acked_lost)), accepted \(.set_ok) "
		+ "(lost \(.set_ok_lost)), dual holders "
		+ "\(.dual_holder_samples) samples / \(.dual_holder_ms) ms"'
}

# ---- main ---------------------------------------------------------------

preflight()
{
	local tool fault
	[[ $EUID == 0 ]] || bail "the bench needs root (namespaces)"
	[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || bail "TRIALS: expected a number"
	command -v redis-server >/dev/null ||
		bail "redis-server is not installed"
	for tool in $BENCH_TOOLS; do
		case $tool in
		hapair | hapair-tuned)
			[[ -x $HAPAIR ]] ||
				bail "$tool: no hapair binary at $HAPAIR" \
					"(build it, or set BENCH_TOOLS)"
			;;
		sentinel-default | sentinel-1000ms)
			command -v redis-sentinel >/dev/null ||
				bail "$tool: redis-sentinel is not installed"
			;;
		*) bail "unknown tool '$tool' in BENCH_TOOLS" ;;
		esac
	done
	for fault in $BENCH_FAULTS; do
		case $fault in
		redis_kill9 | linkdown) ;;
		*) bail "unknown fault '$fault' in BENCH_FAULTS" ;;
		esac
	done
	[[ -x $RWRITER && -x $TOOLS/vipwatch ]] ||
		bail "no rwriter/vipwatch in $TOOLS (build the tools)"
}

# trials_for TOOL - TRIALS, except that sentinel-default gets what is
# left of the time budget when every tool at TRIALS would exceed it.
trials_for()
{
	local tool total=0 others=0 nf t left
	local -a faults
	if [[ $1 != sentinel-default ]]; then
		echo "$TRIALS"
		return
	fi
	if [[ -n ${SENTINEL_DEFAULT_TRIALS:-} ]]; then
		echo "$SENTINEL_DEFAULT_TRIALS"
		return
	fi
	read -ra faults <<<"$BENCH_FAULTS"
	nf=${#faults[@]}
	for tool in $BENCH_TOOLS; do
		t=$((TRIALS * nf * $(trial_cost_s "$tool")))
		total=$((total + t))
		[[ $tool == sentinel-default ]] || others=$((others + t))
	done
	if ((total <= BENCH_BUDGET_S)); then
		echo "$TRIALS"
		return
	fi
	left=$(((BENCH_BUDGET_S - others) /
		(nf * $(trial_cost_s sentinel-default))))
	((left >= 1)) || left=1
	((left <= TRIALS)) || left=$TRIALS
	echo "$left"
}

record_failed()
{
	jq -nc --arg t "$1" --arg f "$2" --argjson n "$3" \
		'{tool: $t, fault: $f, trial: $n, ok: false}' \
		>>"$BENCH_OUT/redis_trials.jsonl"
	echo "# $1 $2 #$3: FAILED"
}

main()
{
	local tool fault n trials
	preflight
	mkdir -p "$BENCH_OUT"
	: >"$BENCH_OUT/redis_trials.jsonl"
	for tool in $BENCH_TOOLS; do
		trials=$(trials_for "$tool")
		if ((trials < TRIALS)); then
			echo "# $tool: $trials trials instead of $TRIALS, to" \
				"stay within ${BENCH_BUDGET_S} s (each trial" \
				"waits out the 30 s detection)"
		fi
		for fault in $BENCH_FAULTS; do
			for ((n = 1; n <= trials; n++)); do
				# A process per trial: its own EXIT trap tears
				# its network down even when the trial fails.
				if ! "$BASH" "$BENCH_DIR/redis_failover.sh" \
					--trial "$tool" "$fault" "$n"; then
					record_failed "$tool" "$fault" "$n"
				fi
			done
		done
	done
	echo
	python3 "$BENCH_DIR/redis_summary.py" \
		"$BENCH_OUT/redis_trials.jsonl" "$BENCH_OUT/redis_failover.json"
}

if [[ ${1:-} == --trial ]]; then
	shift
	run_trial "$@"
else
	main "$@"
fi
