"""Deploy-level dedupe: a key whose change an invalidation already refreshed is left out of the request.

The rule. A change of a key written at W is covered on a distribution when each viewer path it needs
there (paths.viewer_paths) is named by an invalidation of THAT distribution (exactly, or by a wildcard
`/x*` whose prefix the path starts with, as coalesce.covers matches) that was created at
C >= W + MARGIN, whether it is in progress or completed. Each path may be refreshed by a different such
invalidation: each viewer path is its own cached object. An invalidation created before the change was
written never covers it (it may have refreshed the old object), nor one created within the margin after,
nor one of another distribution; a change without an event time is never covered.

The margin, MARGIN (60 s). An invalidation created at C refreshes what edges cached before it takes
effect; the write must be in S3 before C, and no fetch of the old object may still be on its way to an
edge cache when the invalidation takes effect (that copy would be cached after it, and stay stale):
- W is when the event says the change was written. S3's `eventTime` is when S3 finished processing the
  request (S3 user guide, "Event message structure"), to the millisecond: the new object is readable from
  then on (S3 is strongly consistent after a successful write). EventBridge's `time` is truncated to the
  second, so the write may be up to 1 s later than it says: 1 s.
- S3's and CloudFront's clocks: AWS keeps its services' time with the Amazon Time Sync Service; 1 s is
  generous for any skew between them.
- An origin fetch that started before the write (S3 chose the old version) and completed after C: CloudFront
  waits for S3's first byte at most the origin response timeout (30 s by default; a fetch whose response
  does not start in time is given up), and the body of a site's object (kilobytes to a few megabytes)
  follows within a second or two over AWS's network. 58 s covers the default timeout with 28 s to spare
  for the body; a distribution configured with a longer response timeout, or serving objects that take
  more than ~28 s to transfer from S3, is outside what this margin proves.
That an invalidation takes effect at the edges a little after C (CloudFront says under 5 s) only widens
the gap.
The cost of the margin: a key written less than a minute before the invalidation that would cover it is
invalidated again, as without the dedupe; nothing is missed.

The rule (Coverage, newest_times) is pure; the I/O (the invalidations, read with bounded calls) is
in_progress.py's, handed to already_covered as `read`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .config import Config, Distribution
from .events import Change
from .paths import viewer_paths

logger = logging.getLogger(__name__)

MARGIN = timedelta(seconds=60)
EXAMPLE_IDS = 3  # invalidation ids named in the log line, per distribution


@dataclass(frozen=True)
class Made:
    """An invalidation as CloudFront reports it: its id, CreateTime (None: unknown) and paths."""

    id: str
    created: datetime | None
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Seen:
    """A distribution's invalidations created at or after a time, as far as they could be read."""

    made: tuple[Made, ...]
    list_calls: int = 0
    get_calls: int = 0
    unread: str | None = None  # why some may be missing (a bound, an error); None: every one was read


class Coverage:
    """One distribution's invalidations indexed by path: for each path or wildcard prefix, the newest
    invalidation naming it (the newest is the one most likely created after a given write)."""

    def __init__(self, invalidations: Iterable[Made]) -> None:
        self._exact: dict[str, Made] = {}
        self._prefixes: dict[str, Made] = {}
        for made in invalidations:
            if made.created is None:
                continue
            for path in made.paths:
                index, name = (self._prefixes, path[:-1]) if path.endswith("*") else (self._exact, path)
                if name not in index or _utc(index[name]) < _utc(made):
                    index[name] = made

    def covering(
        self, written: datetime | None, paths: Sequence[str], margin: timedelta = MARGIN
    ) -> frozenset[str] | None:
        """The ids of the invalidations that refresh each of `paths` after a change written at
        `written` (created at least `margin` later), or None when some path is not refreshed so."""
        if written is None or not paths or not (self._exact or self._prefixes):
            return None
        after = aware(written) + margin
        ids = set()
        for path in paths:
            made = self._newest(path)
            if made is None or _utc(made) < after:
                return None
            ids.add(made.id)
        return frozenset(ids)

    def _newest(self, path: str) -> Made | None:
        found = [self._exact.get(path)]
        if self._prefixes:
            found += [self._prefixes.get(path[:end]) for end in range(len(path) + 1)]
        named = [made for made in found if made is not None]
        return max(named, key=_utc) if named else None


def aware(moment: datetime) -> datetime:
    """A time without a zone is taken as UTC (CloudFront and S3 report UTC; botocore adds the zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(made: Made) -> datetime:
    return aware(made.created or datetime.min)


def newest_times(
    keys_by_message: Mapping[str, Sequence[str]], changes_by_message: Mapping[str, Sequence[Change]]
) -> dict[str, datetime | None]:
    """For each key left to invalidate, the newest time it was written in the batch; None when one of
    its changes has no time (the newest write must be covered, and an unknown one cannot be placed)."""
    wanted = {key for keys in keys_by_message.values() for key in keys}
    untimed: set[str] = set()
    newest: dict[str, datetime] = {}
    for change in (change for found in changes_by_message.values() for change in found):
        if change.key not in wanted:
            continue
        if change.event_time is None:
            untimed.add(change.key)
        else:
            written = aware(change.event_time)
            newest[change.key] = max(newest.get(change.key, written), written)
    return {key: None if key in untimed else newest.get(key) for key in wanted}


@dataclass(frozen=True)
class _Found:
    """What the dedupe found on one distribution, for the log line."""

    distribution_id: str
    keys: frozenset[str]  # left out
    covering: frozenset[str]  # the invalidations that covered them
    seen: Seen


def already_covered(
    keys_by_message: Mapping[str, Sequence[str]],
    changes_by_message: Mapping[str, Sequence[Change]],
    config: Config,
    read: Callable[[str, datetime], Seen],
) -> Callable[[Distribution, str], bool]:
    """plan_requests' `exclude`: whether a key's change is already covered on a distribution, judged on
    the invalidations `read(distribution_id, since)` gives; logs `already_covered` once for the batch."""
    times = newest_times(keys_by_message, changes_by_message)
    timed = {key: written for key, written in times.items() if written is not None}
    found = {}
    for distribution in config.distributions:
        served = {
            key: paths for key in timed if (paths := viewer_paths(key, distribution, config.index_document))
        }
        if served:
            found[distribution.label] = _covered_on(distribution, served, timed, read)
    _log(found)
    excluded = {(entry.distribution_id, key) for entry in found.values() for key in entry.keys}
    return lambda distribution, key: (distribution.id, key) in excluded


def _covered_on(
    distribution: Distribution,
    served: Mapping[str, Sequence[str]],
    times: Mapping[str, datetime],
    read: Callable[[str, datetime], Seen],
) -> _Found:
    """The keys of `served` (key -> its viewer paths there) whose change is covered on `distribution`:
    only invalidations created at or after the oldest write + MARGIN can cover one, so none older is read."""
    since = min(times[key] for key in served) + MARGIN
    seen = read(distribution.id, since)
    coverage = Coverage(seen.made)
    keys: set[str] = set()
    ids: set[str] = set()
    for key, paths in served.items():
        covering = coverage.covering(times[key], paths)
        if covering is not None:
            keys.add(key)
            ids |= covering
    return _Found(distribution.id, frozenset(keys), frozenset(ids), seen)


def _log(found: Mapping[str, _Found]) -> None:
    """One line per batch, when a key was left out or some invalidations could not be read."""
    if not any(entry.keys or entry.seen.unread for entry in found.values()):
        return
    logger.info(
        "already_covered",
        extra={
            "decision": "already_covered",
            "key_count": sum(len(entry.keys) for entry in found.values()),
            "distributions": {
                label: {
                    "distribution_id": entry.distribution_id,
                    "keys_left_out": len(entry.keys),
                    "example_key": min(entry.keys, default=None),
                    "covering_invalidations": len(entry.covering),
                    "example_invalidation_ids": sorted(entry.covering)[:EXAMPLE_IDS],
                    "invalidations_read": len(entry.seen.made),
                    "list_calls": entry.seen.list_calls,
                    "get_calls": entry.seen.get_calls,
                    "bound_hit": entry.seen.unread,
                }
                for label, entry in found.items()
            },
            "outcome": "left out where an invalidation created after the change covers every path of it; "
            "invalidations not read (bound_hit) cover nothing",
        },
    )
