#!/usr/bin/python3
"""The stateless rules of nftables' tests/py corpus through nfx_difftest.

usage: corpus_feed.py NFX NFX_DIFFTEST NFX_KERNEL_ORACLE CORPUS [--frames N] [--chunk N] [--work DIR]
       corpus_feed.py --against jit NFX NFX_DIFFTEST CORPUS [--frames N] [--chunk N] [--work DIR]

Every `;ok` rule line of the tests/py files of the ip, ip6, inet, bridge
and netdev families is placed, with a counter added, in a base chain of its
file's family: ip/ip6/inet at the input hook (input path), bridge at the
forward hook and netdev at tap0's ingress (bridge path). The rules are
loaded in rulesets of --chunk rules; each ruleset runs --frames random frames
through the kernel and through nfx, and verdicts, output frames and every
rule's counter must agree (nfx_difftest). A line is left out, with its reason
counted and listed, when:
  - nfx refuses it (the interpreter cannot run it yet: NAT, ct helpers, fib, ...);
  - the kernel or this nft refuses it (a module this kernel lacks, syntax
    newer than nft 1.0.6);
  - it names the file's own sets, maps or objects (`@x`), which are not loaded;
  - it is an arp file's (the oracle does not observe the arp hooks).
Exit status 1 on any mismatch, and also when fewer than --min-run lines ran.

With --against jit the other side is nfx's own JIT (nfx_difftest --against
jit: no kernel, no root), and the selection is wider: every `;ok` rule line
nfx loads runs in every family and chain its file names (arp too, and the
output, forward, prerouting, postrouting and egress hooks, each on a path
that meets it), with the file's own sets, maps and objects declared
(renamed per file), including the lines that depend on the clock or on
chance (both sides share the packet clock and the load seed) and the ones
the kernel refuses. Each chunk runs twice: as written (with a counter) and
with accept or drop appended to the rules that end in none, so that runs of
pure match rules become the JIT's classifiers; each under every JIT variant
(or, with --variants rotate, one variant each in turn).
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
    (re.compile(r"\bct expiration\b"), "a connection's time left (the kernel's jiffies may tick between conntrack and the rule)"),
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


# ------------------------------------------------------------------ --against jit

# (family, hook) -> (path, chain header) in the JIT mode: every hook on a
# path that meets it. Bridge input and output are not on nfx eval's bridge
# path: those files' rules run at bridge forward.
def jit_chain(family, hook):
    if family == "netdev":
        dev = "tap1" if hook == "egress" else "tap0"
        hook = "egress" if hook == "egress" else "ingress"
        return "bridge", 'type filter hook %s device "%s" priority 0; policy accept;' % (hook, dev)
    if family == "bridge":
        if hook not in ("prerouting", "forward", "postrouting"):
            hook = "forward"
        return "bridge", "type filter hook %s priority 0; policy accept;" % hook
    if family == "arp":
        hook = "output" if hook == "output" else "input"
        return hook, "type filter hook %s priority 0; policy accept;" % hook
    if hook == "ingress":
        return "input", 'type filter hook ingress device "tap0" priority 0; policy accept;'
    path = {"input": "input", "output": "output", "forward": "forward", "prerouting": "input",
            "postrouting": "forward"}.get(hook, "input")
    if hook not in ("input", "output", "forward", "prerouting", "postrouting"):
        hook = "input"
    return path, "type filter hook %s priority 0; policy accept;" % hook


def jit_definition(kind, name, rest):
    """nft text for a tests/py `!set`, `?elements` or `%object` line's object."""
    if kind == "%":
        m = re.match(r"type\s+(ct helper|ct timeout|ct expectation|\S+)\s*(.*)$", rest)
        if not m:
            return None
        what, body = m.group(1), m.group(2).strip()
        if body.startswith("{"):  # ct helper x { type "ftp" protocol tcp; }
            return "%s %s %s" % (what, name, body)
        return "%s %s { %s }" % (what, name, body)  # quota x { 25 mbytes }, limit x { rate 400/minute }
    return None


def jit_set_text(name, spec, elements):
    """A set or map declaration from a `!name type ... [flags ...] [timeout ...] [size ...]` spec."""
    m = re.match(r"(typeof|type)\s+(.*?)(?:\s+(flags|timeout|size|policy)\s+(.*))?$", spec)
    if not m:
        return None
    keyword, types = m.group(1), m.group(2)
    extra = ""
    tail = spec[m.start(3):] if m.group(3) else ""
    for part in re.findall(r"(flags|timeout|size|policy)\s+(\S+(?:\s*,\s*\S+)*)", tail):
        extra += " %s %s;" % part
    is_map = re.search(r"\s:\s", " " + types + " ") is not None
    body = "%s %s;%s" % (keyword, types, extra)
    if elements:
        body += " elements = { %s };" % ", ".join(elements)
    return "%s %s { %s }" % ("map" if is_map else "set", name, body)


def jit_corpus(corpus):
    """(family, hook) -> [(src, rule, definitions)], and the skipped lines by reason."""
    skipped = collections.Counter()
    groups = collections.defaultdict(list)
    for n, path in enumerate(sorted(glob.glob(os.path.join(corpus, "nftables", "py", "*", "*.t")))):
        chains, targets, lines = {}, [], []
        sets, elements, objects = {}, collections.defaultdict(list), {}
        for raw in open(path, encoding="utf-8", errors="replace"):
            line = raw.rstrip("\n")
            parts = line.split(";")
            ok = len(parts) >= 2 and parts[1].strip() == "ok"
            if line.startswith(":"):
                m = re.search(r"\bhook\s+(\S+)", line)
                chains[line[1:].split(";")[0]] = m.group(1) if m else "input"
            elif line.startswith("*"):
                fam, _, names = (parts + ["", ""])[:3]
                for c in names.split(","):
                    targets.append((fam[1:], c.strip()))
            elif line.startswith("!") and ok:
                name, _, spec = parts[0][1:].strip().partition(" ")
                sets[name] = spec.strip()
            elif line.startswith("?") and ok:
                name, _, elems = parts[0][1:].strip().partition(" ")
                for e in re.split(r",\s*(?![^{]*\})", elems.strip()):
                    if e and e not in elements[name]:
                        elements[name].append(e)
            elif line.startswith("%") and ok:
                name, _, rest = parts[0][1:].strip().partition(" ")
                objects[name] = rest.strip()
            elif line and not line.startswith(("#", "-", "!", "?", "%")) and ok:
                lines.append(parts[0].strip())
        # the file's own names, renamed per file so files can share a ruleset
        prefix = "f%d_" % n
        defs = {}
        for name, spec in sets.items():
            text = jit_set_text(prefix + name, spec, elements.get(name, []))
            if text:
                defs[name] = text
        for name, rest in objects.items():
            text = jit_definition("%", prefix + name, rest)
            if text:
                defs[name] = text
        seen_targets = set()
        for fam, chain in targets:
            hook = chains.get(chain, "input")
            key = (fam, jit_chain(fam, hook)[1])
            if key in seen_targets:
                continue
            seen_targets.add(key)
            for rule in lines:
                used = []
                def rename(m):
                    if m.group(1) in defs:
                        used.append(m.group(1))
                        return "@" + prefix + m.group(1)
                    return m.group(0)
                text = re.sub(r"@([A-Za-z_][A-Za-z0-9_]*)", rename, rule)
                # named objects: counter name x, quota name x, limit name x, ct helper set "x", ...
                def rename_obj(m):
                    if m.group(2) in defs:
                        used.append(m.group(2))
                        return m.group(1) + prefix + m.group(2)
                    return m.group(0)
                text = re.sub(r"\b((?:counter|quota|limit|synproxy|secmark) name \"?)([A-Za-z_][A-Za-z0-9_]*)", rename_obj, text)
                text = re.sub(r"\b(ct (?:helper|timeout|expectation) set \"?)([A-Za-z_][A-Za-z0-9_]*)", rename_obj, text)
                groups[key].append((os.path.relpath(path, corpus), with_counter(text),
                                    tuple(defs[u] for u in dict.fromkeys(used))))
    return groups, skipped


def jit_ruleset_text(family, header, items, terminal):
    defs = []
    for _, _, d in items:
        for x in d:
            if x not in defs:
                defs.append(x)
    rules = []
    for i, (_, rule, _) in enumerate(items):
        if terminal and not VERDICT.search(rule) and not TERMINAL.search(rule):
            rule += " accept" if i % 2 == 0 else " drop"
        rules.append(rule)
    body = "".join("\t\t%s\n" % r for r in rules)
    return "table %s t {\n%s\tchain c {\n\t\t%s\n%s\t}\n}\n" % (
        family, "".join("\t%s\n" % d for d in defs), header, body)


def nfx_accepts_text(nfx, path, text, work):
    """Whether nfx loads the ruleset text, and its diagnostics."""
    rs = os.path.join(work, "check.nft")
    with open(rs, "w") as f:
        f.write(text)
    pcap = os.path.join(work, "empty.pcap")
    if not os.path.exists(pcap):
        with open(pcap, "wb") as f:
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    r = subprocess.run([nfx, "eval", rs, pcap, "--path", path], capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def jit_keep_accepted(items, family, header, accepts):
    """The items nfx loads: the rules its diagnostics name (check.nft:LINE:)
    are left out and the rest tried again, which takes a few runs of nfx
    where halving takes one per refused rule and level (slow in the
    sanitizer build); halving when a diagnostic names no rule."""
    keep, refused = list(items), []
    while keep:
        ok, why = accepts(jit_ruleset_text(family, header, keep, False))
        if ok:
            return keep, refused
        lines = {int(m) for m in re.findall(r"check\.nft:(\d+):", why)}
        defs = []
        for _, _, d in keep:
            for x in d:
                if x not in defs:
                    defs.append(x)
        bad_defs = {defs[n - 2] for n in lines if 2 <= n < 2 + len(defs)}
        first = len(defs) + 4  # table, the definitions, chain, its header
        out = [i for i, (_, _, d) in enumerate(keep) if first + i in lines or bad_defs.intersection(d)]
        if not out:
            k, r = keep_accepted(keep, lambda its: accepts(jit_ruleset_text(family, header, its, False))[0])
            return k, refused + r
        refused += [keep[i] for i in out]
        keep = [x for i, x in enumerate(keep) if i not in set(out)]
    return keep, refused


def finish(a, work, ran, skipped, refused, failed):
    """Both modes end alike: what did not run and why, the --min-run bar,
    the work folder kept only when asked or when something failed."""
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


def main_jit(a, nfx, difftest, corpus):
    if not os.path.isdir(os.path.join(corpus, "nftables", "py")):
        sys.exit("corpus_feed: %s has no nftables/py" % corpus)
    work = a.work or tempfile.mkdtemp(prefix="nfx-jit-corpus-")
    os.makedirs(work, exist_ok=True)
    groups, skipped = jit_corpus(corpus)
    ran = cases = 0
    lines_ran = set()
    failed = False
    refused = []
    totals = collections.Counter()
    for (family, header), items in sorted(groups.items()):
        path = jit_chain(family, re.search(r"hook (\S+)", header).group(1))[0]
        ok, nfx_refused = [], []
        for i in range(0, len(items), a.chunk):
            k, r = jit_keep_accepted(items[i:i + a.chunk], family, header,
                                     lambda text: nfx_accepts_text(nfx, path, text, work))
            ok += k
            nfx_refused += r
        skipped["nfx refuses it (%s)" % family] += len(nfx_refused)
        refused += [(family, r[1], "nfx") for r in nfx_refused]
        for n, i in enumerate(range(0, len(ok), a.chunk)):
            chunk = ok[i:i + a.chunk]
            hook = re.search(r"hook (\S+)", header).group(1)
            for terminal in (False, True):
                tag = "%s-%s-%d%s" % (family, hook, n, "-v" if terminal else "")
                rs = os.path.join(work, tag + ".nft")
                with open(rs, "w") as f:
                    f.write(jit_ruleset_text(family, header, chunk, terminal))
                variant = "all" if a.variants == "all" else str((n * 2 + terminal) % 4)
                r = subprocess.run([difftest, "--against", "jit", "--ruleset", rs, "--path", path,
                                    "--frames", str(a.frames), "--seed", str(1000 + n), "--jit-variant", variant,
                                    "--work", os.path.join(work, tag)], capture_output=True, text=True)
                total = next((l for l in r.stdout.splitlines() if l.startswith("total:")), r.stderr.strip())
                m = re.match(r"total: (\d+) cases, (\d+) frames .*?(\d+) mismatches", total)
                if m:
                    totals["cases"] += int(m.group(1))
                    totals["frames"] += int(m.group(2))
                    totals["mismatches"] += int(m.group(3))
                print("%s %s rules %d-%d%s: %s" % (family, hook, i + 1, i + len(chunk),
                                                   " (with verdicts)" if terminal else "", total.split(": ", 1)[-1]))
                if r.returncode != 0:
                    failed = True
                    print(r.stdout[-20000:])
                    print(r.stderr[-2000:])
                cases += 1
            ran += len(chunk)
            lines_ran.update((src, rule) for src, rule, _ in chunk)
    placements = sum(len(items) for items in groups.values())
    distinct = len({(src, rule) for items in groups.values() for src, rule, _ in items})
    print("jit corpus: %d of %d rule placements in %d family/chain groups (%d of %d distinct lines), %d rulesets, "
          "%d runs of %d frames in all, %d mismatches" % (ran, placements, len(groups), len(lines_ran), distinct, cases,
                                                          totals["cases"], totals["frames"], totals["mismatches"]))
    finish(a, work, ran, skipped, refused, failed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("args", nargs="+", metavar="NFX NFX_DIFFTEST [NFX_KERNEL_ORACLE] CORPUS")
    ap.add_argument("--against", choices=["kernel", "jit"], default="kernel")
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=40)
    ap.add_argument("--min-run", type=int, default=600)
    ap.add_argument("--work")
    ap.add_argument("--show-skipped", action="store_true")
    ap.add_argument("--variants", choices=["all", "rotate"], default="all",
                    help="jit: every chunk under every JIT variant, or one each in turn (the sanitizer build)")
    a = ap.parse_args()
    if a.against == "jit":
        if len(a.args) != 3:
            ap.error("--against jit takes NFX NFX_DIFFTEST CORPUS")
        return main_jit(a, *a.args)
    if len(a.args) != 4:
        ap.error("takes NFX NFX_DIFFTEST NFX_KERNEL_ORACLE CORPUS")
    a.nfx, a.difftest, a.oracle, a.corpus = a.args
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
    finish(a, work, ran, skipped, refused, failed)


if __name__ == "__main__":
    main()
