# Network namespaces for the kernel side of the classification benchmark.
#
#   sender ns                router ns i (one per ruleset measured)
#   s<i> ==== veth ====  i<i> --(ip forward, forward hook)--> d<i> (ifb)
#
# Each router forwards everything (ip_forward=1, rp_filter=0, no addresses of
# its own, so no trace address is local) along a default route through a
# gateway on d<i>, an ifb device without a qdisc: sent anything that tc did
# not redirect to it, it counts the packet (as rx_packets) and frees it (this
# kernel has no dummy driver). So its counter is what the forward hook let
# through. IPv6 is off everywhere so that nothing but the trace's frames move.
import os
import subprocess


def run(*args, ns=None, check=True, capture=False):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, check=check, text=True,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    return r.stdout if capture else r.returncode


class Routers:
    def __init__(self, count, tag=None):
        tag = tag or "nfxb%d" % os.getpid()
        self.sender = tag + "s"
        self.routers = ["%sr%d" % (tag, i) for i in range(count)]
        self.ifaces = ["s%d" % i for i in range(count)]
        self.macs = ["02:00:00:00:%02x:01" % i for i in range(count)]

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _setup(self):
        for ns in [self.sender] + self.routers:
            run("ip", "netns", "add", ns)
            for key in ("all", "default"):
                run("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % key, ns=ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        for i, r in enumerate(self.routers):
            run("ip", "-n", self.sender, "link", "add", "s%d" % i, "type", "veth",
                "peer", "name", "i%d" % i, "netns", r)
            run("ip", "-n", r, "link", "set", "i%d" % i, "address", self.macs[i], "up")
            run("ip", "-n", self.sender, "link", "set", "s%d" % i, "up")
            run("ip", "-n", r, "link", "add", "d%d" % i, "type", "ifb")
            run("ip", "-n", r, "link", "set", "d%d" % i, "up")
            run("tc", "qdisc", "replace", "dev", "d%d" % i, "root", "noqueue", ns=r)
            for key in ("all", "default", "i%d" % i, "d%d" % i):
                run("sysctl", "-q", "-w", "net.ipv4.conf.%s.rp_filter=0" % key, ns=r)
            run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", ns=r)
            run("ip", "-n", r, "route", "add", "default", "via", "192.0.2.1",
                "dev", "d%d" % i, "onlink")

    def counters(self, i):
        """Router i's IPv4 counters (/proc/net/snmp `Ip:` and `IpExt:`
        lines: InReceives, ForwDatagrams = reached the forward hook,
        InAddrErrors, ...) plus Sunk, the frames d<i> discarded (ifb counts
        them as its rx_packets)."""
        text = run("sh", "-c", "cat /proc/net/snmp /sys/class/net/d%d/statistics/rx_packets" % i,
                   ns=self.routers[i], capture=True).split("\n")
        ip = [line.split()[1:] for line in text if line.startswith("Ip:")]
        out = {k: int(v) for k, v in zip(ip[0], ip[1])}
        out["Sunk"] = int(text[-2])
        return out

    def nft(self, i, *args, stdin=None):
        return subprocess.run(["ip", "netns", "exec", self.routers[i], "nft"] + list(args),
                              input=stdin, text=True, check=True, capture_output=True).stdout

    def targets(self):
        return ["%s=%s" % (s, m) for s, m in zip(self.ifaces, self.macs)]

    def close(self):
        for ns in [self.sender] + self.routers:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
