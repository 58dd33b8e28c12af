"""The comparison driver lives in the top-level bench/ folder: make it importable from any cwd."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
