#!/bin/bash
#
# test_redis_kill9_restart.sh - Redis under hapair, fault: kill -9 of the
# primary's redis-server, started again at once (systemd's Restart=
# without delay), before anyone has reacted.  Without persistence the
# restarted Redis is an empty master on the primary: the classic way to
# lose everything, when the replica resyncs from it.  hapair must notice
# that its store went away and hand over; the empty Redis becomes a
# replica of the new primary and is never the source of a resync.
#
# A sync-mode writer (SET, then WAIT 1 200: acknowledged when a replica
# has the write) runs through the VIP from before the fault until the old
# primary is back.  Asserted (redis_fault_scenario in lib_redis.sh):
# exactly one primary afterwards - status, VIP, its Redis master and the
# other's Redis its replica with the link up; zero acknowledged writes
# missing on the new primary and on the old one once it caught up; never
# two VIP holders.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

redis_fault_scenario redis_kill9_restart
