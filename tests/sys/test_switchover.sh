#!/bin/bash
#
# test_switchover.sh - planned switchover of a Redis pair under a
# sync-mode writer (SET + WAIT 1 200 through the VIP):
#   1. `hapair switchover` on the primary: the standby is primary in a
#      new term, the old primary's Redis follows it, zero acknowledged
#      writes missing on either, never two VIP holders; events on both
#      sides (the new primary's with its phases);
#   2. back again through POST /v1/switchover {"to": NODE};
#   3. a switchover whose standby cannot catch up (its Redis frozen by
#      SIGSTOP while writes go on) aborts at switchover_timeout with
#      409: the primary stays, takes writes again, nothing lost;
#   4. refusals: on the standby, to an unknown node, while paused.
#
# Timers: heartbeat 20ms, lease 200ms, switchover_timeout 1s.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"
# shellcheck source=tests/sys/lib_api.sh
source "$(dirname "$0")/lib_api.sh"

# The primary's replication offset is past what the standby reported.
writes_ahead()
{
	local mine theirs
	mine=$(redis_field "$1" master_repl_offset) || return 1
	theirs=$(hp_field "$1" '.replication.standby_position // 0') ||
		return 1
	((mine > theirs))
}

topo_up
vipwatch_start 600000
start_redis a
start_redis b
hp_conf_redis 20ms 200ms
sed -i 's/^failover_hold_down = .*/&\nswitchover_timeout = 1s/' "$HP_CONF"
hp_api_conf
start_witness
start_agent a
start_agent b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
wait_for "$HP_PRIMARY's Redis is master, $HP_STANDBY's follows it" \
	10000 redis_pair_ok "$HP_PRIMARY"
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"

writer_start w 120000 --wait-ms 200
wait_for "acknowledged writes reach $s's replica" 5000 \
	redis_dbsize_ge "$s" 30
term0=$(hp_term "$p")

# ---- 1. CLI switchover ------------------------------------------------
wait_for "failover possible on $p" 5000 hp_field "$p" \
	'.failover_possible == true'
t0=$(now_ms)
if out=$(hp_cli "$p" switchover 2>&1); then
	ok "hapair switchover on $p: $out ($(($(now_ms) - t0)) ms)"
else
	not_ok "hapair switchover on $p failed: $out"
fi
wait_for "$s is the primary holding the VIP alone" 5000 primary_is "$s"
assert_true "the term went up" test "$(hp_term "$s")" -gt "$term0"
wait_for "$p's Redis follows $s" 10000 redis_follows "$p" "$s"
assert_true "$p recorded the switchover as done" \
	event_seen "$p" switchover "switchover to $s done"
hp_cli "$s" events --json -n 256 >"$HP_TMP/events-$s.json"
assert_true "$s recorded taking over by switchover, with phases" \
	jq -e '[.events[] | select(.kind == "switchover" and .phases_ms)]
		| length > 0' "$HP_TMP/events-$s.json"
wait_for "new acknowledged writes through $s" 5000 \
	redis_dbsize_ge "$p" $(($(redis_dbsize "$s") + 10))

# ---- 2. API switchover back -------------------------------------------
code=$(api_post "$s" /v1/switchover "{\"to\": \"$p\"}")
assert_status "POST /v1/switchover to $p on $s" 200 "$code"
wait_for "$p is the primary again" 5000 primary_is "$p"
wait_for "$s's Redis follows $p" 10000 redis_follows "$s" "$p"

# ---- 3. aborted switchover ----------------------------------------------
wait_for "failover possible on $p" 5000 hp_field "$p" \
	'.failover_possible == true'
wait_for "writes flow through $p" 5000 redis_dbsize_ge "$s" \
	$(($(redis_dbsize "$p") + 5))
# The standby's Redis freezes (SIGSTOP) while writes go on: it cannot
# reach the primary's final position.
kill_redis "$s" STOP
wait_for "$p's writes run ahead of $s's frozen replica" 2000 \
	writes_ahead "$p"
t0=$(now_ms)
code=$(api_post "$p" /v1/switchover)
elapsed=$(($(now_ms) - t0))
assert_status "switchover to a frozen standby is refused or aborted" 409 \
	"$code"
assert_true "it names why" grep -qE "aborted|cannot switch" "$HP_TMP/body"
echo "# answered after $elapsed ms"
assert_true "$p is still the primary" primary_is "$p"
kill_redis "$s" CONT
wait_for "$p takes acknowledged writes again" 10000 redis_dbsize_ge "$s" \
	$(($(redis_dbsize "$p") + 10))

# ---- 4. refusals ------------------------------------------------------------
code=$(api_post "$s" /v1/switchover)
assert_status "switchover asked on the standby" 409 "$code"
code=$(api_post "$p" /v1/switchover '{"to": "nosuch"}')
assert_status "switchover to an unknown node" 400 "$code"
code=$(api_post "$p" /v1/switchover "{\"to\": \"$p\"}")
assert_status "switchover to the primary itself" 409 "$code"
code=$(api_post "$p" /v1/pause)
assert_status "pause" 200 "$code"
code=$(api_post "$p" /v1/switchover)
assert_status "switchover while paused" 409 "$code"
assert_true "it says paused" grep -q paused "$HP_TMP/body"
code=$(api_post "$s" /v1/resume)
assert_status "resume on the standby" 200 "$code"
wait_for "$p sees the resume" 2000 hp_field "$p" '.paused == false'

# ---- the whole run --------------------------------------------------------
writer_stop w
wait_for "$s has caught up with $p" 10000 redis_caught_up "$p" "$s"
writer_summary w
# A sanity bound, not a rate: how many slots a loaded machine gets
# through is timing (the real checks are the read-backs below).
assert_ge "writes were acknowledged" 20 "$(writer_q w .acked)"
assert_no_acked_missing w "$p"
assert_no_acked_missing w "$s"
vipwatch_stop
assert_no_dual_holder
assert_true "agent a still runs" pid_alive "$(bg_pid agent-a)"
assert_true "agent b still runs" pid_alive "$(bg_pid agent-b)"
