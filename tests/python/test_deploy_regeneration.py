"""The regeneration bench's shortcut (bench/deploy_regeneration.py, plain_dynamodb_answers) answers as moto.

GIVEN moto's DynamoDB holding inbox-shaped items (a long body, numbers, a list of message ids) WHEN the
inbox's operations (BatchWriteItem, Query with and without a projection, GetItem, UpdateItem, and one
whose condition fails) are called with the shortcut on THEN boto3 returns what it returns without it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from deploy_regeneration import plain_dynamodb_answers

from support.deploy_world import create_inbox_table

TABLE = "deploys"


def inbox_calls(dynamodb: Any, table: str) -> list[Any]:
    """The inbox's calls on `table`, each answer without its request metadata (or the error's code)."""
    item = {
        "pk": {"S": "inbox#E1"},
        "body": {"S": "x" * 5000},
        "oldest": {"N": "1796577035.123"},
        "message_ids": {"L": [{"S": f"m-{n}"} for n in range(1000)]},
    }
    key = {":pk": {"S": "inbox#E1"}}
    calls: list[Callable[[], Any]] = [
        lambda: dynamodb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": item | {"sk": {"S": f"s{n}"}}}} for n in range(3)]}
        ),
        lambda: dynamodb.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=key, Limit=2
        ),
        lambda: dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=key,
            ProjectionExpression="sk, oldest",
            ConsistentRead=True,
        ),
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "state#E1"}, "sk": {"S": "state"}},
            UpdateExpression="SET accepted = :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        lambda: dynamodb.get_item(TableName=table, Key={"pk": {"S": "state#E1"}, "sk": {"S": "state"}}),
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "state#E1"}, "sk": {"S": "state"}},
            UpdateExpression="SET accepted = :one",
            ConditionExpression="attribute_not_exists(accepted)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
    ]
    return [_answer(call) for call in calls]


def _answer(call: Callable[[], Any]) -> Any:
    try:
        answer = dict(call())
    except ClientError as error:
        return error.response["Error"]["Code"]
    answer.pop("ResponseMetadata", None)
    return answer


def test_inbox_calls_get_the_same_answers_with_the_plain_rendering(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3  # noqa: PLC0415

    rendered_by_moto, rendered_plain = boto3.client("dynamodb"), boto3.client("dynamodb", "eu-west-1")
    create_inbox_table(rendered_by_moto, TABLE)
    create_inbox_table(rendered_plain, TABLE)  # the same table, in another region: the same answers
    expected = inbox_calls(rendered_by_moto, TABLE)
    with plain_dynamodb_answers():
        answers = inbox_calls(rendered_plain, TABLE)
    assert answers == expected
    assert expected[-1] == "ConditionalCheckFailedException"
    assert expected[1]["Count"] == 2 and "LastEvaluatedKey" in expected[1]
