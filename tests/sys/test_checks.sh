#!/bin/bash
#
# test_checks.sh - an http [check] drives hand-over, notify programs run
# on every role change, and the failover hold-down keeps a fresh primary
# in place when only its check fails.
#
# Each server namespace runs a small web server on its own 127.0.0.1:7001
# (loopback is per namespace); the check GETs it every 50 ms.  Stopping
# the primary's web server makes its check fail: the primary fences and
# hands over to the healthy standby at once, without waiting out the
# lease.  The new primary's check then fails too, within the hold-down:
# it must stay primary (DESIGN.md, hold-down against flapping).
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

web_start()
{
	bg_start "web-$1" "$1" python3 -m http.server --bind 127.0.0.1 7001
	wait_for "web server on $1 answers" 5000 \
		in_ns "$1" python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:7001/", timeout=1)'
}

topo_up
vipwatch_start
hp_conf 20ms 200ms 60s
cat >"$HP_TMP/notify.sh" <<-EOF2
	#!/bin/sh
	echo "\$HAPAIR_NODE \$1 \$3 term=\$HAPAIR_TERM \$HAPAIR_REASON" >>"$HP_TMP/notify.log"
EOF2
chmod +x "$HP_TMP/notify.sh"
cat >>"$HP_CONF" <<-EOF2

	[check web]
	type = http
	address = 127.0.0.1
	port = 7001
	path = /
	interval = 50ms
	timeout = 50ms
	rise = 2
	fall = 2

	[notify log]
	command = $HP_TMP/notify.sh
	timeout = 2s
EOF2
"$HAPAIR" check-config "$HP_CONF" >/dev/null
web_start a
web_start b
start_witness
start_agent a
start_agent b
wait_one_primary 10000
p=$HP_PRIMARY
s=$HP_STANDBY

wait_for "notify reported $p as MASTER" 3000 \
	grep -q "^$p INSTANCE MASTER" "$HP_TMP/notify.log"
wait_for "$p reports its check passing" 3000 \
	hp_field "$p" '.checks[0].healthy == true'

# The primary's service dies: hand-over, not a lease wait.
bg_signal "web-$p" KILL
wait_for "$s takes over after $p's check fails" 3000 holder_is "$s"
wait_for "$s reports primary" 3000 role_is "$s" primary
assert_eq "$p gave up for its check" unhealthy \
	"$(hp_field "$p" .last_change.why)"
assert_true "$p's status names the failing check" \
	hp_field "$p" '.checks[0].healthy == false'
wait_for "notify reported $s as MASTER" 3000 \
	grep -q "^$s INSTANCE MASTER" "$HP_TMP/notify.log"
wait_for "notify reported $p as FAULT" 3000 \
	grep -q "^$p INSTANCE FAULT" "$HP_TMP/notify.log"

# Within the hold-down, the new primary's own check failing must not
# move the primary back, even though the old one is healthy again.
web_start "$p"
wait_for "$p healthy again" 3000 hp_field "$p" .healthy
bg_signal "web-$s" KILL
wait_for "$s notes the hold-down" 3000 \
	hp_field "$s" '.last_change.why == "hold_down"'
hold_for "$s stays primary during the hold-down" "$(leases 5)" \
	primary_is "$s"

vipwatch_stop
assert_no_dual_holder
