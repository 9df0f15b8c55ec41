"""The tree below a distribution's changed paths, from S3: how many unchanged objects each wildcard evicts.

When wildcards could save paths for a distribution (two or more changed viewer paths), the objects below
the deepest directory holding all of them are listed (a wildcard higher up covers the same changes and
evicts more): Prefix = origin path + that directory, no delimiter, MaxKeys 1000. Each such prefix is
listed once per batch (one inside another is listed as the outer one), the prefixes side by side on the
thread pool, each one's pages in turn.
- With skip_unchanged_objects (its IAM grants s3:ListBucketVersions), ListObjectVersions, paged by
  KeyMarker/VersionIdMarker; it works on an unversioned bucket too (every version id is "null"), so the
  role needs no other permission. Without, ListObjectsV2 paged by ContinuationToken (s3:ListBucket).
- An object below a wildcard is an *eviction* (refreshed needlessly) unless it needs invalidating anyway:
  it is a change this batch invalidates, or (versioned listing) its current version was written within
  the deploy and differs from the entry it replaced in S3's order, as change detection judges it
  (history.py): a different ETag, no earlier version, or a delete marker that may lie between (then
  the same ETag is judged new). "Within the deploy" is: no earlier than DEPLOY_SPREAD before the oldest
  current version of this batch's changed keys (now, when none is listed). The window is anchored on
  the batch's own writes, so a batch redelivered an hour later judges the same; 15 minutes is seven
  times what a 12,000-file deploy takes at 100 files a second, and a version written by another deploy
  less than that before counts as changed (a wildcard may refresh it once more: a cache miss, never a
  missed change). Versions written after the batch's own need their own invalidation whatever the
  window. Anything that cannot be told (a "null" version id) is an eviction. An unversioned listing
  cannot tell what else the deploy changed: there only this batch's changes are not evictions.
- Bounds: one call per page of 1,000 objects (versions and delete markers on the versioned listing), at
  least one per prefix, and at most MAX_LIST_CALLS per batch; no call once the invocation's time falls
  under detect.py's floor (half of what was left when the listing started, at least 5 s). Past a bound,
  on an error, or out of time, the part not listed is *unknown*: every directory whose keys were not all
  seen has unbounded evictions, so the cover never puts a wildcard there (and falls back to coalescing
  blind when the limits force one): a stop never loses a change. One `tree_incomplete` line per
  distribution says why.
- Listed before change detection (`walk`), so that detection takes from the walk the history (every
  version and delete marker) of each of the batch's keys the walk saw whole, instead of listing its
  directory again (detect.py). The prefixes are therefore computed from all the batch's keys, a superset
  of those detection keeps: a distribution's deepest common directory can only be the same or shallower
  than the one of the kept keys, so the walk holds every tree wanted afterwards. Each tree (`trees`) is
  then built with the keys detection kept, below the directory of those keys, exactly as if that had
  been listed: an object detection judged unchanged is an eviction. Only the histories of the batch's
  keys are kept whole; the rest of the tree is reduced to its current versions as the walk goes.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Config, Distribution
from ..core.cover import directories
from ..core.history import Entry as HistoryEntry
from ..core.history import History, Reason, replaced_entry
from ..core.paths import BatchPaths, key_prefix, serves, viewer_paths
from .detect import PAGE_SIZE, POOL_SIZE, S3, Lookup, OutOfTimeError, collect, listed_entry

logger = logging.getLogger(__name__)

MAX_LIST_CALLS = 200  # listing calls per batch: 200,000 objects (versions)
DEPLOY_SPREAD = timedelta(minutes=15)  # how long before the batch's own writes a deploy may have begun

INFINITE = float("inf")
SAME, CHANGED, NEW = 0, 1, 2  # a current version against the entry before it (NEW: none, or a delete marker)


class ListsObjects(S3, Protocol):
    """The S3 calls of change detection, and ListObjectsV2 for a tree without change detection."""

    def list_objects_v2(self, **kwargs: Any) -> Mapping[str, Any]: ...


class _BoundReachedError(Exception):
    """The batch's listing calls are spent."""


@dataclass(frozen=True)
class Tree:
    """One distribution's tree as listed: the evictions below each directory above its changed paths.

    Keys below `prefix` were listed in order; all of them when `complete`, else every key sorting before
    `seen_before` (None: none). A directory whose keys were not all seen, or above `prefix`, is unknown."""

    prefix: str  # bucket prefix of the listed directory
    origin: str  # bucket prefix of the distribution ("" or "site/")
    below: Mapping[str, int]  # directory -> evictions below it (absent: none)
    complete: bool
    seen_before: str | None
    list_calls: int = 0
    # origin_path "auto": viewer directories map to keys through the routing, not a prefix; the whole
    # bucket is listed, and a directory is known only when that listing is complete
    routed: bool = False

    def evictions(self, directory: str) -> float:
        """Unchanged objects below `directory` (an encoded viewer directory); inf when not all known."""
        if self.routed:
            return self.below.get(directory, 0) if self.complete else INFINITE
        prefix = self.origin + unquote(directory[1:])
        if not prefix.startswith(self.prefix):
            return INFINITE
        if not self.complete and not _seen_all(prefix, self.seen_before):
            return INFINITE
        return self.below.get(directory, 0)


def _seen_all(prefix: str, seen_before: str | None) -> bool:
    """Every key starting with `prefix` sorts before `seen_before` (so the walk saw them all)."""
    return seen_before is not None and seen_before > prefix and not seen_before.startswith(prefix)


@dataclass
class _Listing:
    """One prefix's walk: its objects (key -> last modified, SAME/CHANGED/NEW), how far it got."""

    prefix: str
    objects: dict[str, tuple[float, int]] = field(default_factory=dict)
    complete: bool = False
    seen_before: str | None = None  # every key sorting before it was seen
    calls: int = 0
    stopped: str | None = None  # why the walk stopped early
    # the batch's keys below `prefix` the versioned walk saw whole -> all their entries
    histories: dict[str, History] = field(default_factory=dict)

    def saw_whole(self, key: str) -> bool:
        """Every entry of `key` (below `prefix`) was listed: the walk went past it, or to the end."""
        return self.complete or (self.seen_before is not None and key < self.seen_before)


class Wanted(NamedTuple):
    """What to list for one distribution: the bucket prefix, and the changed viewer paths below it."""

    prefix: str
    paths: frozenset[str]


@dataclass(frozen=True)
class Walk:
    """The batch's listings in one bucket, made before change detection (`walk`)."""

    bucket: str
    listings: tuple[_Listing, ...]
    lookup: Lookup
    moment: datetime  # when the listing ended: the deploy window's anchor when no changed key is listed
    keys: frozenset[str] = frozenset()  # the keys it was made for
    wanted: Mapping[str, Wanted] = field(default_factory=dict)  # _wanted(keys): the same for the same keys
    # the viewer paths of `keys`, for the trees of the keys detection keeps
    served: BatchPaths = field(default_factory=lambda: BatchPaths({}))

    def histories(self) -> dict[tuple[str, str], History]:
        """(bucket, key) -> every entry of the key, for the batch's keys the versioned walk saw whole."""
        return {(self.bucket, key): h for lst in self.listings for key, h in lst.histories.items()}


def walk(
    keys: Set[str],
    config: Config,
    buckets: Set[str | None],
    s3: ListsObjects | None,
    remaining_ms: Callable[[], int],
    *,
    served: BatchPaths,
    now: Callable[[], datetime] | None = None,
) -> Walk | None:
    """The listings below the batch's changed `keys` (all of them, before change detection; `served`
    holds their viewer paths) for the distributions where wildcards could save paths; None when nothing
    is to be listed. `now` is read once the listing ends (None: the clock)."""
    if s3 is None or len(buckets) != 1 or None in buckets:
        return None
    bucket = next(iter(b for b in buckets if b is not None))
    wanted = _wanted(keys, config, served)
    if not wanted:
        return None
    lookup = Lookup.starting_now(s3, remaining_ms)
    prefixes = sorted({w.prefix for w in wanted.values()})
    versioned = config.skip_unchanged_objects
    listings = tuple(_list_all(lookup, s3, bucket, prefixes, versioned, keys=keys))
    moment = datetime.now(UTC) if now is None else now()
    return Walk(bucket, listings, lookup, moment, frozenset(keys), wanted, served)


def trees(
    walked: Walk | None, keys_by_message: Mapping[str, Sequence[str]], config: Config
) -> dict[str, Tree]:
    """Distribution id -> its tree, for the distributions where wildcards could save paths for the keys
    kept (`keys_by_message`, after change detection), from the walk made with the batch's keys."""
    if walked is None:
        return {}
    changed = {key for keys in keys_by_message.values() for key in keys}
    wanted = walked.wanted if changed == walked.keys else _wanted(changed, config, walked.served)
    if not wanted:
        return {}
    listings, lookup, moment = walked.listings, walked.lookup, walked.moment
    window_start = _window_start(listings, changed, moment)
    found = {}
    for distribution in config.distributions:
        if distribution.id in wanted:  # the walk's prefix for it holds this one (see the docstring)
            outer = next(lst for lst in listings if wanted[distribution.id].prefix.startswith(lst.prefix))
            found[distribution.id] = _tree(
                distribution,
                wanted[distribution.id],
                outer,
                changed,
                window_start,
                config=config,
            )
            if outer.stopped is not None:
                _log_incomplete(distribution, outer, lookup)
    return found


def _wanted(changed: Set[str], config: Config, served: BatchPaths) -> dict[str, Wanted]:
    """Distribution id -> the bucket prefix to list, below the deepest directory of all its changed
    paths (their viewer paths, read from `served`), and those paths; for the distributions with two
    changed paths or more."""
    wanted = {}
    for distribution in config.distributions:
        on = served.on(distribution.id)
        paths = frozenset(p for key in changed if key in on for p in on[key])
        if len(paths) >= 2 and distribution.routing is not None:
            wanted[distribution.id] = Wanted("", paths)  # "auto": its origins may lie anywhere in the bucket
        elif len(paths) >= 2:
            directory = unquote(_common_directory(paths)[1:])
            wanted[distribution.id] = Wanted(key_prefix(distribution.origin_path) + directory, paths)
    return wanted


def _common_directory(paths: Set[str]) -> str:
    """The deepest directory holding every path: `/a/b/x`, `/a/c` -> `/a/`."""
    first, last = min(paths), max(paths)  # the common prefix of all is that of the least and the greatest
    end = 0
    while end < min(len(first), len(last)) and first[end] == last[end]:
        end += 1
    return first[: first.rindex("/", 0, end) + 1]


def _list_all(
    lookup: Lookup,
    s3: ListsObjects,
    bucket: str,
    prefixes: Sequence[str],
    versioned: bool,
    *,
    keys: Set[str],
) -> list[_Listing]:
    """Each outermost prefix listed once, side by side on the pool; the versioned walk keeps the
    histories of `keys`."""
    outer = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
    calls = _Calls(MAX_LIST_CALLS)
    with ThreadPoolExecutor(max_workers=min(POOL_SIZE, len(outer))) as pool:
        futures = [
            pool.submit(_walk_versions, lookup, s3, calls, bucket, prefix, keys=keys)
            if versioned
            else pool.submit(_walk_objects, lookup, s3, calls, bucket, prefix)
            for prefix in outer
        ]
        return [future.result() for future in futures]


class _Calls:
    """The batch's listing calls left, shared by the pool's threads."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:
            if self.left <= 0:
                raise _BoundReachedError
            self.left -= 1


def _pages(
    lookup: Lookup,
    call: Callable[..., Mapping[str, Any]],
    calls: _Calls,
    listing: _Listing,
    params: dict[str, Any],
) -> Iterator[Mapping[str, Any]]:
    """The listing's pages until the last, a bound, the time floor or an error (noted in `listing`)."""
    operation = getattr(call, "__name__", "list")
    try:
        while True:
            lookup.check_time()
            calls.take()
            page = call(**params)
            listing.calls += 1
            yield page
            if not page.get("IsTruncated"):
                listing.complete = True
                return
            params = {**params, **_continuation(page)}
    except _BoundReachedError:
        listing.stopped = "listing_bound"
    except OutOfTimeError:
        listing.stopped = "no_time"
    except (ClientError, BotoCoreError) as error:
        listing.stopped = "lookup_error"
        lookup.failed(operation, error)


def _continuation(page: Mapping[str, Any]) -> dict[str, Any]:
    if "NextContinuationToken" in page:
        return {"ContinuationToken": page["NextContinuationToken"]}
    following = {"KeyMarker": page.get("NextKeyMarker", "")}
    if page.get("NextVersionIdMarker"):
        following["VersionIdMarker"] = page["NextVersionIdMarker"]
    return following


def _walk_objects(lookup: Lookup, s3: ListsObjects, calls: _Calls, bucket: str, prefix: str) -> _Listing:
    """ListObjectsV2: every object, none known to differ from an earlier one."""
    listing = _Listing(prefix)
    params = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
    for page in _pages(lookup, s3.list_objects_v2, calls, listing, params):
        for item in page.get("Contents", []):
            listing.objects[item["Key"]] = (item["LastModified"].timestamp(), SAME)
            listing.seen_before = item["Key"] + "\x00"  # the least key after it
    return listing


def _walk_versions(
    lookup: Lookup, s3: ListsObjects, calls: _Calls, bucket: str, prefix: str, *, keys: Set[str]
) -> _Listing:
    """ListObjectVersions: each key's current version, and whether it differs from the entry before it.
    A key is judged once the pages have moved past it (its last versions may open the next page). The
    entries of `keys` are kept as change detection reads them, for those the walk saw whole."""
    listing = _Listing(prefix)
    params = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
    pending: defaultdict[str, list[HistoryEntry]] = defaultdict(list)
    kept: dict[str, list[HistoryEntry]] = {key: [] for key in keys if key.startswith(prefix)}
    for page in _pages(lookup, s3.list_object_versions, calls, listing, params):
        for item in page.get("Versions", []):
            pending[item["Key"]].append(listed_entry(item, str(item.get("ETag") or "")))
        for item in page.get("DeleteMarkers", []):
            pending[item["Key"]].append(listed_entry(item, None))
        collect(page, kept)
        end = page.get("NextKeyMarker") if page.get("IsTruncated") else None
        for key in sorted(k for k in pending if end is None or k < end):
            current = _current(pending.pop(key))
            if current is not None:
                listing.objects[key] = current
        listing.seen_before = end
    listing.histories = {key: tuple(entries) for key, entries in kept.items() if listing.saw_whole(key)}
    return listing


def _current(entries: Sequence[HistoryEntry]) -> tuple[float, int] | None:
    """The current version's last modified and how it compares with the entry it replaced; None when
    the key's latest entry is a delete marker (no object to evict)."""
    first = entries[0]  # usually the current entry: S3 lists it first of its key
    latest = first if first.is_latest else next((e for e in entries if e.is_latest), None)
    if latest is None or latest.etag is None:
        return None
    return latest.last_modified.timestamp(), _compared(entries, latest)


def _compared(entries: Sequence[HistoryEntry], latest: HistoryEntry) -> int:
    """SAME, CHANGED or NEW, against the entry it replaced in S3's order, as history.version_verdict
    judges it by ETag (SAME also when that cannot be told)."""
    if latest.version_id == "null":
        return SAME  # overwritten in place: cannot be told
    if len(entries) == 1:
        return NEW
    step = replaced_entry(entries, latest.version_id)
    if isinstance(step, Reason):
        return SAME
    if step.previous is None:
        return NEW
    if step.previous.etag != latest.etag:
        return CHANGED
    return NEW if step.marker_between else SAME


def _window_start(listings: Sequence[_Listing], changed: Set[str], now: datetime) -> float:
    """The oldest current version among the batch's changed keys, less DEPLOY_SPREAD."""
    written = [lst.objects[key][0] for lst in listings for key in changed if key in lst.objects]
    anchor = min(written, default=now.timestamp())
    return anchor - DEPLOY_SPREAD.total_seconds()


def _tree(
    distribution: Distribution,
    wanted: Wanted,
    listing: _Listing,
    changed: Set[str],
    window_start: float,
    *,
    config: Config,
) -> Tree:
    """Count each eviction once under every directory above the changed paths (`wanted.paths`, the
    viewer paths of the `changed` keys) that holds it. A version with no earlier one is invalidated
    anyway only with invalidate_new_objects."""
    prefix, candidates = wanted.prefix, directories(wanted.paths)
    written = (CHANGED, NEW) if config.invalidate_new_objects else (CHANGED,)
    below: defaultdict[str, int] = defaultdict(int)
    for key, (modified, compared) in listing.objects.items():
        if not key.startswith(prefix) or key in changed:
            continue
        deployed = compared in written and modified >= window_start
        if deployed or not serves(key, distribution):
            continue
        for directory in _holding(viewer_paths(key, distribution, config.index_document), candidates):
            below[directory] += 1
    origin = "" if distribution.routing is not None else key_prefix(distribution.origin_path)
    return Tree(
        prefix,
        origin,
        dict(below),
        listing.complete,
        listing.seen_before,
        listing.calls,
        routed=distribution.routing is not None,
    )


def _holding(paths: Sequence[str], candidates: Set[str]) -> set[str]:
    """The candidate directories above any of `paths` (each once)."""
    found = set()
    for path in paths:
        end = path.rfind("/")
        while end >= 0:
            directory = path[: end + 1]
            if directory in candidates:
                found.add(directory)
            end = path.rfind("/", 0, end)
    return found


def _log_incomplete(distribution: Distribution, listing: _Listing, lookup: Lookup) -> None:
    logger.warning(
        "tree_incomplete",
        extra={
            "decision": "tree_incomplete",
            "distribution": distribution.label,
            "distribution_id": distribution.id,
            "reason": listing.stopped,
            "list_calls": listing.calls,
            "errors": dict(sorted(lookup.errors.items())),
            "outcome": "no wildcard over what was not listed",
        },
    )
