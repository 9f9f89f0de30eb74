#!/usr/bin/python3
"""Write a ClassBench trace as a pcap of Ethernet frames.

usage: trace_pcap.py TRACE OUT.pcap [--limit N]

The frames are the ones nfx_kernel_send puts on the wire (see
kernel_send.cc): IPv4, TTL 64, header checksum set, a transport header that
starts with the trace's two ports (TCP 20 bytes with ACK, UDP 8 bytes, any
other protocol 8 bytes), L4 checksums zero. Packet k is stamped k seconds.
Used to check `nfx eval`'s verdicts on the trace against the reference.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import read_trace  # noqa: E402

DST_MAC = bytes.fromhex("020000000001")
SRC_MAC = bytes.fromhex("020000000002")


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, proto, ident):
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 5 << 4, 0x10, 65535, 0, 0)
    elif proto == 17:
        l4 = struct.pack("!HHHH", sport, dport, 8, 0)
    else:
        l4 = struct.pack("!HHI", sport, dport, 0)
    ip = bytearray(struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(l4), ident & 0xFFFF, 0, 64, proto, 0, src, dst))
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    return DST_MAC + SRC_MAC + b"\x08\x00" + bytes(ip) + l4


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    with open(a.out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k, p in enumerate(read_trace(a.trace, a.limit)):
            f = frame(*p, k)
            fh.write(struct.pack("<IIII", k, 0, len(f), len(f)) + f)


if __name__ == "__main__":
    main()
