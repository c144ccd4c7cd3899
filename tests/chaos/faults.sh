# shellcheck shell=bash
#
# faults.sh - the faults of the chaos runner, as apply/heal pairs, on
# top of the namespace harness (tests/sys/lib.sh) and the store under
# test (stores.sh: Redis, PostgreSQL or MariaDB).
#
#   fault_apply KIND TARGET...   inject one fault; prints the resolved
#                                target (e.g. "primary" -> "a")
#   fault_heal KIND TARGET...    undo it (TARGET as fault_apply printed)
#   fault_heal_all               undo everything any fault may have left:
#                                every node's nftables table, netem qdisc,
#                                link; SIGCONT to the agents; restart of
#                                agents, Redis and the witness that are
#                                not running (the SQL servers' agents
#                                restart those).  Idempotent.
#
# Kinds and targets (NODE is a, b or w; SERVER a, b, primary or standby,
# resolved when applied: primary = the VIP holder, else a):
#   agent_kill9 SERVER     kill -9 of the agent (its guard lives on);
#                          heal: start it again
#   agent_stop SERVER      SIGSTOP of the agent; heal: SIGCONT
#   redis_kill9 SERVER     kill -9 of the redis-server (comes back empty:
#                          no persistence); heal: start it again
#   pg_kill9, mdb_kill9    kill -9 of the postmaster or mariadbd (the
#                          STORE_KILL of the store under test); heal:
#                          nothing, its agent brings it back
#   witness_kill9 w        kill -9 of the witness; heal: start it again
#   link_down NODE         NODE's eth0 down; heal: up
#   part2 NODE NODE        two-way partition between the two nodes
#   part1 NODE NODE        one-way: the first stops hearing the second
#                          (the second still hears the first)
#   netem NODE             loss 20 %, delay 20 ms +- 10 ms, reordering
#                          25 % on NODE's eth0 (tc netem).  A kernel
#                          without sch_netem (this project's CI VMs)
#                          cannot delay or reorder: the fault is then
#                          applied as nft_loss instead, and recorded
#                          under that kind
#   nft_loss NODE          20 % of the packets NODE receives and 20 % of
#                          those it sends dropped at random (nftables
#                          numgen), in table hpc_loss
#   repl_cut SERVER        the server stops receiving the store's
#                          traffic from the other server (STORE_PORT
#                          only): the replication link breaks,
#                          heartbeats flow
#   lag_fail primary       the targeted lag fault: repl_cut on the
#                          standby, writes it never gets (async: until
#                          it is past max_lag_on_failover), then
#                          kill -9 of the primary's agent: the standby,
#                          behind (async: past max_lag_on_failover;
#                          sync: out of sync), must not take over;
#                          heal: agent started, cut removed
#   failover_burst primary three failovers in quick succession: kill -9
#                          of the primary's agent, restart 0.6 s later,
#                          and again on the new primary once one is
#                          there (bounded waits); heal: agents running
#
# Partitions are nftables tables named hpc_<peer> inside the node that
# drops (by the peer's IP and Ethernet source, so multicast from it is
# dropped too, as partition_servers in lib.sh does), one table per
# peer, so several partitions can overlap.  Every load-bearing loop is
# bounded in count and time.

if [[ -n ${HP_CHAOS_FAULTS_LOADED:-} ]]; then
	return 0
fi
HP_CHAOS_FAULTS_LOADED=1

# shellcheck source=tests/chaos/stores.sh
source "$(dirname "${BASH_SOURCE[0]}")/stores.sh"

# The current primary as the kernels see it (VIP holder), else a.
resolve_server()
{
	local h
	case $1 in
	a | b) echo "$1" ;;
	primary)
		h=$(vip_holders)
		if [[ $h == a || $h == b ]]; then
			echo "$h"
		else
			echo a
		fi
		;;
	standby) peer_of "$(resolve_server primary)" ;;
	*) echo "resolve_server: '$1' is not a, b, primary or standby" >&2
		return 1 ;;
	esac
}

node_mac()
{
	ip -n "$(ns_of "$1")" -j link show eth0 | jq -r '.[0].address'
}

# nft_drop_from NODE PEER BOTH - NODE drops what comes from PEER; with
# BOTH=1 also what it sends to PEER.
nft_drop_from()
{
	local node=$1 peer=$2 both=$3 out=''
	if ((both)); then
		out="chain out {
			type filter hook output priority raw;
			ip daddr $(node_addr "$peer") drop
		}"
	fi
	in_ns "$node" nft delete table inet "hpc_$peer" 2>/dev/null || true
	in_ns "$node" nft -f - <<-EOF
		table inet hpc_$peer {
			chain in {
				type filter hook prerouting priority raw;
				ether saddr $(node_mac "$peer") drop
				ip saddr $(node_addr "$peer") drop
			}
			$out
		}
	EOF
}

nft_undrop()
{
	in_ns "$1" nft delete table inet "hpc_$2" 2>/dev/null || true
}

# Random loss both ways on NODE (the netem fault's fallback).
nft_loss()
{
	in_ns "$1" nft delete table inet hpc_loss 2>/dev/null || true
	in_ns "$1" nft -f - <<-EOF
		table inet hpc_loss {
			chain in {
				type filter hook prerouting priority raw;
				numgen random mod 100 < 20 drop
			}
			chain out {
				type filter hook output priority raw;
				numgen random mod 100 < 20 drop
			}
		}
	EOF
}

# netem NODE: tc netem, or (no sch_netem in this kernel) nft_loss;
# prints the kind that was applied.
netem_or_loss()
{
	local err
	if err=$(in_ns "$1" tc qdisc replace dev eth0 root netem loss 20% \
		delay 20ms 10ms reorder 25% 2>&1); then
		echo netem
		return 0
	fi
	echo "netem on $1: $err; applying nft_loss instead" >&2
	nft_loss "$1" && echo nft_loss
}

# The replication cut: SERVER drops TCP from the other server's store
# port (the replica's side of the link) and to it.
repl_cut()
{
	local node=$1 peer
	peer=$(peer_of "$node")
	in_ns "$node" nft delete table inet hpc_repl 2>/dev/null || true
	in_ns "$node" nft -f - <<-EOF
		table inet hpc_repl {
			chain in {
				type filter hook prerouting priority raw;
				ip saddr $(node_addr "$peer") tcp sport $STORE_PORT drop
				ip saddr $(node_addr "$peer") tcp dport $STORE_PORT drop
			}
		}
	EOF
}

agent_running()
{
	local pid
	pid=$(bg_pid "agent-$1" 2>/dev/null) || return 1
	pid_alive "$pid"
}

witness_running()
{
	local pid
	pid=$(bg_pid witness 2>/dev/null) || return 1
	pid_alive "$pid"
}

# lag_fail's wait: until the standby NODE sees itself more than
# max_lag_on_failover behind (async; at most 6 s), or 1 s (sync: by
# then the cut has taken it out of sync).
lag_builds()
{
	local i lag
	if [[ ${MODE:-sync} != async ]]; then
		sleep 1
		return 0
	fi
	for ((i = 0; i < 60; i++)); do
		lag=$(hp_field "$1" .replication.lag 2>/dev/null) || lag=0
		[[ $lag =~ ^[0-9]+$ ]] || lag=0
		((lag > ${MAX_LAG_BYTES:-16384})) && return 0
		sleep 0.1
	done
	echo "lag_fail: $1 never got more than ${MAX_LAG_BYTES:-16384}" \
		"bytes behind (last $lag)" >&2
}

# Three failovers in quick succession (bounded: each wait at most 3 s).
failover_burst()
{
	local i p
	for ((i = 0; i < 3; i++)); do
		p=$(vip_holders)
		[[ $p == a || $p == b ]] || break
		agent_running "$p" || break
		bg_signal "agent-$p" KILL || break
		bg_wait_exit "agent-$p" 2000 || true
		sleep 0.6
		store_start_agent "$p"
		wait_for "a new primary after kill -9 of $p" 3000 \
			holder_is "$(peer_of "$p")" || break
	done
}

fault_apply()
{
	local kind=$1 n
	shift
	case $kind in
	agent_kill9)
		n=$(resolve_server "$1")
		bg_signal "agent-$n" KILL
		bg_wait_exit "agent-$n" 2000
		echo "$n" ;;
	agent_stop)
		n=$(resolve_server "$1")
		bg_signal "agent-$n" STOP
		echo "$n" ;;
	"$STORE_KILL")
		n=$(resolve_server "$1")
		store_kill9 "$n" || return 1
		echo "$n" ;;
	witness_kill9)
		bg_signal witness KILL
		bg_wait_exit witness 2000
		echo w ;;
	link_down)
		link_down "$1"
		echo "$1" ;;
	part2)
		nft_drop_from "$1" "$2" 1
		nft_drop_from "$2" "$1" 1
		echo "$1 $2" ;;
	part1)
		nft_drop_from "$1" "$2" 0
		echo "$1 $2" ;;
	netem)
		n=$(netem_or_loss "$1") || return 1
		if [[ $n == nft_loss ]]; then
			echo "$1 nft_loss"
		else
			echo "$1"
		fi ;;
	nft_loss)
		nft_loss "$1" || return 1
		echo "$1" ;;
	repl_cut)
		n=$(resolve_server "$1")
		repl_cut "$n"
		echo "$n" ;;
	lag_fail)
		n=$(resolve_server primary)
		repl_cut "$(peer_of "$n")"
		lag_builds "$(peer_of "$n")"
		bg_signal "agent-$n" KILL
		bg_wait_exit "agent-$n" 2000
		echo "$n $(peer_of "$n")" ;;
	failover_burst)
		failover_burst >&2
		echo primary ;;
	*) echo "fault_apply: unknown fault kind '$kind'" >&2; return 1 ;;
	esac
}

fault_heal()
{
	local kind=$1
	shift
	case $kind in
	agent_kill9) agent_running "$1" || store_start_agent "$1" ;;
	agent_stop) bg_signal "agent-$1" CONT || true ;;
	"$STORE_KILL") store_heal "$1" ;;
	witness_kill9) witness_running || start_witness ;;
	link_down) link_up "$1" ;;
	part2) nft_undrop "$1" "$2"; nft_undrop "$2" "$1" ;;
	part1) nft_undrop "$1" "$2" ;;
	netem | nft_loss)
		in_ns "$1" tc qdisc del dev eth0 root 2>/dev/null || true
		in_ns "$1" nft delete table inet hpc_loss 2>/dev/null || true
		;;
	repl_cut) in_ns "$1" nft delete table inet hpc_repl 2>/dev/null ||
		true ;;
	lag_fail)
		agent_running "$1" || store_start_agent "$1"
		in_ns "$2" nft delete table inet hpc_repl 2>/dev/null || true
		;;
	failover_burst)
		agent_running a || store_start_agent a
		agent_running b || store_start_agent b
		;;
	*) echo "fault_heal: unknown fault kind '$kind'" >&2; return 1 ;;
	esac
}

fault_heal_all()
{
	local n p
	for n in a b w; do
		ip -n "$(ns_of "$n")" link set eth0 up 2>/dev/null || true
		in_ns "$n" tc qdisc del dev eth0 root 2>/dev/null || true
		for p in a b w repl loss; do
			in_ns "$n" nft delete table inet "hpc_$p" \
				2>/dev/null || true
		done
	done
	for n in a b; do
		bg_signal "agent-$n" CONT 2>/dev/null || true
	done
	witness_running || start_witness
	for n in a b; do
		store_heal "$n"
		agent_running "$n" || store_start_agent "$n"
	done
}
