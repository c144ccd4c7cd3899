#!/bin/bash
#
# lib_api.sh - the HTTP API and the operator commands, for the tests
# that switch over, pause, resume and reload.
#
#   api_cluster_up       hp_cluster_up with the API below
#   hp_api_conf          append [api] (each node on its own address,
#                        port API_PORT) with a token file; sets
#                        HP_TOKEN (the token) and HP_TOKEN_FILE
#   api NODE METHOD PATH [CURL_ARGS...]
#                        ask NODE's API from the client namespace;
#                        prints the HTTP status, the body goes to
#                        $HP_TMP/body
#   api_post NODE PATH [JSON]   POST with the right token
#   hp_cli NODE ARGS...  run `hapair ARGS -c CONF --node NODE` in NODE's
#                        namespace
#   event_seen NODE KIND REGEX  an event of NODE of that kind matches

# shellcheck source=tests/sys/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

API_PORT=9405

hp_api_conf()
{
	HP_TOKEN_FILE=$HP_TMP/api.token
	(umask 077 && "$HAPAIR" keygen >"$HP_TOKEN_FILE")
	HP_TOKEN=$(cat "$HP_TOKEN_FILE")
	cat >>"$HP_CONF" <<-EOF

		[api]
		listen@a = $(node_addr a):$API_PORT
		listen@b = $(node_addr b):$API_PORT
		token_file = $HP_TOKEN_FILE
	EOF
	local out
	out=$("$HAPAIR" check-config "$HP_CONF" 2>&1) ||
		bail "hapair check-config rejects the API config: $out"
}

# api_cluster_up [HEARTBEAT [LEASE]] - hp_cluster_up with the API
# configured; the text in HP_CONF_EXTRA (if any) is appended to the
# config before the agents start.
api_cluster_up()
{
	topo_up
	vipwatch_start 600000
	hp_conf "$@"
	hp_api_conf
	if [[ -n ${HP_CONF_EXTRA:-} ]]; then
		printf '\n%s\n' "$HP_CONF_EXTRA" >>"$HP_CONF"
	fi
	start_witness
	start_agent a
	start_agent b
	wait_one_primary $((20 * HP_LEASE_MS + 5000))
}

api()
{
	local node=$1 method=$2 path=$3
	shift 3
	in_ns c curl -s --max-time 30 -o "$HP_TMP/body" -w '%{http_code}' \
		-X "$method" "$@" "http://$(node_addr "$node"):$API_PORT$path"
}

api_post()
{
	local node=$1 path=$2 data=${3:-}
	local -a body=()
	if [[ -n $data ]]; then
		body=(-H "Content-Type: application/json" --data "$data")
	fi
	api "$node" POST "$path" -H "Authorization: Bearer $HP_TOKEN" \
		"${body[@]}"
}

# The body of the last api call.
api_body()
{
	cat "$HP_TMP/body"
}

hp_cli()
{
	local node=$1
	shift
	in_ns "$node" timeout 60 "$HAPAIR" "$@" -c "$HP_CONF" --node "$node"
}

# event_seen NODE KIND REGEX (asked over the API: the config file may
# be broken on purpose meanwhile)
event_seen()
{
	in_ns c curl -sf --max-time 5 \
		"http://$(node_addr "$1"):$API_PORT/v1/events" |
		jq -e --arg k "$2" --arg re "$3" \
			'[.events[] | select(.kind == $k and
			 (.message | test($re)))] | length > 0' >/dev/null
}

# assert_status WHAT WANT GOT - an HTTP status code, with the body shown
# on a mismatch.
assert_status()
{
	if [[ $2 == "$3" ]]; then
		ok "$1: $3 $(head -c 160 "$HP_TMP/body")"
	else
		not_ok "$1: expected HTTP $2, got $3:" \
			"$(head -c 300 "$HP_TMP/body")"
	fi
}
