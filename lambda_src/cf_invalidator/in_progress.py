"""What is in progress on a distribution: the file and wildcard paths CloudFront counts against its quotas.

ListInvalidations gives a distribution's invalidations newest first (Id, CreateTime, Status, in pages of
at most MaxItems, continued with Marker = the previous page's NextMarker while IsTruncated); the paths of
one come from GetInvalidation (botocore's cloudfront service model). Status is "InProgress" until it
is "Completed".

Bounded calls. The quotas allow up to 3,015 invalidations in progress (3,000 of one file, 15 of one
wildcard), so reading all of them is not always affordable; instead:
- at most MAX_LIST_PAGES pages of LIST_PAGE_SIZE, and paging stops at the first page with nothing in
  progress (invalidations complete within minutes, roughly in the order they were made: a hundred
  completed ones in a row mean the older ones completed too; if not, CloudFront's own answer
  TooManyInvalidationsInProgress still makes the request wait, as without this view);
- an invalidation's paths never change, so they are read once per container (GetInvalidation) and
  kept while it is in progress; the ones this container created are known without a call. At most
  MAX_PATH_READS GetInvalidation calls per lookup; more unknown ones make this lookup incomplete (the
  next one continues where it stopped).
A lookup that fails (AccessDenied on a role without the permission, throttling, too many in progress
to read) gives None: the request is planned as without this view, which is logged once per
distribution and reason. The result, failed or not, is kept CACHE_SECONDS per container, so that a
burst of invocations reads it once; the clock is injectable (tests and the virtual-clock benchmark).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, MutableMapping

from botocore.exceptions import BotoCoreError, ClientError

from .coalesce import InProgress
from .invalidate import CloudFront, classify

logger = logging.getLogger(__name__)

IN_PROGRESS_STATUS = "InProgress"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 3
MAX_PATH_READS = 20  # GetInvalidation calls per lookup
CACHE_SECONDS = 10.0


class InProgressLookupError(Exception):
    """What is in progress could not be read; the message is the reason (an error code or a limit)."""


def read_in_progress(
    cloudfront: CloudFront, distribution_id: str, known: MutableMapping[str, InProgress]
) -> tuple[frozenset[str], InProgress]:
    """The ids of the invalidations in progress and their paths added up; `known` (id -> its paths)
    is read and completed, and keeps only the ones in progress. Raises InProgressLookupError."""
    try:
        ids = _in_progress_ids(cloudfront, distribution_id)
        unknown = [invalidation_id for invalidation_id in ids if invalidation_id not in known]
        for invalidation_id in unknown[:MAX_PATH_READS]:
            known[invalidation_id] = _paths_of(cloudfront, distribution_id, invalidation_id)
    except (ClientError, BotoCoreError, KeyError) as error:
        raise InProgressLookupError(classify(error)[0]) from error
    if len(unknown) > MAX_PATH_READS:
        raise InProgressLookupError(f"more than {MAX_PATH_READS} new invalidations in progress to read")
    for invalidation_id in set(known) - set(ids):
        del known[invalidation_id]
    return frozenset(ids), sum((known[i] for i in ids), InProgress())


def _in_progress_ids(cloudfront: CloudFront, distribution_id: str) -> list[str]:
    ids: list[str] = []
    page_from: dict[str, str] = {}  # the first page: no Marker
    for _ in range(MAX_LIST_PAGES):
        listing = cloudfront.list_invalidations(
            DistributionId=distribution_id, MaxItems=str(LIST_PAGE_SIZE), **page_from
        )["InvalidationList"]
        page = [item["Id"] for item in listing.get("Items", []) if item["Status"] == IN_PROGRESS_STATUS]
        ids += page
        if not listing["IsTruncated"] or not page:
            return ids
        page_from = {"Marker": listing["NextMarker"]}
    raise InProgressLookupError(f"invalidations in progress beyond {MAX_LIST_PAGES * LIST_PAGE_SIZE} listed")


def _paths_of(cloudfront: CloudFront, distribution_id: str, invalidation_id: str) -> InProgress:
    response = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
    return InProgress().plus(response["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))


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
        self._ttl_s = ttl_s
        self._clock = clock
        self._read: dict[str, tuple[float, frozenset[str], InProgress | None]] = {}
        self._known: dict[str, dict[str, InProgress]] = {}
        self._reported: set[tuple[str, str]] = set()

    def get(self, distribution_id: str, *, refresh: bool = False) -> InProgress | None:
        """What is in progress, read again when `refresh` or older than the cache time."""
        now = self._clock()
        cached = self._read.get(distribution_id)
        if cached is not None and not refresh and now - cached[0] < self._ttl_s:
            return cached[2]
        known = self._known.setdefault(distribution_id, {})
        try:
            ids, state = read_in_progress(self._cloudfront, distribution_id, known)
        except InProgressLookupError as failure:
            self._report(distribution_id, str(failure))
            self._read[distribution_id] = (now, frozenset(), None)
            return None
        self._read[distribution_id] = (now, ids, state)
        return state

    def record(self, distribution_id: str, invalidation_id: str, paths: Iterable[str]) -> None:
        """An invalidation this container created: known from now on, and counted until the next read."""
        created = InProgress().plus(paths)
        self._known.setdefault(distribution_id, {})[invalidation_id] = created
        cached = self._read.get(distribution_id)
        if cached is None or invalidation_id in cached[1]:
            return
        read_at, ids, state = cached
        if state is not None:
            self._read[distribution_id] = (read_at, ids | {invalidation_id}, state + created)

    def _report(self, distribution_id: str, reason: str) -> None:
        first = (distribution_id, reason) not in self._reported
        self._reported.add((distribution_id, reason))
        logger.log(
            logging.WARNING if first else logging.DEBUG,
            "quota_lookup_failed",
            extra={
                "decision": "quota_lookup_failed",
                "distribution_id": distribution_id,
                "reason": reason,
                "outcome": "requests planned without the quota in view; logged once per reason",
            },
        )
