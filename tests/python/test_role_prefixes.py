"""GIVEN distributions whose origin paths are all known, and the role's policy narrowed to the prefixes
they serve (tests/golden/*origin_path*.json, the documents terraform test plans for them) WHEN the handler
detects changes and lists the trees of a batch (in-process moto) THEN every S3 call it makes is allowed,
a listing's Prefix judged as s3:prefix (support/iam_actions.py), and a call outside those prefixes is not.

The e2e role test (test_e2e_role_sufficiency.py) judges deployments that serve the bucket's root, where
the policy keeps the whole bucket; this one judges the narrowed documents against the calls themselves."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from cf_invalidator.config import Config, Distribution
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.cloudfront_model import CloudFrontModel
from support.iam_actions import Where, request_for
from support.iam_policy import Decision, evaluate
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import BUCKET, install_clock, put, versioned_bucket

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
WHERE = Where("aws", "eu-west-1", "123456789012")
DOCS = Distribution("docs", "E1DOCSEXAMPLE1", "/docs")
PREVIEW = Distribution("preview", "E2QWRUHAPOMQZL", "/preview")
SITE = Distribution("www", "E2QWRUHAPOMQZL", "/site")
OPERATIONS = {
    "list_object_versions": "ListObjectVersions",
    "list_objects_v2": "ListObjectsV2",
    "head_object": "HeadObject",
}


class RecordingS3:
    """The S3 client, recording each call as the role test's table reads it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**params: Any) -> Mapping[str, Any]:
            self.calls.append({"service": "s3", "operation": OPERATIONS[name], "params": params})
            result: Mapping[str, Any] = getattr(self.client, name)(**params)
            return result

        return call


def denied_calls(policy_file: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    policy = json.loads((GOLDEN / policy_file).read_text())
    return [call for call in calls if evaluate([policy], request_for(call, WHERE)) is not Decision.ALLOWED]


def run_batch(distributions: tuple[Distribution, ...], keys: list[str], *, detect: bool) -> RecordingS3:
    """Each key written twice with the same bytes (so detection compares their headers), then its batch."""
    client = boto3.client("s3")
    versioned_bucket(client)
    versions = {key: [put(client, key), put(client, key)][-1] for key in keys}
    recording = RecordingS3(client)
    config = Config(
        distributions=distributions, max_paths=100, skip_unchanged_objects=detect, bucket_name=BUCKET
    )
    event = sqs_event([s3_body(key, version_id=versions[key]) for key in keys])
    model = CloudFrontModel(sorted({d.id for d in distributions}))
    process_batch(event, config, model, lambda: 60_000, Collaborators(s3=recording))
    return recording


def test_detection_and_tree_calls_under_known_origin_paths_are_allowed_by_the_narrowed_policy(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_clock(monkeypatch)
    keys = ["docs/a.html", "docs/b/c.html", "docs/b/d.html", "preview/x.html", "preview/y/z.html"]

    recording = run_batch((DOCS, PREVIEW), keys, detect=True)

    assert {call["operation"] for call in recording.calls} == {"ListObjectVersions", "HeadObject"}
    assert denied_calls("lambda_policy_origin_paths.json", recording.calls) == []


def test_tree_listing_under_an_origin_path_is_allowed_by_the_narrowed_policy(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_clock(monkeypatch)

    recording = run_batch((SITE,), ["site/a.html", "site/b/c.html"], detect=False)

    assert {call["operation"] for call in recording.calls} == {"ListObjectsV2"}
    assert denied_calls("lambda_policy_origin_path_without_change_detection.json", recording.calls) == []


@pytest.mark.parametrize(
    ("policy_file", "call"),
    [
        ("lambda_policy_origin_paths.json", ("ListObjectVersions", {"Bucket": BUCKET, "Prefix": "other/"})),
        ("lambda_policy_origin_paths.json", ("ListObjectVersions", {"Bucket": BUCKET})),
        (
            "lambda_policy_origin_paths.json",
            ("HeadObject", {"Bucket": BUCKET, "Key": "a.html", "VersionId": "v"}),
        ),
        ("lambda_policy_origin_path_without_change_detection.json", ("ListObjectsV2", {"Bucket": BUCKET})),
    ],
)
def test_a_call_outside_the_served_prefixes_is_denied(
    policy_file: str, call: tuple[str, dict[str, Any]]
) -> None:
    operation, params = call
    assert denied_calls(policy_file, [{"service": "s3", "operation": operation, "params": params}]) != []
