#!/bin/bash
#
# test_chaos_short.sh - the short form of the chaos runner (issue 7) in
# `make test`: 3 trials with a fixed SEED, a 6 s fault phase and at most
# 3 faults each, the last trial in async mode.  Each trial builds its own
# namespaces, runs a Redis pair under a sync (or async) writer, applies
# its random faults, heals, and checker.py checks the history against
# invariants 1-3 and liveness (see tests/chaos/checker.py).  Passes when
# every trial ran to the end and the checker found nothing.
#
# tests/sys/run already holds the system-test lock, so the runner does
# not take it again (HP_CHAOS_LOCK_HELD).  The trials' files and the
# report go to $BUILD/chaos-short (kept for a failure's post-mortem).
# The full run is `make chaos TRIALS=200`.

set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
out=$BUILD/chaos-short
rc=0
HP_CHAOS_LOCK_HELD=1 CHAOS_OUT=$out CHAOS_FAULT_MS=6000 CHAOS_MAX_FAULTS=3 \
	CHAOS_ASYNC_EVERY=3 CHAOS_TRIAL_TIMEOUT=34 \
	"$REPO/tests/chaos/run" 3 20261124 || rc=$?
if ((rc == 0)); then
	echo "ok - 3 chaos trials, no violation (report: $out/report.md)"
else
	echo "not ok - chaos trials: a violation or a trial that did not" \
		"finish (see $out/trials/*/trial.out and check.json)"
fi
exit "$rc"
