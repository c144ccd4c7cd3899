#!/bin/bash
#
# test_prometheus.sh - the shipped monitoring (deploy/prometheus,
# deploy/grafana) against the real thing:
#
#  1. promtool accepts the rules, their unit tests pass, and the example
#     prometheus.yml is a valid configuration;
#  2. every metric, label and label value the rules and the Grafana
#     dashboard use is in docs/metrics.md (tests/tools/promcheck.py), and
#     the check does fail on a dashboard and on rules that use ones that
#     are not;
#  3. a real Prometheus in the client's namespace scrapes both agents once
#     a second with the shipped rules (HapairNodeDown's "for:" cut to 3 s
#     in the test's copy only): it sees one primary and two targets up,
#     every rule evaluates, no alert is raised while the pair is healthy,
#     forged datagrams raise HapairMessagesRejected, and every rule and
#     dashboard query is valid PromQL there.  Then the primary's agent is
#     killed (-9): after the failover Prometheus sees exactly one primary,
#     the survivor, HapairNodeDown fires for the dead agent and
#     HapairPeerUnreachable is pending on the survivor, neither
#     HapairTwoPrimaries nor HapairNoPrimary ever fired, and two
#     primaries were seen for no longer than scrape skew explains.
#     promtool check metrics accepts each agent's live /metrics, and
#     every family served there is in docs/metrics.md.
#
#     client c: prometheus 127.0.0.1:PORT --scrape 1s--> a 192.0.2.1:9405
#                                         \-scrape 1s--> b 192.0.2.2:9405
#
# Prometheus runs under bg_start, so the EXIT trap (lib.sh topo_down)
# stops it by its PID and start time like every other process, and its
# data directory lives in $HP_TMP.
#
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PROMCHECK=$HP_REPO/tests/tools/promcheck.py
# The Debian python3 with python3-yaml (scripts/install-deps).
PY=/usr/bin/python3
DEPLOY=$HP_REPO/deploy
RULES=$DEPLOY/prometheus/hapair-rules.yml
DASHBOARD=$DEPLOY/grafana/hapair-dashboard.json
DOC=$HP_REPO/docs/metrics.md
API_PORT=9405
PROM_PORT=

# run_ok DESCRIPTION CMD... - CMD succeeds; its output is shown if not.
run_ok()
{
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc: $(tr '\n' ' ' <<<"$out" | cut -c1-600)"
	fi
}

# run_fails_with DESCRIPTION PATTERN CMD... - CMD fails and says PATTERN.
run_fails_with()
{
	local desc=$1 pattern=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$desc: succeeded, expected a failure naming '$pattern'"
	elif grep -qF -- "$pattern" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc: failed without naming '$pattern': $out"
	fi
}

# ---- 1 and 2: the files ---------------------------------------------------

HP_TMP=$(mktemp -d /tmp/hapair-sys.XXXXXX)

run_ok "promtool check rules accepts the shipped rules" \
	promtool check rules "$RULES"
run_ok "promtool test rules: the rules' unit tests pass" \
	promtool test rules "$DEPLOY/prometheus/hapair-rules.test.yml"
run_ok "promtool check config accepts the example prometheus.yml" \
	promtool check config "$DEPLOY/prometheus/prometheus.yml"
assert_eq "dashboard: schemaVersion 38, a DS_PROMETHEUS input" \
	"38 DS_PROMETHEUS" \
	"$(jq -r '"\(.schemaVersion) \(.__inputs[0].name)"' "$DASHBOARD")"
assert_eq "every dashboard target uses the \${DS_PROMETHEUS} datasource" 0 \
	"$(jq '[.panels[] | .targets[]? | select(.datasource.uid !=
		"${DS_PROMETHEUS}")] | length' "$DASHBOARD")"
run_ok "rules and dashboard use only metrics in docs/metrics.md" \
	"$PROMCHECK" names "$DOC" "$RULES" "$DASHBOARD"

# The name check must be able to fail: a misspelt metric in the
# dashboard, a role value and a label that do not exist in the rules.
sed 's/hapair_lease_remaining_seconds/hapair_lease_left_seconds/' \
	"$DASHBOARD" >"$HP_TMP/bad-dashboard.json"
run_fails_with "the name check rejects a dashboard with an unknown metric" \
	"uses metric hapair_lease_left_seconds" \
	"$PROMCHECK" names "$DOC" "$RULES" "$HP_TMP/bad-dashboard.json"
sed 's/role="primary"/role="leader"/' "$RULES" >"$HP_TMP/bad-rules.yml"
run_fails_with "the name check rejects rules with an unknown label value" \
	'hapair_role{role="leader"}' \
	"$PROMCHECK" names "$DOC" "$HP_TMP/bad-rules.yml"
sed 's/by (cluster, instance, reason)/by (cluster, node, reason)/' "$RULES" \
	>"$HP_TMP/bad-rules.yml"
run_fails_with "the name check rejects rules grouping by an unknown label" \
	"groups by label 'node'" \
	"$PROMCHECK" names "$DOC" "$HP_TMP/bad-rules.yml"

# ---- 3: a live Prometheus ---------------------------------------------------

# api_url NODE PATH - NODE's API, as seen from the client namespace.
api_url()
{
	echo "http://$(node_addr "$1"):$API_PORT$2"
}

# instance_of NODE - NODE's "instance" label in Prometheus.
instance_of()
{
	echo "$(node_addr "$1"):$API_PORT"
}

# Asking the test's Prometheus (from the client namespace): prom_get PATH
# prints the body; prom_query EXPR the instant query's result, "none"
# when empty, else the values in the order Prometheus gives them,
# comma-separated.
prom_get()
{
	in_ns c curl -sf --max-time 2 "http://127.0.0.1:$PROM_PORT$1"
}

prom_query()
{
	local json
	json=$(in_ns c curl -sf --max-time 2 --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query") || return 1
	jq -er 'if .status != "success" then error(.error)
		elif (.data.result | length) == 0 then "none"
		else [.data.result[].value[1]] | join(",") end' <<<"$json"
}

# prom_is EXPR VALUE - the query answers exactly VALUE.
prom_is()
{
	[[ $(prom_query "$1") == "$2" ]]
}

# prom_instances EXPR - the instance labels of the result, sorted.
prom_instances()
{
	local json
	json=$(in_ns c curl -sf --max-time 2 --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query") || return 1
	jq -er '[.data.result[].metric.instance] | sort | join(" ")' \
		<<<"$json"
}

prom_instances_are()
{
	[[ $(prom_instances "$1") == "$2" ]]
}

# prom_by_instance_is EXPR "INSTANCE=VALUE ..." - the result, by instance
# (sorted), is exactly that.
prom_by_instance_is()
{
	local json
	json=$(in_ns c curl -sf --max-time 2 --data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query") || return 1
	[[ $(jq -er '[.data.result[] | "\(.metric.instance)=\(.value[1])"] |
		sort | join(" ")' <<<"$json") == "$2" ]]
}

# alert_state ALERT INSTANCE - pending, firing or inactive.
alert_state()
{
	prom_get /api/v1/alerts | jq -er --arg a "$1" --arg i "$2" \
		'[.data.alerts[] | select(.labels.alertname == $a and
		  .labels.instance == $i) | .state] | first // "inactive"'
}

alert_state_in()
{
	[[ " $3 " == *" $(alert_state "$1" "$2") "* ]]
}

# Every rule of the loaded groups has been evaluated without an error.
# active_alerts - "name/instance/state ..." of every pending or firing
# alert.
active_alerts()
{
	prom_get /api/v1/alerts | jq -r '[.data.alerts[] |
		"\(.labels.alertname)/\(.labels.instance)/\(.state)"] |
		join(" ")'
}

alerts_are()
{
	local now
	now=$(active_alerts) || return 1
	[[ $now == "$1" ]]
}

rules_all_ok()
{
	prom_get /api/v1/rules | jq -e '[.data.groups[].rules[]] |
		length > 0 and all(.health == "ok")'
}

topo_up
vipwatch_start
hp_conf 20ms 200ms 60s
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
term=$(hp_term "$p")

for n in a b; do
	in_ns c curl -sf --max-time 2 "$(api_url "$n" /metrics)" \
		>"$HP_TMP/metrics.$n"
	run_ok "promtool check metrics accepts $n's live /metrics" \
		promtool check metrics <"$HP_TMP/metrics.$n"
	run_ok "every family on $n's /metrics is in docs/metrics.md" \
		"$PROMCHECK" exposition "$DOC" "$HP_TMP/metrics.$n"
done

# The test's copy of the rules: HapairNodeDown fires after 3 s instead
# of 1 min, so the test need not wait; nothing else changes.
mkdir -p "$HP_TMP/prom"
"$PY" - "$RULES" "$HP_TMP/prom/rules.yml" <<-'PY'
	import sys, yaml
	src, dst = sys.argv[1:3]
	doc = yaml.safe_load(open(src))
	hits = 0
	for g in doc["groups"]:
	    for r in g["rules"]:
	        if r.get("alert") == "HapairNodeDown":
	            r["for"] = "3s"
	            hits += 1
	if hits != 1:
	    sys.exit("%s: expected one HapairNodeDown rule, found %d"
	             % (src, hits))
	yaml.safe_dump(doc, open(dst, "w"), sort_keys=False)
PY
cat >"$HP_TMP/prom/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 900ms
	  evaluation_interval: 1s
	rule_files:
	  - $HP_TMP/prom/rules.yml
	scrape_configs:
	  - job_name: hapair
	    static_configs:
	      - targets: ["$(instance_of a)", "$(instance_of b)"]
EOF
run_ok "promtool check config accepts the test's Prometheus config" \
	promtool check config "$HP_TMP/prom/prometheus.yml"
rule_count=$("$PY" -c 'import sys, yaml
print(sum(len(g["rules"]) for g in
	  yaml.safe_load(open(sys.argv[1]))["groups"]))' "$RULES")

PROM_PORT=$(in_ns c python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
bg_start prometheus c prometheus \
	--config.file="$HP_TMP/prom/prometheus.yml" \
	--storage.tsdb.path="$HP_TMP/prom/data" \
	--web.listen-address="127.0.0.1:$PROM_PORT"
wait_for "prometheus is ready on 127.0.0.1:$PROM_PORT" 30000 \
	prom_get /-/ready || bail "prometheus did not start"
ok "prometheus (pid $(bg_pid prometheus)) is ready"

wait_for "prometheus scrapes both agents" 15000 \
	prom_is 'count(up{job="hapair"} == 1)' 2 && ok "both targets up"
wait_for "prometheus sees one primary" 15000 \
	prom_is 'sum(hapair_role{job="hapair", role="primary"})' 1 &&
	ok "sum(hapair_role{role=\"primary\"}) is 1"
assert_eq "the primary Prometheus sees is $p" "$(instance_of "$p")" \
	"$(prom_instances 'hapair_role{job="hapair", role="primary"} == 1')"
assert_eq "Prometheus loaded every rule" "$rule_count" \
	"$(prom_get /api/v1/rules | jq '[.data.groups[].rules[]] | length')"
wait_for "every rule evaluates without error" 10000 rules_all_ok &&
	ok "every rule evaluates without error"
# The first scrapes of a and b land in different evaluation rounds, so
# one round may count an agent's "up" before the primary's role sample
# and leave HapairNoPrimary pending for that round.  A healthy pair
# clears it by the next round; anything still active after 5 rounds is
# a real alert (every "for:" is longer than that).
if wait_for "no hapair alert pending or firing on a healthy pair" 5000 \
	alerts_are ""; then
	ok "no hapair alert pending or firing on a healthy pair"
else
	echo "# active alerts: $(active_alerts)"
fi
# The dashboard's role timeline encodes the role as a number: 3 on the
# primary, 0 on the standby.
role_expr=$(jq -r '.panels[] | select(.title == "Role per node") |
	.targets[0].expr' "$DASHBOARD" | sed 's/\$cluster/.*/g; s/\$instance/.*/g')
want_roles=$(for n in a b; do
	if [[ $n == "$p" ]]; then v=3; else v=0; fi
	echo "$(instance_of "$n")=$v"
done | paste -sd ' ')
wait_for "the dashboard's role panel shows $p primary (3), $s standby (0)" \
	5000 prom_by_instance_is "$role_expr" "$want_roles" &&
	ok "the dashboard's role panel shows $p primary (3), $s standby (0)"
run_ok "every rule and dashboard query is valid PromQL for Prometheus" \
	in_ns c "$PROMCHECK" query "http://127.0.0.1:$PROM_PORT" "$RULES" \
	"$DASHBOARD"

# Forged datagrams (signed with another key) at the primary.
in_ns c "$HP_REPO/tests/tools/forge.py" "$HP_TMP/key" \
	"$(hp_field "$p" .cluster)" "$(node_addr "$p")" 5405 badtag 20
rejected='ALERTS{alertname="HapairMessagesRejected", alertstate="firing",
	reason="tag"}'
wait_for "HapairMessagesRejected fires for forged datagrams at $p" 10000 \
	prom_instances_are "$rejected" "$(instance_of "$p")" &&
	ok "HapairMessagesRejected fires for $p"

# The primary's agent dies.
kill_agent "$p"
wait_for "$s takes over" "$HP_FAILOVER_MS" primary_is "$s" &&
	ok "$s took over"
wait_for "Prometheus sees $s as the one primary" 10000 \
	prom_instances_are 'hapair_role{job="hapair", role="primary"} == 1' \
	"$(instance_of "$s")" && ok "Prometheus sees $s as the one primary"
hold_for "sum(hapair_role{role=\"primary\"}) stays 1 (from $s) for 3 s" \
	3000 prom_is 'sum(hapair_role{job="hapair", role="primary"})' 1
assert_eq "up is 0 for $p's agent" 0 \
	"$(prom_query "up{job=\"hapair\", instance=\"$(instance_of "$p")\"}")"
new_term=$(prom_query "hapair_term{instance=\"$(instance_of "$s")\"}")
assert_ge "$s's hapair_term went past $term" $((term + 1)) "$new_term"
assert_ge "$s's hapair_elections_won_total counts the takeover" 1 \
	"$(prom_query "hapair_elections_won_total{instance=\"$(instance_of "$s")\"}")"
wait_for "HapairNodeDown fires for $p's agent" 15000 \
	alert_state_in HapairNodeDown "$(instance_of "$p")" firing &&
	ok "HapairNodeDown fires for $p's agent"
assert_eq "HapairNodeDown not raised for $s" inactive \
	"$(alert_state HapairNodeDown "$(instance_of "$s")")"
wait_for "HapairPeerUnreachable pending on $s" 10000 \
	alert_state_in HapairPeerUnreachable "$(instance_of "$s")" \
	"pending firing" && ok "HapairPeerUnreachable pending on $s"
# ALERTS has a sample for every evaluation an alert was pending or firing.
# The two targets are scraped at different moments, so the dead primary's
# last sample may still count while the new primary's first one is in:
# two primaries for at most about one scrape interval (1 s here, a few
# evaluations), which is why the rule waits 30 s.  Never firing.
ever='count(count_over_time(ALERTS{alertname="HapairTwoPrimaries",
	alertstate="firing"}[1h]))'
assert_eq "HapairTwoPrimaries never fired" none "$(prom_query "$ever")"
ever='sum(count_over_time(ALERTS{alertname="HapairTwoPrimaries"}[1h]))'
skew=$(prom_query "$ever")
if [[ $skew == none ]] || ((skew <= 3)); then
	ok "two primaries seen in at most 3 evaluations (scrape skew: $skew)"
else
	not_ok "two primaries seen in $skew evaluations (1 s apart)"
fi
ever='count(count_over_time(ALERTS{alertname="HapairNoPrimary",
	alertstate="firing"}[1h]))'
assert_eq "HapairNoPrimary never fired during the failover" none \
	"$(prom_query "$ever")"
assert_eq "HapairNoPrimary is not active after the failover" none \
	"$(prom_query 'ALERTS{alertname="HapairNoPrimary"}')"
in_ns c curl -sf --max-time 2 "$(api_url "$s" /metrics)" \
	>"$HP_TMP/metrics.$s.after"
run_ok "promtool check metrics accepts $s's /metrics after the failover" \
	promtool check metrics <"$HP_TMP/metrics.$s.after"
run_ok "every family on $s's /metrics after the failover is documented" \
	"$PROMCHECK" exposition "$DOC" "$HP_TMP/metrics.$s.after"

bg_signal prometheus TERM
bg_wait_exit prometheus 10000 && ok "prometheus stopped"
vipwatch_stop
assert_no_dual_holder
