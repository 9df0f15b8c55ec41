"""Freshness: how long a change waits, in the replay, before an invalidation covers it.

Per change of every replayed deploy, the change-to-invalidation time is the creation time (the CloudFront
model's CreateTime, on the replay's virtual clock) of the first invalidation created at or after the
change was written that covers its viewer paths, minus its write (its eventTime on the same clock);
grading.change_to_invalidation computes it. Reported at the defaults in the interleaved timing, per site
and way and overall: median, p99 (nearest rank) and max; a change never covered is counted as missed and
left out of the statistics. What a viewer waits for is this time plus CloudFront's own time to apply the
invalidation (under 5 s at P95). A report: it formats replay.py's Outcome; figures are never asserted.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from replay import Outcome
from sections import markdown_table


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


def freshness_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, Freshness]]:
    """(site, way, statistics) per site and way in the order they first appear, then ("all", "all")."""
    groups: dict[tuple[str, str], list[float | None]] = {}
    for o in outcomes:
        groups.setdefault((o.site, o.way), []).extend(o.delays)
    everything = [d for o in outcomes for d in o.delays]
    return [(site, way, freshness_stats(d)) for (site, way), d in groups.items()] + [
        ("all", "all", freshness_stats(everything))
    ]


def print_freshness(outcomes: Sequence[Outcome]) -> None:
    print("-- change to invalidation (interleaved, default evictions_per_path), seconds --")
    for site, way, f in freshness_rows(outcomes):
        print(
            f"{site:<20} {way:<13} {f.changes:>7} changes: median {f.median:7.1f}  p99 {f.p99:7.1f}  "
            f"max {f.max:7.1f}  missed {f.missed}"
        )


def freshness_section(outcomes: Sequence[Outcome]) -> str:
    """The README's freshness table."""
    rows = [
        (site, way, f"{f.changes:,}", f"{f.median:.1f}", f"{f.p99:.1f}", f"{f.max:.1f}", str(f.missed))
        for site, way, f in freshness_rows(outcomes)
    ]
    columns = ("Site", "Way", "Changes", "Median s", "p99 s", "Max s", "Missed")
    return markdown_table(columns, rows, "llrrrrr")
