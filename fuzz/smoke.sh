#!/usr/bin/env bash
# CI smoke: build the fuzz targets, then fuzz each one for SECONDS (default 60) with every
# sanitizer check (fuzz_TARGET builds), starting from the committed seed corpus, in a
# throw-away corpus directory, then replays that corpus through the numpy reference (replay.py).
# Exit 1 on the first crash, leak, timeout, failed check or numpy mismatch.
#   bash fuzz/smoke.sh [SECONDS]      # 4 targets x 60 s = about 4.5 minutes with the build
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${PNETC_FUZZ_BUILD:-$HERE/build}"
seconds="${1:-60}"
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$(dirname "$HERE")/${PNETC_VENV:-.venv}/bin/python"
  [ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
fi
export PYTHON PNETC_FUZZ_BUILD="$OUT"
FUZZ_BUILD_FAST=0 bash "$HERE/build.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in dense ternary_table text kernels; do
  case "$target" in
    text) max_len=1048576 ;;
    kernels) max_len=4096 ;;
    *) max_len=256 ;;
  esac
  mkdir -p "$work/$target"
  echo "smoke: $target for $seconds s" >&2
  "$OUT/fuzz_$target" -max_len="$max_len" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/$target" "$HERE/corpus/$target" 2>"$work/$target.log" || {
    tail -n 40 "$work/$target.log" >&2
    echo "smoke: $target FAILED" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units" "$work/$target.log" | sed "s/^/smoke: $target /" >&2
  "$PYTHON" "$HERE/replay.py" "$target" "$HERE/corpus/$target" "$work/$target" | sed "s/^/smoke: /" >&2
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "smoke: $target differs from numpy" >&2; exit 1; }
done
echo "smoke: all targets clean" >&2
