# shellcheck shell=bash
#
# lib_bench.sh - what the Redis benches share (bench/redis_failover.sh,
# bench/switchover.sh): the tools under test side by side on the network
# of the system tests (tests/sys/lib_redis.sh), the writer's view of
# them, and the frame of one trial.  Source it; the sourcing script sets
# BENCH_OUT, TRIALS, BENCH_PRE_MS and the HAPAIR_* timers (defaults
# below) and keeps its own per-trial record and summary.
#
#   hapair            heartbeat HAPAIR_HB, lease HAPAIR_LEASE (100ms,
#                     700ms: the defaults); the agents manage replication
#                     (sync mode) and the VIP; the writer goes through
#                     the VIP and takes a write as acknowledged when
#                     WAIT 1 100 answers >= 1
#   hapair-tuned      HAPAIR_TUNED_HB, HAPAIR_TUNED_LEASE (15ms, 150ms)
#   sentinel-default  b made a replica of a by hand (REPLICAOF); three
#                     redis-sentinel (on a, b and w, quorum 2),
#                     down-after-milliseconds 30000, failover-timeout
#                     180000 (Sentinel's defaults); the writer asks the
#                     sentinels for the master on every (re)connect and
#                     takes a write as acknowledged when SET answers OK
#   sentinel-1000ms   the same with down-after-milliseconds 1000,
#                     failover-timeout 10000
#
#   bench_ha_start TOOL     start TOOL once Redis runs on a and b, wait
#                           until it is steady; sets PRIMARY
#   bench_trial_start TOOL DURATION_MS
#                           a fresh network, Redis, TOOL, the writer w
#                           (and vipwatch, for hapair); sets PRIMARY,
#                           BENCH_HAPAIR
#   bench_trial_mark        after BENCH_PRE_MS of steady writes, the mark
#                           (SIGUSR1 to the writer)
#   bench_trial_end TOOL    (after the writer has stopped) vipwatch
#                           stopped; sets FINAL, ACKED_LOST, SET_OK_LOST
#   bench_trial_record FILE TOOL FAULT N EXTRA
#                           the trial's line in FILE
#   bench_preflight TOOLS   root, TRIALS, Redis, the binaries each tool
#                           and the writer need
#   bench_record_failed FILE TOOL FAULT N
#   sentinel_cli NODE ARGS...  / sentinel_master_node

# Globals set here are for the scripts that source this file.
# shellcheck disable=SC2034

if [[ -n ${HP_LIB_BENCH_LOADED:-} ]]; then
	return 0
fi
HP_LIB_BENCH_LOADED=1

# shellcheck source=tests/sys/lib_redis.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/sys/lib_redis.sh"

TRIALS=${TRIALS:-5}
BENCH_PRE_MS=${BENCH_PRE_MS:-1000}
BENCH_OUT=${BENCH_OUT:-$HP_BUILD/bench}
HAPAIR_HB=${HAPAIR_HB:-100ms}
HAPAIR_LEASE=${HAPAIR_LEASE:-700ms}
HAPAIR_TUNED_HB=${HAPAIR_TUNED_HB:-15ms}
HAPAIR_TUNED_LEASE=${HAPAIR_TUNED_LEASE:-150ms}
SENTINEL_PORT=26379
MASTER_NAME=hp
WAIT_MS=100
START_TIMEOUT_MS=30000
PRIMARY=
FINAL=
ACKED_LOST=null
SET_OK_LOST=null
BENCH_HAPAIR=0

# bench_sleep_ms MS - the timeline of a trial, not a synchronisation.
bench_sleep_ms()
{
	sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# ---- Redis Sentinel -----------------------------------------------------

# sentinel_conf NODE PROFILE - a sentinel config in a writable file
# (Sentinel rewrites it with what it learns).
sentinel_conf()
{
	local node=$1 down=30000 failover=180000 dir
	if [[ $2 == fast ]]; then
		down=1000
		# Long enough for one promotion, short enough that a failed
		# attempt is retried within the trial's window.
		failover=10000
	fi
	dir=$HP_TMP/sentinel-$node
	mkdir -p "$dir"
	cat >"$dir/sentinel.conf" <<-EOF
		port $SENTINEL_PORT
		bind $(node_addr "$node") 127.0.0.1
		protected-mode no
		daemonize no
		dir $dir
		sentinel resolve-hostnames no
		sentinel monitor $MASTER_NAME $(node_addr a) $REDIS_PORT 2
		sentinel down-after-milliseconds $MASTER_NAME $down
		sentinel failover-timeout $MASTER_NAME $failover
		sentinel parallel-syncs $MASTER_NAME 1
	EOF
}

sentinel_cli()
{
	in_ns "$1" timeout 2 redis-cli -h 127.0.0.1 -p "$SENTINEL_PORT" \
		"${@:2}"
}

# sentinel_knows_all NODE - NODE's sentinel sees the replica and the
# two other sentinels (until then a failover cannot be agreed on).
sentinel_knows_all()
{
	local out
	out=$(sentinel_cli "$1" SENTINEL master "$MASTER_NAME") || return 1
	awk 'NR % 2 == 1 { k = $0; next }
		k == "num-slaves" { s = $0 }
		k == "num-other-sentinels" { o = $0 }
		END { exit !(s == 1 && o == 2) }' <<<"$out"
}

# The node whose Redis the sentinels of a live node name as master.
sentinel_master_node()
{
	local n out addr
	for n in w b a; do
		out=$(sentinel_cli "$n" SENTINEL get-master-addr-by-name \
			"$MASTER_NAME" 2>/dev/null) || continue
		addr=$(head -n 1 <<<"$out")
		case $addr in
		"$(node_addr a)") echo a; return 0 ;;
		"$(node_addr b)") echo b; return 0 ;;
		esac
	done
	return 1
}

sentinel_start()
{
	local profile=$1 n
	redis_cli b REPLICAOF "$(node_addr a)" "$REDIS_PORT" >/dev/null
	wait_for "b's Redis follows a's" 10000 redis_follows b a
	for n in a b w; do
		sentinel_conf "$n" "$profile"
		bg_start "sentinel-$n" "$n" redis-sentinel \
			"$HP_TMP/sentinel-$n/sentinel.conf"
	done
	for n in a b w; do
		wait_for "sentinel on $n knows the replica and 2 sentinels" \
			20000 sentinel_knows_all "$n"
	done
}

# ---- the tool switch ------------------------------------------------------

# bench_ha_start TOOL - start the tool; sets PRIMARY, the node whose
# Redis is the master.
bench_ha_start()
{
	case $1 in
	hapair | hapair-tuned)
		if [[ $1 == hapair ]]; then
			hp_conf_redis "$HAPAIR_HB" "$HAPAIR_LEASE"
		else
			hp_conf_redis "$HAPAIR_TUNED_HB" "$HAPAIR_TUNED_LEASE"
		fi
		start_witness
		start_agent a
		start_agent b
		wait_one_primary "$START_TIMEOUT_MS"
		wait_for "$1: the standby's Redis follows the primary's" 10000 \
			redis_pair_ok "$HP_PRIMARY"
		PRIMARY=$HP_PRIMARY
		;;
	sentinel-default)
		sentinel_start default
		PRIMARY=a
		;;
	sentinel-1000ms)
		sentinel_start fast
		PRIMARY=a
		;;
	esac
}

# bench_writer_args TOOL - how the writer reaches the master, and what
# counts as acknowledged.
bench_writer_args()
{
	local n list=''
	case $1 in
	hapair*) echo "--wait-ms $WAIT_MS" ;;
	sentinel*)
		for n in a b w; do
			list+=${list:+,}$(node_addr "$n"):$SENTINEL_PORT
		done
		echo "--no-wait --sentinel $list --master-name $MASTER_NAME"
		;;
	esac
}

# The node whose Redis is the primary now (hapair: the VIP holder's;
# Sentinel: the master the live sentinels name).
bench_primary_now()
{
	case $1 in
	hapair*) vip_holders ;;
	sentinel*) sentinel_master_node ;;
	esac
}

# bench_lost NODE IDS_FILE - ids of the file missing on NODE's Redis
# ("null" if it cannot be read).
bench_lost()
{
	local res
	[[ -n $1 ]] || { echo null; return; }
	res=$(writer_check w "$1" "$2" 2>/dev/null) || { echo null; return; }
	jq -r .missing <<<"$res"
}

# ---- one trial ------------------------------------------------------------

# bench_trial_start TOOL DURATION_MS - a fresh network, Redis, TOOL
# steady, the writer w running for DURATION_MS from its start (or until
# writer_stop), vipwatch for hapair; sets PRIMARY, BENCH_HAPAIR.
bench_trial_start()
{
	local tool=$1 duration=$2
	local -a wargs
	HP_TMP=$(mktemp -d /tmp/hapair-rbench.XXXXXX)
	BENCH_HAPAIR=0
	[[ $tool == hapair* ]] && BENCH_HAPAIR=1
	topo_up
	start_redis a
	start_redis b
	bench_ha_start "$tool"
	read -ra wargs <<<"$(bench_writer_args "$tool")"
	if ((BENCH_HAPAIR)); then
		vipwatch_start $((duration + 10000))
	fi
	writer_start w "$duration" "${wargs[@]}"
}

# bench_trial_mark - BENCH_PRE_MS of steady writes, then the mark.  The
# writer stamps it itself (SIGUSR1), in its signal handler.
bench_trial_mark()
{
	bench_sleep_ms "$BENCH_PRE_MS"
	bg_signal w USR1
}

# bench_trial_end TOOL - after the writer wrote its result: the final
# primary and what it lacks of the acknowledged and accepted writes.
bench_trial_end()
{
	if ((BENCH_HAPAIR)); then
		vipwatch_stop
	fi
	FINAL=$(bench_primary_now "$1") || FINAL=''
	[[ $FINAL == a || $FINAL == b ]] || FINAL=''
	ACKED_LOST=$(bench_lost "$FINAL" "$HP_TMP/w.ids")
	SET_OK_LOST=$(bench_lost "$FINAL" "$HP_TMP/w.ids.set")
}

# bench_trial_record FILE TOOL FAULT N EXTRA - append one trial's line
# to FILE: what every Redis bench records (the writer's counts, the
# losses, the dual holders: null for Sentinel, which has no VIP), then
# the fields of the JSON object EXTRA.
bench_trial_record()
{
	local vip=null
	if ((BENCH_HAPAIR)); then
		vip=$(cat "$HP_TMP/vipwatch.json")
	fi
	jq -c --arg tool "$2" --arg fault "$3" --argjson n "$4" \
		--arg primary "$PRIMARY" --arg final "$FINAL" \
		--argjson acked_lost "$ACKED_LOST" \
		--argjson set_lost "$SET_OK_LOST" --argjson v "$vip" \
		--argjson extra "$5" '
		{tool: $tool, fault: $fault, trial: $n, ok: true,
		 primary: $primary, final_primary: $final,
		 fault_ms: .fault_ms, mode: .mode,
		 sent: .sent, set_ok: .set_ok, acked: .acked,
		 errors: .errors,
		 acked_lost: $acked_lost, set_ok_lost: $set_lost,
		 servers: [.servers[] | {addr, acked}],
		 dual_holder_samples: $v.dual_holder_samples,
		 dual_holder_ms: $v.dual_holder_ms} + $extra' \
		"$HP_TMP/w.json" >>"$1"
}

# ---- main -----------------------------------------------------------------

# bench_preflight TOOLS - what every tool named needs is there.
bench_preflight()
{
	local tool
	[[ $EUID == 0 ]] || bail "the bench needs root (namespaces)"
	[[ $TRIALS =~ ^[1-9][0-9]*$ ]] || bail "TRIALS: expected a number"
	command -v redis-server >/dev/null ||
		bail "redis-server is not installed"
	for tool in $1; do
		case $tool in
		hapair | hapair-tuned)
			[[ -x $HAPAIR ]] ||
				bail "$tool: no hapair binary at $HAPAIR" \
					"(build it, or set BENCH_TOOLS)"
			;;
		sentinel-default | sentinel-1000ms)
			command -v redis-sentinel >/dev/null ||
				bail "$tool: redis-sentinel is not installed"
			;;
		*) bail "unknown tool '$tool' in BENCH_TOOLS" ;;
		esac
	done
	[[ -x $RWRITER && -x $TOOLS/vipwatch ]] ||
		bail "no rwriter/vipwatch in $TOOLS (build the tools)"
}

# bench_record_failed FILE TOOL FAULT N - a trial the harness could not
# measure: recorded, counted as failed.
bench_record_failed()
{
	jq -nc --arg t "$2" --arg f "$3" --argjson n "$4" \
		'{tool: $t, fault: $f, trial: $n, ok: false}' >>"$1"
	echo "# $2 $3 #$4: FAILED"
}
