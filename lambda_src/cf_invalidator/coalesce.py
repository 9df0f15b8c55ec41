"""Viewer paths -> the request CloudFront gets: within the path budget, with few wildcards.

When there are more distinct paths than the budget, directories are collapsed into wildcards (`/dir/*`),
deepest level first (least collateral), at each level the directories covering the most items first,
until the count fits the budget and there are at most MAX_WILDCARDS wildcards; `/*` is the last resort.
A wildcard `/dir/*` covers every path that starts with `/dir/`, so every input path stays covered.

Why 5 wildcards and not CloudFront's 15: that quota counts wildcard paths IN PROGRESS per distribution,
and an invalidation can take ten minutes or more. A request using all 15 would block every other
collapsed batch of a large deploy until it completes; at 5, three such batches are in progress at once.
`make bench` measures the difference: a 10,000-object deploy with invalidations completing in 5 to 10
minutes loses changes to the dead-letter queue at 15 and none at 5.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

WILDCARDS_IN_PROGRESS = 15  # CloudFront: wildcard paths in progress per distribution at once
MAX_WILDCARDS = WILDCARDS_IN_PROGRESS // 3  # per request, so that three requests fit in the quota
EVERYTHING = "/*"


def coalesce(paths: Iterable[str], budget: int) -> list[str]:
    """The sorted paths to invalidate so that every one of `paths` is covered."""
    items = set(paths)
    if _fits(items, budget):
        return sorted(items)
    for depth in range(_deepest_directory(items), 0, -1):
        _collapse_level(items, depth, budget)
        if _fits(items, budget):
            return sorted(items)
    return [EVERYTHING]


def covers(invalidation_path: str, viewer_path: str) -> bool:
    """Whether invalidating `invalidation_path` refreshes `viewer_path`."""
    if invalidation_path.endswith("*"):
        return viewer_path.startswith(invalidation_path[:-1])
    return viewer_path == invalidation_path


def _fits(items: set[str], budget: int) -> bool:
    return len(items) <= budget and _wildcards(items) <= MAX_WILDCARDS


def _wildcards(items: Iterable[str]) -> int:
    return sum(1 for item in items if item.endswith("*"))


def _directory_depth(path: str) -> int:
    """Directories above the item: `/a/b.html`, `/a/` and `/a/*` are in 1; `/b.html` in 0."""
    return path.count("/") - 1


def _deepest_directory(items: Iterable[str]) -> int:
    return max(_directory_depth(item) for item in items)


def _ancestor(path: str, depth: int) -> str:
    """`/a/b/c.html` at depth 1 -> `/a/`."""
    end = 0
    for _ in range(depth + 1):
        end = path.index("/", end) + 1
    return path[:end]


def _collapse_level(items: set[str], depth: int, budget: int) -> None:
    """Replace groups under directories at `depth` by their wildcard while the request does not fit:
    first the groups saving the most items while over the budget, then the groups merging the most
    wildcards while over the wildcard limit."""
    groups: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if _directory_depth(item) >= depth:
            groups[_ancestor(item, depth)].append(item)
    wildcards = _wildcards(items)
    for directory in sorted(groups, key=lambda name: (-len(groups[name]), name)):
        if len(items) <= budget:
            break
        if len(groups[directory]) > 1:
            wildcards += 1 - _wildcards(_replace(items, directory, groups))
    for directory in sorted(groups, key=lambda name: (-_wildcards(groups[name]), name)):
        if wildcards <= MAX_WILDCARDS:
            break
        if _wildcards(groups[directory]) > 1:
            wildcards += 1 - _wildcards(_replace(items, directory, groups))


def _replace(items: set[str], directory: str, groups: dict[str, list[str]]) -> list[str]:
    """Swap the group under `directory` for its wildcard; return the items it replaced."""
    members = groups.pop(directory)
    items.difference_update(members)
    items.add(directory + "*")
    return members
