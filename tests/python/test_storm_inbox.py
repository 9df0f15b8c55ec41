"""The storm bench's deploy inbox (bench/storm.py): moto's DynamoDB with the item answers dumped as JSON.

GIVEN the inbox's item operations (BatchWriteItem, UpdateItem with a condition and ALL_NEW, GetItem,
Query with and without a projection, a refused condition) WHEN they run inside `plain_item_answers`
THEN boto3 parses from them what it parses from moto's own serializer, the oracle, on the same table.
GIVEN a small storm WHEN the module's side runs THEN the deploy pipeline plans it in one flush: one call
per distribution, every change covered.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import storm
from deploy_replay import module_waits

from support.deploy_world import create_inbox_table
from support.module_defaults import module_defaults
from support.moto_server import FAKE_AWS_ENVIRONMENT, REGION

TABLE = "storm-inbox"


def chunk(sk: str, ids: int) -> dict[str, Any]:
    return {
        "pk": {"S": "inbox#E1"},
        "sk": {"S": sk},
        "body": {"S": '{"Records": []}'},
        "oldest": {"N": "1.5"},
        "message_ids": {"L": [{"S": f"m{i}"} for i in range(ids)]},
    }


def inbox_answers(client: Any) -> list[Any]:
    """The inbox's operations on a fresh table; each answer without its request metadata."""
    state_key = {"pk": {"S": "state#E1"}, "sk": {"S": "state"}}
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": state_key,
        "UpdateExpression": "SET last_write = :w, accepted = if_not_exists(accepted, :zero) + :one",
        "ConditionExpression": "attribute_not_exists(last_write) OR last_write < :w",
        "ExpressionAttributeValues": {":w": {"N": "2.25"}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
    }
    calls: list[Callable[[], Any]] = [
        lambda: client.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": chunk(f"c{n}", 50)}} for n in range(3)]}
        ),
        lambda: client.update_item(**update),
        lambda: client.update_item(**update),  # refused: last_write is not older
        lambda: client.get_item(TableName=TABLE, Key=state_key, ConsistentRead=True),
        lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "inbox#E1"}},
            ConsistentRead=True,
        ),
        lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "inbox#E1"}},
            ProjectionExpression="sk, oldest",
        ),
    ]
    answers = []
    for call in calls:
        try:
            answer = call()
        except ClientError as error:
            answer = error.response["Error"]
        answers.append({k: v for k, v in answer.items() if k != "ResponseMetadata"})
    return answers


def answers_with(patch: AbstractContextManager[Any]) -> list[Any]:
    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws(), patch:
        client = boto3.client("dynamodb", region_name=REGION)
        create_inbox_table(client, TABLE)
        return inbox_answers(client)


def test_plain_item_answers_parse_as_moto_serializer_answers() -> None:
    expected = answers_with(nullcontext())

    assert answers_with(storm.plain_item_answers()) == expected
    assert expected[2]["Code"] == "ConditionalCheckFailedException"  # the refusal was exercised
    assert len(expected[4]["Items"]) == 3


@pytest.mark.parametrize("count", [1, 3])
def test_small_storm_is_one_flush_one_call_per_distribution(count: int) -> None:
    tree = storm.site_tree()
    events = storm.deploy(tree, 10)
    defaults = module_defaults()
    config = storm.deploys_config(count, defaults, module_waits())

    result = storm.measure("documented quotas", "module", events, config, tree, defaults=defaults)

    assert (result.calls, result.invalidations) == (count, count)
    assert (result.lost, result.stale, result.dead_letters) == (0, 0, 0)
    assert result.last_invalidation_s >= events[-1][0] + module_waits().quiet_seconds
