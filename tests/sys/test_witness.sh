#!/bin/bash
#
# test_witness.sh - the witness dies (kill -9).  The standby's ACKs
# alone are a majority with the primary's own vote, so the primary
# keeps its lease and the VIP, and nothing else changes.
#
# Network and timers as in test_failover.sh; vipwatch throughout.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
tp=$(hp_term "$p")

kill_witness
hold_for "$p keeps the VIP and the primary role for 5 leases" \
	"$(leases 5)" primary_is "$p"
wait_for "$p reports the witness unreachable" "$HP_FAILOVER_MS" \
	hp_field "$p" '.witness.reachable == false'
hold_for "$p is still the one primary 3 leases later" "$(leases 3)" \
	primary_is "$p"
assert_eq "$s reports standby" standby "$(hp_role "$s")"
assert_eq "$p's term unchanged" "$tp" "$(hp_term "$p")"
assert_eq "$s's term unchanged" "$tp" "$(hp_term "$s")"

vipwatch_stop
assert_no_dual_holder
assert_eq "$p gained the VIP once" 1 "$(vip_gains "$p")"
assert_eq "$s never held the VIP" 0 "$(vip_gains "$s")"
