#!/bin/sh
# The bundled examples through the JIT against the interpreter
# (nfx_difftest --against jit): every example nfx loads runs on all four
# paths (bridge, forward, input, output) under every JIT variant, with
# seeded random frames. An example nfx does not load is listed with its
# `# nfx-difftest:` reason (or nfx's error); one that names an oracle path
# (`# nfx-path:`) must load. The frames a file names (`# nfx-frame: HEX`,
# the regression cases in jit_cases/) run before the random ones.
# usage: jit_examples.sh NFX NFX_DIFFTEST EXAMPLES_DIR [FRAMES]
set -u
nfx=${1:?usage: jit_examples.sh NFX NFX_DIFFTEST EXAMPLES_DIR [FRAMES]}
difftest=${2:?}
dir=${3:?}
frames=${4:-10000}
status=0
ran=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# a pcap header (Ethernet) and no frames: does nfx load the ruleset?
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\001\000\000\000' >"$work/empty.pcap"
for f in "$dir"/*.nft; do
  name=$(basename "$f")
  if "$nfx" eval "$f" "$work/empty.pcap" --path input >"$work/load.out" 2>&1; then
    if "$difftest" --against jit --ruleset "$f" --path all --frames "$frames" --seed 7 --jit-variant all --show 4; then
      ran=$((ran + 1))
    else
      status=1
    fi
  else
    why=$(sed -n 's/^# nfx-difftest: *//p' "$f" | head -1)
    if grep -q '^# nfx-path:' "$f"; then
      echo "FAIL: $name names an oracle path but nfx does not load it:" >&2
      cat "$work/load.out" >&2
      status=1
    else
      echo "NOT RUN: $name: ${why:-$(head -1 "$work/load.out")}"
    fi
  fi
done
echo "$(basename "$dir"): $ran run through the jit and the interpreter"
[ "$ran" -gt 0 ] || status=1
exit $status
