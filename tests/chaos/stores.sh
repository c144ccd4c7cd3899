# shellcheck shell=bash
#
# stores.sh - the data store under a chaos trial, chosen by CHAOS_STORE:
# redis (the default), postgresql or mariadb.  It sources the store's
# system-test library (tests/sys/lib_redis.sh, lib_pg.sh, lib_mdb.sh,
# each on top of lib.sh) and puts one face on the three for trial.sh and
# faults.sh:
#
#   store_up HB LEASE HOLD    topology, vipwatch, the servers, hapair's
#                             config (mode $MODE), witness, agents; then
#                             one primary whose store is the writable one
#                             and the other's following it
#   store_start_agent NODE    start NODE's agent with its config
#   store_pair_ok P           P's store is the writable one, the other's
#                             follows it
#   store_rows_ge NODE N W    NODE holds at least N rows of writer W
#   store_caught_up P S       S has applied everything P has
#   store_kill9 NODE          kill -9 of NODE's server (1: not running)
#   store_heal NODE           after store_kill9: Redis is started again
#                             (empty: no persistence); PostgreSQL and
#                             MariaDB are restarted by their agent
#   store_writer_start W      the writer W through the VIP, its history
#                             to $HP_TMP/W.log (sync: acknowledged after
#                             the standby has it; Redis async: SET only)
#   store_writer_stop W
#   store_writer_check W NODE W's acknowledged ids read back from NODE
#                             (JSON: checked, missing, missing_ids)
#   store_servers_json        {"a":..,"b":..}: how the writers name the
#                             servers in their history (Redis: the bind
#                             address; PostgreSQL: the data directory;
#                             MariaDB: the server_id)
#   store_exit                the EXIT trap's end (lib_mdb.sh kills its
#                             servers first)
#
# STORE_PORT (the store's TCP port, for the replication cut),
# STORE_KILL (the fault kind of store_kill9: redis_kill9, pg_kill9,
# mdb_kill9), STORE_SETTLE_MS (how long the pair may take to be whole
# again after heal: a PostgreSQL rewind or a MariaDB clone takes longer
# than a Redis full sync) and STORE_MODES (the modes the store runs in:
# the SQL stores sync only, as the checker's async lag rule reads byte
# positions, and their max_lag_on_failover is a time).

# The STORE_* globals are for trial.sh and faults.sh.
# shellcheck disable=SC2034

if [[ -n ${HP_CHAOS_STORES_LOADED:-} ]]; then
	return 0
fi
HP_CHAOS_STORES_LOADED=1

CHAOS_STORE=${CHAOS_STORE:-redis}
_chaos_sys=$(dirname "${BASH_SOURCE[0]}")/../sys
case $CHAOS_STORE in
redis)
	# shellcheck source=tests/sys/lib_redis.sh
	source "$_chaos_sys/lib_redis.sh"
	STORE_PORT=$REDIS_PORT
	STORE_KILL=redis_kill9
	STORE_SETTLE_MS=20000
	STORE_MODES="sync async"
	;;
postgresql)
	# shellcheck source=tests/sys/lib_pg.sh
	source "$_chaos_sys/lib_pg.sh"
	STORE_PORT=$PG_PORT
	STORE_KILL=pg_kill9
	STORE_SETTLE_MS=40000
	STORE_MODES=sync
	;;
mariadb)
	# shellcheck source=tests/sys/lib_mdb.sh
	source "$_chaos_sys/lib_mdb.sh"
	STORE_PORT=$MDB_PORT
	STORE_KILL=mdb_kill9
	STORE_SETTLE_MS=60000
	STORE_MODES=sync
	;;
*)
	echo "stores.sh: CHAOS_STORE: expected redis, postgresql or" \
		"mariadb, got '$CHAOS_STORE'" >&2
	exit 2
	;;
esac

# The agent's config: Redis has one for both nodes, the SQL stores one
# copy per node (data directory, socket, log differ).
store_conf_of()
{
	case $CHAOS_STORE in
	redis) echo "$HP_CONF" ;;
	*) echo "${HP_CONF%.a}.$1" ;;
	esac
}

# Start an agent without lib.sh's bail on a slow answer: under faults
# (netem, a stopped peer) the first status may take a while.
store_start_agent()
{
	bg_start "agent-$1" "$1" "$HAPAIR" agent -c "$(store_conf_of "$1")" \
		-n "$1"
	wait_for "agent $1 answers status" 5000 hp_status "$1" || true
}

store_up()
{
	local hb=$1 lease=$2 hold=$3 out
	case $CHAOS_STORE in
	redis)
		topo_up
		vipwatch_start 600000
		start_redis a
		start_redis b
		HP_REDIS_REPLICATION=$MODE hp_conf_redis "$hb" "$lease" "$hold"
		if [[ $MODE == async ]]; then
			sed -i "s/^max_lag_on_failover = .*/max_lag_on_failover = $MAX_LAG/" \
				"$HP_CONF"
			out=$("$HAPAIR" check-config "$HP_CONF" 2>&1) ||
				bail "hapair check-config rejects the async" \
					"chaos config: $out"
		fi
		start_witness
		store_start_agent a
		store_start_agent b
		wait_one_primary $((20 * HP_LEASE_MS + 5000)) || return 1
		wait_for "$HP_PRIMARY's Redis is master, $HP_STANDBY's follows it" \
			10000 redis_pair_ok "$HP_PRIMARY"
		;;
	postgresql | mariadb)
		# The cluster_up functions note a failed wait and go on.
		out=$HP_FAILS
		if [[ $CHAOS_STORE == postgresql ]]; then
			pg_cluster_up "$hb" "$lease" "$hold"
		else
			mdb_cluster_up "$hb" "$lease" "$hold"
		fi
		((HP_FAILS == out))
		;;
	esac
}

store_pair_ok()
{
	case $CHAOS_STORE in
	redis) redis_pair_ok "$1" ;;
	postgresql) pg_pair_ok "$1" ;;
	mariadb) mdb_pair_ok "$1" ;;
	esac
}

store_rows_ge()
{
	case $CHAOS_STORE in
	redis) redis_dbsize_ge "$1" "$2" ;;
	postgresql) pg_rows_ge "$1" "$2" "$3" ;;
	mariadb) mdb_rows_ge "$1" "$2" "$3" ;;
	esac
}

store_caught_up()
{
	case $CHAOS_STORE in
	redis) redis_caught_up "$1" "$2" ;;
	postgresql) pg_caught_up "$1" "$2" ;;
	mariadb) mdb_caught_up "$1" "$2" ;;
	esac
}

store_kill9()
{
	case $CHAOS_STORE in
	redis)
		bg_signal "redis-$1" KILL || return 1
		bg_wait_exit "redis-$1" 2000
		;;
	postgresql)
		pg_pid "$1" >/dev/null || return 1
		pg_kill9 "$1"
		;;
	mariadb)
		mdb_pid "$1" >/dev/null || return 1
		mdb_kill9 "$1"
		;;
	esac
}

store_heal()
{
	case $CHAOS_STORE in
	redis) ensure_redis "$1" || true ;;
	*) ;;
	esac
}

store_writer_start()
{
	local w=$1 log=$HP_TMP/$1.log
	case $CHAOS_STORE in
	redis)
		if [[ $MODE == async ]]; then
			writer_start "$w" 600000 --log "$log" --no-wait
		else
			writer_start "$w" 600000 --log "$log" --wait-ms 200
		fi
		;;
	postgresql) pgw_start "$w" 600000 --log "$log" ;;
	mariadb) mdbw_start "$w" 600000 --log "$log" ;;
	esac
}

store_writer_stop()
{
	case $CHAOS_STORE in
	redis) writer_stop "$1" ;;
	postgresql) pgw_stop "$1" ;;
	mariadb) mdbw_stop "$1" ;;
	esac
}

store_writer_check()
{
	local w=$1 node=$2 addr
	addr=$(node_addr "$node")
	case $CHAOS_STORE in
	redis) writer_check "$w" "$node" ;;
	postgresql)
		in_ns c env PGPASSWORD="$PG_PASS" timeout 20 "$PGWRITER" \
			check --host "$addr" --port "$PG_PORT" \
			--ids "$HP_TMP/$w.ids" --prefix "$w"
		;;
	mariadb)
		in_ns c timeout 20 "$MDBWRITER" check --host "$addr" \
			--port "$MDB_PORT" --user writer \
			--password "$MDB_WRITER_PASS" --ids "$HP_TMP/$w.ids" \
			--prefix "$w"
		;;
	esac
}

store_servers_json()
{
	case $CHAOS_STORE in
	redis) printf '{"a":"%s","b":"%s"}' "$(node_addr a)" "$(node_addr b)" ;;
	postgresql) printf '{"a":"%s","b":"%s"}' "$(pg_dir a)" "$(pg_dir b)" ;;
	mariadb) printf '{"a":"%s","b":"%s"}' "$(mdb_server_id a)" \
		"$(mdb_server_id b)" ;;
	esac
}

store_exit()
{
	local rc=$? end=hp_exit
	[[ $CHAOS_STORE == mariadb ]] && end=mdb_exit
	# Both read the trial's status from $?.
	(exit "$rc")
	"$end"
}
