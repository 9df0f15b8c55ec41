"""GIVEN CloudFront pushing back (quotas, throttling, outages, crashes, bad input) WHEN the handler runs
through the emulated SQS event source THEN every changed key ends covered by an invalidation or its
message rests in the dead-letter queue, and nothing is billed twice.

The handler runs in-process against the CloudFront model (support/cloudfront_model.py) on its virtual
clock: each invocation gets its own Lambda deadline, retries sleep in virtual time, and a redelivery
happens after the queue's visibility timeout has passed on that clock (the emulation makes failed
messages visible at once in real time). SQS is moto's, with the module's redrive policy.
"""

from __future__ import annotations

import json
import logging
import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from cf_invalidator.aws.invalidate import RESERVE_MS
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.redelivery import redelivery_delay
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators, no_postpone
from support.cloudfront_model import CloudFrontModel
from support.event_source import SqsEventSource
from support.module_defaults import module_defaults
from support.path_oracle import required_paths
from support.sqs_events import eventbridge_body, failed_ids, s3_body, sqs_event

DEFAULTS = module_defaults()
WWW = Distribution("www", "EWWWSITE")
BLOG = Distribution("blog", "EBLOGSITE", "/blog")
EXTRA = Distribution("eu", "EEUSITE")
GATHER_WINDOW_S = 60
SQS_MAX_BODY = 256 * 1024  # bytes: the classic SQS message size limit, the largest body S3 could send


class SandboxKilled(Exception):  # noqa: N818 (named for what happened, like Lambda's runtime errors)
    """The Lambda sandbox died mid-invocation (out of memory, timeout): the whole batch fails."""


def config_of(*distributions: Distribution) -> Config:
    return Config(distributions=distributions, max_paths=DEFAULTS.max_paths_per_invalidation)


@dataclass
class VirtualLambda:
    """The function as the event source mapping invokes it, on the model's virtual clock.

    Before a first delivery the clock moves by the batching window; before a redelivery, by the queue's
    visibility timeout, or, with `postponing`, by the visibility the handler asked for when it gave up
    (as the deployed handler does with ChangeMessageVisibility). Each invocation gets a deadline
    `timeout` seconds after it starts."""

    config: Config
    model: CloudFrontModel
    timeout: int = DEFAULTS.lambda_timeout
    postponing: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    invocations: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, deadline
    asked_delay_s: int | None = None

    @property
    def visibility_timeout(self) -> int:
        return replace(DEFAULTS, lambda_timeout=self.timeout).visibility_timeout_seconds

    def postpone(self, records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None:
        receives = (int(record["attributes"]["ApproximateReceiveCount"]) for record in records)
        self.asked_delay_s = delay_s or max(redelivery_delay(count) for count in receives)

    def __call__(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        clock = self.model.clock
        redelivery = any(int(r["attributes"]["ApproximateReceiveCount"]) > 1 for r in event["Records"])
        if not redelivery:
            clock.sleep(DEFAULTS.batching_window_seconds)
        else:
            clock.sleep(self.visibility_timeout if self.asked_delay_s is None else self.asked_delay_s)
        self.asked_delay_s = None
        start = clock.now()
        response = process_batch(
            event,
            self.config,
            self.model,
            clock.lambda_deadline(self.timeout),
            Collaborators(
                sleep=clock.sleep,
                jitter=self.rng.random,
                postpone=self.postpone if self.postponing else no_postpone,
            ),
        )
        self.invocations.append((start, clock.now(), start + self.timeout))
        return response


@dataclass
class Queues:
    sqs: Any
    url: str
    dlq_url: str
    keys_by_message: dict[str, list[str]] = field(default_factory=dict)

    def send(self, body: str, keys: Sequence[str] = ()) -> str:
        """Send a body; remember the keys it changes (what the test expects, not what the handler reads)."""
        message_id = str(self.sqs.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"])
        self.keys_by_message[message_id] = list(keys)
        return message_id

    def send_keys(self, keys: Sequence[str]) -> list[str]:
        """One S3 notification per key, as S3 sends them."""
        return [self.send(s3_body(key), [key]) for key in keys]

    def dead_letters(self) -> set[str]:
        ids: set[str] = set()
        while batch := self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            ids.update(message["MessageId"] for message in batch)
        return ids

    def drain(self, function: VirtualLambda) -> SqsEventSource:
        source = SqsEventSource(
            self.sqs,
            self.url,
            function,
            batch_size=DEFAULTS.batch_size,
            # Gathering ends at the first empty receive: a long real-time window lets it gather everything
            # sent, so a busy machine cuts the same batches (the module's 1 s window is waited out on
            # the virtual clock, VirtualLambda).
            batching_window_seconds=GATHER_WINDOW_S,
        )
        source.drain()
        return source


@pytest.fixture
def queues(mocked_aws: None) -> Queues:
    """A queue with the module's redrive policy to a dead-letter queue, in moto."""
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="site-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    redrive = {"deadLetterTargetArn": dlq["QueueArn"], "maxReceiveCount": DEFAULTS.max_receive_count}
    url = sqs.create_queue(
        QueueName="site",
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(DEFAULTS.visibility_timeout_seconds),
        },
    )["QueueUrl"]
    return Queues(sqs, url, dlq_url)


def uncovered_keys(
    keys_by_message: Mapping[str, Sequence[str]], config: Config, model: CloudFrontModel, dead: set[str]
) -> list[tuple[str, str]]:
    """(distribution label, key) for every changed key neither covered by an invalidation on each
    distribution serving it nor carried by a message in the dead-letter queue."""
    missing = []
    for message_id, keys in keys_by_message.items():
        if message_id in dead:
            continue
        for key in keys:
            for distribution in config.distributions:
                paths = required_paths(key, distribution.origin_path, config.index_document)
                if not all(model.covers(distribution.id, path) for path in paths):
                    missing.append((distribution.label, key))
    return missing


def distinct_paths(keys: Sequence[str], config: Config, distribution: Distribution) -> set[str]:
    """The viewer paths the keys need on the distribution, by the oracle (support/path_oracle.py)."""
    return {
        path for key in keys for path in required_paths(key, distribution.origin_path, config.index_document)
    }


def deliveries(source: SqsEventSource) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in source.outcomes:
        for message_id in outcome.message_ids:
            counts[message_id] = counts.get(message_id, 0) + 1
    return counts


SITE_KEYS = [
    "index.html",
    "about/index.html",
    "blog/index.html",
    "assets/site.css",
    "assets/app.js",
    *(f"blog/2025/post-{i}.html" for i in range(25)),
    *(f"docs/guide/page {i}.html" for i in range(25)),
]  # 55 keys, 58 viewer paths on www: within the module's default budget of 100, so nothing is coalesced


# --- transient errors, then recovery ------------------------------------------------------------------


def fill_file_quota_until(model: CloudFrontModel, distribution_id: str, until: float, paths: int) -> None:
    """Another deploy's invalidation of `paths` files, in progress on the distribution until `until`."""
    saved, model.completion_seconds = model.completion_seconds, until - model.clock.now()
    batch = {"Paths": {"Quantity": paths, "Items": [f"/other/{i}" for i in range(paths)]}}
    model.create_invalidation(
        DistributionId=distribution_id, InvalidationBatch=batch | {"CallerReference": "x"}
    )
    model.completion_seconds = saved


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable", "TooManyInvalidationsInProgress"])
def test_transient_errors_for_longer_than_an_invocation_recover_on_redelivery_billing_each_path_once(
    queues: Queues, code: str
) -> None:
    config = config_of(WWW, BLOG)
    model = CloudFrontModel([WWW.id, BLOG.id], completion_seconds=60)
    outage_ends = 2 * DEFAULTS.lambda_timeout + DEFAULTS.batching_window_seconds  # past the 1st deadline
    if code == "TooManyInvalidationsInProgress":
        for distribution in config.distributions:  # a real quota: 2,990 of 3,000 file paths in progress
            fill_file_quota_until(model, distribution.id, outage_ends, 2990)
    else:
        model.inject(code, until=outage_ends)
    billed_before = {d.id: model.paths_billed(d.id) for d in config.distributions}
    queues.send_keys(SITE_KEYS)

    source = queues.drain(VirtualLambda(config, model))

    # the first delivery reports every message (an answer, not a crash), the redelivery succeeds
    assert [(len(o.failed_ids), o.error) for o in source.outcomes] == [(len(SITE_KEYS), None), (0, None)]
    assert model.outcomes()[code] > 1  # retried inside the invocation before giving up
    assert queues.dead_letters() == set()
    assert uncovered_keys(queues.keys_by_message, config, model, set()) == []
    for distribution in config.distributions:
        created = model.paths_billed(distribution.id) - billed_before[distribution.id]
        assert created == len(distinct_paths(SITE_KEYS, config, distribution))


QUOTA_HELD_S = 2400  # 40 minutes: longer than five receives at the queue's fixed visibility timeout


@pytest.mark.parametrize(("postponing", "reaches_dlq"), [(True, False), (False, True)])
def test_quota_held_for_forty_minutes_is_outlasted_only_by_postponed_redelivery(
    queues: Queues, postponing: bool, reaches_dlq: bool
) -> None:
    config = config_of(WWW)
    model = CloudFrontModel([WWW.id])
    model.inject("TooManyInvalidationsInProgress", until=QUOTA_HELD_S)
    sent = queues.send_keys(SITE_KEYS)

    source = queues.drain(VirtualLambda(config, model, postponing=postponing))

    dead = queues.dead_letters()
    assert uncovered_keys(queues.keys_by_message, config, model, dead) == []
    if reaches_dlq:  # 5 receives 380 s apart are spent within the 40 minutes
        assert dead == set(sent)
        assert model.invalidations(WWW.id) == []
    else:  # 1, 4, 16 minutes apart, the 5th receive comes after the quota cleared
        assert dead == set()
        assert len(model.invalidations(WWW.id)) == 1
        assert len(source.outcomes) == 5


def test_rate_limited_calls_are_retried_within_the_invocation_and_nothing_is_redelivered(
    queues: Queues,
) -> None:
    config = config_of(WWW, BLOG, EXTRA)
    model = CloudFrontModel([d.id for d in config.distributions], calls_per_second=0.2, burst=1)
    queues.send_keys(SITE_KEYS)

    source = queues.drain(VirtualLambda(config, model))

    assert model.outcomes()["Throttling"] > 0
    assert [outcome.failed_ids for outcome in source.outcomes] == [set()]
    assert uncovered_keys(queues.keys_by_message, config, model, set()) == []
    assert model.paths_billed() == sum(
        len(distinct_paths(SITE_KEYS, config, d)) for d in config.distributions
    )


# --- crashes --------------------------------------------------------------------------------------------


def test_crash_after_the_first_distribution_redelivery_reuses_its_invalidation_and_invalidates_the_second(
    queues: Queues,
) -> None:
    config = config_of(WWW, BLOG)
    model = CloudFrontModel([WWW.id, BLOG.id])
    model.crash_after(1, SandboxKilled("Runtime exited with error: signal: killed"))
    queues.send_keys(SITE_KEYS)

    source = queues.drain(VirtualLambda(config, model))

    assert [outcome.error is not None for outcome in source.outcomes] == [True, False]
    assert [(call.distribution_id, call.outcome) for call in model.calls] == [
        (WWW.id, "Created"),
        (BLOG.id, "Crashed"),
        (WWW.id, "Deduplicated"),  # same CallerReference, same batch: CloudFront returns the first one
        (BLOG.id, "Created"),
    ]
    assert model.paths_billed(WWW.id) == len(distinct_paths(SITE_KEYS, config, WWW))
    assert model.paths_billed(BLOG.id) == len(distinct_paths(SITE_KEYS, config, BLOG))
    assert uncovered_keys(queues.keys_by_message, config, model, set()) == []
    assert queues.dead_letters() == set()


def test_lost_response_after_the_invalidation_was_created_is_retried_without_a_second_bill(
    queues: Queues,
) -> None:
    config = config_of(WWW, BLOG)
    model = CloudFrontModel([WWW.id, BLOG.id])
    timeout = ReadTimeoutError(endpoint_url="https://cloudfront.amazonaws.com/2020-05-31/distribution")
    model.crash_after(1, timeout, after_effect=True)
    queues.send_keys(SITE_KEYS)

    source = queues.drain(VirtualLambda(config, model))

    assert [outcome.failed_ids for outcome in source.outcomes] == [set()]
    assert model.outcomes() == {"Created": 2, "Crashed": 1, "Deduplicated": 1}
    assert model.paths_billed() == sum(
        len(distinct_paths(SITE_KEYS, config, d)) for d in config.distributions
    )


# --- errors that do not go away -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["NoSuchDistribution", "AccessDenied"])
def test_broken_distribution_sends_only_its_messages_to_the_dlq_and_logs_its_name(
    queues: Queues, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_of(WWW, BLOG)
    if code == "NoSuchDistribution":
        model = CloudFrontModel([WWW.id])  # the blog distribution was deleted
    else:
        model = CloudFrontModel([WWW.id, BLOG.id])
        model.inject("AccessDenied", distribution_id=BLOG.id)  # the role lacks it
    blog_ids = set(queues.send_keys([k for k in SITE_KEYS if k.startswith("blog/")]))
    other_ids = set(queues.send_keys([k for k in SITE_KEYS if not k.startswith("blog/")]))

    with caplog.at_level(logging.INFO):
        source = queues.drain(VirtualLambda(config, model))

    assert queues.dead_letters() == blog_ids
    assert set(source.outcomes[0].succeeded_ids) == other_ids  # the rest is not held back
    assert {deliveries(source)[i] for i in blog_ids} == {DEFAULTS.max_receive_count}
    not_dead = {i: keys for i, keys in queues.keys_by_message.items() if i not in blog_ids}
    assert uncovered_keys(not_dead, config, model, set()) == []
    blog_keys = [key for i in blog_ids for key in queues.keys_by_message[i]]
    assert all(model.covers(WWW.id, path) for path in distinct_paths(blog_keys, config, WWW))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all(
        (vars(r)["distribution"], vars(r)["distribution_id"], vars(r)["error_code"])
        == ("blog", BLOG.id, code)
        for r in errors
    )


# --- running out of Lambda time -----------------------------------------------------------------------


def test_short_timeout_reports_failures_before_the_deadline_and_recovers_on_redelivery(
    queues: Queues,
) -> None:
    config = config_of(WWW, BLOG, EXTRA)
    model = CloudFrontModel([d.id for d in config.distributions])
    model.inject("ServiceUnavailable", until=60)
    function = VirtualLambda(config, model, timeout=5)
    queues.send_keys(SITE_KEYS)

    source = queues.drain(function)

    assert source.outcomes[0].failed_ids == set(source.outcomes[0].message_ids)
    assert all(outcome.error is None for outcome in source.outcomes)  # always answered, never timed out
    assert all(deadline - end >= RESERVE_MS / 1000 for _, end, deadline in function.invocations)
    assert uncovered_keys(queues.keys_by_message, config, model, set()) == []
    assert queues.dead_letters() == set()


def test_invocation_starting_with_less_than_the_reserve_answers_without_waiting() -> None:
    config = config_of(WWW, BLOG, EXTRA)
    model = CloudFrontModel([d.id for d in config.distributions])
    model.inject("Throttling")
    clock = model.clock
    remaining = clock.lambda_deadline(1.0)
    event = sqs_event([s3_body(key) for key in SITE_KEYS])

    response = process_batch(event, config, model, remaining, Collaborators(sleep=clock.sleep))

    assert sorted(failed_ids(response)) == sorted(r["messageId"] for r in event["Records"])
    assert clock.now() == 0.0 and remaining() == 1000  # no sleep: the deadline was never approached
    assert model.outcomes() == {"Throttling": 3}  # one attempt per distribution, then the answer


# --- poison messages ------------------------------------------------------------------------------------


def padded(prefix: str, suffix: str = "") -> str:
    return prefix + "x" * (SQS_MAX_BODY - len(prefix) - len(suffix)) + suffix


POISON = {
    "not JSON": "<Event>s3:ObjectCreated:Put</Event>",
    "JSON array": '["index.html"]',
    "Records not a list": '{"Records": "index.html"}',
    "record without a key": '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {}}}]}',
    "key not a string": '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": 7}}}]}',
    "256 KB of text": padded("not json "),
    "256 KB of nesting": "[" * SQS_MAX_BODY,
    "256 KB object of the wrong shape": padded('{"padding": "', '"}'),
    "unknown S3 event name": s3_body("a.html", event_name="ObjectTeleported:Put"),
    "unknown EventBridge detail-type": eventbridge_body("a.html", detail_type="Object Teleported"),
}


def test_poison_messages_reach_the_dlq_without_blocking_the_rest(queues: Queues) -> None:
    config = config_of(WWW, BLOG)
    model = CloudFrontModel([WWW.id, BLOG.id])
    poison_ids = {queues.send(body) for body in POISON.values()}
    good_ids = set(queues.send_keys(SITE_KEYS[:20]))

    source = queues.drain(VirtualLambda(config, model))

    first = source.outcomes[0]
    assert first.failed_ids == poison_ids and set(first.succeeded_ids) == good_ids
    assert queues.dead_letters() == poison_ids
    assert {deliveries(source)[i] for i in poison_ids} == {DEFAULTS.max_receive_count}
    assert uncovered_keys(queues.keys_by_message, config, model, poison_ids) == []
    assert model.outcomes() == {"Created": 2}  # redelivered poison never invalidates anything


# --- 10,000 generated keys ------------------------------------------------------------------------------


def generated_keys(count: int, seed: int = 20251) -> list[str]:
    """S3 keys of every awkward kind: each ASCII punctuation mark alone in a name, control characters,
    non-ASCII from several planes, spaces, and keys of exactly 1,024 UTF-8 bytes (S3's limit)."""
    rng = random.Random(seed)
    alphabet = (
        string.ascii_letters + string.digits + string.punctuation + " " * 4
        + "".join(map(chr, range(0x01, 0x20))) + "\x7f"
        + "éßøçñ€£¥©µ" + "дюя" + "中文字" + "ئ" + "עב" + "\u0301\u200b\ufeff" + "😀🚀𝄞"
    )  # fmt: skip
    keys = [f"punct/name{mark}x{mark}.html" for mark in string.punctuation]
    keys += [f"site/punct/{mark}index.html" for mark in string.punctuation]
    while len(keys) < count:
        kind = len(keys) % 10
        depth = rng.randint(0, 4)
        parts = ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(depth + 1)]
        key = ("site/" if kind % 2 else "") + "/".join(parts)
        if kind == 3:
            key += "/index.html"
        if kind == 7:  # pad to exactly 1,024 UTF-8 bytes with ASCII
            key = key.encode()[:1000].decode("utf-8", errors="ignore")
            key += "k" * (1024 - len(key.encode()))
        keys.append(key)
    return keys


def test_ten_thousand_generated_keys_give_only_valid_paths_and_are_all_covered() -> None:
    config = Config(distributions=(WWW, Distribution("site", "ESITE", "/site")), max_paths=3000)
    model = CloudFrontModel([d.id for d in config.distributions], completion_seconds=30)
    keys = generated_keys(10_000)
    assert len(set(keys)) > 9_900 and 1024 in {len(key.encode()) for key in keys}
    assert all(any(mark in key for key in keys) for mark in string.punctuation + "\x01\x7f\u00e9\U0001f600")
    per_batch = 500  # at most 4 paths a key: within the 3,000-path budget, so no path is coalesced away

    for start in range(0, len(keys), per_batch):
        event = sqs_event([s3_body(key) for key in keys[start : start + per_batch]], f"b{start}-")
        response = process_batch(event, config, model, model.clock.lambda_deadline(60))
        assert failed_ids(response) == []  # the model rejects any invalid path: none was sent
        model.clock.sleep(30)  # the invalidations complete before the next batch

    assert set(model.outcomes()) == {"Created"}
    for distribution in config.distributions:  # every path the oracle requires, and not one more
        invalidated = {p for i in model.invalidations(distribution.id) for p in i.paths}
        assert invalidated == distinct_paths(keys, config, distribution)
