#!/usr/bin/python3
"""Kernel nf_tables classification cost for a ruleset and a ClassBench trace.

usage: kernel_classify.py SENDER RULESET.nft FILTERS TRACE
                          [--packets N] [--passes P] [--loads L] [--verify V]

Three router namespaces (kernel_net.py) forward the same frames: r0 under an
empty forward chain with policy accept, r1 under one with policy drop, r2
under RULESET (loaded with `nft -f`, timed, best of L loads). SENDER
(nfx_kernel_send) pushes the trace's first N frames through r0, r1, r2 in
turn, P timed passes after a warm-up, and the best pass of each counts.

  classify ns/packet = (T2 - (A*T0 + (N-A)*T1) / N) / N

where Ti is router i's best pass and A the number of the N frames the
ruleset accepts: the baseline is what the same frames cost with the same
verdicts and no rules, so what is left is the rules' evaluation. T is the
sender thread's CPU time, which holds the routers' softirq work (it runs in
the sender's context and, without CONFIG_IRQ_TIME_ACCOUNTING, is charged to
it) but not the time other processes took the CPU; the same figures from
wall time are reported too (under "wall"; "cpu" holds the CPU-time ones),
and wall time is the basis when the kernel keeps softirq time apart.

Checks, reported in the output: every router received every frame of every
pass (InReceives) and took each to its forward hook (ForwDatagrams, which
this kernel counts before the hook); past the hook, r0 let all through, r1
none, r2 exactly A a pass (the frames its ifb discarded), A being what the
reference first-match classifier (classbench_match.py) says. With --verify V, after
the timing r2 gets the ruleset again with a `counter` before each `accept`
(so the timed chain itself carries no counters) and one pass of the first V
frames; each rule's packet count must equal the reference's count of frames
whose first match it is.

Prints one JSON line.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import read_rules, read_trace  # noqa: E402
from classbench_match import first_match  # noqa: E402
from kernel_net import Routers  # noqa: E402

EMPTY = "table ip filter {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy %s;\n\t}\n}\n"


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def load_ms(net, i, path, loads):
    """Best wall time of `nft -f PATH` into an empty router i, less the cost
    of entering the namespace."""
    ns = net.routers[i]
    enter = min(timed(["ip", "netns", "exec", ns, "true"]) for _ in range(3))
    best = None
    for _ in range(loads):
        net.nft(i, "flush", "ruleset")
        t = timed(["ip", "netns", "exec", ns, "nft", "-f", path])
        best = t if best is None else min(best, t)
    return (best - enter) * 1e3


def send(net, sender, trace, packets, passes, targets):
    cpu = str(os.cpu_count() - 1)
    out = subprocess.run(["ip", "netns", "exec", net.sender, "taskset", "-c", cpu, sender,
                          trace, str(packets), str(passes)] + targets,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def irq_time_accounting():
    """Whether softirq time is kept apart from the task it ran in (then a
    thread's CPU time would miss the routers' work); None if unknown."""
    try:
        text = subprocess.run(["zcat", "/proc/config.gz"], capture_output=True, text=True).stdout
        if not text:
            with open("/boot/config-" + os.uname().release) as fh:
                text = fh.read()
    except OSError:
        return None
    return "CONFIG_IRQ_TIME_ACCOUNTING=y" in text


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def verify_counters(net, ruleset_text, sender, trace, v, expected_idx, n_rules):
    counted = re.sub(r"^(\t\t.*?)\baccept$", r"\1counter accept", ruleset_text, flags=re.M)
    net.nft(2, "flush", "ruleset")
    net.nft(2, "-f", "-", stdin=counted)
    send(net, sender, trace, v, 0, [net.targets()[2]])
    listing = json.loads(net.nft(2, "-j", "list", "chain", "ip", "filter", "forward"))
    got = []
    for item in listing["nftables"]:
        if "rule" in item:
            c = [e["counter"]["packets"] for e in item["rule"]["expr"] if "counter" in e]
            got.append(c[0])
    want = [0] * n_rules
    for idx in expected_idx[:v]:
        if idx >= 0:
            want[idx] += 1
    bad = [i for i in range(n_rules) if i >= len(got) or got[i] != want[i]]
    return {"packets": v, "rules": len(got), "matched": sum(got),
            "rules_mismatched": len(bad), "first_mismatches": [
                {"rule": i, "kernel": got[i] if i < len(got) else None, "expected": want[i]}
                for i in bad[:5]]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sender")
    ap.add_argument("ruleset")
    ap.add_argument("filters")
    ap.add_argument("trace")
    ap.add_argument("--packets", type=int, default=16384)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--loads", type=int, default=3)
    ap.add_argument("--verify", type=int, default=0)
    a = ap.parse_args()

    rules = read_rules(a.filters)
    trace = read_trace(a.trace, max(a.packets, a.verify))
    n = min(a.packets, len(trace))
    expected = first_match(rules, trace)
    accepted = int((expected[:n] >= 0).sum())
    with open(a.ruleset) as fh:
        text = fh.read()

    with Routers(3) as net, tempfile.TemporaryDirectory() as tmp:
        for i, policy in ((0, "accept"), (1, "drop")):
            path = os.path.join(tmp, "empty_%s.nft" % policy)
            with open(path, "w") as fh:
                fh.write(EMPTY % policy)
            net.nft(i, "-f", path)
        ms = load_ms(net, 2, os.path.abspath(a.ruleset), a.loads)
        before = [net.counters(i) for i in range(3)]
        res = send(net, a.sender, a.trace, n, a.passes, net.targets())
        moved = [delta(net.counters(i), before[i]) for i in range(3)]
        sends = a.passes + 1  # the warm-up pass counts too
        checks = {
            "received_all": all(m["InReceives"] == sends * n for m in moved),
            "reached_forward_hook_all": all(m["ForwDatagrams"] == sends * n for m in moved),
            "empty_accept_passed_all": moved[0]["Sunk"] == sends * n,
            "empty_drop_passed_none": moved[1]["Sunk"] == 0,
            "ruleset_passed_expected": moved[2]["Sunk"] == sends * accepted,
        }
        verify = verify_counters(net, text, a.sender, a.trace, min(a.verify, len(trace)),
                                 expected, len(rules)) if a.verify else None

    basis = "wall" if irq_time_accounting() is not False else "cpu"
    out = {"packets": n, "passes": a.passes, "accepted": accepted, "nft_load_ms": round(ms, 1),
           "time_basis": basis}
    for key, suffix in (("cpu_ns", "cpu"), ("ns", "wall")):
        best = [min(res[key][s]) / n for s in net.ifaces]
        base = (accepted * best[0] + (n - accepted) * best[1]) / n
        figs = {"empty_accept_ns_per_packet": round(best[0], 1),
                "empty_drop_ns_per_packet": round(best[1], 1),
                "ruleset_ns_per_packet": round(best[2], 1),
                "kernel_ns_per_packet": round(best[2] - base, 1)}
        out[suffix] = dict(figs, pass_ns=res[key])
        if suffix == basis:
            out.update(figs)
    out.update({"counters": moved, "checks": checks,
                "verified": all(checks.values()) and (verify is None or verify["rules_mismatched"] == 0)})
    if verify is not None:
        out["verify"] = verify
    print(json.dumps(out))


if __name__ == "__main__":
    main()
