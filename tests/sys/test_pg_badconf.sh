#!/bin/bash
#
# test_pg_badconf.sh - PostgreSQL misconfigured under hapair: what the
# standby's status and events say, and that it recovers once fixed.
#   1. the replication password no longer matches (ALTER ROLE on the
#      primary, the WAL sender ended): the standby's link goes down, its
#      status detail and an event name "password authentication failed";
#      once the password is back, the link comes up again by itself;
#   2. pg_hba.conf loses its replication entry (reload, WAL sender
#      ended): status and event name the missing pg_hba.conf entry; then
#      the entry is restored and the link comes back.
# Meanwhile the standby is not in sync (the witness records it), so the
# primary's commits go on.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

# NODE's resource detail matches REGEX (extended).
detail_matches()
{
	hp_field "$1" '.resources.detail' | grep -qE "$2"
}

# An event of NODE matches REGEX.
event_matches()
{
	pg_events "$1" | grep -qE "$2"
}

link_down_now()
{
	[[ $(hp_field "$1" '.resources.link_up') == false ]]
}

end_walsender()
{
	pg_psql "$1" "SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_replication" >/dev/null
}

pg_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"

# ---- 1. wrong replication password -----------------------------------
pg_psql "$p" "ALTER ROLE replicator PASSWORD 'not-what-$s-has'" >/dev/null
end_walsender "$p"
wait_for "$s reports its link down" 10000 link_down_now "$s"
wait_for "$s's status names the refused password" 15000 detail_matches "$s" \
	'password authentication failed for user "replicator"'
ok "$s's status: $(hp_field "$s" .resources.detail | cut -c1-160)"
wait_for "an event of $s names the refused password" 5000 event_matches "$s" \
	'replication connection to .* fails: .*password authentication failed'
wait_for "the witness records $s as not in sync" 10000 witness_not_synced "$s"
pg_psql "$p" "INSERT INTO hp_writes VALUES ('x', 1)" >/dev/null
ok "$p commits without $s"
pg_psql "$p" "ALTER ROLE replicator PASSWORD '$PG_REPL_PASS'" >/dev/null
wait_for "$s streams from $p again once the password is back" 20000 \
	pg_streams_from "$s" "$p"
wait_for "$s reports its link up again" 10000 res_link_up "$s"

# ---- 2. no replication entry in pg_hba.conf ---------------------------
hba=$(pg_dir "$p")/pg_hba.conf
cp "$hba" "$HP_TMP/pg_hba.conf.saved"
grep -v replication "$HP_TMP/pg_hba.conf.saved" | as_pg tee "$hba" >/dev/null
pg_psql "$p" "SELECT pg_reload_conf()" >/dev/null
end_walsender "$p"
wait_for "$s reports its link down" 10000 link_down_now "$s"
wait_for "$s's status names the missing pg_hba.conf entry" 15000 \
	detail_matches "$s" 'no pg_hba.conf entry for replication connection'
ok "$s's status: $(hp_field "$s" .resources.detail | cut -c1-160)"
wait_for "an event of $s names the missing entry" 5000 event_matches "$s" \
	'replication connection to .* fails: .*no pg_hba.conf entry'
as_pg tee "$hba" <"$HP_TMP/pg_hba.conf.saved" >/dev/null
pg_psql "$p" "SELECT pg_reload_conf()" >/dev/null
wait_for "$s streams from $p again once the entry is back" 20000 \
	pg_streams_from "$s" "$p"
wait_for "$s reports its link up again" 10000 res_link_up "$s"
assert_eq "exactly one primary, holding the VIP alone" "$p" "$(sole_primary)"
