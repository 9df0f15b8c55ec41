"""The cover replay hands each deploy to the handler as a flush does (bench/replay.py's flush_delivery).

GIVEN a deploy of more notifications than `batch_size` and more payload than Lambda's 6 MB, all visible
at once, WHEN the replay delivers it, THEN the handler gets every notification in ONE batch (the deploy
inbox's flush hands all of a distribution's waiting changes to process_batch at once), where the
queue model at the module's defaults cuts the same deploy into several batches; and a record the
handler reports as failed is handed over again, not dropped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from event_source_model import Delivery, Handler, deliver, notification_body
from replay import flush_delivery

from support.cloudfront_model import VirtualClock
from support.module_defaults import module_defaults
from support.sqs_events import sqs_record

SIX_MB = 6 * 1024 * 1024


def deploy(count: int) -> list[tuple[float, str]]:
    """`count` notifications with long keys, all visible at virtual time 10 (the upload's end)."""
    return [(10.0, notification_body(f"docs/{'x' * 1500}/{i:05}.html", "site")) for i in range(count)]


def recording_handler(seen: list[list[str]], fail_once: frozenset[str] = frozenset()) -> Handler:
    """Records each batch's bodies; reports the records whose body is in `fail_once` as failed once."""
    failed: set[str] = set()

    def handle(event: Mapping[str, Any], *_: Any) -> dict[str, list[dict[str, str]]]:
        seen.append([record["body"] for record in event["Records"]])
        failures = []
        for record in event["Records"]:
            if record["body"] in fail_once and record["body"] not in failed:
                failed.add(record["body"])
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handle


def test_a_deploy_past_batch_size_and_6_mb_is_handed_over_as_one_batch() -> None:
    events = deploy(2_500)
    defaults = module_defaults()
    payload = sum(len(json.dumps(sqs_record(body, f"m{i}"))) for i, (_, body) in enumerate(events))
    assert len(events) > defaults.batch_size and payload > SIX_MB  # the premise: Lambda would cut it
    seen: list[list[str]] = []

    delivery = flush_delivery(events, recording_handler(seen), defaults, VirtualClock(0.0))

    assert seen == [[body for _, body in events]]
    assert delivery == Delivery(dead_letters=0, batches=(len(events),))


def test_the_queue_at_the_module_defaults_cuts_the_same_deploy() -> None:
    events = deploy(2_500)
    seen: list[list[str]] = []

    deliver(events, recording_handler(seen), module_defaults(), VirtualClock(0.0))

    assert len(seen) > 1
    assert sorted(body for batch in seen for body in batch) == sorted(body for _, body in events)


def test_a_record_reported_failed_is_handed_over_again() -> None:
    events = deploy(3)
    retried = events[1][1]
    seen: list[list[str]] = []

    delivery = flush_delivery(
        events, recording_handler(seen, frozenset({retried})), module_defaults(), VirtualClock(0.0)
    )

    assert seen[0] == [body for _, body in events]
    assert seen[1:] == [[retried]]
    assert delivery.dead_letters == 0
