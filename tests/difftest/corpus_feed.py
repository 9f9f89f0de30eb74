#!/usr/bin/python3
"""The stateless rules of nftables' tests/py corpus through nfx_difftest.

usage: corpus_feed.py NFX NFX_DIFFTEST NFX_KERNEL_ORACLE CORPUS [--frames N] [--chunk N] [--work DIR]

Every `;ok` rule line of the tests/py files of the ip, ip6, inet, bridge
and netdev families is placed, with a counter added, in a base chain of its
file's family: ip/ip6/inet at the input hook (input path), bridge at the
forward hook and netdev at tap0's ingress (bridge path). The rules are
loaded in rulesets of --chunk rules; each ruleset runs --frames random frames
through the kernel and through nfx, and verdicts, output frames and every
rule's counter must agree (nfx_difftest). A line is left out, with its reason
counted and listed, when:
  - nfx refuses it (the interpreter cannot run it yet: conntrack, fib, ...);
  - the kernel or this nft refuses it (a module this kernel lacks, syntax
    newer than nft 1.0.6);
  - it names the file's own sets, maps or objects (`@x`), which are not loaded;
  - it is an arp file's (the oracle does not observe the arp hooks).
Exit status 1 on any mismatch, and also when fewer than --min-run lines ran.
"""
import argparse
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

FAMILIES = {
    # family: (path, chain header)
    "ip": ("input", "type filter hook input priority 0; policy accept;"),
    "ip6": ("input", "type filter hook input priority 0; policy accept;"),
    "inet": ("input", "type filter hook input priority 0; policy accept;"),
    "bridge": ("bridge", "type filter hook forward priority 0; policy accept;"),
    "netdev": ("bridge", 'type filter hook ingress device "tap0" priority 0; policy accept;'),
}
# Rules whose outcome depends on the clock or on chance, not on the frames:
# the oracle injects frames back to back on the kernel's clock while nfx
# uses the pcap timestamps, the kernel's random numbers and symmetric-hash
# key are its own, and its CPU number varies.
NONDETERMINISTIC = [
    (re.compile(r"\blimit\b"), "a limit (the kernel's clock refills it during the run)"),
    (re.compile(r"\bmeta (time|hour|day)\b|^(time|hour|day)\b"), "the time of day (the kernel's clock)"),
    (re.compile(r"\bnumgen random\b|\bmeta random\b|\brandom\b"), "random numbers"),
    (re.compile(r"\bsymhash\b"), "symhash (the kernel's boot-time key)"),
    (re.compile(r"\bcpu\b"), "the CPU number"),
]
VERDICT = re.compile(r"\s+(accept|drop|continue|return|(jump|goto)\s+\S+)\s*$")


# Statements that end a rule: nft refuses a statement after them.
TERMINAL = re.compile(r"(?<!status )(?<!ct state )\b(queue|reject|masquerade|snat|dnat|redirect|tproxy|fwd|synproxy)\b")


def with_counter(rule):
    """The rule with a counter before its verdict or terminal statement (or at its end)."""
    if re.search(r"\bcounter\b", rule):
        return rule
    t = TERMINAL.search(rule)
    if t:
        return rule[: t.start()] + "counter " + rule[t.start():]
    m = VERDICT.search(rule)
    if m:
        return rule[: m.start()] + " counter " + m.group(1)
    return rule + " counter"


def corpus_rules(corpus):
    """(file, family, rule) for every runnable `;ok` line; skipped lines by reason."""
    skipped = collections.Counter()
    out = []
    for path in sorted(glob.glob(os.path.join(corpus, "nftables", "py", "*", "*.t"))):
        families = []
        lines = []
        for raw in open(path, encoding="utf-8", errors="replace"):
            line = raw.rstrip("\n")
            if line.startswith("*"):
                fam = line[1:].split(";")[0]
                if fam not in families:
                    families.append(fam)
            elif line and not line.startswith(("#", ":", "!", "-", "?", "%")):
                parts = line.split(";")
                if len(parts) >= 2 and parts[1].strip() == "ok":
                    lines.append(parts[0].strip())
        usable = [f for f in families if f in FAMILIES]
        if not usable:
            skipped["file of another family (arp: its hooks are not observed)"] += len(lines)
            continue
        family = "inet" if "inet" in usable else usable[0]
        for rule in lines:
            why = next((w for pat, w in NONDETERMINISTIC if pat.search(rule)), None)
            if why:
                skipped["depends on " + why] += 1
                continue
            if "@" in rule.replace("@nh", "").replace("@th", "").replace("@ll", "").replace("@ih", ""):
                skipped["names the file's own sets, maps or objects"] += 1
                continue
            out.append((os.path.relpath(path, corpus), family, with_counter(rule)))
    return out, skipped


def ruleset_text(family, rules):
    header = FAMILIES[family][1]
    body = "".join("\t\t%s\n" % r for r in rules)
    return "table %s t {\n\tchain c {\n\t\t%s\n%s\t}\n}\n" % (family, header, body)


def nfx_accepts(nfx, family, rules, work):
    """Whether nfx loads these rules into its interpreter (nfx eval on no frames)."""
    rs = os.path.join(work, "check.nft")
    with open(rs, "w") as f:
        f.write(ruleset_text(family, rules))
    pcap = os.path.join(work, "empty.pcap")
    if not os.path.exists(pcap):
        with open(pcap, "wb") as f:  # a pcap header, Ethernet, no frames
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    r = subprocess.run([nfx, "eval", rs, pcap, "--path", FAMILIES[family][0]], capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def kernel_accepts(family, rules, work):
    """Whether nft 1.0.6 and this kernel load the rules (in a namespace with a tap0)."""
    rs = os.path.join(work, "kcheck.nft")
    with open(rs, "w") as f:
        f.write(ruleset_text(family, rules))
    r = subprocess.run(["unshare", "-n", "sh", "-c",
                        "ip tuntap add tap0 mode tap && nft -f %s" % rs], capture_output=True, text=True)
    return r.returncode == 0


def keep_accepted(rules, accepts):
    """The rules `accepts` takes, found by halving the groups it refuses."""
    if not rules:
        return [], []
    if accepts(rules):
        return rules, []
    if len(rules) == 1:
        return [], rules
    mid = len(rules) // 2
    a, ra = keep_accepted(rules[:mid], accepts)
    b, rb = keep_accepted(rules[mid:], accepts)
    return a + b, ra + rb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nfx")
    ap.add_argument("difftest")
    ap.add_argument("oracle")
    ap.add_argument("corpus")
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=40)
    ap.add_argument("--min-run", type=int, default=600)
    ap.add_argument("--work")
    ap.add_argument("--show-skipped", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("corpus_feed: needs root (the kernel oracle creates network namespaces and TAP devices)")
    if not os.path.isdir(os.path.join(a.corpus, "nftables", "py")):
        sys.exit("corpus_feed: %s has no nftables/py" % a.corpus)
    work = a.work or tempfile.mkdtemp(prefix="nfx-corpus-")
    os.makedirs(work, exist_ok=True)

    rules, skipped = corpus_rules(a.corpus)
    by_family = collections.defaultdict(list)
    for src, family, rule in rules:
        by_family[family].append((src, rule))

    ran = 0
    failed = False
    refused = []
    for family, items in sorted(by_family.items()):
        texts = [r for _, r in items]
        # nfx first (fast), then the kernel, each by halving refused groups
        ok, nfx_refused = [], []
        for i in range(0, len(texts), a.chunk):
            k, r = keep_accepted(texts[i:i + a.chunk], lambda rs: nfx_accepts(a.nfx, family, rs, work)[0])
            ok += k
            nfx_refused += r
        skipped["nfx refuses it (not executable yet)"] += len(nfx_refused)
        refused += [(family, r, "nfx") for r in nfx_refused]
        runnable, kernel_refused = [], []
        for i in range(0, len(ok), a.chunk):
            k, r = keep_accepted(ok[i:i + a.chunk], lambda rs: kernel_accepts(family, rs, work))
            runnable += k
            kernel_refused += r
        skipped["the kernel or nft 1.0.6 refuses it"] += len(kernel_refused)
        refused += [(family, r, "kernel") for r in kernel_refused]
        for n, i in enumerate(range(0, len(runnable), a.chunk)):
            chunk = runnable[i:i + a.chunk]
            rs = os.path.join(work, "%s-%d.nft" % (family, n))
            with open(rs, "w") as f:
                f.write(ruleset_text(family, chunk))
            r = subprocess.run([a.difftest, "--oracle", a.oracle, "--ruleset", rs, "--path", FAMILIES[family][0],
                                "--frames", str(a.frames), "--seed", str(1000 + n), "--work",
                                os.path.join(work, "%s-%d" % (family, n))], capture_output=True, text=True)
            summary = r.stdout.splitlines()[0] if r.stdout else r.stderr.strip()
            print("%s rules %d-%d: %s" % (family, i + 1, i + len(chunk), summary.split(": ", 1)[-1]))
            if r.returncode != 0:
                failed = True
                print(r.stdout)
            ran += len(chunk)

    print("corpus: %d rule lines run against the kernel" % ran)
    for why, n in sorted(skipped.items()):
        print("  not run: %d: %s" % (n, why))
    if a.show_skipped:
        for family, rule, who in refused:
            print("  refused by %s (%s): %s" % (who, family, rule))
    if ran < a.min_run:
        print("corpus_feed: only %d lines ran, fewer than --min-run %d" % (ran, a.min_run))
        failed = True
    if not a.work and not failed:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
