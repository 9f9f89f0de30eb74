#!/usr/bin/python3
"""Reference first-match classifier for ClassBench rules and traces.

usage: classbench_match.py FILTERS TRACE [--limit N]
Prints, one a line, the 0-based index of the first rule each trace packet
matches, or -1 when none does (the translated ruleset's policy drop).

A rule matches when every field of the packet lies in the rule's inclusive
range: the meaning dpdk-test-acl gives the file (prefix = mask, ports =
ranges, protocol = value/mask) and the one classbench_to_nft.py translates.
It is the yardstick the kernel's counters, rte_acl's per-packet results and
nfx's verdicts are checked against.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import FIELDS, read_rules, read_trace  # noqa: E402


def first_match(rules, packets):
    """numpy array: per packet the first matching rule's index or -1."""
    pk = np.array(packets, dtype=np.int64).reshape(-1, 5)
    result = np.full(len(pk), -1, dtype=np.int64)
    open_ = np.arange(len(pk))  # packets no rule has matched yet
    cols = {f: pk[:, k] for k, f in enumerate(FIELDS)}
    for i, r in enumerate(rules):
        if len(open_) == 0:
            break
        hit = np.ones(len(open_), dtype=bool)
        for f in FIELDS:
            lo, hi = r[f]
            v = cols[f][open_]
            hit &= (v >= lo) & (v <= hi)
        result[open_[hit]] = i
        open_ = open_[~hit]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("filters")
    ap.add_argument("trace")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    res = first_match(read_rules(a.filters), read_trace(a.trace, a.limit))
    sys.stdout.write("".join("%d\n" % x for x in res))


if __name__ == "__main__":
    main()
