#!/usr/bin/env bash
# The demo: set up, then train on scikit-learn's digits, compile, build for a QEMU Cortex-M
# board, run the whole test split on it, and print accuracy, size and instruction counts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${PNETC_VENV:-.venv}/bin/pnetc" demo "$@"
