"""summary_common.py - what the bench summaries (failover, redis, pg,
mdb, switchover) share: grouping the per-trial lines into one record per (tool, fault)
with min/median/max outage, the median outage ratio table, and the
command line (TRIALS.jsonl in, table on stdout, OUT.json written).

Standard library only.
"""
import json
import statistics
import sys


def rank(order, name):
    """Known names in their fixed order, unknown ones after them."""
    return order.index(name) if name in order else len(order)


def aggregate(trials, tools, faults, extra):
    """One record per (tool, fault), ordered by tools then faults:
    {"tool", "fault", "trials", "failed", "outage_ms": {"min", "median",
    "max"} or null, "outage_ms_trials", "dual_holder_samples",
    "dual_holder_ms"}, then the fields of extra(good), good being the
    trials that ran ("ok"); extra may set the dual holder fields."""
    keys = sorted({(t["tool"], t["fault"]) for t in trials},
                  key=lambda k: (rank(tools, k[0]), rank(faults, k[1])))
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
        rec.update(extra(good))
        records.append(rec)
    return records


def total(runs, key, digits=None):
    """Sum of key over the trials that have it (None when none has)."""
    vals = [t[key] for t in runs if t.get(key) is not None]
    if not vals:
        return None
    s = sum(vals)
    return round(s, digits) if digits is not None else s


def show(v):
    """A table cell: "n/a" for an unknown value."""
    return "n/a" if v is None else str(v)


def loss_sums(good, *more):
    """What the data benches sum over the trials that ran: dual VIP
    holders, acknowledged writes lost (and each of more), and the trials
    whose final primary could not be read (their loss is null)."""
    sums = {"dual_holder_samples": total(good, "dual_holder_samples"),
            "dual_holder_ms": total(good, "dual_holder_ms", 3),
            "acked_lost": total(good, "acked_lost")}
    for key in more:
        sums[key] = total(good, key)
    sums["unreadable_trials"] = sum(
        1 for t in good if t.get("acked_lost") is None)
    return sums


def record_of(records, tool, fault):
    for r in records:
        if r["tool"] == tool and r["fault"] == fault and r["outage_ms"]:
            return r
    return None


def outage_cell(r):
    """The min/median/max outage column, "n/a" when no trial ran."""
    if not r["outage_ms"]:
        return "n/a"
    o = r["outage_ms"]
    return "%8.1f %8.1f %8.1f" % (o["min"], o["median"], o["max"])


def print_ratios(records, faults, pairs, label_width, cell_width, fmt,
                 flag=None, title="median outage ratio"):
    """After a blank line, the ratio of median outages num / den for each
    (num, den) in pairs and each fault, under title; a ratio whose den
    record passes flag gets a "*".  Returns whether any ratio got one."""
    flagged = False
    print()
    print(title.ljust(label_width)
          + "".join("%*s" % (cell_width, f) for f in faults))
    for num, den in pairs:
        cells = []
        for f in faults:
            a, b = record_of(records, num, f), record_of(records, den, f)
            ratio = "n/a"
            if a and b and b["outage_ms"]["median"]:
                ratio = fmt % (a["outage_ms"]["median"]
                               / b["outage_ms"]["median"])
                if flag and flag(b):
                    ratio += "*"
                    flagged = True
            cells.append("%*s" % (cell_width, ratio))
        print(("%s / %s" % (num, den)).ljust(label_width) + "".join(cells))
    return flagged


def main(name, aggregate_trials, print_table):
    """name TRIALS.jsonl OUT.json: print the table, write the records.
    Returns 1 if any trial failed (the harness could not measure it)."""
    if len(sys.argv) != 3:
        sys.exit("usage: %s TRIALS.jsonl OUT.json" % name)
    with open(sys.argv[1]) as fh:
        trials = [json.loads(line) for line in fh if line.strip()]
    records = aggregate_trials(trials)
    print_table(records)
    with open(sys.argv[2], "w") as fh:
        json.dump(records, fh, indent=1)
        fh.write("\n")
    print()
    print("wrote %s" % sys.argv[2])
    return 1 if any(r["failed"] for r in records) else 0
