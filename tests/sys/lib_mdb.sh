# shellcheck shell=bash
#
# lib_mdb.sh - MariaDB 10.11 on top of the namespace harness (lib.sh):
# the MariaDB system tests and the MariaDB failover bench source it.
#
#   server a (.1)  mariadbd :3306  hapair agent a
#   server b (.2)  mariadbd :3306  hapair agent b
#   witness w (.3) hapair witness
#   client c (.10) mdbwriter: INSERT, one row per commit, through the VIP
#
# One server per node, its data in $MDB_ROOT/<node>/data, owned by the
# mysql user, its Unix socket in $MDB_ROOT/sock-<node> (the namespaces
# share one file system), its options in a generated $MDB_ROOT/<node>/my.cnf
# (server_id 1 or 2, binary log with GTIDs in strict mode, row format,
# durable commits, small buffers) and its error log in
# $HP_TMP/mariadb-<node>.log (shown with the other logs when a test
# fails).  The server listens on every address of its namespace (its own
# and, on the primary, the VIP the writer connects to).
#
# Only a's server is made by the harness (mariadb-install-db as mysql,
# the accounts below, the table test.hp_writes) and started once, as an
# installed server would be running; b's datadir is left empty and
# hapair's agent clones it from the primary (mariadb-dump) on its first
# demote.  The agents start, fence and restart the servers themselves.
#
# Accounts (a's; b gets them with the clone):
#   root@localhost     unix_socket (mariadb-install-db's)
#   hapair@'%', hapair@localhost
#                      the agent's (socket and TCP: the clone dumps the
#                      peer with it): every privilege, password
#                      $MDB_PASS; also the harness's own (mdb_sql)
#   replicator@'%'     REPLICATION SLAVE (and BINLOG MONITOR, to read
#                      the peer's GTID state), password $MDB_REPL_PASS
#   writer@'%'         INSERT and SELECT on test (no privilege that
#                      passes read_only), password $MDB_WRITER_PASS
#
# What is here: mdb_sql / mdb_read_only / mdb_writable /
# mdb_replicates_from, mdb_pid / mdb_kill9, hp_conf_mdb (hp_conf's config
# plus a [resource db] section before the VIP), the writer (mdbw_start,
# mdbw_stop, mdbw_assert_no_acked_missing), mdb_cluster_up, the standard
# start, and mdb_fault_scenario, the fault tests' common body.  The EXIT
# trap kills (SIGKILL) every mariadbd of $MDB_ROOT (the harness's and the
# agents'), found by its pid file and by its command line, before and
# after stopping the agents, then runs lib.sh's teardown.

# Globals set here are for the scripts that source this file.
# shellcheck disable=SC2034

if [[ -n ${HP_LIB_MDB_LOADED:-} ]]; then
	return 0
fi
HP_LIB_MDB_LOADED=1

# shellcheck source=tests/sys/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MDB_BIN=${MDB_BIN:-/usr/sbin/mariadbd}
MDB_CLIENT=${MDB_CLIENT:-/usr/bin/mariadb}
MDB_PORT=3306
MDB_RES=db
MDB_USER=hapair
MDB_PASS=mdb-agent-secret
MDB_REPL_PASS=mdb-repl-secret
MDB_WRITER_PASS=mdb-writer-secret
MDBWRITER=${MDBWRITER:-$TOOLS/mdbwriter}
MDB_ROOT=

mdb_dir()
{
	echo "$MDB_ROOT/$1/data"
}

mdb_sock()
{
	echo "$MDB_ROOT/sock-$1/mysqld.sock"
}

mdb_cnf()
{
	echo "$MDB_ROOT/$1/my.cnf"
}

mdb_log()
{
	echo "$HP_TMP/mariadb-$1.log"
}

# The pid file of NODE's server: the one the agent gives the servers it
# starts, and the harness gives a's.
mdb_pidfile()
{
	echo "$(mdb_dir "$1")/hapair-mariadbd.pid"
}

mdb_server_id()
{
	case $1 in
	a) echo 1 ;;
	b) echo 2 ;;
	*) echo "mdb_server_id: '$1' is not a server" >&2; return 1 ;;
	esac
}

# mdb_sql NODE SQL - statements on NODE's server as the agent's account,
# through its socket; tab-separated rows without column names, bounded
# by 5 s.
mdb_sql()
{
	MYSQL_PWD=$MDB_PASS timeout 5 "$MDB_CLIENT" --no-defaults \
		--socket="$(mdb_sock "$1")" -u "$MDB_USER" -N -B \
		--connect-timeout=2 -e "$2"
}

# mdb_sql_v NODE SQL - the same, one "Column: value" line per column
# (SHOW SLAVE STATUS).
mdb_sql_v()
{
	MYSQL_PWD=$MDB_PASS timeout 5 "$MDB_CLIENT" --no-defaults \
		--socket="$(mdb_sock "$1")" -u "$MDB_USER" -E \
		--connect-timeout=2 -e "$2"
}

# mdb_sql_root NODE SQL - the same as root through unix_socket (before
# the accounts exist).
mdb_sql_root()
{
	timeout 10 "$MDB_CLIENT" --no-defaults --socket="$(mdb_sock "$1")" \
		-u root -N -B --connect-timeout=2 -e "$2"
}

mdb_up()
{
	[[ $(mdb_sql "$1" "SELECT 1" 2>/dev/null) == 1 ]]
}

# NODE's server answers and has read_only = 1 (a standby).
mdb_read_only()
{
	[[ $(mdb_sql "$1" "SELECT @@read_only" 2>/dev/null) == 1 ]]
}

# NODE's server answers and has read_only = 0 (a writable primary).
mdb_writable()
{
	[[ $(mdb_sql "$1" "SELECT @@read_only" 2>/dev/null) == 0 ]]
}

# mdb_slave_field NODE FIELD - one field of SHOW SLAVE STATUS on NODE
# (empty when NODE has no replication configured).
mdb_slave_field()
{
	local out
	out=$(mdb_sql_v "$1" "SHOW SLAVE STATUS") || return 1
	awk -v f="$2" '
		{ sub(/^ +/, "") }
		index($0, f ": ") == 1 { print substr($0, length(f) + 3) }
	' <<<"$out"
}

# mdb_replicates_from NODE PEER - NODE's IO and SQL threads run and its
# master is PEER's address.
mdb_replicates_from()
{
	local out
	out=$(mdb_sql_v "$1" "SHOW SLAVE STATUS") || return 1
	grep -qx ' *Slave_IO_Running: Yes' <<<"$out" &&
		grep -qx ' *Slave_SQL_Running: Yes' <<<"$out" &&
		grep -qx " *Master_Host: $(node_addr "$2")" <<<"$out"
}

# mdb_not_replicating NODE - NODE's server answers and its IO thread
# does not run (nothing configured, or stopped, or failing).
mdb_not_replicating()
{
	local io
	io=$(mdb_slave_field "$1" Slave_IO_Running) || return 1
	[[ $io != Yes ]]
}

# mdb_status_var NODE NAME - a global status variable of NODE's server.
mdb_status_var()
{
	mdb_sql "$1" "SELECT VARIABLE_VALUE FROM
		information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '$2'"
}

# mdb_in_sync PRIMARY STANDBY - semi-synchronous replication is on: the
# primary's master side is on with a client, the standby's slave side on
# and the standby replicates from the primary.
mdb_in_sync()
{
	mdb_replicates_from "$2" "$1" &&
		[[ $(mdb_status_var "$1" RPL_SEMI_SYNC_MASTER_STATUS) == ON ]] &&
		[[ $(mdb_status_var "$1" RPL_SEMI_SYNC_MASTER_CLIENTS) -ge 1 ]] &&
		[[ $(mdb_status_var "$2" RPL_SEMI_SYNC_SLAVE_STATUS) == ON ]]
}

# mdb_pair_ok PRIMARY - PRIMARY's server is writable, the other's is
# read-only and replicates from it.
mdb_pair_ok()
{
	local s
	s=$(peer_of "$1")
	mdb_writable "$1" && mdb_read_only "$s" && mdb_replicates_from "$s" "$1"
}

# mdb_gtid NODE [VAR] - NODE's @@gtid_binlog_pos (or @@VAR).
mdb_gtid()
{
	mdb_sql "$1" "SELECT @@${2:-gtid_binlog_pos}"
}

# mdb_caught_up PRIMARY STANDBY - STANDBY replicates from PRIMARY and has
# applied every transaction PRIMARY has in its binary log.
mdb_caught_up()
{
	local p s
	mdb_replicates_from "$2" "$1" || return 1
	p=$(mdb_gtid "$1") || return 1
	s=$(mdb_gtid "$2" gtid_slave_pos) || return 1
	[[ -n $p && $p == "$s" ]]
}

# mdb_rows NODE [PREFIX] - rows of test.hp_writes (with PREFIX).
mdb_rows()
{
	mdb_sql "$1" "SELECT count(*) FROM test.hp_writes
		WHERE prefix = '${2:-w}'" 2>/dev/null
}

mdb_rows_ge()
{
	local n
	n=$(mdb_rows "$1" "${3:-w}") || return 1
	[[ $n =~ ^[0-9]+$ ]] && ((n >= $2))
}

# PID of NODE's mariadbd (from its pid file), if it runs: the process
# must exist and be a mariadbd (a stale pid file may name another).
mdb_pid()
{
	local pid comm
	{ read -r pid <"$(mdb_pidfile "$1")"; } 2>/dev/null || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	{ read -r comm <"/proc/$pid/comm"; } 2>/dev/null || return 1
	[[ $comm == mariadbd ]] || return 1
	echo "$pid"
}

# mdb_kill9 NODE - kill -9 of NODE's mariadbd; waits until it is gone.
mdb_kill9()
{
	local pid
	pid=$(mdb_pid "$1") || bail "mariadbd on $1 is not running"
	kill -KILL "$pid"
	wait_for "mariadbd of $1 (pid $pid) exits" 5000 pid_gone "$pid"
}

# mdb_stopped NODE - no mariadbd runs for NODE's datadir.
mdb_stopped()
{
	[[ -z $(mdb_pids_of "$(mdb_dir "$1")") ]]
}

# mdb_pids_of DIR - every mariadbd whose command line names DIR (the
# servers started with --datadir DIR or a my.cnf under it).
mdb_pids_of()
{
	local p comm
	for p in /proc/[0-9]*; do
		{ read -r comm <"$p/comm"; } 2>/dev/null || continue
		[[ $comm == mariadbd ]] || continue
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$1" ||
			continue
		echo "${p#/proc/}"
	done
}

# Kill every mariadbd of this test: by pid file, then whatever else runs
# with a command line under $MDB_ROOT (a server started with another
# pid file).  SIGKILL: nothing of them is kept.
mdb_kill_servers()
{
	local node pid
	[[ -n $MDB_ROOT && -d $MDB_ROOT ]] || return 0
	for node in a b; do
		pid=$(mdb_pid "$node" 2>/dev/null) || continue
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in $(mdb_pids_of "$MDB_ROOT"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# The EXIT trap: the servers first, then the registered processes (the
# agents), then the servers again (one an agent started in between),
# then lib.sh's report and teardown with the test's exit status.
mdb_exit()
{
	local rc=$?
	set +e
	trap - ERR
	mdb_kill_servers
	if [[ -n $HP_TMP && -d $HP_TMP ]]; then
		bg_stop_all
	fi
	mdb_kill_servers
	mdb_return "$rc"
	hp_exit
}

mdb_return()
{
	return "$1"
}

trap mdb_exit EXIT

# mdb_write_cnf NODE - NODE's my.cnf (read-only for mysql: the server
# only reads it).
mdb_write_cnf()
{
	local node=$1
	mkdir -p "$MDB_ROOT/$node"
	cat >"$(mdb_cnf "$node")" <<-EOF
		[mariadbd]
		server_id = $(mdb_server_id "$node")
		log_bin = bin
		relay_log = relay-bin
		log_slave_updates = ON
		binlog_format = ROW
		gtid_strict_mode = ON
		# Every address of the namespace: the node's own and the VIP.
		bind_address = 0.0.0.0
		port = $MDB_PORT
		skip_name_resolve
		innodb_flush_log_at_trx_commit = 1
		sync_binlog = 1
		innodb_buffer_pool_size = 32M
		innodb_log_file_size = 16M
		key_buffer_size = 1M
		performance_schema = OFF
		max_connections = 60
		skip_external_locking
	EOF
	chmod 644 "$(mdb_cnf "$node")"
}

# mdb_prepare NODE - NODE's directories (empty datadir, socket
# directory), my.cnf and error log file, all usable by mysql.
mdb_prepare()
{
	local node=$1
	mdb_write_cnf "$node"
	install -d -o mysql -g mysql -m 750 "$(mdb_dir "$node")"
	install -d -o mysql -g mysql -m 755 "$(dirname "$(mdb_sock "$node")")"
	install -o mysql -g mysql -m 640 /dev/null "$(mdb_log "$node")"
}

# mdb_start_server NODE - start NODE's server in its namespace, as the
# agent would (same pid file, socket, port and log), but writable: a's
# server as installed.  Waits until it answers.
mdb_start_server()
{
	local node=$1
	bg_start "mariadbd-$node" "$node" "$MDB_BIN" \
		--defaults-file="$(mdb_cnf "$node")" --user=mysql \
		--datadir="$(mdb_dir "$node")" --socket="$(mdb_sock "$node")" \
		--port="$MDB_PORT" --pid-file="$(mdb_pidfile "$node")" \
		--log-error="$(mdb_log "$node")"
	wait_for "mariadbd on $node answers on its socket" 30000 \
		mdb_sql_root "$node" "SELECT 1"
}

# mdb_init NODE - mariadb-install-db for NODE, start the server, create
# the accounts and the table.  The harness's one server start; the
# agents do the rest.
mdb_init()
{
	local node=$1 out
	mdb_prepare "$node"
	if ! out=$(mariadb-install-db --defaults-file="$(mdb_cnf "$node")" \
		--user=mysql --datadir="$(mdb_dir "$node")" \
		--auth-root-authentication-method=socket --skip-test-db \
		--skip-name-resolve 2>&1); then
		bail "mariadb-install-db for $node failed: $(tail -3 <<<"$out")"
	fi
	mdb_start_server "$node"
	mdb_sql_root "$node" "
		CREATE USER $MDB_USER@'%' IDENTIFIED BY '$MDB_PASS';
		GRANT ALL PRIVILEGES ON *.* TO $MDB_USER@'%' WITH GRANT OPTION;
		CREATE USER $MDB_USER@localhost IDENTIFIED BY '$MDB_PASS';
		GRANT ALL PRIVILEGES ON *.* TO $MDB_USER@localhost
			WITH GRANT OPTION;
		CREATE USER replicator@'%' IDENTIFIED BY '$MDB_REPL_PASS';
		GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.*
			TO replicator@'%';
		CREATE USER writer@'%' IDENTIFIED BY '$MDB_WRITER_PASS';
		CREATE DATABASE test;
		GRANT INSERT, SELECT ON test.* TO writer@'%';
		CREATE TABLE test.hp_writes (prefix VARCHAR(32) NOT NULL,
			id BIGINT NOT NULL, PRIMARY KEY (prefix, id))
			ENGINE = InnoDB;" ||
		bail "creating the accounts and the table on $node failed"
	mdb_up "$node" || bail "the agent's account $MDB_USER cannot log in on $node"
}

# ---- hapair with a MariaDB resource -----------------------------------------

# hp_conf_mdb [HEARTBEAT [LEASE [HOLD_DOWN]]] - hp_conf's config with a
# [resource db] section before [resource vip] (MariaDB is promoted
# before the VIP moves to it).  Knobs: HP_MDB_REPLICATION (sync, the
# default, or async).  Passwords come from files (mode 0600).  Sets
# HP_KEEP_DIR.  Each node gets its own copy (datadir, socket, my.cnf and
# log differ); HP_CONF names a's.
hp_conf_mdb()
{
	local section out node
	hp_conf "$@"
	HP_KEEP_DIR=$HP_TMP/kept
	mkdir -p "$HP_KEEP_DIR"
	(umask 077 && echo "$MDB_PASS" >"$HP_TMP/mdb.pass" &&
		echo "$MDB_REPL_PASS" >"$HP_TMP/mdb-repl.pass")
	section="[resource $MDB_RES]
type = mariadb
port = $MDB_PORT
mariadbd = $MDB_BIN
os_user = mysql
user = $MDB_USER
password_file = $HP_TMP/mdb.pass
replication_user = replicator
replication_password_file = $HP_TMP/mdb-repl.pass
replication = ${HP_MDB_REPLICATION:-sync}
max_lag_on_failover = 1000
gtid_domain = 0
timeout = 2s
action_timeout = 30s
monitor_interval = 100ms
keep_dir = $HP_KEEP_DIR"
	grep -qx '\[resource vip\]' "$HP_CONF" ||
		bail "hp_conf_mdb: no [resource vip] in $HP_CONF"
	awk -v sect="$section" '
		$0 == "[resource vip]" { print sect; print "" }
		{ print }' "$HP_CONF" >"$HP_CONF.new"
	mv "$HP_CONF.new" "$HP_CONF"
	for node in a b; do
		sed -e "/^\[resource $MDB_RES\]/a datadir = $(mdb_dir "$node")" \
			-e "/^\[resource $MDB_RES\]/a socket = $(mdb_sock "$node")" \
			-e "/^\[resource $MDB_RES\]/a defaults_file = $(mdb_cnf "$node")" \
			-e "/^\[resource $MDB_RES\]/a log_file = $(mdb_log "$node")" \
			"$HP_CONF" >"$HP_CONF.$node"
		out=$("$HAPAIR" check-config "$HP_CONF.$node" 2>&1) ||
			bail "hapair check-config rejects the MariaDB" \
				"test config: $out"
	done
	HP_CONF=$HP_CONF.a
}

# The config copy of NODE.
mdb_conf_of()
{
	echo "${HP_CONF%.a}.$1"
}

# start_agent_mdb NODE - start NODE's agent with NODE's config copy.
start_agent_mdb()
{
	local node=$1
	bg_start "agent-$node" "$node" "$HAPAIR" agent -c "$(mdb_conf_of "$node")" \
		-n "$node"
	wait_for "agent $node answers status" 5000 hp_status "$node"
}

# mdb_events NODE - NODE's events (hapair events), one JSON per line.
mdb_events()
{
	in_ns "$1" timeout 2 "$HAPAIR" events -c "$HP_CONF" --node "$1" \
		-n 256 --json 2>/dev/null | jq -c '.events[]' 2>/dev/null
}

# An event of NODE matches REGEX (extended).
mdb_event_matches()
{
	mdb_events "$1" | grep -qE "$2"
}

# NODE's resource detail matches REGEX (extended).
mdb_detail_matches()
{
	hp_field "$1" '.resources.detail' | grep -qE "$2"
}

# mdb_kept_paths NODE - the directories under keep_dir that NODE's events
# name.
mdb_kept_paths()
{
	{ mdb_events "$1" | grep -o "$HP_KEEP_DIR/[^ ,;\"')]*" |
		sed 's/[.]$//' | sort -u; } || true
}

# ---- the writer -------------------------------------------------------------

# mdbw_start NAME DURATION_MS [MDBWRITER ARGS...] - mdbwriter on the
# client through the VIP; JSON to $HP_TMP/NAME.json, acked ids to
# NAME.ids.
mdbw_start()
{
	local name=$1 duration=$2
	shift 2
	rm -f "$HP_TMP/$name.json" "$HP_TMP/$name.ids"
	bg_start "$name" c "$MDBWRITER" --host "$HP_VIP" --port "$MDB_PORT" \
		--user writer --password "$MDB_WRITER_PASS" \
		--duration-ms "$duration" --interval-ms 10 --prefix "$name" \
		--ids "$HP_TMP/$name.ids" --out "$HP_TMP/$name.json" "$@"
}

mdbw_stop()
{
	bg_signal "$1" TERM || true
	wait_for "writer $1 wrote its result" 10000 test -s "$HP_TMP/$1.json"
}

mdbw_q()
{
	local name=$1
	shift
	jq -r "$@" "$HP_TMP/$name.json"
}

mdbw_summary()
{
	mdbw_q "$1" '"# writer: sent \(.sent), acknowledged \(.acked),"
		+ " errors \(.errors), slots skipped \(.skipped),"
		+ " connects \(.connects); longest stretch without an"
		+ " acknowledged commit \(.outage_ms) ms; last error:"
		+ " \(.last_error)"'
}

# mdbw_assert_no_acked_missing NAME NODE - zero acknowledged rows of
# NAME missing on NODE (read through NODE's address).
mdbw_assert_no_acked_missing()
{
	local name=$1 node=$2 res
	if ! res=$(in_ns c timeout 20 "$MDBWRITER" check \
		--host "$(node_addr "$node")" --port "$MDB_PORT" \
		--user writer --password "$MDB_WRITER_PASS" \
		--ids "$HP_TMP/$name.ids" --prefix "$name" 2>&1); then
		not_ok "read the acknowledged rows back from $node: $res"
		return 0
	fi
	assert_none_missing "rows of $name" "$node" "$res"
}

# ---- cluster start ----------------------------------------------------------

# mdb_cluster_up [HEARTBEAT [LEASE [HOLD_DOWN]]] - topology, vipwatch,
# a's server, config, witness, agents; then one primary (a: higher
# priority, the one with data), its server writable and b's a clone
# replicating from it in sync.  Sets HP_PRIMARY, HP_STANDBY.
mdb_cluster_up()
{
	topo_up
	# The mysql user must reach its directories under $HP_TMP.
	chmod 711 "$HP_TMP"
	MDB_ROOT=$HP_TMP/mdb
	mkdir -p "$MDB_ROOT"
	chmod 755 "$MDB_ROOT"
	vipwatch_start 600000
	mdb_init a
	mdb_prepare b
	hp_conf_mdb "$@"
	start_witness
	start_agent_mdb a
	start_agent_mdb b
	wait_one_primary $((20 * HP_LEASE_MS + 10000))
	wait_for "$HP_STANDBY's server is a clone replicating from $HP_PRIMARY" \
		60000 mdb_pair_ok "$HP_PRIMARY"
	wait_for "replication $HP_PRIMARY -> $HP_STANDBY is semi-synchronous" \
		10000 mdb_in_sync "$HP_PRIMARY" "$HP_STANDBY"
	wait_for "$HP_STANDBY reports its link up (in sync)" 10000 \
		res_link_up "$HP_STANDBY"
}

# mdb_shutdown NODE - orderly shutdown of NODE's server (SHUTDOWN as the
# agent's account); waits until no mariadbd works in its datadir.
mdb_shutdown()
{
	local i pid
	mdb_sql "$1" "SHUTDOWN" >/dev/null 2>&1 || true
	# On a loaded machine the SHUTDOWN statement itself can time out
	# (mdb_sql's 5 s): after 10 s still running, SIGTERM, which
	# mariadbd takes as the same orderly shutdown.
	for ((i = 0; i < 400; i++)); do
		mdb_stopped "$1" && return 0
		sleep 0.025
	done
	for pid in $(mdb_pids_of "$(mdb_dir "$1")"); do
		echo "# mariadbd of $1 (pid $pid) still runs after SHUTDOWN;" \
			"SIGTERM"
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait_for "mariadbd of $1 shuts down" 30000 mdb_stopped "$1"
}

# ---- the fault scenario of the test_mdb_<fault>.sh tests --------------------

# mdb_inject FAULT NODE / mdb_undo FAULT NODE:
#   mdb_kill9    kill -9 of NODE's mariadbd; undo: nothing (the agent
#                brings the server back as a standby by itself)
#   agent_kill9  kill -9 of NODE's agent (its guard fences); undo:
#                start the agent again
#   linkdown     NODE's eth0 down; undo: up
#   sigstop      SIGSTOP of NODE's agent (its guard fences); undo: SIGCONT
mdb_inject()
{
	case $1 in
	mdb_kill9) mdb_kill9 "$2" ;;
	agent_kill9) kill_agent "$2" KILL ;;
	linkdown) link_down "$2" ;;
	sigstop) kill_agent "$2" STOP ;;
	*) bail "mdb_inject: unknown fault '$1'" ;;
	esac
}

mdb_undo()
{
	case $1 in
	mdb_kill9) ;;
	agent_kill9) start_agent_mdb "$2" ;;
	linkdown) link_up "$2" ;;
	sigstop) kill_agent "$2" CONT ;;
	esac
}

# mdb_fault_scenario FAULT - the invariants of issue 5 for one fault on
# the primary, with a sync-mode writer through the VIP from before the
# fault until the old primary has rejoined:
#   - the standby takes over: it alone holds the VIP, says primary, its
#     server is writable;
#   - after the fault is undone: exactly one primary (read_only = 0, the
#     VIP on it), the old primary read_only = 1 and replicating from the
#     new one by GTID (IO and SQL threads running), by itself;
#   - zero acknowledged rows missing on the new primary, and on the old
#     one once it has caught up;
#   - never two VIP holders (vipwatch).
mdb_fault_scenario()
{
	local fault=$1 p s n k kept
	mdb_cluster_up 20ms 200ms
	p=$HP_PRIMARY
	s=$HP_STANDBY
	echo "# primary $p, standby $s; fault: $fault on $p"

	mdbw_start w 60000
	wait_for "acknowledged rows reach $s" 10000 mdb_rows_ge "$s" 30

	mdb_inject "$fault" "$p"
	wait_for "$s holds the VIP alone after $fault on $p" \
		"$HP_FAILOVER_MS" holder_is "$s"
	wait_for "$s reports primary" "$HP_FAILOVER_MS" role_is "$s" primary
	wait_for "$s's server is writable" 10000 mdb_writable "$s"
	ok "$s took over after $fault on $p"
	hold_for "$s stays the one VIP holder while $p is out (5 leases)" \
		"$(leases 5)" holder_is "$s"

	mdb_undo "$fault" "$p"
	wait_for "$p's server replicates from $s again (rejoined by itself)" \
		30000 mdb_replicates_from "$p" "$s"
	n=$(mdb_rows "$s")
	wait_for "$p receives new rows as a standby" 10000 \
		mdb_rows_ge "$p" $((n + 20))
	mdbw_stop w
	wait_for "$p has caught up with $s" 10000 mdb_caught_up "$s" "$p"

	hold_for "$s stays the one primary after $p rejoined (5 leases)" \
		"$(leases 5)" primary_is_why "$s" ||
		echo "# why: $(cat "$HP_TMP/why" 2>/dev/null)"
	assert_eq "exactly one primary, holding the VIP alone" "$s" \
		"$(sole_primary)"
	assert_true "$s's server is writable (read_only = 0)" mdb_writable "$s"
	# The promote reports done once the server is writable and clears
	# replication after that (RESET SLAVE ALL): it must have.
	assert_eq "$s has no replication configured (RESET SLAVE ALL ran)" \
		"" "$(mdb_slave_field "$s" Master_Host)"
	assert_true "$p's server is read-only (read_only = 1)" \
		mdb_read_only "$p"
	assert_true "$p replicates from $s by GTID (IO and SQL running)" \
		mdb_replicates_from "$p" "$s"
	assert_eq "$p replicates with MASTER_USE_GTID" yes \
		"$(mdb_using_gtid "$p")"
	mdbw_summary w
	assert_ge "commits were acknowledged" 1 "$(mdbw_q w .acked)"
	mdbw_assert_no_acked_missing w "$s"
	mdbw_assert_no_acked_missing w "$p"
	assert_eq "$p holds the same rows as $s" "$(mdb_rows "$s")" \
		"$(mdb_rows "$p")"
	vipwatch_stop
	assert_no_dual_holder
	kept=$(mdb_kept_paths "$p")
	if [[ -n $kept ]]; then
		for k in $kept; do
			assert_true "$p kept its diverged transactions in $k" \
				test -e "$k"
		done
	else
		echo "# $p had no diverged transactions to keep"
	fi
	echo "# events of $p:"
	{ mdb_events "$p" | jq -r '.message // .msg // tostring' |
		grep -iE 'mariadb|resource db|\bdb\b|gtid' | sed 's/^/#   /' | tail -n 8; } || true
	assert_true "agent $s still runs" pid_alive "$(bg_pid "agent-$s")"
	assert_true "agent $p still runs" pid_alive "$(bg_pid "agent-$p")"
}

# mdb_using_gtid NODE - "yes" when NODE's replication uses GTIDs
# (Using_Gtid Current_Pos or Slave_Pos), else what it says.
mdb_using_gtid()
{
	local u
	u=$(mdb_slave_field "$1" Using_Gtid) || { echo "unknown"; return 0; }
	case $u in
	Current_Pos | Slave_Pos) echo yes ;;
	*) echo "${u:-none}" ;;
	esac
}
