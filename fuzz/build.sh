#!/usr/bin/env bash
# Build the libFuzzer targets (and their replay twins) into fuzz/build, or $PNETC_FUZZ_BUILD.
#
#   bash fuzz/build.sh            # needs clang with libFuzzer (Debian: libclang-rt-14-dev) and gcc
#
# Targets: fuzz_dense, fuzz_ternary_table, fuzz_text (generated code of the three reference
# models from fuzz/make_models.py) and fuzz_kernels (runtime/src hash + projection kernels).
# Three builds per target:
#   fuzz_<target>       clang -fsanitize=fuzzer,address,undefined (every UBSan check): smoke, corpus replay
#   fuzz_<target>_fast  the same without UBSan's alignment and pointer-overflow checks, which cost
#                       4x in executions per second and test properties that do not depend on the
#                       input bytes (fixed arena offsets, fixed-size buffers); long campaigns use it and
#                       their corpus is then replayed once through fuzz_<target> (fuzz/run.sh does both)
#   replay_<target>     gcc -DFUZZ_REPLAY, prints each input's outputs for fuzz/replay.py
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="${PNETC_FUZZ_BUILD:-$HERE/build}"
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$ROOT/${PNETC_VENV:-.venv}/bin/python"
  [ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
fi
CLANG="${FUZZ_CC:-clang}"
GCC="${REPLAY_CC:-gcc}"
FUZZ_FLAGS=(-std=c99 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=all -fno-omit-frame-pointer)
FAST_FLAGS=("${FUZZ_FLAGS[@]}" -fno-sanitize=alignment,pointer-overflow)
REPLAY_FLAGS=(-std=c99 -O1 -Wall -Wextra -Werror -DFUZZ_REPLAY)

mkdir -p "$OUT"
"$PYTHON" "$HERE/make_models.py" "$OUT"

# The oracle of the kernels and text targets, built without sanitizers or coverage (see spec_ref.h).
"$CLANG" -std=c99 -O2 -Wall -Wextra -Werror -c "$HERE/targets/spec_ref.c" -o "$OUT/spec_ref.o"

build() {  # name, include dirs..., -- sources...
  local name="$1"; shift
  local incs=() srcs=()
  while [ "$1" != "--" ]; do incs+=(-I "$1"); shift; done; shift
  srcs=("$@")
  "$CLANG" "${FUZZ_FLAGS[@]}" -I "$HERE/targets" "${incs[@]}" "${srcs[@]}" "$OUT/spec_ref.o" -o "$OUT/fuzz_$name"
  if [ "${FUZZ_BUILD_FAST:-1}" != 0 ]; then  # FUZZ_BUILD_FAST=0: smoke only, skip the campaign builds
    "$CLANG" "${FAST_FLAGS[@]}" -I "$HERE/targets" "${incs[@]}" "${srcs[@]}" "$OUT/spec_ref.o" \
      -o "$OUT/fuzz_${name}_fast"
  fi
  "$GCC" "${REPLAY_FLAGS[@]}" -I "$HERE/targets" "${incs[@]}" "${srcs[@]}" "$HERE/targets/spec_ref.c" \
    "$HERE/targets/replay_main.c" -o "$OUT/replay_$name"
  echo "build: $OUT/fuzz_$name" >&2
}

for model in dense ternary_table; do
  gen="$OUT/gen/$model"
  build "$model" "$gen" -- "$HERE/targets/fuzz_predict.c" "$gen"/model.c "$gen"/model_weights.c "$gen"/runtime/*.c
done
gen="$OUT/gen/text"
build text "$gen" -- "$HERE/targets/fuzz_text.c" "$gen"/model.c "$gen"/model_weights.c "$gen"/runtime/*.c
build kernels "$ROOT/runtime/include" -- "$HERE/targets/fuzz_kernels.c" \
  "$ROOT"/runtime/src/{hash,project_binary,project_ternary,project_binary_table,project_ternary_table,text_features,text_project,text_presence}.c
