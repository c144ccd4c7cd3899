#!/usr/bin/env python3
"""report.py - sum up chaos trials: report.json, report.md, timeline.png.

    report.py [--seed S] [--trial N] CHAOS_DIR

Reads CHAOS_DIR/trials/*/ (meta.json and checker.py's check.json; a
trial without check.json counts as not checked) and writes:

  report.json  trials, trials_checked, trials_with_violations, seed,
               modes, faults (applied, by kind), faults_skipped,
               failovers, primary_moves, split_brain_instants,
               acked_lost_sync, acked_lost_async, failed_failovers,
               outage_ms (percentiles over the outages: gaps of >= 100 ms
               between acknowledged writes), max_outage_ms (percentiles
               over the trials' longest outage), recovery_ms (heal to one
               primary), violations (trial, kind, detail)
  report.md    the same for people, with the timeline picture
  timeline.png one trial (--trial, else the first with a violation,
               else the one with the most failovers): per server its
               role over time, the VIP holder, the faults as spans, and
               the writes each server acknowledged (per 100 ms)

Python 3 with Debian's python3-matplotlib (Agg backend, no display).
"""

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402


def pct(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return round(v[k], 1)


def pcts(values):
    return {"n": len(values), "p50": pct(values, 50), "p90": pct(values, 90),
            "p99": pct(values, 99),
            "max": round(max(values), 1) if values else None}


def load_trials(root):
    out = []
    for d in sorted(glob.glob(os.path.join(root, "trials", "*"))):
        if not os.path.isdir(d):
            continue
        t = {"dir": d, "name": os.path.basename(d), "meta": None,
             "check": None}
        try:
            with open(os.path.join(d, "meta.json")) as f:
                t["meta"] = json.load(f)
        except (OSError, ValueError):
            pass
        try:
            with open(os.path.join(d, "check.json")) as f:
                c = json.load(f)
            if not c.get("error"):
                t["check"] = c
            else:
                t["error"] = c["error"]
        except (OSError, ValueError):
            pass
        out.append(t)
    return out


STORE_NAMES = {"redis": "Redis", "postgresql": "PostgreSQL",
               "mariadb": "MariaDB"}


def aggregate(trials, seed):
    r = {"seed": seed, "trials": len(trials), "trials_checked": 0,
         "trials_with_violations": 0, "trials_not_checked": [],
         "stores": {}, "modes": {}, "faults": {}, "faults_skipped": 0,
         "failovers": 0,
         "primary_moves": 0, "split_brain_instants": 0,
         "acked_lost_sync": 0, "acked_lost_async": 0,
         "failed_failovers": 0, "acked_writes": 0, "violations": []}
    outages, maxes, recov = [], [], []
    for t in trials:
        st = (t["meta"] or {}).get("store", "redis")
        r["stores"][st] = r["stores"].get(st, 0) + 1
        c = t["check"]
        if c is None:
            r["trials_not_checked"].append(t["name"])
            continue
        m = c["metrics"]
        r["trials_checked"] += 1
        if c["violations"]:
            r["trials_with_violations"] += 1
        for v in c["violations"]:
            r["violations"].append({"trial": t["name"], "kind": v["kind"],
                                    "detail": v["detail"]})
        r["modes"][m["mode"]] = r["modes"].get(m["mode"], 0) + 1
        for k, n in m["faults"].items():
            r["faults"][k] = r["faults"].get(k, 0) + n
        r["faults_skipped"] += m.get("faults_skipped", 0)
        for k in ("failovers", "primary_moves", "split_brain_instants",
                  "acked_lost_sync", "acked_lost_async", "acked_writes"):
            r[k] += m.get(k, 0)
        r["failed_failovers"] += m.get("failed_failover", 0)
        outages += [o["ms"] for o in m["outages"]]
        maxes.append(m["max_outage_ms"])
        if m.get("recovery_ms") is not None:
            recov.append(m["recovery_ms"])
    r["faults_total"] = sum(r["faults"].values())
    r["outage_ms"] = pcts(outages)
    r["max_outage_ms"] = pcts(maxes)
    r["recovery_ms"] = pcts(recov)
    return r


def pick_trial(trials, want):
    checked = [t for t in trials if t["check"]]
    if want is not None:
        for t in trials:
            if t["meta"] and t["meta"].get("trial") == want:
                return t
    for t in checked:
        if t["check"]["violations"]:
            return t
    if not checked:
        return None
    return max(checked, key=lambda t: (t["check"]["metrics"]["failovers"],
                                       -int(t["name"])))


ROLE_COLORS = {"primary": "#2e7d32", "standby": "#90a4ae",
               "precandidate": "#fff176", "candidate": "#f9a825",
               "unanswered": "#e53935"}


def timeline(t, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tr = checker.Trial(t["dir"])
    t0 = tr.meta["start_mono_ns"]
    t_end = tr.meta["end_mono_ns"]

    def x(ns):
        return (ns - t0) / 1e9

    fig, (ax, aw) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 1.3]})
    rows = []
    # Roles per server: one bar per sample interval.
    servers = sorted(tr.meta["servers"])
    for n in servers:
        y = len(rows)
        rows.append("role %s" % n)
        ss = tr.samples.get(n, [])
        for s1, s2 in zip(ss, ss[1:] + [None]):
            end = s2["t_req"] if s2 else s1["t_recv"]
            role = s1.get("role") if s1.get("ok") else "unanswered"
            ax.broken_barh([(x(s1["t_req"]), max(0.001, (end - s1["t_req"])
                                                  / 1e9))], (y - 0.35, 0.7),
                           color=ROLE_COLORS.get(role, "#bdbdbd"))
    # VIP holder.
    ivs = checker.vip_holder_intervals(tr) or {}
    ns_to_node = {v: k for k, v in tr.meta.get("ns", {}).items()}
    for ns, iv in sorted(ivs.items()):
        y = len(rows)
        rows.append("VIP on %s" % ns_to_node.get(ns, ns))
        ax.broken_barh([(x(a), max(0.001, (b - a) / 1e9)) for a, b in iv],
                       (y - 0.35, 0.7), color="#1565c0")
    # Faults as spans, one row each.
    for f in tr.faults:
        if f.get("status") != "applied":
            continue
        y = len(rows)
        rows.append("%s %s" % (f["kind"], f["target"]))
        a = f["t_apply"]
        b = f["t_heal"] if f.get("t_heal") else a
        ax.broken_barh([(x(a), max(0.05, (b - a) / 1e9))], (y - 0.35, 0.7),
                       color="#ef6c00")
    heal = tr.meta["heal_mono_ns"]
    for a in (ax, aw):
        a.axvline(x(heal), color="k", ls="--", lw=0.8)
    ax.text(x(heal), len(rows) - 0.4, " heal", fontsize=8, va="bottom")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=c, label=k)
                       for k, c in ROLE_COLORS.items()] +
              [Patch(color="#1565c0", label="VIP held"),
               Patch(color="#ef6c00", label="fault")],
              fontsize=7, ncol=7, loc="upper center",
              bbox_to_anchor=(0.5, 1.13))
    # Acknowledged writes per server per 100 ms.
    binw = 0.1
    nb = int(x(t_end) / binw) + 1
    for n, col in zip(servers, ("#2e7d32", "#6a1b9a")):
        counts = [0] * nb
        for w in tr.writes:
            if w["node"] == n and w["ack"] is not None:
                xa = x(w["ack"])
                i = int(xa / binw)
                if xa >= 0 and i < nb:
                    counts[i] += 1
        aw.step([i * binw for i in range(nb)], counts, where="post",
                 color=col, label="acked by %s" % n, lw=0.9)
    aw.set_ylabel("acks / 100 ms", fontsize=8)
    aw.set_xlabel("seconds since the fault phase began", fontsize=8)
    aw.legend(fontsize=7, loc="upper right")
    m = t["check"]["metrics"] if t["check"] else {}
    fig.suptitle("chaos trial %s (seed %s, %s mode): %d failovers, "
                 "%d split-brain instants, %d acked writes lost" %
                 (t["name"], tr.meta.get("seed"), tr.meta["mode"],
                  m.get("failovers", 0), m.get("split_brain_instants", 0),
                  m.get("acked_lost_sync", 0)), fontsize=10, y=0.995)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def fmt(p):
    return ("p50 %s, p90 %s, p99 %s, max %s (n=%d)" %
            (p["p50"], p["p90"], p["p99"], p["max"], p["n"]))


def write_md(r, path, png_name, shown):
    L = ["# hapair chaos report", "",
         "`make chaos TRIALS=%d SEED=%s%s` (tests/chaos/run): each trial "
         "builds fresh namespaces, runs a %s pair under hapair "
         "(heartbeat 20 ms, lease 200 ms) with two writers through the "
         "VIP, applies a random fault schedule, heals everything, settles "
         "and reads every acknowledged write back; tests/chaos/checker.py "
         "checks the history (see its header for exactly what is "
         "checked)." % (r["trials"], r["seed"], "".join(
             " STORE=" + k for k in sorted(r["stores"]) if k != "redis"),
             " / ".join(
             STORE_NAMES.get(k, k) for k in sorted(r["stores"])) or
             "Redis"), "",
         "| figure | value |", "|---|---|",
         "| trials (checked / with violations) | %d (%d / %d) |" %
         (r["trials"], r["trials_checked"], r["trials_with_violations"]),
         "| modes | %s |" % ", ".join("%s %d" % kv for kv in
                                       sorted(r["modes"].items())),
         "| faults applied | %d (%d skipped: resource busy) |" %
         (r["faults_total"], r["faults_skipped"]),
         "| failovers (new primary terms) | %d |" % r["failovers"],
         "| primary moved to the other server | %d |" % r["primary_moves"],
         "| **split-brain instants** (goal 0) | %d |" %
         r["split_brain_instants"],
         "| **acknowledged writes lost, sync** (goal 0) | %d |" %
         r["acked_lost_sync"],
         "| **failed failovers** (no primary within 20 leases of heal; "
         "goal 0) | %d |" % r["failed_failovers"],
         "| acknowledged writes | %d |" % r["acked_writes"],
         "| acked-write lost, async (not promised) | %d |" %
         r["acked_lost_async"],
         "| outages, ms (gaps >= 100 ms between acks) | %s |" %
         fmt(r["outage_ms"]),
         "| longest outage per trial, ms | %s |" % fmt(r["max_outage_ms"]),
         "| heal to one primary, ms | %s |" % fmt(r["recovery_ms"]), "",
         "## Faults by kind", "", "| kind | applied |", "|---|---|"]
    for k, n in sorted(r["faults"].items()):
        L.append("| %s | %d |" % (k, n))
    L += ["", "## Violations", ""]
    if r["violations"]:
        for v in r["violations"][:100]:
            L.append("- trial %s, %s: %s" % (v["trial"], v["kind"],
                                             v["detail"]))
    else:
        L.append("None.")
    if r["trials_not_checked"]:
        L += ["", "Trials not checked (the trial could not run to the "
              "end; see trials/NNN/trial.out): %s" %
              ", ".join(r["trials_not_checked"])]
    if shown:
        L += ["", "## Timeline of trial %s" % shown, "",
              "Rows: each server's role as sampled every 25 ms (red: the "
              "agent did not answer: stopped, killed or restarting), the "
              "VIP holder (vipwatch), each fault from apply to heal; "
              "below, the writes each server acknowledged per 100 ms. In "
              "sync mode no write is acknowledged while the new primary "
              "has no replica, so outages last as long as the standby "
              "is out.", "",
              "![timeline](%s)" % png_name]
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default=None)
    ap.add_argument("--trial", type=int, default=None)
    ap.add_argument("chaos_dir")
    a = ap.parse_args()
    seed = a.seed
    if seed is None:
        try:
            with open(os.path.join(a.chaos_dir, "seed")) as f:
                seed = f.read().strip()
        except OSError:
            seed = "unknown"
    trials = load_trials(a.chaos_dir)
    if not trials:
        sys.exit("report.py: no trials under %s/trials" % a.chaos_dir)
    r = aggregate(trials, seed)
    shown = None
    t = pick_trial(trials, a.trial)
    png = os.path.join(a.chaos_dir, "timeline.png")
    if t is not None:
        try:
            timeline(t, png)
            shown = t["name"]
            r["timeline_trial"] = shown
        except ImportError as e:
            print("report.py: no timeline picture (%s; install "
                  "python3-matplotlib)" % e, file=sys.stderr)
    with open(os.path.join(a.chaos_dir, "report.json"), "w") as f:
        json.dump(r, f, indent=1)
    write_md(r, os.path.join(a.chaos_dir, "report.md"), "timeline.png",
             shown)
    print("# chaos report: %d trials (%d checked), faults %d %s, "
          "failovers %d, split-brain instants %d, acked lost (sync) %d, "
          "failed failovers %d, outage ms %s" %
          (r["trials"], r["trials_checked"], r["faults_total"],
           json.dumps(r["faults"], sort_keys=True), r["failovers"],
           r["split_brain_instants"], r["acked_lost_sync"],
           r["failed_failovers"], fmt(r["outage_ms"])))


if __name__ == "__main__":
    main()
