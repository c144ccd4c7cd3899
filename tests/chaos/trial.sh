#!/bin/bash
#
# trial.sh - one chaos trial: a fresh network, a Redis (or PostgreSQL,
# or MariaDB: CHAOS_STORE, stores.sh) pair under hapair, two writers
# through the VIP, a random fault schedule, heal, settle, collect.  tests/chaos/run calls it once per trial (under the system
# test lock); it is not meant to be run by hand, but can be:
#
#   tests/chaos/trial.sh SEED TRIAL OUTDIR
#
# Steps:
#   1. topology (lib.sh, namespaces named with this shell's PID), the
#      store's servers on a and b, hapair config with tuned timers
#      (heartbeat 20ms, lease 200ms, hold-down 2s), witness, agents; one
#      primary with its store writable and the other following
#      (store_up);
#   2. vipwatch (already from 1), the role sampler (sampler.py, both
#      agents every 25 ms), two writers w1 and w2 (rwriter, pgwriter or
#      mdbwriter --log) through the VIP: sync mode SET + WAIT 1 200 (the
#      SQL stores: a commit, which returns once the standby has it);
#      async mode (Redis only, every 4th trial, max_lag_on_failover
#      16KB) SET only;
#   3. the fault phase: schedule.py's events, applied and healed at their
#      times (faults.sh); then fault_heal_all;
#   4. settle: one primary (bounded), its store writable and the other's
#      following, 1 s more writes; writers stopped; the replica caught up
#      (bounded); every acknowledged id read back from both servers
#      (the writer's check);
#   5. collect into OUTDIR: meta.json, samples.jsonl, w1/w2 logs, JSON
#      and ids, check-<writer>-<node>.json, vipwatch.json, faults.jsonl,
#      events-<node>.json, logs/; then checker.py writes OUTDIR/check.json
#      and its exit status is the trial's.
#
# Environment:
#   CHAOS_FAULT_MS   length of the fault phase (default 12000)
#   CHAOS_MAX_FAULTS faults per trial at most (default 6)
#   CHAOS_MODE       sync | async (default: async for every
#                    CHAOS_ASYNC_EVERY-th trial, default 4: trial % 4 == 3;
#                    the SQL stores run sync only)
#   CHAOS_STORE      redis (default) | postgresql | mariadb
#   BUILD, HAPAIR, TOOLS as for lib.sh

set -uo pipefail
CHAOS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 (python3-matplotlib lives there), whatever python3
# comes first in PATH.
PY=${CHAOS_PYTHON:-/usr/bin/python3}
[[ -x $PY ]] || PY=python3
# shellcheck source=tests/chaos/faults.sh
source "$CHAOS_DIR/faults.sh"
# This script handles failures itself; lib.sh's ERR trap would speak up
# for every probe that answers "no".
trap - ERR

if (($# != 3)); then
	echo "usage: trial.sh SEED TRIAL OUTDIR" >&2
	exit 2
fi
SEED=$1
TRIAL=$2
OUT=$3
[[ $SEED =~ ^[0-9]+$ ]] || { echo "trial.sh: SEED: expected digits," \
	"got '$SEED'" >&2; exit 2; }
[[ $TRIAL =~ ^[0-9]+$ ]] || { echo "trial.sh: TRIAL: expected digits," \
	"got '$TRIAL'" >&2; exit 2; }
FAULT_MS=${CHAOS_FAULT_MS:-12000}
MAX_FAULTS=${CHAOS_MAX_FAULTS:-6}
ASYNC_EVERY=${CHAOS_ASYNC_EVERY:-4}
[[ $ASYNC_EVERY =~ ^[1-9][0-9]*$ ]] || { echo "trial.sh: CHAOS_ASYNC_EVERY:" \
	"expected a whole number >= 1, got '$ASYNC_EVERY'" >&2; exit 2; }
if [[ -n ${CHAOS_MODE:-} ]]; then
	MODE=$CHAOS_MODE
elif ((TRIAL % ASYNC_EVERY == ASYNC_EVERY - 1)) &&
	[[ " $STORE_MODES " == *" async "* ]]; then
	MODE=async
else
	MODE=sync
fi
[[ " $STORE_MODES " == *" $MODE "* ]] || { echo "trial.sh: CHAOS_MODE:" \
	"expected one of '$STORE_MODES' for store $CHAOS_STORE, got" \
	"'$MODE'" >&2; exit 2; }
HB=20ms
LEASE=200ms
HOLD=2s
MAX_LAG=16KB
MAX_LAG_BYTES=16384
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
COLLECTED=0
HEAL_MONO=''

# CLOCK_MONOTONIC - CLOCK_REALTIME in ns, so bash's EPOCHREALTIME can be
# stamped on the clock the tools use.
MONO_OFF=$("$PY" -c 'import time; print(time.monotonic_ns() - time.time_ns())')
mono_ns()
{
	local us=${EPOCHREALTIME/./}
	echo $((us * 1000 + MONO_OFF))
}

log()
{
	echo "# [trial $TRIAL $(date -u +%T.%3N)] $*"
}

collect()
{
	local f n
	((COLLECTED)) && return 0
	COLLECTED=1
	[[ -n $HP_TMP && -d $HP_TMP ]] || return 0
	for f in samples.jsonl w1.log w1.json w1.ids w2.log w2.json w2.ids \
		vipwatch.json faults.jsonl; do
		[[ -e $HP_TMP/$f ]] && cp "$HP_TMP/$f" "$OUT/$f"
	done
	cp "$HP_TMP"/check-*.json "$OUT/" 2>/dev/null || true
	cp "$HP_TMP"/events-*.json "$OUT/" 2>/dev/null || true
	mkdir -p "$OUT/logs"
	for f in "$HP_TMP"/*.log; do
		[[ -e $f ]] || continue
		n=$(basename "$f")
		case $n in
		w1.log | w2.log) ;;
		*) tail -c 200000 "$f" >"$OUT/logs/$n" ;;
		esac
	done
	[[ -e $HP_CONF ]] && cp "$HP_CONF" "$OUT/hapair.conf"
}

chaos_exit()
{
	local rc=$?
	collect
	(exit "$rc")
	store_exit
}
trap chaos_exit EXIT

# ---- 1. cluster ---------------------------------------------------------

log "seed $SEED, store $CHAOS_STORE, mode $MODE, fault phase $FAULT_MS ms," \
	"ns prefix $HP_PREFIX"
store_up "$HB" "$LEASE" "$HOLD" || exit 3

# ---- 2. observers and writers ---------------------------------------------

bg_start sampler - "$PY" "$CHAOS_DIR/sampler.py" \
	--sock "a=$HP_TMP/run/a.sock" --sock "b=$HP_TMP/run/b.sock" \
	--out "$HP_TMP/samples.jsonl" --interval-ms 25 --timeout-ms 200 \
	--duration-ms 600000
samples_ready()
{
	local n
	n=$(wc -l <"$HP_TMP/samples.jsonl" 2>/dev/null) || return 1
	((n >= 3))
}
wait_for "the sampler has sampled both agents" 5000 samples_ready || exit 3
for w in w1 w2; do
	store_writer_start "$w"
done
wait_for "acknowledged writes reach $HP_STANDBY's replica" 5000 \
	store_rows_ge "$HP_STANDBY" 30 w1 || exit 3
sleep 0.5
START_MONO=$(mono_ns)

# ---- 3. faults ------------------------------------------------------------

declare -A BUSY=() FKIND=() FTARGET=() FKEY=() FAPPLY=()
: >"$HP_TMP/faults.jsonl"

# The resources a fault holds, so two faults never fight over one.
fault_keys()
{
	case $1 in
	agent_kill9 | agent_stop) echo "agent-$2" ;;
	"$STORE_KILL") echo "store-$2" ;;
	witness_kill9) echo witness ;;
	link_down) echo "link-$2" ;;
	part2) echo "nft-$2-$3 nft-$3-$2" ;;
	part1) echo "nft-$2-$3" ;;
	netem | nft_loss) echo "netem-$2" ;;
	repl_cut) echo "repl-$2" ;;
	failover_burst) echo "agent-a agent-b" ;;
	lag_fail) echo "agent-a agent-b repl-a repl-b" ;;
	esac
}

fault_record()
{
	local id=$1 kind=$2 target=$3 t0=$4 t1=$5 status=$6
	printf '{"id":%s,"kind":"%s","target":"%s","t_apply":%s,"t_heal":%s,"status":"%s"}\n' \
		"$id" "$kind" "$target" "$t0" "$t1" "$status" \
		>>"$HP_TMP/faults.jsonl"
}

do_apply()
{
	local id=$1 kind=$2 target k keys t0
	shift 2
	# Resolve roles first: the keys name the real node.
	local -a tg=("$@")
	case $kind in
	agent_kill9 | agent_stop | "$STORE_KILL" | repl_cut)
		tg=("$(resolve_server "$1")") ;;
	esac
	keys=$(fault_keys "$kind" "${tg[@]}")
	for k in $keys; do
		if [[ -n ${BUSY[$k]:-} ]]; then
			log "skip fault $id $kind ${tg[*]}: $k is taken by" \
				"fault ${BUSY[$k]}"
			fault_record "$id" "$kind" "${tg[*]}" "$(mono_ns)" null \
				skipped
			return 0
		fi
	done
	t0=$(mono_ns)
	if ! target=$(fault_apply "$kind" "${tg[@]}"); then
		log "fault $id $kind ${tg[*]} could not be applied"
		fault_record "$id" "$kind" "${tg[*]}" "$t0" null failed
		return 0
	fi
	# netem falls back to nft_loss where the kernel has no sch_netem:
	# the fault is recorded as what was applied.
	if [[ $kind == netem && $target == *" nft_loss" ]]; then
		kind=nft_loss
		target=${target% nft_loss}
	fi
	log "apply $id $kind $target"
	for k in $keys; do
		BUSY[$k]=$id
	done
	FKIND[$id]=$kind
	FTARGET[$id]=$target
	FKEY[$id]=$keys
	FAPPLY[$id]=$t0
}

do_heal()
{
	local id=$1 k
	[[ -n ${FKIND[$id]:-} ]] || return 0
	# shellcheck disable=SC2086 # the target is a word list
	fault_heal "${FKIND[$id]}" ${FTARGET[$id]}
	log "heal $id ${FKIND[$id]} ${FTARGET[$id]}"
	fault_record "$id" "${FKIND[$id]}" "${FTARGET[$id]}" \
		"${FAPPLY[$id]}" "$(mono_ns)" applied
	for k in ${FKEY[$id]}; do
		unset "BUSY[$k]"
	done
	unset "FKIND[$id]"
}

mapfile -t EVENTS < <("$PY" "$CHAOS_DIR/schedule.py" --seed "$SEED" \
	--trial "$TRIAL" --fault-ms "$FAULT_MS" --max-faults "$MAX_FAULTS" \
	--kill-kind "$STORE_KILL")
((${#EVENTS[@]})) || bail "schedule.py gave no events"
phase_start=$(now_ms)
for ev in "${EVENTS[@]}"; do
	read -r t what id kind rest <<<"$ev"
	# Bounded: never sleeps past the end of the fault phase.
	while (($(now_ms) < phase_start + t && $(now_ms) < phase_start + \
		FAULT_MS)); do
		sleep 0.01
	done
	if [[ $what == apply ]]; then
		# shellcheck disable=SC2086 # targets are words
		do_apply "$id" "$kind" $rest
	else
		do_heal "$id"
	fi
done
for id in "${!FKIND[@]}"; do
	do_heal "$id"
done
fault_heal_all
HEAL_MONO=$(mono_ns)
log "all faults healed"

# ---- 4. settle ------------------------------------------------------------

settled=1
wait_for "one primary after heal" $((20 * HP_LEASE_MS + 5000)) \
	sole_primary || settled=0
P=$(sole_primary 2>/dev/null) || P=''
if [[ -n $P ]]; then
	S=$(peer_of "$P")
	store_heal "$S"
	wait_for "$P's store is writable, $S's follows it" \
		"$STORE_SETTLE_MS" store_pair_ok "$P" || settled=0
fi
sleep 1
for w in w1 w2; do
	store_writer_stop "$w" || true
done
if [[ -n $P ]]; then
	wait_for "$S has caught up with $P" 10000 store_caught_up "$P" "$S" ||
		settled=0
fi
for w in w1 w2; do
	for n in a b; do
		store_writer_check "$w" "$n" >"$HP_TMP/check-$w-$n.json" \
			2>"$HP_TMP/check-$w-$n.err" || true
	done
done
for n in a b; do
	in_ns "$n" timeout 5 "$HAPAIR" events -c "$HP_CONF" --node "$n" \
		--json -n 256 >"$HP_TMP/events-$n.json" 2>/dev/null || true
done
END_MONO=$(mono_ns)
bg_signal sampler TERM || true
vipwatch_stop || true
wait_for "sampler exits" 3000 pid_gone "$(bg_pid sampler)" || true

cat >"$OUT/meta.json" <<-EOF
	{"seed":$SEED,"trial":$TRIAL,"store":"$CHAOS_STORE","mode":"$MODE",
	 "fault_ms":$FAULT_MS,
	 "heartbeat_ms":$(dur_ms "$HB"),"lease_ms":$HP_LEASE_MS,
	 "max_lag_bytes":$MAX_LAG_BYTES,
	 "liveness_bound_ms":$((20 * HP_LEASE_MS)),
	 "start_mono_ns":$START_MONO,"heal_mono_ns":$HEAL_MONO,
	 "end_mono_ns":$END_MONO,"settled":$( ((settled)) && echo true ||
		echo false),
	 "final_primary":"${P:-}","writers":["w1","w2"],
	 "servers":$(store_servers_json),
	 "ns":{"a":"$(ns_of a)","b":"$(ns_of b)"}}
EOF
collect
log "collected into $OUT"
"$PY" "$CHAOS_DIR/checker.py" --json "$OUT/check.json" "$OUT"
