"""The queue and Lambda's SQS event source mapping on a virtual clock, shared by the storm and replay benches.

The model of Lambda's SQS batching, as AWS documents it (Lambda developer guide, "Using Lambda with
Amazon SQS": batching behaviour and maximum concurrency):
- Up to `maximum_concurrency` pollers run at once; each claims a batch, invokes the function with it
  and waits for the answer before claiming the next.
- A poller starts a batch when a message is visible and hands it over as soon as one of three things
  happens: it holds `batch_size` messages, the batching window has passed since it started, or the next
  message would take the invocation payload past 6 MB (PAYLOAD_LIMIT_BYTES). Payload is counted as the
  JSON of the Lambda SQS records, each holding one S3 notification as AWS writes it
  (`notification_body`, about 1.5 KB, so about 4,000 records fit in 6 MB).
- Each invocation gets the Lambda timeout as its deadline. A message the handler reports as failed
  becomes visible again when the visibility timeout (counted from the receive) ends, or at the time the
  handler's ChangeMessageVisibility postponed it to; after maxReceiveCount receives it moves to the
  dead-letter queue.
- What the function sends itself (`OwnQueue`, its SQS client in the model): a message sent to the
  queue with DelaySeconds becomes visible that many seconds later, on the same virtual clock, and is
  received like any other; a message sent to the dead-letter queue is kept there, counted as a dead
  letter. SQS takes DelaySeconds from 0 to 900 and at most 10 entries a SendMessageBatch: more is
  refused, as SQS refuses it.
Not modelled: SQS's own delivery delay and the pollers' scaling up from 5 (maximum_concurrency is low).

Assumptions the benches share: uploads arrive at UPLOAD_RATE a second, and CloudFront completes an
invalidation COMPLETION_SECONDS (25 s) after creating it: AWS announced in April 2026 that invalidations
take effect in under 5 s and complete in under 25 s at P95 (the project's DESIGN.md, section 4), so
the P95 is taken for every invalidation; the storm bench's sensitivity table shows slower completions
(up to 10 minutes, what was reported before that announcement).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote_plus

from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.config import Config
from cf_invalidator.core.redelivery import redelivery_delay
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators, Postpone
from support.cloudfront_model import EPOCH, Invalidation, VirtualClock
from support.module_defaults import ModuleDefaults
from support.sqs_events import sqs_record

UPLOAD_RATE = 100.0  # objects a second: `aws s3 sync` with its default 10 concurrent requests
COMPLETION_SECONDS = 25.0  # an invalidation's completion: under 25 s at P95 (AWS, April 2026)
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024  # Lambda: synchronous invocation payload
Records = Sequence[Mapping[str, Any]]


def visibility_timeout(receive_count: int, delay_s: int | None) -> int:
    """The visibility timeout a postponed message got from the per-batch handler, which this model
    replays: `delay_s` (at most SQS's 12 hours) when given, else by its receive count."""
    return redelivery_delay(receive_count) if delay_s is None else min(43_200, delay_s)


# (event, remaining_ms, sleep, postpone) -> the handler's response: process_batch with its clients bound
Handler = Callable[
    [dict[str, Any], Callable[[], int], Callable[[float], None], Postpone],
    dict[str, list[dict[str, str]]],
]


def notification_body(
    key: str,
    bucket: str,
    *,
    event_name: str = "ObjectCreated:Put",
    version_id: str | None = None,
    size: int = 20_000,
    etag: str = "9b2cf535f27731c974343645a3985328",
    sequencer: str = "0055AED6DCD90281E5",
    written_at: float = 0.0,
) -> str:
    """An S3 event notification of one change, every field AWS sends (S3 user guide, "Event message
    structure", version 2.1): the handler reads a few, the payload limit counts them all. `eventTime` is
    `written_at` seconds of virtual time after the CloudFront model's EPOCH (its CreateTime at time 0):
    the grading compares the two, so it must be when the change was really written."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if not event_name.startswith("ObjectRemoved:"):
        obj |= {"size": size, "eTag": etag}
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": (EPOCH + timedelta(seconds=written_at)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "site-invalidation",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    return json.dumps({"Records": [record]})


class Scheduler:
    """Cooperative threads on a virtual clock: one runs at a time, and `sleep` hands over to whichever
    task is due first. Lets two invocations of the (blocking) handler overlap in virtual time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._due: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()
        self._handed_back = threading.Event()
        self._errors: list[BaseException] = []

    def spawn(self, task: Callable[[], None]) -> None:
        go = threading.Event()

        def run() -> None:
            go.wait()
            try:
                task()
            except BaseException as error:  # re-raised by run_all in the main thread
                self._errors.append(error)
            finally:
                self._handed_back.set()

        threading.Thread(target=run, daemon=True).start()
        heapq.heappush(self._due, (self.clock.now(), next(self._order), go))

    def sleep(self, seconds: float) -> None:
        """Called from a task: wait `seconds` of virtual time while the others run."""
        go = threading.Event()
        heapq.heappush(self._due, (self.clock.now() + seconds, next(self._order), go))
        self._handed_back.set()
        go.wait()

    def run_all(self) -> None:
        while self._due:
            at, _, go = heapq.heappop(self._due)
            self.clock.sleep(max(0.0, at - self.clock.now()))
            self._handed_back.clear()
            go.set()
            self._handed_back.wait()
        if self._errors:
            raise self._errors[0]


@dataclass
class Message:
    id: str
    body: str
    visible_at: float
    receives: int = 0
    size: int = 0  # bytes of its Lambda SQS record

    def __post_init__(self) -> None:
        self.size = record_size(self.body, self.id)


@functools.lru_cache(maxsize=16_384)  # a deploy's messages, replayed at several settings
def record_size(body: str, message_id: str) -> int:
    """Bytes of the Lambda SQS record holding `body`."""
    return len(json.dumps(sqs_record(body, message_id)))


@dataclass
class EventSourceMapping:
    """The queue and the mapping's pollers, on the scheduler's virtual clock."""

    handler: Handler
    defaults: ModuleDefaults
    scheduler: Scheduler
    pending: list[Message]
    dead: list[Message] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    in_flight: int = 0
    sent: int = 0  # messages the function sent itself to the queue (OwnQueue)
    payload_limit_bytes: float = PAYLOAD_LIMIT_BYTES

    def poller(self) -> None:
        clock = self.scheduler.clock
        while True:
            upcoming = min((m.visible_at for m in self.pending), default=None)
            if upcoming is None:
                if self.in_flight == 0:
                    return
                self.scheduler.sleep(1.0)  # an invocation may still put messages back
            elif upcoming > clock.now():
                self.scheduler.sleep(upcoming - clock.now())
            else:
                self.invoke(self.gather())

    def gather(self) -> list[Message]:
        """Claim the next batch; hand it over when full, past 6 MB, or at the end of the window."""
        now = self.scheduler.clock.now()
        closes = now + self.defaults.batching_window_seconds
        batch: list[Message] = []
        payload, full = 0, False
        for message in sorted(self.pending, key=lambda m: m.visible_at):
            if message.visible_at > closes:
                break
            full = payload + message.size > self.payload_limit_bytes
            if full:
                break
            batch.append(message)
            payload += message.size
            full = len(batch) == self.defaults.batch_size
            if full:
                break
        if full:
            closes = max(now, batch[-1].visible_at)
        claimed = {m.id for m in batch}
        self.pending = [m for m in self.pending if m.id not in claimed]
        self.in_flight += 1
        self.batch_sizes.append(len(batch))
        self.scheduler.sleep(max(0.0, closes - now))
        return batch

    def invoke(self, batch: list[Message]) -> None:
        clock = self.scheduler.clock
        started = clock.now()
        records = []
        for message in batch:
            message.receives += 1
            record = sqs_record(message.body, message.id)
            record["attributes"]["ApproximateReceiveCount"] = str(message.receives)
            records.append(record)
        postponed: dict[str, float] = {}

        def postpone(failed_records: Records, delay_s: int | None = None) -> None:
            """The handler's ChangeMessageVisibility, as SQS applies it: counted from now."""
            for record in failed_records:
                receives = int(record["attributes"]["ApproximateReceiveCount"])
                postponed[record["messageId"]] = clock.now() + visibility_timeout(receives, delay_s)

        deadline = clock.lambda_deadline(self.defaults.lambda_timeout)
        response = self.handler({"Records": records}, deadline, self.scheduler.sleep, postpone)
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for message in batch:
            if message.id not in failed:
                continue
            if message.receives >= self.defaults.max_receive_count:
                self.dead.append(message)
            else:
                timeout_ends = started + self.defaults.visibility_timeout_seconds
                message.visible_at = postponed.get(message.id, timeout_ends)
                self.pending.append(message)
        self.in_flight -= 1


MAX_DELAY_SECONDS = 900  # SQS: the longest DelaySeconds
MAX_BATCH_ENTRIES = 10  # SQS: entries per SendMessageBatch


class OwnQueue:
    """The function's SQS client in the model: SendMessage and SendMessageBatch to the queue (named
    `queue`, the last part of its URL) enter the mapping's queue, visible after their DelaySeconds on
    the virtual clock; to the dead-letter queue (`dead_letter_queue`), kept in `dead_letters`."""

    def __init__(self, queue: str, dead_letter_queue: str) -> None:
        self.queue, self.dead_letter_queue = queue, dead_letter_queue
        self.dead_letters: list[str] = []
        self._mapping: EventSourceMapping | None = None

    def attach(self, mapping: EventSourceMapping) -> None:
        self._mapping = mapping

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        """SendMessage: QueueUrl, MessageBody, DelaySeconds (default 0)."""
        return {
            "MessageId": self._send(kwargs["QueueUrl"], kwargs["MessageBody"], kwargs.get("DelaySeconds", 0))
        }

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        """SendMessageBatch: QueueUrl, Entries (Id, MessageBody, DelaySeconds), 1 to 10 of them."""
        entries: Sequence[Mapping[str, Any]] = kwargs["Entries"]
        if not 1 <= len(entries) <= MAX_BATCH_ENTRIES:
            raise ValueError(f"SendMessageBatch takes 1 to {MAX_BATCH_ENTRIES} entries, got {len(entries)}")
        url = kwargs["QueueUrl"]
        successful = [
            {"Id": e["Id"], "MessageId": self._send(url, e["MessageBody"], e.get("DelaySeconds", 0))}
            for e in entries
        ]
        return {"Successful": successful, "Failed": []}

    def _send(self, url: str, body: str, delay_s: int) -> str:
        if not 0 <= delay_s <= MAX_DELAY_SECONDS:
            raise ValueError(f"DelaySeconds must be 0 to {MAX_DELAY_SECONDS}, got {delay_s}")
        name = url.rsplit("/", 1)[-1]
        if name == self.dead_letter_queue:
            self.dead_letters.append(body)
            return f"d{len(self.dead_letters)}"
        if name != self.queue or self._mapping is None:
            raise ValueError(f"no such queue in the model: {url}")
        mapping = self._mapping
        mapping.sent += 1
        message = Message(f"s{mapping.sent}", body, mapping.scheduler.clock.now() + delay_s)
        mapping.pending.append(message)
        return message.id


@dataclass(frozen=True)
class Delivery:
    """What the queue did with a deploy's events."""

    dead_letters: int  # messages redriven, and messages the function sent to the dead-letter queue
    batches: tuple[int, ...]  # the size of each batch handed to the function, in order
    sent: int = 0  # messages the function sent itself to the queue (the deploy pipeline's ticks)


def deliver(
    events: Iterable[tuple[float, str]],
    handler: Handler,
    defaults: ModuleDefaults,
    clock: VirtualClock,
    own: OwnQueue | None = None,
    *,
    payload_limit_bytes: float = PAYLOAD_LIMIT_BYTES,
) -> Delivery:
    """Send each (arrival time, S3 notification body) to the queue and run the mapping until it is empty
    (with `own`, the function's client: what it sends the queue is handled too, until none is left).
    `payload_limit_bytes`: where a batch is cut for its payload; Lambda's 6 MB unless a bench models a
    hand-over that has no such cap (replay.py's flush view)."""
    scheduler = Scheduler(clock)
    messages = [Message(f"m{i}", body, at) for i, (at, body) in enumerate(events)]
    mapping = EventSourceMapping(
        handler, defaults, scheduler, messages, payload_limit_bytes=payload_limit_bytes
    )
    if own is not None:
        own.attach(mapping)
    for _ in range(defaults.maximum_concurrency):
        scheduler.spawn(mapping.poller)
    scheduler.run_all()
    own_dead = len(own.dead_letters) if own is not None else 0
    return Delivery(len(mapping.dead) + own_dead, tuple(mapping.batch_sizes), mapping.sent)


def batch_handler(
    config: Config, cloudfront: Any, *, quota_clock: Callable[[], float] | None = None, **keywords: Any
) -> Handler:
    """The real handler (process_batch) with its clients and settings bound; its backoff jitter is
    seeded so that a bench run is reproducible. `keywords` go to process_batch as they are.

    With `quota_clock`, the handler plans with what is in progress (process_batch's `in_progress`): each
    poller keeps its own InProgressCache on that clock, as each Lambda container keeps one (a container
    runs one invocation at a time, and a poller waits for its invocation's answer)."""
    jitter = random.Random(5).random
    caches: dict[int, InProgressCache] = {}  # poller thread -> the cache of its container

    def handle(
        event: dict[str, Any],
        remaining_ms: Callable[[], int],
        sleep: Callable[[float], None],
        postpone: Postpone,
    ) -> dict[str, list[dict[str, str]]]:
        extra = dict(keywords)
        if quota_clock is not None:
            poller = threading.get_ident()
            if poller not in caches:
                caches[poller] = InProgressCache(cloudfront, clock=quota_clock)
            extra["in_progress"] = caches[poller]
        return process_batch(
            event,
            config,
            cloudfront,
            remaining_ms,
            Collaborators(sleep=sleep, jitter=jitter, postpone=postpone, **extra),
        )

    return handle


def peak_wildcards_in_progress(invalidations: Iterable[Invalidation]) -> int:
    """The most wildcard paths in progress at once on one distribution (CloudFront's quota: 15)."""
    changes = [
        change
        for inv in invalidations
        if inv.wildcard_count
        for change in ((inv.created_at, 1, inv.wildcard_count), (inv.completes_at, 0, -inv.wildcard_count))
    ]
    peak = current = 0
    for _, _, delta in sorted(changes):  # at equal times a completion (0) comes before a creation (1)
        current += delta
        peak = max(peak, current)
    return peak
