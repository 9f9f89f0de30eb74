#!/bin/sh
# The bundled examples against the kernel: every example names the oracle
# path it is written for (`# nfx-path: bridge|forward|input`) and runs
# 10,000 random frames through nfx_difftest; an example that nfx cannot
# run yet says why in a `# nfx-difftest:` line, which is printed.
# usage: examples.sh NFX_DIFFTEST NFX_KERNEL_ORACLE EXAMPLES_DIR
set -u
difftest=${1:?usage: examples.sh NFX_DIFFTEST NFX_KERNEL_ORACLE EXAMPLES_DIR}
oracle=${2:?}
dir=${3:?}
status=0
ran=0
for f in "$dir"/*.nft; do
  name=$(basename "$f")
  path=$(sed -n 's/^# nfx-path: *\([a-z]*\).*/\1/p' "$f" | head -1)
  why=$(sed -n 's/^# nfx-difftest: *//p' "$f" | head -1)
  if [ -n "$path" ]; then
    if "$difftest" --oracle "$oracle" --ruleset "$f" --path "$path" --frames 10000 --seed 7; then
      ran=$((ran + 1))
    else
      status=1
    fi
  elif [ -n "$why" ]; then
    echo "NOT RUN: $name: $why"
  else
    echo "FAIL: $name names no '# nfx-path:' and no '# nfx-difftest:' reason" >&2
    status=1
  fi
done
echo "examples: $ran run against the kernel"
[ "$ran" -gt 0 ] || status=1
exit $status
