#!/bin/sh
# Runs each libFuzzer target for a bounded time, seeded from the corpus.
# usage: run.sh FUZZ_BUILD_DIR SECONDS_PER_TARGET CORPUS_DIR
set -eu
build=$1 seconds=$2 corpus=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seeds: the shell dumps for the text parser, the JSON dumps for the JSON reader.
mkdir -p "$work/nft" "$work/json"
find "$corpus/nftables/shell" -name '*.nft' -exec cp {} "$work/nft/" \; 2>/dev/null || true
find "$corpus/nftables/shell" -name '*.json-nft' -exec cp {} "$work/json/" \; 2>/dev/null || true
if [ -z "$(ls "$work/nft")" ]; then
  echo "fuzz: no seed files under $corpus/nftables/shell" >&2
  exit 1
fi

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
echo "fuzz: no failures"
