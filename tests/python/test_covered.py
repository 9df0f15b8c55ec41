"""GIVEN a change written at a time and the invalidations of a distribution WHEN the dedupe rule judges it
THEN it is covered only when every viewer path of it is named (exactly, or by a wildcard's prefix) by an
invalidation created at least the margin (60 s) after the write.

The oracle (`oracle_covered`) is written here from that rule, path by path, without the index under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_invalidator.covered import MARGIN, Coverage, Made, newest_times
from cf_invalidator.events import Change

T0 = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def oracle_covered(invalidations: list[Made], written: datetime | None, paths: list[str]) -> bool:
    """The documented rule: each path named by an invalidation created >= written + 60 s."""
    if written is None or not paths:
        return False

    def names(invalidation_path: str, path: str) -> bool:
        if invalidation_path.endswith("*"):
            return path.startswith(invalidation_path[:-1])
        return invalidation_path == path

    return all(
        any(
            m.created is not None
            and m.created >= written + timedelta(seconds=60)
            and any(names(p, path) for p in m.paths)
            for m in invalidations
        )
        for path in paths
    )


def test_the_margin_is_sixty_seconds() -> None:
    assert timedelta(seconds=60) == MARGIN


@pytest.mark.parametrize(
    ("created_after_write", "covered"),
    [(-5, False), (0, False), (1, False), (59.999, False), (60, True), (61, True), (3600, True)],
)
def test_an_invalidation_covers_only_when_created_at_least_the_margin_after_the_write(
    created_after_write: float, covered: bool
) -> None:
    coverage = Coverage([Made("I1", at(created_after_write), ("/a.html",))])

    assert (coverage.covering(at(0), ["/a.html"]) is not None) is covered


@pytest.mark.parametrize(
    ("invalidation_paths", "key_paths", "covered"),
    [
        (("/docs/index.html",), ["/docs/", "/docs/index.html"], False),  # only one of an index's two paths
        (("/docs/",), ["/docs/", "/docs/index.html"], False),
        (("/docs/", "/docs/index.html"), ["/docs/", "/docs/index.html"], True),
        (("/docs/*",), ["/docs/", "/docs/index.html"], True),  # a wildcard covers what it matches
        (("/docs*",), ["/docs/a.html"], True),
        (("/*",), ["/docs/a.html"], True),
        (("/docs/*",), ["/doc/a.html"], False),
        (("/docs/a.htm",), ["/docs/a.html"], False),  # exact means exact
        (("/docs/a.html*",), ["/docs/a.html"], True),
        (("/Docs/*",), ["/docs/a.html"], False),  # paths are case-sensitive
    ],
)
def test_every_viewer_path_of_the_key_must_be_named(
    invalidation_paths: tuple[str, ...], key_paths: list[str], covered: bool
) -> None:
    coverage = Coverage([Made("I1", at(120), invalidation_paths)])

    assert (coverage.covering(at(0), key_paths) is not None) is covered


def test_paths_refreshed_by_two_invalidations_created_after_the_write_are_covered_and_both_named() -> None:
    coverage = Coverage([Made("I1", at(100), ("/docs/",)), Made("I2", at(200), ("/docs/index.html",))])

    assert coverage.covering(at(0), ["/docs/", "/docs/index.html"]) == frozenset({"I1", "I2"})


def test_one_of_two_invalidations_made_before_the_write_leaves_the_key_uncovered() -> None:
    coverage = Coverage([Made("I1", at(-10), ("/docs/",)), Made("I2", at(200), ("/docs/index.html",))])

    assert coverage.covering(at(0), ["/docs/", "/docs/index.html"]) is None


def test_a_newer_invalidation_of_the_path_counts_even_after_an_older_one() -> None:
    """The index keeps the newest invalidation per path: an older one naming it must not hide it."""
    coverage = Coverage(
        [Made("old", at(-100), ("/a.html", "/b/*")), Made("new", at(100), ("/a.html", "/b/*"))]
    )

    assert coverage.covering(at(0), ["/a.html", "/b/c.html"]) == frozenset({"new"})


def test_no_event_time_or_no_create_time_never_covers() -> None:
    assert Coverage([Made("I1", at(100), ("/a.html",))]).covering(None, ["/a.html"]) is None
    assert Coverage([Made("I1", None, ("/a.html",))]).covering(at(0), ["/a.html"]) is None


def test_a_key_with_no_viewer_path_is_never_covered() -> None:
    assert Coverage([Made("I1", at(100), ("/*",))]).covering(at(0), []) is None


PATHS = st.sampled_from(["/a.html", "/b/", "/b/index.html", "/b/c.html", "/b/c/d.html", "/bb.html"])
INVALIDATION_PATHS = st.one_of(PATHS, st.sampled_from(["/*", "/b/*", "/b*", "/b/c/*", "/a.html*", "/c/*"]))
MADE = st.builds(
    Made,
    id=st.text("IJK", min_size=1, max_size=3),
    created=st.one_of(st.none(), st.integers(-200, 200).map(at)),
    paths=st.lists(INVALIDATION_PATHS, min_size=1, max_size=4).map(tuple),
)


@settings(max_examples=400)
@given(
    invalidations=st.lists(MADE, max_size=5, unique_by=lambda made: made.id),
    written=st.one_of(st.none(), st.integers(-100, 100).map(at)),
    paths=st.lists(PATHS, max_size=3, unique=True),
)
def test_the_index_agrees_with_the_rule(
    invalidations: list[Made], written: datetime | None, paths: list[str]
) -> None:
    covering = Coverage(invalidations).covering(written, paths)

    assert (covering is not None) is oracle_covered(invalidations, written, paths)
    if covering is not None:  # every invalidation named really was created after the write + margin
        assert written is not None
        named = [m for m in invalidations if m.id in covering]
        assert named and all(
            m.created is not None and m.created >= written + timedelta(seconds=60) for m in named
        )


def test_newest_time_per_key_and_none_when_one_change_has_no_time() -> None:
    changes = {
        "m1": [Change("a.html", True, event_time=at(0)), Change("b.html", True, event_time=at(5))],
        "m2": [Change("a.html", True, event_time=at(30)), Change("b.html", True)],
        "m3": [Change("c.html", True, event_time=at(-3)), Change("skipped.html", True, event_time=at(0))],
    }
    keys = {"m1": ["a.html", "b.html"], "m2": ["a.html", "b.html"], "m3": ["c.html"]}

    assert newest_times(keys, changes) == {"a.html": at(30), "b.html": None, "c.html": at(-3)}
