"""Accepting: the changes of an SQS batch -> the inbox chunks each distribution keeps until it flushes.

Pure: no AWS call. A change goes to every distribution that may serve its key (its origin path holds
the key, or its origin path is "auto": its routing is read only when it flushes). A chunk holds the
changes as an S3 event notification body (`Records[]`), the shape events.py reads, so the flush plans
a chunk exactly as it would a message, and a chunk that reaches the dead-letter queue is redriven as
one. A chunk stays under CHUNK_BYTES, well below DynamoDB's 400 KB item and SQS's 256 KB message.

A chunk's sort key is derived from the batch's message ids (sorted) and its place in the batch, so a
batch redelivered whole writes the same items again (idempotent); a batch redelivered with other
messages gets other keys, and its changes wait twice in the inbox: the flush covers both at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import quote_plus

from ..config import Distribution
from .events import LIFECYCLE_REMOVAL, Change
from .paths import serves

CHUNK_BYTES = 200_000  # a chunk's body: an item < 400 KB (DynamoDB), a dead letter < 256 KB (SQS)


@dataclass(frozen=True)
class Chunk:
    """One inbox item: its sort key, the body of its changes, the SQS messages they came from, and the
    oldest and newest of their write times (epoch seconds)."""

    sort_key: str
    body: str
    message_ids: tuple[str, ...]
    oldest: float
    newest: float


@dataclass(frozen=True)
class Accepted:
    """A batch as accepted: each distribution's chunks, and the keys no distribution may serve."""

    chunks: dict[str, list[Chunk]]  # distribution id -> the chunks of the changes it may serve
    unserved: list[str]  # outside every origin path: nothing to invalidate


def accepted(
    changes_by_message: Mapping[str, Sequence[Change]], distributions: Sequence[Distribution], now: float
) -> Accepted:
    """The chunks of each distribution and the keys none serves, which distributions may serve a change
    decided once for the batch; a change without a write time counts as written `now` (when it is
    accepted)."""
    served: dict[str, list[tuple[str, Change]]] = {d.id: [] for d in distributions}
    unserved: list[str] = []
    for message_id in sorted(changes_by_message):
        for change in changes_by_message[message_id]:
            serving = [d.id for d in distributions if d.auto or serves(change.key, d)]
            for distribution_id in serving:
                served[distribution_id].append((message_id, change))
            if not serving:
                unserved.append(change.key)
    batch = _batch_id(changes_by_message)
    return Accepted({d: _chunked(batch, found, now) for d, found in served.items() if found}, unserved)


def _batch_id(changes_by_message: Mapping[str, Sequence[Change]]) -> str:
    identity = json.dumps(sorted(changes_by_message), separators=(",", ":"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]


def _chunked(batch: str, served: Sequence[tuple[str, Change]], now: float) -> list[Chunk]:
    """The changes in order, cut whenever the next record would take the body past CHUNK_BYTES."""
    chunks: list[Chunk] = []
    records: list[tuple[str, Change, str]] = []
    size = 0
    for message_id, change in served:
        record = json.dumps(notification_record(change), separators=(",", ":"))
        if records and size + len(record) + 1 > CHUNK_BYTES:
            chunks.append(_chunk(f"{batch}#{len(chunks)}", records, now))
            records, size = [], 0
        records.append((message_id, change, record))
        size += len(record) + 1
    chunks.append(_chunk(f"{batch}#{len(chunks)}", records, now))
    return chunks


def _chunk(sort_key: str, records: Sequence[tuple[str, Change, str]], now: float) -> Chunk:
    times = [written(change, now) for _, change, _ in records]
    body = '{"Records":[' + ",".join(record for _, _, record in records) + "]}"
    message_ids = tuple(dict.fromkeys(message_id for message_id, _, _ in records))
    return Chunk(sort_key, body, message_ids, min(times), max(times))


def written(change: Change, now: float) -> float:
    """When the change was written (epoch seconds), as its event says; `now` when it does not."""
    return now if change.event_time is None else change.event_time.timestamp()


def notification_record(change: Change) -> dict[str, object]:
    """The change as an S3 event notification record: events.changes() reads it back as the same change."""
    if change.created:
        name = "ObjectCreated:Put"
    else:
        name = LIFECYCLE_REMOVAL if change.lifecycle_removal else "ObjectRemoved:Delete"
    obj: dict[str, str] = {"key": quote_plus(change.key, safe="/")}
    if change.version_id is not None:
        obj["versionId"] = change.version_id
    record: dict[str, object] = {"eventSource": "aws:s3", "eventName": name, "s3": {"object": obj}}
    if change.bucket is not None:
        record["s3"] = {"bucket": {"name": change.bucket}, "object": obj}
    if change.event_time is not None:
        record["eventTime"] = change.event_time.astimezone(UTC).isoformat(timespec="milliseconds")
    return record
