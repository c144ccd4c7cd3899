#!/bin/bash
#
# test_redis_linkdown.sh - Redis under hapair, fault: the primary's
# link goes down (a server failure as the others see it) and comes back
# after the failover.
#
# A sync-mode writer (SET, then WAIT 1 200: acknowledged when a replica
# has the write) runs through the VIP from before the fault until the old
# primary is back.  Asserted (redis_fault_scenario in lib_redis.sh):
# exactly one primary afterwards - status, VIP, its Redis master and the
# other's Redis its replica with the link up; zero acknowledged writes
# missing on the new primary and on the old one once it caught up; never
# two VIP holders; where the old primary's Redis survived as master, an
# event naming where its data was kept before the resync.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

redis_fault_scenario linkdown
