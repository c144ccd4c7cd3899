#!/usr/bin/env python3
"""mdb_summary.py - turn the per-trial lines of bench/mariadb_failover.sh
into the table people read and the JSON programs read.

    mdb_summary.py TRIALS.jsonl OUT.json

Input: one JSON object per line, {"tool", "fault", "trial", "ok", and,
for a trial that ran, "outage_ms", "acked", "acked_lost", "writable"
(servers accepting writes at the end), "dual_holder_samples",
"dual_holder_ms", ...}; a loss is null when the final primary could not
be read.

Output: a table with min/median/max commit outage per (tool, fault),
the acknowledged commits lost, the trials that ended with two writable
servers (split) and the dual VIP holder sums, then the ratio of median
outages hapair / keepalived and hapair-tuned / keepalived; OUT.json, a
list of records shaped like postgresql_failover.json's plus
"split_trials".  Exits 1 if any trial failed.

Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary_common as common  # noqa: E402

TOOLS = ["hapair", "hapair-tuned", "keepalived"]
FAULTS = ["mdb_kill9", "linkdown", "ha_kill9"]
PAIRS = [("hapair", "keepalived"), ("hapair-tuned", "keepalived")]


def sums(good):
    s = common.loss_sums(good)
    s["split_trials"] = sum(1 for t in good
                            if (t.get("writable") or 0) >= 2)
    return s


def aggregate(trials):
    return common.aggregate(trials, TOOLS, FAULTS, sums)


def print_table(records):
    fmt = "%-13s %-9s %6s %6s  %-28s %6s %6s %8s %9s"
    print(fmt % ("tool", "fault", "trials", "failed",
                 "outage ms min/median/max", "acked", "split", "dual",
                 "dual"))
    print(fmt % ("", "", "", "", "", "lost", "trials", "samples", "ms"))
    for r in records:
        print(fmt.replace("%6s %6s  %-28s", "%6d %6d  %-28s") % (
            r["tool"], r["fault"], r["trials"], r["failed"],
            common.outage_cell(r), common.show(r["acked_lost"]),
            common.show(r["split_trials"]), common.show(r["dual_holder_samples"]),
            common.show(r["dual_holder_ms"])))
    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    common.print_ratios(records, faults, PAIRS, 30, 11, "%.3f")
    print()
    print("outage: longest time, ending after the fault, with no commit"
          " acknowledged;")
    print("split: the trial ended with both servers accepting writes"
          " (read_only = 0).")


if __name__ == "__main__":
    sys.exit(common.main("mdb_summary.py", aggregate, print_table))
