#!/bin/sh
# Parse-and-check benchmark: `nfx check` against `nft -c -f` on the same
# 10,000-rule file, best of several runs each, in the same run.
# usage: parse_bench.sh PATH/TO/nfx [RULES] [RUNS]
set -eu
nfx=$1 rules=${2:-10000} runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file=$work/rules.nft
awk -v n="$rules" -f "$(dirname "$0")/gen_rules.awk" > "$file"

best() {  # best wall time in ns of "$@" over $runs runs
  best_ns=
  i=0
  while [ $i -lt "$runs" ]; do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; echo "bench: '$*' failed" >&2; exit 1; }
    t1=$(date +%s%N)
    d=$((t1 - t0))
    if [ -z "$best_ns" ] || [ $d -lt "$best_ns" ]; then best_ns=$d; fi
    i=$((i + 1))
  done
  echo "$best_ns"
}

nfx_ns=$(best "$nfx" check "$file")
if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null; then
  echo "bench: nft -c needs root and the nftables package; peer not measured" >&2
  exit 1
fi
# nft -c talks to the kernel for its cache; give it a private network namespace.
nft_ns=$(best unshare -n nft -c -f "$file")
unshare_ns=$(best unshare -n true)
nft_ns=$((nft_ns - unshare_ns))
awk -v r="$rules" -v a="$nfx_ns" -v b="$nft_ns" 'BEGIN {
  printf "{\"bench\": \"parse_check\", \"rules\": %d, \"nfx_ms\": %.1f, \"nft_ms\": %.1f, \"nft_over_nfx\": %.2f}\n",
    r, a / 1e6, b / 1e6, b / a }'
