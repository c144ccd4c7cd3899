#!/bin/bash
#
# test_sigstop.sh - a hung primary: SIGSTOP of its agent.  The guard
# (a separate process) removes the VIP when the lease ends, the standby
# takes over; after SIGCONT the old primary sees the newer term, reports
# standby in it, and never adds the VIP again.
#
# Network and timers as in test_failover.sh; vipwatch throughout.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

hp_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
term_before=$(hp_term "$p")

kill_agent "$p" STOP
wait_for "$s holds the VIP alone while $p's agent is stopped" \
	"$HP_FAILOVER_MS" holder_is "$s"
# $p cannot answer status while stopped: ask $s alone.
wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
term_new=$(hp_term "$s")
assert_ge "the new term is above the old one" $((term_before + 1)) \
	"$term_new"

kill_agent "$p" CONT
wait_for "$p reports standby after SIGCONT" "$HP_FAILOVER_MS" \
	role_is "$p" standby
assert_eq "$p is in the new primary's term" "$term_new" "$(hp_term "$p")"
assert_eq "$p names $s as primary" "$s" "$(hp_field "$p" .primary)"
hold_for "$s stays the one primary for 3 leases after SIGCONT" \
	"$(leases 3)" primary_is "$s"

vipwatch_stop
assert_handover "$p" "$s"
assert_no_dual_holder
assert_eq "$p never re-added the VIP" 1 "$(vip_gains "$p")"
