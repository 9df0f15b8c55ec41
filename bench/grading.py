"""How the benches judge an outcome: which viewer paths a change needed, and what the invalidations covered.

Coverage is decided against the CloudFront model's record of what was invalidated (an exact path, or a
wildcard whose prefix the path starts with), never against the handler's own answer. Given when each
change was written (virtual time), only an invalidation created after it counts: one created before the
write leaves the new version's path to whatever a viewer fetched in between.
One created at the very instant of the write counts: the benches deliver a notification at the instant
of its write and the handler works without virtual time passing, so a batch's last change is written
when its invalidation is created.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping, Sequence

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


def wildcard_prefixes(path: str, prefixes: Mapping[str, object], lengths: Sequence[int]) -> list[str]:
    """The wildcard prefixes `path` starts with: of its prefixes, those in `prefixes` (`lengths`: the
    lengths of those, so that only prefixes of such a length are looked up)."""
    return [path[:n] for n in lengths if n <= len(path) and path[:n] in prefixes]


class LastCovered:
    """When an invalidation of one distribution last covered each path: the latest creation time among
    the invalidations naming it exactly or holding a wildcard whose prefix it starts with."""

    def __init__(self, model: CloudFrontModel, distribution_id: str) -> None:
        self._exact: dict[str, float] = {}
        self._prefixes: dict[str, float] = {}
        for invalidation in model.invalidations(distribution_id):
            for path in invalidation.paths:
                table, name = (self._prefixes, path[:-1]) if path.endswith("*") else (self._exact, path)
                table[name] = max(table.get(name, invalidation.created_at), invalidation.created_at)
        self._lengths = sorted({len(prefix) for prefix in self._prefixes})

    def at(self, path: str) -> float | None:
        """The latest creation time of an invalidation covering `path`, None when none does."""
        times = [self._exact[path]] if path in self._exact else []
        times += [self._prefixes[p] for p in wildcard_prefixes(path, self._prefixes, self._lengths)]
        return max(times, default=None)


class FirstCovered:
    """When invalidations of one distribution covered each path: the sorted creation times of those
    naming it exactly and of those holding a wildcard with each prefix."""

    def __init__(self, model: CloudFrontModel, distribution_id: str) -> None:
        self._exact: dict[str, list[float]] = {}
        self._prefixes: dict[str, list[float]] = {}
        for invalidation in model.invalidations(distribution_id):
            for path in invalidation.paths:
                table, name = (self._prefixes, path[:-1]) if path.endswith("*") else (self._exact, path)
                table.setdefault(name, []).append(invalidation.created_at)
        for times in (*self._exact.values(), *self._prefixes.values()):
            times.sort()
        self._lengths = sorted({len(prefix) for prefix in self._prefixes})

    def after(self, path: str, since: float) -> float | None:
        """The earliest creation time, at or after `since`, of an invalidation covering `path`; None when
        none does."""
        lists = [self._exact[path]] if path in self._exact else []
        lists += [self._prefixes[p] for p in wildcard_prefixes(path, self._prefixes, self._lengths)]
        found = [times[i] for times in lists if (i := bisect.bisect_left(times, since)) < len(times)]
        return min(found, default=None)


def change_to_invalidation(
    written: Mapping[str, float],
    distributions: Sequence[Distribution],
    index_document: str,
    model: CloudFrontModel,
) -> dict[str, float | None]:
    """Per changed key (`written`: its write, virtual seconds), the seconds from the write until
    invalidations created at or after it covered every viewer path it needs on every distribution: the
    latest, over those paths, of the first covering invalidation's creation time, minus the write (when
    one invalidation names them all, its creation time). None when some path is never covered so."""
    first = {d.id: FirstCovered(model, d.id) for d in distributions}
    delays: dict[str, float | None] = {}
    for key, since in written.items():
        times = [
            first[d.id].after(path, since)
            for d in distributions
            for path in required_paths(key, d, index_document)
        ]
        delays[key] = (
            None if None in times else max((t for t in times if t is not None), default=since) - since
        )
    return delays


def lost_and_stale(
    keys: Iterable[str],
    distributions: Sequence[Distribution],
    index_document: str,
    model: CloudFrontModel,
    written: Mapping[str, float] | None = None,
) -> tuple[int, int]:
    """(lost, stale): changed keys with none of their viewer paths invalidated on some distribution, and
    keys with only some of them. With `written` (each key's write, virtual seconds), only invalidations
    created after the write count."""
    lost = stale = 0
    last = {d.id: LastCovered(model, d.id) for d in distributions}
    for key in keys:
        states = set()
        since = -float("inf") if written is None else written[key]
        for distribution in distributions:
            covered = [
                (at := last[distribution.id].at(p)) is not None and at >= since
                for p in required_paths(key, distribution, index_document)
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
