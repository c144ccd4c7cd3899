# shellcheck shell=bash
#
# lib_ka.sh - keepalived as the benches run it, on the network of the
# system tests (tests/sys/lib.sh, sourced first): one keepalived per
# server in its namespace, with its own config $HP_TMP/ka-NODE.conf
# (written by the bench's CONF function), pid files and processes.
#
#   ka_start CONF ARGS...   CONF NODE ARGS... writes NODE's config, for a
#                           and b; start both, wait for their VRRP children
#   ka_kill9 NODE           SIGKILL of parent and VRRP child together
#   ka_signal NODE SIGNAL   STOP or CONT of both
#   ka_pids / ka_child_pid / ka_child_alive NODE

if [[ -n ${HP_LIB_KA_LOADED:-} ]]; then
	return 0
fi
HP_LIB_KA_LOADED=1

# Separate pid files per server: two keepalived on one machine must not
# take each other for an already running daemon.
ka_start()
{
	local conf=$1 node
	shift
	for node in a b; do
		"$conf" "$node" "$@"
		bg_start "ka-$node" "$node" keepalived -n -l -D -P -G \
			-f "$HP_TMP/ka-$node.conf" -p "$HP_TMP/ka-$node.pid" \
			-r "$HP_TMP/ka-$node-vrrp.pid"
	done
	for node in a b; do
		wait_for "keepalived on $node started its VRRP child" 5000 \
			ka_child_alive "$node"
	done
}

ka_child_pid()
{
	local pid
	{ read -r pid <"$HP_TMP/ka-$1-vrrp.pid"; } 2>/dev/null || return 1
	# Only a process inside our namespace can be ours.
	ip netns pids "$(ns_of "$1")" | grep -qx "$pid" || return 1
	echo "$pid"
}

ka_child_alive()
{
	local pid
	pid=$(ka_child_pid "$1") || return 1
	pid_alive "$pid"
}

# All keepalived processes of the instance on NODE: VRRP child, parent.
ka_pids()
{
	local child parent
	child=$(ka_child_pid "$1") || bail "no keepalived VRRP child on $1"
	parent=$(bg_pid "ka-$1")
	echo "$child $parent"
}

pid_stopped()
{
	local stat rest
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${stat##*) }
	[[ ${rest:0:1} == T ]]
}

all_stopped()
{
	local p
	for p in "$@"; do
		pid_stopped "$p" || return 1
	done
}

all_gone()
{
	local p
	for p in "$@"; do
		pid_gone "$p" || return 1
	done
}

# SIGKILL parent and VRRP child together.  Both are stopped first, so
# neither can react to the other's death (the parent would respawn the
# child; the child gets SIGTERM through PDEATHSIG and would release the
# VIP cleanly), which would not be a crash.
ka_kill9()
{
	local -a pids
	read -ra pids <<<"$(ka_pids "$1")"
	kill -s STOP "${pids[@]}"
	wait_for "keepalived on $1 stopped" 2000 all_stopped "${pids[@]}"
	kill -s KILL "${pids[@]}"
	wait_for "keepalived on $1 gone" 2000 all_gone "${pids[@]}"
}

ka_signal()
{
	local -a pids
	read -ra pids <<<"$(ka_pids "$1")"
	kill -s "$2" "${pids[@]}"
}
