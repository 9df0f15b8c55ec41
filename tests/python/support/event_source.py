"""Lambda's SQS event source mapping, emulated: moto stores the mapping but cannot run the function.

`SqsEventSource` does what the mapping does, against any SQS client (moto server or in-process
`mock_aws`) and any handler callable: receive up to `batch_size` messages, build the Lambda SQS event,
call the handler, then delete the messages it did not report in `batchItemFailures`.

Choices that differ from AWS, and why:
- Gathering a batch stops when the batch is full, when a receive comes back empty, or when the batching
  window has passed. moto delivers S3 and EventBridge notifications during the S3 call itself, so an
  empty receive means nothing more is in flight; waiting out a 20 s window would only add time.
- An empty receive ends a `drain` only when no message is delayed or in flight: the function sends
  itself delayed flush ticks (docs/deploy-flush.md), which moto's SQS keeps invisible for their delay.
- Messages that failed (reported, or the whole batch on an exception or a bad response) are made
  visible again at once (ChangeMessageVisibility to 0) instead of after the queue's visibility timeout,
  so the queue's redrive policy (maxReceiveCount, counted by moto on each receive) is exercised in
  seconds instead of real minutes. That includes the messages the handler postponed itself (its own
  ChangeMessageVisibility to a later time, whatever its reason): the postponement is fast-forwarded, and
  the outcome records which failed messages were postponed, so that a log names the invocations whose
  failures nothing explains.
- How the emulation cuts batches depends on the machine's speed (the batching window runs while the
  messages are received). Callers therefore judge the end state of a delivery (queue drained, dead-letter
  queue empty, the right paths invalidated: deployment.Delivery), never the number or size of batches.
- While the real mapping is enabled, moto tries to run the function through Docker on every send and
  counts a receive, which can push messages to the DLQ early: `read_mapping` reads the settings and
  `disable_mapping` turns the mapping off before the emulation takes over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from support.moto_server import REGION

SQS_RECEIVE_MAX = 10  # ReceiveMessage and the *Batch calls take at most 10 messages
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
# How long `drain` waits for a message to turn visible (the function's flush ticks: due a quiet time
# after the last write; a retry's first backoff is 60 s), and how often it looks again.
PENDING_WAIT_SECONDS = 150
PENDING_POLL_SECONDS = 0.25
FLUSH_TICK = '"cf_invalidator":"flush"'  # the body of a tick the function sends itself

Event = dict[str, Any]
Handler = Callable[[Event], Any]


@dataclass(frozen=True)
class MappingSettings:
    """What the deployed event source mapping says about batching and failure reporting."""

    uuid: str
    event_source_arn: str
    function_arn: str
    batch_size: int
    batching_window_seconds: int
    function_response_types: tuple[str, ...]
    maximum_concurrency: int | None


def read_mapping(lambda_client: Any, function_arn: str) -> MappingSettings:
    """The one SQS event source mapping of the function (moto finds it by ARN, not by name)."""
    mappings = lambda_client.list_event_source_mappings(FunctionName=function_arn)["EventSourceMappings"]
    sqs_mappings = [m for m in mappings if m["EventSourceArn"].startswith("arn:aws:sqs:")]
    if len(sqs_mappings) != 1:
        raise AssertionError(f"expected one SQS event source mapping for {function_arn}, found {mappings}")
    mapping = sqs_mappings[0]
    return MappingSettings(
        uuid=mapping["UUID"],
        event_source_arn=mapping["EventSourceArn"],
        function_arn=mapping["FunctionArn"],
        batch_size=int(mapping["BatchSize"]),
        batching_window_seconds=int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
        function_response_types=tuple(mapping.get("FunctionResponseTypes", ())),
        maximum_concurrency=mapping.get("ScalingConfig", {}).get("MaximumConcurrency"),
    )


def disable_mapping(lambda_client: Any, settings: MappingSettings) -> None:
    """Turn the real mapping off so that moto stops trying to invoke the function on each send."""
    lambda_client.update_event_source_mapping(UUID=settings.uuid, Enabled=False)


def lambda_record(message: dict[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One record of the Lambda SQS event, from a ReceiveMessage message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's message attribute shape (StringValue, ...) in Lambda's camelCase shape."""
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": list(value.get("BinaryListValues", [])),
        "dataType": value["DataType"],
    }


def failed_message_ids(response: Any, message_ids: Sequence[str]) -> tuple[set[str], str | None]:
    """The ids a ReportBatchItemFailures response reports, and an error when it fails the whole batch.

    As Lambda does: a None or empty response, or an empty/None list, is full success; an entry without
    a string itemIdentifier, or with an id that is not in the batch, fails the whole batch.
    """
    if response is None or response == {}:
        return set(), None
    if not isinstance(response, dict):
        return set(message_ids), f"response is not an object: {response!r}"
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(message_ids), f"batchItemFailures is not a list: {failures!r}"
    reported: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids), f"invalid batch item failure {failure!r}"
        reported.add(identifier)
    return reported, None


@dataclass
class BatchOutcome:
    """One invocation: the messages it carried, those that failed, why the whole batch failed, the
    failed messages the handler postponed itself, and the invocation's log (when the handler keeps one)."""

    message_ids: list[str]
    failed_ids: set[str]
    response: Any = None
    error: str | None = None
    postponed_ids: set[str] = field(default_factory=set)
    log: str = ""
    ticks_only: bool = False  # it carried only the function's own flush ticks (docs/deploy-flush.md)

    @property
    def succeeded_ids(self) -> list[str]:
        return [message_id for message_id in self.message_ids if message_id not in self.failed_ids]

    @property
    def unexplained(self) -> bool:
        """Whether the invocation failed the batch, or failed a message it did not postpone on purpose."""
        return self.error is not None or bool(self.failed_ids - self.postponed_ids)


def postponed_handles(calls: Iterable[Mapping[str, Any]]) -> set[str]:
    """The receipt handles that recorded SQS calls (service, operation, params) gave a visibility
    timeout above 0: the messages a handler postponed."""
    handles: set[str] = set()
    for call in calls:
        params = call.get("params", {})
        if call.get("operation") == "ChangeMessageVisibility":
            entries = [params]
        elif call.get("operation") == "ChangeMessageVisibilityBatch":
            entries = params.get("Entries", [])
        else:
            continue
        handles |= {e["ReceiptHandle"] for e in entries if int(e.get("VisibilityTimeout", 0)) > 0}
    return handles


def trace_of(handler: Any, logs_before: int) -> tuple[str, list[dict[str, Any]]]:
    """The log and the AWS calls of the handler's last invocation, when it keeps them per invocation
    (lambda_runtime.DeployedFunction: `logs` and `invocation_calls`) and that invocation got that far."""
    logs, calls = getattr(handler, "logs", None), getattr(handler, "invocation_calls", None)
    if not isinstance(logs, list) or len(logs) <= logs_before:
        return "", []
    return logs[-1], calls[-1] if isinstance(calls, list) and len(calls) == len(logs) else []


@dataclass
class SqsEventSource:
    """Feeds a queue's messages to a handler in batches, the way Lambda's SQS event source mapping does."""

    sqs: Any
    queue_url: str
    handler: Handler
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = True
    region: str = REGION
    outcomes: list[BatchOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.queue_arn: str = attributes["Attributes"]["QueueArn"]

    @classmethod
    def for_mapping(
        cls, sqs: Any, queue_url: str, handler: Handler, settings: MappingSettings
    ) -> SqsEventSource:
        """An emulation that follows a deployed mapping's batch size, window and response types."""
        source = cls(
            sqs,
            queue_url,
            handler,
            batch_size=settings.batch_size,
            batching_window_seconds=settings.batching_window_seconds,
            report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in settings.function_response_types,
        )
        if source.queue_arn != settings.event_source_arn:
            raise AssertionError(f"the mapping reads {settings.event_source_arn}, not {source.queue_arn}")
        return source

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to batch_size messages: until full, until the queue is empty, or until the window passes."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size:
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_RECEIVE_MAX, self.batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            if not received or time.monotonic() >= deadline:
                break
        return messages

    def invoke(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        """Call the handler with one batch and settle its messages (delete, or make visible again)."""
        event = {"Records": [lambda_record(message, self.queue_arn, self.region) for message in messages]}
        message_ids = [message["MessageId"] for message in messages]
        ticks_only = all(FLUSH_TICK in message["Body"] for message in messages)
        outcome = BatchOutcome(message_ids=message_ids, failed_ids=set(), ticks_only=ticks_only)
        logs_before = len(getattr(self.handler, "logs", None) or ())
        try:
            outcome.response = self.handler(event)
        except Exception as error:  # a failed invocation fails the whole batch, as in Lambda
            outcome.failed_ids, outcome.error = set(message_ids), f"{type(error).__name__}: {error}"
        else:
            if self.report_batch_item_failures:
                outcome.failed_ids, outcome.error = failed_message_ids(outcome.response, message_ids)
        handles = {message["MessageId"]: message["ReceiptHandle"] for message in messages}
        outcome.log, calls = trace_of(self.handler, logs_before)
        postponed = postponed_handles(calls)
        outcome.postponed_ids = {m for m in outcome.failed_ids if handles[m] in postponed}
        self._delete([handles[message_id] for message_id in outcome.succeeded_ids])
        self._make_visible([handles[message_id] for message_id in sorted(outcome.failed_ids)])
        self.outcomes.append(outcome)
        return outcome

    def poll(self) -> BatchOutcome | None:
        """Receive one batch and invoke the handler with it; None when the queue had nothing."""
        messages = self.receive_batch()
        return self.invoke(messages) if messages else None

    def drain(self, max_batches: int = 1000) -> list[BatchOutcome]:
        """Invoke until the queue is empty: failed messages (postponed ones included) come back at once
        and retry until they succeed or the DLQ takes them. A receive that finds nothing visible waits
        while any message is left, delayed or in flight: the function's own flush ticks (delayed
        messages, docs/deploy-flush.md) come back after their delay. (Visible ones count too: a tick may
        turn visible between the empty receive and the count.) Every invocation is returned, ticks included
        (`ticks_only` tells them apart). At most `max_batches` invocations."""
        outcomes: list[BatchOutcome] = []
        waited_until = time.monotonic() + PENDING_WAIT_SECONDS
        for _ in range(max_batches):
            outcome = self.poll()
            if outcome is not None:
                outcomes.append(outcome)
                waited_until = time.monotonic() + PENDING_WAIT_SECONDS
            elif not self.messages_left() or time.monotonic() > waited_until:
                return outcomes
            else:
                time.sleep(PENDING_POLL_SECONDS)
        raise AssertionError(f"the queue still had messages after {max_batches} batches")

    def messages_left(self) -> int:
        """Messages still in the queue, visible, in flight or delayed (0 once drained)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)
        return sum(int(attributes["Attributes"].get(name, 0)) for name in names)

    def _delete(self, receipt_handles: Iterable[str]) -> None:
        for chunk in chunks(list(receipt_handles)):
            entries = [{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)]
            result = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if result.get("Failed"):
                raise AssertionError(f"DeleteMessageBatch failed: {result['Failed']}")

    def _make_visible(self, receipt_handles: Iterable[str]) -> None:
        for chunk in chunks(list(receipt_handles)):
            entries = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(chunk)
            ]
            result = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
            if result.get("Failed"):
                raise AssertionError(f"ChangeMessageVisibilityBatch failed: {result['Failed']}")


def chunks(items: list[str], size: int = SQS_RECEIVE_MAX) -> list[list[str]]:
    """`items` cut into lists of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]
