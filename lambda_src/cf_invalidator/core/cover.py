"""The cheapest cover of a distribution's changed viewer paths, with the tree below them known. Pure: no AWS.

The rule (issue 13): choose exact paths and directory wildcards (`/dir/*`, `/*` for the root) so that every
changed path is covered, minimising

    paths billed + evictions / evictions_per_path

where the evictions of a wildcard are the unchanged objects below its directory (tree.py counts them: an
object is not an eviction when it needs invalidating anyway), subject to at most `budget` paths, at most
`max_wildcards` wildcards and at most `max_files` exact paths. A directory whose subtree is not fully
known (the listing stopped early) has unbounded evictions (`math.inf`): it is never a wildcard here.
`evictions_per_path` = 0 makes every eviction infinitely expensive: only wildcards that evict nothing.
When no cover meets the limits under these rules, `cover` returns None and the caller coalesces blind,
exactly as before (coalesce.fit / coalesce.coalesce): the quotas force wildcards that evict, or land on
parts of the tree nobody listed.

Wildcards: directory wildcards only. A wildcard `/dir/*` covers every path that starts with `/dir/`,
the directory path `/dir/` of an index document included. Prefix wildcards (`/docs/guide-*`) are not
used: a generated site's siblings rarely share a name prefix that its unchanged siblings do not, each
prefix candidate would multiply the tree's nodes by the names in a directory, and CloudFront bills and
counts them as any wildcard. A directory whose name holds one of `~ | [ ] ^` has two viewer forms (see
paths.py); both are nodes of the tree, each a candidate costing its own path and its own evictions (the
same unchanged objects counted under each), so a cover of both forms pays for both.

The optimum: wildcards form an antichain of directories (one under another is useless). A dynamic
programme over the directories above the changed paths keeps, per directory and per number k of wildcards
used below it (k <= max_wildcards <= 15), the cheapest cover of its subtree, merging children as a
knapsack (min-plus); the root's table gives the best k. That is exact for the objective with the
wildcard limit. The path budget and the file limit are held by a Lagrangian: when the optimum breaks
them, the eviction weight w (1 / evictions_per_path at first) is lowered by bisection (BISECTIONS steps,
w down to 0, where the cover uses as few paths as the wildcard limit allows), making wildcards cheaper,
and the cheapest cover found that meets the limits is kept. That is exact when the limits do not bind
(the usual case: a cover is far below `max_paths_per_invalidation`) and otherwise the best cover on the
lower convex hull of paths against evictions. Cost: O(directories x 15^2) per solve, a few
solves (its time on a large tree: docs/cost.md, "Handler speed and memory").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ROOT = "/"
BISECTIONS = 20

Evictions = Callable[[str], float]  # directory ("/", "/docs/") -> unchanged objects below; inf: unknown


@dataclass(frozen=True)
class Cover:
    """The paths to invalidate (sorted), how many are wildcards, and the unchanged objects they evict."""

    paths: tuple[str, ...]
    wildcards: int
    evictions: float


@dataclass(frozen=True)
class _Entry:
    """The cheapest cover of a subtree with a given number of wildcards, under the current weight."""

    cost: float
    evictions: float
    files: int


@dataclass
class _Node:
    files: list[str]
    children: list[str]
    evictions: float = math.inf


_Table = list[_Entry | None]  # index: wildcards used in the subtree


@dataclass(frozen=True)
class _Limits:
    budget: int
    wildcards: int
    files: int


def directory_of(path: str) -> str:
    """The directory a path sits in: `/docs/a.html` and `/docs/` -> `/docs/`, `/a.html` -> `/`."""
    return path[: path.rindex("/") + 1]


def directories(paths: Iterable[str]) -> set[str]:
    """Every directory above the paths, the root included: the candidate wildcards."""
    found = {ROOT}
    for path in paths:
        end = path.rfind("/")
        while end > 0:
            directory = path[: end + 1]
            if directory in found:
                break
            found.add(directory)
            end = path.rfind("/", 0, end)
    return found


def parent_of(directory: str) -> str:
    return directory[: directory.rindex("/", 0, len(directory) - 1) + 1]


def cover(
    changed: Iterable[str],
    evictions: Evictions,
    *,
    evictions_per_path: float,
    budget: int,
    max_wildcards: int,
    max_files: int,
) -> Cover | None:
    """The cheapest cover of `changed` within the limits (see the module docstring); None when none
    exists without unbounded evictions (or, with evictions_per_path 0, without any eviction)."""
    nodes = _tree(set(changed), evictions, evictions_per_path)
    weight = 1 / evictions_per_path if evictions_per_path > 0 else 0.0
    true_cost = _cost_function(evictions_per_path)
    limits = _Limits(budget, max_wildcards, max_files)
    best = _solve(nodes, weight, limits, true_cost)
    if best is not None or weight == 0.0:
        return best
    low, high = 0.0, weight
    best = _solve(nodes, low, limits, true_cost)
    if best is None:
        return None
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        found = _solve(nodes, middle, limits, true_cost)
        if found is None:
            high = middle
            continue
        low = middle
        if true_cost(found) < true_cost(best):
            best = found
    return best


def cost(found: Cover, evictions_per_path: float) -> float:
    """The objective: paths billed + evictions / evictions_per_path (evictions alone are infinite at 0)."""
    return _cost_function(evictions_per_path)(found)


def _cost_function(evictions_per_path: float) -> Callable[[Cover], float]:
    def of(found: Cover) -> float:
        if evictions_per_path == 0:
            return len(found.paths) + (math.inf if found.evictions else 0)
        return len(found.paths) + found.evictions / evictions_per_path

    return of


def _tree(changed: set[str], evictions: Evictions, evictions_per_path: float) -> dict[str, _Node]:
    """The directories above the changed paths, each with its own changed paths and its children; a
    directory that may never be a wildcard (unknown, or evicting with evictions_per_path 0) gets inf."""
    nodes = {directory: _Node([], []) for directory in directories(changed)}
    for path in changed:
        nodes[directory_of(path)].files.append(path)
    for directory, node in nodes.items():
        if directory != ROOT:
            nodes[parent_of(directory)].children.append(directory)
        found = float(evictions(directory))
        node.evictions = math.inf if evictions_per_path == 0 and found > 0 else found
    return nodes


def _solve(
    nodes: dict[str, _Node], weight: float, limits: _Limits, true_cost: Callable[[Cover], float]
) -> Cover | None:
    """The cheapest cover under `weight` per eviction that meets the limits, or None."""
    limit = max(0, min(limits.wildcards, limits.budget))
    tables: dict[str, _Table] = {}
    splits: dict[str, list[list[int]]] = defaultdict(list)
    wild: set[str] = set()
    for directory in sorted(nodes, key=len, reverse=True):  # children are longer than their parent
        node = nodes[directory]
        table: _Table = [_Entry(len(node.files), 0.0, len(node.files))]
        for child in node.children:
            table, split = _merge(table, tables.pop(child), limit)
            splits[directory].append(split)
        if limit >= 1 and _wildcard_is_cheaper(table, node, weight):
            wild.add(directory)
        tables[directory] = table
    choices = []
    for k, entry in enumerate(tables[ROOT]):
        if entry is not None and entry.files + k <= limits.budget and entry.files <= limits.files:
            paths = _paths(ROOT, k, nodes, splits, wild)
            choices.append(Cover(tuple(sorted(paths)), k, entry.evictions))
    return min(choices, key=lambda c: (true_cost(c), c.wildcards), default=None)


def _wildcard_is_cheaper(table: _Table, node: _Node, weight: float) -> bool:
    """Put the wildcard over the whole subtree in as the k = 1 entry when it is cheaper (fewer evictions
    on a tie) than one wildcard below; say whether it was."""
    if node.evictions == math.inf:
        return False
    wildcard = _Entry(1 + weight * node.evictions, node.evictions, 0)
    if len(table) < 2:
        table.append(None)
    current = table[1]
    if current is not None and (wildcard.cost, wildcard.evictions) >= (current.cost, current.evictions):
        return False
    table[1] = wildcard
    return True


def _merge(left: _Table, right: _Table, limit: int) -> tuple[_Table, list[int]]:
    """Min-plus merge: for each k, the cheapest split of k wildcards between the two; the right's share."""
    size = min(limit, len(left) + len(right) - 2) + 1
    merged: _Table = [None] * size
    split = [0] * size
    for i, a in enumerate(left):
        if a is None:
            continue
        for j, b in enumerate(right[: size - i]):
            if b is None:
                continue
            current = merged[i + j]
            total = a.cost + b.cost
            if current is None or (total, a.evictions + b.evictions) < (current.cost, current.evictions):
                merged[i + j] = _Entry(total, a.evictions + b.evictions, a.files + b.files)
                split[i + j] = j
    return merged, split


def _paths(
    root: str, k: int, nodes: dict[str, _Node], splits: dict[str, list[list[int]]], wild: set[str]
) -> list[str]:
    """The paths of the root's k-wildcard entry, replaying the recorded choices (no recursion)."""
    paths: list[str] = []
    stack = [(root, k)]
    while stack:
        directory, wildcards = stack.pop()
        if wildcards == 1 and directory in wild:
            paths.append(directory + "*")
            continue
        paths.extend(nodes[directory].files)
        for child, split in zip(
            reversed(nodes[directory].children), reversed(splits[directory]), strict=True
        ):
            share = split[wildcards]
            stack.append((child, share))
            wildcards -= share
    return paths
