"""The IAM evaluator and the call -> action table the role sufficiency test relies on, against cases
written from AWS's documented rules (policy evaluation logic; Service Authorization Reference)."""

from __future__ import annotations

from typing import Any

import pytest

from support.iam_actions import UnmappedCallError, Where, request_for
from support.iam_policy import Decision, Request, UnsupportedPolicyError, evaluate, granted, granting

BUCKET_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::site/*"},
        {
            "Sid": "List",
            "Effect": "Allow",
            "Action": ["s3:ListBucketVersions"],
            "Resource": "arn:aws:s3:::site",
        },
    ],
}
DENY_SECRET = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::site/secret/*"},
}


@pytest.mark.parametrize(
    ("policies", "request_", "expected"),
    [
        ([BUCKET_READ], Request("s3:GetObjectVersion", "arn:aws:s3:::site/a.html"), Decision.ALLOWED),
        ([BUCKET_READ], Request("S3:getobjectversion", "arn:aws:s3:::site/a.html"), Decision.ALLOWED),
        ([BUCKET_READ], Request("s3:GetObjectVersion", "arn:aws:s3:::other/a.html"), Decision.IMPLICIT_DENY),
        ([BUCKET_READ], Request("s3:GetObjectVersion", "arn:aws:s3:::SITE/a.html"), Decision.IMPLICIT_DENY),
        ([BUCKET_READ], Request("s3:ListBucket", "arn:aws:s3:::site"), Decision.IMPLICIT_DENY),
        ([BUCKET_READ], Request("s3:ListBucketVersions", "arn:aws:s3:::site/x"), Decision.IMPLICIT_DENY),
        (
            [BUCKET_READ, DENY_SECRET],
            Request("s3:GetObject", "arn:aws:s3:::site/secret/k"),
            Decision.EXPLICIT_DENY,
        ),
        ([BUCKET_READ, DENY_SECRET], Request("s3:GetObject", "arn:aws:s3:::site/public/k"), Decision.ALLOWED),
        ([], Request("s3:GetObject", "arn:aws:s3:::site/a"), Decision.IMPLICIT_DENY),
    ],
)
def test_explicit_deny_beats_allow_beats_implicit_deny(
    policies: list[dict[str, Any]], request_: Request, expected: Decision
) -> None:
    assert evaluate(policies, request_) is expected


def test_a_boundary_must_allow_too_and_its_deny_wins() -> None:
    boundary = {"Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
    listing = Request("s3:ListBucketVersions", "arn:aws:s3:::site")
    reading = Request("s3:GetObjectVersion", "arn:aws:s3:::site/a")

    assert evaluate([BUCKET_READ], listing, boundary) is Decision.ALLOWED
    assert evaluate([BUCKET_READ], reading, boundary) is Decision.BOUNDARY_DENY
    assert evaluate([BUCKET_READ], reading, DENY_SECRET) is Decision.BOUNDARY_DENY
    assert evaluate([BUCKET_READ], Request("s3:GetObject", "arn:aws:s3:::site/secret/a"), DENY_SECRET) is (
        Decision.EXPLICIT_DENY
    )


def test_not_action_and_not_resource_match_everything_else() -> None:
    policy = {
        "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::private*"}]
    }

    assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::site/a")) is Decision.ALLOWED
    assert evaluate([policy], Request("iam:PassRole", "arn:aws:iam::1:role/r")) is Decision.IMPLICIT_DENY
    assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::private/a")) is Decision.IMPLICIT_DENY


def test_conditions_hold_only_with_the_key_and_a_listed_value() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "kms:Encrypt",
                "Resource": "arn:aws:kms:eu-west-1:1:key/k",
                "Condition": {"StringEquals": {"kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"]}},
            }
        ]
    }
    key = "arn:aws:kms:eu-west-1:1:key/k"

    assert evaluate(
        [policy], Request("kms:Encrypt", key, {"kms:viaservice": "dynamodb.eu-west-1.amazonaws.com"})
    ) is (Decision.ALLOWED)
    assert evaluate(
        [policy], Request("kms:Encrypt", key, {"kms:ViaService": "s3.eu-west-1.amazonaws.com"})
    ) is (Decision.IMPLICIT_DENY)
    assert evaluate([policy], Request("kms:Encrypt", key)) is Decision.IMPLICIT_DENY


def test_an_operator_it_cannot_judge_fails_loudly() -> None:
    policy = {
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {}}}]
    }
    policy["Statement"][0]["Condition"] = {"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}

    with pytest.raises(UnsupportedPolicyError, match="DateLessThan"):
        evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::a/b", {"aws:CurrentTime": "x"}))


def test_granted_and_granting_name_statement_and_action() -> None:
    assert granted([BUCKET_READ]) == {("Read", "s3:Get*"), ("List", "s3:ListBucketVersions")}
    assert granting([BUCKET_READ], Request("s3:GetObjectVersion", "arn:aws:s3:::site/a")) == {
        ("Read", "s3:Get*")
    }
    assert granting([BUCKET_READ], Request("s3:GetObjectVersion", "arn:aws:s3:::x/a")) == set()


WHERE = Where("aws", "us-east-1", "123456789012")


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "cloudfront",
            "CreateInvalidation",
            {"DistributionId": "EABC", "InvalidationBatch": {}},
            ("cloudfront:CreateInvalidation", "arn:aws:cloudfront::123456789012:distribution/EABC"),
        ),
        (
            "cloudfront",
            "GetInvalidation",
            {"DistributionId": "EABC", "Id": "I1"},
            ("cloudfront:GetInvalidation", "arn:aws:cloudfront::123456789012:distribution/EABC"),
        ),
        (
            "cloudfront",
            "ListInvalidations",
            {"DistributionId": "EABC", "MaxItems": "100"},
            ("cloudfront:ListInvalidations", "arn:aws:cloudfront::123456789012:distribution/EABC"),
        ),
        (
            "cloudfront",
            "GetDistributionConfig",
            {"Id": "EABC"},
            ("cloudfront:GetDistributionConfig", "arn:aws:cloudfront::123456789012:distribution/EABC"),
        ),
        (
            "s3",
            "ListObjectVersions",
            {"Bucket": "site", "Prefix": "a/"},
            ("s3:ListBucketVersions", "arn:aws:s3:::site"),
        ),
        ("s3", "ListObjectsV2", {"Bucket": "site"}, ("s3:ListBucket", "arn:aws:s3:::site")),
        (
            "s3",
            "HeadObject",
            {"Bucket": "site", "Key": "a/b.html", "VersionId": "v1"},
            ("s3:GetObjectVersion", "arn:aws:s3:::site/a/b.html"),
        ),
        (
            "s3",
            "HeadObject",
            {"Bucket": "site", "Key": "a.html"},
            ("s3:GetObject", "arn:aws:s3:::site/a.html"),
        ),
        (
            "sqs",
            "ChangeMessageVisibilityBatch",
            {"QueueUrl": "http://127.0.0.1:5000/123456789012/site-q", "Entries": []},
            ("sqs:ChangeMessageVisibility", "arn:aws:sqs:us-east-1:123456789012:site-q"),
        ),
        (
            "dynamodb",
            "UpdateItem",
            {"TableName": "site-spend-guard", "Key": {}},
            ("dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/site-spend-guard"),
        ),
        (
            "dynamodb",
            "GetItem",
            {"TableName": "t1", "Key": {}},
            ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t1"),
        ),
    ],
)
def test_each_call_maps_to_its_action_and_resource(
    service: str, operation: str, params: dict[str, Any], expected: tuple[str, str]
) -> None:
    request = request_for({"service": service, "operation": operation, "params": params}, WHERE)
    assert (request.action, request.resource) == expected


def test_a_call_missing_from_the_table_is_unmapped() -> None:
    with pytest.raises(UnmappedCallError, match="s3 GetObjectTagging"):
        request_for({"service": "s3", "operation": "GetObjectTagging", "params": {}}, WHERE)


def test_a_listing_carries_its_prefix_as_the_s3_prefix_condition_key() -> None:
    listing = {
        "service": "s3",
        "operation": "ListObjectVersions",
        "params": {"Bucket": "site", "Prefix": "a/"},
    }
    whole = {"service": "s3", "operation": "ListObjectsV2", "params": {"Bucket": "site"}}
    head = {
        "service": "s3",
        "operation": "HeadObject",
        "params": {"Bucket": "site", "Key": "a/b", "Prefix": "x"},
    }

    assert request_for(listing, WHERE).context == {"s3:prefix": "a/"}
    assert request_for(whole, WHERE).context == {}  # no Prefix: the key is absent, a prefix condition fails
    assert request_for(head, WHERE).context == {}
