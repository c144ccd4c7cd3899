#!/usr/bin/env python3
"""redis_summary.py - turn the per-trial lines of bench/redis_failover.sh
into the table people read and the JSON programs read.

    redis_summary.py TRIALS.jsonl OUT.json

Input: one JSON object per line, {"tool", "fault", "trial", "ok", and,
for a trial that ran, "outage_ms", "acked_outage_ms", "acked_lost",
"set_ok_lost", "dual_holder_samples", "dual_holder_ms", ...}; the dual
holder fields are null for tools without a VIP (Sentinel), a loss is null
when the final primary could not be read.

Output: a table with min/median/max write outage per (tool, fault), the
acknowledged writes lost and the dual holder sums, and the ratio of
median outages hapair / sentinel-default and hapair-tuned /
sentinel-1000ms per fault; OUT.json, a list of {"tool", "fault",
"trials", "failed", "outage_ms": {"min", "median", "max"},
"outage_ms_trials", "dual_holder_samples", "dual_holder_ms",
"acked_lost", "set_ok_lost"} (sums over the trials; null where no trial
could say).  Exits 1 if any trial failed (the harness could not measure
it).

Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary_common as common  # noqa: E402

TOOLS = ["hapair", "hapair-tuned", "sentinel-default", "sentinel-1000ms"]
FAULTS = ["redis_kill9", "linkdown"]
PAIRS = [("hapair", "sentinel-default"), ("hapair-tuned", "sentinel-1000ms")]


def sums(good):
    """Dual holders and losses summed over the trials that ran."""
    return common.loss_sums(good, "set_ok_lost")


def aggregate(trials):
    """One record per (tool, fault)."""
    return common.aggregate(trials, TOOLS, FAULTS, sums)


def print_table(records):
    print("%-16s %-11s %6s %6s  %-28s %6s %8s %8s %8s" % (
        "tool", "fault", "trials", "failed", "outage ms min/median/max",
        "acked", "accepted", "dual", "dual"))
    print("%-16s %-11s %6s %6s  %-28s %6s %8s %8s %8s" % (
        "", "", "", "", "", "lost", "lost", "samples", "ms"))
    for r in records:
        print("%-16s %-11s %6d %6d  %-28s %6s %8s %8s %8s" % (
            r["tool"], r["fault"], r["trials"], r["failed"],
            common.outage_cell(r),
            common.show(r["acked_lost"]), common.show(r["set_ok_lost"]),
            common.show(r["dual_holder_samples"]), common.show(r["dual_holder_ms"])))
    if any(r["unreadable_trials"] for r in records):
        print("(a loss count leaves out trials whose final primary could"
              " not be read)")

    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    faults += sorted({r["fault"] for r in records} - set(FAULTS))
    common.print_ratios(records, faults, PAIRS, 36, 13, "%.3f")
    print()
    print("outage: longest time, after the fault, with no write accepted.")
    print("acked: hapair counts a write when WAIT 1 says a replica has it"
          " (sync mode);")
    print("Sentinel's clients when SET says OK.  accepted: SET said OK.")


if __name__ == "__main__":
    sys.exit(common.main("redis_summary.py", aggregate, print_table))
