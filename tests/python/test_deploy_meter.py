"""The deploy bench's meter (bench/deploy_meter.py) counts what AWS's pricing pages count.

GIVEN DynamoDB calls with their answers, SQS calls, invocation durations and request counts WHEN the
meter counts and prices them THEN the units and dollars are the ones worked out here by hand from AWS's
documented rules (sizes in bytes, 1 KB writes, 4 KB reads, 64 KB SQS payloads, millisecond billing).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from deploy_meter import (
    DeployRequests,
    DynamoDBMeter,
    Stopwatch,
    billed_ms,
    cpu_factor,
    item_size,
    priced,
    sqs_requests,
)

TABLE = "deploys"


def chunk(sk: str, body_bytes: int) -> dict[str, dict[str, str]]:
    # pk: 2 + 11 ("inbox#E1234"), sk: 2 + len(sk), body: 4 + body_bytes
    return {"pk": {"S": "inbox#E1234"}, "sk": {"S": sk}, "body": {"S": "x" * body_bytes}}


def put(item: dict[str, dict[str, str]]) -> dict[str, object]:
    return {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}}]}}


def test_item_size_counts_names_and_values_as_aws_documents() -> None:
    item: dict[str, dict[str, Any]] = {
        "pk": {"S": "ab"},
        "n": {"N": "12345"},
        "b": {"B": b"xyz"},
        "ok": {"BOOL": True},
    }
    # pk 2+2, n 1+(3+1), b 1+3, ok 2+1
    assert item_size(item) == 4 + 5 + 4 + 3
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_write_of_a_chunk_costs_one_unit_per_started_kilobyte_and_its_delete_the_same() -> None:
    meter = DynamoDBMeter()
    item = chunk("s1", 2048 - 4 - 13 - 4 + 1)  # 2,049 bytes: 3 units
    meter("batch_write_item", put(item), {})
    assert meter.write == 3
    delete = {"RequestItems": {TABLE: [{"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}}]}}
    meter("batch_write_item", delete, {})
    assert meter.write == 6


def test_projected_query_is_charged_for_the_whole_items_it_read() -> None:
    meter = DynamoDBMeter()
    for sk in ("s1", "s2"):
        meter("batch_write_item", put(chunk(sk, 3000)), {})
    projected = [{"pk": {"S": "inbox#E1234"}, "sk": {"S": sk}} for sk in ("s1", "s2")]
    meter("query", {"ConsistentRead": True}, {"Items": projected})
    assert meter.read == 2.0  # 2 x 3,021 bytes = 6,042 bytes: 2 units of 4 KB, not 2 x 1
    meter("query", {"ConsistentRead": False}, {"Items": []})
    assert meter.read == 2.5  # an empty eventually consistent page: half a unit


def test_failed_conditional_update_costs_one_write_unit_and_a_read_of_a_missing_item_one_read_unit() -> None:
    meter = DynamoDBMeter()
    failed = ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem")
    meter("update_item", {}, failed)
    meter("get_item", {"ConsistentRead": True}, {})
    assert (meter.write, meter.read) == (1, 1.0)


def test_sqs_request_is_billed_per_started_64_kb_of_payload() -> None:
    assert sqs_requests("send_message", {"MessageBody": "x" * 65536}) == 1
    assert sqs_requests("send_message", {"MessageBody": "x" * 65537}) == 2
    entries = [{"MessageBody": "x" * 40000} for _ in range(4)]
    assert sqs_requests("send_message_batch", {"Entries": entries}) == 3


def test_durations_are_billed_per_started_millisecond() -> None:
    assert billed_ms([0.0001, 0.0012, 1.0]) == 1 + 2 + 1000


def test_deploy_priced_at_list_prices() -> None:
    requests = DeployRequests(
        s3_events=400,
        event_source=90,
        pipeline_sqs=10,
        invocations=10,
        billed_ms=8000,
        memory_mb=128,
        write_units=200,
        read_units=40.0,
        s3_lists=10,
        s3_gets=0,
    )
    dollars = priced(requests)
    assert dollars["SQS"] == Decimal("0.0002")  # 500 x 0.40 / 1e6
    assert dollars["Lambda requests"] == Decimal("0.000002")
    assert dollars["Lambda duration"] == Decimal("1") * Decimal("0.0000133334")  # 8 s x 0.125 GB
    assert dollars["DynamoDB writes"] == Decimal("0.000125")
    assert dollars["DynamoDB reads"] == Decimal("0.000005")
    assert dollars["S3 lists"] == Decimal("0.00005")


def test_lambda_of_128_mb_runs_the_handler_at_a_fourteenth_of_a_core() -> None:
    assert cpu_factor(128) == pytest.approx(1769 / 128)
    assert cpu_factor(3008) == 1.0  # one thread never runs faster than one core


def test_stopwatch_charges_the_calls_latency_and_nothing_outside_an_invocation() -> None:
    elapsed: list[float] = []
    stopwatch = Stopwatch(elapsed.append, factor=0.0)
    assert stopwatch.call("s3", 0.02, lambda: "answer", {}) == "answer"
    assert sum(elapsed) == 0.0
    stopwatch.begin()
    stopwatch.call("s3", 0.02, lambda: None, {})
    stopwatch.call("sqs", 0.01, lambda: None, {})
    stopwatch.end()
    assert sum(elapsed) == pytest.approx(0.03)
    assert dict(stopwatch.calls) == {"s3": 1, "sqs": 1}
