"""Each AWS call the handler can make -> the IAM action it needs and the resource ARN it acts on.

From the Service Authorization Reference ("Actions, resources, and condition keys for" CloudFront, Amazon
S3, Amazon SQS, Amazon DynamoDB), written here by hand and not derived from the module's policy:
- CloudFront CreateInvalidation / GetInvalidation / ListInvalidations / GetDistributionConfig: the action
  of the same name, on `arn:${Partition}:cloudfront::${Account}:distribution/${DistributionId}`;
- S3 ListObjectVersions: s3:ListBucketVersions, ListObjectsV2: s3:ListBucket, both on the bucket
  `arn:${Partition}:s3:::${BucketName}`, with the request's Prefix as the condition key s3:prefix;
  HeadObject: s3:GetObjectVersion with a VersionId, s3:GetObject without, on the object
  `arn:${Partition}:s3:::${BucketName}/${ObjectName}`;
- SQS ChangeMessageVisibility and ChangeMessageVisibilityBatch: sqs:ChangeMessageVisibility (a batch
  API is authorised as its single action), on `arn:${Partition}:sqs:${Region}:${Account}:${QueueName}`;
- SQS SendMessage and SendMessageBatch: sqs:SendMessage, on the queue;
- DynamoDB GetItem / UpdateItem / Query / BatchWriteItem: the action of the same name, on
  `arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}` (BatchWriteItem names its table
  as the key of RequestItems; the calls here write one table at a time).
A call not in the table is unmappable: the test says so instead of guessing.

Besides the handler, the Lambda service acts with the function's role (AWS Lambda Developer Guide:
"Lambda execution role" and "Using Lambda with Amazon SQS"): the SQS event source mapping polls the queue
(sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes) and the runtime writes the function's
logs (logs:CreateLogStream, logs:PutLogEvents on its log group's streams).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from support.iam_policy import Request


@dataclass(frozen=True)
class Where:
    partition: str
    region: str
    account: str


def _distribution(params: Mapping[str, Any], where: Where, key: str = "DistributionId") -> str:
    return f"arn:{where.partition}:cloudfront::{where.account}:distribution/{params[key]}"


def _bucket(params: Mapping[str, Any], where: Where) -> str:
    return f"arn:{where.partition}:s3:::{params['Bucket']}"


def _object(params: Mapping[str, Any], where: Where) -> str:
    return f"arn:{where.partition}:s3:::{params['Bucket']}/{params['Key']}"


def _queue(params: Mapping[str, Any], where: Where) -> str:
    name = urlparse(params["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]
    return f"arn:{where.partition}:sqs:{where.region}:{where.account}:{name}"


def _table(params: Mapping[str, Any], where: Where) -> str:
    name = params["TableName"] if "TableName" in params else next(iter(params["RequestItems"]))
    return f"arn:{where.partition}:dynamodb:{where.region}:{where.account}:table/{name}"


Mapper = Callable[[Mapping[str, Any], Where], tuple[str, str]]

# (service, operation) -> (params, where) -> (IAM action, resource ARN)
ACTIONS: dict[tuple[str, str], Mapper] = {
    ("cloudfront", "CreateInvalidation"): lambda p, w: ("cloudfront:CreateInvalidation", _distribution(p, w)),
    ("cloudfront", "GetInvalidation"): lambda p, w: ("cloudfront:GetInvalidation", _distribution(p, w)),
    ("cloudfront", "ListInvalidations"): lambda p, w: ("cloudfront:ListInvalidations", _distribution(p, w)),
    ("cloudfront", "GetDistributionConfig"): lambda p, w: (
        "cloudfront:GetDistributionConfig",
        _distribution(p, w, "Id"),
    ),
    ("s3", "ListObjectVersions"): lambda p, w: ("s3:ListBucketVersions", _bucket(p, w)),
    ("s3", "ListObjectsV2"): lambda p, w: ("s3:ListBucket", _bucket(p, w)),
    ("s3", "HeadObject"): lambda p, w: (
        "s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject",
        _object(p, w),
    ),
    ("sqs", "ChangeMessageVisibility"): lambda p, w: ("sqs:ChangeMessageVisibility", _queue(p, w)),
    ("sqs", "ChangeMessageVisibilityBatch"): lambda p, w: ("sqs:ChangeMessageVisibility", _queue(p, w)),
    ("sqs", "SendMessage"): lambda p, w: ("sqs:SendMessage", _queue(p, w)),
    ("sqs", "SendMessageBatch"): lambda p, w: ("sqs:SendMessage", _queue(p, w)),
    ("dynamodb", "GetItem"): lambda p, w: ("dynamodb:GetItem", _table(p, w)),
    ("dynamodb", "UpdateItem"): lambda p, w: ("dynamodb:UpdateItem", _table(p, w)),
    ("dynamodb", "Query"): lambda p, w: ("dynamodb:Query", _table(p, w)),
    ("dynamodb", "BatchWriteItem"): lambda p, w: ("dynamodb:BatchWriteItem", _table(p, w)),
}


class UnmappedCallError(KeyError):
    """A call the table does not know: add its action and resource (Service Authorization Reference)."""


def request_for(call: Mapping[str, Any], where: Where) -> Request:
    """The IAM request a recorded call ({"service", "operation", "params"}) makes."""
    mapper = ACTIONS.get((call["service"], call["operation"]))
    if mapper is None:
        raise UnmappedCallError(f"{call['service']} {call['operation']}")
    action, resource = mapper(call["params"], where)
    return Request(action, resource, _context(call))


def _context(call: Mapping[str, Any]) -> dict[str, str]:
    """The condition keys a call sets that the module's policy may test: a listing's `s3:prefix` (Service
    Authorization Reference, Amazon S3: ListBucket and ListBucketVersions take s3:prefix, the request's
    Prefix; absent when the request has none)."""
    listing = call["service"] == "s3" and call["operation"] in ("ListObjectVersions", "ListObjectsV2")
    prefix = call["params"].get("Prefix")
    return {"s3:prefix": prefix} if listing and prefix is not None else {}


def service_requests(queue_arn: str, log_group_name: str, where: Where) -> list[Request]:
    """What the Lambda service does with the role: poll and settle the queue, write the logs."""
    stream = (
        f"arn:{where.partition}:logs:{where.region}:{where.account}:log-group:{log_group_name}"
        ":log-stream:2026/12/06/[$LATEST]0123456789abcdef"
    )
    return [
        Request("sqs:ReceiveMessage", queue_arn),
        Request("sqs:DeleteMessage", queue_arn),
        Request("sqs:GetQueueAttributes", queue_arn),
        Request("logs:CreateLogStream", stream),
        Request("logs:PutLogEvents", stream),
    ]
