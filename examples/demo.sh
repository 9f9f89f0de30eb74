#!/bin/sh
# `make demo`: nfx as a network element. Two namespaced hosts, a LAN client
# (192.168.1.10) and a WAN server (203.0.113.1), sit on TAP devices with
# `nfx run` between them running examples/gateway.nft: stateful filtering,
# masquerade, a port forward to the LAN web server, the FTP helper. Real
# traffic goes through it (ping, HTTP, FTP passive and active), then nfx's
# counters, its conntrack table, and a clean teardown.
# usage: demo.sh PATH/TO/nfx          (as root: namespaces and TAP devices)
set -u
nfx=$(readlink -f "${1:?usage: demo.sh PATH/TO/nfx}")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
id=demo$$
ns_nfx=nfx-$id ns_lan=lan-$id ns_wan=wan-$id
sock=/tmp/nfx-$id.sock log=/tmp/nfx-$id.log www=$(mktemp -d /tmp/nfx-www.XXXXXX)
status=0 nfx_pid=

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*" >&2; }  # stderr: not part of a captured output
lan() { show "[lan] $*"; ip netns exec "$ns_lan" "$@"; }
wan() { show "[wan] $*"; ip netns exec "$ns_wan" "$@"; }
ctl() { show "nfx ctl $*"; "$nfx" ctl --control "$sock" "$@"; }
# verdict TEXT: ok if the command before it succeeded, FAILED (and exit 1 at the end) if not
verdict() { if [ $? -eq 0 ]; then printf '\033[32mok\033[0m: %s\n' "$1"; else printf '\033[31mFAILED\033[0m: %s\n' "$1"; status=1; fi; }

teardown() {
  [ -n "$nfx_pid" ] && kill -TERM "$nfx_pid" 2>/dev/null && wait "$nfx_pid" 2>/dev/null
  for ns in "$ns_lan" "$ns_wan"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  ip netns del "$ns_nfx" 2>/dev/null
  rm -rf "$www" "$log"
}
trap teardown EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: nfx run needs root (network namespaces, TAP devices); run make demo as root" >&2
  exit 1
fi

section "nfx check: rulesets are checked as nft -c -f checks them"
"$nfx" check "$here/gateway.nft"; verdict "gateway.nft is a valid ruleset"
"$nfx" check "$here/broken.nft"; [ $? -eq 1 ]; verdict "broken.nft is refused with nft's errors (exit 1)"

section "the network: [lan 192.168.1.10] --lan0-- [nfx run] --wan0-- [wan 203.0.113.1]"
ip netns add "$ns_nfx"; ip netns add "$ns_lan"; ip netns add "$ns_wan"
for ns in "$ns_lan" "$ns_wan"; do   # name lookups fail at once in the hosts
  mkdir -p "/etc/netns/$ns" && echo "nameserver 127.0.0.1" > "/etc/netns/$ns/resolv.conf"
done
show "nfx run --tap lan0=192.168.1.1/24 --tap wan0=203.0.113.2/24 --route default=203.0.113.1 --ruleset examples/gateway.nft"
ip netns exec "$ns_nfx" "$nfx" run --tap lan0=192.168.1.1/24,fd00:1::1/64 --tap wan0=203.0.113.2/24,fd00:2::2/64 \
  --route default=203.0.113.1 --route default6=fd00:2::1 --ruleset "$here/gateway.nft" --control "$sock" \
  >"$log" 2>&1 &
nfx_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$log"; echo "nfx run did not start" >&2; exit 1; }
head -1 "$log"
# each TAP's kernel side becomes its host's network card
ip -n "$ns_nfx" link set lan0 netns "$ns_lan"
ip -n "$ns_nfx" link set wan0 netns "$ns_wan"
ip -n "$ns_lan" addr add 192.168.1.10/24 dev lan0; ip -n "$ns_lan" link set lan0 up; ip -n "$ns_lan" link set lo up
ip -n "$ns_lan" route add default via 192.168.1.1
ip -n "$ns_wan" addr add 203.0.113.1/24 dev wan0; ip -n "$ns_wan" link set wan0 up; ip -n "$ns_wan" link set lo up
echo "the LAN host routes through 192.168.1.1 (nfx); the WAN host knows nothing of the LAN"

echo "hello from the WAN web server" > "$www/index.html"
echo "a file on the WAN FTP server" > "$www/readme.txt"
head -c 200000 /dev/urandom > "$www/blob.bin"
ip netns exec "$ns_wan" $py -m http.server -d "$www" -b 203.0.113.1 8000 >/dev/null 2>&1 &
ip netns exec "$ns_wan" $py -m pyftpdlib -i 203.0.113.1 -p 21 -d "$www" >/dev/null 2>&1 &
mkdir -p "$www/lan" && echo "hello from the LAN web server (port-forwarded)" > "$www/lan/index.html"
ip netns exec "$ns_lan" $py -m http.server -d "$www/lan" -b 192.168.1.10 80 >/dev/null 2>&1 &
for _ in $(seq 100); do
  [ "$(ip netns exec "$ns_wan" ss -Htln | grep -c -e ':8000 ' -e ':21 ')" = 2 ] &&
    ip netns exec "$ns_lan" ss -Htln | grep -q ':80 ' && break
  sleep 0.1
done

section "ping: nfx answers for itself, and forwards"
out=$(lan ping -c 2 -W 2 192.168.1.1); echo "$out" | tail -2
echo "$out" | grep -q " 2 received"; verdict "nfx answers ping on its LAN address"
out=$(lan ping -c 2 -W 2 203.0.113.1); echo "$out" | tail -2
echo "$out" | grep -q " 2 received"; verdict "ping through nfx to the WAN host"
out=$(lan ping -c 1 -W 2 -t 1 203.0.113.1); echo "$out" | grep "From"
echo "$out" | grep -q "Time to live exceeded"; verdict "TTL 1: nfx answers time exceeded"

section "HTTP through masquerade, and the port forward the other way"
out=$(lan curl -sS -m 10 http://203.0.113.1:8000/index.html); echo "$out"
[ "$out" = "hello from the WAN web server" ]; verdict "the LAN client fetched a page from the WAN"
out=$(wan curl -sS -m 10 http://203.0.113.2:8080/); echo "$out"
[ "$out" = "hello from the LAN web server (port-forwarded)" ]; verdict "203.0.113.2:8080 reached the LAN server"
echo "the WAN host is now told the LAN lies behind nfx, and tries to connect to the LAN directly:"
ip -n "$ns_wan" route add 192.168.1.0/24 via 203.0.113.2
wan curl -sS -m 5 http://192.168.1.10/
[ $? -eq 7 ]; verdict "a new connection from the WAN is refused (reject with icmpx admin-prohibited)"

section "FTP download through NAT with the ftp helper"
for mode in "passive:" "active:-P -"; do
  name=${mode%%:*} opts=${mode#*:}
  rm -f "$www/got.bin"
  # shellcheck disable=SC2086
  lan curl -sS -m 15 $opts -o "$www/got.bin" ftp://203.0.113.1/blob.bin
  cmp -s "$www/got.bin" "$www/blob.bin"; verdict "$name FTP: 200000 bytes, identical"
done

section "the counters, as nft list ruleset shows them"
ctl list ruleset | sed -n '/chain forward/,/^\t}/p'

section "the connection tracking table, as conntrack -L shows it"
ctl list conntrack | grep -v -e "dport=53 " | head -20

section "statistics"
ctl stats

section "a broken ruleset is refused; the running one keeps going"
ctl reload "$here/broken.nft"; [ $? -ne 0 ]; verdict "reload refused"
lan curl -sS -m 5 http://203.0.113.1:8000/index.html >/dev/null; verdict "traffic still flows"
ctl reload "$here/gateway.nft"; verdict "a good reload keeps the connection table"

section "teardown"
show "kill -TERM nfx"
kill -TERM "$nfx_pid"; wait "$nfx_pid"; rc=$?; nfx_pid=
tail -1 "$log"
[ "$rc" -eq 0 ]; verdict "nfx run stopped cleanly (exit 0)"
! [ -e "$sock" ]; verdict "its control socket is gone"
exit $status
