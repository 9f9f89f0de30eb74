#!/usr/bin/python3
"""The log statement's lines against the kernel's (nf_log_syslog).

The same ruleset of `log` statements (no flags, `flags all`, `flags ether`)
goes into a kernel namespace and into `nfx eval`; the same frames (TCP with
options, UDP, ICMP echo and errors with the quoted packet, IP options, IPv4
and IPv6 fragments, extension headers, GRE, ARP, a mark) enter the kernel
through a TAP device and nfx through a pcap. The kernel's lines come from its
log (nf_log_all_netns on for the test), nfx's from its stderr; they must be
equal, line for line. Needs root; fails loudly without.

usage: log_oracle_test.py PATH/TO/nfx
"""
import ctypes
import fcntl
import os
import struct
import subprocess
import sys
import tempfile
import time

try:
    from scapy.all import (ARP, GRE, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoRequest, ICMPv6PacketTooBig, IPOption_RR,
                           IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, fragment, wrpcap)
except ImportError:
    sys.exit("FAIL: log_oracle_test needs scapy (/usr/bin/python3 with Debian's python3-scapy)")

TAP = "logt0"
TAP_MAC = "02:00:00:00:10:01"
HOST_MAC = "02:00:00:00:10:02"
TAG = "nfxL%d" % (os.getpid() % 100000)

RULESET = """
table inet t {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		udp dport 5000 meta mark set 0x2a
		log prefix "%(tag)sA: "
		log prefix "%(tag)sB: " flags all
		log prefix "%(tag)sC: " flags ether
	}
}
table arp a {
	chain in {
		type filter hook input priority 0; policy accept;
		log prefix "%(tag)sR: "
	}
}
""" % {"tag": TAG}


def frames():
    e = Ether(src=HOST_MAC, dst=TAP_MAC)
    a, b = "10.9.0.2", "10.9.0.1"
    a6, b6 = "fd09::2", "fd09::1"
    out = [
        e / IP(src=a, dst=b, flags="DF", id=4321) / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240,
                                                         options=[("MSS", 1460), ("SAckOK", b""),
                                                                  ("Timestamp", (1, 0)), ("NOP", None),
                                                                  ("WScale", 7)]),
        e / IP(src=a, dst=b, tos=0xb8, ttl=5, id=7) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=77,
                                                           window=501, urgptr=0) / Raw(b"GET / HTTP/1.0\r\n\r\n"),
        e / IP(src=a, dst=b, id=8) / TCP(sport=1, dport=2, flags="FUECR", reserved=5, urgptr=9),
        e / IP(src=a, dst=b, id=9) / UDP(sport=5353, dport=5000) / Raw(b"x" * 30),
        e / IP(src=a, dst=b, id=10) / ICMP(type=8, id=77, seq=3) / Raw(b"ping"),
        e / IP(src=a, dst=b, id=11) / ICMP(type=3, code=4, nexthopmtu=1400) /
        IP(src=b, dst="198.51.100.7", id=99, flags="DF") / UDP(sport=53, dport=33000),
        e / IP(src=a, dst=b, id=12) / ICMP(type=11, code=0) / IP(src=b, dst="198.51.100.8", ttl=1) /
        TCP(sport=22, dport=40001, flags="SA"),
        e / IP(src=a, dst=b, id=13, options=[IPOption_RR(routers=["0.0.0.0", "0.0.0.0"])]) / UDP(sport=1, dport=2),
        e / IP(src=a, dst=b, id=14, proto=47) / GRE() / IP(src="1.1.1.1", dst="2.2.2.2"),
        e / IPv6(src=a6, dst=b6, tc=0x28, fl=0x12345, hlim=33) / TCP(sport=40000, dport=443, flags="S"),
        e / IPv6(src=a6, dst=b6) / UDP(sport=5353, dport=5000) / Raw(b"y" * 10),
        e / IPv6(src=a6, dst=b6) / ICMPv6EchoRequest(id=5, seq=6),
        e / IPv6(src=a6, dst=b6) / ICMPv6PacketTooBig(mtu=1280) / IPv6(src=b6, dst="2001:db8::9") /
        UDP(sport=1, dport=2),
        e / IPv6(src=a6, dst=b6) / IPv6ExtHdrHopByHop() / UDP(sport=7, dport=8),
        e / IPv6(src=a6, dst=b6) / IPv6ExtHdrFragment(id=0xabcdef, m=1, offset=0) / UDP(sport=9, dport=10) /
        Raw(b"z" * 16),
        e / IPv6(src=a6, dst=b6) / IPv6ExtHdrFragment(id=0xabcdef, m=0, offset=3, nh=17) / Raw(b"w" * 16),
        Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=HOST_MAC, psrc=a, pdst=b),
    ]
    for f in fragment(IP(src=a, dst=b, id=15) / UDP(sport=11, dport=12) / Raw(b"f" * 60), fragsize=32):
        out.append(e / f)
    return [Ether(bytes(f)) for f in out]


CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def kernel_side(ruleset_path, pkts):
    """In a new network namespace (a child process): the TAP, the ruleset, the frames."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit("FAIL: unshare(CLONE_NEWNET): %s" % os.strerror(ctypes.get_errno()))
    with open("/proc/sys/net/ipv6/conf/default/accept_dad", "w") as f:
        f.write("0")
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", TAP.encode(), IFF_TAP | IFF_NO_PI))
    sh("ip", "link", "set", TAP, "address", TAP_MAC, "up")
    sh("ip", "addr", "add", "10.9.0.1/24", "dev", TAP)
    sh("ip", "addr", "add", "fd09::1/64", "dev", TAP, "nodad")
    sh("nft", "-f", ruleset_path)
    for p in pkts:
        os.write(fd, bytes(p))
        time.sleep(0.02)
    time.sleep(0.5)


def kernel_lines():
    out = subprocess.run(["dmesg", "--notime"], capture_output=True, text=True, check=True).stdout
    return [l.rstrip() for l in out.splitlines() if l.startswith(TAG)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    nfx = sys.argv[1]
    if os.geteuid() != 0:
        sys.exit("FAIL: log_oracle_test needs root (a network namespace, a TAP device, the kernel log)")
    pkts = frames()
    tmp = tempfile.mkdtemp(prefix="nfx-log-")
    ruleset = os.path.join(tmp, "log.nft")
    with open(ruleset, "w") as f:
        f.write(RULESET)
    pcap = os.path.join(tmp, "frames.pcap")
    wrpcap(pcap, pkts)

    knob = "/proc/sys/net/netfilter/nf_log_all_netns"
    with open(knob) as f:
        old = f.read().strip()
    with open(knob, "w") as f:
        f.write("1")
    try:
        pid = os.fork()
        if pid == 0:
            try:
                kernel_side(ruleset, pkts)
                os._exit(0)
            except BaseException as e:  # the child reports and ends here
                print("FAIL: kernel side: %s" % e, file=sys.stderr)
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit("FAIL: the kernel side did not run")
    finally:
        with open(knob, "w") as f:
            f.write(old)
    kernel = kernel_lines()
    if not kernel:
        sys.exit("FAIL: the kernel logged nothing (nf_log_syslog missing?)")

    r = subprocess.run([nfx, "eval", "--path", "input", "--iif", TAP, ruleset, pcap], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("FAIL: nfx eval: %s" % r.stderr)
    ours = [l[len("log: "):].rstrip() for l in r.stderr.splitlines() if l.startswith("log: " + TAG)]

    bad = 0
    for i in range(max(len(kernel), len(ours))):
        k = kernel[i] if i < len(kernel) else "(none)"
        n = ours[i] if i < len(ours) else "(none)"
        if k != n:
            bad += 1
            print("line %d differs:\n  kernel: %s\n  nfx:    %s" % (i + 1, k, n))
    print("log_oracle_test: %d kernel lines, %d nfx lines, %d differences" % (len(kernel), len(ours), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
