#!/usr/bin/env python3
"""sampler.py - sample the roles of the hapair agents of one chaos trial.

    sampler.py --sock a=PATH --sock b=PATH --out FILE
               [--interval-ms 25] [--timeout-ms 200] [--duration-ms N]

One thread per agent asks its control socket for "status" (what
`hapair status --json` prints) every --interval-ms and appends one JSON
line per answer to --out:

    {"node":"a","t_req":NS,"t_recv":NS,"ok":true,"role":"primary",
     "term":7,"lease_left_ms":183,"position":1234,"lag":0,"mode":"sync",
     "primary":"a","writable":true}

t_req and t_recv are CLOCK_MONOTONIC nanoseconds (time.monotonic_ns(),
shared by every network namespace of the machine, the clock rwriter's
--log and vipwatch use): the agent computed its answer at some instant in
[t_req, t_recv].  A request that gets no answer within --timeout-ms (the
agent is stopped, killed or restarting) gives {"ok":false,...} with the
reason.  The first line is a header with the monotonic and real-time
clocks read together, so times taken with `date`/EPOCHREALTIME can be put
on the same line.

The agents' control sockets are Unix sockets in the shared run_dir: the
sampler runs in the root namespace and reaches both without a fork per
sample.  Stops on SIGTERM/SIGINT or after --duration-ms (at most one
hour).
"""

import argparse
import json
import signal
import socket
import sys
import threading
import time

MAX_DURATION_MS = 3600 * 1000
MAX_REPLY = 1 << 20


def ask_status(path, timeout_s):
    """One status request; returns the parsed JSON or raises OSError or
    ValueError with a sentence saying what went wrong."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(path)
        s.sendall(b"status\n")
        chunks = []
        size = 0
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            size += len(b)
            if size > MAX_REPLY:
                raise ValueError("reply larger than %d bytes" % MAX_REPLY)
    return json.loads(b"".join(chunks).decode("utf-8", "replace"))


def summarize(node, t_req, t_recv, st):
    """The fields the checker and the report use, from one status."""
    repl = st.get("replication") or {}
    res = st.get("resources") or {}
    return {
        "node": node, "t_req": t_req, "t_recv": t_recv, "ok": True,
        "role": st.get("role"), "term": st.get("term"),
        "lease_left_ms": st.get("lease_left_ms"),
        "primary": st.get("primary"),
        "position": repl.get("position"), "lag": repl.get("lag"),
        "mode": repl.get("mode"),
        "writable": res.get("writable"),
    }


class Sampler:
    def __init__(self, out, interval_s, timeout_s, deadline):
        self.out = out
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.deadline = deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def emit(self, rec):
        line = json.dumps(rec, separators=(",", ":"))
        with self.lock:
            self.out.write(line + "\n")

    def loop(self, node, path):
        nxt = time.monotonic()
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            t_req = time.monotonic_ns()
            try:
                st = ask_status(path, self.timeout_s)
                rec = summarize(node, t_req, time.monotonic_ns(), st)
            except (OSError, ValueError) as e:
                rec = {"node": node, "t_req": t_req,
                       "t_recv": time.monotonic_ns(), "ok": False,
                       "error": str(e)[:120]}
            self.emit(rec)
            nxt += self.interval_s
            now = time.monotonic()
            if nxt < now:
                nxt = now
            self.stop.wait(nxt - now)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sock", action="append", required=True,
                    help="NODE=PATH of an agent's control socket")
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval-ms", type=int, default=25)
    ap.add_argument("--timeout-ms", type=int, default=200)
    ap.add_argument("--duration-ms", type=int, default=MAX_DURATION_MS)
    a = ap.parse_args()
    socks = []
    for s in a.sock:
        node, sep, path = s.partition("=")
        if not sep or not node or not path:
            sys.exit("sampler.py: --sock: expected NODE=PATH, got %r" % s)
        socks.append((node, path))
    for name, v, hi in (("--interval-ms", a.interval_ms, 10000),
                        ("--timeout-ms", a.timeout_ms, 10000),
                        ("--duration-ms", a.duration_ms, MAX_DURATION_MS)):
        if not 1 <= v <= hi:
            sys.exit("sampler.py: %s: expected 1..%d, got %d" % (name, hi, v))
    out = open(a.out, "w", buffering=1)
    deadline = time.monotonic() + a.duration_ms / 1000.0
    smp = Sampler(out, a.interval_ms / 1000.0, a.timeout_ms / 1000.0,
                  deadline)
    signal.signal(signal.SIGTERM, lambda *_: smp.stop.set())
    signal.signal(signal.SIGINT, lambda *_: smp.stop.set())
    smp.emit({"header": True, "mono_ns": time.monotonic_ns(),
              "real_ns": time.time_ns(),
              "nodes": [n for n, _ in socks]})
    threads = [threading.Thread(target=smp.loop, args=(n, p), daemon=True)
               for n, p in socks]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.2)
    out.close()


if __name__ == "__main__":
    main()
