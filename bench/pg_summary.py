#!/usr/bin/env python3
"""pg_summary.py - turn the per-trial lines of bench/pg_failover.sh into
the table people read and the JSON programs read.

    pg_summary.py TRIALS.jsonl OUT.json

Input: one JSON object per line, {"tool", "fault", "trial", "ok", and,
for a trial that ran, "outage_ms", "acked", "acked_lost",
"dual_holder_samples", "dual_holder_ms", ...}; the dual holder fields
are null for Patroni (no VIP), a loss is null when the final primary
could not be read.

Output: a table with min/median/max commit outage per (tool, fault),
the acknowledged commits lost and the dual holder sums, and the ratio of
median outages hapair / patroni-default and hapair-tuned / patroni-tuned;
OUT.json, a list of records shaped like redis_failover.json's: {"tool",
"fault", "trials", "failed", "outage_ms": {"min", "median", "max"},
"outage_ms_trials", "dual_holder_samples", "dual_holder_ms",
"acked_lost", "unreadable_trials"}.  Exits 1 if any trial failed.

Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary_common as common  # noqa: E402

TOOLS = ["hapair", "hapair-tuned", "patroni-default", "patroni-tuned"]
FAULTS = ["pg_kill9", "linkdown"]
PAIRS = [("hapair", "patroni-default"), ("hapair-tuned", "patroni-tuned")]


def sums(good):
    return common.loss_sums(good)


def aggregate(trials):
    return common.aggregate(trials, TOOLS, FAULTS, sums)


def print_table(records):
    print("%-16s %-9s %6s %6s  %-28s %6s %8s %8s" % (
        "tool", "fault", "trials", "failed", "outage ms min/median/max",
        "acked", "dual", "dual"))
    print("%-16s %-9s %6s %6s  %-28s %6s %8s %8s" % (
        "", "", "", "", "", "lost", "samples", "ms"))
    for r in records:
        print("%-16s %-9s %6d %6d  %-28s %6s %8s %8s" % (
            r["tool"], r["fault"], r["trials"], r["failed"],
            common.outage_cell(r), common.show(r["acked_lost"]),
            common.show(r["dual_holder_samples"]), common.show(r["dual_holder_ms"])))
    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    common.print_ratios(records, faults, PAIRS, 36, 13, "%.3f")
    print()
    print("outage: longest time, ending after the fault, with no commit"
          " acknowledged;")
    print("both tools run synchronous replication (hapair: replication ="
          " sync; Patroni: synchronous_mode).")


if __name__ == "__main__":
    sys.exit(common.main("pg_summary.py", aggregate, print_table))
