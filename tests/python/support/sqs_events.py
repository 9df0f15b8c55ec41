"""Builders for the events the handler receives: S3 bodies wrapped in the Lambda SQS event shape."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from support.event_source import lambda_record
from support.moto_server import ACCOUNT_ID, REGION

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:site-invalidation"


def fixture_body(name: str) -> str:
    """A stored event body from tests/python/events/."""
    return (EVENTS_DIR / name).read_text()


def s3_body(
    *keys: str,
    event_name: str = "ObjectCreated:Put",
    bucket: str = "example-site",
    version_id: str | None = None,
    event_time: str | None = None,
) -> str:
    """An S3 notification body for `keys`, encoded as S3 encodes them (quote_plus, '/' kept); with a
    version id, each record carries it as `s3.object.versionId`, as a versioned bucket's records do;
    with an event time, as `eventTime` (S3 writes e.g. 2026-11-27T07:00:00.123Z)."""
    records = [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            **({} if event_time is None else {"eventTime": event_time}),
            "eventName": event_name,
            "s3": {"bucket": {"name": bucket}, "object": _object(key, "versionId", version_id)},
        }
        for key in keys
    ]
    return json.dumps({"Records": records})


def eventbridge_body(
    key: str,
    detail_type: str = "Object Created",
    bucket: str = "example-site",
    version_id: str | None = None,
    time: str | None = None,
) -> str:
    """An EventBridge S3 event; with a version id, as `detail.object.version-id`; with a time, as `time`
    (EventBridge writes e.g. 2026-11-27T07:00:00Z)."""
    return json.dumps(
        {
            "version": "0",
            "detail-type": detail_type,
            "source": "aws.s3",
            **({} if time is None else {"time": time}),
            "detail": {"bucket": {"name": bucket}, "object": _object(key, "version-id", version_id)},
        }
    )


def _object(key: str, version_field: str, version_id: str | None) -> dict[str, str]:
    encoded = {"key": quote_plus(key, safe="/")}
    return encoded if version_id is None else {**encoded, version_field: version_id}


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    """The Lambda SQS event record of `body` received for the first time, as the event source gives it."""
    message = {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795590000000"},
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
    }
    return lambda_record(message, QUEUE_ARN)


def sqs_event(bodies: Iterable[str], id_prefix: str = "m") -> dict[str, Any]:
    """The Lambda SQS event for `bodies`, message ids `<prefix>0`, `<prefix>1`, ..."""
    return {"Records": [sqs_record(body, f"{id_prefix}{i}") for i, body in enumerate(bodies)]}


def failed_ids(response: dict[str, list[dict[str, str]]]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]
