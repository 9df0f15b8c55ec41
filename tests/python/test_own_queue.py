"""The queue model takes the function's own sends (bench/event_source_model.py's OwnQueue).

GIVEN the modelled queue and event source mapping on a virtual clock, WHEN the function sends itself a
message with DelaySeconds, THEN the mapping hands it back that many seconds later (plus the batching
window), on the virtual clock; WHEN it sends to the dead-letter queue, THEN the delivery counts those
as dead letters; and what SQS refuses (a delay past 900 s, more than 10 entries a batch) is refused.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from event_source_model import Delivery, OwnQueue, deliver

from support.cloudfront_model import VirtualClock
from support.module_defaults import module_defaults

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/site-invalidation"
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/site-invalidation-dlq"
Seen = list[tuple[float, list[str]]]


def run(
    events: Sequence[tuple[float, str]], react: Callable[[OwnQueue, str], None], window: int = 1
) -> tuple[Seen, Delivery, OwnQueue]:
    """Deliver `events` to a handler that calls `react(own, body)` per message; what it saw, and when."""
    clock = VirtualClock(0.0)
    own = OwnQueue("site-invalidation", "site-invalidation-dlq")
    seen: Seen = []

    def handler(event: Mapping[str, Any], *_: Any) -> dict[str, list[dict[str, str]]]:
        bodies = [record["body"] for record in event["Records"]]
        seen.append((clock.now(), bodies))
        for body in bodies:
            react(own, body)
        return {"batchItemFailures": []}

    defaults = dataclasses.replace(module_defaults(), batching_window_seconds=window, maximum_concurrency=1)
    return seen, deliver(events, handler, defaults, clock, own), own


def test_a_delayed_send_is_handed_over_after_its_delay_and_the_window() -> None:
    def tick_once(own: OwnQueue, body: str) -> None:
        if body == "event":
            own.send_message(QueueUrl=QUEUE_URL, MessageBody="tick", DelaySeconds=5)

    seen, delivery, _ = run([(0.0, "event")], tick_once)
    # the event's batch closes at its window's end (1 s); the tick is visible at 1 + 5, handed over at 7
    assert seen == [(1.0, ["event"]), (7.0, ["tick"])]
    assert delivery.sent == 1
    assert delivery.dead_letters == 0


def test_ticks_sending_ticks_run_until_none_is_sent() -> None:
    def countdown(own: OwnQueue, body: str) -> None:
        if int(body) > 0:
            own.send_message(QueueUrl=QUEUE_URL, MessageBody=str(int(body) - 1), DelaySeconds=2)

    seen, delivery, _ = run([(10.0, "3")], countdown, window=0)
    assert seen == [(10.0, ["3"]), (12.0, ["2"]), (14.0, ["1"]), (16.0, ["0"])]
    assert delivery.sent == 3


def test_a_delayed_send_joins_the_batch_of_events_visible_in_its_window() -> None:
    def tick_once(own: OwnQueue, body: str) -> None:
        if body == "first":
            own.send_message(QueueUrl=QUEUE_URL, MessageBody="tick", DelaySeconds=1)

    seen, _, _ = run([(0.0, "first"), (2.5, "second")], tick_once)
    # the tick is visible at 2; its batch's window runs to 3 and takes the event made visible at 2.5
    assert seen == [(1.0, ["first"]), (3.0, ["tick", "second"])]


def test_sends_to_the_dead_letter_queue_are_counted_as_dead_letters_and_not_delivered() -> None:
    def give_up(own: OwnQueue, body: str) -> None:
        entries = [{"Id": str(n), "MessageBody": f"{body}-{n}"} for n in range(3)]
        assert own.send_message_batch(QueueUrl=DLQ_URL, Entries=entries)["Failed"] == []

    seen, delivery, own = run([(0.0, "chunk")], give_up)
    assert seen == [(1.0, ["chunk"])]
    assert own.dead_letters == ["chunk-0", "chunk-1", "chunk-2"]
    assert delivery.dead_letters == 3
    assert delivery.sent == 0


@pytest.mark.parametrize("delay", [-1, 901])
def test_a_delay_sqs_refuses_is_refused(delay: int) -> None:
    own = OwnQueue("site-invalidation", "site-invalidation-dlq")
    with pytest.raises(ValueError, match="DelaySeconds"):
        own.send_message(QueueUrl=QUEUE_URL, MessageBody="tick", DelaySeconds=delay)


def test_a_batch_of_more_than_ten_entries_is_refused() -> None:
    own = OwnQueue("site-invalidation", "site-invalidation-dlq")
    entries = [{"Id": str(n), "MessageBody": "x"} for n in range(11)]
    with pytest.raises(ValueError, match="entries"):
        own.send_message_batch(QueueUrl=DLQ_URL, Entries=entries)


def test_a_send_to_an_unknown_queue_is_refused() -> None:
    own = OwnQueue("site-invalidation", "site-invalidation-dlq")
    with pytest.raises(ValueError, match="no such queue"):
        own.send_message(QueueUrl=QUEUE_URL.replace("site-invalidation", "other"), MessageBody="x")
