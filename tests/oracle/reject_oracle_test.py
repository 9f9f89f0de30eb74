#!/usr/bin/python3
"""Differential test of `reject`: the same rulesets and frames through the
kernel (nfx_kernel_oracle --replies) and through `nfx eval --replies`; the
verdicts must agree and the reply frames must be equal byte for byte after
the normalisations below, each of which stands for something nfx cannot
know:

  - replies the IP stack routes (ip, ip6 and inet tables; not netdev's,
    which are built whole): the Ethernet destination. The
    kernel routes its replies (here to the inside gateway 02:6e:66:78:00:04,
    by the oracle's policy route); nfx has no routing table yet and sends
    the reply back to the frame's source MAC. The source MAC is compared: it
    is tap0's MAC in both (nfx eval is told it with --iif-mac, and its
    addresses with --iif-addr for the source of ICMP errors).
  - the IPv4 id of ICMP errors sent by icmp_send: the kernel draws it from its
    IP id generator (a keyed hash), nfx puts 0. The header checksum is
    recomputed after zeroing it.

Nothing else is normalised: ICMPv6 errors carry flow label 0 here (measured;
icmp6_send's error gets no automatic flow label although
net.ipv6.auto_flowlabels is 1), and resets have IPv4 id 0.

Known differences, left out of the cases: an IPv4 packet with a Record Route
or Timestamp option that has room gets it filled in by ip_options_compile
before the input and forward hooks, with the header checksum fixed only
later; reject's checksum check (nf_ip_checksum sums from the IP header) then
fails and the kernel sends nothing (measured), where nfx, which does not
rewrite options, replies. At prerouting (options not yet processed) both
reply alike. Bridge reject cannot be compared: this kernel has none.

usage: reject_oracle_test.py PATH/TO/nfx_kernel_oracle PATH/TO/nfx
Needs root and Debian's python3-scapy (run with /usr/bin/python3); fails
loudly without them.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

if os.geteuid() != 0:
    sys.exit("reject_oracle_test: needs root (the kernel oracle creates a network namespace and TAP devices)")
try:
    from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                           IPOption_NOP, IPOption_RR, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                           PcapReader, raw, wrpcap)
except ImportError:
    sys.exit("reject_oracle_test: scapy is missing for %s; install python3-scapy and run with /usr/bin/python3"
             % sys.executable)

TAP0_MAC = "02:6e:66:78:00:01"
HOST = "02:00:00:00:00:aa"
OTHER = "02:00:00:00:00:bb"
IIF_ADDRS = ["198.18.0.1", "fd6e:6678::1"]

E = Ether(src=HOST, dst=TAP0_MAC)
BCAST = Ether(src=HOST, dst="ff:ff:ff:ff:ff:ff")
BRIDGED = Ether(src=HOST, dst=OTHER)


def pad(frame, n=60):
    b = raw(frame)
    return Ether(b + b"\0" * (n - len(b))) if len(b) < n else frame


def v4_frames(dst, eth=E):
    """IPv4 frames to `dst` covering what reject must tell apart."""
    ip = lambda **kw: IP(src="10.0.0.1", dst=dst, **kw)
    return [
        eth / ip() / UDP(sport=1000, dport=53) / b"query",
        eth / ip() / TCP(sport=1000, dport=23, flags="S", seq=1000),
        eth / ip() / TCP(sport=1000, dport=23, flags="A", seq=5, ack=777) / b"data",
        eth / ip() / TCP(sport=1000, dport=23, flags="FA", seq=9, ack=3) / b"bye",
        eth / ip() / TCP(sport=1000, dport=23, flags="R", seq=9),
        eth / ip() / TCP(sport=1000, dport=23, flags="S", chksum=0x1234),
        eth / ip() / UDP(sport=1000, dport=53, chksum=0x1234) / b"bad",
        eth / ip() / UDP(sport=1000, dport=53, chksum=0) / b"nocsum",
        eth / ip(tos=0xb9) / UDP(sport=1000, dport=53) / (b"x" * 1000),
        eth / ip() / ICMP(type=8) / b"ping",
        eth / ip() / ICMP(type=3, code=1) / raw(IP(src=dst, dst="10.0.0.1") / UDP()),
        eth / ip() / ICMP(type=11) / raw(IP(src=dst, dst="10.0.0.1") / UDP()),
        eth / ip() / ICMP(type=40),
        eth / ip(flags="MF", id=7) / UDP(sport=1000, dport=53) / (b"f" * 32),
        eth / ip(frag=4, id=7) / (b"g" * 16),
        eth / ip(proto=253) / (b"\xff\xff" * 8),
        eth / ip(proto=253) / b"anything",
        pad(eth / ip() / UDP(sport=1000, dport=53) / b"p"),
        pad(eth / ip() / TCP(sport=1000, dport=23, flags="S", seq=1)),
    ]


def v6_frames(dst, eth=E):
    ip = lambda **kw: IPv6(src="2001:db8::1", dst=dst, **kw)
    return [
        eth / ip() / UDP(sport=1000, dport=53) / b"query",
        eth / ip() / TCP(sport=1000, dport=23, flags="S", seq=1000),
        eth / ip() / TCP(sport=1000, dport=23, flags="PA", seq=5, ack=777) / b"data",
        eth / ip() / TCP(sport=1000, dport=23, flags="R"),
        eth / ip() / TCP(sport=1000, dport=23, flags="S", chksum=0x1234),
        eth / ip() / UDP(sport=1000, dport=53, chksum=0) / b"nocsum",
        eth / ip() / UDP(sport=1000, dport=53) / (b"x" * 1400),
        eth / ip() / ICMPv6EchoRequest(data=b"ping"),
        eth / ip() / ICMPv6DestUnreach() / raw(IPv6(src=dst, dst="2001:db8::1") / UDP()),
        eth / ip() / ICMPv6PacketTooBig() / raw(IPv6(src=dst, dst="2001:db8::1") / UDP()),
        eth / ip() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=1000, dport=53) / b"ext",
        eth / ip() / IPv6ExtHdrFragment(m=1, id=7) / UDP(sport=1000, dport=53) / (b"f" * 32),
        eth / ip() / IPv6ExtHdrFragment(offset=4, id=7, nh=17) / (b"g" * 16),
        pad(eth / ip() / UDP(sport=1000, dport=53) / b"p", 80),
    ]


def both(dst4, dst6, eth=E):
    return v4_frames(dst4, eth) + v6_frames(dst6, eth)


FWD4, FWD6 = "192.0.2.9", "2001:db8:9::9"
IN4, IN6 = "198.18.0.1", "fd6e:6678::1"

CASES = [
    ("ip forward: reject, tcp reset", "forward", """table ip t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\treject
\t}
}
""", v4_frames(FWD4)),
    ("ip input: codes, tcp reset, broadcast MAC and address", "input", """table ip t {
\tchain i {
\t\ttype filter hook input priority 0; policy drop;
\t\ttcp dport 23 reject with tcp reset
\t\tudp dport 53 reject with icmp type host-unreachable
\t\treject with icmp type admin-prohibited
\t}
}
""", v4_frames(IN4) + [BCAST / IP(src="10.0.0.1", dst=IN4) / UDP(sport=1, dport=53),
                        BCAST / IP(src="10.0.0.1", dst=IN4) / TCP(sport=1, dport=23),
                        BCAST / IP(src="10.0.0.1", dst="255.255.255.255") / TCP(sport=1, dport=23),
                        E / IP(src="10.0.0.1", dst=IN4, options=[IPOption_NOP()] * 4) / TCP(sport=1, dport=23)]),
    ("ip prerouting, input topology: before routing", "input", """table ip t {
\tchain p {
\t\ttype filter hook prerouting priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\treject with icmp type net-prohibited
\t}
}
""", v4_frames(IN4) + [BCAST / IP(src="10.0.0.1", dst=IN4) / UDP(sport=1, dport=53),
                        BCAST / IP(src="10.0.0.1", dst=IN4) / TCP(sport=1, dport=23),
                        E / IP(src="10.0.0.1", dst="255.255.255.255") / UDP(sport=1, dport=53),
                        E / IP(src="10.0.0.1", dst="224.0.0.9") / TCP(sport=1, dport=23)]),
    ("ip forward: IP options", "forward", """table ip t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\treject
\t}
}
""", [E / IP(src="10.0.0.1", dst=FWD4, options=[IPOption_NOP()] * 4) / UDP(sport=1, dport=53) / b"nops"]),
    ("ip6 forward: reject, admin-prohibited, tcp reset", "forward", """table ip6 t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\tudp dport 53 reject with icmpv6 type admin-prohibited
\t\treject
\t}
}
""", v6_frames(FWD6)),
    ("ip6 input: tcp reset, addr-unreachable", "input", """table ip6 t {
\tchain i {
\t\ttype filter hook input priority 0; policy drop;
\t\tmeta l4proto tcp reject with tcp reset
\t\treject with icmpv6 type addr-unreachable
\t}
}
""", v6_frames(IN6)),
    ("inet forward: icmpx and per-family codes", "forward", """table inet t {
\tchain f {
\t\ttype filter hook forward priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\tmeta nfproto ipv4 udp dport 53 reject with icmp type net-unreachable
\t\tmeta nfproto ipv6 udp dport 53 reject with icmpv6 type no-route
\t\treject with icmpx type admin-prohibited
\t}
}
""", both(FWD4, FWD6)),
    ("inet input: reject", "input", """table inet t {
\tchain i {
\t\ttype filter hook input priority 0; policy drop;
\t\treject
\t}
}
""", both(IN4, IN6)),
    ("inet prerouting: reject before routing", "forward", """table inet t {
\tchain p {
\t\ttype filter hook prerouting priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\treject with icmpx type host-unreachable
\t}
}
""", both(FWD4, FWD6)),
    ("the reply meets the output hook", "input", """table inet t {
\tchain i {
\t\ttype filter hook input priority 0; policy drop;
\t\ttcp dport 23 reject with tcp reset
\t\treject
\t}
\tchain o {
\t\ttype filter hook output priority 0; policy accept;
\t\ttcp flags rst drop
\t\ticmp code admin-prohibited drop
\t}
}
""", both(IN4, IN6)),
    ("netdev ingress, routed topology", "forward", """table netdev n {
\tchain in {
\t\ttype filter hook ingress device "tap0" priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\tip protocol udp reject with icmp type host-unreachable
\t\treject
\t}
}
""", both(FWD4, FWD6) + [BCAST / IP(src="10.0.0.1", dst=FWD4) / TCP(sport=1, dport=23),
                          E / Dot1Q(vlan=5, prio=3) / IP(src="10.0.0.1", dst=FWD4) / TCP(sport=1, dport=23)]),
    ("netdev ingress, bridge topology", "bridge", """table netdev n {
\tchain in {
\t\ttype filter hook ingress device "tap0" priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\treject with icmpx type no-route
\t}
}
""", both(FWD4, FWD6, BRIDGED)),
    ("inet ingress: the stack's reject before prerouting", "forward", """table inet t {
\tchain in {
\t\ttype filter hook ingress device "tap0" priority 0; policy accept;
\t\ttcp dport 23 reject with tcp reset
\t\treject
\t}
}
""", both(FWD4, FWD6)),
]


def read_pcap(path):
    """{packet number: [frame bytes, ...]} from a pcap stamped number.index."""
    out = {}
    with PcapReader(path) as r:
        for p in r:
            sec = int(p.time)
            out.setdefault(sec, []).append(bytes(p))
    return out


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def normalise(frame, routed):
    """The named normalisations (see the module docstring)."""
    b = bytearray(frame)
    if routed:
        b[0:6] = b"\0" * 6
    if len(b) >= 34 and b[12:14] == b"\x08\x00" and b[23] == 1 and routed:
        ihl = (b[14] & 0xf) * 4
        if len(b) > 14 + ihl and b[14 + ihl] in (3, 11, 12):  # icmp_send's errors
            b[18:20] = b"\0\0"
            b[24:26] = b"\0\0"
            b[24:26] = struct.pack("!H", csum(bytes(b[14:14 + ihl])))
    return bytes(b)


def run_case(name, path, ruleset, frames, oracle, nfx, tmp):
    routed = not name.startswith("netdev")  # netdev replies are built whole, not routed
    rs = os.path.join(tmp, "r.nft")
    with open(rs, "w") as f:
        f.write(ruleset)
    pc = os.path.join(tmp, "in.pcap")
    wrpcap(pc, frames, linktype=1)
    kr, nr = os.path.join(tmp, "k.pcap"), os.path.join(tmp, "n.pcap")
    k = subprocess.run([oracle, "--ruleset", rs, "--pcap", pc, "--path", path, "--replies", kr],
                       capture_output=True, text=True, timeout=300)
    if k.returncode != 0:
        raise SystemExit("%s: nfx_kernel_oracle failed (%d): %s" % (name, k.returncode, k.stderr))
    args = [nfx, "eval", rs, pc, "--path", path, "--iif", "tap0", "--oif", "tap1", "--json", "--replies", nr]
    for a in IIF_ADDRS:
        args += ["--iif-addr", a]
    args += ["--iif-mac", TAP0_MAC]
    n = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if n.returncode != 0:
        raise SystemExit("%s: nfx eval failed (%d): %s" % (name, n.returncode, n.stderr))
    kv = [json.loads(l)["verdict"] for l in k.stdout.splitlines() if '"packet"' in l]
    nv = [json.loads(l)["verdict"] for l in n.stdout.splitlines() if '"packet"' in l]
    krep, nrep = read_pcap(kr), read_pcap(nr)
    mismatches = []
    for i in range(1, len(frames) + 1):
        if kv[i - 1] != nv[i - 1]:
            mismatches.append("packet %d: kernel %s, nfx %s" % (i, kv[i - 1], nv[i - 1]))
        kf = [normalise(f, routed) for f in krep.get(i, [])]
        nf = [normalise(f, routed) for f in nrep.get(i, [])]
        if kf != nf:
            mismatches.append("packet %d (%s): replies differ\n    kernel: %s\n    nfx:    %s"
                              % (i, frames[i - 1].summary(), [f.hex() for f in kf], [f.hex() for f in nf]))
    replies = sum(len(v) for v in krep.values())
    print("%-55s %3d frames, %3d replies, %d mismatches" % (name, len(frames), replies, len(mismatches)))
    for m in mismatches:
        print("  " + m)
    return len(frames), replies, len(mismatches)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    oracle, nfx = (os.path.abspath(a) for a in sys.argv[1:])
    totals = [0, 0, 0]
    only = os.environ.get("REJECT_CASE")
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if only and only not in case[0]:
                continue
            for i, v in enumerate(run_case(*case, oracle, nfx, tmp)):
                totals[i] += v
    print("total: %d frames, %d replies, %d mismatches" % tuple(totals))
    if totals[2]:
        sys.exit("reject_oracle_test: %d mismatches between the kernel and nfx" % totals[2])


if __name__ == "__main__":
    main()
