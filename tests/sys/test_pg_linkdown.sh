#!/bin/bash
#
# test_pg_linkdown.sh - PostgreSQL under hapair, fault: the primary's link goes
# down and comes back after the failover.
#
# A writer inserts numbered rows through the VIP (sync replication: a
# commit returns once the standby flushed it) from before the fault
# until the old primary is back.  Asserted (pg_fault_scenario in
# lib_pg.sh): exactly one primary afterwards (one server out of
# recovery, the VIP on it); zero acknowledged rows missing on either
# server; the old primary rejoined as a standby by itself and streams
# (pg_stat_wal_receiver); never two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

pg_fault_scenario linkdown
