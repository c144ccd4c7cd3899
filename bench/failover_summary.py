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
import json
import statistics
import sys

TOOLS = ["hapair", "hapair-tuned", "keepalived", "keepalived-fast"]
FAULTS = ["linkdown", "kill9", "sigstop", "partition"]
PAIRS = [("hapair", "keepalived"), ("hapair-tuned", "keepalived-fast")]


def rank(order, name):
    """Known names in their fixed order, unknown ones after them."""
    return order.index(name) if name in order else len(order)


def aggregate(trials):
    """One record per (tool, fault); dual holders summed over trials."""
    keys = sorted({(t["tool"], t["fault"]) for t in trials},
                  key=lambda k: (rank(TOOLS, k[0]), rank(FAULTS, k[1])))
    records = []
    for tool, fault in keys:
        runs = [t for t in trials
                if t["tool"] == tool and t["fault"] == fault]
        good = [t for t in runs if t.get("ok")]
        rec = {"tool": tool, "fault": fault, "trials": len(good),
               "failed": len(runs) - len(good), "outage_ms": None,
               "outage_ms_trials": [], "dual_holder_samples": None,
               "dual_holder_ms": None}
        if good:
            outages = [t["outage_ms"] for t in good]
            rec["outage_ms"] = {"min": min(outages),
                                "median": statistics.median(outages),
                                "max": max(outages)}
            rec["outage_ms_trials"] = outages
            rec["dual_holder_samples"] = sum(
                t["dual_holder_samples"] for t in good)
            rec["dual_holder_ms"] = round(
                sum(t["dual_holder_ms"] for t in good), 3)
        records.append(rec)
    return records


def record_of(records, tool, fault):
    for r in records:
        if r["tool"] == tool and r["fault"] == fault and r["outage_ms"]:
            return r
    return None


def print_table(records):
    print("%-16s %-10s %6s %6s  %-28s %12s %12s" % (
        "tool", "fault", "trials", "failed", "outage ms min/median/max",
        "dual samples", "dual ms"))
    for r in records:
        if r["outage_ms"]:
            o = r["outage_ms"]
            outage = "%8.1f %8.1f %8.1f" % (o["min"], o["median"], o["max"])
            samples, dual_ms = r["dual_holder_samples"], r["dual_holder_ms"]
        else:
            outage, samples, dual_ms = "n/a", "n/a", "n/a"
        print("%-16s %-10s %6d %6d  %-28s %12s %12s" % (
            r["tool"], r["fault"], r["trials"], r["failed"], outage,
            samples, dual_ms))

    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    split = False
    print()
    print("median outage ratio".ljust(34)
          + "".join("%11s" % f for f in faults))
    for num, den in PAIRS:
        cells = []
        for f in faults:
            a, b = record_of(records, num, f), record_of(records, den, f)
            ratio = "n/a"
            if a and b and b["outage_ms"]["median"]:
                ratio = "%.2f" % (a["outage_ms"]["median"]
                                  / b["outage_ms"]["median"])
                # Short outage bought with two VIP holders: say so.
                if b["dual_holder_samples"]:
                    ratio += "*"
                    split = True
            cells.append("%11s" % ratio)
        print(("%s / %s" % (num, den)).ljust(34) + "".join(cells))
    if split:
        print("* the denominator had two VIP holders at once (split brain):"
              " the old primary")
        print("  kept answering, so its short outage is not a failover.")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: failover_summary.py TRIALS.jsonl OUT.json")
    with open(sys.argv[1]) as fh:
        trials = [json.loads(line) for line in fh if line.strip()]
    records = aggregate(trials)
    print_table(records)
    with open(sys.argv[2], "w") as fh:
        json.dump(records, fh, indent=1)
        fh.write("\n")
    print()
    print("wrote %s" % sys.argv[2])
    return 1 if any(r["failed"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
