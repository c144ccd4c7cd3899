#!/usr/bin/env python3
"""checker.py - check one chaos trial's history against invariants 1-3
of DESIGN.md, plus liveness after heal.

    checker.py [--json OUT] TRIAL_DIR

Pure: reads the files tests/chaos/trial.sh collected, prints one line
per violation, writes the findings and the trial's figures as JSON to
--json, exits 1 when it found any violation (2 on unreadable input).

Inputs (all times CLOCK_MONOTONIC ns, shared by every namespace):
  meta.json       mode (sync|async), lease_ms, max_lag_bytes,
                  liveness_bound_ms, start/heal/end_mono_ns, the servers'
                  addresses (to name the server of a write)
  samples.jsonl   sampler.py: per agent, every ~25 ms, role, term,
                  lease_left_ms, replication position; the agent
                  computed each answer at an instant in [t_req, t_recv]
  w1.log, w2.log  rwriter --log: per write SET accepted: id, server,
                  send, set_ok, ack (-1: not acknowledged)
  vipwatch.json   which server held the VIP, 1 ms samples and exact
                  events (t_ms from start_mono_ms)
  check-W-N.json  rwriter check: the acknowledged ids of writer W read
                  back from server N after settling
  faults.jsonl    the faults applied (for the figures only)

What is checked
---------------
1. No split brain (invariant 1).  Three kinds of evidence, each sound
   (it never reports an overlap that did not happen, under the stated
   assumption), none complete (sampling can miss a short overlap; the
   three cover each other's gaps):

   V  VIP: vipwatch saw both servers hold the VIP at one instant (its
      1 ms samples or its exact event-based overlap).  Exact.

   R  roles: agent X reported primary in term T at two consecutive
      answered samples s1, s2, and agent Y reported primary at a sample
      whose whole window [t_req, t_recv] lies between s1's t_recv and
      s2's t_req.  Assumption: an agent that says primary in term T at
      two samples was primary in between (leaving the primary role
      needs a fence or a step-down, and becoming primary again needs an
      election, i.e. a higher term).  Also, two agents reporting primary
      in the same term at any times is a violation of invariant 4 (one
      primary per term), reported with R.

   W  writes tagged with terms: each write SET accepted (rwriter --log)
      happened at an instant in [send, set_ok] on server X.  Its term is
      bounded by X's agent's samples: T_lo = term of X's newest answered
      sample with t_recv <= send, T_hi = term of X's oldest answered
      sample with t_req >= set_ok (terms never go back on an agent, also
      across restarts: they are persisted).  A violation is a pair of
      writes w2 on Y and w1 on X != Y with set_ok(w2) < send(w1) (w2
      wholly before w1) and T_lo(w2) > T_hi(w1): a server in an older
      term accepted a write after a server in a newer term had accepted
      one, i.e. the writes interleave two terms.  A newer term can only
      be elected after the older primary's lease ran out, so the older
      one accepted a write while it had no lease: it was still writable
      when it no longer was the one primary.  SET acceptance is used,
      not WAIT: a stale primary that accepts writes is the violation
      even when no replica acknowledges them.
      The same with a sample in place of w2: Y reported primary in a
      term > T_hi(w1) at a sample with t_recv < send(w1) (Y had won a
      newer term, so X's lease had run out, before X accepted w1).  This
      catches two writers acknowledged by two servers in overlapping
      intervals in different terms, where no write is wholly before the
      other.
      And one more: when every term in [T_lo, T_hi] of a write on X had
      another server reported as its primary, X accepted the write in a
      term in which it was not the primary (one primary per term), i.e.
      while that other server was (a non-primary whose Redis still takes
      writes is a second writable primary).

   Not a violation, reported as a figure: overlapping_accepts, pairs of
   writes on different servers whose [send, set_ok] windows overlap
   (both Redis accepted writes at nearly the same time; with the
   windows alone it cannot be told whether both were writable at one
   instant).

2. No acknowledged write lost in sync mode (invariant 2).  After heal
   and settling, every id rwriter acknowledged (WAIT 1 answered >= 1) is
   read back from the final primary (check-W-<primary>.json).  Any id
   missing is lost.  With no single final primary, an id counts as lost
   when it is missing on both servers (the smaller of the two counts: a
   lower bound).  In async mode the figure is kept (acked_lost_async)
   but is no violation: async mode does not promise it.  When the ids
   could not be read back at all (no check file), the sync trial gets
   an acked_unverified violation: it proved nothing about invariant 2.

3. No automatic promotion past max_lag_on_failover in async mode
   (invariant 3).  For each new primary term T of server Y after the
   trial started, with X != Y the primary of the term before: lag =
   (highest position X reported as primary in that term, before Y's
   promotion) - (Y's position at its first primary sample in T).  Both
   sides err low (X's reported position may be stale, Y's first primary
   sample may already include new writes), so lag > max_lag_bytes is a
   certain violation.  All promotions in a chaos trial are automatic
   (no switchover is issued).

4. Liveness: after the last fault is healed (heal_mono_ns), within
   liveness_bound_ms (20 leases) there is an instant where one agent
   answers primary, the other answers something else (or is checked
   within 200 ms of it), and vipwatch has that server alone holding the
   VIP.  Otherwise a violation (the trial counts as a failed failover).

Figures (check.json "metrics"): failovers (new primary terms seen
after the start), primary_moves (the primary changed server), outages
(gaps of >= 100 ms between consecutive acknowledged writes of both
writers together, from the start to the end of writing), recovery_ms
(heal to one primary), split_brain_instants (the V, R and W evidence
merged into episodes: intervals within 500 ms of each other count
once), acked_lost_sync, acked_writes, set_ok_writes.
"""

import argparse
import bisect
import json
import os
import sys

OUTAGE_MIN_MS = 100.0
EPISODE_GAP_NS = 500 * 1000000
NEAR_NS = 200 * 1000000
INF = float("inf")


class InputError(Exception):
    pass


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))


def load_samples(path):
    """Answered and unanswered samples per node, sorted by t_req."""
    per = {}
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    # A line cut short by a killed sampler at the end.
                    continue
                if r.get("header"):
                    continue
                if "node" not in r or "t_req" not in r:
                    raise InputError("%s:%d: a sample without node or "
                                     "t_req" % (path, n))
                per.setdefault(r["node"], []).append(r)
    except OSError as e:
        raise InputError("%s: %s" % (path, e))
    for v in per.values():
        v.sort(key=lambda r: r["t_req"])
    return per


def load_writes(path, writer, addr_to_node):
    """rwriter --log lines as dicts."""
    out = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                p = line.split()
                if not p:
                    continue
                if len(p) != 5:
                    raise InputError("%s:%d: expected 'id server send "
                                     "set_ok ack', got %r" %
                                     (path, n, line.strip()))
                try:
                    wid, send, set_ok, ack = (int(p[0]), int(p[2]),
                                              int(p[3]), int(p[4]))
                except ValueError:
                    raise InputError("%s:%d: times and id must be "
                                     "integers: %r" % (path, n,
                                                       line.strip()))
                out.append({"writer": writer, "id": wid,
                            "node": addr_to_node.get(p[1], p[1]),
                            "send": send, "set": set_ok,
                            "ack": ack if ack >= 0 else None})
    except OSError as e:
        raise InputError("%s: %s" % (path, e))
    return out


class Trial:
    def __init__(self, d):
        self.dir = d
        self.meta = load_json(os.path.join(d, "meta.json"))
        for k in ("mode", "lease_ms", "heal_mono_ns", "start_mono_ns",
                  "end_mono_ns", "liveness_bound_ms", "servers"):
            if k not in self.meta:
                raise InputError("%s/meta.json: no %r" % (d, k))
        self.addr_to_node = {v: k for k, v in self.meta["servers"].items()}
        self.samples = load_samples(os.path.join(d, "samples.jsonl"))
        self.ok = {n: [s for s in v if s.get("ok")]
                   for n, v in self.samples.items()}
        self.writes = []
        for w in self.meta.get("writers", ["w1", "w2"]):
            p = os.path.join(d, w + ".log")
            if os.path.exists(p):
                self.writes += load_writes(p, w, self.addr_to_node)
        p = os.path.join(d, "vipwatch.json")
        self.vip = load_json(p) if os.path.exists(p) else None
        self.checks = {}
        for w in self.meta.get("writers", ["w1", "w2"]):
            for n in self.meta["servers"]:
                p = os.path.join(d, "check-%s-%s.json" % (w, n))
                if os.path.exists(p) and os.path.getsize(p) > 0:
                    self.checks[(w, n)] = load_json(p)
        self.faults = []
        p = os.path.join(d, "faults.jsonl")
        if os.path.exists(p):
            with open(p) as f:
                self.faults = [json.loads(x) for x in f if x.strip()]


# ---- invariant 1 --------------------------------------------------------

def vip_holder_intervals(t):
    """Per namespace, [start_ns, end_ns) intervals of holding the VIP."""
    v = t.vip
    if not v or "start_mono_ms" not in v:
        return None
    base = int(v["start_mono_ms"] * 1e6)
    end = t.meta["end_mono_ns"]
    state = dict(v.get("initial", {}))
    since = {ns: base for ns, h in state.items() if h}
    out = {ns: [] for ns in state}
    for tr in v.get("transitions", []):
        ns, holds = tr["ns"], tr["holds"]
        tt = base + int(tr["t_ms"] * 1e6)
        out.setdefault(ns, [])
        if holds and ns not in since:
            since[ns] = tt
        elif not holds and ns in since:
            out[ns].append((since.pop(ns), tt))
    for ns, s in since.items():
        out[ns].append((s, max(s, end)))
    return out


def check_vip(t, viol, episodes):
    v = t.vip
    if not v:
        return
    if v.get("dual_holder_samples", 0) or v.get("dual_holder_ms", 0):
        ivs = vip_holder_intervals(t) or {}
        names = list(ivs)
        found = False
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                for a0, a1 in ivs[names[i]]:
                    for b0, b1 in ivs[names[j]]:
                        lo, hi = max(a0, b0), min(a1, b1)
                        if lo < hi:
                            found = True
                            episodes.append((lo, hi))
        viol.append({"kind": "split_brain_vip",
                     "detail": "vipwatch saw two VIP holders: %s 1 ms "
                     "samples, %.3f ms exact overlap" %
                     (v.get("dual_holder_samples"),
                      v.get("dual_holder_ms", 0.0))})
        if not found:
            episodes.append((t.meta["start_mono_ns"],
                             t.meta["start_mono_ns"]))


def check_roles(t, viol, episodes):
    nodes = sorted(t.ok)
    # invariant 4 flavour: one primary per term.
    by_term = {}
    for n in nodes:
        for s in t.ok[n]:
            if s.get("role") == "primary":
                by_term.setdefault(s["term"], {}).setdefault(n, s)
    for term, who in sorted(by_term.items()):
        if len(who) > 1:
            ss = list(who.values())
            viol.append({"kind": "split_brain_same_term",
                         "detail": "agents %s all reported primary in "
                         "term %s" % (", ".join(sorted(who)), term)})
            episodes.append((min(s["t_req"] for s in ss),
                             max(s["t_recv"] for s in ss)))
    reported = 0
    for x in nodes:
        xs = t.ok[x]
        for y in nodes:
            if y == x:
                continue
            yp = [s for s in t.ok[y] if s.get("role") == "primary"]
            yt = [s["t_req"] for s in yp]
            for s1, s2 in zip(xs, xs[1:]):
                if not (s1.get("role") == "primary" and
                        s2.get("role") == "primary" and
                        s1["term"] == s2["term"]):
                    continue
                lo, hi = s1["t_recv"], s2["t_req"]
                i = bisect.bisect_right(yt, lo)
                while i < len(yp) and yp[i]["t_req"] < hi:
                    s = yp[i]
                    if s["t_recv"] <= hi:
                        episodes.append((s["t_req"], s["t_recv"]))
                        if reported < 20:
                            viol.append({
                                "kind": "split_brain_roles",
                                "detail": "%s was primary in term %s "
                                "from %.3f to %.3f s while %s reported "
                                "primary in term %s at %.3f s" %
                                (x, s1["term"], rel(t, lo), rel(t, hi),
                                 y, s["term"], rel(t, s["t_req"]))})
                        reported += 1
                    i += 1
    if reported > 20:
        viol.append({"kind": "split_brain_roles",
                     "detail": "... and %d more" % (reported - 20)})


def term_bounds(t, w):
    """(T_lo, T_hi) of a write's term from its server's samples."""
    ss = t.ok.get(w["node"], [])
    recv = [s["t_recv"] for s in ss]
    i = bisect.bisect_right(recv, w["send"]) - 1
    lo = ss[i]["term"] if i >= 0 else 0
    req = [s["t_req"] for s in ss]
    j = bisect.bisect_left(req, w["set"])
    hi = ss[j]["term"] if j < len(ss) else INF
    return lo, hi


def check_writes(t, viol, episodes, metrics):
    ws = sorted(t.writes, key=lambda w: w["send"])
    for w in ws:
        w["t_lo"], w["t_hi"] = term_bounds(t, w)
    # Sweep by send time; writes whose set_ok is before the current
    # send are "done", kept per node with the highest T_lo.
    by_set = sorted(ws, key=lambda w: w["set"])
    best = {}        # node -> write with the highest T_lo among done
    k = 0
    found = 0
    for w1 in ws:
        while k < len(by_set) and by_set[k]["set"] < w1["send"]:
            w = by_set[k]
            b = best.get(w["node"])
            if b is None or w["t_lo"] > b["t_lo"]:
                best[w["node"]] = w
            k += 1
        for node, w2 in best.items():
            if node == w1["node"] or not w2["t_lo"] > w1["t_hi"]:
                continue
            found += 1
            episodes.append((w2["send"], w1["set"]))
            if found <= 20:
                viol.append({
                    "kind": "split_brain_writes",
                    "detail": "%s:%d accepted by %s in term <= %s at "
                    "%.3f s, after %s:%d was accepted by %s in term >= "
                    "%s at %.3f s" %
                    (w1["writer"], w1["id"], w1["node"], w1["t_hi"],
                     rel(t, w1["send"]), w2["writer"], w2["id"],
                     w2["node"], w2["t_lo"], rel(t, w2["set"]))})
    # A newer primary term seen in a sample of another server before
    # the write was sent.
    newest = {}
    for n, ss in t.ok.items():
        pts, top = [], 0
        for s in sorted(ss, key=lambda s: s["t_recv"]):
            if s.get("role") == "primary" and s["term"] > top:
                top = s["term"]
                pts.append((s["t_recv"], top, s))
        newest[n] = pts
    for w1 in ws:
        for node, pts in newest.items():
            if node == w1["node"]:
                continue
            i = bisect.bisect_left(pts, (w1["send"],)) - 1
            if i < 0 or not pts[i][1] > w1["t_hi"]:
                continue
            s = pts[i][2]
            found += 1
            episodes.append((s["t_req"], w1["set"]))
            if found <= 20:
                viol.append({
                    "kind": "split_brain_writes",
                    "detail": "%s:%d accepted by %s in term <= %s at "
                    "%.3f s, after %s reported primary in term %s at "
                    "%.3f s" %
                    (w1["writer"], w1["id"], w1["node"], w1["t_hi"],
                     rel(t, w1["send"]), node, s["term"],
                     rel(t, s["t_recv"]))})
    # Every possible term of the write had another primary.
    prim = {}
    for n, ss in t.ok.items():
        for s in ss:
            if s.get("role") == "primary":
                prim.setdefault(s["term"], set()).add(n)
    for w1 in ws:
        if w1["t_hi"] == INF or w1["t_hi"] - w1["t_lo"] > 50:
            continue
        terms = range(w1["t_lo"], w1["t_hi"] + 1)
        if all(prim.get(T, set()) - {w1["node"]} for T in terms):
            found += 1
            episodes.append((w1["send"], w1["set"]))
            if found <= 20:
                viol.append({
                    "kind": "split_brain_writes",
                    "detail": "%s:%d accepted by %s at %.3f s in term %s, "
                    "in which %s was the primary" %
                    (w1["writer"], w1["id"], w1["node"],
                     rel(t, w1["send"]),
                     w1["t_lo"] if w1["t_lo"] == w1["t_hi"] else
                     "%s..%s" % (w1["t_lo"], w1["t_hi"]),
                     ", ".join(sorted(prim[w1["t_hi"]] -
                                      {w1["node"]})))})
    if found > 20:
        viol.append({"kind": "split_brain_writes",
                     "detail": "... and %d more" % (found - 20)})
    # Figure only: overlapping accept windows on different servers.
    ov = 0
    last = {}        # node -> latest set_ok so far
    for w in ws:
        for node, s in last.items():
            if node != w["node"] and s > w["send"]:
                ov += 1
                break
        last[w["node"]] = max(last.get(w["node"], 0), w["set"])
    metrics["overlapping_accepts"] = ov
    metrics["writes_interleaving_terms"] = found


def merge_episodes(eps):
    eps = sorted(eps)
    out = []
    for a, b in eps:
        if out and a <= out[-1][1] + EPISODE_GAP_NS:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


# ---- invariant 2 --------------------------------------------------------

def check_acked(t, viol, metrics):
    final = t.meta.get("final_primary") or ""
    lost = 0
    unverified = []
    detail = []
    for w in t.meta.get("writers", ["w1", "w2"]):
        if final:
            c = t.checks.get((w, final))
            if c is None:
                unverified.append("%s on %s" % (w, final))
                continue
            n = c.get("missing", 0)
            if n:
                detail.append("%s: %d acknowledged ids missing on the "
                              "final primary %s, e.g. %s" %
                              (w, n, final, c.get("missing_ids", [])[:10]))
        else:
            cs = [t.checks.get((w, s)) for s in t.meta["servers"]]
            if any(c is None for c in cs):
                unverified.append("%s (no final primary)" % w)
                continue
            n = min(c.get("missing", 0) for c in cs)
            if n:
                detail.append("%s: at least %d acknowledged ids missing "
                              "on both servers" % (w, n))
        lost += n
    metrics["acked_unverified"] = unverified
    if unverified and t.meta["mode"] == "sync":
        # Not a lost write, but a trial that proves nothing about
        # invariant 2 must not pass as if it did.
        viol.append({"kind": "acked_unverified",
                     "detail": "the acknowledged writes of %s could not "
                     "be read back" % ", ".join(unverified)})
    if t.meta["mode"] == "sync":
        metrics["acked_lost_sync"] = lost
        metrics["acked_lost_async"] = 0
        for d in detail:
            viol.append({"kind": "acked_write_lost", "detail": d})
    else:
        metrics["acked_lost_sync"] = 0
        metrics["acked_lost_async"] = lost


# ---- invariant 3 --------------------------------------------------------

def primary_terms(t):
    """[(first t_req, term, node)] of every primary term seen."""
    first = {}
    for n, ss in t.ok.items():
        for s in ss:
            if s.get("role") == "primary":
                k = (s["term"], n)
                if k not in first or s["t_req"] < first[k]["t_req"]:
                    first[k] = s
    return sorted(((s["t_req"], term, n) for (term, n), s in first.items()),
                  key=lambda x: (x[1], x[0]))


def check_async(t, viol, metrics):
    pts = primary_terms(t)
    metrics["failovers"] = max(0, len(pts) - 1)
    metrics["primary_moves"] = sum(1 for a, b in zip(pts, pts[1:])
                                   if a[2] != b[2])
    metrics["promotion_lags"] = []
    if t.meta["mode"] != "async":
        return
    max_lag = t.meta.get("max_lag_bytes")
    if max_lag is None:
        raise InputError("%s/meta.json: async mode without max_lag_bytes"
                         % t.dir)
    for prev, cur in zip(pts, pts[1:]):
        if prev[2] == cur[2]:
            continue
        x, y, t_prom = prev[2], cur[2], cur[0]
        xpos = [s["position"] for s in t.ok[x]
                if s.get("role") == "primary" and s["term"] == prev[1] and
                s["t_recv"] <= t_prom and s.get("position") is not None]
        ypos = [s["position"] for s in t.ok[y]
                if s.get("role") == "primary" and s["term"] == cur[1] and
                s.get("position") is not None]
        if not xpos or not ypos:
            continue
        lag = max(xpos) - ypos[0]
        metrics["promotion_lags"].append(lag)
        if lag > max_lag:
            viol.append({"kind": "promotion_past_max_lag",
                         "detail": "%s promoted in term %s at %.3f s with "
                         "at least %d bytes less than %s had as primary "
                         "in term %s (max_lag_on_failover %d)" %
                         (y, cur[1], rel(t, t_prom), lag, x, prev[1],
                          max_lag)})


# ---- liveness -------------------------------------------------------------

def vip_alone_at(ivs, ns_of, node, tt):
    if ivs is None:
        return True
    for n, iv in ivs.items():
        holds = any(a <= tt < b for a, b in iv)
        if (n == ns_of.get(node)) != holds:
            return False
    return True


def check_liveness(t, viol, metrics):
    heal = t.meta["heal_mono_ns"]
    bound = t.meta["liveness_bound_ms"] * 1000000
    ivs = vip_holder_intervals(t)
    ns_of = t.meta.get("ns", {})
    first = None
    cands = sorted((s["t_recv"], n, s) for n, ss in t.ok.items()
                   for s in ss if s["t_recv"] >= heal)
    for tt, n, s in cands:
        if s.get("role") != "primary":
            continue
        others = [o for o in t.samples if o != n]
        good = True
        for o in others:
            near = [q for q in t.samples[o]
                    if abs(q["t_recv"] - tt) <= NEAR_NS]
            if any(q.get("ok") and q.get("role") == "primary"
                   for q in near):
                good = False
        if good and vip_alone_at(ivs, ns_of, n, tt):
            first = tt
            break
    metrics["recovery_ms"] = (None if first is None
                              else round((first - heal) / 1e6, 3))
    if first is None:
        viol.append({"kind": "no_primary_after_heal",
                     "detail": "no single primary holding the VIP alone "
                     "after the faults healed at %.3f s" % rel(t, heal)})
        metrics["failed_failover"] = 1
    elif first - heal > bound:
        viol.append({"kind": "no_primary_after_heal",
                     "detail": "one primary only %.0f ms after heal, "
                     "bound %d ms" % ((first - heal) / 1e6,
                                      t.meta["liveness_bound_ms"])})
        metrics["failed_failover"] = 1
    else:
        metrics["failed_failover"] = 0


# ---- figures --------------------------------------------------------------

def outages(t, metrics):
    if t.meta["mode"] == "sync":
        acks = sorted(w["ack"] for w in t.writes if w["ack"] is not None)
    else:
        acks = sorted(w["set"] for w in t.writes)
    metrics["acked_writes"] = sum(1 for w in t.writes
                                  if w["ack"] is not None)
    metrics["set_ok_writes"] = len(t.writes)
    sends = [w["send"] for w in t.writes]
    out = []
    if acks:
        edge_lo = t.meta["start_mono_ns"]
        edge_hi = max(sends) if sends else acks[-1]
        pts = [edge_lo] + [a for a in acks if a >= edge_lo] + [edge_hi]
        for a, b in zip(pts, pts[1:]):
            gap = (b - a) / 1e6
            if gap >= OUTAGE_MIN_MS:
                out.append({"at_s": round(rel(t, a), 3),
                            "ms": round(gap, 3)})
    metrics["outages"] = out
    metrics["max_outage_ms"] = max((o["ms"] for o in out), default=0.0)


def rel(t, ns):
    return (ns - t.meta["start_mono_ns"]) / 1e9


def check_trial(d):
    t = Trial(d)
    viol = []
    metrics = {}
    episodes = []
    check_vip(t, viol, episodes)
    check_roles(t, viol, episodes)
    check_writes(t, viol, episodes, metrics)
    metrics["split_brain_instants"] = len(merge_episodes(episodes))
    check_acked(t, viol, metrics)
    check_async(t, viol, metrics)
    check_liveness(t, viol, metrics)
    outages(t, metrics)
    metrics["faults"] = {}
    for f in t.faults:
        if f.get("status") == "applied":
            metrics["faults"][f["kind"]] = \
                metrics["faults"].get(f["kind"], 0) + 1
    metrics["faults_skipped"] = sum(1 for f in t.faults
                                    if f.get("status") != "applied")
    metrics["mode"] = t.meta["mode"]
    metrics["samples"] = {n: len(v) for n, v in t.samples.items()}
    return viol, metrics


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write findings and figures here")
    ap.add_argument("trial_dir")
    a = ap.parse_args()
    try:
        viol, metrics = check_trial(a.trial_dir)
    except InputError as e:
        print("checker.py: %s" % e, file=sys.stderr)
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"error": str(e), "violations": [],
                           "metrics": {}}, f)
        return 2
    for v in viol:
        print("VIOLATION %s: %s" % (v["kind"], v["detail"]))
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"violations": viol, "metrics": metrics}, f,
                      indent=1)
        os.replace(tmp, a.json)
    print("# checker: %d violations; failovers %d, split-brain instants "
          "%d, acked lost (sync) %d, recovery %s ms, max outage %.0f ms" %
          (len(viol), metrics["failovers"],
           metrics["split_brain_instants"], metrics["acked_lost_sync"],
           metrics["recovery_ms"], metrics["max_outage_ms"]))
    return 1 if viol else 0


if __name__ == "__main__":
    sys.exit(main())
