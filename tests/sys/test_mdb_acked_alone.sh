#!/bin/bash
#
# test_mdb_acked_alone.sh - commits a MariaDB primary acknowledged while
# it wrote without a standby (sync relaxed under the witness's record)
# survive a crash of its server: the restart does not run the semi-sync
# replica recovery that rolls back transactions no standby acknowledged
# (MDEV-21117), because here the clients were told they committed.
#
# The standby's agent is stopped and its server killed; the witness
# records it out of sync and the primary P goes on alone.  Asserted:
#   - before semi-sync is turned off, P's agent writes the marker
#     <state_dir>/P.db.acked-alone;
#   - a writer's commits are acknowledged by P alone; P's mariadbd is
#     killed with SIGKILL mid-stream; P's agent brings the server back
#     and P is the writable primary again, with every acknowledged row,
#     and no "rolled back" event;
#   - the standby's agent is started again: it replicates from P, back
#     in sync, has every acknowledged row, and the marker is removed
#     (semi-sync on again and FLUSH ENGINE LOGS done).
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

primary_writable()
{
	role_is "$1" primary && mdb_writable "$1"
}

mdb_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
marker=$HP_TMP/state/$p.$MDB_RES.acked-alone
echo "# primary $p, standby $s"
assert_true "no acked-alone marker while $s is in sync" test ! -e "$marker"

stop_agent "$s"
mdb_kill9 "$s"
wait_for "$p writes without a replica (the witness recorded $s out of sync)" \
	10000 mdb_event_matches "$p" 'standby out of sync'
wait_for "$p's agent wrote $marker" 5000 test -e "$marker"

mdbw_start w 60000
wait_for "200 rows acknowledged by $p alone" 15000 mdb_rows_ge "$p" 200
mdb_kill9 "$p"
wait_for "$p reports primary with its server writable again" 30000 \
	primary_writable "$p"
n=$(mdb_rows "$p")
wait_for "$p takes new rows" 10000 mdb_rows_ge "$p" $((n + 20))
mdbw_stop w
mdbw_summary w
assert_ge "commits were acknowledged" 200 "$(mdbw_q w .acked)"
mdbw_assert_no_acked_missing w "$p"
assert_false "no event of $p says crash recovery rolled back its commits" \
	mdb_event_matches "$p" 'rolled back'

start_agent_mdb "$s"
wait_for "$s replicates from $p again" 30000 mdb_replicates_from "$s" "$p"
wait_for "$s reports its link up (in sync)" 20000 res_link_up "$s"
wait_for "$p removed the marker (semi-sync on again, engine logs flushed)" \
	10000 test ! -e "$marker"
wait_for "$s has caught up with $p" 10000 mdb_caught_up "$p" "$s"
mdbw_assert_no_acked_missing w "$s"
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
