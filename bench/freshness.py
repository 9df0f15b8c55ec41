"""Freshness statistics: how long changes wait before an invalidation covers them.

Given waits in seconds, such as each change's change-to-invalidation time (grading's
change_to_invalidation: the creation time of the first invalidation created at or after the change was
written that covers its viewer paths, minus the write, on the replay's virtual clock), `freshness_stats`
gives the median, the p99 (nearest rank) and the max; a change never covered (None) is counted as
missed and left out of the statistics. The deploy bench (deploy_report.py) reports them in
docs/deploy-flush.md. A report helper: figures are never asserted.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Freshness:
    """Change-to-invalidation times, in seconds, of the changes an invalidation covered."""

    changes: int  # covered changes: what the statistics are over
    missed: int  # changes never covered (None times)
    median: float
    p99: float
    max: float


def freshness_stats(delays: Sequence[float | None]) -> Freshness:
    """Median, p99 by nearest rank (the ceil(0.99 n)-th smallest) and max of the times that are not None;
    the Nones are counted as missed. With no covered change, the statistics are NaN."""
    values = sorted(d for d in delays if d is not None)
    missed = sum(d is None for d in delays)
    if not values:
        return Freshness(0, missed, math.nan, math.nan, math.nan)
    p99 = values[math.ceil(0.99 * len(values)) - 1]
    return Freshness(len(values), missed, statistics.median(values), p99, values[-1])
