#!/bin/bash
#
# test_redis_async_lagtime.sh - async replication with a time bound,
# max_lag_on_failover = 1s (docs/config.md, Lag as a time).
#
#   a/b: primary P, standby S   writer on c: SET without WAIT (async)
#   w:   witness
#
# 1. Replication works: S's status reports how far behind it is in time,
#    well under the bound, although the busy primary is always a few
#    writes ahead of it.
# 2. S's replication is cut (Redis's port only) while P goes on taking
#    writes: S's time behind grows past 1 s.  P's link goes down: S is
#    healthy and hears the witness, but it is not promoted (25 leases),
#    and its status says why.  P comes back, still primary.
# 3. Replication heals and S catches up: its time behind is back under
#    the bound.  P's link goes down again: now S takes over.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

# lag_ms_below NODE MS - NODE's status knows its time behind, below MS.
lag_ms_below()
{
	local v
	v=$(hp_field "$1" '.replication.lag_ms') || return 1
	[[ $v =~ ^[0-9]+$ ]] && ((v < $2))
}

# lag_ms_above NODE MS - NODE is further behind than MS, or does not
# know how far (null: it never reached a position of this term).
lag_ms_above()
{
	local v
	v=$(hp_field "$1" '.replication.lag_ms') || return 1
	[[ $v == null ]] || { [[ $v =~ ^[0-9]+$ ]] && ((v > $2)); }
}

not_promoted()
{
	[[ $(vip_holders) != *"$1"* ]] && ! role_is "$1" primary
}

HP_REDIS_REPLICATION=async HP_REDIS_MAX_LAG=1s redis_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"

writer_start w 120000 --no-wait
wait_for "writes reach $s" 5000 redis_dbsize_ge "$s" 30
hold_for "$s stays within 1 s of $p while replication works" 2000 \
	lag_ms_below "$s" 1000
ok "$s is $(hp_field "$s" .replication.lag_ms) ms behind $p"

# 2. Cut off: P writes on, S falls behind in time.
cut_replication "$s" "$p"
wait_for "$s is more than 1 s behind" 10000 lag_ms_above "$s" 1000
ok "$s is $(hp_field "$s" .replication.lag_ms) ms behind;" \
	"$p holds $(redis_dbsize "$p") keys, $s $(redis_dbsize "$s")"
link_down "$p"
hold_for "$s is not promoted past max_lag_on_failover (25 leases)" \
	"$(leases 25)" not_promoted "$s"
assert_true "$s's status says why it cannot take over" \
	hp_field "$s" '.failover_blocked_by | test("max_lag_on_failover")'
link_up "$p"
wait_for "$p is the one primary again" "$HP_FAILOVER_MS" primary_is "$p"

# 3. Healed and caught up: failover works again.
heal_replication "$s"
wait_for "$s's Redis follows $p again" 20000 redis_follows "$s" "$p"
wait_for "$s is back within 1 s" 10000 lag_ms_below "$s" 1000
ok "$s is $(hp_field "$s" .replication.lag_ms) ms behind"
link_down "$p"
wait_for "$s takes over" "$HP_FAILOVER_MS" primary_is "$s"
link_up "$p"
wait_for "$p's Redis follows $s" 20000 redis_follows "$p" "$s"
writer_stop w
writer_summary w
assert_eq "exactly one primary, holding the VIP alone" "$s" \
	"$(sole_primary)"

vipwatch_stop
assert_no_dual_holder
