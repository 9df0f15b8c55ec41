"""Freshness: how long a change waits, in the replay, before an invalidation covers it.

Per change of every replayed deploy, the change-to-invalidation time is the creation time (the CloudFront
model's CreateTime, on the replay's virtual clock) of the first invalidation created at or after the
change was written that covers its viewer paths, minus its write (its eventTime on the same clock);
grading.change_to_invalidation computes it. Reported in the interleaved timing at the defaults, per site
and way and overall: median, p99 (nearest rank) and max, and the paths billed; a change never covered
is counted as missed and left out of the statistics. What a viewer waits for is this time plus
CloudFront's own time to apply the invalidation (under 5 s at P95). A report: it formats replay.py's
Outcome; figures are never asserted.
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


@dataclass(frozen=True)
class Row:
    """One line of the table: a site and way (or "all")."""

    site: str
    way: str
    freshness: Freshness
    paths_billed: int


def freshness_rows(outcomes: Sequence[Outcome]) -> list[Row]:
    """A row per site and way in the order they first appear, then one for all of them."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.site, o.way), []).append(o)
    rows = []
    for (site, way), group in [*groups.items(), (("all", "all"), list(outcomes))]:
        delays = [d for o in group for d in o.delays]
        rows.append(Row(site, way, freshness_stats(delays), sum(o.paths_billed for o in group)))
    return rows


def print_freshness(outcomes: Sequence[Outcome]) -> None:
    print("-- change to invalidation (interleaved, default evictions_per_path), seconds --")
    for r in freshness_rows(outcomes):
        f = r.freshness
        print(
            f"{r.site:<20} {r.way:<13} {f.changes:>7} changes: median "
            f"{f.median:7.1f}  p99 {f.p99:7.1f}  max {f.max:7.1f}  missed {f.missed}  "
            f"paths {r.paths_billed:,}"
        )


def freshness_section(outcomes: Sequence[Outcome]) -> str:
    """The freshness table (docs/operating.md)."""
    rows = [
        (
            r.site,
            r.way,
            f"{r.freshness.changes:,}",
            f"{r.freshness.median:.1f}",
            f"{r.freshness.p99:.1f}",
            f"{r.freshness.max:.1f}",
            str(r.freshness.missed),
            f"{r.paths_billed:,}",
        )
        for r in freshness_rows(outcomes)
    ]
    columns = (
        "Site",
        "Way",
        "Changes",
        "Median s",
        "p99 s",
        "Max s",
        "Missed",
        "Paths billed",
    )
    return markdown_table(columns, rows, "llrrrrrr")
