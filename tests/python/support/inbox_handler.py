"""The handler as Lambda starts it, in-process on moto: the deploy inbox's queue, dead-letter queue and
table, and its flush ticks handed back to the handler on a clock the test moves.

`INBOX_ENVIRONMENT` is what the module sets beside the other settings (main.tf): the inbox table, the
dead-letter queue's ARN and a one-second quiet time. `create_inbox` makes those resources in the active
`mock_aws`, on the queue the test events name (sqs_events.QUEUE_ARN). `Ticks` moves moto's SQS clock
and the handler's (`handler.clock`) together, so that a tick sent with a delay is received once the
test has moved past it, never after a real sleep, and hands every visible message to the handler, as
the event source does, deleting the ones it did not fail.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from support.event_source import lambda_record
from support.moto_server import ACCOUNT_ID, REGION
from support.sqs_events import QUEUE_ARN

INBOX_TABLE = "site-deploys"
DEAD_LETTER_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:site-invalidation-dlq"
INBOX_ENVIRONMENT = {
    "INBOX_TABLE": INBOX_TABLE,
    "DEAD_LETTER_QUEUE_ARN": DEAD_LETTER_ARN,
    "QUIET_SECONDS": "1",
}


@dataclass(frozen=True)
class Inbox:
    sqs: Any
    queue_url: str
    dead_letter_url: str

    def dead_letter_keys(self) -> list[str]:
        """The keys the dead-letter queue's S3 bodies name (read as S3 writes them)."""
        messages = self.sqs.receive_message(QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10)
        bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        return sorted(unquote_plus(r["s3"]["object"]["key"]) for body in bodies for r in body["Records"])

    def visible(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


def create_inbox() -> Inbox:
    """The queue the test events come from, the dead-letter queue and the inbox table, in moto."""
    sqs, dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
    queue_url = sqs.create_queue(QueueName=QUEUE_ARN.rsplit(":", 1)[1])["QueueUrl"]
    dead_letter_url = sqs.create_queue(QueueName=DEAD_LETTER_ARN.rsplit(":", 1)[1])["QueueUrl"]
    keys = [{"AttributeName": name, "KeyType": kind} for name, kind in (("pk", "HASH"), ("sk", "RANGE"))]
    dynamodb.create_table(
        TableName=INBOX_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=keys,
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk")],
    )
    return Inbox(sqs, queue_url, dead_letter_url)


class Ticks:
    """Moves moto's SQS clock and the handler's, and hands the queue's messages to the handler."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, handler: ModuleType, inbox: Inbox) -> None:
        import moto.sqs.models  # noqa: PLC0415 (moto loads slowly)
        from moto.core.utils import unix_time, unix_time_millis  # noqa: PLC0415

        self.offset = 0.0
        self.handler, self.inbox = handler, inbox
        monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *_: unix_time_millis() + self.ms())
        monkeypatch.setattr(moto.sqs.models, "unix_time", lambda *_: unix_time() + self.offset)
        monkeypatch.setattr(handler, "clock", lambda: time.time() + self.offset)

    def ms(self) -> float:
        return self.offset * 1000

    def run(self, seconds: float, context: Any) -> int:
        """Move the clocks by `seconds`, then invoke the handler with each visible message until none is
        left; the messages handled."""
        self.offset += seconds
        handled = 0
        while messages := self.inbox.sqs.receive_message(
            QueueUrl=self.inbox.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", []):
            event = {"Records": [lambda_record(m, QUEUE_ARN) for m in messages]}
            response = self.handler.lambda_handler(event, context)
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.inbox.sqs.delete_message(
                        QueueUrl=self.inbox.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
            handled += len(messages)
        return handled
