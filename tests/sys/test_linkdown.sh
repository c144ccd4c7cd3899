#!/bin/bash
#
# test_linkdown.sh - the primary's cable is pulled (eth0 down).  Cut off
# from both voters, it fences when its lease ends; the standby takes the
# VIP, never overlapping.  With the cable back, the old primary follows
# the new one as standby and does not take the VIP back.
#
# Network and timers as in test_failover.sh; vipwatch throughout.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY

link_down "$p"
wait_for "$s holds the VIP alone after $p's link went down" \
	"$HP_FAILOVER_MS" holder_is "$s"
wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
assert_true "$p reports it is not primary" \
	hp_field "$p" '.role != "primary"'

link_up "$p"
wait_for "$p reports standby with its link back" "$HP_FAILOVER_MS" \
	role_is "$p" standby
assert_eq "$p is in $s's term" "$(hp_term "$s")" "$(hp_term "$p")"
hold_for "$s stays the one primary for 3 leases after the link is back" \
	"$(leases 3)" primary_is "$s"

vipwatch_stop
assert_handover "$p" "$s"
assert_no_dual_holder
assert_eq "$p never re-added the VIP" 1 "$(vip_gains "$p")"
