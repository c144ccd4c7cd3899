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
# The tools, the writer's view of them and the frame of a trial are in
# bench/lib_bench.sh (bench/switchover.sh uses them too).
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
# shellcheck source=bench/lib_bench.sh
source "$BENCH_DIR/lib_bench.sh"

BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned sentinel-default sentinel-1000ms}
BENCH_FAULTS=${BENCH_FAULTS:-redis_kill9 linkdown}
BENCH_BUDGET_S=${BENCH_BUDGET_S:-1500}

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

# ---- the faults -----------------------------------------------------------

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

# ---- one trial ------------------------------------------------------------

# run_trial TOOL FAULT N - runs in a process of its own (--trial): a
# failed trial is recorded and cleaned up, and the bench goes on.
run_trial()
{
	local tool=$1 fault=$2 n=$3 window
	window=$(window_ms "$tool")
	bench_trial_start "$tool" $((BENCH_PRE_MS + window))
	bench_trial_mark
	inject "$fault" "$PRIMARY"
	writer_wait w $((window + 5000))
	bench_trial_end "$tool"
	undo "$fault" "$PRIMARY"

	bench_trial_record "$BENCH_OUT/redis_trials.jsonl" "$tool" "$fault" \
		"$n" "$(jq -c '{outage_ms: .set_ok_outage_after_fault_ms,
			acked_outage_ms: .outage_after_fault_ms}' \
			"$HP_TMP/w.json")"
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
	local fault
	bench_preflight "$BENCH_TOOLS"
	for fault in $BENCH_FAULTS; do
		case $fault in
		redis_kill9 | linkdown) ;;
		*) bail "unknown fault '$fault' in BENCH_FAULTS" ;;
		esac
	done
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
					bench_record_failed \
						"$BENCH_OUT/redis_trials.jsonl" \
						"$tool" "$fault" "$n"
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
