"""The frontier: the cheapest cover of one whole deploy's changes, with the whole tree known.

What the replay's figures are compared with (issue 13). Written here from the rule, independently of
the handler: nothing is imported from lambda_src's planner (cover, coalesce, plan).

The problem, for one distribution and one deploy:
- Every viewer path of every changed key (added, modified or deleted) must be covered. Which viewer
  paths a key has is the independent oracle's answer (grading.required_paths, i.e.
  tests/python/support/path_oracle.py).
- A cover is a set of directory wildcards (`/dir/*`, and `/*` for the root) plus the exact paths of
  every changed viewer path no wildcard covers. At most `max_wildcards` wildcards (15: CloudFront's
  wildcard paths in progress per distribution, as if the whole deploy went in at once). Prefix
  wildcards (`/docs/guide-*`) are not considered, nor the 3,000 file paths in progress.
- Paths billed: the exact paths plus the wildcards. Evicted: the objects of the tree after the deploy
  that the deploy did not change and that have a viewer path under a chosen wildcard.
- Cost: `paths billed + evicted / evictions_per_path`; with `evictions_per_path = 0`, no eviction is
  allowed (a wildcard over an unchanged object is not a choice) and the cost is the paths billed.

The optimum is exact: a dynamic programme over the directory tree. A wildcard inside a chosen wildcard
never helps (it costs a path and covers nothing more), so the chosen wildcards form an antichain; for a
directory, the best cover of its subtree with at most k wildcards is either its own wildcard (k >= 1) or
the exact paths directly in it plus the best split of k among its subdirectories (a knapsack, k <= 15).
Only directories with a changed path below them are visited. Costs are compared scaled by
evictions_per_path (`paths x evictions_per_path + evicted`), exact for integer values; ties go to fewer
evictions. One approximation, stated: an object whose viewer paths lie in two directories (a directory
name holding one of `~ | [ ] ^`, which viewers send raw or encoded) is counted once per chosen
wildcard covering one of them, so the frontier could over-count it; neither replayed site has such a
key (`multi_directory_objects` counts them), and the figures reported (paths, evicted) are recounted
from the chosen wildcards by the plain rule. tests/python/test_frontier.py checks the optimum against a
brute force on small random trees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grading import required_paths

from cf_invalidator.config import Distribution

MAX_WILDCARDS = 15  # CloudFront: wildcard paths in progress per distribution
INFINITE = float("inf")
# (scaled cost, evicted, wildcard directories): one state of the dynamic programme
State = tuple[float, int, tuple[str, ...]]
NO_STATE: State = (INFINITE, 0, ())
SITE = Distribution("site", "ESITE")  # one distribution serving the bucket, origin path ""


@dataclass(frozen=True)
class Cover:
    """The optimum cover of one deploy at one evictions_per_path."""

    wildcards: tuple[str, ...]  # e.g. ("/docs/*", "/*")
    exact_paths: int
    evicted: int
    evictions_per_path: float

    @property
    def paths(self) -> int:
        """Paths billed: the exact paths and the wildcards."""
        return self.exact_paths + len(self.wildcards)

    @property
    def cost(self) -> float:
        """paths + evicted / evictions_per_path (the paths alone at 0)."""
        if self.evictions_per_path == 0:
            return float(self.paths)
        return self.paths + self.evicted / self.evictions_per_path


def directory_of(path: str) -> str:
    """The directory a viewer path lies in, as a prefix ending in `/` ("/" for the root)."""
    return path[: path.rindex("/") + 1]


def ancestors(directory: str) -> list[str]:
    """`directory` and every directory above it, root ("/") first."""
    parts = directory.split("/")[1:-1]
    return ["/" + "".join(part + "/" for part in parts[:depth]) for depth in range(len(parts) + 1)]


def parent_of(directory: str) -> str:
    return directory[: directory.rstrip("/").rindex("/") + 1]


def covered(path: str, wildcard_directories: Iterable[str]) -> bool:
    return any(path.startswith(directory) for directory in wildcard_directories)


@dataclass(frozen=True)
class Problem:
    """One deploy as the frontier sees it: the paths to cover, and the unchanged objects' paths."""

    required: frozenset[str]
    unchanged: tuple[frozenset[str], ...]  # each unchanged object's viewer paths

    @classmethod
    def of(
        cls,
        tree: Iterable[str],
        changed: Iterable[str],
        distribution: Distribution = SITE,
        index_document: str = "index.html",
    ) -> Problem:
        changed_keys = set(changed)
        required = frozenset(p for k in changed_keys for p in required_paths(k, distribution, index_document))
        unchanged = tuple(
            paths
            for key in sorted(set(tree) - changed_keys)
            if (paths := required_paths(key, distribution, index_document))
        )
        return cls(required, unchanged)

    def evicted(self, wildcard_directories: Sequence[str]) -> int:
        """Unchanged objects with a viewer path under one of the wildcards."""
        return sum(1 for paths in self.unchanged if any(covered(p, wildcard_directories) for p in paths))

    def multi_directory_objects(self) -> int:
        """Unchanged objects whose viewer paths lie in more than one directory (see the docstring)."""
        return sum(1 for paths in self.unchanged if len({directory_of(p) for p in paths}) > 1)


def frontier(problem: Problem, evictions_per_path: float, max_wildcards: int = MAX_WILDCARDS) -> Cover:
    """The cover of `problem` of least cost (see the module's docstring)."""
    if evictions_per_path < 0:
        raise ValueError(f"evictions_per_path must be >= 0, got {evictions_per_path}")
    direct: defaultdict[str, int] = defaultdict(int)  # changed paths directly in each directory
    for path in problem.required:
        direct[directory_of(path)] += 1
    active = {a for directory in direct for a in ancestors(directory)}
    below: defaultdict[str, int] = defaultdict(int)  # unchanged objects with a path in the subtree
    for paths in problem.unchanged:
        for directory in {a for p in paths for a in ancestors(directory_of(p))} & active:
            below[directory] += 1
    best = _solve(active, direct, below, evictions_per_path, max_wildcards) if active else [NO_STATE]
    wildcards = best[-1][2]
    exact = sum(1 for path in problem.required if not covered(path, wildcards))
    return Cover(tuple(w + "*" for w in wildcards), exact, problem.evicted(wildcards), evictions_per_path)


def _solve(
    active: set[str], direct: dict[str, int], below: dict[str, int], epp: float, max_wildcards: int
) -> list[State]:
    """The root's states: index k holds the best cover with at most k wildcards."""
    children: defaultdict[str, list[str]] = defaultdict(list)
    for directory in active - {"/"}:
        children[parent_of(directory)].append(directory)
    states: dict[str, list[State]] = {}
    for directory in sorted(active, key=lambda d: d.count("/"), reverse=True):  # leaves first
        exact = direct.get(directory, 0)
        combined: list[State] = [((exact * epp) if epp else exact, 0, ())]
        for child in children.get(directory, ()):
            combined = _knapsack(combined, states.pop(child), max_wildcards)
        evicted = below.get(directory, 0)
        if max_wildcards >= 1 and (epp > 0 or evicted == 0):
            own: State = ((epp + evicted) if epp else 1, evicted, (directory,))
            combined = [*combined, NO_STATE] if len(combined) == 1 else combined
            combined[1] = min(combined[1], own)
        states[directory] = _at_most(combined)
    return states["/"]


def _knapsack(left: list[State], right: list[State], max_wildcards: int) -> list[State]:
    """The best of every split of k wildcards between two disjoint parts, for each k."""
    size = min(max_wildcards, len(left) - 1 + len(right) - 1) + 1
    merged: list[State] = [NO_STATE] * size
    for i, (cost_i, evicted_i, wild_i) in enumerate(left):
        if cost_i == INFINITE:
            continue
        for j, (cost_j, evicted_j, wild_j) in enumerate(right[: size - i]):
            candidate = (cost_i + cost_j, evicted_i + evicted_j, wild_i + wild_j)
            merged[i + j] = min(merged[i + j], candidate)
    return merged


def _at_most(states: list[State]) -> list[State]:
    """Index k: the best with at most k wildcards."""
    for k in range(1, len(states)):
        states[k] = min(states[k], states[k - 1])
    return states
