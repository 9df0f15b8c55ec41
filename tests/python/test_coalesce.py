"""GIVEN a distribution's viewer paths WHEN coalesced THEN within budget and limits, nothing uncovered."""

from __future__ import annotations

from cf_invalidator.core.coalesce import EVERYTHING, InProgress, coalesce, covers, fit

QUOTA_WILDCARDS = 15  # CloudFront: wildcard paths in progress per distribution, all of them a request's


def site(sections: int, pages: int, nested: int = 0) -> list[str]:
    paths = [f"/s{s}/p{p}.html" for s in range(sections) for p in range(pages)]
    paths += [f"/s0/deep/d{d}.html" for d in range(nested)]
    return paths


def assert_all_covered(result: list[str], inputs: list[str]) -> None:
    uncovered = [p for p in inputs if not any(covers(r, p) for r in result)]
    assert uncovered == []


def test_paths_within_budget_are_kept_exact_sorted_and_deduplicated() -> None:
    assert coalesce(["/b.html", "/a.html", "/b.html"], budget=5) == ["/a.html", "/b.html"]


def test_budget_exactly_met_needs_no_wildcard() -> None:
    paths = site(2, 5)
    assert coalesce(paths, budget=10) == sorted(paths)


def test_over_budget_collapses_the_deepest_directory_first() -> None:
    paths = ["/a.html", "/s/x.html", "/s/deep/1.html", "/s/deep/2.html", "/s/deep/3.html"]
    assert coalesce(paths, budget=3) == ["/a.html", "/s/deep/*", "/s/x.html"]


def test_largest_group_is_collapsed_before_smaller_ones() -> None:
    paths = [f"/big/{i}.html" for i in range(5)] + ["/small/1.html", "/small/2.html"]
    assert coalesce(paths, budget=4) == ["/big/*", "/small/1.html", "/small/2.html"]


def test_collapse_goes_up_a_level_when_the_deeper_level_is_not_enough() -> None:
    paths = [f"/a/{d}/{i}.html" for d in "xyz" for i in range(3)] + ["/b.html"]
    assert coalesce(paths, budget=2) == ["/a/*", "/b.html"]


def test_root_wildcard_is_the_last_resort() -> None:
    assert coalesce(["/a.html", "/b.html", "/c/d.html"], budget=2) == [EVERYTHING]


def test_directory_wildcard_covers_the_directory_index_path() -> None:
    paths = ["/docs/", "/docs/index.html", "/docs/a.html", "/x.html"]
    result = coalesce(paths, budget=2)
    assert result == ["/docs/*", "/x.html"]
    assert_all_covered(result, paths)


def test_never_more_wildcards_than_the_quota_even_when_budget_allows() -> None:
    paths = [f"/top{t}/sub{s}/p{p}.html" for t in range(2) for s in range(20) for p in range(10)]
    result = coalesce(paths, budget=100)
    assert 1 < sum(r.endswith("*") for r in result) <= QUOTA_WILDCARDS
    assert len(result) <= 100
    assert_all_covered(result, paths)


def test_fifteen_directories_collapse_into_exactly_fifteen_wildcards() -> None:
    """The quota is reached, not undershot: fifteen wildcards fit, so `/*` is not needed."""
    paths = [f"/d{d:02}/p{p}.html" for d in range(15) for p in range(3)]
    assert coalesce(paths, budget=15) == [f"/d{d:02}/*" for d in range(15)]
    assert fit(paths, 15, InProgress()) == [f"/d{d:02}/*" for d in range(15)]


def test_sixteen_directories_over_the_quota_take_everything() -> None:
    paths = [f"/d{d:02}/p{p}.html" for d in range(16) for p in range(3)]
    assert coalesce(paths, budget=16) == [EVERYTHING]


def test_level_above_merges_only_the_directories_needed_to_meet_the_wildcard_limit() -> None:
    busy = [f"/busy/sub{s}/p{p}.html" for s in range(40) for p in range(10)]
    quiet = [f"/quiet/sub{s}/p{p}.html" for s in range(3) for p in range(10)]
    result = coalesce(busy + quiet, budget=100)
    # 15 wildcards under /busy/ still leave 280 paths; merging that one directory is enough.
    assert result == ["/busy/*", *sorted(quiet)]
    assert_all_covered(result, busy + quiet)


def test_ten_thousand_paths_fit_the_default_budget() -> None:
    paths = site(sections=40, pages=250)
    result = coalesce(paths, budget=1000)
    assert len(result) <= 1000
    assert sum(r.endswith("*") for r in result) <= QUOTA_WILDCARDS
    assert_all_covered(result, paths)


def test_budget_of_three_thousand_is_used_without_wildcards() -> None:
    paths = [f"/p{i}.html" for i in range(3000)]
    assert coalesce(paths, budget=3000) == sorted(paths)


def test_wildcard_covers_by_prefix_and_exact_path_only_itself() -> None:
    assert covers("/docs/*", "/docs/a/b.html")
    assert covers("/docs/*", "/docs/")
    assert not covers("/docs/*", "/docs")
    assert not covers("/docs/*", "/docsx/a.html")
    assert covers("/a.html", "/a.html")
    assert not covers("/a.html", "/a.htm")
