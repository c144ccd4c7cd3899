#!/bin/bash
#
# test_pg_standby_kill.sh - PostgreSQL under hapair, sync replication,
# fault: the standby dies (kill -9 of its agent and of its postmaster).
#
# Asserted:
#   - while the standby is gone, commits go on: the witness records the
#     standby as not in sync, the primary then clears
#     synchronous_standby_names (only then: commits wait until the
#     record), and rows acknowledged after the record keep coming;
#   - every acknowledged row is on the primary;
#   - a later failover to that stale standby is refused: the primary is
#     killed too (agent kill -9, its guard fences PostgreSQL; postmaster
#     kill -9), the standby's PostgreSQL is started again as it was (a
#     stale standby with a position) and its agent too; for 25 leases
#     no node becomes primary, no one holds the VIP, and the stale
#     server stays in recovery.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

pg_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s; fault: the standby dies"

pgw_start w 60000
wait_for "acknowledged rows reach $s" 10000 pg_rows_ge "$s" 30
assert_eq "$p's commits wait for $s (synchronous_standby_names)" "\"$s\"" \
	"$(pg_psql "$p" "SHOW synchronous_standby_names")"

kill_agent "$s" KILL
pg_kill9 "$s"
wait_for "the witness records $s as not in sync" 10000 witness_not_synced "$s"
n=$(pg_rows "$p")
wait_for "commits go on without $s (50 more rows acknowledged)" 10000 \
	pg_rows_ge "$p" $((n + 50))
assert_eq "$p's commits no longer wait for a standby" "" \
	"$(pg_psql "$p" "SHOW synchronous_standby_names")"
pgw_stop w
pgw_summary w
pgw_assert_no_acked_missing w "$p"

# Now the primary dies too; the stale standby comes back.
kill_agent "$p" KILL
if pg_pid "$p" >/dev/null; then
	pg_kill9 "$p"
fi
in_ns "$s" runuser -u postgres -- "$PG_BIN/pg_ctl" start -D "$(pg_dir "$s")" \
	-l "$PG_ROOT/$s.log" -o "-p $PG_PORT -k $(pg_sock "$s")" -w -t 30 \
	>/dev/null || bail "pg_ctl start of the stale standby on $s failed"
start_agent_pg "$s"
hold_for "no failover to the stale standby $s (25 leases)" "$(leases 25)" \
	no_primary
assert_true "$s's server is still in recovery" pg_in_recovery "$s"
assert_true "the witness still records $s as not in sync" \
	witness_not_synced "$s"
echo "# $s says: $(hp_field "$s" '.role + ": " + (.resources.detail // "")')"
vipwatch_stop
assert_no_dual_holder
