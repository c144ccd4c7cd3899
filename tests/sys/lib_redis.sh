# shellcheck shell=bash
#
# lib_redis.sh - Redis on top of the namespace harness (lib.sh): the
# Redis system tests, the Redis failover bench and the demo source it.
#
#   server a (.1)  redis-server :6379  hapair agent a
#   server b (.2)  redis-server :6379  hapair agent b
#   witness w (.3) hapair witness
#   client c (.10) rwriter: SET + WAIT 1 through the VIP 192.0.2.100
#
# Each server runs its own redis-server, bound to its node address, to
# 127.0.0.1 (where its agent reaches it) and to the VIP (for clients),
# without persistence (no RDB saves, no AOF): a killed Redis comes back
# empty, as in the deployments where losing a restarted master's data is
# the real risk.
# Both start as masters; hapair's agents make one the replica of the
# other (REPLICAOF) and re-point it on every role change.
#
# What is here: start_redis / kill_redis / redis_cli / redis_role,
# hp_conf_redis (hp_conf's config plus a [resource cache] section before
# the VIP), the writer (writer_start, writer_stop, writer_check), wait
# conditions on roles, links and offsets, hapair's events, and
# redis_cluster_up, the standard start of a Redis test.
#
# Environment, besides lib.sh's:
#   HP_REDIS_PASS  the password redis_cli uses (tests that start Redis
#                  with --requirepass set it)

# Globals set here are for the scripts that source this file.
# shellcheck disable=SC2034

if [[ -n ${HP_LIB_REDIS_LOADED:-} ]]; then
	return 0
fi
HP_LIB_REDIS_LOADED=1

# shellcheck source=tests/sys/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT=6379
REDIS_RES=cache
RWRITER=${RWRITER:-$TOOLS/rwriter}
HP_REDIS_PASS=${HP_REDIS_PASS:-}

# ---- redis-server ---------------------------------------------------------

# Per-node working directory (replication RDB transfers land here).
redis_dir()
{
	echo "$HP_TMP/redis-$1"
}

# start_redis NODE [EXTRA ARGS...] - start NODE's redis-server as the
# contract says, plus EXTRA ARGS (e.g. --requirepass X), and wait until
# it answers.  It also listens on the VIP, which the node may not hold
# yet: ip_nonlocal_bind (per namespace) lets it bind an absent address,
# and connections to it work from the moment the agent adds it - as with
# keepalived in front of a service.  protected-mode no: Redis 7
# otherwise refuses every non-loopback client (the replica, the writer)
# when no password is set; the test network has no route out.
# repl-diskless-sync-delay 0: a full resync starts at once instead of
# waiting 5 s for more replicas to share it (there is one).
start_redis()
{
	local node=$1
	shift
	mkdir -p "$(redis_dir "$node")"
	in_ns "$node" sysctl -qw net.ipv4.ip_nonlocal_bind=1
	bg_start "redis-$node" "$node" redis-server --port "$REDIS_PORT" \
		--bind "$(node_addr "$node")" 127.0.0.1 "$HP_VIP" \
		--dir "$(redis_dir "$node")" --save "" --appendonly no \
		--daemonize no --protected-mode no \
		--repl-diskless-sync-delay 0 "$@"
	wait_for "redis on $node answers" 5000 redis_up "$node"
}

# kill_redis NODE [SIGNAL] - signal NODE's redis-server (default KILL)
# and, after KILL, wait until it is gone.
kill_redis()
{
	local node=$1 sig=${2:-KILL}
	bg_signal "redis-$node" "$sig" || bail "redis on $node is not running"
	if [[ $sig == KILL || $sig == 9 ]]; then
		bg_wait_exit "redis-$node" 2000
	fi
}

# Is NODE's redis-server process (the newest we started) still running?
redis_running()
{
	local pid
	pid=$(bg_pid "redis-$1" 2>/dev/null) || return 1
	pid_alive "$pid"
}

# ensure_redis NODE - restart NODE's Redis if it is not running (what
# systemd's Restart= would do; the guard may have stopped it to fence).
ensure_redis()
{
	if ! redis_running "$1"; then
		echo "# redis on $1 is not running; restarting it"
		start_redis "$1"
	fi
}

# redis_cli NODE ARGS... - redis-cli inside NODE, to its local Redis,
# bounded by a 2 s timeout.  The password travels in the environment
# (REDISCLI_AUTH), not on the command line.
redis_cli()
{
	local node=$1
	local -a auth=()
	shift
	if [[ -n $HP_REDIS_PASS ]]; then
		auth=(REDISCLI_AUTH="$HP_REDIS_PASS")
	fi
	in_ns "$node" env "${auth[@]}" timeout 2 \
		redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# Redis answers PING with PONG.
redis_up()
{
	[[ $(redis_cli "$1" PING 2>/dev/null) == PONG ]]
}

# redis_field NODE FIELD - one field of INFO replication ("role",
# "master_host", "master_link_status", "master_repl_offset", ...).
redis_field()
{
	local info line
	info=$(redis_cli "$1" INFO replication 2>/dev/null) || return 1
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == "$2:"* ]]; then
			echo "${line#*:}"
			return 0
		fi
	done <<<"$info"
	return 1
}

# "master" or "slave" (Redis's words in INFO replication).
redis_role()
{
	redis_field "$1" role
}

redis_is_master()
{
	[[ $(redis_role "$1") == master ]]
}

# redis_follows NODE PRIMARY - NODE's Redis is a replica of PRIMARY's,
# with its replication link up.
redis_follows()
{
	[[ $(redis_role "$1") == slave &&
		$(redis_field "$1" master_host) == "$(node_addr "$2")" &&
		$(redis_field "$1" master_link_status) == up ]]
}

# redis_caught_up PRIMARY REPLICA - REPLICA follows PRIMARY and has
# processed everything PRIMARY has sent (equal replication offsets).
redis_caught_up()
{
	local po ro
	redis_follows "$2" "$1" || return 1
	po=$(redis_field "$1" master_repl_offset) || return 1
	ro=$(redis_field "$2" master_repl_offset) || return 1
	[[ -n $po && $po == "$ro" ]]
}

# redis_pair_ok PRIMARY - PRIMARY's Redis is master, the other server's
# follows it with the link up.
redis_pair_ok()
{
	redis_is_master "$1" && redis_follows "$(peer_of "$1")" "$1"
}

redis_dbsize()
{
	redis_cli "$1" DBSIZE 2>/dev/null
}

# redis_dbsize_ge NODE N - NODE's Redis holds at least N keys.
redis_dbsize_ge()
{
	local n
	n=$(redis_dbsize "$1") || return 1
	[[ $n =~ ^[0-9]+$ ]] && ((n >= $2))
}

# ---- hapair with a Redis resource ----------------------------------------

# hp_conf_redis [HEARTBEAT [LEASE [HOLD_DOWN]]] - hp_conf's config (same
# cluster, nodes, witness and VIP) with a [resource cache] section
# inserted before [resource vip], so Redis is promoted before the VIP
# moves to it.  Knobs, as variables:
#   HP_REDIS_REPLICATION  sync (default) | async
#   HP_REDIS_CONF_PASS    the password hapair uses ("" = none)
#   HP_REDIS_MONITOR      monitor_interval (default 100ms)
#   HP_REDIS_TIMEOUT      timeout (default 1s)
#   HP_REDIS_MAX_LAG      max_lag_on_failover (default 1MB)
# Sets HP_KEEP_DIR (the resource's keep_dir).
hp_conf_redis()
{
	local section out
	hp_conf "$@"
	HP_KEEP_DIR=$HP_TMP/kept
	mkdir -p "$HP_KEEP_DIR"
	section="[resource $REDIS_RES]
type = redis
port = $REDIS_PORT
replication = ${HP_REDIS_REPLICATION:-sync}
max_lag_on_failover = ${HP_REDIS_MAX_LAG:-1MB}
timeout = ${HP_REDIS_TIMEOUT:-1s}
monitor_interval = ${HP_REDIS_MONITOR:-100ms}
keep_dir = $HP_KEEP_DIR"
	if [[ -n ${HP_REDIS_CONF_PASS:-} ]]; then
		section+=$'\n'"password = $HP_REDIS_CONF_PASS"
	fi
	grep -qx '\[resource vip\]' "$HP_CONF" ||
		bail "hp_conf_redis: no [resource vip] in $HP_CONF"
	# The key file keeps its mode; only the config is rewritten.
	awk -v sect="$section" '
		$0 == "[resource vip]" { print sect; print "" }
		{ print }' "$HP_CONF" >"$HP_CONF.new"
	mv "$HP_CONF.new" "$HP_CONF"
	out=$("$HAPAIR" check-config "$HP_CONF" 2>&1) ||
		bail "hapair check-config rejects the Redis test config: $out"
}

# hp_res NODE JQ_FILTER - a field of NODE's "resources" status.
hp_res()
{
	hp_field "$1" ".resources | $2"
}

# hp_events NODE - NODE's events (`hapair events`), one message per line.
hp_events()
{
	in_ns "$1" timeout 5 "$HAPAIR" events -c "$HP_CONF" --node "$1" \
		--json -n 256 | jq -r '.events[] | .message'
}

# kept_paths NODE - the paths under keep_dir that NODE's events name
# ("... kept the old primary's data (offset N) in PATH before ...").
kept_paths()
{
	hp_events "$1" 2>/dev/null | grep -o "$HP_KEEP_DIR/[^ ,;\"')]*" |
		sed 's/[.]$//' | sort -u
}

# An event of NODE names a kept copy of its data.
has_kept_event()
{
	[[ -n $(kept_paths "$1") ]]
}

# assert_kept NODE - NODE's events name where its data was kept, and
# that file (or directory) exists and is not empty.
assert_kept()
{
	local node=$1 p found=0
	while IFS= read -r p; do
		[[ -n $p ]] || continue
		found=1
		if [[ -s $p || -d $p ]]; then
			ok "$node kept its old data in $p (event, file exists)"
		else
			not_ok "$node's event names $p, which is missing or" \
				"empty"
		fi
	done <<<"$(kept_paths "$node")"
	if ((!found)); then
		not_ok "an event of $node names where its old data was kept" \
			"(events: $(hp_events "$node" 2>/dev/null |
				tr '\n' '|'))"
	fi
}

# cut_replication NODE PEER - inside NODE, drop TCP to and from PEER's
# Redis port (the replica dials the primary: both directions of that
# connection); heartbeats and votes still flow.  heal_replication NODE
# undoes it.
cut_replication()
{
	in_ns "$1" nft -f - <<-EOF
		table inet hp_replcut {
			chain in {
				type filter hook input priority 0;
				ip saddr $(node_addr "$2") tcp sport \
					$REDIS_PORT drop
			}
			chain out {
				type filter hook output priority 0;
				ip daddr $(node_addr "$2") tcp dport \
					$REDIS_PORT drop
			}
		}
	EOF
}

heal_replication()
{
	in_ns "$1" nft delete table inet hp_replcut
}

# ---- the writer -------------------------------------------------------------

# writer_start NAME DURATION_MS [RWRITER ARGS...] - run rwriter on the
# client through the VIP (unless ARGS name other targets); its JSON goes
# to $HP_TMP/NAME.json, the acked ids to $HP_TMP/NAME.ids.
writer_start()
{
	local name=$1 duration=$2
	shift 2
	rm -f "$HP_TMP/$name.json" "$HP_TMP/$name.ids"
	bg_start "$name" c "$RWRITER" --addr "$HP_VIP" --port "$REDIS_PORT" \
		--duration-ms "$duration" --interval-ms 10 --prefix "$name" \
		--ids "$HP_TMP/$name.ids" --out "$HP_TMP/$name.json" "$@"
}

# writer_stop NAME - end the writer now (SIGTERM) and wait for its JSON.
writer_stop()
{
	bg_signal "$1" TERM || true
	wait_for "writer $1 wrote its result" 5000 test -s "$HP_TMP/$1.json"
}

# writer_wait NAME TIMEOUT_MS - the writer ran its course.
writer_wait()
{
	wait_for "writer $1 finished" "$2" test -s "$HP_TMP/$1.json"
}

# writer_q NAME JQ_ARGS... - jq over the writer's result.
writer_q()
{
	local name=$1
	shift
	jq -r "$@" "$HP_TMP/$name.json"
}

# writer_check NAME NODE [IDS_FILE] - read every acked write of NAME
# back from NODE's Redis; prints rwriter check's JSON.
writer_check()
{
	local name=$1 node=$2 ids=${3:-$HP_TMP/$1.ids}
	in_ns c timeout 20 "$RWRITER" \
		check --addr "$(node_addr "$node")" --port "$REDIS_PORT" \
		--ids "$ids" --prefix "$name"
}

# assert_no_acked_missing NAME NODE [IDS_FILE] - zero acknowledged writes
# of NAME are missing on NODE.
assert_no_acked_missing()
{
	local name=$1 node=$2 ids=${3:-$HP_TMP/$1.ids} res
	if ! res=$(writer_check "$name" "$node" "$ids"); then
		not_ok "read the acked writes back from $node"
		return 0
	fi
	assert_none_missing "writes ($(basename "$ids"))" "$node" "$res"
}

# Acked writes of NAME that server NODE acknowledged (by bind address).
# shellcheck disable=SC2016 # jq variables, not shell ones
writer_acked_by()
{
	writer_q "$1" --arg a "$(node_addr "$2")" \
		'[.servers[] | select(.addr == $a) | .acked] | add // 0'
}

# ---- cluster start ----------------------------------------------------------

# redis_cluster_up [HEARTBEAT [LEASE [HOLD_DOWN]]] - topology, vipwatch,
# Redis on a and b (both masters), config, witness, agents; then one
# primary, its Redis master and the other's Redis following it.  Extra
# redis-server arguments: REDIS_ARGS (array).  Sets HP_PRIMARY,
# HP_STANDBY.
redis_cluster_up()
{
	topo_up
	vipwatch_start 600000
	start_redis a "${REDIS_ARGS[@]}"
	start_redis b "${REDIS_ARGS[@]}"
	hp_conf_redis "$@"
	start_witness
	start_agent a
	start_agent b
	wait_one_primary $((20 * HP_LEASE_MS + 5000))
	wait_for "$HP_PRIMARY's Redis is master, $HP_STANDBY's follows it" \
		10000 redis_pair_ok "$HP_PRIMARY"
}
REDIS_ARGS=()

# ---- the fault scenario of the test_redis_<fault>.sh tests -----------------

# redis_inject FAULT NODE / redis_undo FAULT NODE - the faults:
#   redis_kill9  kill -9 of NODE's redis-server; undo: start it again,
#                empty (no persistence), as systemd's Restart= would
#   redis_kill9_restart  the same, but started again at once, without
#                waiting for the failover: an empty master is back
#                within milliseconds and must not become the data source
#   agent_kill9  kill -9 of NODE's agent (its guard lives on); undo:
#                start the agent again
#   linkdown     NODE's eth0 down; undo: up
#   sigstop      SIGSTOP of NODE's agent; undo: SIGCONT
redis_inject()
{
	case $1 in
	redis_kill9) kill_redis "$2" KILL ;;
	redis_kill9_restart)
		kill_redis "$2" KILL
		start_redis "$2"
		;;
	agent_kill9) kill_agent "$2" KILL ;;
	linkdown) link_down "$2" ;;
	sigstop) kill_agent "$2" STOP ;;
	*) bail "redis_inject: unknown fault '$1'" ;;
	esac
}

redis_undo()
{
	case $1 in
	redis_kill9) start_redis "$2" ;;
	redis_kill9_restart) ;;
	agent_kill9) start_agent "$2" ;;
	linkdown) link_up "$2" ;;
	sigstop) kill_agent "$2" CONT ;;
	esac
}

# redis_fault_scenario FAULT - the invariants of the issue, for one fault
# on the primary, with a sync-mode writer (SET + WAIT 1 200) through the
# VIP from before the fault until the old primary has rejoined:
#   - the standby takes over: it alone holds the VIP, says primary, its
#     Redis is master, and stays so while the fault lasts (5 leases);
#   - after the fault is undone: exactly one primary, for 5 leases and
#     at the end, the old one's Redis a replica of the new one with its
#     link up;
#   - zero acknowledged writes missing on the new primary, and on the old
#     primary once it has caught up (equal offsets, same key count);
#   - never two VIP holders (vipwatch);
#   - where the old primary's Redis survived as master (every fault but
#     redis_kill9*), an event of its agent names where its data was kept
#     before the resync, and that file exists.
redis_fault_scenario()
{
	local fault=$1 p s n_rejoin restarted=0
	redis_cluster_up 20ms 200ms
	p=$HP_PRIMARY
	s=$HP_STANDBY
	echo "# primary $p, standby $s; fault: $fault on $p"

	writer_start w 120000 --wait-ms 200
	wait_for "acknowledged writes reach $s's replica" 5000 \
		redis_dbsize_ge "$s" 30

	redis_inject "$fault" "$p"
	# Not sole_primary: a stopped agent answers no status, and each
	# try would cost the 2 s status timeout.
	wait_for "$s holds the VIP alone after $fault on $p" \
		"$HP_FAILOVER_MS" holder_is "$s"
	wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
	wait_for "$s's Redis is master" 5000 redis_is_master "$s"
	ok "$s took over after $fault on $p"
	# The new primary serves alone for a while (5 leases) before the
	# old one returns: the old one must stay fenced meanwhile.
	hold_for "$s stays the one VIP holder while $p is out (5 leases)" \
		"$(leases 5)" holder_is "$s"

	redis_undo "$fault" "$p"
	# The guard may have stopped the old primary's Redis to fence it.
	if ! redis_running "$p"; then
		restarted=1
	fi
	ensure_redis "$p"
	[[ $fault == redis_kill9* ]] && restarted=1
	wait_for "$p's Redis follows $s again" 20000 redis_follows "$p" "$s"
	# Writes are acknowledged again once a replica has them: let a few
	# arrive through the rejoined replica before the writer stops.
	n_rejoin=$(redis_dbsize "$s")
	wait_for "$p receives new writes as replica" 5000 \
		redis_dbsize_ge "$p" $((n_rejoin + 20))
	writer_stop w
	wait_for "$p has caught up with $s (equal offsets)" 10000 \
		redis_caught_up "$s" "$p"

	hold_for "$s stays the one primary after $p rejoined (5 leases)" \
		"$(leases 5)" primary_is "$s"
	assert_eq "exactly one primary, holding the VIP alone" "$s" \
		"$(sole_primary)"
	assert_eq "$s's Redis is master" master "$(redis_role "$s")"
	assert_eq "$p's Redis is a replica" slave "$(redis_role "$p")"
	assert_eq "$p's Redis replicates from $s" "$(node_addr "$s")" \
		"$(redis_field "$p" master_host)"
	writer_summary w
	assert_ge "writes were acknowledged" 1 "$(writer_q w .acked)"
	assert_ge "$s acknowledged writes after the failover" 1 \
		"$(writer_acked_by w "$s")"
	assert_no_acked_missing w "$s"
	assert_no_acked_missing w "$p"
	assert_eq "$p holds the same keys as $s" "$(redis_dbsize "$s")" \
		"$(redis_dbsize "$p")"

	vipwatch_stop
	assert_no_dual_holder
	if ((restarted)); then
		echo "# $p's Redis was restarted empty: nothing of it to keep"
		if has_kept_event "$p"; then
			assert_kept "$p"
		fi
	else
		assert_kept "$p"
	fi
	assert_true "agent $s still runs" pid_alive "$(bg_pid "agent-$s")"
	assert_true "agent $p still runs" pid_alive "$(bg_pid "agent-$p")"
}

# writer_summary NAME - one comment line on what the writer saw.
writer_summary()
{
	writer_q "$1" '"# writer \(.mode): sent \(.sent), accepted \(.set_ok),"
		+ " acknowledged \(.acked), errors \(.errors);"
		+ " longest stretch without an acknowledged write"
		+ " \(.outage_ms) ms, without an accepted one"
		+ " \(.set_ok_outage_ms) ms"'
}

# ---- conditions for the bad-input tests --------------------------------------

# NODE's Redis resource says unhealthy, with a detail matching REGEX
# (extended, case-insensitive).
res_unhealthy_because()
{
	local json
	json=$(hp_status "$1") || return 1
	[[ $(jq -r '.resources.healthy' <<<"$json") == false ]] || return 1
	jq -r '.resources.detail // ""' <<<"$json" | grep -qiE "$2"
}

res_healthy()
{
	[[ $(hp_res "$1" .healthy) == true ]]
}
