#!/bin/bash
#
# test_partition.sh - the two servers lose each other but both still
# reach the witness.  The witness's promise to the primary makes the
# standby's pre-vote fail, so nothing changes: same primary, same terms
# (a refused request never raises a term, DESIGN.md, Safety).  After the
# heal, still nothing changes.
#
# Network and timers as in test_failover.sh; vipwatch throughout.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
tp=$(hp_term "$p")
ts=$(hp_term "$s")

partition_servers
wait_for "$p reports its peer unreachable" "$HP_FAILOVER_MS" \
	hp_field "$p" '.peer.reachable == false'
wait_for "$s reports its peer unreachable" "$HP_FAILOVER_MS" \
	hp_field "$s" '.peer.reachable == false'
hold_for "$p stays the one primary for 5 leases while cut off from $s" \
	"$(leases 5)" primary_is "$p"
assert_eq "$p's term unchanged by the partition" "$tp" "$(hp_term "$p")"
assert_eq "$s's term unchanged by the partition" "$ts" "$(hp_term "$s")"

heal
wait_for "$s reports its peer reachable after the heal" "$HP_FAILOVER_MS" \
	hp_field "$s" '.peer.reachable == true'
hold_for "$p stays the one primary for 3 leases after the heal" \
	"$(leases 3)" primary_is "$p"
assert_eq "$p's term unchanged after the heal" "$tp" "$(hp_term "$p")"
assert_eq "$s's term unchanged after the heal" "$ts" "$(hp_term "$s")"

vipwatch_stop
assert_no_dual_holder
assert_eq "$p gained the VIP once" 1 "$(vip_gains "$p")"
assert_eq "$s never held the VIP" 0 "$(vip_gains "$s")"
