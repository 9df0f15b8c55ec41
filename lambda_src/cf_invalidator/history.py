"""A key's version history -> whether a created version can show a viewer anything new. Pure: no AWS.

The rule (issue: change detection): a created version is *unchanged* when the entry it replaced, the next
older entry of the same key among its versions and delete markers, is an object version with the same
ETag and the same served headers. It is *new* when nothing older is listed, or the entry it replaced is a
delete marker (the key answered 404 before). It is *changed* when the ETags or headers differ. Whatever
cannot be told for sure is *unverified*, and is invalidated like a change: a version missing from the
listing, entries with the same LastModified around it (S3 splits versions and delete markers into two
lists, and LastModified is the only order between them; a tie may be either way), a lookup that failed
or ran out of time, and a version older than TRUST_WINDOW, whose replaced version a noncurrent-version
expiration (at least a day, S3 Lifecycle) may already have removed.

Several versions of one key in one batch, and the same version reported twice, are judged one by one,
each against its own predecessor: a key is skipped only when every version the batch reports is skipped,
so every transition a viewer could have cached (A -> B -> A included) is invalidated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

TRUST_WINDOW = timedelta(hours=12)  # half the shortest noncurrent-version expiration S3 Lifecycle allows
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
    AMBIGUOUS_ORDER = "ambiguous_order"
    HISTORY_MAY_HAVE_EXPIRED = "history_may_have_expired"
    LISTING_BUDGET = "listing_budget"  # the directory's listing did not reach the key within its pages
    LOOKUP_ERROR = "lookup_error"
    NO_TIME = "no_time"


Judgement = Verdict | Reason


@dataclass(frozen=True)
class Entry:
    """One entry of a key's history, as ListObjectVersions gives it."""

    version_id: str
    last_modified: datetime
    etag: str | None  # None for a delete marker

    @property
    def is_delete_marker(self) -> bool:
        return self.etag is None


History = tuple[Entry, ...] | Reason  # all the key's entries (any order), or why they are unknown
Fingerprint = str  # a digest of the served fields of one version


def fingerprint(head: Mapping[str, Any]) -> Fingerprint:
    """What a viewer gets from a HeadObject answer, the ETag and the served headers (user metadata sorted),
    as a digest: a batch may hold thousands of them."""
    fields = []
    for name in SERVED_FIELDS:
        value = head.get(name)
        fields.append(repr(sorted(value.items()) if isinstance(value, Mapping) else value))
    return hashlib.sha256("\n".join(fields).encode()).hexdigest()


def replaced_entry(history: Sequence[Entry], version_id: str) -> tuple[Entry, Entry | None] | Reason:
    """The version's entry and the entry it replaced (None: nothing older), ordered by LastModified alone."""
    current = next((entry for entry in history if entry.version_id == version_id), None)
    if current is None or current.is_delete_marker:
        return Reason.VERSION_NOT_LISTED
    others = [entry for entry in history if entry is not current]
    if any(entry.last_modified == current.last_modified for entry in others):
        return Reason.AMBIGUOUS_ORDER
    older = [entry for entry in others if entry.last_modified < current.last_modified]
    if not older:
        return current, None
    newest = max(entry.last_modified for entry in older)
    candidates = [entry for entry in older if entry.last_modified == newest]
    return (current, candidates[0]) if len(candidates) == 1 else Reason.AMBIGUOUS_ORDER


def heads_needed(history: History, version_id: str, now: datetime) -> tuple[str, ...]:
    """The versions whose headers decide the verdict: both, when the ETags agree; otherwise none."""
    step = replaced_entry(history, version_id) if not isinstance(history, Reason) else history
    if isinstance(step, Reason) or now - step[0].last_modified > TRUST_WINDOW:
        return ()
    current, previous = step
    if previous is None or previous.is_delete_marker or previous.etag != current.etag:
        return ()
    return current.version_id, previous.version_id


def version_verdict(
    history: History, version_id: str, heads: Mapping[str, Fingerprint | Reason], now: datetime
) -> Judgement:
    """Changed, unchanged or new, or why that cannot be told; `heads` maps version ids to fingerprints."""
    step = replaced_entry(history, version_id) if not isinstance(history, Reason) else history
    if isinstance(step, Reason):
        return step
    current, previous = step
    if now - current.last_modified > TRUST_WINDOW:
        return Reason.HISTORY_MAY_HAVE_EXPIRED
    if previous is None or previous.is_delete_marker:
        return Verdict.NEW
    if previous.etag != current.etag:
        return Verdict.CHANGED
    return _same_headers(heads.get(current.version_id), heads.get(previous.version_id))


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
