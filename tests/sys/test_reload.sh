#!/bin/bash
#
# test_reload.sh - SIGHUP reloads the config with validation:
#   - a file with a syntax error: refused (event names the error), the
#     agent keeps running the old config;
#   - a change only a restart can apply (the lease): refused as a whole;
#   - live changes: a new check set, a notify program and no API token
#     any more are applied (event lists them); POSTs then answer 403;
#     the new check fails on the primary, which hands over to the
#     standby once the new checks have their verdict.

set -euo pipefail
# shellcheck source=tests/sys/lib_api.sh
source "$(dirname "$0")/lib_api.sh"

HP_CONF_EXTRA='[check alive]
type = script
command = true
interval = 300ms
timeout = 300ms'
api_cluster_up 20ms 200ms
cp "$HP_CONF" "$HP_TMP/good.conf"
p=$HP_PRIMARY
s=$HP_STANDBY
term0=$(hp_term "$p")

reload()
{
	bg_signal "agent-$1" HUP
}

# 1. syntax error
cp "$HP_TMP/good.conf" "$HP_CONF"
echo "this is not a key value line" >>"$HP_CONF"
reload "$p"
wait_for "a syntax error is refused with an event" 3000 \
	event_seen "$p" config "reload refused: 1 error"
assert_true "the event names the file and line" event_seen "$p" config \
	"hapair.conf:[0-9]+"

# 2. restart-only change
sed 's/^lease = .*/lease = 400ms/' "$HP_TMP/good.conf" >"$HP_CONF"
reload "$p"
wait_for "a lease change is refused" 3000 event_seen "$p" config \
	"lease or drift.*changed, which needs a restart"
assert_eq "still the same primary" "$p" "$(sole_primary)"
assert_eq "still the same term" "$term0" "$(hp_term "$p")"

# 3. live changes: a check that passes only in $s's namespace (it has
# $s's address), a notify program, no API token.
grep -v '^token_file' "$HP_TMP/good.conf" |
	sed -e 's/^\[check alive\]/[check marker]/' \
	    -e "s|^command = true|command = ip -o -4 addr show \| grep -qF 'inet $(node_addr "$s")/'|" \
	>"$HP_CONF"
printf '\n[notify log]\ncommand = echo >>%s/notified\n' "$HP_TMP" >>"$HP_CONF"
"$HAPAIR" check-config "$HP_CONF" >/dev/null || bail "test config invalid"
reload "$p"
reload "$s"
wait_for "$p applied checks, notify and the token change" 3000 \
	event_seen "$p" config "applied .*checks.*notify.*api token"
code=$(api_post "$p" /v1/pause)
assert_status "POST without a configured token" 403 "$code"
wait_for "$p hands over: its new check fails" "$HP_FAILOVER_MS" \
	primary_is "$s"
assert_true "the status lists the new check" hp_field "$s" \
	'.checks | map(.name) == ["marker"]'
wait_for "a notify program ran on the role change" 3000 \
	test -s "$HP_TMP/notified"
vipwatch_stop
assert_no_dual_holder
