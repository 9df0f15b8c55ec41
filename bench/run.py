"""`make bench`: every benchmark, one after the other. Figures are printed, never asserted."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import handler_bench
import storm

if __name__ == "__main__":
    handler_bench.main()
    print()
    storm.main()
