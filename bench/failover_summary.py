#!/usr/bin/env python3
"""failover_summary.py - turn the per-trial lines of bench/failover.sh
into the table people read and the JSON programs read.

    failover_summary.py TRIALS.jsonl OUT.json

Input: one JSON object per line, {"tool", "fault", "trial", "ok", and,
for a trial that ran, "outage_ms", "dual_holder_samples",
"dual_holder_ms", ...}.

Output: a table with min/median/max outage per (tool, fault), the dual
holder sums, and the ratio of median outages hapair / keepalived and
hapair-tuned / keepalived-fast per fault; OUT.json, a list of
{"tool", "fault", "trials", "failed", "outage_ms": {"min", "median",
"max"}, "outage_ms_trials", "dual_holder_samples", "dual_holder_ms"}.
Exits 1 if any trial failed (the harness could not measure it).

Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary_common as common  # noqa: E402

TOOLS = ["hapair", "hapair-tuned", "keepalived", "keepalived-fast"]
FAULTS = ["linkdown", "kill9", "sigstop", "partition"]
PAIRS = [("hapair", "keepalived"), ("hapair-tuned", "keepalived-fast")]


def dual_holders(good):
    """Dual holders summed over the trials that ran."""
    if not good:
        return {}
    return {"dual_holder_samples": sum(t["dual_holder_samples"]
                                       for t in good),
            "dual_holder_ms": round(sum(t["dual_holder_ms"]
                                        for t in good), 3)}


def aggregate(trials):
    """One record per (tool, fault); dual holders summed over trials."""
    return common.aggregate(trials, TOOLS, FAULTS, dual_holders)


def print_table(records):
    print("%-16s %-10s %6s %6s  %-28s %12s %12s" % (
        "tool", "fault", "trials", "failed", "outage ms min/median/max",
        "dual samples", "dual ms"))
    for r in records:
        if r["outage_ms"]:
            samples, dual_ms = r["dual_holder_samples"], r["dual_holder_ms"]
        else:
            samples, dual_ms = "n/a", "n/a"
        print("%-16s %-10s %6d %6d  %-28s %12s %12s" % (
            r["tool"], r["fault"], r["trials"], r["failed"],
            common.outage_cell(r), samples, dual_ms))

    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    # Short outage bought with two VIP holders: say so.
    split = common.print_ratios(records, faults, PAIRS, 34, 11, "%.2f",
                                lambda b: b["dual_holder_samples"])
    if split:
        print("* the denominator had two VIP holders at once (split brain):"
              " the old primary")
        print("  kept answering, so its short outage is not a failover.")


if __name__ == "__main__":
    sys.exit(common.main("failover_summary.py", aggregate, print_table))
