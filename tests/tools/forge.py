#!/usr/bin/python3
"""forge.py - send hostile datagrams at a hapair agent (system tests only).

usage: forge.py KEYFILE CLUSTER_NAME HOST PORT KIND COUNT [SENDER]

KIND is one of: random (random bytes), short (10 bytes), long (200 bytes
with a valid-looking header), badtag (a HELLO signed with another key),
cluster (a HELLO for another cluster, signed with the right key),
version (version 99, signed with the right key), replay (a HELLO from
node SENDER, default 2, with sequence 1, signed with the right key; the
HELLOs of the other kinds claim SENDER too - it must be the target's
peer, or the agent counts a message "from itself").  Each kind maps to
one drop reason the agent must count.  Destinations are the caller's
business: the tests send only inside their own namespaces.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys

MAGIC = 0x48415052
HELLO = 1


def cluster_id(name):
    v = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=16)
                       .digest()[:8], "big")
    return v or 1


def hello(key, cluster, sender=2, seq=1, version=3, term=1):
    hdr = struct.pack(">IBBBBQQQQ", MAGIC, version, HELLO, sender, 0,
                      cluster, term, seq, 1)
    body = struct.pack(">BBHQIQ", 0, 0, 0, 0, 100, 0)
    msg = hdr + body
    return msg + hmac.new(key, msg, hashlib.sha256).digest()


def make(kind, key, cluster, i, sender):
    if kind == "random":
        return os.urandom(1 + i % 150)
    if kind == "short":
        return os.urandom(10)
    if kind == "long":
        return struct.pack(">I", MAGIC) + os.urandom(196)
    if kind == "badtag":
        return hello(os.urandom(32), cluster, sender)
    if kind == "cluster":
        return hello(key, cluster ^ 0x5a5a, sender)
    if kind == "version":
        return hello(key, cluster, sender, version=99)
    if kind == "replay":
        return hello(key, cluster, sender, seq=1 + i)
    raise SystemExit(f"forge.py: unknown kind {kind!r}")


def main():
    if len(sys.argv) not in (7, 8):
        raise SystemExit(__doc__)
    keyfile, name, host, port, kind, count = sys.argv[1:7]
    sender = int(sys.argv[7]) if len(sys.argv) == 8 else 2
    key = bytes.fromhex(open(keyfile).read().strip())
    cluster = cluster_id(name)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(min(int(count), 10000)):
        s.sendto(make(kind, key, cluster, i, sender), (host, int(port)))


if __name__ == "__main__":
    main()
