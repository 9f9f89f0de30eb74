#!/usr/bin/python3
"""NAT in nfx against NAT in the kernel.

A kernel router in a network namespace of its own, with two TAP ports and a
NAT ruleset, and nfx's router pipeline (nfx_nat_replay) with the same ports,
addresses, routes and ruleset, get the same frames in the same order, from
both sides: connections out through masquerade and through SNAT to an
address range and to a fixed port, port forwards in through DNAT, replies,
ICMP echo through NAT, ICMP errors about translated connections (their
inner packets translated too), fragmented datagrams, IPv4 and IPv6 (reassembled,
translated and cut again; out of order, repeated, overlapping; IPv6
fragment identifications masked, see mask_ipv6_ident), a TCP connection's teardown, IPv6
masquerade and DNAT, a flow in a conntrack zone (`ct zone set`), with
connection accounting on (a rule reads `ct packets`); and, in a second
scenario, FTP in active and passive mode through masquerade and through
DNAT (PORT, 227, EPRT and EPSV, IPv4 and IPv6) with the payload rewritten
and sequence numbers adjusted, and TFTP. Compared: every frame that comes out of either port,
byte for byte (addresses, ports, checksums, TTLs, MACs), and the conntrack
table as `conntrack -L` prints it (timeouts within 3 s, as the kernel's count
down while the test runs). nfx runs twice: the interpreter, then the
chains as native code (--jit).

Not sent, because the two would differ by design: frames for the router
itself (the kernel's own TCP/UDP stack answers them; nfx has none yet), and
port clashes (the kernel then picks a random port).

usage: nat_kernel_test.py nfx_nat_replay
Needs root, nft, conntrack, ip and Debian's python3-scapy (/usr/bin/python3).
"""
import ctypes
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import time

if os.geteuid() != 0:
    sys.exit("nat_kernel_test: needs root (it makes a network namespace and TAP devices)")
try:
    from scapy.all import (ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6,
                           IPv6ExtHdrFragment, Raw, fragment, fragment6)
except ImportError:
    sys.exit("nat_kernel_test: scapy is missing for %s; install python3-scapy, run with /usr/bin/python3"
             % sys.executable)

LAN_MAC, WAN_MAC, GW_MAC = "02:6e:66:78:00:01", "02:6e:66:78:00:02", "02:00:00:00:02:fe"
SERVER, SERVER2, ROUTER = "198.51.100.10", "198.51.100.20", "198.51.100.1"
SERVER6 = "2001:db8:5::10"


def host_mac(n):
    return "02:00:00:00:01:%02x" % n


RULESET = """table ip nat {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "wan0" tcp dport 8080 dnat to 10.1.0.2:80
\t\tiifname "wan0" udp dport 5353 dnat to 10.1.0.3
\t\tiifname "wan0" udp dport 5454 dnat to ip saddr map { 198.51.100.20 : 10.1.0.4, 198.51.100.10 : 10.1.0.5 }
\t}
\tchain post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "wan0" ip saddr 10.1.0.2 masquerade
\t\toifname "wan0" ip saddr 10.1.0.3 snat to 203.0.113.5-203.0.113.7
\t\toifname "wan0" ip saddr 10.1.0.4 meta l4proto tcp snat to 203.0.113.9:20000
\t\toifname "wan0" ip saddr 10.1.0.5 snat to 203.0.113.16/28 persistent
\t}
}
table ip6 nat {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "wan0" tcp dport 8080 dnat to [fd00:1::2]:80
\t}
\tchain post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "wan0" ip6 saddr fd00:1::/64 masquerade
\t}
}
table ip raw {
\tchain pre {
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tiifname "lan0" ip saddr 10.1.0.4 ct zone set 5
\t\tiifname "wan0" ip daddr 203.0.113.9 ct zone set 5
\t}
}
table inet filter {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tct state invalid counter drop
\t\tct original packets > 1000 counter
\t\tct avgpkt > 2000 counter
\t}
}
"""


def lan(n, pkt):
    """A frame from inside host n (10.1.0.n / fd00:1::n) into lan0."""
    return ("lan0", Ether(src=host_mac(n), dst=LAN_MAC) / pkt)


def wan(pkt):
    """A frame from the gateway into wan0."""
    return ("wan0", Ether(src=GW_MAC, dst=WAN_MAC) / pkt)


def tcp(src, dst, sport, dport, flags, seq, ack=0, payload=b"", v6=False):
    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
    t = ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240)
    return t / Raw(payload) if payload else t


def frames():
    f = []
    # Out through masquerade: a TCP connection's whole life.
    c, s = ("10.1.0.2", 40000), (SERVER, 80)
    f += [lan(2, tcp(c[0], s[0], c[1], s[1], "S", 1000)),
          wan(tcp(s[0], "203.0.113.1", s[1], c[1], "SA", 5000, 1001)),
          lan(2, tcp(c[0], s[0], c[1], s[1], "A", 1001, 5001)),
          lan(2, tcp(c[0], s[0], c[1], s[1], "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n")),
          wan(tcp(s[0], "203.0.113.1", s[1], c[1], "PA", 5001, 1019, b"HTTP/1.0 200 OK\r\n\r\nhello")),
          lan(2, tcp(c[0], s[0], c[1], s[1], "FA", 1019, 5025)),
          wan(tcp(s[0], "203.0.113.1", s[1], c[1], "FA", 5025, 1020)),
          lan(2, tcp(c[0], s[0], c[1], s[1], "A", 1020, 5026))]
    # The same client port to another server keeps its mapping.
    f += [lan(2, tcp(c[0], SERVER2, c[1], 443, "S", 7000))]
    # Out through SNAT to a range (the address by the kernel's hash), with a reply.
    f += [lan(3, IP(src="10.1.0.3", dst=SERVER) / UDP(sport=5000, dport=53) / Raw(b"query")),
          lan(3, IP(src="10.1.0.3", dst=SERVER2) / UDP(sport=5001, dport=53) / Raw(b"query2"))]
    # Out through SNAT to a fixed port.
    f += [lan(4, tcp("10.1.0.4", SERVER, 33333, 25, "S", 42)),
          wan(tcp(SERVER, "203.0.113.9", 25, 20000, "SA", 99, 43))]
    # DNAT through a map keyed by the source; SNAT to a prefix, persistent.
    f += [wan(IP(src=SERVER, dst="203.0.113.1") / UDP(sport=7000, dport=5454) / Raw(b"m1")),
          wan(IP(src=SERVER2, dst="203.0.113.1") / UDP(sport=7001, dport=5454) / Raw(b"m2")),
          lan(5, IP(src="10.1.0.5", dst=SERVER) / UDP(sport=7002, dport=53) / Raw(b"p1")),
          lan(5, IP(src="10.1.0.5", dst=SERVER2) / UDP(sport=7003, dport=53) / Raw(b"p2"))]
    # ICMP echo through masquerade, and its reply.
    f += [lan(2, IP(src="10.1.0.2", dst=SERVER) / ICMP(type=8, id=77, seq=1) / Raw(b"ping")),
          wan(IP(src=SERVER, dst="203.0.113.1") / ICMP(type=0, id=77, seq=1) / Raw(b"ping"))]
    # A port forward in through DNAT: a handshake and data.
    f += [wan(tcp(SERVER2, "203.0.113.1", 50000, 8080, "S", 300)),
          lan(2, tcp("10.1.0.2", SERVER2, 80, 50000, "SA", 900, 301)),
          wan(tcp(SERVER2, "203.0.113.1", 50000, 8080, "A", 301, 901)),
          wan(tcp(SERVER2, "203.0.113.1", 50000, 8080, "PA", 301, 901, b"hi there"))]
    # UDP in through DNAT (address only), answered by a port unreachable
    # from the inside host: the error's inner packet is translated back.
    req = IP(src=SERVER2, dst="203.0.113.1") / UDP(sport=6000, dport=5353) / Raw(b"mdns?")
    f += [wan(req)]
    inner = IP(src=SERVER2, dst="10.1.0.3", ttl=63) / UDP(sport=6000, dport=5353) / Raw(b"mdns?")
    f += [lan(3, IP(src="10.1.0.3", dst=SERVER2) / ICMP(type=3, code=3) / bytes(IP(bytes(inner))))]
    # An ICMP error from a router on the way about the SNAT'd UDP flow of
    # 10.1.0.3 (its translated source found from the conntrack table's
    # reply tuple by the replay of the kernel's own choice, see below).
    f += [("icmp-error-about-snat", None)]
    # Fragments: a UDP datagram in three, through SNAT (reassembled, the
    # ports translated, cut again as it came); one with its fragments out of
    # order and one repeated; a large echo through masquerade; overlapping
    # fragments (the queue is dropped, nothing leaves).
    big = IP(src="10.1.0.3", dst=SERVER, id=0x4242) / UDP(sport=5002, dport=9999) / Raw(bytes(range(256)) * 8)
    pieces = fragment(big, fragsize=600)
    f += [lan(3, p) for p in pieces]
    big2 = IP(src="10.1.0.3", dst=SERVER, id=0x4343) / UDP(sport=5003, dport=9999) / Raw(b"z" * 1500)
    pieces = fragment(big2, fragsize=504)
    f += [lan(3, pieces[2]), lan(3, pieces[0]), lan(3, pieces[0]), lan(3, pieces[1])]
    echo = IP(src="10.1.0.2", dst=SERVER, id=0x4444) / ICMP(type=8, id=78, seq=1) / Raw(b"e" * 1400)
    f += [lan(2, p) for p in fragment(echo, fragsize=1000)]
    over = IP(src="10.1.0.3", dst=SERVER, id=0x4545) / UDP(sport=5004, dport=9999) / Raw(b"o" * 1200)
    pieces = fragment(over, fragsize=504)
    shifted = IP(bytes(pieces[1]))
    shifted.frag -= 8  # starts 64 bytes inside the first fragment
    del shifted.chksum
    f += [lan(3, pieces[0]), lan(3, shifted), lan(3, pieces[2])]
    # IPv6 fragments through masquerade: in order and out of order (the
    # kernel gives the pieces a new identification, see mask_ipv6_ident).
    big6 = IPv6(src="fd00:1::2", dst=SERVER6) / IPv6ExtHdrFragment(id=0x11) / UDP(sport=5005, dport=9999) / \
        Raw(bytes(range(256)) * 6)
    f += [lan(2, p) for p in fragment6(big6, 600)]
    big6 = IPv6(src="fd00:1::2", dst=SERVER6) / IPv6ExtHdrFragment(id=0x12) / UDP(sport=5006, dport=9999) / \
        Raw(b"y" * 1400)
    pieces = fragment6(big6, 600)
    f += [lan(2, p) for p in reversed(pieces)]
    # Out through masquerade, IPv6: a handshake and an echo.
    f += [lan(2, tcp("fd00:1::2", SERVER6, 41000, 80, "S", 10, v6=True)),
          wan(tcp(SERVER6, "2001:db8:2::1", 80, 41000, "SA", 20, 11, v6=True)),
          lan(2, IPv6(src="fd00:1::2", dst=SERVER6) / ICMPv6EchoRequest(id=9, seq=1)),
          wan(IPv6(src=SERVER6, dst="2001:db8:2::1") / ICMPv6EchoReply(id=9, seq=1))]
    # In through DNAT, IPv6, and an ICMPv6 error from inside about it.
    f += [wan(tcp(SERVER6, "2001:db8:2::1", 42000, 8080, "S", 500, v6=True)),
          lan(2, tcp("fd00:1::2", SERVER6, 80, 42000, "SA", 600, 501, v6=True))]
    inner6 = IPv6(src=SERVER6, dst="fd00:1::2", hlim=63) / TCP(sport=42000, dport=80, flags="A", seq=501, ack=601,
                                                              window=64240)
    f += [lan(2, IPv6(src="fd00:1::2", dst=SERVER6) / ICMPv6DestUnreach(code=1) / bytes(IPv6(bytes(inner6))))]
    return f


HELPER_RULESET = """table ip nat {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname "wan0" tcp dport 21 dnat to 10.1.0.3
\t}
\tchain post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "wan0" ip saddr 10.1.0.0/24 masquerade
\t}
}
table ip6 nat {
\tchain post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "wan0" ip6 saddr fd00:1::/64 masquerade
\t}
}
table inet filter {
\tct helper ftp-standard {
\t\ttype "ftp" protocol tcp
\t\tl3proto inet
\t}
\tct helper tftp-standard {
\t\ttype "tftp" protocol udp
\t\tl3proto inet
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state invalid counter drop
\t\ttcp dport 21 ct state new ct helper set "ftp-standard"
\t\tudp dport 69 ct state new ct helper set "tftp-standard"
\t\tct state established,related counter accept
\t\tct state new iifname "lan0" accept
\t\tct state new tcp dport 21 accept
\t}
}
"""


class Tcp:
    """One TCP connection's frames, with its sequence numbers: `a` the side
    that opens it, `b` the other, each (address, port, how to send)."""

    def __init__(self, a, b, v6=False):
        self.a, self.b, self.v6 = a, b, v6
        self.seq = {"a": 1000, "b": 5000}

    def _frame(self, side, flags, payload=b"", shift=0):
        src, dst = (self.a, self.b) if side == "a" else (self.b, self.a)
        other = "b" if side == "a" else "a"
        ack = self.seq[other] + shift if "A" in flags else 0
        pkt = tcp(src[0], dst[2], src[1], dst[1], flags, self.seq[side], ack, payload, v6=self.v6)
        self.seq[side] += len(payload) + (1 if "S" in flags or "F" in flags else 0)
        return src[3](pkt)

    def handshake(self):
        return [self._frame("a", "S"), self._frame("b", "SA"), self._frame("a", "A")]

    def send(self, side, text, shift=0):
        """`text` from `side`; `shift`: what NAT added to the other side's
        stream before this (the acknowledgement counts it)."""
        return self._frame(side, "PA", text, shift)


def host(addr, port, seen_addr, send):
    """A side of a connection: its address and port, the address the other
    side sends to (its address after NAT), and how its frames enter the
    router."""
    return (addr, port, seen_addr, send)


def helper_frames():
    f = []
    srv = lambda p: wan(p)  # noqa: E731
    cli = lambda p: lan(2, p)  # noqa: E731
    # Active FTP through masquerade: PORT names the client's own address,
    # the router rewrites it (3 bytes longer) and shifts what follows.
    c = Tcp(host("10.1.0.2", 40001, "203.0.113.1", cli), host(SERVER, 21, SERVER, srv))
    f += c.handshake()
    f += [c.send("b", b"220 ready\r\n"), c.send("a", b"USER a\r\n"), c.send("b", b"331 pw\r\n"),
          c.send("a", b"PORT 10,1,0,2,156,66\r\n")]
    grown = len("203,0,113,1,156,66") - len("10,1,0,2,156,66")
    f += [c.send("b", b"200 ok\r\n", grown)]
    d = Tcp(host(SERVER, 20, SERVER, srv), host("10.1.0.2", 40002, "203.0.113.1", cli))
    f += d.handshake() + [d.send("a", b"file contents\n")]
    f += [c.send("a", b"QUIT\r\n"), c.send("b", b"221 bye\r\n", grown)]
    # Passive FTP through masquerade: the 227 reply names the server.
    c = Tcp(host("10.1.0.2", 40003, "203.0.113.1", cli), host(SERVER, 21, SERVER, srv))
    f += c.handshake()
    f += [c.send("b", b"220 ready\r\n"), c.send("a", b"USER a\r\n"), c.send("b", b"331 pw\r\n"),
          c.send("a", b"PASV\r\n"), c.send("b", b"227 Entering Passive Mode (198,51,100,10,117,48).\r\n")]
    d = Tcp(host("10.1.0.2", 40004, "203.0.113.1", cli), host(SERVER, 30000, SERVER, srv))
    f += d.handshake() + [d.send("b", b"listing\n")]
    # Passive FTP to a server behind DNAT: its 227 reply is rewritten to the
    # router's public address.
    outside = lambda p: wan(p)  # noqa: E731
    inside = lambda p: lan(3, p)  # noqa: E731
    c = Tcp(host(SERVER2, 50001, SERVER2, outside), host("10.1.0.3", 21, "203.0.113.1", inside))
    f += c.handshake()
    f += [c.send("b", b"220 ready\r\n"), c.send("a", b"USER a\r\n"), c.send("b", b"331 pw\r\n"),
          c.send("a", b"PASV\r\n"), c.send("b", b"227 Entering Passive Mode (10,1,0,3,117,49).\r\n")]
    grown = len("203,0,113,1,117,49") - len("10,1,0,3,117,49")
    f += [c.send("a", b"RETR f\r\n", grown)]
    d = Tcp(host(SERVER2, 50002, SERVER2, outside), host("10.1.0.3", 30001, "203.0.113.1", inside))
    f += d.handshake() + [d.send("b", b"data\n")]
    f += [c.send("b", b"226 done\r\n"), c.send("a", b"QUIT\r\n", grown)]
    # IPv6: EPRT through masquerade (the address written out as the kernel's %pI6 does), and EPSV.
    c = Tcp(host("fd00:1::2", 40005, "2001:db8:2::1", cli), host(SERVER6, 21, SERVER6, srv), v6=True)
    f += c.handshake()
    f += [c.send("b", b"220 ready\r\n"), c.send("a", b"USER a\r\n"), c.send("b", b"331 pw\r\n"),
          c.send("a", b"EPRT |2|fd00:1::2|40006|\r\n")]
    grown = len("|2|2001:0db8:0002:0000:0000:0000:0000:0001|40006|") - len("|2|fd00:1::2|40006|")
    f += [c.send("b", b"200 ok\r\n", grown)]
    d = Tcp(host(SERVER6, 20, SERVER6, srv), host("fd00:1::2", 40006, "2001:db8:2::1", cli), v6=True)
    f += d.handshake()
    f += [c.send("a", b"EPSV\r\n"), c.send("b", b"229 Entering Extended Passive Mode (|||30002|)\r\n", grown)]
    d = Tcp(host("fd00:1::2", 40007, "2001:db8:2::1", cli), host(SERVER6, 30002, SERVER6, srv), v6=True)
    f += d.handshake()
    # A data connection nobody announced: new from outside, dropped.
    f += [wan(tcp(SERVER, "10.1.0.2", 20, 40999, "S", 1))]
    # TFTP through masquerade: the answer comes from another port.
    f += [lan(2, IP(src="10.1.0.2", dst=SERVER) / UDP(sport=40100, dport=69) / Raw(b"\x00\x01file\x00octet\x00")),
          wan(IP(src=SERVER, dst="203.0.113.1") / UDP(sport=3456, dport=40100) / Raw(b"\x00\x03\x00\x01data")),
          lan(2, IP(src="10.1.0.2", dst=SERVER) / UDP(sport=40100, dport=3456) / Raw(b"\x00\x04\x00\x01"))]
    return f


# ---------------------------------------------------------------- the kernel

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def sysctl(path, value):
    with open("/proc/sys/" + path.replace(".", "/"), "w") as f:
        f.write(value)


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def kernel_router():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit("nat_kernel_test: unshare(CLONE_NEWNET): %s" % os.strerror(ctypes.get_errno()))
    sh("ip", "link", "set", "lo", "up")
    for conf in ("all", "default"):
        sysctl("net.ipv4.conf.%s.rp_filter" % conf, "0")
        sysctl("net.ipv4.conf.%s.send_redirects" % conf, "0")
        sysctl("net.ipv6.conf.%s.addr_gen_mode" % conf, "1")
        sysctl("net.ipv6.conf.%s.accept_dad" % conf, "0")
        sysctl("net.ipv6.conf.%s.router_solicitations" % conf, "0")
        sysctl("net.ipv6.conf.%s.accept_ra" % conf, "0")
    sysctl("net.ipv4.ip_forward", "1")
    sysctl("net.ipv6.conf.all.forwarding", "1")
    sysctl("net.ipv4.icmp_ratelimit", "0")
    sysctl("net.ipv6.icmp.ratelimit", "0")
    fds = {"lan0": open_tap("lan0"), "wan0": open_tap("wan0")}
    for name, mac in (("lan0", LAN_MAC), ("wan0", WAN_MAC)):
        sh("ip", "link", "set", name, "address", mac, "multicast", "off")
        sh("ip", "link", "set", name, "up")
    sh("ip", "addr", "add", "10.1.0.1/24", "dev", "lan0")
    sh("ip", "addr", "add", "fd00:1::1/64", "dev", "lan0", "nodad")
    sh("ip", "addr", "add", "203.0.113.1/24", "dev", "wan0")
    sh("ip", "addr", "add", "2001:db8:2::1/64", "dev", "wan0", "nodad")
    for n in range(2, 6):
        sh("ip", "neigh", "replace", "10.1.0.%d" % n, "lladdr", host_mac(n), "dev", "lan0", "nud", "permanent")
        sh("ip", "neigh", "replace", "fd00:1::%x" % n, "lladdr", host_mac(n), "dev", "lan0", "nud", "permanent")
    sh("ip", "neigh", "replace", "203.0.113.254", "lladdr", GW_MAC, "dev", "wan0", "nud", "permanent")
    sh("ip", "neigh", "replace", "2001:db8:2::fe", "lladdr", GW_MAC, "dev", "wan0", "nud", "permanent")
    sh("ip", "route", "add", "default", "via", "203.0.113.254", "dev", "wan0")
    sh("ip", "-6", "route", "add", "default", "via", "2001:db8:2::fe", "dev", "wan0")
    return fds


def mask_ipv6_ident(line):
    """An IPv6 fragment's identification zeroed: the kernel picks a new one
    with a keyed hash when it cuts a datagram again (ipv6_select_ident), so
    no two routers agree on it."""
    port, data = line.split(" ", 1)
    b = bytearray.fromhex(data)
    if len(b) >= 62 and b[12:14] == b"\x86\xdd" and b[20] == 44:
        b[58:62] = b"\0\0\0\0"
    return "%s %s" % (port, b.hex())


def noise(frame):
    """What the kernel sends on its own (IPv6 multicast: MLD, solicitations)."""
    return frame[:2] == b"\x33\x33"


def read_all(fds, wait):
    out = []
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select(list(fds.values()), [], [], max(left, 0))
        if not ready:
            return out
        for name, fd in fds.items():
            if fd in ready:
                try:
                    while True:
                        b = os.read(fd, 65536)
                        if not noise(b):
                            out.append("%s %s" % (name, b.hex()))
                except BlockingIOError:
                    pass


def snat_source(table):
    """The translated source of 10.1.0.3's UDP flow to SERVER in a conntrack listing."""
    for line in table:
        m = re.search(r"src=10\.1\.0\.3 dst=%s sport=5000 dport=53 .*src=%s dst=(\S+) sport=53 dport=(\d+)"
                      % (re.escape(SERVER), re.escape(SERVER)), line)
        if m:
            return m.group(1), int(m.group(2))
    return None


def icmp_error_frame(addr, port):
    inner = IP(src=addr, dst=SERVER, ttl=62) / UDP(sport=port, dport=53) / Raw(b"query")
    return wan(IP(src=ROUTER, dst=addr) / ICMP(type=3, code=1) / bytes(IP(bytes(inner))))


def run_kernel(ruleset, frame_list):
    fds = kernel_router()
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as r:
        r.write(ruleset)
        r.flush()
        proc = subprocess.run(["nft", "-f", r.name], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit("nat_kernel_test: nft refused the ruleset:\n" + proc.stderr)
    read_all(fds, 0.2)  # whatever the kernel sent when the ports came up
    outputs, sent = [], []
    for side, frame in frame_list:
        if frame is None:
            addr = snat_source(conntrack_list())
            if not addr:
                sys.exit("nat_kernel_test: the kernel has no SNAT entry for 10.1.0.3's UDP flow")
            side, frame = icmp_error_frame(*addr)
        data = bytes(frame)
        sent.append("%s %s" % (side, data.hex()))
        os.write(fds[side], data)
        outputs.append(sorted(mask_ipv6_ident(o) for o in read_all(fds, 0.03)))
    return sent, outputs, conntrack_list()


def conntrack_list():
    proc = subprocess.run(["conntrack", "-L"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("nat_kernel_test: conntrack -L failed: " + proc.stderr)
    return [l for l in proc.stdout.splitlines() if l.strip()]


# ---------------------------------------------------------------- nfx

def run_nfx(replay, ruleset, sent, jit=False):
    with tempfile.TemporaryDirectory() as d:
        rpath, fpath = os.path.join(d, "r.nft"), os.path.join(d, "frames")
        with open(rpath, "w") as f:
            f.write(ruleset)
        with open(fpath, "w") as f:
            f.write("\n".join(sent) + "\n")
        proc = subprocess.run([replay] + (["--jit"] if jit else []) + [rpath, fpath], capture_output=True, text=True,
                              timeout=120)
    if proc.returncode != 0:
        sys.exit("nat_kernel_test: nfx_nat_replay failed:\n" + proc.stderr)
    outputs, table, cur = [], [], None
    for line in proc.stdout.splitlines():
        if line.startswith("frame "):
            cur = []
            outputs.append(cur)
        elif line == "conntrack":
            cur = table
        elif cur is not None:
            cur.append(line)
    return [sorted(mask_ipv6_ident(x) for x in o) for o in outputs], table


TIMEOUT = re.compile(r"^(\S+\s+\d+ )(\d+)( .*)$")


def split_timeout(entry):
    m = TIMEOUT.match(entry)
    return (m.group(1) + "T" + m.group(3), int(m.group(2))) if m else (entry, 0)


def compare(name, ruleset, frame_list, replay):
    """Runs one scenario through both routers; returns its differences."""
    result = os.environ["NAT_KERNEL_RESULT"]
    # The kernel router lives in a namespace of its own, in a child process.
    pid = os.fork()
    if pid == 0:
        try:
            sent, kout, ktable = run_kernel(ruleset, frame_list)
            with open(result, "w") as f:
                f.write(repr((sent, kout, ktable)))
            os._exit(0)
        except SystemExit as e:
            print(e, file=sys.stderr)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("nat_kernel_test: the kernel side of %s failed" % name)
    with open(result) as f:
        sent, kout, ktable = eval(f.read())
    problems = []
    for jit in (False, True):  # the interpreter, then native code
        nout, ntable = run_nfx(replay, ruleset, sent, jit)
        who = "nfx --jit" if jit else "nfx"
        for i, (k, n) in enumerate(zip(kout, nout), 1):
            if k != n:
                problems.append("frame %d (%s): kernel sent %s, %s sent %s" % (i, sent[i - 1][:4], k or "nothing",
                                                                             who, n or "nothing"))
        if len(kout) != len(nout):
            problems.append("frames: kernel %d, %s %d" % (len(kout), who, len(nout)))
        kt = sorted(split_timeout(e) for e in ktable)
        nt = sorted(split_timeout(e) for e in ntable)
        kkeys, nkeys = [k for k, _ in kt], [k for k, _ in nt]
        for k in kkeys:
            if k not in nkeys:
                problems.append("only the kernel has: " + k)
        for k in nkeys:
            if k not in kkeys:
                problems.append("only %s has: %s" % (who, k))
        for (k, ktime), (n, ntime) in zip(kt, nt):
            if k == n and abs(ktime - ntime) > 3:
                problems.append("timeout of %s: kernel %d, %s %d" % (k, ktime, who, ntime))
    forwarded = sum(1 for o in kout if o)
    print("%s: %d frames, %d with output; conntrack entries: kernel %d, nfx %d" % (
        name, len(sent), forwarded, len(ktable), len(ntable)))
    for e in sorted(ktable):
        print("  " + e)
    return ["%s: %s" % (name, p) for p in problems]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    replay = sys.argv[1]
    problems = compare("nat", RULESET, frames(), replay)
    problems += compare("helpers", HELPER_RULESET, helper_frames(), replay)
    if problems:
        print("nat_kernel_test: %d differences" % len(problems))
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("nat_kernel_test: no differences")


if __name__ == "__main__":
    with tempfile.NamedTemporaryFile(suffix=".result") as result:
        os.environ["NAT_KERNEL_RESULT"] = result.name
        main()
