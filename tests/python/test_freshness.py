"""The bench's freshness figures (bench/freshness.py, bench/grading.py's change_to_invalidation).

GIVEN change-to-invalidation times with hand-computed statistics, WHEN they are summarised, THEN the
median, the nearest-rank p99 and the max are those values and the changes never covered are counted
as missed, not averaged in.
GIVEN invalidations created at known virtual times, WHEN each change is timed from its write, THEN its
time is that of the first invalidation created at or after the write that covers its paths (the latest
of them when its paths are covered by several), and None when none ever does.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from freshness import Freshness, freshness_stats
from grading import change_to_invalidation

from cf_invalidator.config import Distribution
from support.cloudfront_model import CloudFrontModel, VirtualClock

SITE = Distribution("site", "ESITE")


def test_statistics_of_a_few_times_with_one_missed() -> None:
    # covered: 1, 2, 3, 10 -> median (2 + 3) / 2; p99 = the ceil(0.99 * 4) = 4th smallest = 10
    assert freshness_stats([3.0, None, 1.0, 10.0, 2.0]) == Freshness(4, 1, 2.5, 10.0, 10.0)


def test_p99_is_the_nearest_rank_of_two_hundred() -> None:
    # 1..200 shuffled by a stride: the ceil(0.99 * 200) = 198th smallest is 198; median (100 + 101) / 2
    times: list[float | None] = [float((i * 7) % 200 + 1) for i in range(200)]
    assert freshness_stats(times) == Freshness(200, 0, 100.5, 198.0, 200.0)


def test_a_single_time_is_its_own_median_p99_and_max() -> None:
    assert freshness_stats([42.0]) == Freshness(1, 0, 42.0, 42.0, 42.0)


def test_nothing_covered_gives_no_statistics_but_counts_the_missed() -> None:
    found = freshness_stats([None, None])
    assert (found.changes, found.missed) == (0, 2)
    assert all(math.isnan(v) for v in (found.median, found.p99, found.max))


def invalidate(model: CloudFrontModel, at: float, *paths: str) -> None:
    model.clock.sleep(at - model.clock.now())
    model.create_invalidation(
        DistributionId=SITE.id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": str(at),
        },
    )


@pytest.fixture
def model() -> CloudFrontModel:
    """Invalidations at 100 s (/a/x.css, /c/index.html), 110 s (/a/*) and 130 s (/c/)."""
    cloudfront = CloudFrontModel([SITE.id], VirtualClock(0.0))
    invalidate(cloudfront, 100.0, "/a/x.css", "/c/index.html")
    invalidate(cloudfront, 110.0, "/a/*")
    invalidate(cloudfront, 130.0, "/c/")
    return cloudfront


@pytest.mark.parametrize(
    ("key", "written", "expected"),
    [
        ("a/x.css", 90.0, 10.0),  # the exact path at 100
        ("a/x.css", 100.0, 0.0),  # created at the very instant of the write: counts
        ("a/x.css", 105.0, 5.0),  # the one at 100 is before the write; the wildcard at 110 covers it
        ("a/index.html", 95.0, 15.0),  # /a/ and /a/index.html: both under the wildcard at 110
        ("c/index.html", 50.0, 80.0),  # /c/index.html at 100, /c/ only at 130: covered at 130
        ("c/index.html", 120.0, None),  # /c/ at 130, but /c/index.html never again after 100
        ("a/x.css", 111.0, None),  # nothing covers it after 110
        ("b/y.css", 0.0, None),  # never invalidated
    ],
)
def test_time_from_the_write_to_the_covering_invalidation(
    model: CloudFrontModel, key: str, written: float, expected: float | None
) -> None:
    assert change_to_invalidation({key: written}, (SITE,), "index.html", model) == {key: expected}
