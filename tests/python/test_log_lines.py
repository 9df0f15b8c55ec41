"""GIVEN each decision the docs name WHEN the handler makes it THEN one log line carries the decision as
its message and its `decision` field, at its level, with the fields operators search for
(docs/how-it-decides.md, "Every decision is one JSON log line": the distribution id, the path count,
the invalidation id or the error code; the in-progress counts on the invalidation lines).
A renamed field breaks their saved queries.

The change-detection lines (`unchanged_skipped`, `new_objects_skipped`, `changes_unverified`) are pinned
in test_detect.py, `quota_lookup_failed` in test_in_progress.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cf_invalidator.aws.invalidate import Outcome, invalidate
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.coalesce import InProgress
from cf_invalidator.core.plan import Request, fitted, plan_requests
from cf_invalidator.pipeline.batch import process_batch
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import s3_body, sqs_event

WWW = Distribution("www", "EWWW")
CONFIG = Config(distributions=(WWW,), max_paths=100)
REQUEST: Request = plan_requests({"m1": ["a.html", "b/index.html"]}, CONFIG)[0]  # 3 paths


def lines(caplog: pytest.LogCaptureFixture, decision: str) -> list[dict[str, Any]]:
    found = [vars(r) for r in caplog.records if vars(r).get("decision") == decision]
    assert all(line["msg"] == decision for line in found)
    return found


def only(caplog: pytest.LogCaptureFixture, decision: str) -> dict[str, Any]:
    [line] = lines(caplog, decision)
    return line


def error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "CreateInvalidation")


class Answers:
    """create_invalidation answers from a list: an exception to raise, or an invalidation id."""

    def __init__(self, *answers: Exception | str) -> None:
        self.answers = list(answers)

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"Invalidation": {"Id": answer, "Status": "InProgress"}}


def run(
    cloudfront: Answers,
    request: Request = REQUEST,
    replan: Callable[[Request], Request] | None = None,
    remaining_ms: int = 60_000,
) -> Outcome:
    return invalidate(cloudfront, request, lambda: remaining_ms, lambda _: None, lambda: 1.0, replan=replan)


def test_created_line_names_the_distribution_paths_and_invalidation(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        run(Answers("I1"))
    line = only(caplog, "invalidation_created")
    assert line["levelname"] == "INFO"
    assert {k: line[k] for k in ("distribution", "distribution_id", "path_count", "invalidation_id")} == {
        "distribution": "www",
        "distribution_id": "EWWW",
        "path_count": 3,
        "invalidation_id": "I1",
    }
    assert (line["changed_paths"], line["messages"], line["attempts"], line["status"]) == (
        3,
        1,
        1,
        "InProgress",
    )
    assert line["caller_reference"] == REQUEST.caller_reference
    assert (line["wildcards_in_progress"], line["files_in_progress"]) == (
        None,
        None,
    )  # planned without a view


def test_invalidation_lines_carry_what_was_in_progress(caplog: pytest.LogCaptureFixture) -> None:
    request = fitted(WWW, set(REQUEST.changed), REQUEST.message_ids, 100, InProgress(files=7, wildcards=2))
    with caplog.at_level(logging.INFO):
        run(Answers("I1"), request)
    line = only(caplog, "invalidation_created")
    assert (line["wildcards_in_progress"], line["files_in_progress"]) == (2, 7)


def test_retrying_line_names_the_error_and_attempt(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        run(Answers(error("Throttling", 400), "I1"))
    line = only(caplog, "invalidation_retrying")
    assert line["levelname"] == "WARNING"
    assert (line["distribution_id"], line["path_count"], line["error_code"], line["attempt"]) == (
        "EWWW",
        3,
        "Throttling",
        1,
    )
    assert line["delay_s"] == 0.5


@pytest.mark.parametrize(
    ("answer", "remaining_ms", "level", "retryable"),
    [
        (error("AccessDenied", 403), 60_000, "ERROR", False),
        (error("Throttling", 400), 1_000, "WARNING", True),
    ],
)
def test_abandoned_line_names_the_error_and_whether_it_comes_back(
    caplog: pytest.LogCaptureFixture, answer: ClientError, remaining_ms: int, level: str, retryable: bool
) -> None:
    with caplog.at_level(logging.INFO):
        run(Answers(answer), remaining_ms=remaining_ms)
    line = only(caplog, "invalidation_abandoned")
    assert line["levelname"] == level
    assert (line["distribution_id"], line["path_count"], line["retryable"], line["attempts"]) == (
        "EWWW",
        3,
        retryable,
        1,
    )
    assert line["error_code"] == answer.response["Error"]["Code"]


def test_replanned_line_only_when_the_paths_change(caplog: pytest.LogCaptureFixture) -> None:
    smaller = fitted(WWW, {"/a.html"}, REQUEST.message_ids, 100, InProgress())
    quota = error("TooManyInvalidationsInProgress", 400)
    with caplog.at_level(logging.INFO):
        run(Answers(quota, quota, "I1"), replan=lambda stale: smaller if stale is REQUEST else stale)
    line = only(caplog, "invalidation_replanned")
    assert line["levelname"] == "INFO"
    assert (line["distribution_id"], line["path_count"], line["previous_path_count"]) == ("EWWW", 1, 3)


def test_quota_exhausted_line_names_what_is_in_progress(caplog: pytest.LogCaptureFixture) -> None:
    changed = {f"/d{d}/p{p}.html" for d in range(3) for p in range(50)}
    with caplog.at_level(logging.INFO):
        request = fitted(WWW, changed, frozenset({"m1"}), 100, InProgress(files=4, wildcards=15))
    assert not request.fits
    line = only(caplog, "quota_exhausted")
    assert line["levelname"] == "WARNING"
    assert {k: line[k] for k in ("distribution", "distribution_id", "changed_paths")} == {
        "distribution": "www",
        "distribution_id": "EWWW",
        "changed_paths": 150,
    }
    assert (line["wildcards_in_progress"], line["files_in_progress"]) == (15, 4)
    assert "waits" in line["outcome"]


def test_rejected_message_line_names_the_message_and_reason(caplog: pytest.LogCaptureFixture) -> None:
    event = sqs_event(["not json", s3_body("a.html")])
    with caplog.at_level(logging.INFO):
        process_batch(event, CONFIG, CloudFrontModel([WWW.id]), lambda: 60_000)
    line = only(caplog, "message_rejected")
    assert line["levelname"] == "ERROR"
    assert line["message_id"] == event["Records"][0]["messageId"]
    assert line["reason"]


def test_unserved_keys_line_names_the_count_and_an_example(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(distributions=(Distribution("www", "EWWW", "/site"),), max_paths=100)
    with caplog.at_level(logging.INFO):
        process_batch(sqs_event([s3_body("other/a.html")]), config, CloudFrontModel([WWW.id]), lambda: 60_000)
    line = only(caplog, "keys_unserved")
    assert (line["levelname"], line["key_count"], line["example_key"]) == ("INFO", 1, "other/a.html")
