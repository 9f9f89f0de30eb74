#!/usr/bin/python3
"""Forwarded packets per second through two TAP devices: nfx run against its
two baselines, measured in the same run, interleaved.

  plain   nfx_tap_forwarder: reads one TAP, writes the other, nothing else;
          nfx run's I/O (a batch of reads per wake-up, then its writes)
  frame   the same, writing each frame as soon as it is read (the simplest
          forwarder; shown, not a goal's baseline)
  nfx     nfx run (router, JIT) with the ruleset and connection tracking
  kernel  the kernel as a router in a namespace with the same ruleset
          (veth in and out: the kernel has no TAP of its own to read)

Rulesets of 1, 1K and 10K rules in a forward chain: N-1 rules that match
header fields the traffic never has (prefixes, port ranges), then
`ct state established,related accept`, so each packet passes every rule and
is tracked. nfx_element_bench runs the same ruleset and traffic through
the element without devices: its own cost per packet, beside the I/O's.
Traffic: 60-byte UDP frames over 1,000 flows from an AF_PACKET
sender (nfx_udp_blaster) pinned to CPU 0; the forwarder under test is
pinned to CPU 1 (the kernel forwards in the sender's softirq, on CPU 0).
A rate is frames delivered per second, counted on the receiving device.
Goals (issue 6): at 10K rules, nfx >= 80% of the plain forwarder and >= 10x
the kernel. Needs root.

The ratios are medians of the passes' ratios (rates of one pass are
measured one after another, beds standing side by side); the rates shown
are the medians of each engine's rates.

usage: forward_bench.py BUILD_DIR [--rules 1,1000,10000] [--seconds 2] [--passes 7]
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

FLOWS = 1000
TAG = 'fb%d' % (os.getpid() % 100000)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def ns_sh(ns, *args, check=True):
    return sh('ip', 'netns', 'exec', ns, *args, check=check)


def ruleset(n):
    rnd = random.Random(n)
    lines = ['table inet bench {', '\tchain forward {',
             '\t\ttype filter hook forward priority filter; policy accept;']
    for i in range(n - 1):
        a, b, c = rnd.randrange(16, 32), rnd.randrange(256), rnd.randrange(256)
        p = rnd.randrange(20000, 60000)
        k = i % 5
        if k == 0:
            lines.append(f'\t\tip saddr 172.{a}.{b}.0/24 udp dport {p} drop')
        elif k == 1:
            lines.append(f'\t\tip daddr 172.{a}.{b}.{c} tcp dport {p}-{p + 100} drop')
        elif k == 2:
            lines.append(f'\t\tip saddr 172.{a}.0.0/16 ip daddr 192.168.{b}.0/24 drop')
        elif k == 3:
            lines.append(f'\t\tudp sport {p} udp dport {p + 1} drop')
        else:
            lines.append(f'\t\tip saddr 172.{a}.{b}.{c} tcp dport {p} drop')
    lines += ['\t\tct state established,related accept', '\t}', '}', '']
    return '\n'.join(lines)


def mac_of(ns, dev):
    return ns_sh(ns, 'cat', f'/sys/class/net/{dev}/address').stdout.strip()


def rx_packets(ns, dev):
    return int(ns_sh(ns, 'cat', f'/sys/class/net/{dev}/statistics/rx_packets').stdout)


def measure(build, src_ns, dev, dst_mac, src_mac, dst_ns, dst_dev, seconds):
    """Sends for warm-up + `seconds`; the delivered rate over `seconds`."""
    blaster = os.path.join(build, 'bench', 'nfx_udp_blaster')
    p = subprocess.Popen(['ip', 'netns', 'exec', src_ns, 'taskset', '-c', '0', blaster, dev, dst_mac, src_mac,
                          '10.1.0.2', '198.18.0.1', str(FLOWS), str(seconds + 1.0)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    c0, t0 = rx_packets(dst_ns, dst_dev), time.monotonic()
    time.sleep(seconds)
    c1, t1 = rx_packets(dst_ns, dst_dev), time.monotonic()
    out, err = p.communicate(timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f'blaster: {err}')
    return (c1 - c0) / (t1 - t0)


class TapBed:
    """src --lan0-- [engine in its namespace] --wan0-- dst, TAP devices."""

    def __init__(self, build, engine, rules_path):
        self.build, self.engine, self.rules_path = build, engine, rules_path
        tag = f'{TAG}{engine[0]}'  # the beds stand side by side
        self.eng_ns, self.src, self.dst = f'{tag}-e', f'{tag}-s', f'{tag}-d'
        self.sock = f'/tmp/{tag}.sock'
        self.proc = None

    def __enter__(self):
        for ns in (self.eng_ns, self.src, self.dst):
            sh('ip', 'netns', 'add', ns)
        if self.engine == 'nfx':
            cmd = [os.path.join(self.build, 'cli', 'nfx'), 'run', '--tap', 'lan0=10.1.0.1/24', '--tap',
                   'wan0=10.2.0.1/24', '--route', '198.18.0.0/15=10.2.0.2', '--ruleset', self.rules_path,
                   '--control', self.sock]
        else:
            cmd = [os.path.join(self.build, 'bench', 'nfx_tap_forwarder'), 'lan0', 'wan0', '02:00:00:00:00:ff',
                   '02:00:00:00:00:fe'] + (['framewise'] if self.engine == 'frame' else [])
        self.log = tempfile.TemporaryFile(mode='w+')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', self.eng_ns, 'taskset', '-c', '1', *cmd],
                                     stdout=self.log, stderr=self.log, text=True)
        deadline = time.time() + 30
        while sh('ip', '-n', self.eng_ns, 'link', 'show', 'wan0', check=False).returncode != 0 or \
                (self.engine == 'nfx' and not os.path.exists(self.sock)):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                raise RuntimeError(f'{self.engine} did not start: {self.log.read()}')
            time.sleep(0.05)
        sh('ip', '-n', self.eng_ns, 'link', 'set', 'lan0', 'netns', self.src)
        sh('ip', '-n', self.eng_ns, 'link', 'set', 'wan0', 'netns', self.dst)
        # the receiver's MAC is the one the plain forwarder writes to
        sh('ip', '-n', self.dst, 'link', 'set', 'wan0', 'address', '02:00:00:00:00:ff')
        for ns, dev, addr in ((self.src, 'lan0', '10.1.0.2/24'), (self.dst, 'wan0', '10.2.0.2/24')):
            sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', dev)
            sh('ip', '-n', ns, 'link', 'set', dev, 'up', 'txqueuelen', '10000')
        if self.engine == 'nfx':
            # the JIT compiles behind the interpreter: measure native code
            deadline = time.time() + 120
            while 'jit: native' not in self.ctl('stats'):
                if time.time() > deadline:
                    raise RuntimeError('the JIT did not finish: ' + self.ctl('stats'))
                time.sleep(0.2)
            # the sender learns nfx's MAC, nfx learns the receiver's
            ns_sh(self.src, 'ping', '-c', '1', '-W', '2', '10.1.0.1', check=False)
            words = ns_sh(self.src, 'ip', 'neigh', 'show', '10.1.0.1').stdout.split()
            if 'lladdr' not in words:
                raise RuntimeError('nfx did not answer ARP: ' + ' '.join(words))
            self.dst_mac = words[words.index('lladdr') + 1]
        return self

    def ctl(self, *words):
        return sh(os.path.join(self.build, 'cli', 'nfx'), 'ctl', '--control', self.sock, *words,
                  check=False).stdout

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for ns in (self.eng_ns, self.src, self.dst):
            sh('ip', 'netns', 'del', ns, check=False)

    def rate(self, seconds):
        src_mac = mac_of(self.src, 'lan0')
        dst_mac = getattr(self, 'dst_mac', '02:00:00:00:00:01')
        return measure(self.build, self.src, 'lan0', dst_mac, src_mac, self.dst, 'wan0', seconds)


class KernelBed:
    """src --veth-- [kernel router with the ruleset] --veth-- dst."""

    def __init__(self, rules_path):
        self.rules_path = rules_path
        self.r, self.src, self.dst = f'{TAG}-kr', f'{TAG}-ks', f'{TAG}-kd'

    def __enter__(self):
        for ns in (self.r, self.src, self.dst):
            sh('ip', 'netns', 'add', ns)
        sh('ip', '-n', self.src, 'link', 'add', 'k0', 'type', 'veth', 'peer', 'name', 'k1', 'netns', self.r)
        sh('ip', '-n', self.dst, 'link', 'add', 'k3', 'type', 'veth', 'peer', 'name', 'k2', 'netns', self.r)
        for ns, dev, addr in ((self.src, 'k0', '10.1.0.2/24'), (self.r, 'k1', '10.1.0.1/24'),
                              (self.r, 'k2', '10.2.0.1/24'), (self.dst, 'k3', '10.2.0.2/24')):
            sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', dev)
            sh('ip', '-n', ns, 'link', 'set', dev, 'up')
        ns_sh(self.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
        sh('ip', '-n', self.r, 'route', 'add', '198.18.0.0/15', 'via', '10.2.0.2')
        ns_sh(self.r, 'nft', '-f', self.rules_path)
        ns_sh(self.src, 'ping', '-c', '1', '-W', '2', '10.1.0.1', check=False)
        ns_sh(self.r, 'ping', '-c', '1', '-W', '2', '10.2.0.2', check=False)
        return self

    def __exit__(self, *exc):
        for ns in (self.r, self.src, self.dst):
            sh('ip', 'netns', 'del', ns, check=False)

    def rate(self, build, seconds):
        return measure(build, self.src, 'k0', mac_of(self.r, 'k1'), mac_of(self.src, 'k0'), self.dst, 'k3', seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('build')
    ap.add_argument('--rules', default='1,1000,10000')
    ap.add_argument('--seconds', type=float, default=2.0)
    ap.add_argument('--passes', type=int, default=7)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit('forward_bench: needs root (namespaces, TAP devices)')
    if (os.cpu_count() or 1) < 2:
        sys.exit('forward_bench: needs two CPUs (the sender and the forwarder each get one)')
    build = os.path.abspath(args.build)
    results = []
    print(f'{"rules":>6} {"plain pps":>11} {"frame pps":>11} {"nfx pps":>11} {"kernel pps":>11} {"nfx/plain":>9} '
          f'{"nfx/frame":>9} {"nfx/kernel":>10}')
    for n in [int(x) for x in args.rules.split(',')]:
        with tempfile.NamedTemporaryFile('w', suffix='.nft', delete=False) as f:
            f.write(ruleset(n))
            path = f.name
        rates = {'plain': [], 'frame': [], 'nfx': [], 'kernel': []}
        # The four beds stand side by side (an idle forwarder sleeps) and
        # take turns: each pass measures them one after the other, so a
        # pass's rates share the machine's state of the moment (its speed
        # drifts by a third over minutes), and the ratios are taken per pass.
        with TapBed(build, 'plain', path) as plain, TapBed(build, 'frame', path) as frame, \
                TapBed(build, 'nfx', path) as nfx, KernelBed(path) as kernel:
            for _ in range(args.passes):
                rates['plain'].append(plain.rate(args.seconds))
                rates['frame'].append(frame.rate(args.seconds))
                rates['nfx'].append(nfx.rate(args.seconds))
                rates['kernel'].append(kernel.rate(build, args.seconds))
            stats = nfx.ctl('stats')
        element = json.loads(sh(os.path.join(build, 'bench', 'nfx_element_bench'), path, '1000000').stdout)
        os.unlink(path)
        med = {k: statistics.median(v) for k, v in rates.items()}
        per_pass = lambda a, b: statistics.median(x / y for x, y in zip(rates[a], rates[b]))
        row = {'rules': n, **{k + '_pps': round(v) for k, v in med.items()},
               'nfx_over_plain': per_pass('nfx', 'plain'), 'nfx_over_frame': per_pass('nfx', 'frame'),
               'nfx_over_kernel': per_pass('nfx', 'kernel'),
               'passes': {k: [round(x) for x in v] for k, v in rates.items()},
               'element_ns': {'interpreter': element['interpreter_ns'], 'jit': element['jit_ns']}}
        results.append(row)
        print(f'{n:>6} {med["plain"]:>11,.0f} {med["frame"]:>11,.0f} {med["nfx"]:>11,.0f} {med["kernel"]:>11,.0f} '
              f'{row["nfx_over_plain"]:>9.2f} {row["nfx_over_frame"]:>9.2f} {row["nfx_over_kernel"]:>10.1f}',
              flush=True)
        jit = [l for l in stats.splitlines() if l.startswith('jit:')]
        print(f'        nfx {"; ".join(jit)}; the element alone (nfx_element_bench, no devices): '
              f'{element["jit_ns"]:.0f} ns/packet native, {element["interpreter_ns"]:.0f} interpreted', flush=True)
    print(json.dumps({'forward_bench': results}))
    last = results[-1]
    print(f'goals at {last["rules"]} rules: nfx/plain {last["nfx_over_plain"]:.2f} (goal >= 0.80), '
          f'nfx/kernel {last["nfx_over_kernel"]:.1f} (goal >= 10)')


if __name__ == '__main__':
    main()
