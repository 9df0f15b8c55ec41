"""A distribution's invalidations in progress as CloudFront reports them: the file and wildcard paths
counted against its quotas.

ListInvalidations gives a distribution's invalidations newest first (Id, CreateTime, Status, in pages of
at most MaxItems, continued with Marker = the previous page's NextMarker while IsTruncated); the paths of
one come from GetInvalidation (botocore's cloudfront service model). Status is "InProgress" until it
is "Completed".

Bounded calls. The quotas allow up to 3,015 invalidations in progress (3,000 of one file, 15 of one
wildcard), so reading all of them is not always affordable; instead:
- at most MAX_LIST_PAGES pages of LIST_PAGE_SIZE per reading. Paging goes on while a page holds an
  invalidation in progress (invalidations complete within minutes, roughly in the order they were made,
  so a hundred completed ones in a row mean the older ones completed too; if not, CloudFront's own
  answer TooManyInvalidationsInProgress still makes the request wait, as without this view). More
  pages in progress than the bound: the view fails.
- an invalidation's paths never change, so they are read once per container (GetInvalidation) and kept
  (KnownInvalidations, at most MAX_KNOWN_PATHS paths per distribution, least recently used dropped
  first); the ones this container created are known without a call. At most MAX_PATH_READS
  GetInvalidation calls per reading: more unknown ones in progress make this reading fail (the next one
  continues where it stopped).
- no call that could not end before the time the batch keeps for its CreateInvalidation calls and its
  reply (deadline.py): a call not made fails the reading as an error would.
A reading that fails (AccessDenied on a role without the permission, throttling, too many in progress
to read) gives None: the request is planned as without this view, which is logged once per
distribution and reason. The reading, failed or not, is kept CACHE_SECONDS from when its calls ended,
per container within one batch, so that the batch's requests (and their retries) read it once; each
batch reads it again (`new_batch`): two containers whose batches follow each other would otherwise each
plan with a reading that misses the other's invalidations, and together ask for more wildcards than are
left, which CloudFront refuses. The clock is injectable (tests and the virtual-clock benchmark).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..core.coalesce import InProgress
from ..core.deadline import NO_DEADLINE, NoTimeToReadError, ReadDeadline
from ..core.once import OncePerReason
from .invalidate import CloudFront, classify

logger = logging.getLogger(__name__)

IN_PROGRESS_STATUS = "InProgress"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 3
MAX_PATH_READS = 20  # GetInvalidation calls per quota reading
MAX_KNOWN_PATHS = 20_000  # paths kept per distribution (the quotas allow 3,015 in progress)
CACHE_SECONDS = 10.0
LOOKUP_ERRORS = (ClientError, BotoCoreError, KeyError, TypeError, NoTimeToReadError)


class InProgressLookupError(Exception):
    """What is in progress could not be read; the message is the reason (an error code or a limit)."""


@dataclass(frozen=True)
class Made:
    """An invalidation as CloudFront reports it: its id and paths."""

    id: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    """What one reading listed."""

    quota_ids: frozenset[str]  # in progress, up to the first page with none (or the last page read)
    quota_complete: bool  # False: the pages ran out while still holding some in progress
    calls: int


class KnownInvalidations(MutableMapping[str, Made]):
    """Invalidation id -> what it is, holding at most `max_paths` paths: the least recently used go first."""

    def __init__(self, max_paths: int = MAX_KNOWN_PATHS) -> None:
        self._items: OrderedDict[str, Made] = OrderedDict()
        self._paths = 0
        self._max_paths = max_paths

    def __getitem__(self, invalidation_id: str) -> Made:
        made = self._items[invalidation_id]
        self._items.move_to_end(invalidation_id)
        return made

    def __setitem__(self, invalidation_id: str, made: Made) -> None:
        if invalidation_id in self._items:
            del self[invalidation_id]
        self._items[invalidation_id] = made
        self._paths += len(made.paths)
        while self._paths > self._max_paths and len(self._items) > 1:
            del self[next(iter(self._items))]

    def __delitem__(self, invalidation_id: str) -> None:
        self._paths -= len(self._items.pop(invalidation_id).paths)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def read_in_progress(
    cloudfront: CloudFront, distribution_id: str, known: MutableMapping[str, Made]
) -> tuple[frozenset[str], InProgress]:
    """The ids of the invalidations in progress and their paths added up; `known` (id -> the
    invalidation) is read and completed. Raises InProgressLookupError."""
    try:
        listing = list_invalidations(cloudfront, distribution_id)
    except LOOKUP_ERRORS as error:
        raise InProgressLookupError(classify(error)[0]) from error
    return quota_view(cloudfront, distribution_id, listing, known)


def list_invalidations(cloudfront: CloudFront, distribution_id: str) -> Listing:
    """The ids in progress among the newest invalidations, within MAX_LIST_PAGES pages, paging while a
    page holds one in progress. Raises what the client raises."""
    quota: set[str] = set()
    page_from: dict[str, str] = {}  # the first page: no Marker
    for calls in range(1, MAX_LIST_PAGES + 1):
        listing = cloudfront.list_invalidations(
            DistributionId=distribution_id, MaxItems=str(LIST_PAGE_SIZE), **page_from
        )["InvalidationList"]
        running = {item["Id"] for item in listing.get("Items", []) if item["Status"] == IN_PROGRESS_STATUS}
        quota |= running
        if not listing["IsTruncated"] or not running:
            return Listing(frozenset(quota), True, calls)
        page_from = {"Marker": listing["NextMarker"]}
    return Listing(frozenset(quota), False, MAX_LIST_PAGES)


def quota_view(
    cloudfront: CloudFront, distribution_id: str, listing: Listing, known: MutableMapping[str, Made]
) -> tuple[frozenset[str], InProgress]:
    """The ids in progress as listed and their paths added up, reading at most MAX_PATH_READS unknown
    ones into `known`. Raises InProgressLookupError."""
    if not listing.quota_complete:
        raise InProgressLookupError(
            f"invalidations in progress beyond {MAX_LIST_PAGES * LIST_PAGE_SIZE} listed"
        )
    found = {i: known[i] for i in listing.quota_ids if i in known}
    unknown = sorted(listing.quota_ids - set(found))
    try:
        for invalidation_id in unknown[:MAX_PATH_READS]:
            found[invalidation_id] = known[invalidation_id] = _made(
                cloudfront, distribution_id, invalidation_id
            )
    except LOOKUP_ERRORS as error:
        raise InProgressLookupError(classify(error)[0]) from error
    if len(unknown) > MAX_PATH_READS:
        raise InProgressLookupError(f"more than {MAX_PATH_READS} new invalidations in progress to read")
    return listing.quota_ids, sum((InProgress().plus(made.paths) for made in found.values()), InProgress())


def _made(cloudfront: CloudFront, distribution_id: str, invalidation_id: str) -> Made:
    invalidation = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)[
        "Invalidation"
    ]
    paths = invalidation["InvalidationBatch"]["Paths"].get("Items", [])
    return Made(invalidation_id, tuple(paths))


class InProgressCache:
    """What is in progress on each distribution, as this container last read it (None: unknown)."""

    def __init__(
        self,
        cloudfront: CloudFront,
        *,
        ttl_s: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cloudfront = cloudfront
        self._reads = TimedReads(cloudfront, NO_DEADLINE)  # the current batch's reads (new_batch)
        self._ttl_s = ttl_s
        self._clock = clock
        self._read: dict[str, tuple[float, frozenset[str], InProgress | None]] = {}
        self._known: dict[str, KnownInvalidations] = {}
        self._stale: set[str] = set()  # distributions read before the current batch
        self._report = OncePerReason(
            logger,
            "quota_lookup_failed",
            "requests planned without the quota in view; logged once per reason",
        )

    def new_batch(self, deadline: ReadDeadline = NO_DEADLINE) -> None:
        """A batch begins: what was read before it is read again when next asked for, each call only
        while `deadline` leaves time for it (a read not made counts as a failed one)."""
        self._stale = set(self._read)
        self._reads = TimedReads(self._cloudfront, deadline)

    def get(self, distribution_id: str, *, refresh: bool = False) -> InProgress | None:
        """What is in progress, read again when `refresh`, older than the cache time or read before
        this batch."""
        cached = self._read.get(distribution_id)
        if cached is not None and not refresh and self._fresh(cached[0], distribution_id):
            return cached[2]
        self._reading(distribution_id)
        return self._read[distribution_id][2]

    def record(
        self,
        distribution_id: str,
        invalidation_id: str,
        paths: Iterable[str],
    ) -> None:
        """An invalidation this container created: known from now on, and counted in progress until the
        next read."""
        made = Made(invalidation_id, tuple(paths))
        self._known_on(distribution_id)[invalidation_id] = made
        cached = self._read.get(distribution_id)
        if cached is None or invalidation_id in cached[1]:
            return
        read_at, ids, state = cached
        if state is not None:
            self._read[distribution_id] = (read_at, ids | {invalidation_id}, state.plus(made.paths))

    def _fresh(self, read_at: float, distribution_id: str) -> bool:
        return distribution_id not in self._stale and self._clock() - read_at < self._ttl_s

    def _known_on(self, distribution_id: str) -> KnownInvalidations:
        return self._known.setdefault(distribution_id, KnownInvalidations())

    def _reading(self, distribution_id: str) -> None:
        """Read what is in progress and keep it, stamped when its calls ended (a slow reading is as fresh
        as a quick one)."""
        self._stale.discard(distribution_id)
        try:
            listing = list_invalidations(self._reads, distribution_id)
            ids, state = quota_view(self._reads, distribution_id, listing, self._known_on(distribution_id))
        except LOOKUP_ERRORS as error:
            self._failed(distribution_id, classify(error)[0])
        except InProgressLookupError as failure:
            self._failed(distribution_id, str(failure))
        else:
            self._read[distribution_id] = (self._clock(), ids, state)

    def _failed(self, distribution_id: str, reason: str) -> None:
        self._report(distribution_id, reason)
        self._read[distribution_id] = (self._clock(), frozenset(), None)


class TimedReads:
    """A CloudFront client whose reads keep to `deadline`; CreateInvalidation passes straight through."""

    def __init__(self, cloudfront: CloudFront, deadline: ReadDeadline) -> None:
        self._cloudfront = cloudfront
        self._deadline = deadline

    def list_invalidations(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._deadline.read(self._cloudfront.list_invalidations, **kwargs)

    def get_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._deadline.read(self._cloudfront.get_invalidation, **kwargs)

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._cloudfront.create_invalidation(**kwargs)
