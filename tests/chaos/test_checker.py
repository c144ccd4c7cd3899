#!/usr/bin/env python3
"""test_checker.py - checker.py against hand-made histories.

A good history (a fails over to b, writes on both in their own terms,
one primary after heal, nothing lost) must pass; each bad one must be
caught, by the violation kind it injects:

  - two writers acknowledged by two servers in overlapping intervals in
    different terms (the old primary still writable after the new one
    was elected)                                 -> split_brain_writes
  - an old-term write wholly after a new-term write -> split_brain_writes
  - a write accepted by a standby in a term with another primary
                                                  -> split_brain_writes
  - two VIP holders at once (vipwatch)            -> split_brain_vip
  - the old primary reports primary between two samples of the new
    primary                                      -> split_brain_roles
  - two agents primary in one term              -> split_brain_same_term
  - an acknowledged id missing at the end (sync) -> acked_write_lost
  - the same in async mode                        -> no violation
  - async promotion past max_lag_on_failover    -> promotion_past_max_lag
  - no primary after heal                         -> no_primary_after_heal
  - one primary, but later than the bound         -> no_primary_after_heal

Run: python3 tests/chaos/test_checker.py (ctest: chaos.checker).
"""

import copy
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402

MS = 1000000
T0 = 1000 * 1000 * MS          # start of the trial on the monotonic clock
A, B = "192.0.2.1", "192.0.2.2"


def at(ms):
    return T0 + int(ms * MS)


def good_history():
    """a primary (term 3) until 5000 ms, killed; b elected term 4 at
    5400 ms; a back at 7000 ms as standby in term 4; heal at 8000 ms;
    end at 10000 ms."""
    h = {"meta": {"seed": 1, "trial": 0, "mode": "sync", "fault_ms": 8000,
                  "heartbeat_ms": 20, "lease_ms": 200,
                  "max_lag_bytes": 16384, "liveness_bound_ms": 4000,
                  "start_mono_ns": T0, "heal_mono_ns": at(8000),
                  "end_mono_ns": at(10000), "settled": True,
                  "final_primary": "b", "writers": ["w1", "w2"],
                  "servers": {"a": A, "b": B},
                  "ns": {"a": "hp1a", "b": "hp1b"}},
         "samples": [], "w1": [], "w2": [],
         "vip": {"dual_holder_samples": 0, "dual_holder_ms": 0.0,
                 "start_mono_ms": T0 / 1e6,
                 "initial": {"hp1a": True, "hp1b": False},
                 "transitions": [
                     {"t_ms": 5150, "ns": "hp1a", "holds": False},
                     {"t_ms": 5420, "ns": "hp1b", "holds": True}]},
         "checks": {}}
    pos = 1000
    for ms in range(0, 10000, 25):
        # a: primary term 3 until 5000, silent (killed) until 7000, then
        # standby in term 4.
        if ms < 5000:
            h["samples"].append(sample("a", ms, "primary", 3, pos + ms))
        elif ms < 7000:
            h["samples"].append({"node": "a", "t_req": at(ms),
                                 "t_recv": at(ms + 200), "ok": False,
                                 "error": "no answer"})
        else:
            h["samples"].append(sample("a", ms, "standby", 4, pos + ms))
        # b: standby term 3, then primary term 4 from 5400.
        if ms < 5400:
            h["samples"].append(sample("b", ms + 10, "standby", 3,
                                       pos + ms - 50))
        else:
            h["samples"].append(sample("b", ms + 10, "primary", 4,
                                       pos + ms))
    i = 0
    for ms in list(range(0, 4990, 10)) + list(range(5500, 9900, 10)):
        srv = A if ms < 5000 else B
        h["w1"].append((i, srv, at(ms), at(ms + 1), at(ms + 3)))
        h["w2"].append((i, srv, at(ms + 5), at(ms + 6), at(ms + 8)))
        i += 1
    n = len(h["w1"])
    for w in ("w1", "w2"):
        for s in ("a", "b"):
            h["checks"][(w, s)] = {"checked": n, "missing": 0,
                                   "missing_ids": []}
    return h


def sample(node, ms, role, term, position, lease=180):
    return {"node": node, "t_req": at(ms), "t_recv": at(ms + 2), "ok": True,
            "role": role, "term": term,
            "lease_left_ms": lease if role == "primary" else 0,
            "primary": None, "position": position, "lag": 0,
            "mode": "sync", "writable": role == "primary"}


def write_trial(h, d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(h["meta"], f)
    with open(os.path.join(d, "samples.jsonl"), "w") as f:
        f.write(json.dumps({"header": True, "mono_ns": T0,
                            "real_ns": 0}) + "\n")
        for s in h["samples"]:
            f.write(json.dumps(s) + "\n")
    for w in ("w1", "w2"):
        with open(os.path.join(d, w + ".log"), "w") as f:
            for wid, srv, send, set_ok, ack in h[w]:
                f.write("%d %s %d %d %d\n" % (wid, srv, send, set_ok,
                                              ack))
    with open(os.path.join(d, "vipwatch.json"), "w") as f:
        json.dump(h["vip"], f)
    for (w, s), c in h["checks"].items():
        with open(os.path.join(d, "check-%s-%s.json" % (w, s)), "w") as f:
            json.dump(c, f)


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chaos-checker-")
        self.n = 0

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_checker(self, h):
        self.n += 1
        d = os.path.join(self.tmp, "t%d" % self.n)
        write_trial(h, d)
        viol, metrics = checker.check_trial(d)
        return [v["kind"] for v in viol], metrics

    def assert_caught(self, h, kind):
        kinds, _ = self.run_checker(h)
        self.assertIn(kind, kinds, "expected %s, got %s" % (kind, kinds))

    def test_good_history_passes(self):
        kinds, m = self.run_checker(good_history())
        self.assertEqual(kinds, [])
        self.assertEqual(m["split_brain_instants"], 0)
        self.assertEqual(m["acked_lost_sync"], 0)
        self.assertEqual(m["failovers"], 1)
        self.assertEqual(m["primary_moves"], 1)
        self.assertEqual(m["failed_failover"], 0)
        self.assertLess(m["recovery_ms"], 100)
        # The failover shows as one outage of about half a second.
        self.assertEqual(len(m["outages"]), 1)
        self.assertAlmostEqual(m["outages"][0]["ms"], 510, delta=10)

    def test_overlapping_writes_in_two_terms(self):
        # a is still writable (term 3, its next answer says so) while b
        # is primary in term 4: w1 acknowledged by a and w2 by b in
        # overlapping intervals.
        h = good_history()
        h["w1"].append((9000, A, at(6000), at(6004), at(6010)))
        h["w2"].append((9000, B, at(5998), at(6003), at(6008)))
        h["samples"] = [s for s in h["samples"]
                        if not (s["node"] == "a" and
                                at(6000) <= s["t_req"] < at(6100))]
        h["samples"].append(sample("a", 6020, "primary", 3, 7000))
        self.assert_caught(h, "split_brain_writes")

    def test_old_term_write_after_new_term_write(self):
        # Only writes: b's samples say nothing about term 4 being
        # primary (standby in 4 before and after), a writes in term 3
        # after b wrote in term 4.
        h = good_history()
        h["samples"] = [s for s in h["samples"]
                        if not (s["node"] == "b" and s["role"] ==
                                "primary")]
        h["samples"].append(sample("b", 5590, "standby", 4, 6000))
        h["samples"].append(sample("b", 9950, "standby", 4, 6000))
        h["samples"].append(sample("a", 6200, "standby", 3, 6000))
        h["samples"].sort(key=lambda s: s["t_req"])
        h["w2"].append((9001, B, at(5600), at(5601), at(5603)))
        h["w1"].append((9001, A, at(5700), at(5701), at(5703)))
        kinds, m = self.run_checker(h)
        self.assertIn("split_brain_writes", kinds)
        self.assertGreaterEqual(m["split_brain_instants"], 1)

    def test_write_by_a_non_primary_in_the_primary_s_term(self):
        # b accepts a write while a is primary in term 3 and b is a
        # standby in term 3: no newer term involved, still two writable
        # servers.
        h = good_history()
        h["w2"].append((9002, B, at(3000), at(3001), at(3003)))
        self.assert_caught(h, "split_brain_writes")

    def test_two_vip_holders(self):
        h = good_history()
        h["vip"]["dual_holder_samples"] = 3
        h["vip"]["dual_holder_ms"] = 3.2
        h["vip"]["transitions"] = [
            {"t_ms": 5420, "ns": "hp1b", "holds": True},
            {"t_ms": 5423, "ns": "hp1a", "holds": False}]
        kinds, m = self.run_checker(h)
        self.assertIn("split_brain_vip", kinds)
        self.assertEqual(m["split_brain_instants"], 1)

    def test_old_primary_reports_primary_between_new_samples(self):
        h = good_history()
        h["samples"].append(sample("a", 6512, "primary", 3, 7000))
        self.assert_caught(h, "split_brain_roles")

    def test_two_primaries_in_one_term(self):
        h = good_history()
        for s in h["samples"]:
            if s["node"] == "b" and s.get("role") == "primary":
                s["term"] = 3
        self.assert_caught(h, "split_brain_same_term")

    def test_acked_write_missing_at_the_end(self):
        h = good_history()
        h["checks"][("w2", "b")] = {"checked": 900, "missing": 1,
                                    "missing_ids": [417]}
        kinds, m = self.run_checker(h)
        self.assertEqual(kinds, ["acked_write_lost"])
        self.assertEqual(m["acked_lost_sync"], 1)

    def test_acked_missing_in_async_mode_is_no_violation(self):
        h = good_history()
        h["meta"]["mode"] = "async"
        h["checks"][("w2", "b")] = {"checked": 900, "missing": 5,
                                    "missing_ids": [1, 2, 3, 4, 5]}
        kinds, m = self.run_checker(h)
        self.assertEqual(kinds, [])
        self.assertEqual(m["acked_lost_sync"], 0)
        self.assertEqual(m["acked_lost_async"], 5)

    def test_async_promotion_past_max_lag(self):
        h = good_history()
        h["meta"]["mode"] = "async"
        for s in h["samples"]:
            if s["node"] == "a" and s.get("role") == "primary":
                s["position"] = 100000 + s["t_req"] // MS % 100000
            if s["node"] == "b" and s.get("role") == "primary":
                s["position"] = 50000
        self.assert_caught(h, "promotion_past_max_lag")

    def test_async_promotion_within_max_lag_passes(self):
        h = good_history()
        h["meta"]["mode"] = "async"
        kinds, m = self.run_checker(h)
        self.assertEqual(kinds, [])
        self.assertEqual(len(m["promotion_lags"]), 1)
        self.assertLessEqual(m["promotion_lags"][0], 16384)

    def test_no_primary_after_heal(self):
        h = good_history()
        for s in h["samples"]:
            if s["node"] == "b" and s["t_req"] >= at(7900):
                s["role"] = "standby"
        kinds, m = self.run_checker(h)
        self.assertIn("no_primary_after_heal", kinds)
        self.assertEqual(m["failed_failover"], 1)

    def test_primary_later_than_the_bound(self):
        h = good_history()
        h["meta"]["liveness_bound_ms"] = 4000
        h["meta"]["heal_mono_ns"] = at(1000)
        # One primary only at 5400 ms: 4400 ms after heal.
        for s in h["samples"]:
            if s["node"] == "a":
                s["role"] = "standby"
        h["vip"]["initial"] = {"hp1a": False, "hp1b": False}
        kinds, _ = self.run_checker(h)
        self.assertIn("no_primary_after_heal", kinds)

    def test_bad_input_is_named(self):
        d = os.path.join(self.tmp, "bad")
        write_trial(good_history(), d)
        with open(os.path.join(d, "w1.log"), "a") as f:
            f.write("12 192.0.2.1 notanumber 1 2\n")
        with self.assertRaises(checker.InputError) as cm:
            checker.check_trial(d)
        self.assertIn("w1.log", str(cm.exception))

    def test_good_history_is_not_changed_by_copy(self):
        # The fixtures are fresh per test (no shared mutable state).
        h1 = good_history()
        h2 = copy.deepcopy(h1)
        h1["samples"].clear()
        self.assertTrue(h2["samples"])


if __name__ == "__main__":
    unittest.main()
