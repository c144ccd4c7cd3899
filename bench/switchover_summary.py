#!/usr/bin/env python3
"""switchover_summary.py - turn the per-trial lines of bench/switchover.sh
into the table people read and the JSON programs read.

    switchover_summary.py TRIALS.jsonl OUT.json

Input: one JSON object per line, {"tool", "fault": "switchover",
"trial", "ok", and, for a trial that ran, "pause_ms", "acked_pause_ms",
"acked_lost", "set_ok_lost", "cli_ms", "agent_ms", "new_first_ack_ms",
"serve_ms", "rejoin_ms", "dual_holder_samples", "dual_holder_ms", ...};
cli_ms and agent_ms are null for Sentinel, a loss is null when the final
primary could not be read.

Output: a table with min/median/max write pause per tool, the
acknowledged pause, the writes lost; the medians of the times after the
request (hapair's CLI, the agent's own count, the first write the new
primary acknowledged, when the harness saw it serve and the old primary
follow); the ratio of median pauses hapair / sentinel-1000ms (and
hapair-tuned / sentinel-1000ms), with the issue's target (hapair's
median pause under 300 ms).  OUT.json, a list of redis_failover.json's
records {"tool", "fault", "trials", "failed", "outage_ms": {"min",
"median", "max"}, "outage_ms_trials", "dual_holder_samples",
"dual_holder_ms", "acked_lost", "set_ok_lost", "unreadable_trials"} -
outage_ms being the write pause - plus "acked_outage_ms", "cli_ms",
"agent_ms", "new_first_ack_ms", "serve_ms" and "rejoin_ms", each
{"min", "median", "max"} or null.  Exits 1 if any trial failed (the
harness could not measure it).

Standard library only.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import redis_summary  # noqa: E402
import summary_common as common  # noqa: E402

TOOLS = ["hapair", "hapair-tuned", "sentinel-1000ms", "sentinel-default"]
FAULTS = ["switchover"]
PAIRS = [("hapair", "sentinel-1000ms"), ("hapair-tuned", "sentinel-1000ms")]
TARGET_MS = 300
# (record key, trial field): spreads kept besides the write pause.
TIMES = [("acked_outage_ms", "acked_pause_ms"), ("cli_ms", "cli_ms"),
         ("agent_ms", "agent_ms"), ("new_first_ack_ms", "new_first_ack_ms"),
         ("serve_ms", "serve_ms"), ("rejoin_ms", "rejoin_ms")]


def spread(good, key):
    """{"min", "median", "max"} of a field over the trials that have it,
    null if none has it."""
    vals = [t[key] for t in good if t.get(key) is not None]
    if not vals:
        return None
    return {"min": min(vals), "median": statistics.median(vals),
            "max": max(vals)}


def extra(good):
    """Losses and dual holders as in redis_failover.json, then the
    acknowledged pause, the CLI's time and the time to serve."""
    rec = redis_summary.sums(good)
    for key, field in TIMES:
        rec[key] = spread(good, field)
    return rec


def aggregate(trials):
    """One record per tool; the write pause is the record's outage."""
    for t in trials:
        if t.get("ok"):
            t["outage_ms"] = t["pause_ms"]
    return common.aggregate(trials, TOOLS, FAULTS, extra)


def cell(s):
    if not s:
        return "%26s" % "n/a"
    return "%8.1f %8.1f %8.1f" % (s["min"], s["median"], s["max"])


def median(s):
    return "%8s" % "n/a" if not s else "%8.1f" % s["median"]


def print_table(records):
    show = redis_summary.show
    print("%-16s %6s %6s  %-26s  %-26s %6s %8s %6s" % (
        "tool", "trials", "failed", "write pause ms", "acked pause ms",
        "acked", "accepted", "dual"))
    print("%-16s %6s %6s  %-26s  %-26s %6s %8s %6s" % (
        "", "", "", "     min   median      max",
        "     min   median      max", "lost", "lost", "ms"))
    for r in records:
        print("%-16s %6d %6d  %26s  %26s %6s %8s %6s" % (
            r["tool"], r["trials"], r["failed"], cell(r["outage_ms"]),
            cell(r["acked_outage_ms"]), show(r["acked_lost"]),
            show(r["set_ok_lost"]), show(r["dual_holder_ms"])))
    if any(r["unreadable_trials"] for r in records):
        print("(a loss count leaves out trials whose final primary could"
              " not be read)")
    print()
    print("%-16s %8s %8s %8s %8s %8s   (medians, ms)" % (
        "", "CLI", "agent", "1st ack", "serving", "old one"))
    print("%-16s %8s %8s %8s %8s %8s" % (
        "", "(shell)", "", "on new", "(polled)", "follows"))
    for r in records:
        print("%-16s %s %s %s %s %s" % (
            r["tool"], median(r["cli_ms"]), median(r["agent_ms"]),
            median(r["new_first_ack_ms"]), median(r["serve_ms"]),
            median(r["rejoin_ms"])))
    common.print_ratios(records, FAULTS, PAIRS, 36, 13, "%.3f",
                        title="median write pause ratio")
    hp = common.record_of(records, "hapair", "switchover")
    if hp:
        med = hp["outage_ms"]["median"]
        print("target: hapair's median write pause under %d ms: %.1f ms,"
              " %s" % (TARGET_MS, med,
                       "met" if med < TARGET_MS else "NOT met"))
    print()
    print("write pause: longest time, after the request, with no write"
          " accepted (SET OK).")
    print("acked: hapair counts a write when WAIT 1 says a replica has"
          " it (sync mode);")
    print("Sentinel's clients when SET says OK.  accepted: SET said OK.")
    print("CLI: `hapair switchover` timed by the shell; agent: its own"
          " elapsed_ms; 1st ack")
    print("on new: mark -> first write the new primary acknowledged;"
          " serving / old one")
    print("follows: request -> the harness saw it (polled, coarse).")


if __name__ == "__main__":
    sys.exit(common.main("switchover_summary.py", aggregate, print_table))
