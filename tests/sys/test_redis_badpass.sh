#!/bin/bash
#
# test_redis_badpass.sh - a wrong Redis password in the config.  Both
# servers' Redis require a password (--requirepass; --masterauth, as the
# operator's redis.conf would have it, for replication); hapair's config
# has another one.  The agents must start, stay up, say in status why
# Redis is unusable (an authentication failure, in so many words), and
# never promote: no primary, no VIP, for many leases.  Then the config
# gets the right password, the agents restart, and the pair forms - so
# the refusal was the password and nothing else.
#
#   a: redis --requirepass P  agent (password = wrong)
#   b: redis --requirepass P  agent (password = wrong)
#   w: witness
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "$0")/lib_redis.sh"

HP_REDIS_PASS=right-$HP_ID
HP_REDIS_CONF_PASS=wrong-$HP_ID
AUTH_WORDS='auth|password|WRONGPASS|NOAUTH'

topo_up
vipwatch_start 600000
for n in a b; do
	start_redis "$n" --requirepass "$HP_REDIS_PASS" \
		--masterauth "$HP_REDIS_PASS"
done
hp_conf_redis 20ms 200ms
start_witness
start_agent a
start_agent b

for n in a b; do
	wait_for "$n's status says its Redis refuses the password" 5000 \
		res_unhealthy_because "$n" "$AUTH_WORDS"
	echo "# $n: $(hp_res "$n" .detail)"
done
hold_for "no primary and no VIP holder for 20 leases" "$(leases 20)" \
	no_primary
for n in a b; do
	assert_true "agent $n still runs" pid_alive "$(bg_pid "agent-$n")"
	assert_eq "$n's Redis was left alone (still master)" master \
		"$(redis_role "$n")"
	assert_eq "$n is not eligible" false \
		"$(hp_field "$n" .failover_possible)"
done

# The same cluster with the right password: key, state and witness stay.
for n in a b; do
	stop_agent "$n"
done
sed -i "s/^password = .*/password = $HP_REDIS_PASS/" "$HP_CONF"
out=$("$HAPAIR" check-config "$HP_CONF" 2>&1) ||
	bail "check-config rejects the corrected config: $out"
start_agent a
start_agent b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
wait_for "right password: $HP_STANDBY's Redis follows $HP_PRIMARY's" \
	10000 redis_pair_ok "$HP_PRIMARY"
assert_eq "$HP_PRIMARY's resources are healthy" true \
	"$(hp_res "$HP_PRIMARY" .healthy)"

vipwatch_stop
assert_no_dual_holder
