#!/bin/bash
#
# test_dashboard.sh - the web dashboard (GET /) in a real browser: a
# headless Chromium in the client namespace loads the page from the
# standby's API and is asked over the DevTools protocol
# (tests/tools/cdp.py) what it shows.  The page must name the primary;
# after the primary's agent is killed (-9) the same page, never
# reloaded, must show the standby as the new primary and the failover in
# its timeline; once the page's own agent is gone too, it must say so.
#
#     client c (192.0.2.10)                      a 192.0.2.1:9405
#       chromium --headless=new  --- GET / ---->  b 192.0.2.2:9405
#       DevTools 127.0.0.1:9222 <--- cdp.py (in c)
#
# The screenshot of the page after the failover (1280x800) is left in
# $BUILD/dashboard.png, and the "agent unreachable" one in
# $BUILD/dashboard-unreachable.png.
#
# Needs chromium, python3-websocket and a font (scripts/install-deps).
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

API_PORT=9405
CDP_PORT=9222
CHROMIUM=${CHROMIUM:-chromium}
PY=/usr/bin/python3		# Debian's, with python3-websocket
SHOT=$HP_BUILD/dashboard.png
SHOT_DOWN=$HP_BUILD/dashboard-unreachable.png

command -v "$CHROMIUM" >/dev/null ||
	bail "no '$CHROMIUM' browser (scripts/install-deps installs chromium)"
"$PY" -c 'import websocket' 2>/dev/null ||
	bail "$PY has no websocket module (install python3-websocket)"

# cdp CMD ARGS... - ask the browser (its DevTools port is on the client
# namespace's loopback).
cdp()
{
	in_ns c "$PY" "$HP_REPO/tests/tools/cdp.py" --port "$CDP_PORT" "$@"
}

# page_wait DESCRIPTION TIMEOUT_MS JS - wait until JS is truthy in the
# page; on the deadline say what the page shows instead.
page_wait()
{
	local desc=$1 timeout_ms=$2 js=$3
	if cdp wait "$js" --timeout-ms "$timeout_ms" --interval-ms 100 \
		>/dev/null; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc (not within $timeout_ms ms); the page shows:" \
		"$(cdp eval "$SHOWS" 2>&1)"
	return 1
}

# page_true DESCRIPTION JS - JS is truthy in the page now.
page_true()
{
	local got
	got=$(cdp eval "$1" 2>&1) || true
	if [[ $got == true ]]; then
		ok "$2"
	else
		not_ok "$2 (got $got); the page shows: $(cdp eval "$SHOWS" 2>&1)"
	fi
}

# What the page shows, in one line, for failure messages.
SHOWS='[...document.querySelectorAll(".card")].map(c => c.dataset.node +
	"=" + c.dataset.role + (c.classList.contains("is-primary") ? "*" : ""))
	.join(" ") + " | banner: " + (document.getElementById(
	"banner-unreach").hidden ? "none" : document.getElementById(
	"banner-unreach").innerText) + " | events: " + [...document
	.querySelectorAll("#timeline .ev")].slice(0, 4).map(e =>
	e.dataset.kind + "@" + e.dataset.ts).join(" ") + " | errors: " +
	(document.body.dataset.renderErrors || 0)'

# JS: the card of server $1 is marked primary and says PRIMARY, and
# no other card is marked.
primary_shown()
{
	echo "(() => { const c = [...document.querySelectorAll(
		'.card.is-primary')]; return c.length === 1 &&
		c[0].dataset.node === '$1' &&
		c[0].querySelector('.badge').innerText.includes('PRIMARY'); })()"
}

# JS: the timeline shows a failover or role event from node $1's event
# log (not one the page noted itself) recorded at or after $2 (ms since
# the epoch), with a message.
failover_event_shown()
{
	echo "[...document.querySelectorAll('#timeline .ev')].some(e =>
		(e.dataset.kind === 'failover' || e.dataset.kind === 'role') &&
		e.dataset.node === '$1' && Number(e.dataset.ts) >= $2 &&
		!e.dataset.synthetic &&
		e.querySelector('.msg').innerText.trim() !== '')"
}

topo_up
vipwatch_start
# A longer lease than most tests: the browser loads two cores, and a
# stall of the agents would fail over before the kill.
hp_conf 50ms 500ms 60s
cat >>"$HP_CONF" <<-EOF

	[api]
	listen = 127.0.0.1:$API_PORT
	listen@a = $(node_addr a):$API_PORT
	listen@b = $(node_addr b):$API_PORT
EOF
"$HAPAIR" check-config "$HP_CONF" >/dev/null
start_witness
start_agent a
start_agent b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
p=$HP_PRIMARY
s=$HP_STANDBY
url=http://$(node_addr "$s"):$API_PORT/

# The page itself, as served: the embedded file, byte for byte.
code=$(in_ns c curl -s --max-time 2 -o "$HP_TMP/page.html" \
	-D "$HP_TMP/page.head" -w '%{http_code}' "$url")
assert_eq "GET / on $s" 200 "$code"
assert_true "GET / is text/html; charset=utf-8" grep -qiE \
	'^content-type: text/html; *charset=utf-8' "$HP_TMP/page.head"
assert_true "GET / serves src/dashboard.html unchanged" \
	cmp -s "$HP_TMP/page.html" "$HP_REPO/src/dashboard.html"

# The browser, in the client namespace, on the standby's page.
mkdir -p "$HP_TMP/chromium"
bg_start chromium c env HOME="$HP_TMP/chromium" \
	"$CHROMIUM" --headless=new --no-sandbox \
	--user-data-dir="$HP_TMP/chromium" \
	--remote-debugging-address=127.0.0.1 \
	--remote-debugging-port="$CDP_PORT" --window-size=1280,800 \
	--no-first-run --no-default-browser-check --disable-gpu \
	--disable-extensions --disable-background-networking \
	--disable-component-update --disable-sync --disable-dev-shm-usage \
	--mute-audio "$url"
cdp ready --timeout-ms 20000 || bail "chromium did not load $url"
page_wait "the page shows $p as primary" 10000 "$(primary_shown "$p")"
# Whatever the timeline shows from here on happened after this.
t_seen=$(now_ms)
page_true "document.querySelector('.card[data-node=\"$s\"] .badge')
	.innerText.includes('STANDBY')" "the page shows $s as standby"
page_true "document.querySelector('.card[data-node=\"witness\"]')
	.dataset.role === 'witness'" "the page shows the witness, reachable"
page_true "document.getElementById('cluster').innerText === 'sys$HP_ID'" \
	"the page names the cluster"
page_true "document.getElementById('banner-unreach').hidden" \
	"no 'agent unreachable' banner while the agent answers"
page_true "document.body.scrollWidth <= 1280 && document.querySelector(
	'#p-events').getBoundingClientRect().bottom <= 800" \
	"the page fits 1280x800 (no sideways scroll, timeline on screen)"
# The peer's API is named in the status, and the page asks it too.
assert_eq "$s's status names $p's API (peer_api)" \
	"http://$(node_addr "$p"):$API_PORT" "$(hp_field "$s" .peer_api)"
page_wait "the page shows $p's own view (from peer_api)" 5000 \
	"document.querySelector('.card[data-node=\"$p\"] .src')
	.innerText === 'own view'"

# Mark this page instance: a reload would lose the mark.
cdp eval 'window.hpNoReload = 42' >/dev/null

t_kill=$(now_ms)
kill_agent "$p"
page_wait "without a reload, the page shows $s as the new primary" \
	"$((HP_FAILOVER_MS + 3000))" "$(primary_shown "$s")"
elapsed=$(($(now_ms) - t_kill))
echo "# the page showed $s as primary $elapsed ms after the kill"
page_wait "the page shows $p as unreachable" 5000 \
	"document.querySelector('.card[data-node=\"$p\"]').dataset.role ===
	'unreachable'"
page_wait "the timeline shows $s's failover (or role) event" 10000 \
	"$(failover_event_shown "$s" "$t_seen")"
# The phases, where the agent records them, are drawn as a bar.
if in_ns c curl -sf --max-time 2 "${url}v1/events" |
	jq -e '[.events[] | select(.phases_ms)] | length > 0' >/dev/null
then
	page_wait "the failover phases are drawn as a bar" 3000 \
		"!!document.querySelector('#timeline .ev .phases')"
else
	echo "# $s's /v1/events has no phases_ms: the phase bar is not checked"
fi
page_true "window.hpNoReload === 42" "the page was never reloaded"
page_true "!document.body.dataset.renderErrors" \
	"the page rendered every answer without an exception"
assert_true "$s is the sole primary and VIP holder" primary_is "$s"

rm -f "$SHOT"
cdp screenshot "$SHOT" --width 1280 --height 800 ||
	not_ok "screenshot to $SHOT"
assert_eq "screenshot $SHOT is a 1280x800 PNG" "1280x800" \
	"$("$PY" -c 'import struct, sys
d = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] ==
      b"\x89PNG\r\n\x1a\n" else "not a PNG")' "$SHOT" 2>&1)"

# The page's own agent goes away: the page must say so, not go on
# showing old data as if it were current.
kill_agent "$s"
page_wait "the page shows the 'agent unreachable' banner" 5000 \
	"!document.getElementById('banner-unreach').hidden &&
	document.getElementById('banner-unreach').innerText.includes(
	'AGENT UNREACHABLE') && document.getElementById('updated')
	.classList.contains('down')"
cdp screenshot "$SHOT_DOWN" --width 1280 --height 800 ||
	not_ok "screenshot to $SHOT_DOWN"

vipwatch_stop
assert_no_dual_holder
echo "# screenshots: $SHOT $SHOT_DOWN"
