#!/bin/bash
#
# test_redis_notrunning.sh - Redis is not running when the agents start.
# The agents must start anyway (they answer status), say why the node
# cannot serve (its Redis cannot be reached), and promote nobody while
# neither has a store.  Once Redis is started on both, the nodes become
# eligible by themselves: one primary, its Redis master, the other's
# Redis its replica, and a sync-mode writer's acknowledged writes are on
# both.
#
#   a: agent, no redis (later: redis)
#   b: agent, no redis (later: redis)
#   w: witness
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

DOWN_WORDS='refused|connect|reach|running|down|unavailable'

topo_up
vipwatch_start 600000
hp_conf_redis 20ms 200ms
start_witness
start_agent a
start_agent b

for n in a b; do
	wait_for "$n's status says its Redis cannot be reached" 5000 \
		res_unhealthy_because "$n" "$DOWN_WORDS"
	echo "# $n: $(hp_res "$n" .detail)"
done
hold_for "no primary and no VIP holder for 15 leases" "$(leases 15)" \
	no_primary
for n in a b; do
	assert_true "agent $n still runs" pid_alive "$(bg_pid "agent-$n")"
done

start_redis a
start_redis b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
p=$HP_PRIMARY
s=$HP_STANDBY
wait_for "$s's Redis follows $p's" 10000 redis_pair_ok "$p"
for n in a b; do
	wait_for "$n's resources turn healthy" 5000 res_healthy "$n"
done

writer_start w 1500 --wait-ms 200
writer_wait w 6000
wait_for "$s has caught up with $p" 10000 redis_caught_up "$p" "$s"
writer_summary w
# A sanity bound, not a rate: how many slots a loaded machine gets
# through is timing (the real checks are the read-backs below).
assert_ge "writes were acknowledged" 20 "$(writer_q w .acked)"
assert_no_acked_missing w "$p"
assert_no_acked_missing w "$s"

vipwatch_stop
assert_no_dual_holder
