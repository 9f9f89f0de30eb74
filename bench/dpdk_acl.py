#!/usr/bin/python3
"""DPDK rte_acl classification cost for a ClassBench filter file and trace.

usage: dpdk_acl.py FILTERS TRACE [--algs scalar,sse,avx2,...] [--seconds S]
                   [--runs R] [--no-verify] [--binary dpdk-test-acl]

Runs Debian's dpdk-test-acl (package dpdk-dev) without hugepages or PCI
(EAL: --no-huge --no-pci --no-telemetry, a private --file-prefix, one lcore,
the last CPU), which reads the ClassBench file and the trace itself: the
rules' priorities follow line order (first line highest) and all five fields
are matched, the flags column ignored. Per algorithm, R runs (default 2),
each with enough --iter to classify for about S seconds (default 0.3; sized
from the previous run's rate), the fastest counting.

dpdk-test-acl prints `C cycles (.. sec), X cycles/pkt, P pkt/sec`, cycles
being rte_rdtsc() and P computed with rte_get_timer_hz() (the TSC rate EAL
measured); so ns/packet = 1e9 / P, and the TSC rate reported is
C * P / packets. Algorithms this CPU or build lacks are reported as errors.

Verification (default): one pass with --verbose=2 and the default algorithm,
which prints every packet's matched rule (0-based line, 4294967295 for none);
each must equal classbench_match.py's first match.

Prints one JSON line.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import read_rules, read_trace  # noqa: E402
from classbench_match import first_match  # noqa: E402

SUMMARY = re.compile(r"search_ip5tuples\s+@lcore \d+: (\d+) iterations, (\d+) pkts, \d+ categories, "
                     r"(\d+) cycles \([\d.]+ sec\), ([\d.]+) cycles/pkt, ([\d.]+) pkt/sec")
RESULT = re.compile(r"ipv4_5tuple: (\d+), category: 0, result: (\d+)")


PREFIX = "nfxb%d" % os.getpid()


def run(binary, filters, trace, n, extra, mem):
    eal = ["--no-huge", "--no-pci", "--no-telemetry", "--file-prefix=" + PREFIX,
           "-l", str(os.cpu_count() - 1), "-m", str(mem), "--force-max-simd-bitwidth=512"]
    app = ["--rulesf=" + filters, "--tracef=" + trace, "--tracenum=%d" % n]
    r = subprocess.run([binary] + eal + ["--"] + app + extra, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def run_mem(binary, filters, trace, n, extra):
    """Some 10K firewall sets need more than 1 GB for the built tries."""
    for mem in (1024, 4096):
        rc, out = run(binary, filters, trace, n, extra, mem)
        if rc == 0 and SUMMARY.search(out):
            return out, None
    tail = [line for line in out.splitlines() if line.strip()][-3:]
    return out, "exit %d: %s" % (rc, " | ".join(tail))


def measure(binary, filters, trace, n, alg, iters):
    out, err = run_mem(binary, filters, trace, n, ["--verbose=0", "--iter=%d" % iters, "--alg=" + alg])
    if err:
        return {"error": err}
    it, pkts, cycles, cpp, pps = SUMMARY.search(out).groups()
    pkts, pps = int(pkts), float(pps)
    return {"ns_per_packet": round(1e9 / pps, 2), "cycles_per_packet": float(cpp),
            "tsc_hz": round(int(cycles) * pps / pkts), "iterations": int(it), "packets": pkts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("filters")
    ap.add_argument("trace")
    ap.add_argument("--algs", default="scalar,sse,avx2,avx512x16,avx512x32")
    ap.add_argument("--seconds", type=float, default=0.3)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--binary", default="dpdk-test-acl")
    a = ap.parse_args()
    trace = read_trace(a.trace)
    n = len(trace)
    report = {"packets": n, "cpu_avx2": " avx2" in open("/proc/cpuinfo").read(), "algs": {}}

    # First run: one pass, every packet's result printed; it also times the
    # default algorithm cold, which sizes the later runs.
    out, err = run_mem(a.binary, a.filters, a.trace, n, ["--verbose=2", "--iter=1"])
    if err:
        print(json.dumps(dict(report, error=err)))
        return 1
    cpp = float(SUMMARY.search(out).group(4))
    if not a.no_verify:
        got = {int(p): int(r) for p, r in RESULT.findall(out)}
        want = first_match(read_rules(a.filters), trace)
        bad = [i for i in range(n) if got.get(i + 1, -2) != (int(want[i]) & 0xFFFFFFFF)]
        report["verify"] = {"packets": len(got), "mismatches": len(bad),
                            "first_mismatches": [{"packet": i, "dpdk": got.get(i + 1), "expected": int(want[i])}
                                                 for i in bad[:5]]}
    # Per algorithm: a first run sized from the last estimate, then runs
    # sized from its own rate; the fastest run counts (the machine is shared).
    est_ns = cpp / 2.0  # the cold first pass in TSC cycles, at ~2 GHz
    for alg in a.algs.split(","):
        best = None
        for _ in range(a.runs):
            iters = max(3, min(100000, math.ceil(a.seconds * 1e9 / (est_ns * n))))
            res = measure(a.binary, a.filters, a.trace, n, alg, iters)
            if "error" in res:
                best = res
                break
            est_ns = res["ns_per_packet"]
            if best is None or res["ns_per_packet"] < best["ns_per_packet"]:
                best = res
        report["algs"][alg] = best
    report["verified"] = a.no_verify or report["verify"]["mismatches"] == 0
    print(json.dumps(report))
    return 0


def cleanup():
    """EAL leaves its runtime files (with --no-huge, as big as the memory
    map) in /var/run/dpdk/PREFIX, on tmpfs: remove them."""
    shutil.rmtree(os.path.join("/var/run/dpdk", PREFIX), ignore_errors=True)


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        cleanup()
    sys.exit(rc)
