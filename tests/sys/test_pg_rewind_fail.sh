#!/bin/bash
#
# test_pg_rewind_fail.sh - the old primary cannot be rewound: a clear
# event and status, and no retry loop; once the cause is fixed, an
# agent restart rejoins it.
#
# The primary's link goes down; the standby takes over (timeline 2).
# While the old primary is cut off, the new primary's timeline history
# file (pg_wal/00000002.history) is moved away, so pg_rewind cannot
# compare the histories.  When the link is back, the old primary's agent
# tries once: an event says that pg_rewind failed and that it is not
# retried, the status detail says the same and the node is unhealthy;
# for 5 s no second attempt is made and the old server stays down.  The
# file is put back and the old primary's agent restarted: it rewinds and
# streams from the new primary, and keeps its diverged WAL aside.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

event_rewind_failed()
{
	pg_events "$1" | grep -q "pg_rewind --dry-run failed against $2.*not retried"
}

detail_rewind_failed()
{
	hp_field "$1" .resources.detail | grep -q 'pg_rewind --dry-run failed'
}

pg_stopped()
{
	! as_pg "$PG_BIN/pg_ctl" status -D "$(pg_dir "$1")" >/dev/null
}

rewind_failures()
{
	{ pg_events "$1" | grep -c 'pg_rewind --dry-run failed'; } || true
}

pg_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
pg_psql "$p" "INSERT INTO hp_writes SELECT 'x', g FROM
	generate_series(1, 100) g" >/dev/null

link_down "$p"
wait_for "$s takes over" "$HP_FAILOVER_MS" primary_is "$s"
hist=$(pg_dir "$s")/pg_wal/00000002.history
wait_for "$s's server is out of recovery on timeline 2" 10000 test -e "$hist"
mv "$hist" "$HP_TMP/00000002.history"
link_up "$p"

wait_for "an event of $p says pg_rewind failed and is not retried" 30000 \
	event_rewind_failed "$p" "$s"
ok "$p: $(pg_events "$p" | grep -o 'pg_rewind --dry-run failed[^"]*' |
	head -1 | cut -c1-200)"
wait_for "$p's status says so" 5000 detail_rewind_failed "$p"
ok "$p's status: $(hp_field "$p" .resources.detail | cut -c1-120)..."
assert_eq "$p is unhealthy" false "$(hp_field "$p" .resources.healthy)"
n=$(rewind_failures "$p")
sleep 5
assert_eq "no second pg_rewind attempt within 5 s (not a loop)" "$n" \
	"$(rewind_failures "$p")"
assert_true "$p's server stays down" pg_stopped "$p"
assert_eq "$s is still the one primary" "$s" "$(sole_primary)"

as_pg cp "$HP_TMP/00000002.history" "$hist"
stop_agent "$p"
start_agent_pg "$p"
wait_for "$p rewinds and streams from $s after the fix and a restart" \
	30000 pg_streams_from "$p" "$s"
wait_for "$p has the rows" 10000 pg_rows_ge "$p" 100 x
assert_eq "exactly one primary, holding the VIP alone" "$s" "$(sole_primary)"
