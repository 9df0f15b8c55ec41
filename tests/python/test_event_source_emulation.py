"""The SQS event source emulation behaves as Lambda's mapping does (in-process moto, no Terraform)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from support.event_source import BatchOutcome, SqsEventSource, failed_message_ids
from support.lambda_runtime import (
    DeployedCodeMismatchError,
    DeployedFunction,
    InvocationError,
    base64_sha256,
    link_runtime_libraries,
)
from support.moto_server import ACCOUNT_ID, REGION


@pytest.fixture
def queues(mocked_aws: None) -> tuple[Any, str, str]:
    """An SQS client, a queue redriving to a DLQ after 3 receives, and the DLQ's URL."""
    sqs = boto3.client("sqs")
    dead_letter = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dead_letter_arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
    queue = sqs.create_queue(QueueName="events", Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    return sqs, queue, dead_letter


def send(sqs: Any, queue: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)


def test_records_carry_the_lambda_sqs_event_fields(queues: tuple[Any, str, str]) -> None:
    sqs, queue, _ = queues
    send(sqs, queue, "one")
    events: list[dict[str, Any]] = []
    SqsEventSource(sqs, queue, events.append).drain()
    [record] = events[0]["Records"]
    assert record["body"] == "one"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":events")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "messageAttributes"} <= set(record)


def test_batches_hold_at_most_batch_size_messages_and_successes_are_deleted(
    queues: tuple[Any, str, str],
) -> None:
    sqs, queue, _ = queues
    send(sqs, queue, *[f"m{n}" for n in range(25)])
    outcomes = SqsEventSource(
        sqs, queue, lambda event: {"batchItemFailures": []}, batch_size=12, batching_window_seconds=5
    ).drain()
    assert [len(o.message_ids) for o in outcomes] == [12, 12, 1]
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []


def test_reported_failures_are_retried_until_the_dead_letter_queue_takes_them(
    queues: tuple[Any, str, str],
) -> None:
    sqs, queue, dead_letter = queues
    send(sqs, queue, "good", "bad")

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in bad]}

    outcomes = SqsEventSource(sqs, queue, handler).drain()
    assert [len(o.message_ids) for o in outcomes] == [2, 1, 1]  # maxReceiveCount 3
    dead = sqs.receive_message(QueueUrl=dead_letter, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["bad"]


class PostponingHandler:
    """Fails every message on its first receive, postponing those whose body says so for 120 s (as the
    deployed function does for a held batch), and keeps a log and the SQS calls of each invocation the
    way lambda_runtime.DeployedFunction does."""

    def __init__(self, sqs: Any, queue: str) -> None:
        self.sqs, self.queue = sqs, queue
        self.logs: list[str] = []
        self.invocation_calls: list[list[dict[str, Any]]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        first = [r for r in event["Records"] if r["attributes"]["ApproximateReceiveCount"] == "1"]
        calls = []
        for record in first:
            if record["body"].startswith("postpone"):
                params = {
                    "QueueUrl": self.queue,
                    "ReceiptHandle": record["receiptHandle"],
                    "VisibilityTimeout": 120,
                }
                self.sqs.change_message_visibility(**params)
                calls.append({"service": "sqs", "operation": "ChangeMessageVisibility", "params": params})
        self.logs.append(f"saw {sorted(r['body'] for r in event['Records'])}")
        self.invocation_calls.append(calls)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in first]}


def test_messages_the_handler_postponed_come_back_at_once_and_are_told_from_unexplained_failures(
    queues: tuple[Any, str, str],
) -> None:
    sqs, queue, dead_letter = queues
    send(sqs, queue, "postpone-1", "postpone-2", "fail")
    source = SqsEventSource(sqs, queue, PostponingHandler(sqs, queue))
    # WHEN the queue is drained: the postponement (120 s) is fast-forwarded, not waited for
    first, second = source.drain()
    # THEN the first invocation failed all three, two of them postponed on purpose, and kept its log
    by_body = {m: b for m, b in zip(first.message_ids, ["postpone-1", "postpone-2", "fail"], strict=True)}
    assert len(first.failed_ids) == 3
    assert sorted(by_body[m] for m in first.postponed_ids) == ["postpone-1", "postpone-2"]
    assert first.unexplained  # "fail" was not postponed
    assert first.log == "saw ['fail', 'postpone-1', 'postpone-2']"
    # AND the second took all three back and succeeded; nothing is left, nothing dead-lettered
    assert (len(second.message_ids), second.failed_ids, second.unexplained) == (3, set(), False)
    assert source.messages_left() == 0
    assert sqs.receive_message(QueueUrl=dead_letter).get("Messages", []) == []


def test_a_failure_every_message_of_which_was_postponed_is_explained() -> None:
    outcome = BatchOutcome(message_ids=["a", "b"], failed_ids={"a"}, postponed_ids={"a"})
    assert not outcome.unexplained
    assert BatchOutcome(message_ids=["a"], failed_ids={"a"}, postponed_ids={"a"}, error="boom").unexplained


def test_an_exception_fails_the_whole_batch(queues: tuple[Any, str, str]) -> None:
    sqs, queue, _ = queues
    send(sqs, queue, "a", "b")

    def handler(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    outcome = SqsEventSource(sqs, queue, handler).poll()
    assert outcome is not None
    assert outcome.failed_ids == set(outcome.message_ids)
    assert outcome.error == "RuntimeError: boom"


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        "ok",
    ],
)
def test_an_invalid_response_fails_the_whole_batch(response: Any) -> None:
    failed, error = failed_message_ids(response, ["m1", "m2"])
    assert failed == {"m1", "m2"}
    assert error is not None


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_response_is_full_success(response: Any) -> None:
    assert failed_message_ids(response, ["m1"]) == (set(), None)


def test_a_function_whose_code_is_not_the_committed_zip_is_refused(tmp_path: Path) -> None:
    committed = tmp_path / "committed.zip"
    committed.write_bytes(b"committed bytes")

    class Lambda:
        def get_function(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 (boto3's argument name)
            return {"Configuration": {"CodeSha256": base64_sha256(tmp_path / "other.zip")}}

    (tmp_path / "other.zip").write_bytes(b"other bytes")
    with pytest.raises(DeployedCodeMismatchError, match="CodeSha256"):
        DeployedFunction.from_moto(Lambda(), "f", committed, tmp_path / "work", "http://127.0.0.1:1")


def emulated_function(
    tmp_path: Path, name: str, handler: str, timeout: int, **environment: str
) -> DeployedFunction:
    """A function whose code is already in tmp_path/task, run by the emulated runtime."""
    return DeployedFunction(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
        handler=handler,
        timeout=timeout,
        memory_size=128,
        environment=environment,
        task_root=tmp_path / "task",
        runtime_root=link_runtime_libraries(tmp_path / "runtime"),
        endpoint_url="http://127.0.0.1:1",
    )


def test_emulated_runtime_imports_only_the_zip_boto3_and_the_standard_library(tmp_path: Path) -> None:
    # GIVEN a function whose handler reports which modules it can import, and its timeout
    task = tmp_path / "task"
    (task / "probe").mkdir(parents=True)
    (task / "probe" / "__init__.py").write_text("")
    (task / "probe" / "main.py").write_text(
        "import importlib.util, os\n"
        "def handler(event, context):\n"
        "    names = ['boto3', 'json', 'moto', 'pytest', 'cf_invalidator']\n"
        "    return {'importable': [n for n in names if importlib.util.find_spec(n)],\n"
        "            'remaining_ms': context.get_remaining_time_in_millis(),\n"
        "            'endpoint': os.environ['AWS_ENDPOINT_URL'], 'setting': os.environ['SETTING'],\n"
        "            'event': event}\n"
    )
    function = emulated_function(tmp_path, "probe", "probe.main.handler", 7, SETTING="from the function")
    # WHEN it is invoked
    response = function({"Records": []})
    # THEN neither the test environment nor the repository's sources are importable
    assert response["importable"] == ["boto3", "json"]
    assert 0 < response["remaining_ms"] <= 7000
    assert (response["endpoint"], response["setting"], response["event"]) == (
        "http://127.0.0.1:1",
        "from the function",
        {"Records": []},
    )


def test_an_exception_in_the_deployed_handler_is_an_invocation_error(tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir()
    (task / "failing.py").write_text("def handler(event, context):\n    raise ValueError('bad setting')\n")
    function = emulated_function(tmp_path, "failing", "failing.handler", 3)
    with pytest.raises(InvocationError, match="ValueError: bad setting"):
        function({})


def test_drain_waits_for_a_message_the_handler_sent_itself_with_a_delay(
    queues: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush tick (a delayed message the function sends to its own queue) is handled by the same
    drain; the wait passes on a clock that moto's SQS and the drain share, not in real time."""
    import moto.sqs.models  # noqa: PLC0415

    from support import event_source  # noqa: PLC0415

    now = [time.time()]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return now[0]

        @staticmethod
        def sleep(seconds: float) -> None:
            now[0] += seconds

    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *_: now[0] * 1000)
    monkeypatch.setattr(event_source, "time", Clock)
    sqs, queue, _ = queues
    send(sqs, queue, "upload")
    bodies: list[str] = []

    def handler(event: dict[str, Any]) -> dict[str, list[Any]]:
        for record in event["Records"]:
            bodies.append(record["body"])
            if record["body"] == "upload":
                sqs.send_message(QueueUrl=queue, MessageBody="tick", DelaySeconds=5)
        return {"batchItemFailures": []}

    SqsEventSource(sqs, queue, handler).drain()
    assert bodies == ["upload", "tick"]
