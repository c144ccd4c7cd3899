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
import json
import statistics
import sys

TOOLS = ["hapair", "hapair-tuned", "sentinel-default", "sentinel-1000ms"]
FAULTS = ["redis_kill9", "linkdown"]
PAIRS = [("hapair", "sentinel-default"), ("hapair-tuned", "sentinel-1000ms")]


def rank(order, name):
    """Known names in their fixed order, unknown ones after them."""
    return order.index(name) if name in order else len(order)


def total(runs, key, digits=None):
    """Sum of a field over the trials that have it (a loss is null when
    the final primary could not be read); null if none has it."""
    vals = [t[key] for t in runs if t.get(key) is not None]
    if not vals:
        return None
    s = sum(vals)
    return round(s, digits) if digits is not None else s


def aggregate(trials):
    """One record per (tool, fault)."""
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
               "dual_holder_ms": None, "acked_lost": None,
               "set_ok_lost": None, "unreadable_trials": 0}
        if good:
            outages = [t["outage_ms"] for t in good]
            rec["outage_ms"] = {"min": min(outages),
                                "median": statistics.median(outages),
                                "max": max(outages)}
            rec["outage_ms_trials"] = outages
            rec["dual_holder_samples"] = total(good, "dual_holder_samples")
            rec["dual_holder_ms"] = total(good, "dual_holder_ms", 3)
            rec["acked_lost"] = total(good, "acked_lost")
            rec["set_ok_lost"] = total(good, "set_ok_lost")
            rec["unreadable_trials"] = sum(
                1 for t in good if t.get("acked_lost") is None)
        records.append(rec)
    return records


def record_of(records, tool, fault):
    for r in records:
        if r["tool"] == tool and r["fault"] == fault and r["outage_ms"]:
            return r
    return None


def show(v):
    return "n/a" if v is None else str(v)


def print_table(records):
    print("%-16s %-11s %6s %6s  %-28s %6s %8s %8s %8s" % (
        "tool", "fault", "trials", "failed", "outage ms min/median/max",
        "acked", "accepted", "dual", "dual"))
    print("%-16s %-11s %6s %6s  %-28s %6s %8s %8s %8s" % (
        "", "", "", "", "", "lost", "lost", "samples", "ms"))
    for r in records:
        if r["outage_ms"]:
            o = r["outage_ms"]
            outage = "%8.1f %8.1f %8.1f" % (o["min"], o["median"], o["max"])
        else:
            outage = "n/a"
        print("%-16s %-11s %6d %6d  %-28s %6s %8s %8s %8s" % (
            r["tool"], r["fault"], r["trials"], r["failed"], outage,
            show(r["acked_lost"]), show(r["set_ok_lost"]),
            show(r["dual_holder_samples"]), show(r["dual_holder_ms"])))
    if any(r["unreadable_trials"] for r in records):
        print("(a loss count leaves out trials whose final primary could"
              " not be read)")

    faults = [f for f in FAULTS if any(r["fault"] == f for r in records)]
    faults += sorted({r["fault"] for r in records} - set(FAULTS))
    print()
    print("median outage ratio".ljust(36)
          + "".join("%13s" % f for f in faults))
    for num, den in PAIRS:
        cells = []
        for f in faults:
            a, b = record_of(records, num, f), record_of(records, den, f)
            ratio = "n/a"
            if a and b and b["outage_ms"]["median"]:
                ratio = "%.3f" % (a["outage_ms"]["median"]
                                  / b["outage_ms"]["median"])
            cells.append("%13s" % ratio)
        print(("%s / %s" % (num, den)).ljust(36) + "".join(cells))
    print()
    print("outage: longest time, after the fault, with no write accepted.")
    print("acked: hapair counts a write when WAIT 1 says a replica has it"
          " (sync mode);")
    print("Sentinel's clients when SET says OK.  accepted: SET said OK.")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: redis_summary.py TRIALS.jsonl OUT.json")
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
