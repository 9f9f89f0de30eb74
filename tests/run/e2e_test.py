#!/usr/bin/python3
"""End-to-end tests of `nfx run` with real programs in network namespaces.

A LAN host and a WAN host sit on TAP devices with nfx between them running
examples/gateway.nft (stateful filtering, masquerade, a port forward, the
FTP helper). Each test drives real clients and servers from Debian's
packages (curl, python's http.server, iputils ping, pyftpdlib) and asserts
what the client sees. Needs root; fails loudly without.

usage: e2e_test.py PATH/TO/nfx [unittest args]
"""
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from topology import Topology, require_root  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GATEWAY = os.path.join(ROOT, 'examples', 'gateway.nft')
BROKEN = os.path.join(ROOT, 'examples', 'broken.nft')
PEER = os.path.join(HERE, 'peer_server.py')
PY = '/usr/bin/python3'
NFX = None

LAN = ('lan0', ['192.168.1.10/24', 'fd00:1::10/64'],
       [('route', 'add', 'default', 'via', '192.168.1.1'), ('-6', 'route', 'add', 'default', 'via', 'fd00:1::1')])
WAN = ('wan0', ['203.0.113.1/24', 'fd00:2::1/64'],
       [('route', 'add', '192.168.1.0/24', 'via', '203.0.113.2'),
        ('-6', 'route', 'add', 'fd00:1::/64', 'via', 'fd00:2::2')])
GATEWAY_ARGS = ['--tap', 'lan0=192.168.1.1/24,fd00:1::1/64', '--tap', 'wan0=203.0.113.2/24,fd00:2::2/64',
                '--route', 'default=203.0.113.1', '--route', 'default6=fd00:2::1']

# A client that connects, prints the server's first line (or the errno of a
# refused connection), and optionally asks for a stream and counts it.
CLIENT = r'''
import socket, sys
host, port, stream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
s.settimeout(float(sys.argv[4]) if len(sys.argv) > 4 else 5)
try:
    s.connect((host, port))
except OSError as e:
    print('errno', e.errno); sys.exit(0)
f = s.makefile('rb')
print(f.readline().decode().strip(), flush=True)
if stream:
    s.sendall(b'stream %d\n' % stream)
    got = 0
    while got < stream:
        b = f.read1(65536)
        if not b: break
        got += len(b)
    print('received', got)
'''

UDP_CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b'Q 4242 www.example', (sys.argv[1], int(sys.argv[2])))
print(s.recvfrom(2048)[0].decode())
'''


def wait_ready(proc):
    line = proc.stdout.readline()
    if line.strip() != 'ready':
        raise AssertionError(f'server did not start: {line} {proc.stderr.read()}')


def wait_listening(host, port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if f':{port} ' in host.run('ss', '-Htln').stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f'nothing listens on {port} in {host.ns}')


class Gateway(unittest.TestCase):
    """examples/gateway.nft between a LAN client and a WAN server."""

    @classmethod
    def setUpClass(cls):
        cls.servers = []
        cls.topo = Topology(NFX, {'lan': LAN, 'wan': WAN}, GATEWAY_ARGS + ['--ruleset', GATEWAY], tag='gw')
        cls.topo.__enter__()
        try:
            cls.start_servers()
        except BaseException:
            cls.tearDownClass()  # unittest does not when setUpClass fails
            raise

    @classmethod
    def start_servers(cls):
        cls.lan, cls.wan = cls.topo.hosts['lan'], cls.topo.hosts['wan']
        cls.tcp = cls.serve(cls.wan, 'tcp', '203.0.113.1', 7000)
        cls.serve(cls.wan, 'tcp', '203.0.113.1', 9)
        cls.serve(cls.wan, 'udp', '203.0.113.1', 5353)
        cls.www = tempfile.mkdtemp(prefix='nfx-www-')
        with open(os.path.join(cls.www, 'index.html'), 'w') as f:
            f.write('hello from the web server\n')
        cls.blob = os.urandom(300_000)
        with open(os.path.join(cls.www, 'blob.bin'), 'wb') as f:
            f.write(cls.blob)
        for host, addr, port in ((cls.wan, '203.0.113.1', 8000), (cls.lan, '192.168.1.10', 80)):
            cls.servers.append(host.spawn(PY, '-m', 'http.server', '-d', cls.www, '-b', addr, str(port)))
            wait_listening(host, port)
        cls.servers.append(cls.wan.spawn(PY, '-m', 'pyftpdlib', '-i', '203.0.113.1', '-p', '21', '-d', cls.www))
        wait_listening(cls.wan, 21)

    @classmethod
    def serve(cls, host, proto, addr, port):
        p = host.spawn(PY, PEER, proto, addr, str(port))
        wait_ready(p)
        cls.servers.append(p)
        return p

    @classmethod
    def tearDownClass(cls):
        for p in cls.servers:
            p.kill()
            p.communicate()
        cls.topo.__exit__(None, None, None)
        shutil.rmtree(getattr(cls, 'www', ''), ignore_errors=True)

    def connect(self, host, addr, port, stream=0, timeout=5):
        r = host.run(PY, '-c', CLIENT, addr, str(port), str(stream), str(timeout), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    # --- nfx itself -------------------------------------------------------------------

    def test_ping_to_nfx_itself(self):
        for addr in ('192.168.1.1', 'fd00:1::1'):
            r = self.lan.run('ping', '-c', '2', '-W', '2', addr)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn('2 received', r.stdout)

    def test_ttl_expiry_answered_with_time_exceeded(self):
        r = self.lan.run('ping', '-c', '1', '-W', '2', '-t', '1', '203.0.113.1')
        self.assertIn('From 192.168.1.1', r.stdout)
        self.assertIn('Time to live exceeded', r.stdout)

    # --- NAT --------------------------------------------------------------------------

    def test_masquerade_the_server_sees_the_gateway(self):
        lines = self.connect(self.lan, '203.0.113.1', 7000)
        self.assertRegex(lines[0], r'^peer 203\.0\.113\.2 \d+$')

    def test_http_download_through_masquerade(self):
        r = subprocess.run(['ip', 'netns', 'exec', self.lan.ns, 'curl', '-sS', '-m', '10',
                            'http://203.0.113.1:8000/blob.bin'], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.blob)

    def test_port_forward_reaches_the_lan_web_server(self):
        r = self.wan.run('curl', '-sS', '-m', '10', 'http://203.0.113.2:8080/index.html', timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, 'hello from the web server\n')

    def test_dns_like_udp_exchange(self):
        r = self.lan.run(PY, '-c', UDP_CLIENT, '203.0.113.1', '5353')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), r'^A 4242 www\.example peer 203\.0\.113\.2 \d+$')

    def test_ftp_passive_and_active_through_nat(self):
        modes = {'passive (EPSV)': [], 'passive (PASV)': ['--disable-epsv'], 'active (EPRT)': ['-P', '-'],
                 'active (PORT)': ['-P', '-', '--disable-eprt']}
        for mode, opts in modes.items():
            with self.subTest(mode=mode):
                r = subprocess.run(['ip', 'netns', 'exec', self.lan.ns, 'curl', '-sS', '-m', '15', *opts,
                                    'ftp://203.0.113.1/blob.bin'], capture_output=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, self.blob)

    # --- stateful filtering -----------------------------------------------------------

    def test_new_connections_from_the_wan_are_rejected_with_icmp(self):
        # the LAN web server listens; only the ruleset keeps the WAN out
        lines = self.connect(self.wan, '192.168.1.10', 80)
        self.assertEqual(lines, [f'errno {errno.EHOSTUNREACH}'])

    def test_ipv6_is_forwarded_and_only_replies_come_back(self):
        r = self.lan.run('ping', '-c', '1', '-W', '2', 'fd00:2::1')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.wan.run('ping', '-c', '1', '-W', '2', 'fd00:1::10')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Administratively prohibited', r.stdout)

    # --- operating it -----------------------------------------------------------------

    def test_list_ruleset_shows_live_counters(self):
        def reject_counter():
            out = self.topo.ctl('list', 'ruleset').stdout
            m = re.search(r'counter packets (\d+) bytes (\d+) reject with icmpx admin-prohibited', out)
            self.assertIsNotNone(m, out)
            return int(m.group(1))
        before = reject_counter()
        self.connect(self.wan, '192.168.1.10', 80)
        self.assertGreaterEqual(reject_counter(), before + 1)

    def test_list_and_flush_conntrack(self):
        self.connect(self.lan, '203.0.113.1', 7000)
        out = self.topo.ctl('list', 'conntrack').stdout
        self.assertRegex(out, r'tcp +6 \d+ \w+ src=192\.168\.1\.10 dst=203\.0\.113\.1 sport=\d+ dport=7000 '
                              r'src=203\.0\.113\.1 dst=203\.0\.113\.2 sport=7000 dport=\d+')
        r = self.topo.ctl('flush', 'conntrack')
        self.assertRegex(r.stdout, r'\d+ flow entries have been deleted')
        self.assertNotIn('dport=7000', self.topo.ctl('list', 'conntrack').stdout)

    def test_stats_count_interfaces_hooks_and_jit(self):
        self.lan.run('ping', '-c', '1', '-W', '2', '203.0.113.1')
        out = self.topo.ctl('stats').stdout
        self.assertRegex(out, r'interface lan0: rx [1-9]\d* packets')
        self.assertRegex(out, r'interface wan0: rx [1-9]\d* packets')
        self.assertRegex(out, r'hook ip forward: [1-9]\d* packets')
        self.assertRegex(out, r'packets: forwarded [1-9]')
        self.assertRegex(out, r'jit: (native|compiling)')

    def test_reload_under_load_keeps_connections(self):
        total = 400_000  # about 4 s at the server's pace
        result = {}

        def download():
            result['lines'] = self.connect(self.lan, '203.0.113.1', 7000, stream=total, timeout=30)
        t = threading.Thread(target=download)
        t.start()
        time.sleep(0.5)
        loads = []
        for _ in range(5):
            r = self.topo.ctl('reload', GATEWAY)
            self.assertIn('connection tracking kept', r.stdout)
            loads.append(r)
            time.sleep(0.4)
        t.join(60)
        self.assertEqual(result['lines'][-1], f'received {total}', result)

    def test_broken_reload_is_refused_and_the_running_ruleset_stays(self):
        before = re.search(r'loads: (\d+)', self.topo.ctl('stats').stdout).group(1)
        r = self.topo.ctl('reload', BROKEN, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('broken.nft:6:11-12: Error: Value 99 exceeds valid range 0-63', r.stderr)
        self.assertIn('^^', r.stderr)
        after = re.search(r'loads: (\d+)', self.topo.ctl('stats').stdout).group(1)
        self.assertEqual(before, after)
        self.assertRegex(self.connect(self.lan, '203.0.113.1', 7000)[0], r'^peer 203\.0\.113\.2 ')
        self.assertEqual(self.connect(self.wan, '192.168.1.10', 80), [f'errno {errno.EHOSTUNREACH}'])

    def test_sighup_reloads_the_start_file(self):
        before = int(re.search(r'loads: (\d+)', self.topo.ctl('stats').stdout).group(1))
        os.kill(self.topo.proc.pid, signal.SIGHUP)  # ip netns exec execs nfx: the same process
        deadline = time.time() + 10
        while time.time() < deadline:
            now = int(re.search(r'loads: (\d+)', self.topo.ctl('stats').stdout).group(1))
            if now > before:
                break
            time.sleep(0.1)
        self.assertGreater(now, before)

    def test_reject_with_tcp_reset_seen_as_connection_refused(self):
        # a server listens on port 9: only the rule answers with a reset
        try:
            self.topo.ctl('reload', os.path.join(HERE, 'reset.nft'))
            self.assertEqual(self.connect(self.lan, '203.0.113.1', 9), [f'errno {errno.ECONNREFUSED}'])
            self.assertRegex(self.connect(self.lan, '203.0.113.1', 7000)[0], r'^peer 203\.0\.113\.2 ')
        finally:
            self.topo.ctl('reload', GATEWAY)
        self.assertRegex(self.connect(self.lan, '203.0.113.1', 9)[0], r'^peer 203\.0\.113\.2 ')

    def test_log_statement_writes_the_kernel_format(self):
        try:
            self.topo.ctl('reload', os.path.join(HERE, 'logging.nft'))
            self.connect(self.lan, '203.0.113.1', 7000)
        finally:
            self.topo.ctl('reload', GATEWAY)
        log = self.topo.read_log()
        self.assertRegex(log, r'nfx-e2e: IN=lan0 OUT=wan0 MAC=([0-9a-f]{2}:){13}[0-9a-f]{2} SRC=192\.168\.1\.10 '
                              r'DST=203\.0\.113\.1 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=\d+ DF PROTO=TCP SPT=\d+ '
                              r'DPT=7000 WINDOW=\d+ RES=0x00 SYN URGP=0')


def kernel_router(tag):
    """client --veth-- kernel router --veth-- far: the namespaces, and a
    function that tears them down. The client is 192.0.2.10; beyond the
    router lies 198.51.100.0/24."""
    c, r, f = (f'{tag}{os.getpid() % 100000}-{x}' for x in 'crf')
    down = lambda: [subprocess.run(['ip', 'netns', 'del', ns], capture_output=True) for ns in (c, r, f)]
    try:
        for cmd in (['netns', 'add', c], ['netns', 'add', r], ['netns', 'add', f],
                    ['-n', c, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', r],
                    ['-n', r, 'link', 'add', 'v2', 'type', 'veth', 'peer', 'name', 'v3', 'netns', f],
                    ['-n', c, 'addr', 'add', '192.0.2.10/24', 'dev', 'v0'], ['-n', r, 'addr', 'add', '192.0.2.1/24', 'dev', 'v1'],
                    ['-n', r, 'addr', 'add', '198.51.100.1/24', 'dev', 'v2'],
                    ['-n', c, 'link', 'set', 'v0', 'up'], ['-n', r, 'link', 'set', 'v1', 'up'],
                    ['-n', r, 'link', 'set', 'v2', 'up'], ['-n', f, 'link', 'set', 'v3', 'up'],
                    ['-n', c, 'route', 'add', 'default', 'via', '192.0.2.1']):
            subprocess.run(['ip', *cmd], check=True, capture_output=True)
        subprocess.run(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], check=True)
    except BaseException:
        down()
        raise
    return c, down


class IcmpRateLimits(unittest.TestCase):
    """The stack's ICMP errors are rate limited as the kernel's are
    (net.ipv4.icmp_ratelimit: a burst of six to one destination, then one a
    second); the kernel is asked in the same test."""

    BURST = ('ping', '-n', '-c', '20', '-i', '0.001', '-W', '1', '-t', '1')

    def test_a_burst_of_expiring_packets_gets_the_kernels_count_of_errors(self):
        client, down = kernel_router('krl')
        try:
            r = subprocess.run(['ip', 'netns', 'exec', client, *self.BURST, '198.51.100.9'], capture_output=True,
                               text=True, timeout=30)
            kernel = r.stdout.count('Time to live exceeded')
        finally:
            down()
        args = GATEWAY_ARGS + ['--ruleset', os.path.join(HERE, 'open.nft')]
        with Topology(NFX, {'lan': LAN, 'wan': WAN}, args, tag='rl') as topo:
            lan = topo.hosts['lan']
            r = lan.run(*self.BURST, '203.0.113.1')
            first = r.stdout.count('Time to live exceeded')
            time.sleep(2.5)  # two tokens come back, one a second
            r = lan.run('ping', '-n', '-c', '5', '-i', '0.001', '-W', '1', '-t', '1', '203.0.113.1')
            later = r.stdout.count('Time to live exceeded')
            stats = topo.ctl('stats').stdout
        self.assertEqual(kernel, 6, 'the kernel answered a burst of 20 with this many errors')
        self.assertEqual(first, kernel, r.stdout)
        self.assertIn(later, (2, 3), r.stdout)
        self.assertIn(f'icmp errors rate-limited: all destinations 0, per destination {20 - first + 5 - later}',
                      stats)


class LiveListing(unittest.TestCase):
    """Sets the packet path fills (add/update from the input hook) and the
    quotas it uses, as `nfx ctl list ruleset` shows them and as the
    kernel's `nft list ruleset` shows them after the same connection
    attempt."""

    RULES = os.path.join(HERE, 'dynamic_sets.nft')
    CONNECT = 'import socket\ntry: socket.create_connection((%r, 22), timeout=2)\nexcept OSError: pass\n'

    @staticmethod
    def alike(listing, client):
        """The listing with the client's address and the time left (which
        differ between the two runs) made alike."""
        text = listing.replace(client, 'CLIENT')
        text = re.sub(r'expires (\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?', 'expires T', text)
        return re.sub(r'\t# count \d+', '', text)  # nft 1.1 prints the count, Debian's 1.0.6 does not

    def test_set_elements_and_quotas_the_packet_path_changed_are_listed_as_the_kernel_lists_them(self):
        client, down = kernel_router('kds')
        try:
            router = client[:-1] + 'r'
            subprocess.run(['ip', 'netns', 'exec', router, 'nft', '-f', self.RULES], check=True)
            subprocess.run(['ip', 'netns', 'exec', client, PY, '-c', self.CONNECT % '192.0.2.1'], timeout=10)
            kernel = subprocess.run(['ip', 'netns', 'exec', router, 'nft', 'list', 'ruleset'], capture_output=True,
                                    text=True, check=True).stdout
        finally:
            down()
        with Topology(NFX, {'lan': LAN, 'wan': WAN}, GATEWAY_ARGS + ['--ruleset', self.RULES], tag='ds') as topo:
            before = topo.ctl('list', 'ruleset').stdout
            topo.hosts['lan'].run(PY, '-c', self.CONNECT % '192.168.1.1', timeout=10)
            after = topo.ctl('list', 'ruleset').stdout
        expected = self.alike(kernel, '192.0.2.10')
        self.assertIn('elements = { CLIENT counter packets 1 bytes 60 timeout 30s expires T }', expected)
        self.assertIn('over 2 kbytes used 1084 bytes', expected)
        self.assertEqual(self.alike(after, '192.168.1.10'), expected)
        self.assertNotIn('192.168.1.10', before)
        self.assertIn('quota 25 mbytes\n', before)


class PathMtu(unittest.TestCase):
    """A 1400-byte link towards the WAN: too big with DF is answered, without DF cut."""

    def test_fragmentation_needed_and_packet_too_big(self):
        args = GATEWAY_ARGS + ['--mtu', 'wan0=1400', '--ruleset', os.path.join(HERE, 'open.nft')]
        with Topology(NFX, {'lan': LAN, 'wan': WAN}, args, tag='mtu') as topo:
            lan = topo.hosts['lan']
            r = lan.run('ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '1400', '203.0.113.1')
            self.assertIn('Frag needed and DF set (mtu = 1400)', r.stdout)
            r = lan.run('ping', '-c', '1', '-W', '2', '-M', 'dont', '-s', '3000', '203.0.113.1')
            self.assertEqual(r.returncode, 0, r.stdout)
            r = lan.run('ping', '-c', '1', '-W', '2', '-s', '1400', 'fd00:2::1')
            self.assertIn('Packet too big: mtu=1400', r.stdout)


class Bridge(unittest.TestCase):
    """A bump in the wire: same subnet on both sides, the bridge family's hooks."""

    def test_bridge_forwards_and_filters(self):
        a = ('bra', ['10.0.0.1/24'], [])
        b = ('brb', ['10.0.0.2/24'], [])
        args = ['--bridge', '--tap', 'bra', '--tap', 'brb', '--ruleset', os.path.join(HERE, 'bridge.nft')]
        with Topology(NFX, {'a': a, 'b': b}, args, tag='br') as topo:
            ha, hb = topo.hosts['a'], topo.hosts['b']
            servers = [hb.spawn(PY, PEER, 'tcp', '10.0.0.2', '7000'), hb.spawn(PY, PEER, 'tcp', '10.0.0.2', '23')]
            try:
                for s in servers:
                    wait_ready(s)
                r = ha.run('ping', '-c', '2', '-W', '2', '10.0.0.2')
                self.assertIn('2 received', r.stdout)
                r = ha.run(PY, '-c', CLIENT, '10.0.0.2', '7000', '0', '5')
                self.assertRegex(r.stdout, r'^peer 10\.0\.0\.1 \d+')  # no NAT on a bridge
                r = ha.run(PY, '-c', CLIENT, '10.0.0.2', '23', '0', '1.5')
                self.assertEqual(r.stdout.strip(), 'errno None')  # dropped: the connect times out
                self.assertRegex(topo.ctl('list', 'ruleset').stdout, r'tcp dport 23 counter packets [1-9]')
            finally:
                for s in servers:
                    s.kill()
                    s.communicate()


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_cleanly(self):
        args = GATEWAY_ARGS + ['--ruleset', GATEWAY]
        topo = Topology(NFX, {'lan': LAN, 'wan': WAN}, args, tag='term')
        with topo:
            self.assertEqual(topo.hosts['lan'].run('ping', '-c', '1', '-W', '2', '192.168.1.1').returncode, 0)
            # a second nfx run on the same control socket is refused and leaves it alone
            ns = f'nfx-second{os.getpid()}'
            subprocess.run(['ip', 'netns', 'add', ns], check=True)
            try:
                r = subprocess.run(['ip', 'netns', 'exec', ns, NFX, 'run', '--control', topo.socket, '--tap',
                                    'x0=10.0.0.1/24', '--ruleset', GATEWAY], capture_output=True, text=True, timeout=20)
            finally:
                subprocess.run(['ip', 'netns', 'del', ns])
            self.assertEqual(r.returncode, 1)
            self.assertIn('another nfx run listens there', r.stderr)
            self.assertIn('loads: 1', topo.ctl('stats').stdout)
            topo.proc.send_signal(signal.SIGTERM)
            self.assertEqual(topo.proc.wait(timeout=10), 0)
            self.assertFalse(os.path.exists(topo.socket))
            self.assertIn('nfx run: stopped', topo.read_log())

    def test_config_file_and_two_workers(self):
        """The command line's options from a file; two workers, each on its own queue of each TAP."""
        conf_dir = tempfile.mkdtemp(prefix='nfx-conf-')
        self.addCleanup(shutil.rmtree, conf_dir, True)
        conf = os.path.join(conf_dir, 'nfx.conf')
        with open(conf, 'w') as f:
            f.write('# the gateway, as a config file\n'
                    'tap lan0=192.168.1.1/24,fd00:1::1/64\n'
                    'tap wan0=203.0.113.2/24,fd00:2::2/64\n'
                    'route default=203.0.113.1\n'
                    f'ruleset {os.path.relpath(GATEWAY, os.path.dirname(conf))}\n'
                    'workers 2\n')
        with Topology(NFX, {'lan': LAN, 'wan': WAN}, ['--config', conf], tag='cfg') as topo:
            lan, wan = topo.hosts['lan'], topo.hosts['wan']
            server = wan.spawn(PY, PEER, 'tcp', '203.0.113.1', '7000')
            try:
                wait_ready(server)
                r = lan.run('ping', '-c', '3', '-i', '0.2', '-W', '2', '203.0.113.1')
                self.assertIn('3 received', r.stdout)
                for _ in range(4):  # flows hash to either queue
                    r = lan.run(PY, '-c', CLIENT, '203.0.113.1', '7000', '20000', '10')
                    self.assertEqual(r.stdout.splitlines()[-1], 'received 20000', r.stdout + r.stderr)
                self.assertRegex(topo.ctl('stats').stdout, r'ruleset: .*gateway\.nft')
            finally:
                server.kill()
                server.communicate()

    def test_bad_command_lines_are_refused(self):
        cases = [
            (['--tap', 'lan0=192.168.1.300/24', '--ruleset', GATEWAY], "'192.168.1.300' is not an IPv4 or IPv6"),
            (['--tap', 'lan0=10.0.0.1/24', '--route', 'default=192.0.2.1', '--ruleset', GATEWAY],
             'gateway 192.0.2.1 is on no connected network'),
            (['--tap', 'lan0=10.0.0.1/24', '--ruleset', BROKEN], 'broken.nft:6:11-12: Error'),
            (['--tap', 'lan0=10.0.0.1/24'], 'no ruleset'),
            (['--config', '/nonexistent/nfx.conf'], '/nonexistent/nfx.conf: cannot read the file'),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                ns = f'nfx-bad{os.getpid()}'
                subprocess.run(['ip', 'netns', 'add', ns], check=True)
                try:
                    r = subprocess.run(['ip', 'netns', 'exec', ns, NFX, 'run', '--control', f'/tmp/{ns}.sock', *args],
                                       capture_output=True, text=True, timeout=20)
                finally:
                    subprocess.run(['ip', 'netns', 'del', ns])
                self.assertEqual(r.returncode, 1)
                self.assertIn(message, r.stderr)


if __name__ == '__main__':
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    NFX = os.path.abspath(sys.argv.pop(1))
    require_root()
    unittest.main(verbosity=2)
