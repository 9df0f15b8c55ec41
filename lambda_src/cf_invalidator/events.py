"""SQS message bodies -> the S3 keys they say changed.

A body is an S3 event notification (`Records[]`), an EventBridge S3 event, or S3's `s3:TestEvent`.
Keys arrive URL-encoded with spaces as `+` in both shapes (AWS's documentation is silent on EventBridge;
AWS Lambda Powertools decodes it the same way), so both go through `unquote_plus`, strictly: a key that
does not decode to UTF-8 is malformed, never guessed.
"""

from __future__ import annotations

import json
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


def changed_keys(body: str) -> list[str]:
    """The decoded S3 keys a message body reports as changed (empty for test and content-neutral events)."""
    try:
        message = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as error:
        raise MalformedMessageError(f"body is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise MalformedMessageError("body is not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return []
    if "Records" in message:
        return _notification_keys(message["Records"])
    if "detail-type" in message:
        return _eventbridge_keys(message)
    raise MalformedMessageError("body is neither an S3 notification nor an EventBridge S3 event")


def _notification_keys(records: Any) -> list[str]:
    if not isinstance(records, list) or not records:
        raise MalformedMessageError("Records is not a non-empty list")
    keys = []
    for record in records:
        name = _field(record, "eventName")
        if name.startswith(INVALIDATING_PREFIXES):
            keys.append(decode_key(_field(_field(_field(record, "s3"), "object"), "key")))
        elif not name.startswith(CONTENT_NEUTRAL_PREFIXES):
            raise MalformedMessageError(f"unknown S3 event name {name!r}")
    return keys


def _eventbridge_keys(message: dict[str, Any]) -> list[str]:
    detail_type = _field(message, "detail-type")
    if detail_type in EVENTBRIDGE_CONTENT_NEUTRAL:
        return []
    if detail_type not in EVENTBRIDGE_INVALIDATING:
        raise MalformedMessageError(f"unknown EventBridge detail-type {detail_type!r}")
    return [decode_key(_field(_field(_field(message, "detail"), "object"), "key"))]


def _field(container: Any, name: str) -> Any:
    if not isinstance(container, dict) or name not in container:
        raise MalformedMessageError(f"missing field {name!r}")
    value = container[name]
    if value is None or value == "":
        raise MalformedMessageError(f"empty field {name!r}")
    return value


def decode_key(raw: Any) -> str:
    """An event's key as stored in S3: `+` is a space, `%XX` a UTF-8 byte."""
    if not isinstance(raw, str):
        raise MalformedMessageError(f"key is not a string: {raw!r}")
    try:
        return unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        raise MalformedMessageError(f"key {raw!r} does not decode to UTF-8") from None
