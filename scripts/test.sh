#!/usr/bin/env bash
# Set up, then run the whole test suite (2 workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One BLAS/torch thread per pytest worker: two workers on two cores, no oversubscription.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "${PNETC_VENV:-.venv}/bin/python" -m pytest -n 2 -q "$@"
