"""The deploy stress bench's own arithmetic (bench/deploy_stress.py): the paths billed each hour and the
crash points enumerated from a crash-free run.

GIVEN invalidations with their times and CallerReferences, or a count of calls per client and operation,
WHEN the bench groups or enumerates them THEN the figures are the ones counted here by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from deploy_stress import CrashPoint, billed_by_hour, crash_points

START = 1_000_000.0


def test_paths_billed_in_the_hour_their_invalidation_was_made_and_a_repeated_reference_bills_none() -> None:
    invalidations = [
        (START + 10, ("/a", "/b"), "r1"),
        (START + 130, ("/a", "/b"), "r1"),  # the same CallerReference: CloudFront answers the first
        (START + 3599, ("/logs/*",), "r2"),
        (START + 3600 * 2 + 1, ("/c", "/d", "/e"), "r3"),
    ]
    assert billed_by_hour(invalidations, START) == [(2, 3), (0, 0), (1, 3)]
    assert billed_by_hour([], START) == []


def test_every_call_of_a_crash_free_run_is_a_crash_point_before_and_after_it() -> None:
    points = crash_points({("sqs", "send_message"): 1, ("dynamodb", "query"): 2})
    assert points == [
        CrashPoint("dynamodb", "query", 1, False),
        CrashPoint("dynamodb", "query", 1, True),
        CrashPoint("dynamodb", "query", 2, False),
        CrashPoint("dynamodb", "query", 2, True),
        CrashPoint("sqs", "send_message", 1, False),
        CrashPoint("sqs", "send_message", 1, True),
    ]
