#!/bin/bash
#
# pg_failover.sh - what a PostgreSQL client sees on failover: how long
# its commits were not acknowledged, and how many acknowledged commits
# were lost, hapair side by side with Patroni, on the network of the
# system tests (tests/sys/lib.sh, tests/sys/lib_pg.sh).
#
# The client runs pgwriter: one INSERT (one commit) every 10 ms, each id
# recorded when the commit is acknowledged; SIGUSR1 marks the fault.
#
#   hapair           heartbeat 100ms, lease 700ms (the defaults); sync
#                    replication managed by the agents; the writer goes
#                    through the VIP 192.0.2.100; vipwatch notes any
#                    instant at which a and b both hold the VIP.
#   hapair-tuned     heartbeat 15ms, lease 150ms.
#   patroni-default  Debian's patroni on a three-member etcd-server
#                    cluster (a, b, w), synchronous_mode on, default
#                    ttl 30 / loop_wait 10 / retry_timeout 10; the
#                    writer connects to both servers with
#                    target_session_attrs=read-write (no VIP).
#   patroni-tuned    ttl 6, loop_wait 1, retry_timeout 2.
#
# Each trial, from a fresh network: start the pair, wait until the
# standby streams (and, for hapair, is in sync), start the writer, after
# BENCH_PRE_MS mark the fault and inject it on the primary, let the
# writer run BENCH_WINDOW_MS more, then read every acknowledged id back
# from the final primary.
#
# Measures per trial:
#   outage_ms   the longest stretch, ending after the fault, with no
#               commit acknowledged (pgwriter outage_after_fault_ms);
#   acked_lost  acknowledged ids missing on the final primary.
#
# Faults:
#   pg_kill9  kill -9 of the primary's postmaster
#   linkdown  the primary's eth0 goes down
#
# Environment (defaults in brackets):
#   TRIALS [5]  BENCH_TOOLS [hapair hapair-tuned patroni-default
#   patroni-tuned]  BENCH_FAULTS [pg_kill9 linkdown]  BENCH_PRE_MS [2000]
#   BENCH_WINDOW_MS [per tool: 5000 hapair, 3000 hapair-tuned, 45000
#   patroni-default, 12000 patroni-tuned]
#   BUILD [<repo>/build]  BENCH_OUT [$BUILD/bench]
#
# Each trial holds the system-test lock (HP_TEST_LOCK), so benches and
# system tests take turns.  Output: a table on stdout;
# $BENCH_OUT/postgresql_failover.json (records shaped like
# redis_failover.json: {"tool","fault","trials","failed","outage_ms":
# {"min","median","max"},"outage_ms_trials","dual_holder_samples",
# "dual_holder_ms","acked_lost",...}); $BENCH_OUT/postgresql_trials.jsonl,
# one line per trial.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
export BUILD=${BUILD:-$REPO/build}
TRIALS=${TRIALS:-5}
BENCH_PRE_MS=${BENCH_PRE_MS:-2000}
BENCH_OUT=${BENCH_OUT:-$BUILD/bench}
BENCH_TOOLS=${BENCH_TOOLS:-hapair hapair-tuned patroni-default patroni-tuned}
BENCH_FAULTS=${BENCH_FAULTS:-pg_kill9 linkdown}
LOCK=${HP_TEST_LOCK:-/run/lock/hapair-systest}
TRIALS_FILE=$BENCH_OUT/postgresql_trials.jsonl

window_ms()
{
	if [[ -n ${BENCH_WINDOW_MS:-} ]]; then
		echo "$BENCH_WINDOW_MS"
		return
	fi
	case $1 in
	hapair) echo 5000 ;;
	hapair-tuned) echo 3000 ;;
	patroni-default) echo 45000 ;;
	patroni-tuned) echo 12000 ;;
	*) echo "unknown tool '$1'" >&2; return 1 ;;
	esac
}

# ---- Patroni on etcd ------------------------------------------------------

# etcd_start - a three-member etcd cluster on a, b and w.
etcd_start()
{
	local n cluster=""
	for n in a b w; do
		cluster+="${cluster:+,}e$n=http://$(node_addr "$n"):2380"
	done
	for n in a b w; do
		mkdir -p "$HP_TMP/etcd-$n"
		bg_start "etcd-$n" "$n" etcd --name "e$n" \
			--data-dir "$HP_TMP/etcd-$n" \
			--listen-client-urls "http://$(node_addr "$n"):2379" \
			--advertise-client-urls "http://$(node_addr "$n"):2379" \
			--listen-peer-urls "http://$(node_addr "$n"):2380" \
			--initial-advertise-peer-urls \
			"http://$(node_addr "$n"):2380" \
			--initial-cluster "$cluster" \
			--initial-cluster-state new \
			--initial-cluster-token "bench$HP_ID"
	done
	wait_for "etcd has a leader" 20000 in_ns w curl -sf \
		"http://$(node_addr w):2379/health"
}

# patroni_conf NODE TTL LOOP_WAIT RETRY_TIMEOUT - NODE's patroni.yml.
patroni_conf()
{
	local n=$1 addr
	addr=$(node_addr "$n")
	as_pg mkdir -p "$PG_ROOT/$n" "$(pg_sock "$n")"
	as_pg tee "$PG_ROOT/$n/patroni.yml" >/dev/null <<-EOF
		scope: bench$HP_ID
		name: $n
		restapi:
		  listen: $addr:8008
		  connect_address: $addr:8008
		etcd3:
		  hosts: $(node_addr a):2379,$(node_addr b):2379,$(node_addr w):2379
		bootstrap:
		  dcs:
		    ttl: $2
		    loop_wait: $3
		    retry_timeout: $4
		    maximum_lag_on_failover: 1048576
		    synchronous_mode: true
		    postgresql:
		      use_pg_rewind: true
		      use_slots: true
		      parameters:
		        wal_log_hints: 'on'
		        fsync: 'off'
		        shared_buffers: 16MB
		        max_connections: 40
		  initdb:
		  - data-checksums
		  pg_hba:
		  - local all all trust
		  - host replication replicator 192.0.2.0/24 scram-sha-256
		  - host all postgres 192.0.2.0/24 scram-sha-256
		postgresql:
		  listen: 0.0.0.0:$PG_PORT
		  connect_address: $addr:$PG_PORT
		  data_dir: $(pg_dir "$n")
		  bin_dir: $PG_BIN
		  authentication:
		    superuser:
		      username: postgres
		      password: $PG_PASS
		    replication:
		      username: replicator
		      password: $PG_REPL_PASS
		    rewind:
		      username: postgres
		      password: $PG_PASS
		  parameters:
		    unix_socket_directories: $(pg_sock "$n")
	EOF
}

patroni_leader()
{
	local n
	for n in a b; do
		if pg_is_primary "$n"; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

patroni_up()
{
	local ttl=$1 loop=$2 retry=$3 n
	topo_up
	chmod 711 "$HP_TMP"
	PG_ROOT=$HP_TMP/pg
	mkdir -p "$PG_ROOT"
	chown postgres: "$PG_ROOT"
	etcd_start
	for n in a b; do
		patroni_conf "$n" "$ttl" "$loop" "$retry"
		bg_start "patroni-$n" "$n" runuser -u postgres -- patroni \
			"$PG_ROOT/$n/patroni.yml"
		# a first, so that it bootstraps.
		[[ $n == a ]] && wait_for "patroni bootstraps a" 60000 \
			pg_is_primary a
	done
	PRIMARY=$(patroni_leader) || bail "no Patroni leader"
	wait_for "Patroni's standby streams from $PRIMARY" 60000 \
		pg_streams_from "$(peer_of "$PRIMARY")" "$PRIMARY"
	wait_for "the table can be made on $PRIMARY" 10000 pg_psql "$PRIMARY" \
		"CREATE TABLE IF NOT EXISTS hp_writes (prefix text, id bigint,
		PRIMARY KEY (prefix, id))"
	wait_for "Patroni's standby is synchronous" 30000 sync_standby \
		"$PRIMARY"
}

sync_standby()
{
	[[ $(pg_psql "$1" "SELECT count(*) FROM pg_stat_replication
		WHERE sync_state = 'sync'") == 1 ]]
}

# ---- one trial ------------------------------------------------------------

inject()
{
	case $1 in
	pg_kill9) pg_kill9 "$2" ;;
	linkdown) link_down "$2" ;;
	esac
}

# final_primary TOOL - where acknowledged rows must be: the VIP holder
# (hapair) or the one server out of recovery (Patroni).
final_primary()
{
	local n found=""
	if [[ $1 == hapair* ]]; then
		sole_primary
		return
	fi
	for n in a b; do
		[[ $n == "$PRIMARY" && $FAULT == linkdown ]] && continue
		if pg_is_primary "$n"; then
			[[ -z $found ]] || return 1
			found=$n
		fi
	done
	[[ -n $found ]] && echo "$found"
}

run_trial()
{
	local tool=$1 fault=$2 n=$3 window host final lost=null res
	local dual_s=null dual_ms=null
	FAULT=$fault
	window=$(window_ms "$tool")
	case $tool in
	hapair) pg_cluster_up 100ms 700ms ;;
	hapair-tuned) pg_cluster_up 15ms 150ms ;;
	patroni-default) patroni_up 30 10 10 ;;
	patroni-tuned) patroni_up 6 1 2 ;;
	esac
	if [[ $tool == hapair* ]]; then
		PRIMARY=$HP_PRIMARY
		host=$HP_VIP
	else
		host="$(node_addr a),$(node_addr b)"
	fi
	rm -f "$HP_TMP/w.json" "$HP_TMP/w.ids"
	bg_start w c env PGPASSWORD="$PG_PASS" \
		PGTARGETSESSIONATTRS=read-write "$PGWRITER" --host "$host" \
		--port "$PG_PORT" --duration-ms $((BENCH_PRE_MS + window)) \
		--interval-ms 10 --prefix w --ids "$HP_TMP/w.ids" \
		--out "$HP_TMP/w.json"
	sleep "$((BENCH_PRE_MS / 1000)).$((BENCH_PRE_MS % 1000 / 100))"
	bg_signal w USR1
	inject "$fault" "$PRIMARY"
	wait_for "the writer ran its course" $((window + 15000)) \
		test -s "$HP_TMP/w.json"
	if final=$(final_primary "$tool"); then
		if res=$(in_ns c env PGPASSWORD="$PG_PASS" timeout 20 \
			"$PGWRITER" check --host "$(node_addr "$final")" \
			--port "$PG_PORT" --ids "$HP_TMP/w.ids" --prefix w); then
			lost=$(jq .missing <<<"$res")
		fi
	else
		final=none
	fi
	if [[ $tool == hapair* ]]; then
		vipwatch_stop
		dual_s=$(vipwatch_q .dual_holder_samples)
		dual_ms=$(vipwatch_q .dual_holder_ms)
	fi
	jq -c --arg tool "$tool" --arg fault "$fault" --argjson n "$n" \
		--arg p "$PRIMARY" --arg f "$final" --argjson lost "$lost" \
		--argjson ds "$dual_s" --argjson dm "$dual_ms" \
		'{tool: $tool, fault: $fault, trial: $n, ok: true,
		  primary: $p, final_primary: $f,
		  outage_ms: .outage_after_fault_ms, acked: .acked,
		  acked_lost: $lost, errors: .errors, unsafe: .unsafe,
		  dual_holder_samples: $ds, dual_holder_ms: $dm}' \
		"$HP_TMP/w.json" >>"$TRIALS_FILE"
	tail -n 1 "$TRIALS_FILE" | jq -r '"# \(.tool) \(.fault) #\(.trial):
		primary \(.primary) -> \(.final_primary), outage
		\(.outage_ms) ms, acked \(.acked) (lost \(.acked_lost))"' |
		tr '\n\t' '  '
	echo
}

# ---- main ---------------------------------------------------------------

main()
{
	local tool fault n
	[[ $EUID == 0 ]] || { echo "pg_failover.sh: needs root" >&2; exit 2; }
	for tool in $BENCH_TOOLS; do
		window_ms "$tool" >/dev/null
		if [[ $tool == patroni* ]] && ! command -v patroni >/dev/null;
		then
			echo "pg_failover.sh: $tool needs patroni and etcd" \
				"(scripts/install-deps)" >&2
			exit 2
		fi
	done
	mkdir -p "$BENCH_OUT"
	: >"$TRIALS_FILE"
	for tool in $BENCH_TOOLS; do
		for fault in $BENCH_FAULTS; do
			for ((n = 1; n <= TRIALS; n++)); do
				if ! flock "$LOCK" "$BASH" \
					"$BENCH_DIR/pg_failover.sh" --trial \
					"$tool" "$fault" "$n"; then
					jq -nc --arg t "$tool" --arg f "$fault" \
						--argjson n "$n" '{tool: $t,
						fault: $f, trial: $n, ok: false}' \
						>>"$TRIALS_FILE"
				fi
			done
		done
	done
	echo
	python3 "$BENCH_DIR/pg_summary.py" "$TRIALS_FILE" \
		"$BENCH_OUT/postgresql_failover.json"
}

if [[ ${1:-} == --trial ]]; then
	shift
	# shellcheck source=tests/sys/lib_pg.sh
	source "$REPO/tests/sys/lib_pg.sh"
	run_trial "$@" >"${TRIAL_LOG:-/dev/stdout}"
else
	main "$@"
fi
