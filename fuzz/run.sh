#!/usr/bin/env bash
# Run one fuzz campaign: bash fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
#
#   TARGET  dense | ternary_table | text | kernels
#   SECONDS wall-clock budget (-max_total_time); 0 = no time limit (then pass -runs=N)
#
# Runs fuzz_TARGET_fast (ASan + UBSan without the alignment/pointer-overflow checks, see
# build.sh), then replays the whole corpus once through fuzz_TARGET (every UBSan check).
# The working corpus grows in fuzz/build/corpus/TARGET (seeded from the committed
# fuzz/corpus/TARGET); crashes land in fuzz/build/artifacts/TARGET/. One worker (-jobs=1).
# Long campaign:  bash fuzz/run.sh TARGET 0 -runs=10000000
# Then compare the corpus with numpy:  python fuzz/replay.py TARGET
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${PNETC_FUZZ_BUILD:-$HERE/build}"
if [ $# -lt 2 ]; then
  echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target="$1"; seconds="$2"; shift 2
case "$target" in
  dense|ternary_table) max_len=256 ;;
  text) max_len=1048576 ;;   # 0 to 1 MB of text
  kernels) max_len=4096 ;;
  *) echo "fuzz/run.sh: unknown target '$target' (dense, ternary_table, text, kernels)" >&2; exit 2 ;;
esac
[ -x "$OUT/fuzz_${target}_fast" ] || bash "$HERE/build.sh"
corpus="$OUT/corpus/$target"
artifacts="$OUT/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
time_flag=()
[ "$seconds" != 0 ] && time_flag=(-max_total_time="$seconds")
"$OUT/fuzz_${target}_fast" -max_len="$max_len" "${time_flag[@]}" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$corpus" "$HERE/corpus/$target"
echo "run.sh: replaying the corpus through fuzz_$target (all UBSan checks)" >&2
"$OUT/fuzz_$target" -max_len="$max_len" -runs=0 -artifact_prefix="$artifacts/" "$corpus" "$HERE/corpus/$target"
