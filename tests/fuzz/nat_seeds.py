#!/usr/bin/python3
"""Writes seeds for fuzz_nat_path into DIR: the frames of nat_kernel_test's
scenarios (NAT, FTP and TFTP exchanges), each behind a 2-byte length and a
knobs byte saying which side it enters (1: outside).

usage: nat_seeds.py DIR   (Debian's python3-scapy, /usr/bin/python3)
"""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("nat_kernel_test",
                                              os.path.join(here, "..", "nat_kernel", "nat_kernel_test.py"))
scenarios = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scenarios)

for name, frames in (("nat", scenarios.frames()), ("helpers", scenarios.helper_frames())):
    out = b""
    for side, frame in frames:
        if frame is None:  # built from the kernel's own choice at run time
            continue
        b = bytes(frame)
        out += bytes([len(b) >> 8, len(b) & 0xff, 1 if side == "wan0" else 0]) + b
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(out)
