#!/bin/sh
# Runs each libFuzzer target for a bounded time, seeded from the corpus.
# usage: run.sh FUZZ_BUILD_DIR SECONDS_PER_TARGET CORPUS_DIR
set -eu
build=$1 seconds=$2 corpus=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seeds: the shell dumps for the text parser, the JSON dumps for the JSON reader,
# a few frames for the packet model.
mkdir -p "$work/nft" "$work/json" "$work/packet"
find "$corpus/nftables/shell" -name '*.nft' -exec cp {} "$work/nft/" \; 2>/dev/null || true
find "$corpus/nftables/shell" -name '*.json-nft' -exec cp {} "$work/json/" \; 2>/dev/null || true
if [ -z "$(ls "$work/nft")" ]; then
  echo "fuzz: no seed files under $corpus/nftables/shell" >&2
  exit 1
fi

# Ethernet + IPv4 + TCP with options; Ethernet + VLAN + IPv6 + hop-by-hop +
# fragment + UDP; the bare IPv4 packet (RawIp).
printf '\002\000\000\000\000\002\002\000\000\000\000\001\010\000\106\000\000\060\022\064\000\000\100\006\000\000\300\000\002\001\306\063\144\002\224\004\000\000\000\001\000\002\000\000\000\001\000\000\000\000\140\002\372\360\000\000\000\000\002\004\005\264' >"$work/packet/tcp4"
printf '\002\000\000\000\000\002\002\000\000\000\000\001\201\000\000\052\206\335\140\000\000\000\000\030\000\100\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\001\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\002\054\000\001\004\000\000\000\000\021\000\000\001\000\000\000\007\000\001\000\002\000\010\000\000' >"$work/packet/udp6"
printf '\105\000\000\034\000\001\000\000\100\001\000\000\300\000\002\001\306\063\144\002\010\000\000\000\000\001\000\001' >"$work/packet/icmp4"

run() {
  target=$1 seeds=$2
  echo "fuzz: $target for ${seconds}s"
  # -rss_limit_mb keeps a runaway allocation a finding, not a machine problem.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 "$seeds" 2>"$work/$target.log" || {
    tail -60 "$work/$target.log" >&2
    echo "fuzz: $target found a failure" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^Done' "$work/$target.log" || true
}
run fuzz_nft_parser "$work/nft"
run fuzz_nft_json "$work/json"
run fuzz_packet "$work/packet"
# conntrack's input: frames each behind a 2-byte length and a knobs byte
mkdir -p "$work/conntrack"
for f in "$work"/packet/tcp4 "$work"/packet/udp6; do
  n=$(wc -c <"$f")
  { printf "\\$(printf '%03o' $((n / 256)))\\$(printf '%03o' $((n % 256)))\\002"; cat "$f"; } >"$work/conntrack/$(basename "$f")"
done
run fuzz_conntrack "$work/conntrack"
# the stateful forward path takes the same framing; seeded with NAT and FTP exchanges
mkdir -p "$work/nat"
cp "$work"/conntrack/* "$work/nat/"
/usr/bin/python3 "$(dirname "$0")/nat_seeds.py" "$work/nat"
run fuzz_nat_path "$work/nat"
# the element takes the same framing too
run fuzz_router "$work/nat"
echo "fuzz: no failures"
