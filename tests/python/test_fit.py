"""GIVEN changed viewer paths and what is in progress on the distribution WHEN fitted THEN the request
covers every path within the budget and what remains of both quotas, or nothing fits.

The limits are CloudFront's (developer guide, "Concurrent invalidation request maximum"): 15 wildcard
paths and 3,000 file paths in progress per distribution. The rule (coalesce.py): a deploy is planned
once, so its request may hold every wildcard left, and no more than the file paths left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cf_invalidator.core.coalesce import EVERYTHING, InProgress, coalesce, covers, fit

QUOTA_WILDCARDS = 15
QUOTA_FILES = 3000


def spread(directories: int, pages: int) -> list[str]:
    """Changed pages spread over directories, so that collapsing needs one wildcard per directory."""
    return [f"/d{d}/p{p}.html" for d in range(directories) for p in range(pages)]


def wildcards(request: list[str]) -> int:
    return sum(path.endswith("*") for path in request)


def assert_covers(request: list[str], paths: list[str]) -> None:
    assert [p for p in paths if not any(covers(r, p) for r in request)] == []


def test_idle_distribution_gets_the_same_request_as_without_a_view() -> None:
    paths = spread(8, 20)
    assert fit(paths, 100, InProgress()) == coalesce(paths, 100)


def test_idle_distribution_lends_a_request_more_than_a_third_of_the_quota() -> None:
    # 12 directories of 20 pages, budget 100: k wildcards leave (12 - k) x 20 exact paths, and
    # k + (12 - k) x 20 <= 100 first holds at k = 8: eight wildcards, more than a third of 15
    paths = spread(12, 20)
    request = fit(paths, 100, InProgress())
    assert request is not None
    assert wildcards(request) == 8
    assert len(request) == 8 + 4 * 20
    assert_covers(request, paths)


def test_every_wildcard_left_may_be_used_and_not_one_more() -> None:
    paths = spread(12, 20)  # needs 8 wildcards within the budget (above)
    exactly = fit(paths, 100, InProgress(wildcards=7))  # 8 left
    assert exactly is not None and wildcards(exactly) == 8
    assert fit(paths, 100, InProgress(wildcards=8)) == [EVERYTHING]  # 7 left: only /* covers it


def test_request_within_budget_stays_exact_even_with_no_wildcard_left() -> None:
    paths = spread(3, 4)
    assert fit(paths, 100, InProgress(wildcards=15)) == sorted(paths)


def test_fewer_wildcards_left_collapse_into_fewer_wildcards() -> None:
    paths = spread(8, 20)  # 160 paths in 8 directories, budget 100
    request = fit(paths, 100, InProgress(wildcards=12))  # 3 left
    assert request is not None
    assert wildcards(request) <= 3
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
