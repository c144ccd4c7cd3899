#!/bin/bash
#
# test_mdb_switchover.sh - planned switchover of a MariaDB pair
# (semi-synchronous replication) under a writer inserting numbered rows
# through the VIP: `hapair switchover` on the primary quiesces its
# server (read_only = 1, client connections ended), the standby applies
# the last transactions and takes over; the old primary rejoins as a
# replica by GTID, read-only in place (nothing to truncate: it handed
# over); then back again.  Asserted each way: the new primary alone
# holds the VIP, is writable and has no replication left configured,
# the old one is read-only and replicates from it; at the end zero
# acknowledged rows missing on either server, no errant transaction
# reported, and never two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

# switch FROM TO - hapair switchover on FROM; TO takes over, FROM
# rejoins as its replica, rows flow through TO and reach FROM.
switch()
{
	local from=$1 to=$2 n
	switchover_on "$from" "$to"
	wait_for "$to's server is writable" 10000 mdb_writable "$to"
	wait_for "$from's server replicates from $to (rejoined by itself)" \
		30000 mdb_replicates_from "$from" "$to"
	assert_true "$from's server is read-only" mdb_read_only "$from"
	wait_for "$to has no replication configured" 5000 \
		mdb_slave_field_is "$to" Master_Host "" &&
		ok "$to has no replication configured (RESET SLAVE ALL ran)"
	n=$(mdb_rows "$to")
	wait_for "new rows through $to reach $from" 10000 \
		mdb_rows_ge "$from" $((n + 20))
}

mdb_slave_field_is()
{
	local v
	v=$(mdb_slave_field "$1" "$2") || return 1
	[[ $v == "$3" ]]
}

mdb_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
mdbw_start w 60000
wait_for "acknowledged rows reach $s" 10000 mdb_rows_ge "$s" 30

switch "$p" "$s"
switch "$s" "$p"

mdbw_stop w
mdbw_summary w
wait_for "$s has caught up with $p" 10000 mdb_caught_up "$p" "$s"
mdbw_assert_no_acked_missing w "$p"
mdbw_assert_no_acked_missing w "$s"
assert_eq "$p holds the same rows as $s" "$(mdb_rows "$p")" \
	"$(mdb_rows "$s")"
for n in a b; do
	assert_eq "no errant transaction reported on $n" "" \
		"$(mdb_events "$n" | grep -i errant || true)"
done
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
vipwatch_stop
assert_no_dual_holder
