#!/bin/bash
#
# switchover.sh - the write pause of a planned switchover of a Redis
# pair, as a client sees it: hapair's `hapair switchover` side by side
# with Redis Sentinel's manual failover (`SENTINEL FAILOVER`), on the
# harness of bench/redis_failover.sh (`make bench`).
#
# The network, Redis and the tools are those of bench/lib_bench.sh:
# servers a and b run redis-server, w the witness (and a sentinel), the
# client c runs rwriter, one SET every 10 ms, each id recorded when it
# is acknowledged.
#
#   hapair, hapair-tuned  the agents manage replication (sync mode) and
#       the VIP; the writer goes through the VIP and takes a write as
#       acknowledged when WAIT 1 100 answers >= 1.  The move:
#       `hapair switchover --to <standby>` in the primary's namespace.
#       It stops writes on the primary (CLIENT PAUSE WRITE), waits until
#       the standby reports exactly the primary's final replication
#       offset, hands over in a new term (the VIP moves, gratuitous
#       ARP), and answers when the standby leads; the old primary
#       rejoins as its replica.
#   sentinel-1000ms  b made a replica of a by hand, three sentinels
#       (a, b, w; quorum 2; down-after-milliseconds 1000); the writer
#       asks the sentinels for the master on every (re)connect and takes
#       a write as acknowledged when SET answers OK.  The move:
#       `SENTINEL FAILOVER hp` asked of the sentinel on w (a forced
#       failover without agreement, answered at once; the sentinel
#       promotes b and later turns a into b's replica).
#
# Method, for each tool and trial, from a fresh network:
#   1. start Redis and the tool; wait until steady: one master with its
#      replica linked (hapair: the primary says failover_possible, i.e.
#      the standby is in sync and fit; Sentinel: every sentinel knows
#      the replica and the two other sentinels);
#   2. start the writer (and vipwatch, for hapair); after BENCH_PRE_MS
#      mark the moment in the writer (SIGUSR1) and ask for the
#      switchover at once;
#   3. wait until the other node serves (hapair: it says primary and
#      alone holds the VIP, its Redis is master; Sentinel: the sentinels
#      name it and its Redis is master) and the old primary's Redis
#      follows it (until then a client still connected to the old one
#      may write there: Sentinel turns it into a replica only seconds
#      later), then let the writer run BENCH_WINDOW_MS more (the
#      recovery window: the writer finds the new primary,
#      acknowledgements resume);
#   4. stop the writer; read every acknowledged and every accepted id
#      back from the final primary (hapair: the VIP holder's Redis;
#      Sentinel: the master the sentinels name); for hapair, keep the
#      new primary's switchover event (phases_ms); tear down.
#
# Measures per trial (build/bench/switchover_trials.jsonl):
#   pause_ms        the longest stretch, ending after the mark, without
#                   an accepted write (SET answered OK): the client-
#                   visible write pause, the same measure for every tool
#                   (rwriter's set_ok_outage_after_fault_ms; a write
#                   blocked by CLIENT PAUSE counts from its send to the
#                   next accepted one)
#   acked_pause_ms  the same without an acknowledged write (hapair:
#                   WAIT 1 >= 1 needs the old primary back as replica;
#                   Sentinel: as pause_ms)
#   acked_lost      acknowledged ids missing on the final primary
#   set_ok_lost     accepted ids missing on the final primary
#   cli_ms          hapair: how long `hapair switchover` took, as the
#                   shell timed it; agent_ms: the agent's own elapsed_ms
#   serve_ms        from the request until the harness saw the other
#                   node serve (includes its polling, ~15 ms + status);
#                   rejoin_ms: until it saw the old primary's Redis
#                   follow the new one
#   new_first_ack_ms  from the mark to the first write acknowledged by
#                   the new primary (the writer's own clock)
#   phases_ms       hapair: the new primary's phases (elect, promote,
#                   vip, first_write)
# It is what a client with rwriter's timeouts sees (connect 100 ms,
# command 200 ms, WAIT 100 ms on top; with Sentinel, 100 ms per sentinel
# asked).  The issue's target: hapair's median pause under 300 ms.
#
# Environment (defaults in brackets):
#   TRIALS [5]  BENCH_TOOLS [hapair hapair-tuned sentinel-1000ms]
#   BENCH_PRE_MS [1000]  BENCH_WINDOW_MS [3000]
#   BENCH_SWITCH_TIMEOUT_MS [20000] (the longest wait for the new
#   primary)  HAPAIR_HB [100ms] HAPAIR_LEASE [700ms]
#   HAPAIR_TUNED_HB [15ms] HAPAIR_TUNED_LEASE [150ms]
#   BUILD [<repo>/build]  HAPAIR [$BUILD/hapair]  TOOLS [$BUILD]
#   BENCH_OUT [$BUILD/bench]  HP_KEEP [0; 1 keeps each trial's directory
#   with the agents' logs and events]
#
# Output: a table on stdout; $BENCH_OUT/switchover.json, a list of
# {"tool","fault":"switchover","trials","failed","outage_ms":{"min",
#  "median","max"},"outage_ms_trials","dual_holder_samples",
#  "dual_holder_ms","acked_lost","set_ok_lost","unreadable_trials",
#  "acked_outage_ms","cli_ms","agent_ms","new_first_ack_ms","serve_ms",
#  "rejoin_ms"} - the record of redis_failover.json, outage_ms being the
# write pause (pause_ms), acked_outage_ms the acknowledged one, the
# times as {"min","median","max"} or null; $BENCH_OUT/
# switchover_trials.jsonl, one line per trial.  Take the system tests'
# lock around it, as tests/sys/run does for each test:
#   flock /run/lock/hapair-systest bench/switchover.sh
#
# Reading Sentinel's figures: SENTINEL FAILOVER does not stop writes on
# the old master, and turns it into a replica only when it next sees it
# report the master role (seconds later).  A client connected to it goes
# on writing there - accepted, then lost when it resyncs from the new
# master (set_ok_lost) - and moves only when a command fails or it is
# disconnected.  A short pause there comes with lost writes; the time to
# the first write on the new master (new_first_ack_ms) shows the move.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib_bench.sh
source "$BENCH_DIR/lib_bench.sh"

BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned sentinel-1000ms}
BENCH_WINDOW_MS=${BENCH_WINDOW_MS:-3000}
BENCH_SWITCH_TIMEOUT_MS=${BENCH_SWITCH_TIMEOUT_MS:-20000}
TRIALS_FILE=$BENCH_OUT/switchover_trials.jsonl
CLI_MS=null
CLI_JSON=null

# ---- the switchover, per tool -------------------------------------------

# hapair's primary can hand over now (standby in sync and fit).
failover_possible()
{
	hp_field "$1" '.failover_possible == true'
}

# steady TOOL - what must hold before the switchover is asked for.
steady()
{
	case $1 in
	hapair*)
		wait_for "$1: failover possible on $PRIMARY" 10000 \
			failover_possible "$PRIMARY"
		;;
	sentinel*) ;;
	esac
}

# switch TOOL FROM TO - ask for the planned move; sets CLI_MS and
# CLI_JSON (hapair: the agent's answer).  A refusal ends the trial.
switch()
{
	local tool=$1 from=$2 to=$3 t0 out
	t0=$(now_ms)
	case $tool in
	hapair*)
		if ! out=$(in_ns "$from" timeout 60 "$HAPAIR" switchover \
			--to "$to" --json -c "$HP_CONF" --node "$from" 2>&1); then
			bail "$tool: hapair switchover on $from failed: $out"
		fi
		CLI_MS=$(($(now_ms) - t0))
		CLI_JSON=$(jq -c . <<<"$out") ||
			bail "$tool: hapair switchover answered no JSON: $out"
		jq -e '.ok == true' <<<"$CLI_JSON" >/dev/null ||
			bail "$tool: hapair switchover was refused: $out"
		;;
	sentinel*)
		out=$(sentinel_cli w SENTINEL FAILOVER "$MASTER_NAME" 2>&1) ||
			bail "$tool: SENTINEL FAILOVER failed: $out"
		[[ $out == OK ]] ||
			bail "$tool: SENTINEL FAILOVER answered '$out'"
		;;
	esac
}

# serves TOOL NODE - NODE is the primary clients reach, and its Redis
# takes writes.
serves()
{
	case $1 in
	hapair*) primary_is "$2" ;;
	sentinel*) [[ $(sentinel_master_node) == "$2" ]] ;;
	esac && redis_is_master "$2"
}

# save_events NODE - NODE's hapair events to $HP_TMP/events-NODE.json
# (kept with the trial's directory under HP_KEEP=1).
save_events()
{
	in_ns "$1" timeout 5 "$HAPAIR" events --json -n 256 -c "$HP_CONF" \
		--node "$1" >"$HP_TMP/events-$1.json" 2>/dev/null
}

# phases NODE - the phases of NODE's last switchover take-over, or null.
phases()
{
	save_events "$1" || { echo null; return; }
	jq -c '[.events[] | select(.kind == "switchover" and .phases_ms)
		| .phases_ms] | last' "$HP_TMP/events-$1.json"
}

# ---- one trial ------------------------------------------------------------

# run_trial TOOL N - runs in a process of its own (--trial): a failed
# trial is recorded and cleaned up, and the bench goes on.
run_trial()
{
	local tool=$1 n=$2 from to t0 serve_ms rejoin_ms ph=null
	bench_trial_start "$tool" $((BENCH_PRE_MS + BENCH_SWITCH_TIMEOUT_MS +
		BENCH_WINDOW_MS + 10000))
	from=$PRIMARY
	to=$(peer_of "$from")
	steady "$tool"
	bench_trial_mark
	t0=$(now_ms)
	switch "$tool" "$from" "$to"
	wait_for "$tool: $to serves after the switchover" \
		"$BENCH_SWITCH_TIMEOUT_MS" serves "$tool" "$to"
	serve_ms=$(($(now_ms) - t0))
	# Until the old primary follows, a client still connected to it may
	# write there (Sentinel leaves it master for seconds).
	wait_for "$tool: $from's Redis follows $to" \
		"$BENCH_SWITCH_TIMEOUT_MS" redis_follows "$from" "$to"
	rejoin_ms=$(($(now_ms) - t0))
	bench_sleep_ms "$BENCH_WINDOW_MS"
	writer_stop w
	bench_trial_end "$tool"
	if ((BENCH_HAPAIR)); then
		ph=$(phases "$to")
		save_events "$from" || true
	fi

	bench_trial_record "$TRIALS_FILE" "$tool" switchover "$n" "$(
		jq -c --argjson cli_ms "$CLI_MS" --argjson cli "$CLI_JSON" \
			--argjson serve_ms "$serve_ms" --argjson ph "$ph" \
			--argjson rejoin_ms "$rejoin_ms" \
			--arg to "$(node_addr "$to")" '
			.fault_ms as $mark |
			{pause_ms: .set_ok_outage_after_fault_ms,
			 acked_pause_ms: .outage_after_fault_ms,
			 cli_ms: $cli_ms, agent_ms: $cli.elapsed_ms,
			 serve_ms: $serve_ms, rejoin_ms: $rejoin_ms,
			 new_first_ack_ms: ([.servers[] | select(.addr == $to)
				| .first_ms] | first | if . == null then null
				else (. - $mark) * 1000 | round / 1000 end),
			 phases_ms: $ph}' "$HP_TMP/w.json")"
	tail -n 1 "$TRIALS_FILE" | jq -r '
		"# \(.tool) #\(.trial): \(.primary) -> \(.final_primary), "
		+ "pause \(.pause_ms) ms (acked \(.acked_pause_ms) ms), "
		+ "cli \(.cli_ms) ms, serving after \(.serve_ms) ms (first "
		+ "ack there \(.new_first_ack_ms) ms after the mark), old "
		+ "primary following after \(.rejoin_ms) ms, acked "
		+ "\(.acked) (lost \(.acked_lost)), accepted \(.set_ok) "
		+ "(lost \(.set_ok_lost)), dual holders "
		+ "\(.dual_holder_samples) samples"
		+ (if .phases_ms then ", phases \(.phases_ms | tojson)"
		   else "" end)'
	if [[ ${HP_KEEP:-0} == 1 ]]; then
		echo "# trial directory: $HP_TMP"
	fi
}

# ---- main ---------------------------------------------------------------

preflight()
{
	bench_preflight "$BENCH_TOOLS"
	[[ $BENCH_WINDOW_MS =~ ^[0-9]+$ ]] ||
		bail "BENCH_WINDOW_MS: expected milliseconds"
	[[ $BENCH_SWITCH_TIMEOUT_MS =~ ^[1-9][0-9]*$ ]] ||
		bail "BENCH_SWITCH_TIMEOUT_MS: expected milliseconds"
}

main()
{
	local tool n
	preflight
	mkdir -p "$BENCH_OUT"
	: >"$TRIALS_FILE"
	for tool in $BENCH_TOOLS; do
		for ((n = 1; n <= TRIALS; n++)); do
			# A process per trial: its own EXIT trap tears its
			# network down even when the trial fails.
			if ! "$BASH" "$BENCH_DIR/switchover.sh" --trial \
				"$tool" "$n"; then
				bench_record_failed "$TRIALS_FILE" "$tool" \
					switchover "$n"
			fi
		done
	done
	echo
	python3 "$BENCH_DIR/switchover_summary.py" "$TRIALS_FILE" \
		"$BENCH_OUT/switchover.json"
}

if [[ ${1:-} == --trial ]]; then
	shift
	run_trial "$@"
else
	main "$@"
fi
