"""Viewer paths -> the request CloudFront gets: within the path budget and what remains of the quotas.

When there are more distinct paths than the budget, directories are collapsed into wildcards (`/dir/*`),
deepest level first (least collateral), at each level the directories covering the most items first,
until the count fits the budget and the wildcard cap; `/*` is the last resort. A wildcard `/dir/*`
covers every path that starts with `/dir/`, so every input path stays covered.

CloudFront counts, per distribution, at most 15 wildcard paths and 3,000 file paths in progress at once
(developer guide, "Concurrent invalidation request maximum"); an invalidation can take ten minutes or
more. `fit` plans a request against what is in progress (see in_progress.py):
- the request may hold every wildcard that remains: a deploy is planned once (docs/deploy-flush.md),
  so no later request of the same deploy needs a share of the quota.
- the request may hold at most the file paths that remain (and never more than the budget).
- when even `/*` does not fit (no wildcard left, and more paths than the budget or the file paths left)
  nothing fits: `fit` says so and the caller sends today's request, which waits on CloudFront's quota.
An invalidation in progress never counts as covering a new change, even `/*`: one created before the
change was written may already have refreshed the old object, and nothing here can prove the order.

The tree-aware cover (cover.py, through plan.py) keeps the same limits: the wildcards and the file
paths left.

Without a view of what is in progress (`coalesce` alone, or a view that could not be read), a request
may hold the whole quota, WILDCARDS_IN_PROGRESS: when some of it is in use, CloudFront refuses the
request (TooManyInvalidationsInProgress) and it is fitted again to a fresh view (batch.py's `replan`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

WILDCARDS_IN_PROGRESS = 15  # CloudFront: wildcard paths in progress per distribution at once
FILES_IN_PROGRESS = 3000  # CloudFront: file paths in progress per distribution at once
EVERYTHING = "/*"


@dataclass(frozen=True)
class InProgress:
    """The paths CloudFront counts against a distribution's quotas right now."""

    files: int = 0
    wildcards: int = 0

    @property
    def files_left(self) -> int:
        return max(0, FILES_IN_PROGRESS - self.files)

    @property
    def wildcards_left(self) -> int:
        return max(0, WILDCARDS_IN_PROGRESS - self.wildcards)

    def plus(self, paths: Iterable[str]) -> InProgress:
        """This, with an invalidation of `paths` added."""
        items = list(paths)
        wildcards = _wildcards(items)
        return InProgress(self.files + len(items) - wildcards, self.wildcards + wildcards)

    def __add__(self, other: InProgress) -> InProgress:
        return InProgress(self.files + other.files, self.wildcards + other.wildcards)


class _Limits(NamedTuple):
    paths: int
    wildcards: int
    files: int


def fit(paths: Iterable[str], budget: int, in_progress: InProgress) -> list[str] | None:
    """The sorted paths to invalidate so that every one of `paths` is covered, within the budget and
    what remains of the quotas; None when no request fits (no wildcard left and too many paths)."""
    items = set(paths)
    left = in_progress.wildcards_left
    limits = _Limits(budget, left, in_progress.files_left)
    if left == 0 and not _fits(items, limits):
        return None  # even `/*` needs a wildcard
    return coalesce(items, budget, max_wildcards=limits.wildcards, max_files=limits.files)


def coalesce(
    paths: Iterable[str],
    budget: int,
    *,
    max_wildcards: int = WILDCARDS_IN_PROGRESS,
    max_files: int = FILES_IN_PROGRESS,
) -> list[str]:
    """The sorted paths to invalidate so that every one of `paths` is covered: at most `budget` paths,
    `max_wildcards` wildcards and `max_files` file paths, or `/*`."""
    items = set(paths)
    limits = _Limits(budget, max_wildcards, max_files)
    if _fits(items, limits):
        return sorted(items)
    for depth in range(_deepest_directory(items), 0, -1):
        _collapse_level(items, depth, limits)
        if _fits(items, limits):
            return sorted(items)
    return [EVERYTHING]


def covers(invalidation_path: str, viewer_path: str) -> bool:
    """Whether invalidating `invalidation_path` refreshes `viewer_path`."""
    if invalidation_path.endswith("*"):
        return viewer_path.startswith(invalidation_path[:-1])
    return viewer_path == invalidation_path


def _fits(items: set[str], limits: _Limits) -> bool:
    wildcards = _wildcards(items)
    return _within_paths(len(items), wildcards, limits) and wildcards <= limits.wildcards


def _within_paths(count: int, wildcards: int, limits: _Limits) -> bool:
    return count <= limits.paths and count - wildcards <= limits.files


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


def _collapse_level(items: set[str], depth: int, limits: _Limits) -> None:
    """Replace groups under directories at `depth` by their wildcard while the request does not fit:
    first the groups saving the most items while over the budget or the file limit, then the groups
    merging the most wildcards while over the wildcard limit."""
    groups: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if _directory_depth(item) >= depth:
            groups[_ancestor(item, depth)].append(item)
    wildcards = _wildcards(items)
    for directory in sorted(groups, key=lambda name: (-len(groups[name]), name)):
        if _within_paths(len(items), wildcards, limits):
            break
        if len(groups[directory]) > 1:
            wildcards += 1 - _wildcards(_replace(items, directory, groups))
    for directory in sorted(groups, key=lambda name: (-_wildcards(groups[name]), name)):
        if wildcards <= limits.wildcards:
            break
        if _wildcards(groups[directory]) > 1:
            wildcards += 1 - _wildcards(_replace(items, directory, groups))


def _replace(items: set[str], directory: str, groups: dict[str, list[str]]) -> list[str]:
    """Swap the group under `directory` for its wildcard; return the items it replaced."""
    members = groups.pop(directory)
    items.difference_update(members)
    items.add(directory + "*")
    return members
