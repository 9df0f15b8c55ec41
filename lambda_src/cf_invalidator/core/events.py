"""SQS message bodies -> the S3 changes they report (key, bucket, version id, created or removed).

A body is an S3 event notification (`Records[]`), an EventBridge S3 event, or S3's `s3:TestEvent`.
Each change carries when it was written, when the event says: a record's `eventTime` (ISO 8601 with
milliseconds, when S3 finished processing the request) or an EventBridge event's `time` (to the second).
A time that is missing, malformed or without a time zone is None, never a rejection: such a change is
invalidated all the same, taken as written when it is accepted (accept.py) and left out of the
change-to-invalidation time (metrics.py).
Keys arrive URL-encoded with spaces as `+` in both shapes (AWS's documentation is silent on EventBridge;
AWS Lambda Powertools decodes it the same way), so both go through `unquote_plus`, strictly: a key that
does not decode to UTF-8 is malformed, never guessed.

Any body may arrive (anything allowed sqs:SendMessage can send one), so every member is checked for its
type where it is read, and a body that is not what S3 sends raises MalformedMessageError and nothing
else: its message fails alone. A string kept (key, bucket, version id) must be Unicode text that encodes
to UTF-8 (JSON's `\ud800` escape gives a lone surrogate that does not), so no later stage (path
encoding, S3 calls, the CallerReference hash, log lines) meets one it cannot encode. A reason quotes
the offending value shortened (reprlib), so a crafted value never makes a long or unloggable line.
"""

from __future__ import annotations

import json
import reprlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

# S3 notification event names that change what a viewer gets (created, overwritten, deleted, expired).
INVALIDATING_PREFIXES = ("ObjectCreated:", "ObjectRemoved:", "LifecycleExpiration:")
# Events S3 also sends that leave the object's content as it was: acknowledged, nothing to invalidate.
CONTENT_NEUTRAL_PREFIXES = (
    "ObjectRestore:",
    "ObjectTagging:",
    "ObjectAcl:",
    "LifecycleTransition",
    "IntelligentTiering",
    "Replication:",
)
EVENTBRIDGE_INVALIDATING = frozenset({"Object Created", "Object Deleted"})
# S3 Lifecycle removing a version for good (no delete marker), in either shape (S3 user guide: event
# notification types; Using EventBridge: the reason and deletion-type fields of "Object Deleted")
LIFECYCLE_REMOVAL = "LifecycleExpiration:Delete"
EVENTBRIDGE_LIFECYCLE_REMOVAL = ("Lifecycle Expiration", "Permanently Deleted")
EVENTBRIDGE_CONTENT_NEUTRAL = frozenset(
    {
        "Object Restore Initiated",
        "Object Restore Completed",
        "Object Restore Expired",
        "Object Tags Added",
        "Object Tags Deleted",
        "Object ACL Updated",
        "Object Storage Class Changed",
        "Object Access Tier Changed",
    }
)


class MalformedMessageError(ValueError):
    """The body is not an S3 change this handler understands; the message must not be deleted."""


@dataclass(frozen=True)
class Change:
    """One changed object. `version_id` is None when the event names none, or names "null" (a bucket
    that is not versioned, or whose versioning is suspended): such a change cannot be compared."""

    key: str
    created: bool  # ObjectCreated:* / "Object Created"; False for every removal and expiry
    bucket: str | None = None
    version_id: str | None = None
    event_time: datetime | None = None  # when the change was written, as the event says; None: unknown
    # S3 Lifecycle removed the version named by version_id itself, no delete marker made: the event
    # LifecycleExpiration:Delete, or EventBridge's reason "Lifecycle Expiration" with deletion-type
    # "Permanently Deleted" (detect.py: such a version was not the one viewers get)
    lifecycle_removal: bool = False


def changed_keys(body: str) -> list[str]:
    """The decoded S3 keys a message body reports as changed (empty for test and content-neutral events)."""
    return [change.key for change in changes(body)]


def changes(body: str) -> list[Change]:
    """The changes a message body reports (empty for test and content-neutral events)."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError) as error:  # ValueError: bad JSON, or an integer of >4,300 digits
        raise MalformedMessageError(f"body is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise MalformedMessageError("body is not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return []
    if "Records" in message:
        return _notification_changes(message["Records"])
    if "detail-type" in message:
        return _eventbridge_changes(message)
    raise MalformedMessageError("body is neither an S3 notification nor an EventBridge S3 event")


def _notification_changes(records: Any) -> list[Change]:
    if not isinstance(records, list) or not records:
        raise MalformedMessageError("Records is not a non-empty list")
    found = []
    for record in records:
        if not isinstance(record, dict):
            raise MalformedMessageError(f"a record is not an object: {_shown(record)}")
        name = _text(record, "eventName")
        if name.startswith(INVALIDATING_PREFIXES):
            s3 = _object(record, "s3")
            created = name.startswith("ObjectCreated:")
            change = _change(s3, _object(s3, "object"), created, "versionId", record.get("eventTime"))
            found.append(replace(change, lifecycle_removal=True) if name == LIFECYCLE_REMOVAL else change)
        elif not name.startswith(CONTENT_NEUTRAL_PREFIXES):
            raise MalformedMessageError(f"unknown S3 event name {_shown(name)}")
    return found


def _eventbridge_changes(message: dict[str, Any]) -> list[Change]:
    detail_type = _text(message, "detail-type")
    if detail_type in EVENTBRIDGE_CONTENT_NEUTRAL:
        return []
    if detail_type not in EVENTBRIDGE_INVALIDATING:
        raise MalformedMessageError(f"unknown EventBridge detail-type {_shown(detail_type)}")
    detail = _object(message, "detail")
    created = detail_type == "Object Created"
    change = _change(detail, _object(detail, "object"), created, "version-id", message.get("time"))
    removal = (detail.get("reason"), detail.get("deletion-type")) == EVENTBRIDGE_LIFECYCLE_REMOVAL
    return [replace(change, lifecycle_removal=True) if removal and not created else change]


def _change(
    container: dict[str, Any], obj: dict[str, Any], created: bool, version_field: str, written: Any
) -> Change:
    """The bucket and version id are optional: without them the change is invalidated unchecked."""
    bucket = container.get("bucket")
    version_id = _optional_text(obj.get(version_field), version_field)
    return Change(
        key=decode_key(_member(obj, "key")),
        created=created,
        bucket=_optional_text(bucket.get("name"), "bucket name") if isinstance(bucket, dict) else None,
        version_id=None if version_id == "null" else version_id,
        event_time=event_time(written),
    )


def event_time(raw: Any) -> datetime | None:
    """An event's ISO 8601 time (`2026-11-27T07:00:00.123Z`, `2026-11-27T07:00:00Z`); None when it is
    missing, not a time, or names no time zone (a naive time could be hours off)."""
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _member(container: dict[str, Any], name: str) -> Any:
    """A required member: present, and neither null nor the empty string."""
    if name not in container:
        raise MalformedMessageError(f"missing field {name!r}")
    value = container[name]
    if value is None or value == "":
        raise MalformedMessageError(f"empty field {name!r}")
    return value


def _object(container: dict[str, Any], name: str) -> dict[str, Any]:
    """A required member that is an object: one type check when it is one, _member's reasons if not."""
    value = container.get(name)
    if isinstance(value, dict):
        return value
    raise MalformedMessageError(f"field {name!r} is not an object: {_shown(_member(container, name))}")


def _text(container: dict[str, Any], name: str) -> str:
    """A required member that is a non-empty string: one type check when it is one, _member's reasons
    if not."""
    value = container.get(name)
    if isinstance(value, str) and value:
        return value
    raise MalformedMessageError(f"field {name!r} is not a string: {_shown(_member(container, name))}")


def _optional_text(value: Any, name: str) -> str | None:
    """An optional string (None when absent, empty or not a string), which must be UTF-8 text."""
    return _encodable(value, name) if isinstance(value, str) and value else None


def decode_key(raw: Any) -> str:
    """An event's key as stored in S3: `+` is a space, `%XX` a UTF-8 byte."""
    if not isinstance(raw, str):
        raise MalformedMessageError(f"key is not a string: {_shown(raw)}")
    try:
        decoded = unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        raise MalformedMessageError(f"key {_shown(raw)} does not decode to UTF-8") from None
    # ASCII in, only strictly decoded UTF-8 added: no lone surrogate can be in it
    return decoded if raw.isascii() else _encodable(decoded, "key")


def _encodable(text: str, name: str) -> str:
    """`text`, when it encodes to UTF-8 (no lone surrogate), as S3 keys and names always do. ASCII text
    (a flag of the string, read without a scan) always does."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedMessageError(f"{name} {_shown(text)} is not UTF-8 text") from None
    return text


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 80


def _shown(value: Any) -> str:
    """`value` for a reason: shortened, nested values cut off, lone surrogates escaped (repr)."""
    return _SHOWN.repr(value)
