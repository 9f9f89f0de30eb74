#!/usr/bin/python3
"""Classification benchmark over the ClassBench sets: nfx against the kernel
and DPDK rte_acl, all in the same run, on the same rules and the same trace.

usage: classify_bench.py NFX SENDER CORPUS OUTDIR [--sets a,b,...]
        [--packets N] [--kernel-packets-10k N] [--no-kernel] [--no-dpdk]
        [--no-verify]

For each set (default: all 24 under CORPUS/classbench):
  OUTDIR/sets/NAME.nft    classbench_to_nft.py's translation (`nfx check`ed)
  OUTDIR/sets/NAME.trace  classbench_trace.py's trace (N packets, default 16384)
  nfx      `NFX bench classify NAME.nft NAME.trace` (its JSON line), and, to
           check the translation and the trace, `NFX eval --json --path
           forward` on the trace's frames (the first 4,096 for sets of more
           than 2,000 rules): every verdict and rule must be the reference
           first match (classbench_match.py)
  kernel   kernel_classify.py (all N packets; at most --kernel-packets-10k,
           default N, for sets of more than 2,000 rules)
  dpdk     dpdk_acl.py (every algorithm; per-packet results checked)

The report, OUTDIR/classify_report.json, is rewritten after every set; then
classify_report.py prints the summary table and draws the plot.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from classbench import read_rules, read_trace  # noqa: E402
from classbench_match import first_match  # noqa: E402

SETS = ["%s%d_%s" % (kind, i, size) for size in ("1k", "10k")
        for kind, count in (("acl", 5), ("fw", 5), ("ipc", 2)) for i in range(1, count + 1)]


def log(msg):
    print("[classify_bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def json_line(text):
    """The last line of TEXT that is a JSON object."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in output: %r" % text[-500:])


def tool(*cmd):
    """A step's JSON line; with "error" when it failed (its line kept if any)."""
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    try:
        out = json_line(r.stdout)
    except ValueError as e:
        out = {"error": str(e)}
    if r.returncode != 0:
        out["error"] = "exit %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-400:])
    return out


def verify_nfx_eval(nfx, ruleset, trace_path, want):
    """nfx's interpreter on the trace's first len(want) frames against the
    reference."""
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "trace.pcap")
        subprocess.run([os.path.join(HERE, "trace_pcap.py"), trace_path, pcap,
                        "--limit", str(len(want))], check=True)
        r = subprocess.run([nfx, "eval", "--json", "--path", "forward", ruleset, pcap],
                           capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-400:]}
    listing = subprocess.run([nfx, "fmt", "-a", ruleset], capture_output=True, text=True, check=True).stdout
    handles = [int(h) for h in re.findall(r"^\t\t.*# handle (\d+)$", listing, re.M)]
    index = {h: i for i, h in enumerate(handles)}
    got = {}
    for line in r.stdout.splitlines():
        v = json.loads(line)
        got[v["packet"] - 1] = index.get(v.get("handle"), -2) if v["verdict"] == "accept" else -1
    bad = [k for k in range(len(want)) if got.get(k) != int(want[k])]
    return {"packets": len(got), "mismatches": len(bad),
            "first_mismatches": [{"packet": k, "nfx": got.get(k), "expected": int(want[k])} for k in bad[:5]]}


def run_set(name, a, sets_dir):
    filters = os.path.join(a.corpus, "classbench", name)
    nft = os.path.join(sets_dir, name + ".nft")
    trace = os.path.join(sets_dir, name + ".trace")
    subprocess.run([os.path.join(HERE, "classbench_to_nft.py"), filters, nft], check=True)
    gen = subprocess.run([os.path.join(HERE, "classbench_trace.py"), filters, trace,
                          "--packets", str(a.packets)], check=True, capture_output=True, text=True)
    rules = read_rules(filters)
    packets = read_trace(trace)
    want = first_match(rules, packets)
    own = re.search(r"(\d+) of \d+ rules have no packets", gen.stderr)
    entry = {"set": name, "rules": len(rules), "packets": len(packets),
             "rules_without_own_packets": int(own.group(1)) if own else None,
             "trace_accepted": int((want >= 0).sum())}
    chk = subprocess.run([a.nfx, "check", nft], capture_output=True, text=True)
    entry["nfx_check"] = "ok" if chk.returncode == 0 else chk.stderr.strip()[-400:]

    log("%s: nfx bench classify" % name)
    entry["nfx"] = tool(a.nfx, "bench", "classify", nft, trace)
    if "accepted" in entry["nfx"]:
        # nfx's JIT accepted as many packets as the reference says match.
        entry["nfx"]["accepted_as_reference"] = entry["nfx"]["accepted"] == entry["trace_accepted"]
    if not a.no_verify:
        log("%s: nfx eval against the reference" % name)
        limit = len(want) if len(rules) <= 2000 else min(len(want), 4096)
        entry["nfx_eval_verify"] = verify_nfx_eval(a.nfx, nft, trace, want[:limit])
    if not a.no_kernel:
        kp = a.packets if len(rules) <= 2000 else min(a.packets, a.kernel_packets_10k)
        passes = 5 if len(rules) <= 2000 else 3
        log("%s: kernel, %d packets x %d passes" % (name, kp, passes))
        cmd = [os.path.join(HERE, "kernel_classify.py"), a.sender, nft, filters, trace,
               "--packets", str(kp), "--passes", str(passes)]
        if not a.no_verify:
            cmd += ["--verify", str(kp)]
        entry["kernel"] = tool(*cmd)
    if not a.no_dpdk:
        log("%s: dpdk-test-acl" % name)
        cmd = [os.path.join(HERE, "dpdk_acl.py"), filters, trace] + (["--no-verify"] if a.no_verify else [])
        entry["dpdk"] = tool(*cmd)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nfx")
    ap.add_argument("sender")
    ap.add_argument("corpus")
    ap.add_argument("outdir")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--packets", type=int, default=16384)
    ap.add_argument("--kernel-packets-10k", type=int, default=16384)
    ap.add_argument("--no-kernel", action="store_true")
    ap.add_argument("--no-dpdk", action="store_true")
    ap.add_argument("--no-verify", action="store_true")
    a = ap.parse_args()
    a.nfx = os.path.abspath(a.nfx)
    a.sender = os.path.abspath(a.sender)
    sets_dir = os.path.join(a.outdir, "sets")
    os.makedirs(sets_dir, exist_ok=True)
    path = os.path.join(a.outdir, "classify_report.json")
    report = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": {
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "cpus": os.cpu_count(), "kernel": os.uname().release,
        "avx2": " avx2" in open("/proc/cpuinfo").read()}, "sets": []}
    t0 = time.time()
    for name in a.sets.split(","):
        t = time.time()
        report["sets"].append(run_set(name, a, sets_dir))
        report["sets"][-1]["seconds"] = round(time.time() - t, 1)
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)
        log("%s done in %.0f s" % (name, time.time() - t))
    report["seconds"] = round(time.time() - t0, 1)
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1)
    log("report: %s" % path)


if __name__ == "__main__":
    main()
