#!/usr/bin/env bash
# Set up, then run the whole test suite (2 workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${PNETC_VENV:-.venv}/bin/python" -m pytest -n 2 -q "$@"
