"""Change detection's I/O: which created objects to leave out of the invalidation, from S3's versions.

For the keys of a batch that some distribution serves (the configuration as resolved: an "auto"
distribution serves what its routing maps, and one not resolved yet serves nothing here, so its keys
stay to be retried), created with a version id: one ListObjectVersions walk per directory (Prefix =
the directory, Delimiter "/", so a subdirectory is one entry; a directory with one changed key is listed
with Prefix = that key), at most one page per changed key in it; then HeadObject with VersionId for the
two versions of each pair whose ETags agree, each version once. So a created object costs at most one
listing and two HEADs, and a deploy that re-uploads a directory costs one listing per 1,000 versions
of it. The calls run on POOL_SIZE threads and stop when less than half the
time the invocation had left remains: what was not looked at by then is invalidated. The decision itself
is history.py's; a deletion invalidates, but for S3 Lifecycle's removal of a noncurrent version, which
is left out with change detection on or off (`seen_by_viewers`: the event alone proves it).

A key the tree's walk already listed whole (tree.py's `walk`, made before detection when wildcards could
save paths: the same ListObjectVersions entries, without a delimiter) takes its history from there and
is not listed again: only the keys the walk did not see whole are listed by directory as above.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Config
from ..core.events import Change
from ..core.history import (
    Entry,
    Fingerprint,
    History,
    Judgement,
    Reason,
    Verdict,
    directory,
    fingerprint,
    heads_needed,
    invalidates,
    key_verdict,
    version_verdict,
)
from ..core.paths import BatchPaths

logger = logging.getLogger(__name__)

POOL_SIZE = 32  # concurrent S3 calls; the S3 client's max_pool_connections matches it (handler.py)
PAGE_SIZE = 1000  # ListObjectVersions' largest page
MIN_LEFT_MS = 5000  # never look when less than this is left

T = TypeVar("T")
R = TypeVar("R")
Target = tuple[str, str]  # (bucket, key)
Version = tuple[str, str, str]  # (bucket, key, version id)


class S3(Protocol):
    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def head_object(self, **kwargs: Any) -> Mapping[str, Any]: ...


class OutOfTimeError(Exception):
    """Less time is left than the invalidation needs: stop looking."""


class Lookup:
    """The S3 client, when to stop, and what went wrong (shared by the pool's threads)."""

    def __init__(self, s3: S3, remaining_ms: Callable[[], int], floor_ms: int) -> None:
        self.s3, self.remaining_ms, self.floor_ms = s3, remaining_ms, floor_ms
        self.errors: Counter[str] = Counter()
        self.lock = threading.Lock()

    @classmethod
    def starting_now(cls, s3: S3, remaining_ms: Callable[[], int]) -> Lookup:
        """Half of what is left now is for looking, the other half for CloudFront and its retries."""
        return cls(s3, remaining_ms, max(MIN_LEFT_MS, remaining_ms() // 2))

    def check_time(self) -> None:
        if self.remaining_ms() < self.floor_ms:
            raise OutOfTimeError

    def failed(self, call: str, error: Exception) -> None:
        code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
        with self.lock:
            self.errors[f"{call}:{code or type(error).__name__}"] += 1


def keys_to_invalidate(
    changes_by_message: Mapping[str, Sequence[Change]],
    config: Config,
    s3: S3 | None,
    remaining_ms: Callable[[], int],
    *,
    served: BatchPaths,
    judged: Callable[[Mapping[tuple[str | None, str], Judgement]], None] | None = None,
    listed: Mapping[Target, History] | None = None,
) -> dict[str, list[str]]:
    """Each message's changed keys, less those a viewer can see no difference in: noncurrent removals
    always (`seen_by_viewers`), unchanged versions with s3 and skip_unchanged_objects (only the keys
    some distribution serves, as `served` says, are judged). `judged` hears the judgements (bucket,
    key) -> verdict or reason, when there were any; `listed` holds the histories the tree's walk
    already has (those keys are not listed again)."""
    changes_by_message = _seen_by_viewers(changes_by_message)
    skipped: set[tuple[str | None, str]] = set()
    if s3 is not None and config.skip_unchanged_objects:
        changes = [change for found in changes_by_message.values() for change in found]
        lookup = Lookup.starting_now(s3, remaining_ms)
        judgements = judge(changes, config, lookup, datetime.now(UTC), listed=listed or {}, served=served)
        if judged is not None:
            judged(judgements)
        skipped = {t for t, j in judgements.items() if not invalidates(j, config.invalidate_new_objects)}
    return {
        message_id: [c.key for c in found if (c.bucket, c.key) not in skipped]
        for message_id, found in changes_by_message.items()
    }


def seen_by_viewers(change: Change) -> bool:
    """Whether the change may alter what viewers get: every change but S3 Lifecycle's removal of a named
    version. Lifecycle removes a version for good (LifecycleExpiration:Delete) only when it is
    noncurrent (NoncurrentVersionExpiration) or is an expired delete marker with no version left
    (ExpiredObjectDeleteMarker: 404 before and after); the current version of a versioned bucket
    expires by a new delete marker (LifecycleExpiration:DeleteMarkerCreated), a change. The event alone
    proves it, so it holds with change detection off too, like the other content-neutral events
    (events.py). Without a version id (an unversioned bucket: the object itself is removed) it is a
    change. A DeleteObject of a named version is always a change: it may have been the current one
    (the one before it is served now), and nothing can prove otherwise, since the listing no longer
    holds it and neither the listing nor the event places it among the key's versions."""
    return not (change.lifecycle_removal and change.version_id is not None)


def _seen_by_viewers(changes_by_message: Mapping[str, Sequence[Change]]) -> Mapping[str, Sequence[Change]]:
    """Each message's changes less those no viewer can see (one line says how many were left out); the
    batch as it is when there are none. Only a lifecycle removal can be unseen, so the rule is asked only
    of those: the common batch costs one attribute read a change."""
    unseen = [
        c.key
        for found in changes_by_message.values()
        for c in found
        if c.lifecycle_removal and not seen_by_viewers(c)
    ]
    if not unseen:
        return changes_by_message
    _log_skipped("noncurrent_removals_skipped", unseen, {})
    return {m: [c for c in found if seen_by_viewers(c)] for m, found in changes_by_message.items()}


def judge(
    changes: Iterable[Change],
    config: Config,
    lookup: Lookup,
    now: datetime,
    *,
    listed: Mapping[Target, History],
    served: BatchPaths,
) -> dict[tuple[str | None, str], Judgement]:
    """A judgement for each served key of the batch, the histories in `listed` taken as they are;
    logs what was skipped and what could not be told."""
    started = time.monotonic()
    judgements, versions = _without_lookup(changes, served)
    reused = {target: listed[target] for target in versions if target in listed}
    with ThreadPoolExecutor(max_workers=POOL_SIZE) as pool:
        histories, list_calls = _histories(
            pool, lookup, {t: i for t, i in versions.items() if t not in reused}
        )
        histories.update(reused)
        needed = sorted(
            {
                (b, k, v)
                for (b, k), ids in versions.items()
                for i in ids
                for v in heads_needed(histories[b, k], i, now)
            }
        )
        heads: defaultdict[Target, dict[str, Fingerprint | Reason]] = defaultdict(dict)
        for (bucket, key, version_id), head in zip(
            needed, each(pool, needed, lambda v: _head(lookup, v)), strict=True
        ):
            heads[bucket, key][version_id] = head
    for target, ids in versions.items():
        judgements[target] = key_verdict(
            version_verdict(histories[target], i, heads[target], now) for i in ids
        )
    calls = {"list_calls": list_calls, "head_calls": len(needed), "keys_from_tree": len(reused)}
    _log(judgements, config, calls, lookup, started)
    return judgements


def each(pool: ThreadPoolExecutor, items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """`[work(item) for item in items]` on every thread of the pool, each taking the next item in turn:
    thousands of HEADs without a Future apiece."""
    results: list[R | None] = [None] * len(items)
    indices = iter(range(len(items)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            results[index] = work(items[index])

    for future in [pool.submit(worker) for _ in range(min(POOL_SIZE, len(items)))]:
        future.result()
    return cast(list[R], results)


def _without_lookup(
    changes: Iterable[Change], served: BatchPaths
) -> tuple[dict[tuple[str | None, str], Judgement], dict[Target, set[str]]]:
    """Judgements that need no S3 call (deletions, no version id, no bucket), and the versions to look up."""
    by_target: defaultdict[tuple[str | None, str], list[Change]] = defaultdict(list)
    for change in changes:
        if served.served(change.key):
            by_target[change.bucket, change.key].append(change)
    judgements: dict[tuple[str | None, str], Judgement] = {}
    versions: dict[Target, set[str]] = {}
    for (bucket, key), found in by_target.items():
        if not all(c.created for c in found):
            judgements[bucket, key] = Verdict.CHANGED
        elif bucket is None:
            judgements[bucket, key] = Reason.NO_BUCKET_NAME
        elif any(c.version_id is None for c in found):
            judgements[bucket, key] = Reason.NO_VERSION_ID
        else:
            versions[bucket, key] = {c.version_id for c in found if c.version_id is not None}
    return judgements, versions


def _histories(
    pool: ThreadPoolExecutor, lookup: Lookup, versions: Mapping[Target, set[str]]
) -> tuple[dict[Target, History], int]:
    """Every key's history, one listing walk per directory of each bucket, run on the pool."""
    groups: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for bucket, key in versions:
        groups[bucket, directory(key)].append(key)
    walks = [
        pool.submit(list_directory, lookup, bucket, prefix, sorted(keys))
        for (bucket, prefix), keys in groups.items()
    ]
    histories: dict[Target, History] = {}
    calls = 0
    for (bucket, _), walk in zip(groups, walks, strict=True):
        found, made = walk.result()
        histories.update({(bucket, key): history for key, history in found.items()})
        calls += made
    return histories, calls


def list_directory(
    lookup: Lookup, bucket: str, prefix: str, keys: Sequence[str]
) -> tuple[dict[str, History], int]:
    """The histories of `keys` (sorted, all in directory `prefix`), and the number of calls made.

    Pages come in key order: once a page ends past a key (NextKeyMarker), that key is complete. At most
    one page per key; keys not reached by then, or when time runs out or a call fails, get the reason."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Prefix": keys[0] if len(keys) == 1 else prefix,
        "Delimiter": "/",
        "MaxKeys": PAGE_SIZE,
    }
    entries: dict[str, list[Entry]] = {key: [] for key in keys}
    done: dict[str, History] = {}
    calls, reason = 0, Reason.LISTING_BUDGET
    try:
        while len(done) < len(keys) and calls < len(keys):
            lookup.check_time()
            page = lookup.s3.list_object_versions(**params)
            calls += 1
            collect(page, entries)
            end = page.get("NextKeyMarker", "") if page.get("IsTruncated") else None
            done.update({k: tuple(entries[k]) for k in keys if k not in done and (end is None or k < end)})
            params = _next_page(params, page)
    except OutOfTimeError:
        reason = Reason.NO_TIME
    except (ClientError, BotoCoreError) as error:
        reason = Reason.LOOKUP_ERROR
        lookup.failed("ListObjectVersions", error)
    return {key: done.get(key, reason) for key in keys}, calls


def collect(page: Mapping[str, Any], entries: Mapping[str, list[Entry]]) -> None:
    """Add the page's versions and delete markers of the keys asked for (a prefix matches longer keys too),
    each kind in the listing's order: S3's own order of a key's versions (history.py)."""
    for version in page.get("Versions", []):
        if version["Key"] in entries:
            entries[version["Key"]].append(listed_entry(version, str(version.get("ETag") or "")))
    for marker in page.get("DeleteMarkers", []):
        if marker["Key"] in entries:
            entries[marker["Key"]].append(listed_entry(marker, None))


def listed_entry(item: Mapping[str, Any], etag: str | None) -> Entry:
    """A ListObjectVersions version (with its ETag) or delete marker (None) as a history entry."""
    return Entry(item["VersionId"], item["LastModified"], etag, bool(item.get("IsLatest")))


def _next_page(params: Mapping[str, Any], page: Mapping[str, Any]) -> dict[str, Any]:
    following = {k: v for k, v in params.items() if k not in ("KeyMarker", "VersionIdMarker")}
    following["KeyMarker"] = page.get("NextKeyMarker", "")
    if page.get("NextVersionIdMarker"):
        following["VersionIdMarker"] = page["NextVersionIdMarker"]
    return following


def _head(lookup: Lookup, version: Version) -> Fingerprint | Reason:
    bucket, key, version_id = version
    try:
        lookup.check_time()
        return fingerprint(lookup.s3.head_object(Bucket=bucket, Key=key, VersionId=version_id))
    except OutOfTimeError:
        return Reason.NO_TIME
    except (ClientError, BotoCoreError) as error:
        lookup.failed("HeadObject", error)
        return Reason.LOOKUP_ERROR


def _log(
    judgements: Mapping[tuple[str | None, str], Judgement],
    config: Config,
    calls: Mapping[str, int],
    lookup: Lookup,
    started: float,
) -> None:
    """One line per kind of outcome and batch: unchanged_skipped, new_objects_skipped, changes_unverified."""
    counts = {**calls, "lookup_ms": round((time.monotonic() - started) * 1000)}
    unchanged = [key for (_, key), j in judgements.items() if j is Verdict.UNCHANGED]
    new = [
        key for (_, key), j in judgements.items() if j is Verdict.NEW and not config.invalidate_new_objects
    ]
    unverified = [(key, j) for (_, key), j in judgements.items() if isinstance(j, Reason)]
    if unchanged:
        _log_skipped("unchanged_skipped", unchanged, counts)
    if new:
        _log_skipped("new_objects_skipped", new, counts)
    if unverified:
        reasons = Counter(j.value for _, j in unverified)
        (logger.warning if lookup.errors or Reason.NO_TIME.value in reasons else logger.info)(
            "changes_unverified",
            extra={
                "decision": "changes_unverified",
                "key_count": len(unverified),
                "reasons": dict(sorted(reasons.items())),
                "errors": dict(sorted(lookup.errors.items())),
                "example_key": unverified[0][0],
                "outcome": "invalidated as changed",
                **counts,
            },
        )


def _log_skipped(decision: str, keys: Sequence[str], calls: Mapping[str, int]) -> None:
    logger.info(
        decision, extra={"decision": decision, "key_count": len(keys), "example_key": keys[0], **calls}
    )
