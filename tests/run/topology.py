"""Namespaced hosts around a running `nfx run`, for the end-to-end tests.

Three network namespaces: one where nfx runs and creates its TAP devices,
and two hosts. Once nfx has the devices open, each TAP's kernel side moves
into its host's namespace, where it is that host's network card: every
frame the host sends reaches nfx, and every frame nfx writes arrives there.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


class Host:
    def __init__(self, ns, dev):
        self.ns, self.dev = ns, dev

    def run(self, *args, timeout=30, check=False, input=None):
        return subprocess.run(['ip', 'netns', 'exec', self.ns, *args], capture_output=True, text=True,
                              timeout=timeout, check=check, input=input)

    def spawn(self, *args, **kw):
        return subprocess.Popen(['ip', 'netns', 'exec', self.ns, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kw)

    def ip(self, *args):
        return sh('ip', '-n', self.ns, *args)


class Topology:
    """nfx between hosts. `hosts`: {name: (tap, [addr/len...], [route args...])};
    `nfx_args`: the rest of the nfx run command line."""

    def __init__(self, nfx, hosts, nfx_args, tag='e2e'):
        self.nfx = nfx
        self.id = f'{tag}{os.getpid() % 100000}'
        self.nfx_ns = f'nfx-{self.id}'
        self.socket = os.path.join(tempfile.gettempdir(), f'nfx-{self.id}.sock')
        self.log_path = os.path.join(tempfile.gettempdir(), f'nfx-{self.id}.log')
        self.hosts = {}
        self.spec = hosts
        self.args = nfx_args
        self.proc = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        sh('ip', 'netns', 'add', self.nfx_ns)
        for name, (tap, _, _) in self.spec.items():
            ns = f'{name}-{self.id}'
            sh('ip', 'netns', 'add', ns)
            # `ip netns exec` gives the host this resolv.conf: name lookups
            # (python's http.server asks for its own name) fail at once
            # instead of waiting on a nameserver no host can reach
            os.makedirs(f'/etc/netns/{ns}', exist_ok=True)
            with open(f'/etc/netns/{ns}/resolv.conf', 'w') as f:
                f.write('nameserver 127.0.0.1\n')
            self.hosts[name] = Host(ns, tap)
        self.log = open(self.log_path, 'w+')
        self.proc = subprocess.Popen(['ip', 'netns', 'exec', self.nfx_ns, self.nfx, 'run', '--control', self.socket,
                                      *self.args], stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 15
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f'nfx run did not start:\n{self.read_log()}')
            time.sleep(0.05)
        for name, (tap, addrs, routes) in self.spec.items():
            h = self.hosts[name]
            sh('ip', '-n', self.nfx_ns, 'link', 'set', tap, 'netns', h.ns)
            h.ip('link', 'set', 'lo', 'up')
            for a in addrs:
                h.ip('addr', 'add', a, 'dev', tap, *(['nodad'] if ':' in a else []))
            h.ip('link', 'set', tap, 'up')
            for r in routes:
                h.ip(*r)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for h in self.hosts.values():
            # the host's processes go with it
            pids = sh('ip', 'netns', 'pids', h.ns, check=False).stdout.split()
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh('ip', 'netns', 'del', h.ns, check=False)
            shutil.rmtree(f'/etc/netns/{h.ns}', ignore_errors=True)
        sh('ip', 'netns', 'del', self.nfx_ns, check=False)
        if getattr(self, 'log', None):
            self.log.close()
            os.unlink(self.log_path)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def ctl(self, *words, check=True):
        r = sh(self.nfx, 'ctl', '--control', self.socket, *words, check=False)
        if check and r.returncode != 0:
            raise AssertionError(f'nfx ctl {" ".join(words)} failed ({r.returncode}): {r.stderr}')
        return r


def require_root():
    """These tests need root and network namespaces: they fail loudly without."""
    if os.geteuid() != 0:
        raise SystemExit('FAIL: the nfx run end-to-end tests need root (network namespaces, TAP devices)')
    r = sh('ip', 'netns', 'add', f'nfx-probe-{os.getpid()}', check=False)
    if r.returncode != 0:
        raise SystemExit(f'FAIL: cannot create a network namespace: {r.stderr.strip()}')
    sh('ip', 'netns', 'del', f'nfx-probe-{os.getpid()}', check=False)
    if not os.path.exists('/dev/net/tun'):
        raise SystemExit('FAIL: /dev/net/tun is missing (modprobe tun)')
