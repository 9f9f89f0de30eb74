# Reading ClassBench filter files (one rule a line, priority = line order):
#   @SRC/LEN  DST/LEN  SPLO : SPHI  DPLO : DPHI  0xPP/0xMM  [FLAGS/MASK]
# Each rule becomes five inclusive integer ranges (src, dst, sport, dport,
# proto), which is how dpdk-test-acl reads the same file: prefixes as masks,
# ports as ranges, the protocol as value/mask; the flags column is ignored.
import ipaddress

FIELDS = ("src", "dst", "sport", "dport", "proto")


def _prefix(text):
    addr, length = text.split("/")
    length = int(length)
    value = int(ipaddress.IPv4Address(addr))
    mask = ((1 << length) - 1) << (32 - length) if length else 0
    value &= mask
    return value, value | (~mask & 0xFFFFFFFF), length


def parse_rule(line):
    """One filter line -> dict of (lo, hi) ranges plus the prefix lengths."""
    f = line.lstrip("@").split()
    # f: src dst splo ':' sphi dplo ':' dphi proto/mask [flags/mask]
    if len(f) < 9 or f[3] != ":" or f[6] != ":":
        raise ValueError("not a ClassBench filter line: %r" % line)
    slo, shi, slen = _prefix(f[0])
    dlo, dhi, dlen = _prefix(f[1])
    pval, pmask = (int(x, 16) for x in f[8].split("/"))
    if pmask == 0xFF:
        proto = (pval, pval)
    elif pmask == 0:
        proto = (0, 255)
    else:
        raise ValueError("protocol mask %s is neither 0xFF nor 0" % f[8])
    rule = {"src": (slo, shi), "dst": (dlo, dhi),
            "sport": (int(f[2]), int(f[4])), "dport": (int(f[5]), int(f[7])),
            "proto": proto, "src_len": slen, "dst_len": dlen}
    for k in ("sport", "dport"):
        lo, hi = rule[k]
        if not 0 <= lo <= hi <= 65535:
            raise ValueError("bad port range %d : %d" % (lo, hi))
    return rule


def read_rules(path):
    rules = []
    with open(path) as fh:
        for line in fh:
            if line.startswith("@"):
                rules.append(parse_rule(line))
    return rules


def read_trace(path, limit=None):
    """Trace lines 'src dst sport dport proto [...]' -> list of 5-tuples."""
    out = []
    with open(path) as fh:
        for line in fh:
            f = line.split()
            if not f or f[0].startswith("#"):
                continue
            out.append(tuple(int(x, 0) for x in f[:5]))
            if limit is not None and len(out) >= limit:
                break
    return out
