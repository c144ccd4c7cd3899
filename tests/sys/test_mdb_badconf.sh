#!/bin/bash
#
# test_mdb_badconf.sh - MariaDB misconfigured under hapair: what the
# standby's status and events say, and that it recovers once fixed.
#   1. the replication password no longer matches (ALTER USER on the
#      primary, the standby's binlog dump thread killed so it must log in
#      again): the standby's link goes down, its status detail and an
#      event name the refused login ("Access denied for user
#      'replicator'"); the witness records it out of sync and the
#      primary commits without it; once the password is back, the link
#      comes up again by itself;
#   2. binary logging is off on the standby (its agent stopped, its
#      server shut down, log_bin removed from its my.cnf, the agent
#      started, which starts the server): its status says "binary
#      logging is off" and it is unhealthy; the primary stays the one
#      primary.  Then log_bin is back, the agent restarted, and the
#      standby replicates again.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

link_down_now()
{
	[[ $(hp_field "$1" '.resources.link_up') == false ]]
}

# End NODE's binlog dump threads (the standby's replication connection),
# so the standby logs in again.
end_dump_threads()
{
	local id
	for id in $(mdb_sql "$1" "SELECT id FROM information_schema.PROCESSLIST
		WHERE command LIKE 'Binlog Dump%'"); do
		mdb_sql "$1" "KILL $id" >/dev/null 2>&1 || true
	done
}

# A commit on NODE returns (bounded by mdb_sql's 5 s).
commits()
{
	mdb_sql "$1" "INSERT IGNORE INTO test.hp_writes VALUES ('x', 1)"
}

mdb_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"

# ---- 1. wrong replication password -----------------------------------
mdb_sql "$p" "ALTER USER replicator@'%' IDENTIFIED BY 'not-what-$s-has'"
end_dump_threads "$p"
wait_for "$s reports its link down" 10000 link_down_now "$s"
wait_for "$s's status names the refused login" 15000 mdb_detail_matches "$s" \
	"Access denied for user 'replicator'"
ok "$s's status: $(hp_field "$s" .resources.detail | cut -c1-200)"
wait_for "an event of $s names the refused login" 5000 mdb_event_matches "$s" \
	"replication error on $s: .*Access denied for user 'replicator'"
wait_for "the witness records $s as not in sync" 10000 witness_not_synced "$s"
wait_for "$p commits without $s" 10000 commits "$p"
ok "$p commits without $s"
mdb_sql "$p" "ALTER USER replicator@'%' IDENTIFIED BY '$MDB_REPL_PASS'"
wait_for "$s replicates from $p again once the password is back" 20000 \
	mdb_replicates_from "$s" "$p"
wait_for "$s reports its link up again" 10000 res_link_up "$s"
wait_for "$s has caught up with $p" 10000 mdb_caught_up "$p" "$s"

# ---- 2. binary logging off on the standby -------------------------------
stop_agent "$s"
mdb_shutdown "$s"
cnf=$(mdb_cnf "$s")
cp "$cnf" "$HP_TMP/my.cnf.saved"
grep -vE '^(log_bin|log_slave_updates)' "$HP_TMP/my.cnf.saved" >"$cnf"
start_agent_mdb "$s"
wait_for "$s's status says binary logging is off" 30000 \
	mdb_detail_matches "$s" "binary logging is off"
ok "$s's status: $(hp_field "$s" .resources.detail | cut -c1-200)"
assert_eq "$s is unhealthy" false "$(hp_field "$s" .resources.healthy)"
assert_eq "$p is still the one primary" "$p" "$(sole_primary)"
assert_true "$p still commits" commits "$p"

stop_agent "$s"
mdb_shutdown "$s"
cp "$HP_TMP/my.cnf.saved" "$cnf"
start_agent_mdb "$s"
wait_for "$s replicates from $p again once log_bin is back" 30000 \
	mdb_replicates_from "$s" "$p"
wait_for "$s reports its link up again" 10000 res_link_up "$s"
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
