#!/bin/bash
#
# test_api.sh - the HTTP API of a running pair: /v1/status, /primary,
# /replica and /metrics answer as the roles say, bad requests get 404 or
# 405, hostile ones (64 KiB of garbage, a 64 KiB header, a 64 KiB body)
# leave the agent serving, and /primary follows a hand-over.
#
# One [api] section for both servers: listen = 127.0.0.1:9405, and for
# node a listen@a = 192.0.2.1:9405, so a is asked from the client
# namespace over the bridge and b on its own loopback.
#
#     client c (192.0.2.10) --- curl ---> a 192.0.2.1:9405
#     b's namespace         --- curl ---> b 127.0.0.1:9405
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

API_PORT=9405

# api_ns NODE / api_url NODE PATH - where NODE's API is asked from.
api_ns()
{
	if [[ $1 == a ]]; then echo c; else echo "$1"; fi
}

api_url()
{
	if [[ $1 == a ]]; then
		echo "http://$(node_addr a):$API_PORT$2"
	else
		echo "http://127.0.0.1:$API_PORT$2"
	fi
}

# api_code NODE PATH [CURL_ARGS...] - the HTTP status code; the body is
# left in $HP_TMP/body.
api_code()
{
	local node=$1 path=$2
	shift 2
	in_ns "$(api_ns "$node")" curl -s --max-time 2 -o "$HP_TMP/body" \
		-w '%{http_code}' "$@" "$(api_url "$node" "$path")"
}

# api_body NODE PATH - the body of a GET that answered 200.
api_body()
{
	in_ns "$(api_ns "$1")" curl -sf --max-time 2 "$(api_url "$1" "$2")"
}

# metrics_has NODE LINE - NODE's /metrics has exactly this line.
metrics_has()
{
	api_body "$1" /metrics | grep -qxF "$2"
}

api_role_is()
{
	api_body "$1" /v1/status | jq -e --arg r "$2" '.role == $r'
}

# send_raw NODE PYTHON_BYTES_EXPR - write the bytes to NODE's API socket
# and read whatever comes back (the server may close early: fine).
send_raw()
{
	in_ns "$(api_ns "$1")" python3 - "$(node_addr "$1")" "$API_PORT" \
		"$1" "$2" <<-'PY'
		import os, socket, sys
		host, port, node, expr = sys.argv[1:5]
		if node != "a":
		    host = "127.0.0.1"
		data = eval(expr)
		s = socket.create_connection((host, int(port)), timeout=3)
		try:
		    s.sendall(data)
		    s.shutdown(socket.SHUT_WR)
		    while s.recv(4096):
		        pass
		except OSError:
		    pass
		s.close()
	PY
}

topo_up
vipwatch_start
hp_conf 20ms 200ms 60s
cat >>"$HP_CONF" <<-EOF2

	[api]
	listen = 127.0.0.1:$API_PORT
	listen@a = $(node_addr a):$API_PORT

	[check alive]
	type = script
	command = true
	interval = 100ms
	timeout = 100ms
EOF2
"$HAPAIR" check-config "$HP_CONF" >/dev/null
start_witness
start_agent a
start_agent b
wait_one_primary $((20 * HP_LEASE_MS + 5000))
p=$HP_PRIMARY
s=$HP_STANDBY

wait_for "$p's /v1/status says primary" 3000 api_role_is "$p" primary
wait_for "$s's /v1/status says standby" 3000 api_role_is "$s" standby
assert_eq "/v1/status names the node" "$p" \
	"$(api_body "$p" /v1/status | jq -r .node)"
assert_eq "/primary on the primary" 200 "$(api_code "$p" /primary)"
assert_eq "/primary body" primary "$(cat "$HP_TMP/body")"
assert_eq "/primary on the standby" 503 "$(api_code "$s" /primary)"
wait_for "/replica on the healthy standby" 3000 \
	test "$(api_code "$s" /replica)" = 200
assert_eq "/replica on the primary" 503 "$(api_code "$p" /replica)"
assert_eq "HEAD /primary on the primary" 200 \
	"$(api_code "$p" /primary -I)"

api_body "$p" /metrics >"$HP_TMP/metrics.$p"
api_body "$s" /metrics >"$HP_TMP/metrics.$s"
assert_true "$p's /metrics: hapair_role{role=\"primary\"} 1" \
	grep -qx 'hapair_role{role="primary"} 1' "$HP_TMP/metrics.$p"
assert_true "$s's /metrics: hapair_role{role=\"standby\"} 1" \
	grep -qx 'hapair_role{role="standby"} 1' "$HP_TMP/metrics.$s"
assert_true "$p's /metrics: witness reachable" \
	grep -qx 'hapair_witness_reachable 1' "$HP_TMP/metrics.$p"
wait_for "/metrics has the passing check" 3000 \
	metrics_has "$p" 'hapair_check_healthy{check="alive"} 1'
api_body "$p" /metrics >"$HP_TMP/metrics.$p"
assert_true "/metrics counts dropped datagrams by reason" \
	grep -qx 'hapair_rx_dropped_total{reason="tag"} 0' \
	"$HP_TMP/metrics.$p"
assert_true "/metrics content type is text format 0.0.4" \
	in_ns "$(api_ns "$p")" sh -c "curl -sI --max-time 2 \
	'$(api_url "$p" /metrics)' | grep -qi 'version=0.0.4'"
for n in "$p" "$s"; do
	if out=$(promtool check metrics <"$HP_TMP/metrics.$n" 2>&1); then
		ok "promtool check metrics accepts $n's /metrics"
	else
		not_ok "promtool check metrics on $n's /metrics: $out"
	fi
done

# Bad requests: clear answers, JSON error bodies.
assert_eq "unknown path" 404 "$(api_code "$p" /nope)"
assert_true "404 body is JSON naming the path" \
	jq -e '.error | test("no such endpoint: /nope")' "$HP_TMP/body"
assert_eq "POST /v1/status" 405 \
	"$(api_code "$p" /v1/status -X POST --data-binary x)"
assert_true "405 body is JSON" jq -e .error "$HP_TMP/body"
assert_eq "DELETE /primary" 405 "$(api_code "$s" /primary -X DELETE)"
assert_eq "query string ignored" 200 \
	"$(api_code "$p" '/v1/status?x=1')"

# Hostile requests: the agent keeps serving.
pid_p=$(bg_pid "agent-$p")
send_raw "$p" 'os.urandom(65536)'
send_raw "$p" 'b"GET /v1/status HTTP/1.1\r\nX: " + b"a" * 65536 + b"\r\n\r\n"'
send_raw "$p" 'b"POST /primary HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + os.urandom(65536)'
send_raw "$p" 'b"GET " + b"/" * 65536 + b" HTTP/1.1\r\n\r\n"'
assert_eq "POST with a 64 KiB body" 405 "$(api_code "$p" /primary \
	-X POST --data-binary @<(head -c 65536 /dev/urandom))"
assert_true "$p's agent still runs after hostile requests" \
	pid_alive "$pid_p"
assert_eq "/v1/status still answers" 200 "$(api_code "$p" /v1/status)"
assert_true "$p is still primary" primary_is "$p"

# A hand-over: /primary moves with the role, never 200 on both.
stop_agent "$p"
wait_for "/primary on $s after $p stops" "$HP_FAILOVER_MS" \
	test "$(api_code "$s" /primary)" = 200
wait_for "$s's /metrics says primary" 3000 \
	metrics_has "$s" 'hapair_role{role="primary"} 1'
assert_eq "/replica on the new primary" 503 "$(api_code "$s" /replica)"

vipwatch_stop
assert_no_dual_holder
