"""How the benches judge an outcome: which viewer paths a change needed, and what the invalidations covered.

Coverage is decided against the CloudFront model's record of what was invalidated (`covers`: an exact
path, or a wildcard whose prefix the path starts with), never against the handler's own answer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from cf_invalidator.config import Distribution
from support import path_oracle
from support.cloudfront_model import CloudFrontModel


# THE ONE PLACE the benches decide which viewer paths a changed key needs: the independent oracle
# (tests/python/support/path_oracle.py, written from CloudFront's documented rules, not from lambda_src),
# so that a wrong mapping in the handler shows here as changes missed.
@functools.cache
def required_paths(key: str, distribution: Distribution, index_document: str) -> frozenset[str]:
    """The viewer paths serving `key` on `distribution`: a change of `key` must invalidate all of them."""
    return path_oracle.required_paths(
        key,
        distribution.origin_path,
        index_document,
        directory_without_slash=distribution.directory_without_slash,
        strip_extensions=distribution.strip_extensions,
    )


def lost_and_stale(
    keys: Iterable[str],
    distributions: Sequence[Distribution],
    index_document: str,
    model: CloudFrontModel,
) -> tuple[int, int]:
    """(lost, stale): changed keys with none of their viewer paths invalidated on some distribution, and
    keys with only some of them."""
    lost = stale = 0
    for key in keys:
        states = set()
        for distribution in distributions:
            covered = [
                model.covers(distribution.id, p) for p in required_paths(key, distribution, index_document)
            ]
            states.add("all" if all(covered) else "some" if any(covered) else "none")
        lost += "none" in states
        stale += "none" not in states and "some" in states
    return lost, stale


def evicted(
    tree: Iterable[str],
    changed: set[str],
    distributions: Sequence[Distribution],
    index_document: str,
    model: CloudFrontModel,
) -> int:
    """Unchanged objects of the tree that an invalidation evicted (any viewer path of theirs covered)."""
    return sum(
        1
        for key in tree
        if key not in changed
        and any(
            model.covers(d.id, path) for d in distributions for path in required_paths(key, d, index_document)
        )
    )


def ideal_paths(keys: Iterable[str], distributions: Sequence[Distribution], index_document: str) -> int:
    """Distinct viewer paths of the changed keys: what exact invalidation, no wildcard, would bill."""
    return sum(
        len({path for key in keys for path in required_paths(key, d, index_document)}) for d in distributions
    )
