"""A distribution's invalidations as CloudFront reports them: what is in progress (the file and wildcard
paths counted against its quotas), and what was created since a change (for the dedupe, covered.py).

ListInvalidations gives a distribution's invalidations newest first (Id, CreateTime, Status, in pages of
at most MaxItems, continued with Marker = the previous page's NextMarker while IsTruncated); the paths of
one come from GetInvalidation (botocore's cloudfront service model). Status is "InProgress" until it
is "Completed".

Bounded calls. The quotas allow up to 3,015 invalidations in progress (3,000 of one file, 15 of one
wildcard), so reading all of them is not always affordable; instead:
- at most MAX_LIST_PAGES pages of LIST_PAGE_SIZE per reading, shared by both views. Paging goes on while
  a page holds an invalidation in progress (for the quotas: invalidations complete within minutes,
  roughly in the order they were made, so a hundred completed ones in a row mean the older ones completed
  too; if not, CloudFront's own answer TooManyInvalidationsInProgress still makes the request wait, as
  without this view) or, for the dedupe, while the page's oldest was created at or after the time asked
  for. More pages in progress than the bound: the quota view fails; more pages since the time asked for:
  the ones not listed cover nothing (their keys are invalidated).
- an invalidation's paths never change, so they are read once per container (GetInvalidation) and kept
  (KnownInvalidations, at most MAX_KNOWN_PATHS paths per distribution, least recently used dropped
  first); the ones this container created are known without a call, with the CreateTime CloudFront
  answered. At most MAX_PATH_READS GetInvalidation calls per quota reading: more unknown ones in progress
  make this reading fail (the next one continues where it stopped); and at most MAX_COVER_READS per
  dedupe of one batch on one distribution (newest first): the ones not read cover nothing.
- no call that could not end before the time the batch keeps for its CreateInvalidation calls and its
  reply (deadline.py): a call not made fails the reading as an error would.
A reading that fails (AccessDenied on a role without the permission, throttling, too many in progress
to read) gives None for the quotas: the request is planned as without this view, which is logged once per
distribution and reason; for the dedupe, only this container's own invalidations count. The reading,
failed or not, is kept CACHE_SECONDS from when its calls ended, per container within one batch, so that
the batch's dedupe and its requests (and their retries) read it once; each batch reads it again
(`new_batch`): two containers
whose batches follow each other would otherwise each plan with a reading that misses the other's
invalidations, and together ask for more wildcards than are left, which CloudFront refuses. The
clock is injectable (tests and the virtual-clock benchmark).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .coalesce import InProgress
from .covered import Made, Seen, aware
from .deadline import NO_DEADLINE, NoTimeToReadError, ReadDeadline, TimedReads
from .invalidate import CloudFront, classify
from .once import OncePerReason

logger = logging.getLogger(__name__)

IN_PROGRESS_STATUS = "InProgress"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 3
MAX_PATH_READS = 20  # GetInvalidation calls per quota reading
MAX_COVER_READS = 20  # GetInvalidation calls per dedupe of a batch on one distribution
MAX_KNOWN_PATHS = 20_000  # paths kept per distribution (the quotas allow 3,015 in progress)
CACHE_SECONDS = 10.0
LOOKUP_ERRORS = (ClientError, BotoCoreError, KeyError, TypeError, NoTimeToReadError)


class InProgressLookupError(Exception):
    """What is in progress could not be read; the message is the reason (an error code or a limit)."""


@dataclass(frozen=True)
class Listed:
    """One item of ListInvalidations."""

    id: str
    created: datetime
    in_progress: bool


@dataclass(frozen=True)
class Listing:
    """The invalidations one reading listed, newest first."""

    items: tuple[Listed, ...]
    quota_ids: frozenset[str]  # in progress, up to the first page with none (or the last page read)
    quota_complete: bool  # False: the pages ran out while still holding some in progress
    floor: datetime | None  # every invalidation created after it is listed; None: every one is
    calls: int

    def complete_since(self, since: datetime) -> bool:
        return self.floor is None or self.floor < since


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
        listing = list_invalidations(cloudfront, distribution_id, None)
    except LOOKUP_ERRORS as error:
        raise InProgressLookupError(classify(error)[0]) from error
    return quota_view(cloudfront, distribution_id, listing, known)


def list_invalidations(cloudfront: CloudFront, distribution_id: str, since: datetime | None) -> Listing:
    """The newest invalidations, within MAX_LIST_PAGES pages: while a page holds one in progress, or
    (with `since`) its oldest was created at or after `since`. Raises what the client raises."""
    items: list[Listed] = []
    quota: set[str] = set()
    quota_open = True  # no page without an invalidation in progress yet
    page_from: dict[str, str] = {}  # the first page: no Marker
    for calls in range(1, MAX_LIST_PAGES + 1):
        listing = cloudfront.list_invalidations(
            DistributionId=distribution_id, MaxItems=str(LIST_PAGE_SIZE), **page_from
        )["InvalidationList"]
        page = [_listed(item) for item in listing.get("Items", [])]
        items += page
        running = {item.id for item in page if item.in_progress}
        if quota_open:
            quota |= running
            quota_open = bool(running)
        if not listing["IsTruncated"]:
            return Listing(tuple(items), frozenset(quota), True, None, calls)
        wanted = since is not None and bool(page) and page[-1].created >= since
        if not (running or wanted):
            break
        page_from = {"Marker": listing["NextMarker"]}
    floor = items[-1].created if items else None
    return Listing(tuple(items), frozenset(quota), not quota_open, floor, calls)


def _listed(item: Mapping[str, Any]) -> Listed:
    return Listed(item["Id"], aware(item["CreateTime"]), item["Status"] == IN_PROGRESS_STATUS)


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
    return Made(invalidation_id, aware(invalidation["CreateTime"]), tuple(paths))


class InProgressCache:
    """Each distribution's invalidations, as this container last read them: what is in progress (None:
    unknown), and what was created since a change (`made_since`, for the dedupe)."""

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
        self._listed: dict[str, tuple[float, Listing | None, str]] = {}  # (read at, listing, failure)
        self._known: dict[str, KnownInvalidations] = {}
        self._own: dict[str, dict[str, None]] = {}  # the ids this container created, oldest first
        self._stale: set[str] = set()  # distributions read before the current batch
        self._report = OncePerReason(
            logger,
            "quota_lookup_failed",
            "requests planned without the quota in view; logged once per reason",
        )

    def new_batch(self, deadline: ReadDeadline = NO_DEADLINE) -> None:
        """A batch begins: what was read before it is read again when next asked for, each call only
        while `deadline` leaves time for it (a read not made counts as a failed one)."""
        self._stale = set(self._read) | set(self._listed)
        self._reads = TimedReads(self._cloudfront, deadline)

    def get(self, distribution_id: str, *, refresh: bool = False) -> InProgress | None:
        """What is in progress, read again when `refresh`, older than the cache time or read before
        this batch."""
        cached = self._read.get(distribution_id)
        if cached is not None and not refresh and self._fresh(cached[0], distribution_id):
            return cached[2]
        self._reading(distribution_id, None)
        return self._read[distribution_id][2]

    def made_since(self, distribution_id: str, since: datetime) -> Seen:
        """The invalidations of the distribution created at or after `since` whose paths are known or
        could be read within the bounds; this container's own count without a call."""
        cached = self._listed.get(distribution_id)
        list_calls = 0
        if cached is None or not self._fresh(cached[0], distribution_id) or not _complete(cached[1], since):
            list_calls = self._reading(distribution_id, since)
        _, listing, failure = self._listed[distribution_id]
        known = self._known_on(distribution_id)
        listed = [] if listing is None else [item.id for item in listing.items if item.created >= since]
        in_listing = set(listed)
        mine = [i for i in self._own.get(distribution_id, {}) if i in known and i not in in_listing]
        made, get_calls, unread = self._read_paths(distribution_id, listed, known)
        made += [m for i in mine if (m := known[i]).created is not None and m.created >= since]
        if listing is not None and not listing.complete_since(since):
            unread = unread or f"invalidations since {since.isoformat()} beyond {MAX_LIST_PAGES} pages"
        return Seen(tuple(made), list_calls, get_calls, unread or (failure or None))

    def record(
        self,
        distribution_id: str,
        invalidation_id: str,
        paths: Iterable[str],
        created: datetime | None = None,
    ) -> None:
        """An invalidation this container created (at `created`, as CloudFront answered): known from now
        on, and counted in progress until the next read."""
        made = Made(invalidation_id, None if created is None else aware(created), tuple(paths))
        self._known_on(distribution_id)[invalidation_id] = made
        own = self._own.setdefault(distribution_id, {})
        own[invalidation_id] = None
        for forgotten in [i for i in own if i not in self._known_on(distribution_id)]:
            del own[forgotten]
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

    def _reading(self, distribution_id: str, since: datetime | None) -> int:
        """List the distribution's invalidations (back to `since`, if given) and keep both views, each
        stamped when its calls ended (a slow reading is as fresh as a quick one); the ListInvalidations
        calls made."""
        self._stale.discard(distribution_id)
        try:
            listing = list_invalidations(self._reads, distribution_id, since)
        except LOOKUP_ERRORS as error:
            reason = classify(error)[0]
            self._listed[distribution_id] = (self._clock(), None, reason)
            self._failed(distribution_id, reason)
            return 0 if isinstance(error, NoTimeToReadError) else 1
        self._listed[distribution_id] = (self._clock(), listing, "")
        try:
            ids, state = quota_view(self._reads, distribution_id, listing, self._known_on(distribution_id))
        except InProgressLookupError as failure:
            self._failed(distribution_id, str(failure))
        else:
            self._read[distribution_id] = (self._clock(), ids, state)
        return listing.calls

    def _failed(self, distribution_id: str, reason: str) -> None:
        self._report(distribution_id, reason)
        self._read[distribution_id] = (self._clock(), frozenset(), None)

    def _read_paths(
        self, distribution_id: str, ids: list[str], known: KnownInvalidations
    ) -> tuple[list[Made], int, str]:
        """The invalidations `ids` (newest first): known, or read while within MAX_COVER_READS calls;
        the calls made, and why some were not read ("" when all were)."""
        made, calls = [], 0
        for invalidation_id in ids:
            if invalidation_id in known:
                made.append(known[invalidation_id])
                continue
            if calls == MAX_COVER_READS:
                return made, calls, f"more than {MAX_COVER_READS} invalidations to read"
            calls += 1
            try:
                known[invalidation_id] = read = _made(self._reads, distribution_id, invalidation_id)
            except LOOKUP_ERRORS as error:
                return made, calls, f"GetInvalidation: {classify(error)[0]}"
            made.append(read)
        return made, calls, ""


def _complete(listing: Listing | None, since: datetime) -> bool:
    """Whether a kept listing answers for `since` (a failed one is kept like an answer)."""
    return listing is None or listing.complete_since(since)
