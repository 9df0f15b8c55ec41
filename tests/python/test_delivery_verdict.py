"""The end-state verdict the end-to-end tests and `make demo` pass on a delivery (support/deployment.py):
it must catch a stale change, a wrong path, a dead-lettered or stranded message, and name the invocation
whose failures no deliberate postponement explains."""

from __future__ import annotations

import pytest

from support.deployment import Delivery
from support.event_source import BatchOutcome

REQUIRED = {"site": {"/docs/a.html", "/docs/"}}


def delivery(
    paths: set[str], *, outcomes: list[BatchOutcome] | None = None, left: int = 0, dead: int = 0
) -> Delivery:
    return Delivery(
        outcomes=outcomes or [BatchOutcome(["m1"], set())],
        paths={"site": paths},
        created={"site": []},
        records=[],
        left_in_queue=left,
        dead_letters=dead,
    )


def test_a_drained_delivery_of_exactly_the_required_paths_passes() -> None:
    delivery({"/docs/a.html", "/docs/"}).check(REQUIRED, allowed=REQUIRED)


def test_a_wildcard_covers_the_required_paths_when_no_exact_set_is_asked() -> None:
    assert delivery({"/docs/*"}).problems(REQUIRED) == []


@pytest.mark.parametrize(
    ("paths", "left", "dead", "problem"),
    [
        ({"/docs/a.html"}, 0, 0, "required paths not invalidated: {'site': {'/docs/'}}"),
        ({"/docs/a.html", "/docs/", "/other.html"}, 0, 0, "beyond those expected: {'site': {'/other.html'}}"),
        ({"/docs/a.html", "/docs/"}, 2, 0, "2 messages left in the queue"),
        ({"/docs/a.html", "/docs/"}, 0, 1, "1 messages in the dead-letter queue"),
    ],
)
def test_a_stale_change_a_wrong_path_or_a_lost_message_fails_the_check(
    paths: set[str], left: int, dead: int, problem: str
) -> None:
    with pytest.raises(AssertionError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        delivery(paths, left=left, dead=dead).check(REQUIRED, allowed=REQUIRED)


def test_the_failure_message_carries_the_log_of_the_unexplained_failure_not_the_last_invocation() -> None:
    held = BatchOutcome(["m1", "m2"], {"m1", "m2"}, postponed_ids={"m1", "m2"}, log="HELD")
    broken = BatchOutcome(["m3"], {"m3"}, log="TRACEBACK")
    last = BatchOutcome(["m1", "m2", "m3"], set(), log="LAST")
    with pytest.raises(AssertionError) as failure:
        delivery(set(), outcomes=[held, broken, last], dead=1).check(REQUIRED)
    assert "TRACEBACK" in str(failure.value)
    assert "HELD" not in str(failure.value) and "LAST" not in str(failure.value)
    assert "invocation 2 of 3" in str(failure.value)
