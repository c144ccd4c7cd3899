#!/bin/bash
#
# test_failover.sh - the basic promise: one primary after start, and
# after `kill -9` of the primary's agent the standby takes over, with
# the VIP gone from the old primary (its guard fences) before it appears
# on the new one.  The killed agent, started again, rejoins as standby
# and leaves the VIP alone.
#
# Network: tests/sys/lib.sh (servers a, b, witness w, client c; VIP
# 192.0.2.100).  Timers: heartbeat 20ms, lease 200ms.  vipwatch runs
# from before the agents start to the end; the invariant: never two
# VIP holders.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
ok "one primary after start: $p"
assert_eq "$s reports standby" standby "$(hp_role "$s")"
assert_eq "$s names $p as primary" "$p" "$(hp_field "$s" .primary)"
assert_eq "both report one term" "$(hp_term "$p")" "$(hp_term "$s")"
hold_for "$p stays the one primary for 3 leases" "$(leases 3)" \
	primary_is "$p"
term_before=$(hp_term "$p")

kill_agent "$p" KILL
wait_for "$s holds the VIP alone after kill -9 of $p's agent" \
	"$HP_FAILOVER_MS" holder_is "$s"
wait_for "$s reports primary" "$HP_FAILOVER_MS" primary_is "$s"
assert_ge "the new term is above the old one" $((term_before + 1)) \
	"$(hp_term "$s")"

start_agent "$p"
wait_for "$p, restarted, reports standby" "$HP_FAILOVER_MS" \
	role_is "$p" standby
assert_eq "$p is in $s's term" "$(hp_term "$s")" "$(hp_term "$p")"
hold_for "$s stays the one primary for 3 leases after $p rejoined" \
	"$(leases 3)" primary_is "$s"

vipwatch_stop
assert_handover "$p" "$s"
assert_no_dual_holder
assert_eq "$p gained the VIP once (no re-add after restart)" 1 \
	"$(vip_gains "$p")"
