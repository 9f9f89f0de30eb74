#!/usr/bin/python3
"""Summarise classify_bench.py's report: ratios, a table, a plot.

usage: classify_report.py REPORT.json [PLOT.png]

Adds to each set of the report a "ratios" object, and to the report a
"summary" (geometric means of the ratios over the 1K and the 10K sets), then
rewrites it; prints the table; draws ns/packet against rule count (log-log)
for nfx's interpreter and JIT, the kernel and rte_acl (avx2) to PLOT.png
(default: classify.png beside the report), with matplotlib's Agg backend.

  jit_over_rte_acl_avx2   nfx JIT ns/packet / rte_acl avx2 ns/packet
  kernel_over_jit         kernel ns/packet / nfx JIT ns/packet (10K sets)
  interp_over_jit         nfx interpreter / nfx JIT (1K sets)
  compile_over_nft_load   nfx compile_ms / `nft -f` load ms
"""
import json
import math
import os
import sys

DPDK_ALGS = ("scalar", "sse", "avx2", "avx512x16", "avx512x32")


def get(d, *path):
    for k in path:
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def figures(s):
    return {
        "interp": get(s, "nfx", "interp_ns_per_packet"),
        "jit": get(s, "nfx", "jit_ns_per_packet"),
        "compile_ms": get(s, "nfx", "compile_ms"),
        "kernel": get(s, "kernel", "kernel_ns_per_packet"),
        "nft_load_ms": get(s, "kernel", "nft_load_ms"),
        **{alg: get(s, "dpdk", "algs", alg, "ns_per_packet") for alg in DPDK_ALGS},
    }


def verified(s):
    marks = []
    if get(s, "nfx", "accepted") is not None:
        ok = get(s, "nfx", "accepted_as_reference") is True and get(s, "nfx", "mismatches") == 0
        marks.append("j" + ("+" if ok else "!"))
    for key, ok in (("nfx_eval_verify", get(s, "nfx_eval_verify", "mismatches") == 0),
                    ("kernel", get(s, "kernel", "verified") is True),
                    ("dpdk", get(s, "dpdk", "verified") is True)):
        if key in s:
            marks.append(key.split("_")[0][0] + ("+" if ok else "!"))
    return "".join(marks)


def geomean(xs):
    xs = [x for x in xs if x]
    return round(math.exp(sum(math.log(x) for x in xs) / len(xs)), 3) if xs else None


def summarise(report):
    for s in report["sets"]:
        f = figures(s)
        s["ratios"] = {
            "jit_over_rte_acl_avx2": ratio(f["jit"], f["avx2"]),
            "kernel_over_jit": ratio(f["kernel"], f["jit"]),
            "interp_over_jit": ratio(f["interp"], f["jit"]),
            "compile_over_nft_load": ratio(f["compile_ms"], f["nft_load_ms"]),
        }
    summary = {}
    for size in ("1k", "10k"):
        group = [s for s in report["sets"] if s["set"].endswith("_" + size)]
        if group:
            summary[size] = {k: geomean([s["ratios"][k] for s in group]) for k in group[0]["ratios"]}
            summary[size]["sets"] = len(group)
    report["summary"] = summary


def fmt(x, width=8):
    if x is None:
        return "-".rjust(width)
    return ("%.0f" % x if x >= 100 else "%.1f" % x if x >= 10 else "%.2f" % x).rjust(width)


def table(report):
    cols = ["interp", "jit", "kernel", "scalar", "sse", "avx2", "avx512x16", "avx512x32"]
    head = "%-9s %6s " % ("set", "rules") + " ".join(c.rjust(9) for c in cols)
    head += " %8s %8s | %7s %7s %7s %7s  %s" % ("compile", "nft -f", "jit/avx2", "kern/jit",
                                                "int/jit", "cmp/nft", "checked")
    lines = ["ns/packet (nfx interp, nfx JIT, kernel nf_tables, rte_acl per algorithm); ms for "
             "nfx compile and nft -f load; ratios; checked: j = nfx bench classify (JIT = interpreter, "
             "accepted count), n = nfx eval, k = kernel counters, d = dpdk results "
             "(+ agree with the reference, ! do not)", head]
    for s in report["sets"]:
        f, r = figures(s), s["ratios"]
        lines.append("%-9s %6d " % (s["set"], s["rules"]) + " ".join(fmt(f[c], 9) for c in cols)
                     + " %8s %8s | %7s %7s %7s %7s  %s" % (
                         fmt(f["compile_ms"]), fmt(f["nft_load_ms"]), fmt(r["jit_over_rte_acl_avx2"], 7),
                         fmt(r["kernel_over_jit"], 7), fmt(r["interp_over_jit"], 7),
                         fmt(r["compile_over_nft_load"], 7), verified(s)))
    for size, g in report["summary"].items():
        lines.append("geometric mean over the %d %s sets: jit/avx2 %s, kernel/jit %s, interp/jit %s, "
                     "compile/nft-load %s" % (g["sets"], size, g["jit_over_rte_acl_avx2"],
                                              g["kernel_over_jit"], g["interp_over_jit"],
                                              g["compile_over_nft_load"]))
    errors = [(s["set"], k, s[k]["error"]) for s in report["sets"] for k in ("nfx", "kernel", "dpdk")
              if isinstance(s.get(k), dict) and "error" in s[k]]
    lines += ["error: %s %s: %s" % e for e in errors]
    return "\n".join(lines)


def plot(report, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401

    series = (("nfx interpreter", "interp", "o"), ("nfx JIT", "jit", "s"),
              ("kernel nf_tables", "kernel", "^"), ("DPDK rte_acl avx2", "avx2", "D"))
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for label, key, marker in series:
        pts = sorted((s["rules"], figures(s)[key]) for s in report["sets"] if figures(s)[key])
        if not pts:
            continue
        dots = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker, label=label, alpha=0.7)
        # A dashed line through the geometric means of the 1K and the 10K sets.
        groups = [[p for p in pts if (p[0] > 2000) == big] for big in (False, True)]
        means = [(geomean([p[0] for p in g]), geomean([p[1] for p in g])) for g in groups if g]
        ax.plot([m[0] for m in means], [m[1] for m in means], "--", color=dots[0].get_color(), alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("rules (ClassBench sets, 1K and 10K; dashed: geometric means)")
    ax.set_ylabel("ns per packet (classification)")
    ax.set_title("First-match classification cost, %s" % report.get("started", ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit("usage: classify_report.py REPORT.json [PLOT.png]")
    with open(argv[1]) as fh:
        report = json.load(fh)
    summarise(report)
    with open(argv[1], "w") as fh:
        json.dump(report, fh, indent=1)
    print(table(report))
    png = argv[2] if len(argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(argv[1])), "classify.png")
    plot(report, png)
    print("report: %s\nplot: %s" % (argv[1], png))


if __name__ == "__main__":
    main(sys.argv)
