#!/bin/bash
#
# test_nonroot.sh - the agents run as the unprivileged user nobody with
# only CAP_NET_ADMIN and CAP_NET_RAW (what deploy/systemd/
# hapair-agent@.service grants, less the optional CAP_IPC_LOCK and
# CAP_SYS_NICE), and still manage the VIP: one primary adds it, and
# after kill -9 of that agent its guard (also unprivileged) removes it
# at the lease end and the standby adds it - never two holders.  The
# shipped systemd units pass `systemd-analyze verify`.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

NOBODY=65534

# start_agent_nonroot NODE - as uid/gid nobody, capabilities limited.
start_agent_nonroot()
{
	local caps=-all,+net_admin,+net_raw
	bg_start "agent-$1" "$1" setpriv --reuid=$NOBODY --regid=$NOBODY \
		--clear-groups --inh-caps=$caps --ambient-caps=$caps \
		--bounding-set=$caps \
		"$HAPAIR" agent -c "$HP_CONF" -n "$1"
	wait_for "agent $1 answers status" 5000 hp_status "$1"
}

# proc_field PID FIELD - a line of /proc/PID/status, value only.
proc_field()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# The systemd units, with ExecStart pointing at this build.
units=$(mktemp -d /tmp/hapair-units.XXXXXX)
for u in hapair-agent@.service hapair-witness.service; do
	sed "s|/usr/sbin/hapair|$HAPAIR|" "$HP_REPO/deploy/systemd/$u" \
		>"$units/$u"
done
if out=$(systemd-analyze verify "$units/hapair-witness.service" \
	"$units/hapair-agent@a.service" 2>&1); then
	ok "systemd-analyze verify accepts the shipped units"
else
	not_ok "systemd-analyze verify: $out"
fi
rm -rf "$units"

topo_up
vipwatch_start 600000
hp_conf 20ms 200ms
# Everything the agents touch belongs to nobody; the test directory
# itself only lets them through.
chmod 711 "$HP_TMP"
for d in state run; do
	chown $NOBODY:$NOBODY "$HP_TMP/$d"
	chmod 700 "$HP_TMP/$d"
done
chown $NOBODY:$NOBODY "$HP_TMP/key"
chmod 644 "$HP_CONF"
start_witness
start_agent_nonroot a
start_agent_nonroot b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
p=$HP_PRIMARY
s=$HP_STANDBY
ok "the non-root agent $p added the VIP"

pid=$(bg_pid "agent-$p")
assert_eq "agent $p runs as uid nobody" "$NOBODY" "$(proc_field "$pid" Uid)"
assert_eq "agent $p has only CAP_NET_ADMIN and CAP_NET_RAW" \
	0000000000003000 "$(proc_field "$pid" CapEff)"
guard=$(pgrep -P "$pid" | head -n 1) || true
if [[ -n $guard ]]; then
	assert_eq "its guard runs as uid nobody" "$NOBODY" \
		"$(proc_field "$guard" Uid)"
else
	not_ok "agent $p has a guard child"
fi
assert_true "it said once it cannot lock memory or run real-time" \
	grep -qiE "mlock|real-time|realtime|SCHED_FIFO" "$HP_TMP/agent-$p.log"

kill_agent "$p" KILL
wait_for "$s holds the VIP alone after kill -9 of $p" "$HP_FAILOVER_MS" \
	holder_is "$s"
wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
vipwatch_stop
assert_no_dual_holder
assert_handover "$p" "$s"
