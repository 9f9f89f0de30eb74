# The frames of the trace tests, built by hand, written to a pcap
# (`trace_frames.py OUT.pcap`) or sent on an interface (`--send IFACE`, how
# the .expected kernel traces were recorded; see README.md).
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ipv4(src, dst, proto, l4, ident=1, ttl=64, tos=0, df=True, options=b""):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, tos, 20 + len(options) + len(l4), ident,
                    0x4000 if df else 0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def l4sum(src, dst, proto, l4, v6=False):
    if v6:
        ph = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!I3xB", len(l4), proto))
    else:
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", proto, len(l4))
    return csum(ph + l4)


def tcp(src, dst, sport, dport, flags=0x02, seq=1000, ack=0, window=64240, options=b"", v6=False):
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (5 + len(options) // 4) << 4, flags, window, 0, 0) + options
    return t[:16] + struct.pack("!H", l4sum(src, dst, 6, t, v6)) + t[18:]


def udp(src, dst, sport, dport, payload=b"", v6=False):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return u[:6] + struct.pack("!H", l4sum(src, dst, 17, u, v6) or 0xffff) + u[8:]


def icmp_echo(ident=7, seq=1, payload=b"ping"):
    i = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return i[:2] + struct.pack("!H", csum(i)) + i[4:]


def icmp6_echo(src, dst):
    i = struct.pack("!BBHHH", 128, 0, 0, 9, 3) + b"zz"
    return i[:2] + struct.pack("!H", l4sum(src, dst, 58, i, True)) + i[4:]


def eth(dst, src, etype, payload):
    return mac(dst) + mac(src) + struct.pack("!H", etype) + payload


def v4frame(dst_mac, src_mac, src, dst, proto, l4, **kw):
    return eth(dst_mac, src_mac, 0x0800, ipv4(src, dst, proto, l4, **kw) + l4)


def v6frame(dst_mac, src_mac, src, dst, proto, l4, hlim=64, flow=0):
    h = (struct.pack("!IHBB", (6 << 28) | flow, len(l4), proto, hlim) +
         socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst))
    return eth(dst_mac, src_mac, 0x86dd, h + l4)


D, S = "02:00:00:00:00:01", "02:00:00:00:00:02"
A, B, C = "10.0.0.2", "10.0.0.1", "10.0.0.3"
MSS_SACK_OPTS = bytes([2, 4, 0x05, 0xb4, 1, 1, 4, 2])
FRAMES = [
    v4frame(D, S, A, B, 6, tcp(A, B, 40000, 22), ident=1),
    v4frame(D, S, A, B, 17, udp(A, B, 5353, 53, b"hello"), ident=2),
    v4frame(D, S, A, B, 6, tcp(A, B, 40001, 80), ident=3),
    v4frame(D, S, C, B, 1, icmp_echo(), ident=4),
    v4frame(D, S, A, B, 6, tcp(A, B, 40000, 81, flags=0x12, seq=5, ack=9, window=100, options=MSS_SACK_OPTS),
            ident=10, tos=0xb8, ttl=3),
    v4frame(D, S, A, B, 17, udp(A, B, 5353, 53, b"x" * 30), ident=11, df=False),
    v4frame(D, S, A, B, 1, icmp_echo(ident=0x1234, seq=0x55, payload=b"abcdefghijkl"), ident=12,
            options=bytes([1, 1, 1, 0])),
    v6frame(D, S, "fd00::2", "fd00::1", 6, tcp("fd00::2", "fd00::1", 40002, 22, v6=True)),
    v6frame(D, S, "fd00::2", "fd00::1", 58, icmp6_echo("fd00::2", "fd00::1"), hlim=255, flow=0x12345),
    v6frame(D, S, "fd00::2", "fd00::1", 17, udp("fd00::2", "fd00::1", 1, 2, b"q", v6=True)),
]

if __name__ == "__main__":
    if sys.argv[1] == "--send":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[2], 0))
        for f in FRAMES:
            s.send(f)
            time.sleep(0.2)
    else:
        with open(sys.argv[1], "wb") as out:
            out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for i, f in enumerate(FRAMES):
                out.write(struct.pack("<IIII", 1767571200 + i, 0, len(f), len(f)) + f)
