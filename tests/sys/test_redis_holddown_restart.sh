#!/bin/bash
#
# test_redis_holddown_restart.sh - what the chaos runner found (SEED
# 20261124, trials 90 and 93): a primary that took over by failover is
# still within failover_hold_down when its Redis is killed -9 and
# started again at once, empty (no persistence).  The hold-down is
# there against flapping checks; a data store that does not answer at
# all is the primary's death.  Before the fix the primary stayed on, the
# empty Redis came back as a master, the standby's Redis resynced from
# it within milliseconds, and every acknowledged write was gone.
#
# Asserted: the in-sync standby takes over before the empty master is
# back; afterwards exactly one primary, zero acknowledged writes missing
# on it and on the other once caught up, never two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms (failover_hold_down 60 s).

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

standby_in_sync()
{
	[[ $(hp_field "$1" .replication.in_sync) == true ]]
}

redis_cluster_up 20ms 200ms
a=$HP_PRIMARY
b=$HP_STANDBY
writer_start w 120000 --wait-ms 200
wait_for "acknowledged writes reach $b's replica" 5000 redis_dbsize_ge "$b" 30

# A failover first: the new primary b is then within its hold-down.
kill_agent "$a" KILL
wait_for "$b holds the VIP alone" "$HP_FAILOVER_MS" holder_is "$b"
wait_for "$b reports primary" "$HP_FAILOVER_MS" role_is "$b" primary
start_agent "$a"
wait_for "$a's Redis follows $b" 20000 redis_follows "$a" "$b"
wait_for "$a is in sync" 10000 standby_in_sync "$a"
n=$(redis_dbsize "$b")
wait_for "$a receives new writes" 5000 redis_dbsize_ge "$a" $((n + 20))
echo "# $b is primary by failover (hold-down running), $a in sync"

# Within the hold-down: kill -9 of b's Redis, started again at once.
kill_redis "$b" KILL
start_redis "$b"
wait_for "$a holds the VIP alone" "$HP_FAILOVER_MS" holder_is "$a"
wait_for "$a reports primary" "$HP_FAILOVER_MS" role_is "$a" primary
ok "$a took over although $b was within its hold-down"
wait_for "$b's Redis follows $a" 20000 redis_follows "$b" "$a"
n=$(redis_dbsize "$a")
wait_for "$b receives new writes as replica" 5000 redis_dbsize_ge "$b" $((n + 20))
writer_stop w
wait_for "$b has caught up with $a" 10000 redis_caught_up "$a" "$b"

assert_eq "exactly one primary, holding the VIP alone" "$a" "$(sole_primary)"
writer_summary w
assert_no_acked_missing w "$a"
assert_no_acked_missing w "$b"
vipwatch_stop
assert_no_dual_holder
