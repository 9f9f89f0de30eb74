#!/bin/sh
# Kernel oracle for `nfx fmt`: each example ruleset is loaded into a fresh
# network namespace with `nft -f`, listed back with `nft [-a] list ruleset`,
# and compared with `nfx fmt [-a]` on the same file (handles included).
#
# Two named differences are normalised away; both are listing-format changes
# between Debian 12's nft 1.0.6 and nft 1.1 (the version the corpus dumps
# come from, which nfx follows), not kernel behaviour:
#  - nft 1.1 wraps map elements one per line; 1.0.6 keeps short keys on one;
#  - nft 1.1 lists a packet limit's default burst (`burst 5 packets`); 1.0.6 omits it.
#
# usage: fmt_oracle.sh PATH/TO/nfx EXAMPLES_DIR
set -u
nfx=$1 examples=$2
if [ "$(id -u)" -ne 0 ]; then echo "fmt_oracle: needs root (network namespaces, nft)" >&2; exit 1; fi
command -v nft >/dev/null || { echo "fmt_oracle: nft is not installed" >&2; exit 1; }
unshare -n true 2>/dev/null || { echo "fmt_oracle: cannot create a network namespace" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unwrap() {
  awk '{ if (sub(/^\t\t\t     /, "")) printf " %s", $0; else { if (NR > 1) printf "\n"; printf "%s", $0 } } END { printf "\n" }' |
    sed 's/ burst 5 packets//g'
}

failed=0 checked=0
for f in "$examples"/*.nft; do
  # Files that are meant to be rejected must be rejected by both.
  if ! nft -c -f "$f" >/dev/null 2>&1; then
    if "$nfx" check "$f" >/dev/null 2>&1; then
      echo "MISMATCH $(basename "$f"): nft rejects it, nfx accepts it"; failed=1
    fi
    checked=$((checked + 1))
    continue
  fi
  for opt in "" "-a"; do
    unshare -n sh -c "nft -f '$f' && nft $opt list ruleset" | unwrap > "$work/kernel" || { echo "nft failed on $f"; failed=1; continue; }
    "$nfx" fmt $opt "$f" | unwrap > "$work/nfx" || { echo "nfx fmt failed on $f"; failed=1; continue; }
    if ! diff -u "$work/kernel" "$work/nfx" > "$work/diff"; then
      echo "MISMATCH $(basename "$f") (fmt $opt) kernel vs nfx:"; cat "$work/diff"; failed=1
    fi
    checked=$((checked + 1))
  done
done
[ "$checked" -gt 0 ] || { echo "fmt_oracle: no examples in $examples" >&2; exit 1; }
echo "fmt_oracle: $checked comparisons, $( [ $failed -eq 0 ] && echo "all equal" || echo "mismatches above")"
exit $failed
