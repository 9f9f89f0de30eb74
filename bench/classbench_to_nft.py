#!/usr/bin/python3
"""Translate a ClassBench filter file into an nft ruleset, rule for rule.

usage: classbench_to_nft.py FILTERS [OUT.nft]

One base chain on the ip family's forward hook, policy drop, one rule per
filter line in file order, each ending in accept: the first rule that matches
decides, as the highest-priority (first) ClassBench filter does.

  prefix A/L       -> ip saddr A/L   (ip daddr ...), omitted for /0
  ports lo : hi    -> th sport lo-hi (th dport ...), one port when lo == hi,
                      omitted for 0 : 65535
  0xPP/0xFF        -> meta l4proto PP (last);  0x00/0x00 -> nothing

`th sport`/`th dport` load bytes 0-1 and 2-3 of the transport header
whatever the protocol, as rte_acl reads the two port fields of its 5-tuple
whatever the protocol; `tcp dport` would add a protocol dependency that the
ClassBench filter does not have. The protocol comes last: nft 1.0.6 lists
`meta l4proto P th dport N` wrongly or aborts (payload_expr_complete
assertion) when it has a header description for P (ICMP, GRE, OSPF, ...),
which would leave the loaded ruleset unlistable; after the ports it lists
them as written. The order does not change what matches. The flags column (ClassBench-ng TCP flags)
is ignored, as dpdk-test-acl ignores it.
"""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classbench import read_rules  # noqa: E402


def _port(lo, hi):
    return str(lo) if lo == hi else "%d-%d" % (lo, hi)


def rule_text(r):
    m = []
    for key, name in (("src", "ip saddr"), ("dst", "ip daddr")):
        length = r[key + "_len"]
        if length:
            addr = ipaddress.IPv4Address(r[key][0])
            m.append("%s %s" % (name, addr) if length == 32 else "%s %s/%d" % (name, addr, length))
    for key, name in (("sport", "th sport"), ("dport", "th dport")):
        if r[key] != (0, 65535):
            m.append("%s %s" % (name, _port(*r[key])))
    if r["proto"] != (0, 255):
        m.append("meta l4proto %d" % r["proto"][0])
    m.append("accept")
    return " ".join(m)


def ruleset(rules, source):
    out = ["# %d rules translated from the ClassBench filters %s" % (len(rules), source),
           "# (flags column ignored; first matching rule accepts, else policy drop)",
           "table ip filter {",
           "\tchain forward {",
           "\t\ttype filter hook forward priority 0; policy drop;"]
    out += ["\t\t" + rule_text(r) for r in rules]
    out += ["\t}", "}"]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    text = ruleset(read_rules(argv[1]), os.path.basename(argv[1]))
    if len(argv) == 3:
        with open(argv[2], "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
