#!/bin/bash
#
# test_pause.sh - maintenance mode.  `hapair pause` on the standby
# reaches the primary too (visible in status, metrics, events on both);
# kill -9 of the primary's agent then does NOT fail over (its guard
# fences at the lease end; the standby waits); the primary's agent comes
# back and leads again, still paused (the setting survives its restart);
# `hapair resume` on the primary ends it on both, and the next kill -9
# fails over as usual.

set -euo pipefail
# shellcheck source=tests/sys/lib_api.sh
source "$(dirname "$0")/lib_api.sh"

no_holder()
{
	[[ -z $(vip_holders) ]]
}

api_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY

out=$(hp_cli "$s" pause) && ok "hapair pause on $s: $out" ||
	not_ok "hapair pause on $s failed: $out"
wait_for "$p is paused too" 2000 hp_field "$p" '.paused == true'
assert_true "$s says paused" hp_field "$s" '.paused == true'
assert_true "status table says PAUSED" grep -q PAUSED \
	<(in_ns "$p" "$HAPAIR" status -c "$HP_CONF" --node "$p")
assert_true "failover blocked by the pause" hp_field "$s" \
	'.failover_blocked_by | test("paused")'
code=$(api "$p" GET /metrics)
assert_true "metrics: hapair_paused 1" grep -qx "hapair_paused 1" \
	"$HP_TMP/body"
assert_true "$p has a pause event" event_seen "$p" pause PAUSED
assert_true "$s has a pause event" event_seen "$s" pause PAUSED

kill_agent "$p" KILL
wait_for "the guard fenced $p at its lease end" 3000 no_holder
hold_for "the paused standby $s does not take over (10 leases)" \
	"$(leases 10)" role_is "$s" standby
start_agent "$p"
assert_true "$p restarts paused" hp_field "$p" '.paused == true'
wait_for "$p leads again after its restart" 10000 primary_is "$p"

out=$(hp_cli "$p" resume) && ok "hapair resume on $p: $out" ||
	not_ok "hapair resume on $p failed: $out"
wait_for "$s is resumed too" 2000 hp_field "$s" '.paused == false'
wait_for "failover possible again" 3000 hp_field "$p" \
	'.failover_possible == true'
kill_agent "$p" KILL
wait_for "$s takes over after resume" "$HP_FAILOVER_MS" holder_is "$s"
vipwatch_stop
assert_no_dual_holder
