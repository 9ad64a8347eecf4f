"""Shared set-up for the benchmark scripts: import path and the issue's reference shape."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE_SHAPE = dict(batch=8, height=56, width=56, channels=64, filters=128)
