"""GIVEN a batch WHEN metrics are on THEN one EMF line per distribution, valid by the EMF specification
(support/emf.py), whose values are what the decision log lines and CloudFront say of the same batch."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cf_invalidator.config import Config, ConfigError, Distribution, load_config
from cf_invalidator.core.events import changes
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from cf_invalidator.pipeline.metrics import BatchMetrics
from support import emf
from support.cloudfront_model import CloudFrontModel
from support.inbox_handler import INBOX_ENVIRONMENT
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import BUCKET, CountingS3, install_clock, put, versioned_bucket

BLOG = Distribution("blog", "EBLOG", "/blog")
DOCS = Distribution("docs", "EDOCS", "/docs")
T0 = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=90)
NAMESPACE = "Test/Invalidation"


def timed_body(key: str, at: datetime, *, eventbridge: bool = False) -> str:
    """A body carrying its event time as S3 (`eventTime`, milliseconds) or EventBridge (`time`) write it."""
    if eventbridge:
        return json.dumps(
            {
                "detail-type": "Object Created",
                "source": "aws.s3",
                "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "detail": {"bucket": {"name": "site"}, "object": {"key": key}},
            }
        )
    record = json.loads(s3_body(key))["Records"][0]
    record["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps({"Records": [record]})


def run(
    bodies: list[str],
    caplog: pytest.LogCaptureFixture,
    config: Config,
    model: CloudFrontModel | None = None,
    **options: Any,
) -> tuple[dict[str, dict[str, emf.Datum]], list[dict[str, Any]], CloudFrontModel]:
    """The batch's metrics by distribution id and name, its decision lines, and the CloudFront model."""
    model = model or CloudFrontModel([d.id for d in config.distributions])
    lines: list[str] = []
    metrics = BatchMetrics(config, NAMESPACE, clock=lambda: NOW, write=lines.append)
    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        process_batch(
            sqs_event(bodies), config, model, lambda: 60_000, Collaborators(metrics=metrics, **options)
        )
    by_distribution: dict[str, dict[str, emf.Datum]] = {}
    for line in lines:
        data = emf.data(line)
        [dimensions] = {d.dimensions for d in data}
        assert {d.namespace for d in data} == {NAMESPACE}
        assert {d.timestamp_ms for d in data} == {int(NOW.timestamp() * 1000)}
        by_distribution[dict(dimensions)["DistributionId"]] = {d.name: d for d in data}
    assert len(lines) == len(by_distribution) == len(config.distributions)  # one line each, no more
    logged = [vars(r) for r in caplog.records if hasattr(r, "decision")]
    return by_distribution, logged, model


def logged_sum(logged: list[dict[str, Any]], decision: str, field: str, distribution_id: str) -> int:
    return sum(
        r[field] for r in logged if r["decision"] == decision and r["distribution_id"] == distribution_id
    )


def test_each_distribution_gets_one_line_matching_its_created_invalidations(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN changes served by two distributions, one served by none, at known event times
    config = Config(distributions=(BLOG, DOCS), max_paths=100)
    bodies = [
        timed_body("blog/a.html", T0 + timedelta(seconds=10)),
        timed_body("blog/b/index.html", T0),
        timed_body("docs/x.html", T0 + timedelta(seconds=30), eventbridge=True),
        timed_body("shop/z.html", T0 - timedelta(hours=1)),
    ]
    # WHEN the batch is handled
    metrics, logged, model = run(bodies, caplog, config)
    # THEN each line says what the invalidation_created lines and CloudFront say of its distribution
    for distribution in (BLOG, DOCS):
        line = metrics[distribution.id]
        paths = [p for inv in model.invalidations(distribution.id) for p in inv.paths]
        assert line["PathsBilled"].value == logged_sum(
            logged, "invalidation_created", "path_count", distribution.id
        )
        assert line["PathsBilled"].value == len(paths)
        created = [r for r in logged if r["decision"] == "invalidation_created"]
        assert line["InvalidationsCreated"].value == sum(
            r["distribution_id"] == distribution.id for r in created
        )
        assert line["WildcardPaths"].value == sum(p.endswith("*") for p in paths) == 0
        assert {(d.unit) for d in line.values() if d.name != "ChangeToInvalidationSeconds"} == {"Count"}
    assert metrics[BLOG.id]["KeysInvalidated"].value == 2  # blog/a.html, blog/b/index.html
    assert metrics[DOCS.id]["KeysInvalidated"].value == 1
    # AND the wait is from the oldest change the invalidation covers (the unserved one does not count)
    assert metrics[BLOG.id]["ChangeToInvalidationSeconds"].value == 90.0
    assert metrics[DOCS.id]["ChangeToInvalidationSeconds"].value == 60.0
    assert metrics[BLOG.id]["ChangeToInvalidationSeconds"].unit == "Seconds"


def test_a_distribution_without_changes_reports_zeros_and_no_wait(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(distributions=(BLOG, DOCS), max_paths=100)

    metrics, _, _ = run([timed_body("blog/a.html", T0)], caplog, config)

    docs = metrics[DOCS.id]
    assert "ChangeToInvalidationSeconds" not in docs
    assert {name: d.value for name, d in docs.items() if d.value} == {}
    assert {"PathsBilled", "InvalidationsCreated", "QuotaWaits", "UnchangedSkipped"} <= set(docs)


def test_coalesced_wildcards_are_counted_as_cloudfront_holds_them(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(distributions=(BLOG,), max_paths=3)
    bodies = [timed_body(f"blog/{d}/{i}.html", T0) for d in ("a", "b") for i in range(5)]

    metrics, _, model = run(bodies, caplog, config)

    [invalidation] = model.invalidations(BLOG.id)
    assert metrics[BLOG.id]["WildcardPaths"].value == sum(p.endswith("*") for p in invalidation.paths) >= 1
    assert metrics[BLOG.id]["PathsBilled"].value == len(invalidation.paths)
    assert metrics[BLOG.id]["KeysInvalidated"].value == 10


def test_quota_waits_count_backoffs_for_the_quota_and_not_for_throttling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = Config(distributions=(BLOG,), max_paths=100)
    model = CloudFrontModel([BLOG.id])
    model.inject("Throttling", calls=1)
    model.inject("TooManyInvalidationsInProgress", calls=2)

    metrics, logged, _ = run(
        [timed_body("blog/a.html", T0)], caplog, config, model, sleep=lambda _: None, jitter=lambda: 0.0
    )

    retries = Counter(r["error_code"] for r in logged if r["decision"] == "invalidation_retrying")
    assert retries == {"Throttling": 1, "TooManyInvalidationsInProgress": 2}
    assert metrics[BLOG.id]["QuotaWaits"].value == retries["TooManyInvalidationsInProgress"]
    assert metrics[BLOG.id]["InvalidationsCreated"].value == 1


def test_refused_invalidation_bills_nothing(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(distributions=(BLOG,), max_paths=100)
    model = CloudFrontModel([BLOG.id])
    model.inject("AccessDenied")

    metrics, logged, _ = run([timed_body("blog/a.html", T0)], caplog, config, model)

    assert [r["decision"] for r in logged if r["decision"].startswith("invalidation_")] == [
        "invalidation_abandoned"
    ]
    line = metrics[BLOG.id]
    assert (line["PathsBilled"].value, line["InvalidationsCreated"].value, line["KeysInvalidated"].value) == (
        0,
        0,
        0,
    )
    assert "ChangeToInvalidationSeconds" not in line


def test_change_detection_counts_match_its_log_lines(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a versioned bucket: one identical re-upload, one record without a version id
    install_clock(monkeypatch)
    client = boto3.client("s3")
    versioned_bucket(client)
    put(client, "docs/a.html")
    again = put(client, "docs/a.html")
    www = Distribution("www", "EWWW")
    config = Config(distributions=(www,), max_paths=100, skip_unchanged_objects=True)
    bodies = [s3_body("docs/a.html", bucket=BUCKET, version_id=again), s3_body("docs/b.html", bucket=BUCKET)]
    # WHEN the batch is handled with change detection
    metrics, logged, _ = run(bodies, caplog, config, s3=CountingS3(client))
    # THEN the metrics say what unchanged_skipped and changes_unverified say
    by_decision = {r["decision"]: r for r in logged}
    line = metrics[www.id]
    assert line["UnchangedSkipped"].value == by_decision["unchanged_skipped"]["key_count"] == 1
    assert line["ChangesUnverified"].value == by_decision["changes_unverified"]["key_count"] == 1
    assert line["NewObjectsSkipped"].value == 0
    assert line["KeysInvalidated"].value == 1  # docs/b.html only


def test_without_metrics_nothing_is_written_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(distributions=(BLOG,), max_paths=100)

    process_batch(
        sqs_event([timed_body("blog/a.html", T0)]), config, CloudFrontModel([BLOG.id]), lambda: 60_000
    )

    assert capsys.readouterr().out == ""


def test_metrics_are_written_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(distributions=(BLOG,), max_paths=100)
    metrics = BatchMetrics(config, NAMESPACE)

    process_batch(
        sqs_event([timed_body("blog/a.html", T0)]),
        config,
        CloudFrontModel([BLOG.id]),
        lambda: 60_000,
        Collaborators(metrics=metrics),
    )

    [line] = capsys.readouterr().out.splitlines()
    assert {d.name for d in emf.data(line)} >= {"PathsBilled", "ChangeToInvalidationSeconds"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-27T07:00:00.000Z", T0),  # S3 notification eventTime
        ("2026-11-27T07:00:00Z", T0),  # EventBridge time
        ("2026-11-27T08:00:00+01:00", T0),
        ("yesterday", None),
        (None, None),
        (17, None),
    ],
)
def test_event_time_is_read_from_both_shapes_and_never_rejects(raw: Any, expected: datetime | None) -> None:
    record = json.loads(s3_body("a.html"))["Records"][0]
    if raw is not None:
        record["eventTime"] = raw
    [change] = changes(json.dumps({"Records": [record]}))
    assert change.event_time == expected
    bridge = {"detail-type": "Object Deleted", "detail": {"object": {"key": "a.html"}}, "time": raw}
    [change] = changes(json.dumps(bridge))
    assert change.event_time == expected


BASE_ENV = {
    "DISTRIBUTIONS": '{"site": {"id": "EABC"}}',
    "MAX_PATHS_PER_INVALIDATION": "100",
    **INBOX_ENVIRONMENT,
}


def test_metrics_settings_are_read_from_the_environment() -> None:
    assert (load_config(BASE_ENV).enable_metrics, load_config(BASE_ENV).metrics_namespace) == (
        False,
        "CloudFrontAutoInvalidation",
    )
    config = load_config({**BASE_ENV, "ENABLE_METRICS": "true", "METRICS_NAMESPACE": "Team/CDN"})
    assert (config.enable_metrics, config.metrics_namespace) == (True, "Team/CDN")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENABLE_METRICS", "yes"),
        ("METRICS_NAMESPACE", ""),
        ("METRICS_NAMESPACE", "AWS/CloudFront"),
        ("METRICS_NAMESPACE", "bad$name"),
        ("METRICS_NAMESPACE", "x" * 256),
    ],
)
def test_bad_metrics_setting_fails_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config({**BASE_ENV, name: value})
