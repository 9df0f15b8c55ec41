"""GIVEN a batch holding bodies no S3 sends (anything allowed sqs:SendMessage can send them) WHEN the
handler reads it THEN each such body fails alone, with its reason logged, and every valid change of the
batch is invalidated at once."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.events import MalformedMessageError, changes
from cf_invalidator.pipeline.batch import process_batch
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import eventbridge_body, failed_ids, s3_body, sqs_event

WWW = Distribution("www", "EWWW")
CONFIG = Config(distributions=(WWW,), max_paths=100)
VALID_KEY = "docs/valid.html"
VALID_PATH = "/docs/valid.html"


def replaced(body: str, place: tuple[Any, ...], value: Any) -> str:
    """`body` (a JSON object) with the member at `place` set to `value`, written back as JSON (ASCII, so
    a lone surrogate travels as the escape `\\ud800`, as a crafted sender would write it)."""
    message = json.loads(body)
    container = message
    for step in place[:-1]:
        container = container[step]
    container[place[-1]] = value
    return json.dumps(message)


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


S3, BRIDGE = s3_body("a.html"), eventbridge_body("a.html")
RECORD, OBJECT = ("Records", 0), ("Records", 0, "s3", "object")
CRAFTED = {
    "event name a number": replaced(S3, (*RECORD, "eventName"), 7),
    "event name a list": replaced(S3, (*RECORD, "eventName"), ["ObjectCreated:Put"]),
    "event name an object": replaced(S3, (*RECORD, "eventName"), {"a": 1}),
    "record a string": replaced(S3, RECORD, "ObjectCreated:Put"),
    "s3 a list": replaced(S3, (*RECORD, "s3"), [1]),
    "object a string": replaced(S3, OBJECT, "a.html"),
    "object a list": replaced(S3, OBJECT, [{"key": "a.html"}]),
    "detail-type a list": replaced(BRIDGE, ("detail-type",), ["Object Created"]),
    "detail-type an object": replaced(BRIDGE, ("detail-type",), {"x": 1}),
    "detail-type a number": replaced(BRIDGE, ("detail-type",), 3),
    "detail a list": replaced(BRIDGE, ("detail",), [1]),
    "eventbridge object a string": replaced(BRIDGE, ("detail", "object"), "a.html"),
    "300 KB of digits": "1" * 300_000,
    "an integer of 5,000 digits in a valid notification": S3[:-1] + ', "n": ' + "9" * 5000 + "}",
    "key a lone surrogate": replaced(S3, (*OBJECT, "key"), "a\ud800.html"),
    "eventbridge key a lone surrogate": replaced(BRIDGE, ("detail", "object", "key"), "\udfff"),
    "bucket name a lone surrogate": replaced(S3, (*RECORD, "s3", "bucket", "name"), "b\ud800"),
    "version id a lone surrogate": replaced(S3, (*OBJECT, "versionId"), "\ud800"),
    "key nested 200 lists deep": replaced(S3, (*OBJECT, "key"), nested(200)),
}


@pytest.mark.parametrize("body", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_body_is_malformed_with_a_short_reason(body: str) -> None:
    with pytest.raises(MalformedMessageError) as raised:
        changes(body)
    assert 0 < len(str(raised.value)) <= 300  # the reason is logged: never the crafted value whole


def run(bodies: list[str]) -> tuple[list[str], CloudFrontModel, list[dict[str, Any]]]:
    """The failed message ids, the model CloudFront and the `message_rejected` log lines."""
    model = CloudFrontModel([WWW.id])
    handler = logging.getLogger("cf_invalidator")
    lines: list[dict[str, Any]] = []
    capture = _Capture(lines)
    handler.addHandler(capture)
    level = handler.level
    handler.setLevel(logging.INFO)
    try:
        response = process_batch(sqs_event(bodies), CONFIG, model, model.clock.lambda_deadline(60))
    finally:
        handler.removeHandler(capture)
        handler.setLevel(level)
    return failed_ids(response), model, [line for line in lines if line.get("decision") == "message_rejected"]


class _Capture(logging.Handler):
    """Collects the records' fields (caplog cannot be used inside a hypothesis test)."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(vars(record))


@pytest.mark.parametrize("crafted", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_body_fails_alone_its_reason_logged_and_the_valid_changes_invalidated(crafted: str) -> None:
    failed, model, rejected = run([s3_body(VALID_KEY), crafted, eventbridge_body("docs/other.html")])

    assert failed == ["m1"]
    assert [line["message_id"] for line in rejected] == ["m1"]
    assert model.covers(WWW.id, VALID_PATH) and model.covers(WWW.id, "/docs/other.html")
    assert json.dumps(rejected[0]["reason"], ensure_ascii=False).encode("utf-8")  # loggable as UTF-8 JSON


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# A notification or EventBridge event with one member replaced by any JSON value: S3's shapes with the
# wrong content where the parser looks, so the test reaches past the first check.
PLACES = [
    ("Records",),
    ("Records", 0),
    ("Records", 0, "eventName"),
    ("Records", 0, "s3"),
    ("Records", 0, "s3", "object"),
    ("Records", 0, "s3", "object", "key"),
    ("Records", 0, "s3", "object", "versionId"),
    ("Records", 0, "s3", "bucket"),
    ("Records", 0, "eventTime"),
]
REQUIRED_PLACES = [place for place in PLACES[1:] if place[-1] not in ("versionId", "bucket", "eventTime")]
BRIDGE_PLACES = [("detail-type",), ("detail",), ("detail", "object"), ("detail", "object", "key"), ("time",)]


SHAPED = st.builds(replaced, st.just(s3_body("a.html")), st.sampled_from(PLACES), JSON) | st.builds(
    replaced, st.just(eventbridge_body("a.html")), st.sampled_from(BRIDGE_PLACES), JSON
)
ANY_BODY = st.text() | JSON.map(json.dumps) | SHAPED


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(ANY_BODY, min_size=1, max_size=4), position=st.integers(min_value=0, max_value=4))
def test_any_body_fails_alone_and_never_delays_the_valid_change(bodies: list[str], position: int) -> None:
    """Whatever the other bodies hold, the valid change is invalidated in this invocation, and a message
    fails only when its body was rejected (logged with its id), never because of another's."""
    position = min(position, len(bodies))
    batch = [*bodies[:position], s3_body(VALID_KEY), *bodies[position:]]
    valid_id = f"m{position}"

    failed, model, rejected = run(batch)

    assert valid_id not in failed
    assert model.covers(WWW.id, VALID_PATH)
    assert sorted(failed) == sorted(line["message_id"] for line in rejected)


@settings(max_examples=200, deadline=None)
@given(
    place=st.sampled_from(REQUIRED_PLACES),
    value=JSON.filter(lambda v: not isinstance(v, str | dict) or v in ({}, "")),
)
def test_a_body_broken_by_construction_is_exactly_the_one_failed(place: tuple[Any, ...], value: Any) -> None:
    """A record, its s3 or object member that is not an object, or a name or key that is not a string
    (or empty), is broken whatever else the body holds: that message fails, and only it."""
    broken = replaced(s3_body("b.html"), place, value)

    failed, model, rejected = run([broken, s3_body(VALID_KEY)])

    assert failed == ["m0"]
    assert [line["message_id"] for line in rejected] == ["m0"]
    assert model.covers(WWW.id, VALID_PATH)
