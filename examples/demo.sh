#!/bin/sh
# `make demo`: what nfx does today, on the bundled examples.
# usage: demo.sh PATH/TO/nfx
set -u
nfx=${1:?usage: demo.sh PATH/TO/nfx}
here=$(dirname "$0")
status=0

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

for f in "$here"/gateway.nft "$here"/server.nft; do
  section "nfx check $(basename "$f")"
  if "$nfx" check "$f"; then echo "ok: $(basename "$f") is a valid ruleset"; else status=1; fi
  section "nfx fmt $(basename "$f")   (the ruleset as 'nft list ruleset' prints it)"
  "$nfx" fmt "$f" || status=1
done

section "nfx fmt -a -s gateway.nft   (handles, no counter values)"
"$nfx" fmt -a -s "$here"/gateway.nft || status=1

section "nfx fmt -j server.nft   (libnftables JSON)"
"$nfx" fmt -j "$here"/server.nft | head -40 || status=1
echo "..."

section "nfx check broken.nft   (errors as nft prints them; exit code 1 expected)"
"$nfx" check "$here"/broken.nft
rc=$?
echo "exit code: $rc"
[ "$rc" -eq 1 ] || status=1

exit $status
