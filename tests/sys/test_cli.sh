#!/bin/bash
#
# test_cli.sh - the command line on bad input: every error names what was
# wrong and where, and nothing starts on a bad config.  No network.
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

HP_TMP=$(mktemp -d /tmp/hapair-cli.XXXXXX)
: >"$HP_TMP/pids"
hp_conf 20ms 200ms

# expect_fail DESCRIPTION PATTERN CMD... - CMD fails and says PATTERN.
expect_fail()
{
	local desc=$1 pat=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		not_ok "$desc: succeeded, expected a failure"
	elif grep -qE -- "$pat" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc: expected /$pat/ in: $out"
	fi
}

assert_true "keygen prints 64 hex digits" \
	bash -c "'$HAPAIR' keygen | grep -qE '^[0-9a-f]{64}\$'"
assert_true "check-config accepts the test config" \
	"$HAPAIR" check-config "$HP_CONF"

bad=$HP_TMP/bad.conf
sed -e 's/^address = 192.0.2.2$/address = 10.0.0.300/' \
	-e 's/^lease = .*/lease = 5/' -e '/^\[witness\]/i colour = blue' \
	"$HP_CONF" >"$bad"
expect_fail "check-config names file:line and key for a bad address" \
	"bad.conf:[0-9]+: \[node b\] address" "$HAPAIR" check-config "$bad"
expect_fail "check-config reports a duration without unit" \
	"bad.conf:[0-9]+: .*lease" "$HAPAIR" check-config "$bad"
expect_fail "check-config reports an unknown key" "colour" \
	"$HAPAIR" check-config "$bad"
expect_fail "the agent refuses to start on a bad config" "not starting" \
	"$HAPAIR" agent -c "$bad" -n a
expect_fail "the agent refuses an unknown node" "no \[node zz\]" \
	"$HAPAIR" agent -c "$HP_CONF" -n zz
expect_fail "the agent needs --node" "--node NAME is required" \
	"$HAPAIR" agent -c "$HP_CONF"
chmod 644 "$HP_TMP/key"
expect_fail "a group/world-readable key file is refused" "chmod 600" \
	"$HAPAIR" agent -c "$HP_CONF" -n a
chmod 600 "$HP_TMP/key"
expect_fail "status without a running agent says so" \
	"cannot reach the agent" "$HAPAIR" status -c "$HP_CONF" -n a
expect_fail "an unknown command is named" 'unknown command "frobnicate"' \
	"$HAPAIR" frobnicate
expect_fail "a missing config file is named" "nope.conf: cannot open" \
	"$HAPAIR" check-config "$HP_TMP/nope.conf"
printf 'term 5\nvoted_for 9\n' >"$HP_TMP/state/a.state"
expect_fail "a damaged state file stops the agent with its name" \
	"state file .*a.state" "$HAPAIR" agent -c "$HP_CONF" -n a
