"""A tiny server that tells each client the address it sees it come from.

TCP: answers each connection with "peer ADDR PORT\n" and, when the client
sends "stream N\n", N more bytes slowly (for reload-under-load tests).
UDP: a DNS-like exchange: a query datagram "Q <id> <name>" gets the answer
"A <id> <name> peer ADDR PORT".
usage: peer_server.py tcp|udp ADDR PORT
"""
import socket
import sys
import threading
import time


def tcp(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    print('ready', flush=True)

    def serve(c, peer):
        with c:
            c.sendall(f'peer {peer[0]} {peer[1]}\n'.encode())
            f = c.makefile('rb')
            line = f.readline().decode().split()
            if len(line) == 2 and line[0] == 'stream':
                left = int(line[1])
                while left > 0:
                    n = min(left, 1000)
                    c.sendall(b'x' * n)
                    left -= n
                    time.sleep(0.01)

    while True:
        c, peer = s.accept()
        threading.Thread(target=serve, args=(c, peer), daemon=True).start()


def udp(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print('ready', flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        q = data.decode(errors='replace').split()
        if len(q) == 3 and q[0] == 'Q':
            s.sendto(f'A {q[1]} {q[2]} peer {peer[0]} {peer[1]}'.encode(), peer)


if __name__ == '__main__':
    {'tcp': tcp, 'udp': udp}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
