#!/bin/bash
#
# test_mdb_unacked.sh - a commit the standby never acknowledged does not
# survive on the old primary: the agent restarts a killed server as a
# replica (--init-rpl-role=SLAVE, semi-sync slave on), and MariaDB's
# crash recovery truncates the binary log transactions no standby
# acknowledged (MDEV-21117), so the old primary rejoins by GTID without
# an errant transaction.
#
# The standby's replication traffic from the primary is dropped (nft on
# the standby, TCP from port 3306 of the primary only: heartbeats and the
# standby's status go on, its IO thread still says Yes, so the witness
# keeps it in sync and the primary keeps waiting).  A commit on the
# primary then waits for an acknowledgement that cannot come; the
# primary's mariadbd is killed with SIGKILL while it waits.  Asserted:
#   - the commit was waiting (Rpl_semi_sync_master_wait_sessions >= 1)
#     and its client never got an answer;
#   - the standby takes over, without the row;
#   - the old primary's server comes back as a replica of the new one
#     (by itself), its error log says the binary log was truncated, and
#     the row is not there (nor its GTID in @@gtid_binlog_state);
#   - no errant transaction was reported, nothing kept.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

# drop_repl_from NODE PEER / undrop NODE: NODE receives nothing from
# PEER's port 3306 and sends nothing to it (its replication connection
# to PEER); everything else passes.
drop_repl_from()
{
	in_ns "$1" nft -f - <<-EOF
		table inet hp_norepl {
			chain in {
				type filter hook prerouting priority raw;
				ip saddr $(node_addr "$2") tcp sport $MDB_PORT drop
			}
			chain out {
				type filter hook output priority raw;
				ip daddr $(node_addr "$2") tcp dport $MDB_PORT drop
			}
		}
	EOF
}

undrop()
{
	in_ns "$1" nft delete table inet hp_norepl 2>/dev/null || true
}

waiting_commits()
{
	local n
	n=$(mdb_status_var "$1" RPL_SEMI_SYNC_MASTER_WAIT_SESSIONS) || return 1
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1))
}

truncated_in_log()
{
	grep -q "truncated binlog file" "$(mdb_log "$1")"
}

mdb_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
mdb_sql "$p" "INSERT INTO test.hp_writes SELECT 'x', seq FROM test.seq_1_to_50"
wait_for "$s has the primary's rows" 10000 mdb_caught_up "$p" "$s"
before=$(mdb_gtid "$p")

drop_repl_from "$s" "$p"
# The client of the commit: it must not get an answer.
bg_start unacked - bash -c "MYSQL_PWD='$MDB_PASS' timeout 30 '$MDB_CLIENT' \
	--no-defaults --socket='$(mdb_sock "$p")' -u '$MDB_USER' -N -B \
	-e \"INSERT INTO test.hp_writes VALUES ('unacked', 1)\"; echo rc=\$?"
wait_for "the commit on $p waits for $s's acknowledgement" 5000 \
	waiting_commits "$p"
sleep 0.5
assert_true "the commit on $p still waits (no acknowledgement came)" \
	waiting_commits "$p"
assert_true "$s still reports its link up (the witness keeps it in sync)" \
	res_link_up "$s"

mdb_kill9 "$p"
wait_for "$s takes over after the kill" "$HP_FAILOVER_MS" primary_is "$s"
wait_for "$s's server is writable" 10000 mdb_writable "$s"
bg_wait_exit unacked 5000
assert_eq "the commit's client got no success" 0 \
	"$(grep -c '^rc=0$' "$HP_TMP/unacked.log" || true)"
assert_eq "$s does not have the unacknowledged row" 0 \
	"$(mdb_rows "$s" unacked)"

undrop "$s"
wait_for "$p's server replicates from $s again (rejoined by itself)" \
	30000 mdb_replicates_from "$p" "$s"
mdb_sql "$s" "INSERT INTO test.hp_writes VALUES ('after', 1)"
wait_for "$p has caught up with $s" 10000 mdb_caught_up "$s" "$p"
assert_true "$p's error log says crash recovery truncated the binary log" \
	truncated_in_log "$p"
grep -h "truncated binlog file" "$(mdb_log "$p")" | head -1 | cut -c1-200 |
	sed 's/^/# /'
assert_eq "$p does not have the unacknowledged row" 0 \
	"$(mdb_rows "$p" unacked)"
state=$(mdb_gtid "$p" gtid_binlog_state)
echo "# $p: GTID state before the commit $before, now $state"
assert_eq "$p's GTID state holds nothing of its own past $before" "" \
	"$(tr ',' '\n' <<<"$state" | grep "^0-$(mdb_server_id "$p")-" |
		grep -vx "$before" || true)"
assert_eq "$p has the new primary's row" 1 "$(mdb_rows "$p" after)"
assert_true "$p's server is read-only" mdb_read_only "$p"
assert_eq "no errant transaction was reported on $p" 0 \
	"$({ mdb_events "$p" | grep -c errant; } || true)"
assert_eq "nothing was kept" "" "$(mdb_kept_paths "$p")"
assert_eq "exactly one primary, holding the VIP alone" "$s" "$(sole_primary)"
