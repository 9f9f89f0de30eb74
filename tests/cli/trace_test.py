# nfx eval's trace against what the kernel and nft 1.0.6 printed for the
# same frames and rulesets (`nft monitor trace`, recorded in *.expected; see
# README.md). Trace ids differ by design (the kernel's are random), so they
# are compared for consistency, not value.
import os
import re
import subprocess
import sys
import tempfile

NFX = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))

ID = re.compile(r"^trace id ([0-9a-f]{8}) ")
failures = []


def nfx_eval(ruleset, pcap, *args):
    r = subprocess.run([NFX, "eval", os.path.join(HERE, ruleset), pcap, "--iif", "v0", *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{ruleset}: nfx eval failed: {r.stderr}")
    return r.stdout


def trace_lines(text):
    return [l for l in text.splitlines() if l.startswith("trace id ")]


def blank_ids(lines):
    return [ID.sub("trace id X ", l) for l in lines]


def check_ids(name, lines):
    # one id per packet, a new one for each packet
    ids = []
    for l in lines:
        i = ID.match(l).group(1)
        if not ids or ids[-1] != i:
            ids.append(i)
    if len(ids) != len(set(ids)):
        failures.append(f"{name}: a trace id repeats across packets: {ids}")
    return ids


with tempfile.TemporaryDirectory() as tmp:
    pcap = os.path.join(tmp, "frames.pcap")
    subprocess.run([sys.executable, os.path.join(HERE, "trace_frames.py"), pcap], check=True)

    for case in ("trace_ip", "trace_inet"):
        got = trace_lines(nfx_eval(case + ".nft", pcap))
        with open(os.path.join(HERE, case + ".expected")) as f:
            want = trace_lines(f.read())
        ids = check_ids(case, got)
        if blank_ids(got) != blank_ids(want):
            for g, w in zip(blank_ids(got) + [""] * len(want), blank_ids(want) + [""] * len(got)):
                if g != w:
                    failures.append(f"{case}: first difference\n  nfx:    {g!r}\n  kernel: {w!r}")
                    break
        again = trace_lines(nfx_eval(case + ".nft", pcap))
        if again != got:
            failures.append(f"{case}: trace ids are not deterministic")
        if len(ids) != len(check_ids(case + ".expected", want)):
            failures.append(f"{case}: {len(ids)} packets traced, the kernel traced {len(want)}")

    # Without nftrace, nothing is traced unless --trace asks for every packet.
    plain = os.path.join(tmp, "plain.nft")
    with open(plain, "w") as f:
        f.write("table ip t {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n"
                "\t\ttcp dport 22 drop\n\t}\n}\n")
    if trace_lines(nfx_eval(plain, pcap)):
        failures.append("plain: traced without nftrace and without --trace")
    every = trace_lines(nfx_eval(plain, pcap, "--trace"))
    want_first = [
        'trace id X ip t in packet: iif "v0" ether saddr 02:00:00:00:00:02 ether daddr 02:00:00:00:00:01 '
        'ip saddr 10.0.0.2 ip daddr 10.0.0.1 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 1 ip length 40 '
        'tcp sport 40000 tcp dport 22 tcp flags == syn tcp window 64240 ',
        "trace id X ip t in rule tcp dport 22 drop (verdict drop)",
        'trace id X ip t in packet: iif "v0" ether saddr 02:00:00:00:00:02 ether daddr 02:00:00:00:00:01 '
        'ip saddr 10.0.0.2 ip daddr 10.0.0.1 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 2 ip length 33 '
        'udp sport 5353 udp dport 53 udp length 13 @th,64,40 0x68656c6c6f ',
        "trace id X ip t in policy accept ",
    ]
    if blank_ids(every)[:4] != want_first:
        failures.append("plain --trace: got\n  " + "\n  ".join(blank_ids(every)[:4]))
    if len(check_ids("plain --trace", every)) != 7:  # the seven IPv4 frames reach the ip table
        failures.append(f"plain --trace: expected 7 traced packets, got {len(check_ids('plain', every))}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
