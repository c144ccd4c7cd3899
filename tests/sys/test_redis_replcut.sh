#!/bin/bash
#
# test_redis_replcut.sh - a standby whose Redis cannot reach the
# primary's must not be promoted with stale data.
#
#   a/b: primary P, standby S   S's nftables drop TCP to/from P:6379
#   w:   witness                (heartbeats and votes still flow)
#
# The replication link is cut (only Redis port 6379 between the
# servers).  In sync mode the primary may accept writes without a
# replica only after the witness has recorded S as not in sync
# (DESIGN.md, Data protection): we wait for that record, and for P to
# hold writes S lacks.  Then P's link goes down.  S is healthy and hears
# the witness, but the witness's record keeps it out: no promotion for
# many leases, no VIP anywhere.  P comes back and is primary again; the
# cut heals and S resyncs.  Every write P accepted (SET answered OK, not
# only the WAIT-acknowledged ones) is on P and then on S: nothing was
# lost to a stale promotion.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

# How soon the witness must record the cut-off standby as out of sync:
# many times hapair's 1 s replica lag limit plus a heartbeat.
RECORD_MS=10000

# S is neither primary nor VIP holder.
not_promoted()
{
	[[ $(vip_holders) != *"$1"* ]] && ! role_is "$1" primary
}

redis_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
wait_for "the witness records $s in sync" 5000 witness_synced "$s"

# --wait-ms 20: without a replica each WAIT blocks until Redis's next
# timer tick (~100 ms), so the writer still sends ~10 writes a second.
writer_start w 120000 --wait-ms 20
wait_for "acknowledged writes reach $s" 5000 redis_dbsize_ge "$s" 30

cut_replication "$s" "$p"
# hapair's write guard (min-replicas-max-lag 1) stops writes on $p about
# a second after the cut; the witness should record $s out of sync soon
# after, so that $p may take writes alone.  If that takes longer than
# RECORD_MS, it is a failure, but the test goes on (bounded by Redis's
# own repl-timeout, 60 s, which ends a silent link at the latest) to
# check the part that matters most: no stale promotion.
if ! wait_for "the witness records $s as not in sync" "$RECORD_MS" \
	witness_not_synced "$s"; then
	echo "# $s's Redis says: master_link_status" \
		"$(redis_field "$s" master_link_status), last I/O" \
		"$(redis_field "$s" master_last_io_seconds_ago) s ago;" \
		"waiting for Redis's repl-timeout"
	wait_for "the witness records $s as not in sync at all" 70000 \
		witness_not_synced "$s"
fi
n_cut=$(redis_dbsize "$p")
wait_for "$p accepts writes $s does not have" 10000 \
	redis_dbsize_ge "$p" $((n_cut + 10))
ok "$p holds $(redis_dbsize "$p") keys, $s $(redis_dbsize "$s")"

link_down "$p"
hold_for "$s is not promoted with stale data (25 leases)" \
	"$(leases 25)" not_promoted "$s"
assert_true "$s's status says why it cannot take over" \
	hp_field "$s" '.failover_blocked_by | test("not in sync")'

link_up "$p"
wait_for "$p is the one primary again" "$HP_FAILOVER_MS" primary_is "$p"
wait_for "$p's Redis is master" 5000 redis_is_master "$p"
heal_replication "$s"
wait_for "$s's Redis follows $p again" 20000 redis_follows "$s" "$p"
writer_stop w
wait_for "$s has caught up with $p" 10000 redis_caught_up "$p" "$s"

writer_summary w
assert_ge "writes were accepted while $s was cut off" 1 \
	"$(writer_q w .set_ok)"
assert_no_acked_missing w "$p"
assert_no_acked_missing w "$p" "$HP_TMP/w.ids.set"
assert_no_acked_missing w "$s" "$HP_TMP/w.ids.set"
assert_eq "exactly one primary, holding the VIP alone" "$p" \
	"$(sole_primary)"

vipwatch_stop
assert_no_dual_holder
assert_eq "$s never held the VIP" 0 "$(vip_gains "$s")"
