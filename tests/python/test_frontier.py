"""The bench's frontier (bench/frontier.py) is the optimum cover, checked against a brute force.

GIVEN a small random tree, a random set of changed keys (some deleted) and an evictions_per_path, WHEN
the frontier's dynamic programme chooses its cover, THEN no set of at most `max_wildcards` directory
wildcards, tried one by one and scored by the rule written out again here from the path oracle, costs
less, and the cover the frontier reports covers every changed viewer path and bills and evicts what the
brute force counts for those wildcards.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from frontier import Problem, frontier

from support.path_oracle import is_covered, required_paths

DIRECTORIES = ("", "a/", "b/", "a/a/", "a/b/", "b/a/", "a/a/c/")
NAMES = ("index.html", "x.html", "y.css")
KEYS = tuple(d + n for d in DIRECTORIES for n in NAMES)


def brute_force_cost(
    tree: set[str], changed: set[str], epp: float, max_wildcards: int
) -> tuple[float, int, int]:
    """(cost, paths, evicted) of the cheapest set of directory wildcards plus exact paths, by trying
    every set of at most `max_wildcards` directories."""
    required = {p for key in changed for p in required_paths(key)}
    unchanged = [required_paths(key) for key in sorted(tree - changed)]
    directories = sorted({p[: p.rindex("/") + 1] for paths in [required, *unchanged] for p in paths})
    directories = sorted({d[: i + 1] for d in directories for i, c in enumerate(d) if c == "/"})
    best = (float("inf"), 0, 0)
    for count in range(max_wildcards + 1):
        for chosen in itertools.combinations(directories, count):
            wildcards = [d + "*" for d in chosen]
            evicted = sum(1 for paths in unchanged if any(is_covered(p, wildcards) for p in paths))
            if epp == 0 and evicted:
                continue
            paths = count + sum(1 for p in required if not is_covered(p, wildcards))
            cost = paths + (evicted / epp if epp else 0)
            best = min(best, (cost, paths, evicted))
    return best


@settings(max_examples=150, deadline=None)
@given(
    tree=st.sets(st.sampled_from(KEYS), min_size=1, max_size=14),
    data=st.data(),
    epp=st.sampled_from((0.0, 0.5, 1.0, 3.0, 100.0)),
    max_wildcards=st.integers(min_value=0, max_value=3),
)
def test_frontier_costs_what_the_brute_force_optimum_costs(
    tree: set[str], data: st.DataObject, epp: float, max_wildcards: int
) -> None:
    changed = data.draw(st.sets(st.sampled_from(sorted(tree)), min_size=1))
    deleted = data.draw(st.sets(st.sampled_from(sorted(changed))))
    after = tree - deleted
    cover = frontier(Problem.of(after, changed), epp, max_wildcards)
    expected_cost, _, _ = brute_force_cost(after, changed, epp, max_wildcards)
    assert cover.cost == pytest.approx(expected_cost)
    assert len(cover.wildcards) <= max_wildcards
    required = {p for key in changed for p in required_paths(key)}
    assert cover.exact_paths == sum(1 for p in required if not is_covered(p, cover.wildcards))
    unchanged = [required_paths(key) for key in after - changed]
    assert cover.evicted == sum(
        1 for paths in unchanged if any(is_covered(p, cover.wildcards) for p in paths)
    )
    if epp == 0:
        assert cover.evicted == 0


def test_frontier_covers_a_directory_whose_every_file_changed_with_one_wildcard() -> None:
    tree = {"docs/a.html", "docs/b.html", "docs/index.html", "blog/p.html", "index.html"}
    cover = frontier(Problem.of(tree, {"docs/a.html", "docs/b.html", "docs/index.html"}), 0.0)
    assert (cover.wildcards, cover.exact_paths, cover.evicted) == (("/docs/*",), 0, 0)


def test_frontier_weighs_evictions_against_paths() -> None:
    """Three changed files beside one unchanged one: at 1 eviction a path the wildcard costs 1 + 1 = 2,
    less than 3 exact paths; at 0.25, it costs 1 + 4 = 5, more than 3: exact paths."""
    tree = {"d/a.css", "d/b.css", "d/c.css", "d/keep.css"}
    changed = {"d/a.css", "d/b.css", "d/c.css"}
    dear = frontier(Problem.of(tree, changed), 1.0)  # `/d/*` or `/*`: both evict the one object
    assert (len(dear.wildcards), dear.exact_paths, dear.evicted, dear.cost) == (1, 0, 1, 2.0)
    cheap = frontier(Problem.of(tree, changed), 0.25)
    assert (cheap.wildcards, cheap.exact_paths, cheap.cost) == ((), 3, 3.0)


def test_frontier_never_evicts_at_zero_evictions_per_path() -> None:
    tree = {f"d/{i}.css" for i in range(50)} | {"d/keep.css"}
    cover = frontier(Problem.of(tree, tree - {"d/keep.css"}), 0.0)
    assert (cover.wildcards, cover.exact_paths, cover.evicted) == ((), 50, 0)
