#!/usr/bin/python3
"""nfx's conntrack against the kernel's: the same frames through a kernel
router (nfx_kernel_oracle, forward path, `ct state invalid drop`) and through
nfx's conntrack table (nfx_conntrack_replay), then compared: each frame's
verdict (dropped when its state is invalid), how many frames had each
state, and the table as `conntrack -L` prints it (timeouts within 3 s, as
the kernel's count down while the test runs).

The flows: a TCP connection's whole life, segments outside the window, a
bad flag combination, a RST answering a SYN, a retransmitted SYN, a
connection picked up mid-stream, a SYN reopening a closed connection, UDP
with a reply and with a bad checksum, ICMP echo and a lone echo reply, ICMP
errors about a known and an unknown flow, GRE and ESP, an SCTP
association (with a wrong verification tag and data out of the blue), and
IPv6 TCP and ICMPv6. All frames enter the router's inside port; replies are routed like
requests, which conntrack does not mind (it goes by tuples).

usage: conntrack_kernel_test.py nfx_kernel_oracle nfx_conntrack_replay
Needs root, conntrack and Debian's python3-scapy (/usr/bin/python3).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

if os.geteuid() != 0:
    sys.exit("conntrack_kernel_test: needs root (the oracle makes a network namespace and TAP devices)")
try:
    from scapy.all import (GRE, ICMP, IP, SCTP, TCP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, Raw,
                           SCTPChunkCookieAck, SCTPChunkCookieEcho, SCTPChunkData, SCTPChunkInit, SCTPChunkInitAck,
                           wrpcap)
except ImportError:
    sys.exit("conntrack_kernel_test: scapy is missing for %s; install python3-scapy, run with /usr/bin/python3"
             % sys.executable)

TAP0_MAC = "02:6e:66:78:00:01"
HOST = "02:00:00:00:00:aa"
C4, S4 = "10.1.0.1", "10.2.0.2"
C6, S6 = "2001:db8:1::1", "2001:db8:2::2"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]

RULESET = """table inet t {
\tchain filter_forward {
\t\ttype filter hook forward priority 0; policy accept;
\t\tct state invalid counter drop
\t\tct state new counter
\t\tct state established counter
\t\tct state related counter
\t}
}
"""


def eth(pkt):
    return Ether(src=HOST, dst=TAP0_MAC) / pkt


def tcp4(a, b, sport, dport, flags, seq, ack=0, payload=b"", opts=None, **kw):
    t = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=502 if opts is None else 64240,
            options=opts or [])
    return eth(IP(src=a, dst=b, **kw) / t / Raw(payload)) if payload else eth(IP(src=a, dst=b, **kw) / t)


def tcp6(a, b, sport, dport, flags, seq, ack=0, payload=b"", opts=None):
    t = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=502 if opts is None else 64240,
            options=opts or [])
    return eth(IPv6(src=a, dst=b) / t / Raw(payload)) if payload else eth(IPv6(src=a, dst=b) / t)


def handshake(tcp, c, s, cport, sport, cisn, sisn):
    return [tcp(c, s, cport, sport, "S", cisn, opts=SYN_OPTS),
            tcp(s, c, sport, cport, "SA", sisn, cisn + 1, opts=SYN_OPTS),
            tcp(c, s, cport, sport, "A", cisn + 1, sisn + 1)]


def frames():
    f = []
    # A connection's whole life.
    f += handshake(tcp4, C4, S4, 40001, 80, 1000, 5000)
    f += [tcp4(C4, S4, 40001, 80, "PA", 1001, 5001, b"x" * 100),
          tcp4(S4, C4, 80, 40001, "A", 5001, 1101),
          tcp4(S4, C4, 80, 40001, "PA", 5001, 1101, b"y" * 300),
          tcp4(C4, S4, 40001, 80, "A", 1101, 5301),
          tcp4(C4, S4, 40001, 80, "FA", 1101, 5301),
          tcp4(S4, C4, 80, 40001, "A", 5301, 1102),
          tcp4(S4, C4, 80, 40001, "FA", 5301, 1102),
          tcp4(C4, S4, 40001, 80, "A", 1102, 5302)]
    # Outside the window, then fine again.
    f += handshake(tcp4, C4, S4, 40002, 443, 7000, 9000)
    f += [tcp4(C4, S4, 40002, 443, "PA", 7001 + 50_000_000, 9001, b"z" * 10),
          tcp4(S4, C4, 443, 40002, "A", 9001, 7001 + 500_000),
          tcp4(C4, S4, 40002, 443, "PA", 7001, 9001, b"z" * 10),
          tcp4(S4, C4, 443, 40002, "A", 9001, 7011)]
    # Bad flags; a RST answering a SYN; a retransmitted SYN.
    f += [tcp4(C4, S4, 40003, 22, "SF", 1),
          tcp4(C4, S4, 40004, 23, "S", 100, opts=SYN_OPTS),
          tcp4(S4, C4, 23, 40004, "RA", 0, 101),
          tcp4(C4, S4, 40005, 25, "S", 200, opts=SYN_OPTS),
          tcp4(C4, S4, 40005, 25, "S", 200, opts=SYN_OPTS)]
    # Picked up mid-stream, answered, continued.
    f += [tcp4(C4, S4, 40006, 8080, "PA", 777000, 999000, b"m" * 20),
          tcp4(S4, C4, 8080, 40006, "A", 999000, 777020),
          tcp4(C4, S4, 40006, 8080, "PA", 777020, 999000, b"m" * 20)]
    # A SYN reopening the first connection (in TIME_WAIT).
    f += [tcp4(C4, S4, 40001, 80, "S", 90000, opts=SYN_OPTS)]
    # UDP: a request, its reply, another request; then a bad checksum.
    f += [eth(IP(src=C4, dst=S4) / UDP(sport=5353, dport=53) / Raw(b"q1")),
          eth(IP(src=S4, dst=C4) / UDP(sport=53, dport=5353) / Raw(b"r1")),
          eth(IP(src=C4, dst=S4) / UDP(sport=5353, dport=53) / Raw(b"q2")),
          eth(IP(src=C4, dst=S4) / UDP(sport=5354, dport=53, chksum=0x1234) / Raw(b"bad"))]
    # ICMP: echo and its reply; a lone echo reply.
    f += [eth(IP(src=C4, dst=S4) / ICMP(type=8, id=77, seq=1) / Raw(b"ping")),
          eth(IP(src=S4, dst=C4) / ICMP(type=0, id=77, seq=1) / Raw(b"ping")),
          eth(IP(src=S4, dst=C4) / ICMP(type=0, id=78, seq=1) / Raw(b"pong"))]
    # ICMP errors: about the UDP flow (related), about a flow nobody has.
    udp_req = IP(src=C4, dst=S4) / UDP(sport=5353, dport=53) / Raw(b"q1")
    f += [eth(IP(src=S4, dst=C4) / ICMP(type=3, code=3) / bytes(udp_req))]
    other = IP(src=C4, dst=S4) / UDP(sport=6000, dport=53) / Raw(b"zz")
    f += [eth(IP(src=S4, dst=C4) / ICMP(type=3, code=3) / bytes(other))]
    # GRE both ways, ESP one way.
    f += [eth(IP(src=C4, dst=S4) / GRE(proto=0x0800) / Raw(b"g" * 20)),
          eth(IP(src=S4, dst=C4) / GRE(proto=0x0800) / Raw(b"g" * 20)),
          eth(IP(src=C4, dst=S4, proto=50) / Raw(b"\x00\x00\x01\x00" + b"e" * 28))]
    # SCTP: an association's four-way handshake and data; data with a wrong
    # verification tag; data out of the blue.
    def sctp(a, b, sport, dport, tag, chunk):
        return eth(IP(src=a, dst=b) / SCTP(sport=sport, dport=dport, tag=tag) / chunk)
    init = dict(a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)
    f += [sctp(C4, S4, 7000, 9, 0, SCTPChunkInit(init_tag=0x1111, **init)),
          sctp(S4, C4, 9, 7000, 0x1111, SCTPChunkInitAck(init_tag=0x2222, **init)),
          sctp(C4, S4, 7000, 9, 0x2222, SCTPChunkCookieEcho(cookie=b"c" * 8)),
          sctp(S4, C4, 9, 7000, 0x1111, SCTPChunkCookieAck()),
          sctp(C4, S4, 7000, 9, 0x2222, SCTPChunkData(tsn=1, data=b"hello")),
          sctp(C4, S4, 7000, 9, 0x9999, SCTPChunkData(tsn=2, data=b"bad")),
          sctp(C4, S4, 7001, 9, 0, SCTPChunkData(tsn=1, data=b"ootb"))]
    # IPv6: a handshake and data; an echo and its reply.
    f += handshake(tcp6, C6, S6, 41000, 80, 3000, 6000)
    f += [tcp6(C6, S6, 41000, 80, "PA", 3001, 6001, b"v6" * 10)]
    f += [eth(IPv6(src=C6, dst=S6) / ICMPv6EchoRequest(id=5, seq=1)),
          eth(IPv6(src=S6, dst=C6) / ICMPv6EchoReply(id=5, seq=1))]
    return f


def run(args):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.exit("conntrack_kernel_test: %s failed (%d):\n%s" % (args[0], proc.returncode, proc.stderr))
    return [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]


TIMEOUT = re.compile(r"^(\S+\s+\d+ )(\d+)( .*)$")


def split_timeout(entry):
    m = TIMEOUT.match(entry)
    if not m:
        sys.exit("conntrack_kernel_test: cannot read the timeout of %r" % entry)
    return m.group(1) + "T" + m.group(3), int(m.group(2))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    oracle, replay = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        rs, pc = os.path.join(d, "r.nft"), os.path.join(d, "in.pcap")
        with open(rs, "w") as fh:
            fh.write(RULESET)
        fs = frames()
        wrpcap(pc, fs, linktype=1)
        kernel = run([oracle, "--ruleset", rs, "--pcap", pc, "--path", "forward", "--counters", "--conntrack"])
        nfx = run([replay, pc])

    problems = []
    kv = [l["verdict"] for l in kernel if "packet" in l]
    nv = [l["verdict"] for l in nfx if "packet" in l]
    for i, (a, b) in enumerate(zip(kv, nv)):
        if a != b:
            problems.append("frame %d (%s): kernel %s, nfx %s" % (i + 1, fs[i].summary(), a, b))
    if len(kv) != len(nv):
        problems.append("frame counts differ: kernel %d, nfx %d" % (len(kv), len(nv)))

    counters = next(l["counters"] for l in kernel if "counters" in l)
    kstates = dict(zip(["invalid", "new", "established", "related"],
                       [c["counter"]["packets"] for c in counters if c.get("chain") == "filter_forward"]))
    nstates = next(l["states"] for l in nfx if "states" in l)
    if kstates != nstates:
        problems.append("states differ: kernel %s, nfx %s" % (kstates, nstates))

    ktable = sorted(split_timeout(e) for e in next(l["conntrack"] for l in kernel if "conntrack" in l))
    ntable = sorted(split_timeout(e) for e in next(l["conntrack"] for l in nfx if "conntrack" in l))
    kkeys, nkeys = [k for k, _ in ktable], [k for k, _ in ntable]
    for k in kkeys:
        if k not in nkeys:
            problems.append("only in the kernel's table: " + k)
    for k in nkeys:
        if k not in kkeys:
            problems.append("only in nfx's table:      " + k)
    for (k, kt), (n, nt) in zip(ktable, ntable):
        if k == n and not (nt - 3 <= kt <= nt):
            problems.append("timeout differs (kernel %d, nfx %d): %s" % (kt, nt, k))

    print("frames: %d; states: kernel %s, nfx %s; entries: kernel %d, nfx %d"
          % (len(fs), kstates, nstates, len(ktable), len(ntable)))
    for e in sorted(next(l["conntrack"] for l in kernel if "conntrack" in l)):
        print("  kernel: " + e)
    if problems:
        print("\n".join(problems))
        sys.exit("conntrack_kernel_test: %d differences" % len(problems))
    print("conntrack_kernel_test: no differences")


main()
