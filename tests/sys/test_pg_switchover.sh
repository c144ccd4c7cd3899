#!/bin/bash
#
# test_pg_switchover.sh - planned switchover of a PostgreSQL pair (sync
# replication) under a writer inserting numbered rows through the VIP:
# `hapair switchover` on the primary quiesces its server (read-only,
# client sessions ended, WAL still streaming), the standby reaches the
# final position and takes over; the old primary rejoins as a standby
# by itself (pg_rewind past its shutdown checkpoint, the WAL kept
# aside); then back again.  Asserted each way: the new primary alone
# holds the VIP and is out of recovery, the old one streams from it,
# zero acknowledged rows missing on either, and never two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

# switch FROM TO - hapair switchover on FROM; TO takes over, FROM
# rejoins as its standby, rows flow through TO and reach FROM.
switch()
{
	local from=$1 to=$2 n
	switchover_on "$from" "$to"
	wait_for "$to's server is out of recovery" 10000 pg_is_primary "$to"
	wait_for "$from's server streams from $to (rejoined by itself)" \
		30000 pg_streams_from "$from" "$to"
	n=$(pg_rows "$to")
	wait_for "new rows through $to reach $from" 10000 \
		pg_rows_ge "$from" $((n + 20))
}

pg_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
pgw_start w 60000
wait_for "acknowledged rows reach $s" 10000 pg_rows_ge "$s" 30

switch "$p" "$s"
switch "$s" "$p"

pgw_stop w
pgw_summary w
wait_for "$s has caught up with $p" 10000 pg_caught_up "$p" "$s"
pgw_assert_no_acked_missing w "$p"
pgw_assert_no_acked_missing w "$s"
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
vipwatch_stop
assert_no_dual_holder
