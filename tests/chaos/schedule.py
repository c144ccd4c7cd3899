#!/usr/bin/env python3
"""schedule.py - the random fault schedule of one chaos trial.

    schedule.py --seed S --trial N --fault-ms D [--max-faults K]
                [--kill-kind redis_kill9|pg_kill9|mdb_kill9]

Prints one line per event, sorted by time, for tests/chaos/trial.sh:

    <t_ms> apply <fault id> <kind> <target...>
    <t_ms> heal  <fault id>

t_ms counts from the start of the fault phase; every fault is healed at
or before D (the trial then heals everything once more, whatever is
left).  The schedule depends only on (seed, trial): random.Random seeded
with "seed:trial", so a trial is reproduced by its SEED and number.

Kinds and targets: see faults.sh.  Servers are named by role
("primary", "standby", resolved when the fault is applied) or by name;
network faults pick nodes among a, b and w (the witness).  At most one
kill -9 of a Redis per trial: with no persistence, two in a row can
empty both copies, a double failure no HA agent can undo (sync mode
promises to survive one).  --kill-kind names the kill -9 of the store
under test (the same draws: a seed gives the same schedule whatever the
store, with the store's name for that fault); the rule stays for the
SQL stores too.
"""

import argparse
import random
import sys

# kind: (weight, min duration ms, max duration ms)
KINDS = {
    "agent_kill9": (3, 300, 2500),
    "agent_stop": (3, 150, 1500),
    "redis_kill9": (1, 500, 3000),
    "witness_kill9": (2, 300, 3000),
    "link_down": (2, 300, 3000),
    "part2": (3, 400, 3500),
    "part1": (3, 400, 3500),
    "netem": (2, 500, 4000),
    "repl_cut": (1, 400, 3000),
    "failover_burst": (1, 0, 0),
    "lag_fail": (1, 1500, 4000),
}


def pick_server(r):
    x = r.random()
    if x < 0.6:
        return "primary"
    if x < 0.85:
        return "standby"
    return r.choice(["a", "b"])


def targets(r, kind):
    if kind in ("agent_kill9", "agent_stop", "redis_kill9", "repl_cut"):
        return [pick_server(r)]
    if kind == "witness_kill9":
        return ["w"]
    if kind in ("link_down", "netem"):
        return [r.choice(["a", "b", "a", "b", "w"])]
    if kind in ("part2", "part1"):
        return r.sample(["a", "b", "w"], 2)
    if kind in ("failover_burst", "lag_fail"):
        return ["primary"]
    raise ValueError("unknown kind %s" % kind)


KILL_KINDS = ("redis_kill9", "pg_kill9", "mdb_kill9")


def schedule(seed, trial, fault_ms, max_faults, kill_kind="redis_kill9"):
    r = random.Random("%s:%s" % (seed, trial))
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    n = r.randint(max(1, max_faults // 2), max_faults)
    events = []
    redis_kills = 0
    for fid in range(n):
        kind = r.choices(kinds, weights)[0]
        if kind == "redis_kill9":
            if redis_kills:
                kind = "agent_kill9"
            redis_kills += 1
        lo, hi = KINDS[kind][1:]
        dur = r.randint(lo, hi) if hi else 0
        start = r.randint(0, max(0, fault_ms - dur - 100))
        tg = targets(r, kind)
        if kind == "redis_kill9":
            kind = kill_kind
        events.append((start, 0, "apply", fid, kind, tg))
        events.append((start + dur, 1, "heal", fid, kind, []))
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    return events


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", required=True)
    ap.add_argument("--trial", type=int, required=True)
    ap.add_argument("--fault-ms", type=int, required=True)
    ap.add_argument("--max-faults", type=int, default=6)
    ap.add_argument("--kill-kind", default="redis_kill9", choices=KILL_KINDS)
    a = ap.parse_args()
    if not 1000 <= a.fault_ms <= 600000:
        sys.exit("schedule.py: --fault-ms: expected 1000..600000, got %d"
                 % a.fault_ms)
    if not 1 <= a.max_faults <= 50:
        sys.exit("schedule.py: --max-faults: expected 1..50, got %d"
                 % a.max_faults)
    for t, _, what, fid, kind, tg in schedule(a.seed, a.trial, a.fault_ms,
                                              a.max_faults, a.kill_kind):
        if what == "apply":
            print(t, what, fid, kind, *tg)
        else:
            print(t, what, fid)


if __name__ == "__main__":
    main()
