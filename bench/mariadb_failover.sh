#!/bin/bash
#
# mariadb_failover.sh - what a MariaDB client sees on failover: how long
# its commits were not acknowledged, how many acknowledged commits were
# lost, and whether the pair ended with two writable servers, hapair
# side by side with keepalived plus a notify script, on the network of
# the system tests (tests/sys/lib.sh, tests/sys/lib_mdb.sh).
#
# The client runs mdbwriter through the VIP 192.0.2.100: one INSERT
# (one autocommit commit) every 10 ms, each id recorded when the commit
# is acknowledged; SIGUSR1 marks the fault.  vipwatch notes any instant
# at which a and b both hold the VIP.
#
#   hapair        heartbeat 100ms, lease 700ms (the defaults); semi-sync
#                 replication managed by the agents (replication = sync)
#   hapair-tuned  heartbeat 15ms, lease 150ms
#   keepalived    the classic setup: b replicates from a by GTID with
#                 semi-sync as MariaDB ships it (rpl_semi_sync_master_
#                 timeout 10 s, then async); keepalived VRRPv2,
#                 advert_int 1, a vrrp_script `mariadb-admin ping`
#                 every second (fall 2, rise 2) tracked by the instance;
#                 notify_master runs the same promotion hapair does
#                 (STOP SLAVE IO_THREAD, MASTER_GTID_WAIT for the relay
#                 log, STOP SLAVE, RESET SLAVE ALL, semi-sync master on,
#                 read_only = 0), notify_backup and notify_fault set
#                 read_only = 1
#
# Each trial, from a fresh network: a's server (b's cloned from it),
# the tool, the writer; after BENCH_PRE_MS the mark and the fault on the
# primary; BENCH_WINDOW_MS more; then every acknowledged id is read back
# from the final primary (hapair: the one primary holding the VIP alone;
# keepalived: the server it promoted, b, else a) and both servers are
# asked whether they accept writes (read_only = 0).
#
# Measures per trial:
#   outage_ms    the longest stretch, ending after the fault, with no
#                commit acknowledged (mdbwriter outage_after_fault_ms);
#   acked_lost   acknowledged ids missing on the final primary;
#   writable     servers with read_only = 0 at the end (2: split brain);
#   dual_holder_samples / dual_holder_ms   vipwatch.
#
# Faults (on the primary):
#   mdb_kill9  kill -9 of mariadbd
#   linkdown   its eth0 goes down
#   ha_kill9   kill -9 of the HA daemon (hapair: the agent, whose guard
#              lives on; keepalived: parent and VRRP child)
#
# Environment (defaults in brackets):
#   TRIALS [5]  BENCH_TOOLS [hapair hapair-tuned keepalived]
#   BENCH_FAULTS [mdb_kill9 linkdown ha_kill9]  BENCH_PRE_MS [2000]
#   BENCH_WINDOW_MS [per tool: 5000 hapair, 3000 hapair-tuned,
#   10000 keepalived]  BUILD [<repo>/build]  BENCH_OUT [$BUILD/bench]
#
# Each trial holds the system-test lock (HP_TEST_LOCK).  Output: a table
# on stdout; $BENCH_OUT/mariadb_failover.json (records shaped like
# postgresql_failover.json, plus "split_trials"); $BENCH_OUT/
# mariadb_trials.jsonl, one line per trial.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
export BUILD=${BUILD:-$REPO/build}
TRIALS=${TRIALS:-5}
BENCH_PRE_MS=${BENCH_PRE_MS:-2000}
BENCH_OUT=${BENCH_OUT:-$BUILD/bench}
BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned keepalived}
BENCH_FAULTS=${BENCH_FAULTS:-mdb_kill9 linkdown ha_kill9}
LOCK=${HP_TEST_LOCK:-/run/lock/hapair-systest}
TRIALS_FILE=$BENCH_OUT/mariadb_trials.jsonl

window_ms()
{
	if [[ -n ${BENCH_WINDOW_MS:-} ]]; then
		echo "$BENCH_WINDOW_MS"
		return
	fi
	case $1 in
	hapair) echo 5000 ;;
	hapair-tuned) echo 3000 ;;
	keepalived) echo 10000 ;;
	*) echo "unknown tool '$1'" >&2; return 1 ;;
	esac
}

# ---- keepalived plus a notify script ------------------------------------

# mdb_clone_by_hand NODE FROM - NODE's server initialised empty, started,
# loaded with a dump of FROM (GTID position included) and replicating
# from it with semi-sync: what an operator does before keepalived.
mdb_clone_by_hand()
{
	local node=$1 from=$2 out
	mdb_prepare "$node"
	out=$(mariadb-install-db --defaults-file="$(mdb_cnf "$node")" \
		--user=mysql --datadir="$(mdb_dir "$node")" \
		--auth-root-authentication-method=socket --skip-test-db \
		--skip-name-resolve 2>&1) ||
		bail "mariadb-install-db for $node failed: $(tail -3 <<<"$out")"
	mdb_start_server "$node"
	MYSQL_PWD=$MDB_PASS timeout 60 mariadb-dump --no-defaults \
		--socket="$(mdb_sock "$from")" -u "$MDB_USER" --all-databases \
		--master-data=1 --gtid --single-transaction --routines \
		--events --triggers >"$HP_TMP/dump.sql" ||
		bail "mariadb-dump of $from failed"
	# Not into NODE's own binary log: its GTIDs would then conflict
	# with the position the dump sets.
	mdb_sql_root "$node" "RESET MASTER" || bail "RESET MASTER on $node failed"
	{ echo "SET SESSION sql_log_bin = 0;"; cat "$HP_TMP/dump.sql"; } |
		timeout 60 "$MDB_CLIENT" --no-defaults \
		--socket="$(mdb_sock "$node")" -u root ||
		bail "loading the dump into $node failed"
	mdb_sql_root "$node" "FLUSH NO_WRITE_TO_BINLOG PRIVILEGES" ||
		bail "FLUSH PRIVILEGES on $node failed"
}

# mdb_follow_by_hand NODE FROM - NODE replicates from FROM by GTID with
# semi-sync, read-only.
mdb_follow_by_hand()
{
	local node=$1 from=$2
	mdb_sql_root "$node" "STOP SLAVE; RESET SLAVE ALL;
		CHANGE MASTER TO MASTER_HOST = '$(node_addr "$from")',
		MASTER_PORT = $MDB_PORT, MASTER_USER = 'replicator',
		MASTER_PASSWORD = '$MDB_REPL_PASS', MASTER_USE_GTID = slave_pos,
		MASTER_CONNECT_RETRY = 1;
		SET GLOBAL rpl_semi_sync_slave_enabled = ON;
		SET GLOBAL read_only = ON;
		START SLAVE" || bail "starting replication on $node failed"
}

# ka_mdb_scripts - the check and notify scripts keepalived runs (in the
# node's namespace, as root).
ka_mdb_scripts()
{
	cat >"$HP_TMP/ka-check.sh" <<-EOF
		#!/bin/sh
		# keepalived vrrp_script: is the local MariaDB alive?
		MYSQL_PWD='$MDB_PASS' exec timeout 2 mariadb-admin --no-defaults \\
			--socket="$MDB_ROOT/sock-\$1/mysqld.sock" -u $MDB_USER \\
			--connect-timeout=1 ping >/dev/null 2>&1
	EOF
	cat >"$HP_TMP/ka-notify.sh" <<-EOF
		#!/bin/sh
		# keepalived notify: NODE STATE.  MASTER promotes the local
		# server the way hapair does; BACKUP and FAULT make it read-only.
		node=\$1 state=\$2
		sql() {
			MYSQL_PWD='$MDB_PASS' timeout 40 mariadb --no-defaults \\
				--socket="$MDB_ROOT/sock-\$node/mysqld.sock" \\
				-u $MDB_USER -N -B -e "\$1"
		}
		echo "\$(date +%T.%N) \$node \$state" >>"$HP_TMP/ka-notify.log"
		case \$state in
		MASTER)
			sql "STOP SLAVE IO_THREAD"
			pos=\$(sql "SHOW SLAVE STATUS\\\\G" |
				awk '\$1 == "Gtid_IO_Pos:" { print \$2 }')
			[ -n "\$pos" ] && sql "SELECT MASTER_GTID_WAIT('\$pos', 30)"
			sql "STOP SLAVE; RESET SLAVE ALL;
				SET GLOBAL rpl_semi_sync_master_enabled = ON;
				SET GLOBAL read_only = OFF"
			;;
		BACKUP|FAULT)
			sql "SET GLOBAL read_only = ON"
			;;
		esac
		exit 0
	EOF
	chmod 755 "$HP_TMP/ka-check.sh" "$HP_TMP/ka-notify.sh"
}

# ka_mdb_conf NODE - keepalived.conf of NODE: a starts MASTER
# (priority 100), b BACKUP (90); the MariaDB check tracked.
ka_mdb_conf()
{
	local node=$1 state=BACKUP prio=90
	if [[ $node == a ]]; then
		state=MASTER
		prio=100
	fi
	cat >"$HP_TMP/ka-$node.conf" <<-EOF
		global_defs {
			router_id hp_$node
			script_user root
		}
		vrrp_script chk_mariadb {
			script "$HP_TMP/ka-check.sh $node"
			interval 1
			timeout 2
			fall 2
			rise 2
		}
		vrrp_instance VI_1 {
			state $state
			interface eth0
			virtual_router_id 51
			priority $prio
			advert_int 1
			virtual_ipaddress {
				$HP_VIP_CIDR dev eth0
			}
			track_script {
				chk_mariadb
			}
			notify_master "$HP_TMP/ka-notify.sh $node MASTER"
			notify_backup "$HP_TMP/ka-notify.sh $node BACKUP"
			notify_fault "$HP_TMP/ka-notify.sh $node FAULT"
		}
	EOF
}

# The last notifications: a MASTER, b BACKUP, nothing for a second.
ka_settled()
{
	local log=$HP_TMP/ka-notify.log last
	[[ -s $log ]] || return 1
	[[ $(grep ' a ' "$log" | tail -n 1) == *MASTER ]] || return 1
	[[ $(grep ' b ' "$log" | tail -n 1) == *BACKUP ]] || return 1
	last=$(stat -c %Y "$log")
	(($(date +%s) - last >= 2))
}

ka_mdb_up()
{
	topo_up
	chmod 711 "$HP_TMP"
	MDB_ROOT=$HP_TMP/mdb
	mkdir -p "$MDB_ROOT"
	chmod 755 "$MDB_ROOT"
	mdb_init a
	mdb_sql a "SET GLOBAL rpl_semi_sync_master_enabled = ON" ||
		bail "semi-sync on a failed"
	mdb_clone_by_hand b a
	ka_mdb_scripts
	vipwatch_start 600000
	ka_start ka_mdb_conf
	# Both instances may pass through MASTER while their checks rise
	# (b's notify then promotes it): replication is set up once
	# keepalived has settled, as an operator would.
	wait_for "keepalived puts the VIP on a" 15000 holder_is a
	wait_for "keepalived settled (a MASTER, b BACKUP last)" 15000 \
		ka_settled
	mdb_follow_by_hand b a
	wait_for "b replicates from a" 30000 mdb_replicates_from b a
	wait_for "replication a -> b is semi-synchronous" 10000 \
		mdb_in_sync a b
	PRIMARY=a
}

# ---- one trial ------------------------------------------------------------

inject()
{
	case $1 in
	mdb_kill9) mdb_kill9 "$3" ;;
	linkdown) link_down "$3" ;;
	ha_kill9)
		case $2 in
		hapair*) kill_agent "$3" KILL ;;
		keepalived) ka_kill9 "$3" ;;
		esac
		;;
	esac
}

# final_primary TOOL - where acknowledged rows must be.
final_primary()
{
	if [[ $1 == hapair* ]]; then
		sole_primary
		return
	fi
	if mdb_writable b 2>/dev/null; then
		echo b
	elif mdb_writable a 2>/dev/null; then
		echo a
	else
		return 1
	fi
}

writable_count()
{
	local n count=0
	for n in a b; do
		mdb_writable "$n" 2>/dev/null && count=$((count + 1))
	done
	echo "$count"
}

run_trial()
{
	local tool=$1 fault=$2 n=$3 window final lost=null res writable
	window=$(window_ms "$tool")
	case $tool in
	hapair) mdb_cluster_up 100ms 700ms; PRIMARY=$HP_PRIMARY ;;
	hapair-tuned) mdb_cluster_up 15ms 150ms; PRIMARY=$HP_PRIMARY ;;
	keepalived) ka_mdb_up ;;
	esac
	mdbw_start w $((BENCH_PRE_MS + window))
	sleep "$((BENCH_PRE_MS / 1000)).$((BENCH_PRE_MS % 1000 / 100))"
	bg_signal w USR1
	inject "$fault" "$tool" "$PRIMARY"
	wait_for "the writer ran its course" $((window + 15000)) \
		test -s "$HP_TMP/w.json"
	writable=$(writable_count)
	if final=$(final_primary "$tool"); then
		if res=$(in_ns c timeout 20 "$MDBWRITER" check \
			--host "$(node_addr "$final")" --port "$MDB_PORT" \
			--user writer --password "$MDB_WRITER_PASS" \
			--ids "$HP_TMP/w.ids" --prefix w); then
			lost=$(jq .missing <<<"$res")
		fi
	else
		final=none
	fi
	vipwatch_stop
	jq -c --arg tool "$tool" --arg fault "$fault" --argjson n "$n" \
		--arg p "$PRIMARY" --arg f "$final" --argjson lost "$lost" \
		--argjson wr "$writable" \
		--argjson ds "$(vipwatch_q .dual_holder_samples)" \
		--argjson dm "$(vipwatch_q .dual_holder_ms)" \
		'{tool: $tool, fault: $fault, trial: $n, ok: true,
		  primary: $p, final_primary: $f,
		  outage_ms: .outage_after_fault_ms, acked: .acked,
		  acked_lost: $lost, writable: $wr, errors: .errors,
		  dual_holder_samples: $ds, dual_holder_ms: $dm}' \
		"$HP_TMP/w.json" >>"$TRIALS_FILE"
	tail -n 1 "$TRIALS_FILE" | jq -r '"# \(.tool) \(.fault) #\(.trial):
		primary \(.primary) -> \(.final_primary), outage
		\(.outage_ms) ms, acked \(.acked) (lost \(.acked_lost)),
		writable \(.writable), dual holders \(.dual_holder_ms) ms"' |
		tr '\n\t' '  '
	echo
}

# ---- main ---------------------------------------------------------------

main()
{
	local tool fault n
	[[ $EUID == 0 ]] || { echo "mariadb_failover.sh: needs root" >&2
		exit 2; }
	for tool in $BENCH_TOOLS; do
		window_ms "$tool" >/dev/null
	done
	for t in mariadbd mariadb-install-db mariadb-dump keepalived; do
		command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || {
			echo "mariadb_failover.sh: $t is missing" \
				"(scripts/install-deps)" >&2
			exit 2
		}
	done
	mkdir -p "$BENCH_OUT"
	: >"$TRIALS_FILE"
	for tool in $BENCH_TOOLS; do
		for fault in $BENCH_FAULTS; do
			for ((n = 1; n <= TRIALS; n++)); do
				if ! flock "$LOCK" "$BASH" \
					"$BENCH_DIR/mariadb_failover.sh" \
					--trial "$tool" "$fault" "$n"; then
					jq -nc --arg t "$tool" --arg f "$fault" \
						--argjson n "$n" '{tool: $t,
						fault: $f, trial: $n, ok: false}' \
						>>"$TRIALS_FILE"
				fi
			done
		done
	done
	echo
	python3 "$BENCH_DIR/mdb_summary.py" "$TRIALS_FILE" \
		"$BENCH_OUT/mariadb_failover.json"
}

if [[ ${1:-} == --trial ]]; then
	shift
	# shellcheck source=tests/sys/lib_mdb.sh
	source "$REPO/tests/sys/lib_mdb.sh"
	# shellcheck source=bench/lib_ka.sh
	source "$BENCH_DIR/lib_ka.sh"
	run_trial "$@" >"${TRIAL_LOG:-/dev/stdout}"
else
	main "$@"
fi
