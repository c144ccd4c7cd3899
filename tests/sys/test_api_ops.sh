#!/bin/bash
#
# test_api_ops.sh - bad input to the HTTP API's operator calls: each a
# clear 4xx naming what was wrong, logged where it is a refused change,
# and the agent unaffected (same primary, same term, still serving):
#   missing token, wrong token, another scheme -> 401 (WWW-Authenticate)
#   unknown path -> 404, wrong method -> 405
#   malformed JSON, not an object, unknown field, "to" not a string,
#   a body over 4 KiB -> 400
#   switchover to an unknown node -> 400
#   GET /v1/events with a bad since or limit -> 400
# and GET /v1/events answers the events in order, since= filters them.

set -euo pipefail
# shellcheck source=tests/sys/lib_api.sh
source "$(dirname "$0")/lib_api.sh"

api_cluster_up 20ms 200ms
p=$HP_PRIMARY
term0=$(hp_term "$p")

code=$(api "$p" POST /v1/pause)
assert_status "POST without a token" 401 "$code"
assert_true "it says the token is missing" grep -q "missing bearer token" \
	"$HP_TMP/body"
code=$(api "$p" POST /v1/pause -H "Authorization: Bearer nottheright1234")
assert_status "POST with a wrong token" 401 "$code"
assert_true "it says the token is wrong" grep -q "wrong bearer token" \
	"$HP_TMP/body"
code=$(api "$p" POST /v1/pause -H "Authorization: Basic $HP_TOKEN")
assert_status "POST with another scheme" 401 "$code"
assert_true "a refused change is logged" grep -q "refused (401)" \
	"$HP_TMP/agent-$p.log"
hdr=$(in_ns c curl -s -D - -o /dev/null -X POST --max-time 5 \
	"http://$(node_addr "$p"):$API_PORT/v1/resume")
assert_true "401 carries WWW-Authenticate: Bearer" \
	grep -qi "^WWW-Authenticate: Bearer" <<<"$hdr"

code=$(api "$p" GET /v1/nosuch)
assert_status "unknown path" 404 "$code"
code=$(api "$p" GET /v1/switchover)
assert_status "GET of a POST endpoint" 405 "$code"
code=$(api "$p" POST /v1/status -H "Authorization: Bearer $HP_TOKEN")
assert_status "POST of a GET endpoint" 405 "$code"

code=$(api_post "$p" /v1/switchover '{"to": "b"')
assert_status "malformed JSON" 400 "$code"
code=$(api_post "$p" /v1/switchover '["b"]')
assert_status "JSON that is not an object" 400 "$code"
code=$(api_post "$p" /v1/switchover '{"node": "b"}')
assert_status "unknown field" 400 "$code"
code=$(api_post "$p" /v1/switchover '{"to": 5}')
assert_status "\"to\" not a string" 400 "$code"
code=$(api_post "$p" /v1/pause '{"force": true}')
assert_status "pause takes no fields" 400 "$code"
big=$(head -c 6000 /dev/zero | tr '\0' 'x')
code=$(api_post "$p" /v1/switchover "{\"to\": \"$big\"}")
assert_status "a 6 KB body" 400 "$code"
code=$(api_post "$p" /v1/switchover '{"to": "zz"}')
assert_status "switchover to an unknown node" 400 "$code"
assert_true "it names the nodes" grep -q "the nodes are a and b" \
	"$HP_TMP/body"

code=$(api "$p" GET "/v1/events?since=abc")
assert_status "events since=abc" 400 "$code"
code=$(api "$p" GET "/v1/events?limit=100000")
assert_status "events limit=100000" 400 "$code"
code=$(api "$p" GET /v1/events)
assert_status "events" 200 "$code"
assert_true "events are in order, with kinds and messages" jq -e \
	'.events | length > 0 and (map(.id) == (map(.id) | sort)) and
	 all(.[]; (.kind | type) == "string" and (.message | length) > 0)' \
	"$HP_TMP/body"
last=$(jq '.events[-1].id' "$HP_TMP/body")
code=$(api "$p" GET "/v1/events?since=$last")
assert_status "events since the last one" 200 "$code"
assert_true "nothing newer" jq -e '.events == []' "$HP_TMP/body"
code=$(api "$p" GET "/v1/events?since=0&limit=1")
assert_true "limit=1 gives the newest one" jq -e \
	--argjson last "$last" '.events | length == 1 and .[0].id >= $last' \
	"$HP_TMP/body"

assert_eq "still the same primary" "$p" "$(sole_primary)"
assert_eq "still the same term" "$term0" "$(hp_term "$p")"
assert_true "agent a still runs" pid_alive "$(bg_pid agent-a)"
assert_true "agent b still runs" pid_alive "$(bg_pid agent-b)"
