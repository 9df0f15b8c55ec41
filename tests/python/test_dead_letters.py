"""Changes the flush cannot invalidate reach the dead-letter queue, however large their chunks."""

from __future__ import annotations

import json
from typing import Any

import boto3

from cf_invalidator.aws.timer import DeadLetters
from cf_invalidator.core.accept import CHUNK_BYTES

# SQS: the sum of a SendMessageBatch's messages at most 256 KiB (SendMessageBatch reference; a queue
# may allow up to 1 MiB since 2025, moto enforces that); written here from the rule, not read from the
# code under test.
SQS_BATCH_PAYLOAD_BYTES = 262_144


def test_chunks_of_the_largest_size_all_reach_the_dead_letter_queue(mocked_aws: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="site-invalidation-dlq")["QueueUrl"]
    payloads: list[int] = []
    send_batch = sqs.send_message_batch

    def measured(**kwargs: Any) -> Any:
        payloads.append(sum(len(e["MessageBody"].encode()) for e in kwargs["Entries"]))
        return send_batch(**kwargs)

    sqs.send_message_batch = measured
    # six chunks near the largest an inbox item holds: any two together are past 256 KiB, all six past
    # the 1 MiB moto allows
    bodies = [json.dumps({"Records": [], "pad": str(n) * (CHUNK_BYTES - 40)}) for n in range(6)]
    assert 2 * min(len(b) for b in bodies) > SQS_BATCH_PAYLOAD_BYTES
    DeadLetters(sqs, url).send(bodies)
    assert payloads and max(payloads) <= SQS_BATCH_PAYLOAD_BYTES
    received: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            received.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(received) == sorted(bodies)


def test_many_small_chunks_are_sent_ten_to_a_request(mocked_aws: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="site-invalidation-dlq")["QueueUrl"]
    calls: list[int] = []
    send_batch = sqs.send_message_batch

    def counted(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        return send_batch(**kwargs)

    sqs.send_message_batch = counted
    DeadLetters(sqs, url).send([json.dumps({"Records": [], "n": n}) for n in range(25)])
    assert calls == [10, 10, 5]
