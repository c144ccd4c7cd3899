#!/bin/bash
#
# test_restart.sh - both agents restart, first in order (SIGTERM), then
# after a crash (kill -9, the guards fence).  Terms live in the state
# files: after each restart every agent's term is at least what it was
# (invariant 4, terms never go backwards), and one primary comes back.
#
# Network and timers as in test_failover.sh; vipwatch throughout.

set -euo pipefail
# shellcheck source=tests/sys/lib.sh
source "$(dirname "$0")/lib.sh"

# restart_both SIGNAL - stop both agents with SIGNAL, check the VIP is
# gone, start them again, and check terms and the new primary.
restart_both()
{
	local sig=$1 ta tb tmax node
	ta=$(hp_term a)
	tb=$(hp_term b)
	tmax=$((ta > tb ? ta : tb))
	for node in a b; do
		if [[ $sig == TERM ]]; then
			stop_agent "$node"
		else
			kill_agent "$node" KILL
		fi
	done
	wait_for "no server holds the VIP with both agents down (SIG$sig)" \
		"$HP_FAILOVER_MS" holder_is ""
	start_agent a
	start_agent b
	wait_one_primary $((20 * HP_LEASE_MS + 5000))
	ok "one primary after the restart (SIG$sig): $HP_PRIMARY"
	assert_ge "a's term did not go back (SIG$sig restart)" "$ta" \
		"$(hp_term a)"
	assert_ge "b's term did not go back (SIG$sig restart)" "$tb" \
		"$(hp_term b)"
	assert_ge "the primary's term is at least every earlier term" \
		"$tmax" "$(hp_term "$HP_PRIMARY")"
	hold_for "$HP_PRIMARY stays the one primary for 3 leases" \
		"$(leases 3)" primary_is "$HP_PRIMARY"
}

hp_cluster_up 20ms 200ms
ok "one primary after the first start: $HP_PRIMARY"
restart_both TERM
restart_both KILL

vipwatch_stop
assert_no_dual_holder
