#!/bin/bash
#
# test_mdb_errant.sh - an errant transaction on the MariaDB standby is
# reported, not rejoined blindly; hapair clone --force repairs it.
#
# The standby's agent is stopped, its replication stopped, and a row is
# written on the standby itself with the binary log on (as the agent's
# account, which passes read_only): a GTID of the standby's own server_id
# that the primary lacks.  The primary commits on.  The standby's agent
# is started again; its demote compares the GTID states and must refuse:
#   - an event of the standby names the errant GTID and the dump of it
#     in keep_dir (the dump is there and not empty);
#   - its status detail names the GTID, and the node is unhealthy;
#   - for 5 s its server does not replicate (no blind rejoin, no retry
#     that changes that) and still holds the errant row; the primary
#     stays the one primary.
# Then the documented repair: agent stopped, server shut down,
# `hapair clone --force` (the old datadir moved into keep_dir, not
# deleted), agent started: the standby replicates from the primary by
# GTID, has the primary's rows and not the errant one.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

# A kept path of NODE's events is a non-empty directory or file.
kept_nonempty()
{
	local k
	for k in $(mdb_kept_paths "$1"); do
		if [[ -d $k && -n $(find "$k" -type f -size +0 -print -quit) ]] ||
			[[ -f $k && -s $k ]]; then
			return 0
		fi
	done
	return 1
}

# The old datadir of NODE, moved aside by clone --force: a directory
# under keep_dir that holds a mysql/ directory and the errant row's
# binary log.
old_datadir_kept()
{
	[[ -n $(find "$HP_KEEP_DIR" -mindepth 2 -maxdepth 3 -type d \
		-name mysql -print -quit) ]]
}

mdb_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
mdb_sql "$p" "INSERT INTO test.hp_writes SELECT 'x', seq FROM test.seq_1_to_100"
wait_for "$s has the primary's rows" 10000 mdb_caught_up "$p" "$s"

# ---- the errant transaction -------------------------------------------
stop_agent "$s"
mdb_up "$s" || mdb_start_server "$s"
mdb_sql "$s" "STOP SLAVE"
mdb_sql "$s" "INSERT INTO test.hp_writes VALUES ('errant', 1)"
errant=$(mdb_gtid "$s")
sid=$(mdb_server_id "$s")
[[ $errant =~ ^0-$sid-[0-9]+$ ]] ||
	bail "the errant write on $s did not get a GTID of server $sid: '$errant'"
echo "# errant transaction on $s: GTID $errant (state $(mdb_gtid "$s" \
	gtid_binlog_state)); $p: $(mdb_gtid "$p" gtid_binlog_state)"
# The primary waits for its standby's acknowledgement until the witness
# has recorded the standby out of sync; then its commits go on.
wait_for "$p commits while $s is away" 20000 mdb_sql "$p" \
	"INSERT IGNORE INTO test.hp_writes SELECT 'y', seq FROM test.seq_1_to_10"

start_agent_mdb "$s"
wait_for "an event of $s names the errant GTID $errant" 30000 \
	mdb_event_matches "$s" "$errant"
ok "$s: $(mdb_events "$s" | grep -F "$errant" | head -1 |
	jq -r '.message // .msg // tostring' | cut -c1-240)"
wait_for "$s's status detail names $errant" 5000 \
	mdb_detail_matches "$s" "$errant"
ok "$s's status: $(hp_field "$s" .resources.detail | cut -c1-200)"
assert_eq "$s is unhealthy" false "$(hp_field "$s" .resources.healthy)"
assert_true "the event names a dump under keep_dir" test -n \
	"$(mdb_kept_paths "$s")"
assert_true "the dump of the errant transactions is there and not empty" \
	kept_nonempty "$s"
echo "# kept: $(mdb_kept_paths "$s" | tr '\n' ' ')"
hold_for "$s does not replicate from $p (no blind rejoin, 5 s)" 5000 \
	mdb_not_replicating "$s"
assert_eq "$s still holds the errant row" 1 "$(mdb_rows "$s" errant)"
assert_eq "$p is still the one primary" "$p" "$(sole_primary)"
assert_true "$p's server is writable" mdb_writable "$p"

# ---- the documented repair: hapair clone --force -----------------------
stop_agent "$s"
mdb_shutdown "$s"
if out=$(in_ns "$s" timeout 90 "$HAPAIR" clone -c "$(mdb_conf_of "$s")" \
	-n "$s" --force 2>&1); then
	ok "hapair clone --force on $s: $(tail -1 <<<"$out" | cut -c1-160)"
else
	not_ok "hapair clone --force on $s failed: $(tail -3 <<<"$out")"
fi
assert_true "the old datadir of $s was moved into keep_dir, not deleted" \
	old_datadir_kept
start_agent_mdb "$s"
wait_for "$s replicates from $p after the clone" 30000 \
	mdb_replicates_from "$s" "$p"
wait_for "$s has caught up with $p" 10000 mdb_caught_up "$p" "$s"
assert_eq "$s replicates with MASTER_USE_GTID" yes "$(mdb_using_gtid "$s")"
assert_eq "$s has $p's rows" "$(mdb_rows "$p" y)" "$(mdb_rows "$s" y)"
assert_eq "$s no longer has the errant row" 0 "$(mdb_rows "$s" errant)"
assert_true "$s's server is read-only" mdb_read_only "$s"
wait_for "$s reports its link up again" 10000 res_link_up "$s"
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
