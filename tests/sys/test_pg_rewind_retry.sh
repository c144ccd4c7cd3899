#!/bin/bash
#
# test_pg_rewind_retry.sh - a pg_rewind that lost its source before it
# wrote anything is tried again; one that lost it after it began writing
# to the target is final (PostgreSQL documents that target unusable).
#
# bin_dir points at a copy of PostgreSQL's bin directory whose pg_rewind
# is a wrapper: a dry run runs the real one; a real run fails the way
# pg_rewind does when the source goes away ("server closed the
# connection unexpectedly"), without or with --progress's "need to copy"
# line (its point of no return), as $HP_TMP/pgbin/mode says; "early"
# fails once, then runs the real pg_rewind; "late" fails every time and
# never touches the data directory.
#
#   1. The primary P's link goes down, the standby S takes over; P's
#      server, down with no primary to follow, is started again by its
#      agent (its WAL now leaves S's history).  Mode early, link up: P's
#      first pg_rewind fails, the agent says nothing was rewritten and
#      tries again; P rewinds and streams from S, the rows are there.
#   2. The same in the other direction with mode late: S's pg_rewind
#      fails past its point of no return: an event says it is not
#      retried, S is unhealthy, no second attempt within 5 s.
#
# Timers: heartbeat 20ms, lease 200ms.

set -euo pipefail
# shellcheck source=tests/sys/lib_pg.sh
source "$(dirname "$0")/lib_pg.sh"

# The wrapper lives under the test's directory (topo_up keeps it).
HP_TMP=$(mktemp -d /tmp/hapair-sys.XXXXXX)
WRAP=$HP_TMP/pgbin

make_wrapper()
{
	local f
	mkdir -p "$WRAP"
	for f in "$PG_BIN"/*; do
		[[ $(basename "$f") == pg_rewind ]] || ln -s "$f" "$WRAP/"
	done
	cat >"$WRAP/pg_rewind" <<-EOF
		#!/bin/sh
		case " \$* " in *" --dry-run "*) exec "$PG_BIN/pg_rewind" "\$@" ;; esac
		mode=\$(cat "$WRAP/mode")
		echo x >>"$WRAP/runs.\$mode"
		if [ "\$mode" = early ] && [ -e "$WRAP/failed.early" ]; then
			exec "$PG_BIN/pg_rewind" "\$@"
		fi
		touch "$WRAP/failed.\$mode"
		echo "pg_rewind: servers diverged at WAL location 0/3000000 on timeline 1" >&2
		echo "pg_rewind: rewinding from last common checkpoint at 0/2000060 on timeline 1" >&2
		echo "pg_rewind: reading source file list" >&2
		[ "\$mode" = late ] &&
			echo "pg_rewind: need to copy 53 MB (total source directory size is 70 MB)" >&2
		echo 'pg_rewind: error: could not fetch remote file "global/pg_control": server closed the connection unexpectedly' >&2
		printf '\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\n' >&2
		exit 1
	EOF
	chmod 755 "$WRAP/pg_rewind"
	echo early >"$WRAP/mode"
	chown -R postgres: "$WRAP"
}

runs()
{
	{ cat "$WRAP/runs.$1" 2>/dev/null || true; } | wc -l
}

restarted_alone()
{
	pg_events "$1" | grep -q 'down with no primary to follow: started again'
}

event_has()
{
	pg_events "$1" | grep -q "$2"
}

log_says()
{
	grep -q "$2" "$HP_TMP/agent-$1.log"
}

final_event()
{
	pg_events "$1" | grep -q "pg_rewind failed against $2.*not retried"
}

make_wrapper
HP_PG_BIN_DIR=$WRAP pg_cluster_up 20ms 200ms
p=$HP_PRIMARY
s=$HP_STANDBY
echo "# primary $p, standby $s"
pg_psql "$p" "INSERT INTO hp_writes SELECT 'x', g FROM
	generate_series(1, 100) g" >/dev/null

# ---- 1: lost before the point of no return: tried again ----------------
link_down "$p"
wait_for "$s takes over" "$HP_FAILOVER_MS" primary_is "$s"
wait_for "$p's agent starts its server again (no primary to follow)" 15000 \
	restarted_alone "$p"
pg_psql "$s" "INSERT INTO hp_writes SELECT 'y', g FROM
	generate_series(1, 50) g" >/dev/null
link_up "$p"
wait_for "$p streams from $s after a failed and a second pg_rewind" 40000 \
	pg_streams_from "$p" "$s"
assert_ge "pg_rewind ran twice on $p (failed, then tried again)" 2 \
	"$(runs early)"
assert_true "$p's agent said nothing was rewritten and tried again" \
	log_says "$p" "pg_rewind could not reach $s.*nothing rewritten, tried again"
ok "$p: $(grep -o 'pg_rewind could not reach[^;]*' "$HP_TMP/agent-$p.log" |
	head -1 | cut -c1-200)"
assert_false "no event of $p calls the rewind final" final_event "$p" "$s"
wait_for "$p has the rows written on $s" 10000 pg_rows_ge "$p" 50 y
wait_for "$p reports its link up (in sync)" 10000 res_link_up "$p"

# ---- 2: lost past the point of no return: final -----------------------
echo late >"$WRAP/mode"
link_down "$s"
wait_for "$p takes over" "$HP_FAILOVER_MS" primary_is "$p"
wait_for "$s's agent starts its server again (no primary to follow)" 15000 \
	restarted_alone "$s"
link_up "$s"
wait_for "an event of $s says pg_rewind failed and is not retried" 30000 \
	final_event "$s" "$p"
ok "$s: $(pg_events "$s" | grep -o 'pg_rewind failed against[^"]*' |
	head -1 | cut -c1-200)"
assert_true "the event gives pg_rewind's error line, continued" \
	event_has "$s" 'could not fetch remote file.*before or while processing the request'

assert_eq "$s is unhealthy" false "$(hp_field "$s" .resources.healthy)"
n=$(runs late)
sleep 5
assert_eq "no second pg_rewind on $s within 5 s" "$n" "$(runs late)"
assert_eq "$p is the one primary" "$p" "$(sole_primary)"
