#!/bin/bash
#
# test_mdb_linkdown.sh - MariaDB under hapair, fault: the primary's
# eth0 goes down; the standby takes over; the old primary's guard fences
# its server; when the link is back the old primary rejoins as a standby.
#
# A writer inserts numbered rows through the VIP (semi-synchronous
# replication: a commit returns once the standby has the event) from
# before the fault until the old primary is back.  Asserted
# (mdb_fault_scenario in lib_mdb.sh): exactly one writable primary
# afterwards (read_only = 0 there, 1 on the other, the VIP on it); zero
# acknowledged rows missing on either server; the old primary rejoined
# by itself and replicates from the new one by GTID (IO and SQL threads
# running); never two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_mdb.sh
source "$(dirname "$0")/lib_mdb.sh"

mdb_fault_scenario linkdown
