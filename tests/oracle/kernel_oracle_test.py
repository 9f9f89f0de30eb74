#!/usr/bin/python3
"""Tests for nfx_kernel_oracle: tiny rulesets, a handful of scapy-made frames,
the verdicts, counters and output frames the kernel must produce.

usage: kernel_oracle_test.py PATH/TO/nfx_kernel_oracle
Needs root and Debian's python3-scapy (run with /usr/bin/python3); fails
loudly without them rather than skipping.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ORACLE = None

if os.geteuid() != 0:
    sys.exit("kernel_oracle_test: needs root (the oracle creates a network namespace and TAP devices)")
try:
    from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6, raw,
                           rdpcap, wrpcap)
except ImportError:
    sys.exit("kernel_oracle_test: scapy is missing for %s; install python3-scapy and run with /usr/bin/python3"
             % sys.executable)

TAP0_MAC = "02:6e:66:78:00:01"
TAP1_MAC = "02:6e:66:78:00:02"
OUT_GW_MAC = "02:6e:66:78:00:03"
IN_GW_MAC = "02:6e:66:78:00:04"
HOST = "02:00:00:00:00:aa"


class Run:
    def __init__(self, proc, lines, out, replies):
        self.proc, self.out, self.replies = proc, out, replies
        self.verdicts = [l["verdict"] for l in lines if "packet" in l]
        self.numbers = [l["packet"] for l in lines if "packet" in l]
        self.counters = next((l["counters"] for l in lines if "counters" in l), None)
        self.conntrack = next((l["conntrack"] for l in lines if "conntrack" in l), None)

    def counter(self, chain, handle_index):
        """packets of the handle_index-th counted rule of chain (0-based)."""
        rules = [c for c in self.counters if c.get("chain") == chain and "counter" in c]
        return rules[handle_index]["counter"]["packets"]


def oracle(ruleset, frames, path, *extra, out=False, replies=False, expect_ok=True):
    with tempfile.TemporaryDirectory() as d:
        rs, pc = os.path.join(d, "r.nft"), os.path.join(d, "in.pcap")
        with open(rs, "w") as f:
            f.write(ruleset)
        wrpcap(pc, frames, linktype=1)
        args = [ORACLE, "--ruleset", rs, "--pcap", pc, "--path", path, *extra]
        if out:
            args += ["--out", os.path.join(d, "out.pcap")]
        if replies:
            args += ["--replies", os.path.join(d, "replies.pcap")]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if expect_ok and proc.returncode != 0:
            raise AssertionError("oracle failed (%d): %s" % (proc.returncode, proc.stderr))
        lines = [json.loads(l) for l in proc.stdout.splitlines()] if proc.returncode == 0 else []
        read = lambda name: [raw(p) for p in rdpcap(os.path.join(d, name))] if proc.returncode == 0 else []
        return Run(proc, lines, read("out.pcap") if out else None, read("replies.pcap") if replies else None)


class Bridge(unittest.TestCase):
    RULESET = """table bridge t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\tip saddr 10.0.0.1 counter drop
\t\tcounter
\t}
}
"""

    def test_verdicts_counters_and_output(self):
        e = Ether(src=HOST, dst="02:00:00:00:00:bb")
        frames = [e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=53),
                  e / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=53, dport=1000),
                  e / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1, dport=80),
                  Ether(src=HOST, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.2", pdst="10.0.0.1"),
                  e / IP(src="10.0.0.1", dst="10.0.0.3") / ICMP()]
        r = oracle(self.RULESET, frames, "bridge", "--counters", out=True)
        self.assertEqual(r.numbers, [1, 2, 3, 4, 5])
        self.assertEqual(r.verdicts, ["drop", "accept", "accept", "accept", "drop"])
        self.assertEqual(r.counter("f", 0), 2)
        self.assertEqual(r.counter("f", 1), 3)
        # A bridge forwards frames unchanged, in order.
        self.assertEqual(r.out, [raw(frames[i]) for i in (1, 2, 3)])

    def test_markers_pass_drop_policies_everywhere(self):
        # Policy drop on the ingress device and on the bridge forward hook,
        # two forward chains: only 10.0.0.2 gets through, and nothing hangs.
        ruleset = """table netdev n {
\tchain in {
\t\ttype filter hook ingress device "tap0" priority 0; policy drop;
\t\tip saddr { 10.0.0.2, 10.0.0.3 } counter accept
\t}
}
table bridge a {
\tchain f1 {
\t\ttype filter hook forward priority -10; policy drop;
\t\tip saddr 10.0.0.2 counter accept
\t\tip saddr 10.0.0.3 counter accept
\t}
\tchain f2 {
\t\ttype filter hook forward priority 10; policy accept;
\t\tip saddr 10.0.0.3 counter drop
\t}
}
"""
        e = Ether(src=HOST, dst="02:00:00:00:00:bb")
        frames = [e / IP(src="10.0.0.%d" % i, dst="10.9.9.9") / UDP(sport=1, dport=2) for i in (1, 2, 3, 2)]
        r = oracle(ruleset, frames, "bridge", "--counters")
        self.assertEqual(r.verdicts, ["drop", "accept", "drop", "accept"])
        self.assertEqual(r.counter("in", 0), 3)
        self.assertEqual([r.counter("f1", i) for i in (0, 1)], [2, 1])
        self.assertEqual(r.counter("f2", 0), 1)

    def test_quota(self):
        ruleset = """table bridge t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\tquota over 100 bytes counter drop
\t}
}
"""
        e = Ether(src=HOST, dst="02:00:00:00:00:bb")
        frames = [e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / (b"x" * 22)] * 3
        r = oracle(ruleset, frames, "bridge", "--counters")
        # Bridge quotas count from the network header: 50 bytes a frame; the
        # quota is over only once more than 100 bytes went through, and nft
        # lists the used bytes capped at the quota.
        self.assertEqual(r.verdicts, ["accept", "accept", "drop"])
        (entry,) = r.counters
        self.assertEqual(entry["quota"], {"bytes": 100, "used": 100, "inv": True})
        self.assertEqual(entry["counter"], {"packets": 1, "bytes": 50})

    def test_replies_back_out_of_tap0(self):
        # A netdev reject on the bridge port answers out of that port; the
        # bridge itself sends nothing back.
        ruleset = """table netdev n {
\tchain in {
\t\ttype filter hook ingress device "tap0" priority 0; policy accept;
\t\tudp dport 7 reject
\t}
}
"""
        e = Ether(src=HOST, dst="02:00:00:00:00:bb")
        frames = [e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=7),
                  e / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=8),
                  Ether(src=HOST, dst="ff:ff:ff:ff:ff:ff") / IP(src="10.0.0.1", dst="10.0.0.2") /
                  UDP(sport=1000, dport=7)]
        r = oracle(ruleset, frames, "bridge", out=True, replies=True)
        self.assertEqual(r.verdicts, ["drop", "accept", "drop"])
        self.assertEqual(len(r.replies), 1)
        reply = Ether(r.replies[0])
        self.assertEqual((reply.src, reply.dst), ("02:00:00:00:00:bb", HOST))
        self.assertEqual((reply[IP].src, reply[ICMP].type, reply[ICMP].code), ("10.0.0.2", 3, 3))


class Forward(unittest.TestCase):
    RULESET = """table inet t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\ttcp dport 22 counter drop
\t\ttcp dport 23 counter reject with tcp reset
\t\tcounter
\t}
}
"""

    def test_routed_frames_and_replies(self):
        e = Ether(src=HOST, dst=TAP0_MAC)
        frames = [e / IP(src="10.0.0.1", dst="192.0.2.9", ttl=64) / UDP(sport=1000, dport=53),
                  e / IPv6(src="2001:db8::1", dst="2001:db8:9::9", hlim=64) / TCP(sport=1000, dport=80),
                  e / IP(src="10.0.0.1", dst="192.0.2.9") / TCP(sport=1000, dport=22),
                  e / IP(src="10.0.0.1", dst="192.0.2.9") / TCP(sport=1000, dport=23),
                  e / IP(src="10.0.0.1", dst="192.0.2.9", ttl=1) / UDP(sport=1000, dport=53),
                  Ether(src=HOST, dst="02:00:00:00:00:bb") / IP(src="10.0.0.1", dst="192.0.2.9") / UDP()]
        r = oracle(self.RULESET, frames, "forward", "--counters", out=True, replies=True)
        self.assertEqual(r.verdicts, ["accept", "accept", "drop", "drop", "drop", "drop"])
        self.assertEqual([r.counter("f", i) for i in range(3)], [1, 1, 2])
        # Routed: MACs rewritten, TTL / hop limit decremented.
        v4, v6 = Ether(r.out[0]), Ether(r.out[1])
        self.assertEqual((v4.src, v4.dst, v4[IP].ttl), (TAP1_MAC, OUT_GW_MAC, 63))
        self.assertEqual((v6.src, v6.dst, v6[IPv6].hlim), (TAP1_MAC, OUT_GW_MAC, 63))
        self.assertEqual(len(r.out), 2)
        # What the kernel sent back: a TCP reset for port 23, time exceeded for TTL 1.
        self.assertEqual(len(r.replies), 2)
        rst, icmp = Ether(r.replies[0]), Ether(r.replies[1])
        self.assertEqual(rst.dst, IN_GW_MAC)
        self.assertTrue(rst[TCP].flags.R)
        self.assertEqual((rst[IP].src, rst[IP].dst, rst[TCP].sport), ("192.0.2.9", "10.0.0.1", 23))
        self.assertEqual((icmp[ICMP].type, icmp[IP].src), (11, "198.18.0.1"))

    def test_markers_leave_no_conntrack_entries(self):
        ruleset = """table ip t {
\tchain f {
\t\ttype filter hook forward priority 0; policy drop;
\t\tct state new counter accept
\t}
}
"""
        e = Ether(src=HOST, dst=TAP0_MAC)
        there = e / IP(src="10.0.0.1", dst="192.0.2.9") / UDP(sport=1000, dport=53)
        back = e / IP(src="192.0.2.9", dst="10.0.0.1") / UDP(sport=53, dport=1000)
        r = oracle(ruleset, [there, there, back, there], "forward", "--counters", "--conntrack")
        # UDP stays new until the reply direction is seen; then it is established.
        self.assertEqual(r.verdicts, ["accept", "accept", "drop", "drop"])
        self.assertEqual(r.counter("f", 0), 2)
        # One flow, and nothing of the oracle's markers.
        self.assertEqual(len(r.conntrack), 1, r.conntrack)
        self.assertIn("src=10.0.0.1 dst=192.0.2.9", r.conntrack[0])


class Input(unittest.TestCase):
    RULESET = """table inet t {
\tchain i {
\t\ttype filter hook input priority 0; policy drop;
\t\tudp dport 53 counter accept
\t\ticmpv6 type nd-neighbor-solicit counter accept
\t\tcounter
\t}
}
"""

    def test_local_delivery(self):
        e = Ether(src=HOST, dst=TAP0_MAC)
        frames = [e / IP(src="10.0.0.1", dst="198.18.0.1") / UDP(sport=1000, dport=53),
                  e / IP(src="10.0.0.1", dst="198.18.0.1") / UDP(sport=1000, dport=54),
                  e / IP(src="10.0.0.1", dst="198.18.0.1") / ICMP(),
                  e / IPv6(src="2001:db8::1", dst="fd6e:6678::1") / UDP(sport=1000, dport=53),
                  e / IP(src="10.0.0.1", dst="192.0.2.9") / UDP(sport=1000, dport=53),
                  Ether(src=HOST, dst="33:33:ff:00:00:01") / IPv6(src="fe80::aa", dst="ff02::1:ff00:1") /
                  ICMPv6ND_NS(tgt="fd6e:6678::1") / ICMPv6NDOptSrcLLAddr(lladdr=HOST)]
        r = oracle(self.RULESET, frames, "input", "--counters", replies=True)
        # The fifth is forwarded, so it never reaches input.
        self.assertEqual(r.verdicts, ["accept", "drop", "drop", "accept", "drop", "accept"])
        self.assertEqual([r.counter("i", i) for i in range(3)], [2, 1, 2])
        # No socket listens on port 53: the kernel answers port unreachable;
        # the solicitation gets its advertisement.
        self.assertEqual(len(r.replies), 3)
        self.assertEqual((Ether(r.replies[0])[ICMP].type, Ether(r.replies[0])[ICMP].code), (3, 3))
        self.assertEqual(Ether(r.replies[2])[ICMPv6ND_NA].tgt, "fd6e:6678::1")


class Errors(unittest.TestCase):
    def test_ruleset_error_is_shown(self):
        frames = [Ether(src=HOST) / IP() / UDP()]
        r = oracle("table ip t {\n\tchain c {\n\t\tbogus\n\t}\n}\n", frames, "bridge", expect_ok=False)
        self.assertNotEqual(r.proc.returncode, 0)
        self.assertIn("could not load the ruleset", r.proc.stderr)
        self.assertIn("syntax error", r.proc.stderr)

    def test_marker_address_refused(self):
        frames = [Ether(src=HOST, dst=TAP0_MAC) / IP(src="198.19.255.254", dst="192.0.2.9") / UDP()]
        r = oracle("table ip t {\n}\n", frames, "forward", expect_ok=False)
        self.assertNotEqual(r.proc.returncode, 0)
        self.assertIn("marker address", r.proc.stderr)


class Speed(unittest.TestCase):
    def test_report_time_per_frame(self):
        e = Ether(src=HOST, dst=TAP0_MAC)
        frames = [e / IP(src="10.0.%d.%d" % (i // 250, i % 250 + 1), dst="192.0.2.9") / UDP(sport=i, dport=53)
                  for i in range(2000)]
        r = oracle(Forward.RULESET, frames, "forward", "--stats")
        self.assertEqual(r.verdicts, ["accept"] * 2000)
        sys.stderr.write("\n" + r.proc.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ORACLE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
