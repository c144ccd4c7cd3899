# shellcheck shell=bash
#
# lib_pg.sh - PostgreSQL 15 on top of the namespace harness (lib.sh): the
# PostgreSQL system tests and the PostgreSQL failover bench source it.
#
#   server a (.1)  postgres :5432  hapair agent a
#   server b (.2)  postgres :5432  hapair agent b
#   witness w (.3) hapair witness
#   client c (.10) pgwriter: INSERT, one row per commit, through the VIP
#
# One cluster per server, in $PG_ROOT/<node>/data, owned by the
# postgres user (PostgreSQL refuses to run as root), its Unix socket in
# $PG_ROOT/sock-<node> (the namespaces share one file system), its log
# in $PG_ROOT/<node>.log.  Only a's cluster is made by the harness
# (initdb with data checksums, roles postgres and replicator with
# passwords, the table hp_writes); b's data_dir is left empty and
# hapair's agent clones it from the primary with pg_basebackup on its
# first demote (issue 4: automatic first start on an empty standby).
# The agents start and stop the servers themselves (pg_ctl); the
# harness starts a once, as an installed server would be running.
#
# What is here: pg_psql / pg_in_recovery / pg_streams_from, pg_kill9
# (the postmaster), hp_conf_pg (hp_conf's config plus a [resource db]
# section before the VIP), the writer (pgw_start, pgw_stop,
# pgw_assert_no_acked_missing), and pg_cluster_up, the standard start.

# Globals set here are for the scripts that source this file.
# shellcheck disable=SC2034

if [[ -n ${HP_LIB_PG_LOADED:-} ]]; then
	return 0
fi
HP_LIB_PG_LOADED=1

# shellcheck source=tests/sys/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=5432
PG_RES=db
PG_PASS=pg-super-secret
PG_REPL_PASS=pg-repl-secret
PGWRITER=${PGWRITER:-$TOOLS/pgwriter}
PG_ROOT=

pg_dir()
{
	echo "$PG_ROOT/$1/data"
}

pg_sock()
{
	echo "$PG_ROOT/sock-$1"
}

# as_pg CMD... - run CMD as the postgres user.
as_pg()
{
	runuser -u postgres -- "$@"
}

# pg_psql NODE SQL - one statement on NODE's server, through its socket,
# unaligned, bounded by 5 s.
pg_psql()
{
	as_pg timeout 5 "$PG_BIN/psql" -h "$(pg_sock "$1")" -p "$PG_PORT" \
		-U postgres -d postgres -XAtq -c "$2"
}

pg_up()
{
	[[ $(pg_psql "$1" "SELECT 1" 2>/dev/null) == 1 ]]
}

pg_in_recovery()
{
	[[ $(pg_psql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null) == t ]]
}

pg_is_primary()
{
	[[ $(pg_psql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]
}

# pg_streams_from NODE PRIMARY - NODE's WAL receiver streams from
# PRIMARY's address.
pg_streams_from()
{
	[[ $(pg_psql "$1" "SELECT status || ' ' || sender_host FROM
		pg_stat_wal_receiver" 2>/dev/null) == \
		"streaming $(node_addr "$2")" ]]
}

# pg_pair_ok PRIMARY - PRIMARY's server is a primary, the other's a
# standby streaming from it.
pg_pair_ok()
{
	pg_is_primary "$1" && pg_streams_from "$(peer_of "$1")" "$1"
}

# pg_rows NODE [PREFIX] - rows of hp_writes (with PREFIX).
pg_rows()
{
	pg_psql "$1" "SELECT count(*) FROM hp_writes
		WHERE prefix = '${2:-w}'" 2>/dev/null
}

pg_rows_ge()
{
	local n
	n=$(pg_rows "$1" "${3:-w}") || return 1
	[[ $n =~ ^[0-9]+$ ]] && ((n >= $2))
}

# pg_caught_up PRIMARY STANDBY - STANDBY streams from PRIMARY and has
# replayed everything PRIMARY flushed.
pg_caught_up()
{
	local p s
	pg_streams_from "$2" "$1" || return 1
	p=$(pg_psql "$1" "SELECT pg_current_wal_flush_lsn()") || return 1
	s=$(pg_psql "$2" "SELECT pg_last_wal_replay_lsn()") || return 1
	[[ -n $p && $p == "$s" ]]
}

# PID of NODE's postmaster (from postmaster.pid), if it runs.
pg_pid()
{
	local pid
	{ read -r pid <"$(pg_dir "$1")/postmaster.pid"; } 2>/dev/null ||
		return 1
	pid_alive "$pid" || return 1
	echo "$pid"
}

# pg_kill9 NODE - kill -9 of NODE's postmaster; waits until it is gone.
pg_kill9()
{
	local pid
	pid=$(pg_pid "$1") || bail "postgres on $1 is not running"
	kill -KILL "$pid"
	wait_for "postmaster of $1 (pid $pid) exits" 5000 pid_gone "$pid"
	# Its children notice the postmaster's death by themselves; until
	# they have, a new postmaster refuses the shared memory they hold.
	wait_for "every postgres process of $1 exits" 10000 pg_procs_gone "$1"
	pg_reaped "$pid"
}

# pg_reaped PID - wait (at most 10 s, silently) until PID is reaped, not
# only dead: a new postmaster takes a zombie that still answers kill 0
# for a live one ("lock file postmaster.pid already exists"), and this
# machine's init reaps orphans late.
pg_reaped()
{
	local i
	for ((i = 0; i < 400; i++)); do
		[[ -e /proc/$1 ]] || return 0
		sleep 0.025
	done
	echo "# pid $1 still not reaped after 10 s"
}

# No process works in NODE's data directory any more (postgres
# processes chdir there).
pg_procs_gone()
{
	local dir p
	dir=$(readlink -f "$(pg_dir "$1")")
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/cwd" 2>/dev/null) == "$dir" ]] && return 1
	done
	return 0
}

# pg_init NODE - initdb NODE's cluster, start it, create the roles and
# the table.  The harness's one pg_ctl start; the agents do the rest.
pg_init()
{
	local node=$1 dir
	dir=$(pg_dir "$node")
	as_pg mkdir -p "$dir" "$(pg_sock "$node")"
	chmod 700 "$dir"
	as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --data-checksums -N \
		--auth-local=trust --auth-host=scram-sha-256 \
		>"$HP_TMP/initdb-$node.log" 2>&1 ||
		bail "initdb for $node failed: $(tail -3 "$HP_TMP/initdb-$node.log")"
	as_pg tee -a "$dir/postgresql.conf" >/dev/null <<-EOF
		listen_addresses = '*'
		port = $PG_PORT
		wal_level = replica
		wal_log_hints = on
		max_wal_senders = 5
		max_replication_slots = 5
		hot_standby = on
		wal_receiver_status_interval = 1s
		wal_sender_timeout = 5s
		wal_keep_size = 64MB
		shared_buffers = 16MB
		max_connections = 40
		fsync = off
		logging_collector = off
	EOF
	as_pg tee "$dir/pg_hba.conf" >/dev/null <<-EOF
		local all all trust
		host replication replicator 192.0.2.0/24 scram-sha-256
		host all postgres 192.0.2.0/24 scram-sha-256
	EOF
	in_ns "$node" runuser -u postgres -- "$PG_BIN/pg_ctl" start -D "$dir" \
		-l "$PG_ROOT/$node.log" -o "-p $PG_PORT -k $(pg_sock "$node")" \
		-w -t 30 >/dev/null || bail "pg_ctl start on $node failed"
	pg_psql "$node" "ALTER ROLE postgres PASSWORD '$PG_PASS'" >/dev/null
	pg_psql "$node" "CREATE ROLE replicator REPLICATION LOGIN
		PASSWORD '$PG_REPL_PASS'" >/dev/null
	pg_psql "$node" "CREATE TABLE hp_writes (prefix text, id bigint,
		PRIMARY KEY (prefix, id))" >/dev/null
}

# ---- hapair with a PostgreSQL resource -----------------------------------

# hp_conf_pg [HEARTBEAT [LEASE [HOLD_DOWN]]] - hp_conf's config with a
# [resource db] section before [resource vip] (PostgreSQL is promoted
# before the VIP moves to it).  Knobs: HP_PG_REPLICATION (sync, the
# default, or async), HP_PG_BIN_DIR (bin_dir; default: not set).  Passwords come from files (mode 0600).  Sets
# HP_KEEP_DIR.
hp_conf_pg()
{
	local section out node
	hp_conf "$@"
	HP_KEEP_DIR=$HP_TMP/kept
	mkdir -p "$HP_KEEP_DIR"
	(umask 077 && echo "$PG_PASS" >"$HP_TMP/pg.pass" &&
		echo "$PG_REPL_PASS" >"$HP_TMP/pg-repl.pass")
	section="[resource $PG_RES]
type = postgresql
port = $PG_PORT
replication = ${HP_PG_REPLICATION:-sync}
max_lag_on_failover = 16MB
user = postgres
password_file = $HP_TMP/pg.pass
replication_user = replicator
replication_password_file = $HP_TMP/pg-repl.pass
timeout = 2s
action_timeout = 30s
monitor_interval = 100ms
keep_dir = $HP_KEEP_DIR"
	[[ -z ${HP_PG_BIN_DIR:-} ]] || section+=$'\n'"bin_dir = $HP_PG_BIN_DIR"
	grep -qx '\[resource vip\]' "$HP_CONF" ||
		bail "hp_conf_pg: no [resource vip] in $HP_CONF"
	awk -v sect="$section" '
		$0 == "[resource vip]" { print sect; print "" }
		{ print }' "$HP_CONF" >"$HP_CONF.new"
	mv "$HP_CONF.new" "$HP_CONF"
	# One config, two servers: data_dir, host and log_file differ per
	# node, so each agent gets its own copy (same cluster and key).
	for node in a b; do
		sed -e "/^\[resource $PG_RES\]/a data_dir = $(pg_dir "$node")" \
			-e "/^\[resource $PG_RES\]/a host = $(pg_sock "$node")" \
			-e "/^\[resource $PG_RES\]/a log_file = $PG_ROOT/$node.log" \
			"$HP_CONF" >"$HP_CONF.$node"
		out=$("$HAPAIR" check-config "$HP_CONF.$node" 2>&1) ||
			bail "hapair check-config rejects the PostgreSQL" \
				"test config: $out"
	done
	# status and the witness read a's copy (run_dir, nodes, key).
	HP_CONF=$HP_CONF.a
}

# start_agent_pg NODE - start NODE's agent with NODE's config copy.
start_agent_pg()
{
	local node=$1
	bg_start "agent-$node" "$node" "$HAPAIR" agent -c "${HP_CONF%.a}.$node" \
		-n "$node"
	wait_for "agent $node answers status" 5000 hp_status "$node"
}

# pg_events NODE - NODE's events (hapair events), one JSON per line.
pg_events()
{
	in_ns "$1" timeout 2 "$HAPAIR" events -c "$HP_CONF" --node "$1" \
		-n 256 --json 2>/dev/null | jq -c '.events[]' 2>/dev/null
}

# kept_paths NODE - the directories under keep_dir that NODE's events
# name ("... kept the old primary's WAL past ... in PATH before ...").
kept_paths()
{
	{ pg_events "$1" | grep -o "$HP_KEEP_DIR/[^ ,;\"')]*" |
		sed 's/[.]$//' | sort -u; } || true
}

# ---- the writer -------------------------------------------------------------

# pgw_start NAME DURATION_MS [PGWRITER ARGS...] - pgwriter on the client
# through the VIP; JSON to $HP_TMP/NAME.json, acked ids to NAME.ids.
pgw_start()
{
	local name=$1 duration=$2
	shift 2
	rm -f "$HP_TMP/$name.json" "$HP_TMP/$name.ids"
	bg_start "$name" c env PGPASSWORD="$PG_PASS" "$PGWRITER" \
		--host "$HP_VIP" --port "$PG_PORT" --duration-ms "$duration" \
		--interval-ms 10 --prefix "$name" --ids "$HP_TMP/$name.ids" \
		--out "$HP_TMP/$name.json" "$@"
}

pgw_stop()
{
	bg_signal "$1" TERM || true
	wait_for "writer $1 wrote its result" 10000 test -s "$HP_TMP/$1.json"
}

pgw_q()
{
	local name=$1
	shift
	jq -r "$@" "$HP_TMP/$name.json"
}

pgw_summary()
{
	pgw_q "$1" '"# writer: sent \(.sent), acknowledged \(.acked),"
		+ " errors \(.errors), unsafe \(.unsafe); longest stretch"
		+ " without an acknowledged commit \(.outage_ms) ms"'
}

# pgw_assert_no_acked_missing NAME NODE - zero acknowledged rows of
# NAME missing on NODE (read through NODE's address).
pgw_assert_no_acked_missing()
{
	local name=$1 node=$2 res
	if ! res=$(in_ns c env PGPASSWORD="$PG_PASS" timeout 20 "$PGWRITER" \
		check --host "$(node_addr "$node")" --port "$PG_PORT" \
		--ids "$HP_TMP/$name.ids" --prefix "$name"); then
		not_ok "read the acknowledged rows back from $node"
		return 0
	fi
	assert_none_missing "rows of $name" "$node" "$res"
}

# ---- cluster start ----------------------------------------------------------

# pg_cluster_up [HEARTBEAT [LEASE [HOLD_DOWN]]] - topology, vipwatch,
# a's cluster, config, witness, agents; then one primary (a: higher
# priority, the one with data), its server primary and b's a clone
# streaming from it.  Sets HP_PRIMARY, HP_STANDBY.
pg_cluster_up()
{
	topo_up
	# The postgres user must reach its directories under $HP_TMP.
	chmod 711 "$HP_TMP"
	PG_ROOT=$HP_TMP/pg
	mkdir -p "$PG_ROOT"
	chown postgres: "$PG_ROOT"
	vipwatch_start 600000
	pg_init a
	as_pg mkdir -p "$PG_ROOT/b" "$(pg_sock b)"
	hp_conf_pg "$@"
	start_witness
	start_agent_pg a
	start_agent_pg b
	wait_one_primary $((20 * HP_LEASE_MS + 10000))
	wait_for "$HP_STANDBY's server is a clone streaming from $HP_PRIMARY" \
		40000 pg_pair_ok "$HP_PRIMARY"
	wait_for "$HP_STANDBY reports its link up (in sync)" 10000 \
		res_link_up "$HP_STANDBY"
}

# ---- the fault scenario of the test_pg_<fault>.sh tests ---------------------

# pg_inject FAULT NODE / pg_undo FAULT NODE:
#   pg_kill9     kill -9 of NODE's postmaster; undo: nothing (the agent
#                brings the server back as a standby by itself)
#   agent_kill9  kill -9 of NODE's agent (its guard fences); undo:
#                start the agent again
#   linkdown     NODE's eth0 down; undo: up
#   sigstop      SIGSTOP of NODE's agent (its guard fences); undo: SIGCONT
pg_inject()
{
	case $1 in
	pg_kill9) pg_kill9 "$2" ;;
	agent_kill9) kill_agent "$2" KILL ;;
	linkdown) link_down "$2" ;;
	sigstop) kill_agent "$2" STOP ;;
	*) bail "pg_inject: unknown fault '$1'" ;;
	esac
}

pg_undo()
{
	case $1 in
	pg_kill9) ;;
	agent_kill9) start_agent_pg "$2" ;;
	linkdown) link_up "$2" ;;
	sigstop) kill_agent "$2" CONT ;;
	esac
}

# pg_fault_scenario FAULT - the invariants of issue 4 for one fault on
# the primary, with a sync-mode writer through the VIP from before the
# fault until the old primary has rejoined:
#   - the standby takes over: it alone holds the VIP, says primary, its
#     server is out of recovery;
#   - after the fault is undone: exactly one primary (one server out of
#     recovery, the VIP on it), the old primary a standby streaming from
#     the new one (pg_stat_wal_receiver), by itself;
#   - zero acknowledged rows missing on the new primary, and on the old
#     one once it has caught up;
#   - never two VIP holders (vipwatch).
pg_fault_scenario()
{
	local fault=$1 p s n
	pg_cluster_up 20ms 200ms
	p=$HP_PRIMARY
	s=$HP_STANDBY
	echo "# primary $p, standby $s; fault: $fault on $p"

	pgw_start w 60000
	wait_for "acknowledged rows reach $s" 10000 pg_rows_ge "$s" 30

	pg_inject "$fault" "$p"
	wait_for "$s holds the VIP alone after $fault on $p" \
		"$HP_FAILOVER_MS" holder_is "$s"
	wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
	wait_for "$s's server is a primary" 10000 pg_is_primary "$s"
	ok "$s took over after $fault on $p"
	hold_for "$s stays the one VIP holder while $p is out (5 leases)" \
		"$(leases 5)" holder_is "$s"

	pg_undo "$fault" "$p"
	wait_for "$p's server streams from $s again (rejoined by itself)" \
		30000 pg_streams_from "$p" "$s"
	n=$(pg_rows "$s")
	wait_for "$p receives new rows as a standby" 10000 \
		pg_rows_ge "$p" $((n + 20))
	pgw_stop w
	wait_for "$p has caught up with $s" 10000 pg_caught_up "$s" "$p"

	hold_for "$s stays the one primary after $p rejoined (5 leases)" \
		"$(leases 5)" primary_is_why "$s" ||
		echo "# why: $(cat "$HP_TMP/why" 2>/dev/null)"
	assert_eq "exactly one primary, holding the VIP alone" "$s" \
		"$(sole_primary)"
	assert_true "$s's server is out of recovery" pg_is_primary "$s"
	assert_true "$p's server is in recovery" pg_in_recovery "$p"
	pgw_summary w
	assert_ge "commits were acknowledged" 1 "$(pgw_q w .acked)"
	pgw_assert_no_acked_missing w "$s"
	pgw_assert_no_acked_missing w "$p"
	assert_eq "$p holds the same rows as $s" "$(pg_rows "$s")" \
		"$(pg_rows "$p")"
	vipwatch_stop
	assert_no_dual_holder
	kept=$(kept_paths "$p")
	if [[ -n $kept ]]; then
		for k in $kept; do
			assert_true "$p kept its diverged WAL in $k" test -d "$k"
		done
	else
		echo "# $p had nothing past the divergence point to keep"
	fi
	echo "# events of $p:"
	{ pg_events "$p" | jq -r '.message // .msg // tostring' |
		grep -i postgresql | sed 's/^/#   /' | tail -n 8; } || true
	assert_true "agent $s still runs" pid_alive "$(bg_pid "agent-$s")"
	assert_true "agent $p still runs" pid_alive "$(bg_pid "agent-$p")"
}
