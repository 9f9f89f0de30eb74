#!/usr/bin/python3
"""Generate a packet trace for a ClassBench filter file, seeded and deterministic.

usage: classbench_trace.py FILTERS OUT [--packets N] [--seed S]

Writes one header a line, `src dst sport dport proto`, as unsigned decimal
integers (addresses as 32-bit host-order values): the trace format
dpdk-test-acl's --tracef reads (strtoul on the first five blank-separated
fields), and the one `nfx bench classify` and the kernel sender read.

Of N packets (default 16384), 90% come from the rules, in turn (rule 0, 1,
..., wrapping), so each rule gets N*0.9/rules of them (14-16 at 1K rules, 1-2
at 10K): a packet takes each field's low end, high end or a random interior
point; the first three packets of a rule are its low corner, its high corner
and a random interior point (rotated by the rule's index, so that at 10K
rules each kind still covers a third of the rules), later ones pick per field.
The other 10% are uniform random headers. The lines are shuffled at the end
(same seed), so any prefix of the trace is a fair sample of it.

Addresses are kept to those a Linux router forwards (all but 0.0.0.0, 127/8,
224/4 and 255.255.255.255), so that the kernel sees every packet at its
forward hook: a range is clipped to that space before its ends and interior
are taken, and a rule whose source or destination lies wholly outside it (a
multicast or loopback prefix) gets no packets of its own; the count of such
rules is printed. Random
headers take the protocol uniformly from 0-255 half the time, else one the
rule file names.
"""
import argparse
import os
import random
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import FIELDS, read_rules  # noqa: E402

# What a Linux router (6.x) forwards, tried address by address: not 0.0.0.0,
# 127/8 (martian even with route_localnet), 224/4 (multicast: delivered or
# dropped, never forwarded) or 255.255.255.255; 0/8 and 240/4 are forwarded.
FORWARDABLE = ((0x00000001, 0x7EFFFFFF), (0x80000000, 0xDFFFFFFF), (0xF0000000, 0xFFFFFFFE))


def clip(lo, hi):
    """The parts of [lo, hi] a router forwards, as a list of ranges."""
    return [(max(lo, a), min(hi, b)) for a, b in FORWARDABLE if max(lo, a) <= min(hi, b)]


def pick(rng, parts, kind):
    if kind == 0:
        return parts[0][0]
    if kind == 1:
        return parts[-1][1]
    sizes = [hi - lo + 1 for lo, hi in parts]
    k = rng.randrange(sum(sizes))
    for (lo, _), size in zip(parts, sizes):
        if k < size:
            return lo + k
        k -= size
    raise AssertionError


def rule_packet(rng, rule, kind):
    """kind 0: low corner, 1: high corner, 2: interior, 3: per-field mix."""
    out = []
    for f in FIELDS:
        parts = clip(*rule[f]) if f in ("src", "dst") else [rule[f]]
        out.append(pick(rng, parts, kind if kind < 3 else rng.randrange(3)))
    return tuple(out)


def random_packet(rng, protos):
    src = pick(rng, FORWARDABLE, 2)
    dst = pick(rng, FORWARDABLE, 2)
    proto = rng.randrange(256) if rng.randrange(2) else rng.choice(protos)
    return (src, dst, rng.randrange(65536), rng.randrange(65536), proto)


def generate(rules, n, seed):
    rng = random.Random(seed)
    usable = [(i, r) for i, r in enumerate(rules) if clip(*r["src"]) and clip(*r["dst"])]
    n_rules = n * 9 // 10
    protos = sorted({r["proto"][0] for r in rules if r["proto"][0] == r["proto"][1]}) or [6]
    seen = [0] * len(rules)
    out = []
    for k in range(n_rules):
        i, r = usable[k % len(usable)]
        j = seen[i]
        seen[i] += 1
        out.append(rule_packet(rng, r, (j + i) % 3 if j < 3 else 3))
    out += [random_packet(rng, protos) for _ in range(n - n_rules)]
    rng.shuffle(out)
    return out, len(rules) - len(usable)


def main():
    ap = argparse.ArgumentParser(description="ClassBench trace generator")
    ap.add_argument("filters")
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=16384)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rules = read_rules(a.filters)
    # The seed mixes in the set's name so that each set gets its own stream.
    seed = a.seed * 1000003 + zlib.crc32(os.path.basename(a.filters).encode())
    packets, skipped = generate(rules, a.packets, seed)
    with open(a.out, "w") as fh:
        fh.writelines("%d %d %d %d %d\n" % p for p in packets)
    print("classbench_trace: %s: %d packets; %d of %d rules have no packets of their own "
          "(a prefix wholly in 127/8 or 224/4)" % (a.out, len(packets), skipped, len(rules)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
