"""GIVEN changed viewer paths and what is in progress on the distribution WHEN fitted THEN the request
covers every path within the budget and what remains of both quotas, or nothing fits.

The limits are CloudFront's (developer guide, "Concurrent invalidation request maximum"): 15 wildcard
paths and 3,000 file paths in progress per distribution. The per-request cap is the documented rule of
coalesce.py: a third of the wildcards left, rounded up, written out here as a table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cf_invalidator.coalesce import EVERYTHING, InProgress, coalesce, covers, fit, wildcard_cap

QUOTA_WILDCARDS = 15
QUOTA_FILES = 3000


def spread(directories: int, pages: int) -> list[str]:
    """Changed pages spread over directories, so that collapsing needs one wildcard per directory."""
    return [f"/d{d}/p{p}.html" for d in range(directories) for p in range(pages)]


def wildcards(request: list[str]) -> int:
    return sum(path.endswith("*") for path in request)


def assert_covers(request: list[str], paths: list[str]) -> None:
    assert [p for p in paths if not any(covers(r, p) for r in request)] == []


def test_wildcard_cap_is_a_third_of_what_is_left_rounded_up() -> None:
    table = {15: 5, 14: 5, 12: 4, 10: 4, 9: 3, 6: 2, 4: 2, 3: 1, 2: 1, 1: 1, 0: 0}
    assert {left: wildcard_cap(left) for left in table} == table


def test_idle_distribution_gets_the_same_request_as_without_a_view() -> None:
    paths = spread(8, 20)
    assert fit(paths, 100, InProgress()) == coalesce(paths, 100)
    assert 1 <= wildcards(fit(paths, 100, InProgress()) or []) <= 5


def test_request_within_budget_stays_exact_even_with_no_wildcard_left() -> None:
    paths = spread(3, 4)
    assert fit(paths, 100, InProgress(wildcards=15)) == sorted(paths)


def test_fewer_wildcards_left_collapse_into_fewer_wildcards() -> None:
    paths = spread(8, 20)  # 160 paths in 8 directories, budget 100
    request = fit(paths, 100, InProgress(wildcards=9))  # 6 left: at most 2 in this request
    assert request is not None
    assert wildcards(request) <= 2
    assert len(request) <= 100
    assert_covers(request, paths)


def test_everything_rather_than_waiting_when_one_wildcard_is_left() -> None:
    paths = spread(8, 20)
    assert fit(paths, 100, InProgress(wildcards=14)) == [EVERYTHING]


def test_nothing_fits_with_no_wildcard_left_and_more_paths_than_the_budget() -> None:
    assert fit(spread(8, 20), 100, InProgress(wildcards=15)) is None


def test_file_paths_left_below_the_budget_collapse_the_request() -> None:
    paths = spread(2, 30)  # 60 paths fit the budget but only 10 file paths are left
    request = fit(paths, 100, InProgress(files=2990))
    assert request is not None
    assert len(request) - wildcards(request) <= 10
    assert_covers(request, paths)


def test_no_file_path_left_gives_wildcards_only() -> None:
    paths = ["/a.html", "/docs/x.html"]
    assert fit(paths, 100, InProgress(files=3000)) == [EVERYTHING]
    assert fit(paths, 100, InProgress(files=3000, wildcards=15)) is None


def test_in_progress_adds_invalidations_paths() -> None:
    state = InProgress().plus(["/a", "/b/*", "/c"]) + InProgress(files=1, wildcards=2)
    assert (state.files, state.wildcards, state.files_left, state.wildcards_left) == (3, 3, 2997, 12)


SEGMENT = st.text(st.sampled_from("abc"), min_size=1, max_size=2)
PATH = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts) + ".html")


@settings(max_examples=300)
@given(
    paths=st.lists(PATH, min_size=1, max_size=150),
    budget=st.integers(min_value=1, max_value=60),
    wildcards_in_progress=st.integers(min_value=0, max_value=QUOTA_WILDCARDS),
    files_in_progress=st.one_of(st.integers(0, 20), st.integers(QUOTA_FILES - 80, QUOTA_FILES)),
)
def test_fitted_request_covers_every_path_within_what_remains(
    paths: list[str], budget: int, wildcards_in_progress: int, files_in_progress: int
) -> None:
    in_progress = InProgress(files=files_in_progress, wildcards=wildcards_in_progress)
    request = fit(paths, budget, in_progress)
    wildcards_left = QUOTA_WILDCARDS - wildcards_in_progress
    files_left = QUOTA_FILES - files_in_progress
    distinct = set(paths)
    if request is None:  # only when not even /* fits: no wildcard left and too many paths for exact
        assert wildcards_left == 0
        assert len(distinct) > min(budget, files_left)
        return
    assert_covers(request, paths)
    assert len(request) <= budget
    assert wildcards(request) <= wildcards_left
    assert len(request) - wildcards(request) <= files_left
    assert wildcards(request) <= max(1, -(-wildcards_left // 3))  # the cap, or /* alone
