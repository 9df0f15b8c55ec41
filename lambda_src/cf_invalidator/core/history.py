"""A key's version history -> whether a created version can show a viewer anything new. Pure: no AWS.

The rule (issue: change detection): a created version is *unchanged* when the entry it replaced is an
object version with the same ETag and the same served headers. It is *new* when nothing older is listed,
or the entry it replaced is a delete marker (the key answered 404 before). It is *changed* when the
ETags or headers differ. Whatever cannot be told for sure is *unverified*, and is invalidated like a
change: a version missing from the listing, a lookup that failed or ran out of time, and a version
older than TRUST_WINDOW, whose replaced version a noncurrent-version expiration (at least a day, S3
Lifecycle) may already have removed.

The entry a version replaced is found in S3's own order, never by LastModified alone (issue 19):
an object completed by CompleteMultipartUpload carries the time its upload was *initiated*, so a
multipart upload finishing after a racing PUT that began later is the newer version with the older
LastModified, and ordering by LastModified would compare it with the version from before the race.
ListObjectVersions gives a key's versions newest first (S3's order; `IsLatest` marks the current entry)
and its delete markers newest first in a separate list, so:
- among versions, the one replaced is the next one listed after it;
- between the two lists LastModified is the only order, and it is a lower bound of an entry's place:
  a version's may be its upload's start, and a delete marker S3 Lifecycle creates is stamped midnight
  UTC of the day it is made. A delete marker lies certainly outside the pair (replaced, version) only
  when it is the current entry (`IsLatest`: newer than every version), or when it was made before the
  replaced version's LastModified: a second after its own (one day after, when stamped exactly at
  midnight UTC, as Lifecycle's are). Any other delete marker may lie between, and the order matters
  only where "new" (after the marker) and the comparison with the replaced version differ in what is
  invalidated: a change stays a change (either way something else was served), and "unchanged" is
  judged new, so it is skipped only when new objects are (both readings skip it) and otherwise
  invalidated, as an order that is not certain must be.
Entries of each kind must therefore come in the listing's order (detect.collect keeps it).

Several versions of one key in one batch, and the same version reported twice, are judged one by one,
each against its own predecessor: a key is skipped only when every version the batch reports is skipped,
so every transition a viewer could have cached (A -> B -> A included) is invalidated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from typing import Any, NamedTuple

TRUST_WINDOW = timedelta(hours=12)  # half the shortest noncurrent-version expiration S3 Lifecycle allows
STAMP_RESOLUTION = timedelta(seconds=1)  # listings give LastModified to the second
LIFECYCLE_MARKER_SPREAD = timedelta(days=1)  # a Lifecycle delete marker is stamped midnight of its day
# HeadObject fields that change what a viewer gets besides the bytes (the ETag stands for the bytes).
SERVED_FIELDS = (
    "ETag",
    "ContentType",
    "ContentEncoding",
    "ContentLanguage",
    "ContentDisposition",
    "CacheControl",
    "Expires",
    "ExpiresString",
    "WebsiteRedirectLocation",
    "Metadata",
)


class Verdict(Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    NEW = "new"


class Reason(Enum):
    """Why a created version could not be compared (it is invalidated)."""

    NO_VERSION_ID = "no_version_id"  # unversioned bucket, versioning suspended, or an event without one
    NO_BUCKET_NAME = "no_bucket_name"
    VERSION_NOT_LISTED = "version_not_listed"  # deleted or expired since, or the listing missed it
    HISTORY_MAY_HAVE_EXPIRED = "history_may_have_expired"
    LISTING_BUDGET = "listing_budget"  # the directory's listing did not reach the key within its pages
    LOOKUP_ERROR = "lookup_error"
    NO_TIME = "no_time"


Judgement = Verdict | Reason


class Entry(NamedTuple):
    """One entry of a key's history, as ListObjectVersions gives it (a tuple: the tree's walk makes one
    for each of up to 200,000 entries)."""

    version_id: str
    last_modified: datetime
    etag: str | None  # None for a delete marker
    is_latest: bool = False  # IsLatest: the key's current entry

    @property
    def is_delete_marker(self) -> bool:
        return self.etag is None


# All the key's entries, the versions in the listing's order and the delete markers in theirs (the two
# kinds may be interleaved), or why they are unknown.
History = tuple[Entry, ...] | Reason
Fingerprint = str  # a digest of the served fields of one version


def fingerprint(head: Mapping[str, Any]) -> Fingerprint:
    """What a viewer gets from a HeadObject answer, the ETag and the served headers (user metadata sorted),
    as a digest: a batch may hold thousands of them."""
    fields = []
    for name in SERVED_FIELDS:
        value = head.get(name)
        fields.append(repr(sorted(value.items()) if isinstance(value, Mapping) else value))
    return hashlib.sha256("\n".join(fields).encode()).hexdigest()


class Step(NamedTuple):
    """A created version, the version listed after it (None: none), and whether a delete marker may lie
    between the two (then the created version may be new: the key answered 404 before it)."""

    current: Entry
    previous: Entry | None
    marker_between: bool


def replaced_entry(history: Sequence[Entry], version_id: str) -> Step | Reason:
    """The version's step in S3's order: the version listed after it, and whether a delete marker may
    lie between them (see the module's docstring)."""
    versions = [entry for entry in history if entry.etag is not None]
    ids = [entry.version_id for entry in versions]
    if version_id not in ids:
        return Reason.VERSION_NOT_LISTED
    index = ids.index(version_id)
    if index + 1 == len(versions):
        return Step(versions[index], None, marker_between=False)
    previous = versions[index + 1]
    between = len(versions) < len(history) and any(
        _may_lie_between(entry, previous) for entry in history if entry.etag is None
    )
    return Step(versions[index], previous, marker_between=between)


def _may_lie_between(marker: Entry, previous: Entry) -> bool:
    """Whether the delete marker may have been made after `previous` (and before the version after it):
    not when it is the current entry, nor when it was certainly made before `previous`'s LastModified,
    the earliest `previous` may have been written."""
    if marker.is_latest:
        return False
    stamp = marker.last_modified
    utc = stamp.astimezone(UTC) if stamp.tzinfo else stamp  # a naive LastModified is UTC already
    spread = LIFECYCLE_MARKER_SPREAD if utc.time() == time(0) else STAMP_RESOLUTION
    return stamp + spread > previous.last_modified


def heads_needed(history: History, version_id: str, now: datetime) -> tuple[str, ...]:
    """The versions whose headers decide the verdict: both, when the ETags agree; otherwise none."""
    step = replaced_entry(history, version_id) if not isinstance(history, Reason) else history
    if isinstance(step, Reason) or now - step.current.last_modified > TRUST_WINDOW:
        return ()
    current, previous = step.current, step.previous
    if previous is None or previous.etag != current.etag:
        return ()
    return current.version_id, previous.version_id


def version_verdict(
    history: History, version_id: str, heads: Mapping[str, Fingerprint | Reason], now: datetime
) -> Judgement:
    """Changed, unchanged or new, or why that cannot be told; `heads` maps version ids to fingerprints.

    When a delete marker may lie between the version and the one listed after it, the verdict is new
    (after the marker) or the comparison (after that version): unchanged then counts as new, so that it
    is skipped only where both would be (invalidate_new_objects = false); changed and doubt stand."""
    step = replaced_entry(history, version_id) if not isinstance(history, Reason) else history
    if isinstance(step, Reason):
        return step
    current, previous = step.current, step.previous
    if now - current.last_modified > TRUST_WINDOW:
        return Reason.HISTORY_MAY_HAVE_EXPIRED
    if previous is None:
        return Verdict.NEW
    compared = (
        Verdict.CHANGED
        if previous.etag != current.etag
        else _same_headers(heads.get(current.version_id), heads.get(previous.version_id))
    )
    return Verdict.NEW if step.marker_between and compared is Verdict.UNCHANGED else compared


def _same_headers(mine: Fingerprint | Reason | None, theirs: Fingerprint | Reason | None) -> Judgement:
    for head in (mine, theirs):
        if head is None or isinstance(head, Reason):
            return head or Reason.LOOKUP_ERROR
    return Verdict.UNCHANGED if mine == theirs else Verdict.CHANGED


def key_verdict(judgements: Iterable[Judgement]) -> Judgement:
    """One key from its versions' judgements: any doubt wins, then any change, then new, else unchanged."""
    found = list(judgements)
    reasons = sorted((j for j in found if isinstance(j, Reason)), key=lambda r: r.value)
    if reasons:
        return reasons[0]
    for verdict in (Verdict.CHANGED, Verdict.NEW):
        if verdict in found:
            return verdict
    return Verdict.UNCHANGED if found else Verdict.CHANGED


def invalidates(judgement: Judgement, invalidate_new_objects: bool) -> bool:
    """Whether a key with this judgement gets its paths: everything but unchanged (and new, if so told)."""
    if judgement is Verdict.UNCHANGED:
        return False
    return not (judgement is Verdict.NEW and not invalidate_new_objects)


def directory(key: str) -> str:
    """The key's directory as a listing prefix: "docs/a.html" -> "docs/", "a.html" -> ""."""
    return key[: key.rfind("/") + 1]
