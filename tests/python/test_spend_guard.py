"""GIVEN a spend guard on a DynamoDB table (in-process moto) WHEN requests add up past max_paths_per_day
THEN further requests are `/*`, however many containers race, and whatever the table cannot say."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from cf_invalidator.aws.spend_guard import SpendGuard
from cf_invalidator.config import Config, ConfigError, Distribution, load_config
from cf_invalidator.core.plan import Request
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import NO_METRICS, UNLIMITED, Collaborators
from cf_invalidator.pipeline.metrics import BatchMetrics
from cf_invalidator.pipeline.operations import Answered, operations_hooks
from support import emf
from support.cloudfront_model import CloudFrontModel
from support.deploy_world import make_world
from support.inbox_handler import INBOX_ENVIRONMENT
from support.sqs_events import failed_ids, s3_body, sqs_event

SITE = Distribution("site", "ESITE")
TABLE = "site-invalidator-spend"
HOUR = 3600
START = 1_795_000_000.0 - 1_795_000_000.0 % HOUR  # the start of an hour


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dynamodb(mocked_aws: None) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "distribution_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "distribution_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def request(count: int, distribution: Distribution = SITE) -> Request:
    paths = tuple(f"/p{i}.html" for i in range(count))
    return Request(distribution, paths, frozenset({"m1"}), frozenset(paths))


def admit(guard: SpendGuard, asked: Request, reserved: int = 0) -> tuple[Request, bool]:
    """What the guard sends for the request, and whether it turned it into `/*`."""
    admission = guard.admit(asked, reserved)
    return admission.request, admission.guarded


def stored_total(dynamodb: Any, distribution_id: str = SITE.id) -> int:
    """Every hour count the table holds for the distribution, read here, not through the guard."""
    item = dynamodb.get_item(TableName=TABLE, Key={"distribution_id": {"S": distribution_id}}).get("Item", {})
    return sum(int(value["N"]) for name, value in item.items() if name.startswith("h"))


def guard_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [vars(r) for r in caplog.records if getattr(r, "decision", None) == "spend_guard"]


def test_a_burst_past_the_ceiling_turns_into_wildcards(
    dynamodb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a ceiling of 10 paths a day
    config = Config(distributions=(SITE,), max_paths=100, max_paths_per_day=10, spend_table=TABLE)
    model = CloudFrontModel([SITE.id])
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    lines: list[str] = []
    # WHEN three batches of four changed objects arrive
    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        for batch in range(3):
            bodies = [s3_body(f"b{batch}/{i}.css") for i in range(4)]
            metrics = BatchMetrics(config, "Test", write=lines.append)
            event = sqs_event(bodies, id_prefix=f"b{batch}-")
            process_batch(
                event, config, model, lambda: 60_000, Collaborators(spend_guard=guard, metrics=metrics)
            )
    # THEN the first two are sent as planned, the third as /*
    assert [len(inv.paths) for inv in model.invalidations(SITE.id)] == [4, 4, 1]
    assert model.invalidations(SITE.id)[2].paths == ("/*",)
    [line] = guard_lines(caplog)
    assert (line["levelno"], line["paths_in_window"], line["path_count"]) == (logging.WARNING, 8, 4)
    guarded = [{d.name: d.value for d in emf.data(text)}["SpendGuarded"] for text in lines]
    assert guarded == [0, 0, 1]
    assert stored_total(dynamodb) == 9  # the /* is counted as the path it is billed as


def test_a_request_larger_than_the_ceiling_is_a_wildcard_from_the_start(dynamodb: Any) -> None:
    guard = SpendGuard(dynamodb, TABLE, 3, clock=Clock())

    sent, guarded = admit(guard, request(4))

    assert (sent.paths, guarded, stored_total(dynamodb)) == (("/*",), True, 1)


class RacingClient:
    """The table's client, where another container's reservation lands between this one's read and
    its first write: the race two containers handling batches at once run."""

    def __init__(self, client: Any, other: SpendGuard, other_request: Request) -> None:
        self.client, self.other, self.other_request = client, other, other_request
        self.raced = False
        self.updates = 0

    def get_item(self, **kwargs: Any) -> Any:
        return self.client.get_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.updates += 1
        if not self.raced:
            self.raced = True
            self.other.admit(self.other_request)
        return self.client.update_item(**kwargs)


def test_two_containers_racing_count_every_path_once(dynamodb: Any) -> None:
    clock = Clock()
    other = SpendGuard(dynamodb, TABLE, 100, clock=clock)
    racing = RacingClient(dynamodb, other, request(3))
    this = SpendGuard(racing, TABLE, 100, clock=clock)

    sent, guarded = admit(this, request(4))

    assert (len(sent.paths), guarded) == (4, False)
    assert racing.updates == 2  # its first write lost the race, the second counted on top of the other's
    assert stored_total(dynamodb) == 7


def test_the_loser_of_a_race_sees_the_winners_paths_against_the_ceiling(
    dynamodb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    other = SpendGuard(dynamodb, TABLE, 6, clock=clock)
    this = SpendGuard(RacingClient(dynamodb, other, request(3)), TABLE, 6, clock=clock)

    with caplog.at_level(logging.WARNING, logger="cf_invalidator"):
        sent, guarded = admit(this, request(4))

    assert (sent.paths, guarded) == (("/*",), True)  # 3 + 4 would pass 6
    assert stored_total(dynamodb) == 3 + 1
    assert [line["paths_in_window"] for line in guard_lines(caplog)] == [3]


class FailingClient:
    def __init__(self, code: str) -> None:
        self.code = code

    def get_item(self, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "GetItem")

    def update_item(self, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "UpdateItem")


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "ResourceNotFoundException", "InternalServerError"]
)
def test_a_count_that_cannot_be_read_is_taken_as_spent(code: str, caplog: pytest.LogCaptureFixture) -> None:
    guard = SpendGuard(FailingClient(code), TABLE, 1000, clock=Clock())

    with caplog.at_level(logging.WARNING, logger="cf_invalidator"):
        sent, guarded = admit(guard, request(2))

    assert (sent.paths, guarded) == (("/*",), True)
    [line] = guard_lines(caplog)
    assert code in line["reason"] and "not counted" in line["reason"]


def test_a_missing_table_falls_to_a_wildcard(mocked_aws: None) -> None:
    guard = SpendGuard(boto3.client("dynamodb"), "no-such-table", 1000, clock=Clock())

    sent, guarded = admit(guard, request(2))

    assert (sent.paths, sent.message_ids, guarded) == (("/*",), frozenset({"m1"}), True)


def test_the_window_slides_hour_by_hour(dynamodb: Any) -> None:
    # GIVEN 8 of 10 paths reserved in the first hour
    clock = Clock()
    guard = SpendGuard(dynamodb, TABLE, 10, clock=clock)
    assert admit(guard, request(8))[1] is False
    # WHEN 23 hours later 4 more are asked for, THEN the first hour still counts
    clock.now = START + 23 * HOUR + HOUR - 1
    assert admit(guard, request(4))[1] is True
    # WHEN 24 hours after the first hour began, THEN it has left the window and its count is dropped
    clock.now = START + 24 * HOUR
    sent, guarded = admit(guard, request(4))
    assert (len(sent.paths), guarded) == (4, False)
    item = dynamodb.get_item(TableName=TABLE, Key={"distribution_id": {"S": SITE.id}})["Item"]
    hours = {int(name[1:]) for name in item if name.startswith("h")}
    assert int(START // HOUR) not in hours
    assert int(item["expires_at"]["N"]) > clock.now + 24 * HOUR


def test_distributions_are_counted_apart(dynamodb: Any) -> None:
    other = Distribution("docs", "EDOCS")
    guard = SpendGuard(dynamodb, TABLE, 5, clock=Clock())

    assert admit(guard, request(5))[1] is False
    assert admit(guard, request(5, other))[1] is False
    assert (stored_total(dynamodb), stored_total(dynamodb, other.id)) == (5, 5)


def test_a_refit_reserves_only_the_paths_it_adds(dynamodb: Any) -> None:
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    assert admit(guard, request(6))[1] is False

    assert admit(guard, request(4), reserved=6) == (request(4), False)  # fewer paths: nothing more
    assert admit(guard, request(9), reserved=6)[1] is False  # three more
    assert stored_total(dynamodb) == 9


BASE_ENV = {
    "DISTRIBUTIONS": '{"site": {"id": "EABC"}}',
    "MAX_PATHS_PER_INVALIDATION": "100",
    **INBOX_ENVIRONMENT,
}


def test_spend_guard_settings_are_read_from_the_environment() -> None:
    assert (load_config(BASE_ENV).max_paths_per_day, load_config(BASE_ENV).spend_table) == (None, None)
    config = load_config({**BASE_ENV, "MAX_PATHS_PER_DAY": "5000", "SPEND_GUARD_TABLE": TABLE})
    assert (config.max_paths_per_day, config.spend_table) == (5000, TABLE)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MAX_PATHS_PER_DAY": "5000"}, "SPEND_GUARD_TABLE"),
        ({"MAX_PATHS_PER_DAY": "0", "SPEND_GUARD_TABLE": TABLE}, "MAX_PATHS_PER_DAY"),
        ({"MAX_PATHS_PER_DAY": "1.5", "SPEND_GUARD_TABLE": TABLE}, "MAX_PATHS_PER_DAY"),
        ({"MAX_PATHS_PER_DAY": "10", "SPEND_GUARD_TABLE": "a b"}, "SPEND_GUARD_TABLE"),
    ],
)
def test_bad_spend_guard_setting_fails_naming_it(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_config({**BASE_ENV, **environ})


def nothing_created(request: Request, invalidation: Mapping[str, Any]) -> None:
    """The hooks' `created` of a batch without a view of what is in progress."""


def answered() -> Answered:
    return Answered(CloudFrontModel([SITE.id]))


def test_a_request_fitted_again_is_admitted_for_the_paths_it_adds(dynamodb: Any) -> None:
    # GIVEN a guarded request of 4 paths, then fitted again (after a quota refusal) into 7, then 12
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    config = Config(distributions=(SITE,), max_paths=100)
    lines: list[str] = []
    metrics = BatchMetrics(config, "Test", write=lines.append)
    sizes = iter([7, 12])
    hooks = operations_hooks(metrics, guard, lambda stale: request(next(sizes)), nothing_created, answered())
    first = hooks.admit(request(4)).request
    assert hooks.replan is not None
    # WHEN fitted again, THEN only the 3 more paths are reserved
    second = hooks.replan(first)
    assert (len(second.paths), stored_total(dynamodb)) == (7, 7)
    # WHEN fitted again into more than the day allows, THEN it is /* and the metric says so
    third = hooks.replan(second)
    assert (third.paths, stored_total(dynamodb)) == (("/*",), 8)
    metrics.emit()
    [line] = lines
    assert {d.name: d.value for d in emf.data(line)}["SpendGuarded"] == 1


def test_without_a_guard_the_hooks_leave_the_request_and_the_replan_alone() -> None:
    def replan(stale: Request) -> Request:
        return request(2)

    hooks = operations_hooks(NO_METRICS, UNLIMITED, replan, nothing_created, answered())

    assert hooks.admit(request(5)).request == request(5)
    assert hooks.replan(request(5)) == request(2)


# --- a runaway writer past the ceiling, and attempts CloudFront refuses (issue 19, point 8) ------------


def test_a_runaway_writer_past_the_ceiling_gets_one_wildcard_per_interval_and_no_change_is_dropped(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the deploy pipeline with a ceiling of 300 paths a day and the default interval (300 s), on a
    # site of 1,000 pages (so that no cover of a few deploys is /*: it would evict them all)
    world = make_world(monkeypatch, quiet=5, max_wait=120)
    for n in range(1000):
        world.s3.put_object(Bucket="example-site", Key=f"old-{n:04}.html", Body=b"<p>old</p>")
    guard = SpendGuard(dynamodb, TABLE, 300, clock=world.clock)
    container = world.container(spend_guard=guard)
    # WHEN a writer adds 10 new pages every 20 s for 20 minutes (600 pages): each 10 a deploy
    written: dict[str, float] = {}
    for deploy in range(60):
        keys = [f"p{deploy:02}-{page}.html" for page in range(10)]
        written |= dict.fromkeys(keys, world.clock())
        world.write(keys)
        container.run(20)
    container.run(900)
    # THEN the first 30 deploys are billed exactly (300 paths), then one /* every 300 s: for the 31st
    # deploy, then for the deploys written in each interval after it
    exact = [paths for _, paths, _ in world.invalidated_at if paths != ("/*",)]
    wildcards = [at for at, paths, _ in world.invalidated_at if paths == ("/*",)]
    assert sum(len(paths) for paths in exact) == 300
    assert [round(later - earlier) for earlier, later in itertools.pairwise(wildcards)] == [300, 300]
    # AND every page is covered by an invalidation made after it was written, none dead-lettered
    assert {key for key, at in written.items() if world.covered_at(key, since=at) is None} == set()
    assert world.dead_letter_keys() == []


def test_paths_of_attempts_cloudfront_throttled_are_not_counted(dynamodb: Any) -> None:
    # GIVEN a ceiling of 500 and a change of 100 pages that CloudFront throttles for four deliveries
    model = CloudFrontModel([SITE.id])
    config = Config(distributions=(SITE,), max_paths=100, max_paths_per_day=500, spend_table=TABLE)
    guard = SpendGuard(dynamodb, TABLE, 500, clock=lambda: START + model.clock.now())
    model.inject("Throttling", until=350)
    event = sqs_event([s3_body(*(f"p{i}.html" for i in range(100)))], id_prefix="big-")
    for delivery in range(5):
        model.clock.sleep(100 * delivery - model.clock.now())
        response = process_batch(
            event,
            config,
            model,
            model.clock.lambda_deadline(30),
            Collaborators(sleep=model.clock.sleep, spend_guard=guard),
        )
        # THEN each throttled delivery fails its message and counts nothing; the fifth is billed and counted
        assert (failed_ids(response), stored_total(dynamodb)) == (
            (["big-0"], 0) if delivery < 4 else ([], 100)
        )
    assert model.paths_billed(SITE.id) == 100
    # WHEN a small change follows, THEN it is sent as itself, not /*
    process_batch(
        sqs_event([s3_body("small.html")], "s-"),
        config,
        model,
        lambda: 30_000,
        Collaborators(spend_guard=guard),
    )
    assert model.invalidations(SITE.id)[-1].paths == ("/small.html",)
    assert stored_total(dynamodb) == 101


def test_a_wildcard_cloudfront_refused_gives_the_interval_back(dynamodb: Any) -> None:
    # GIVEN a distribution past its ceiling whose /* CloudFront refused (throttled until out of time)
    clock = Clock()
    guard = SpendGuard(dynamodb, TABLE, 5, clock=clock)
    config = Config(distributions=(SITE,), max_paths=100, max_paths_per_day=5, spend_table=TABLE)
    model = CloudFrontModel([SITE.id])
    assert admit(guard, request(5)) == (request(5), False)
    model.inject("Throttling", calls=1000)
    response = process_batch(
        sqs_event([s3_body("a.html")], "a-"), config, model, lambda: 0, Collaborators(spend_guard=guard)
    )
    assert failed_ids(response) == ["a-0"] and model.paths_billed(SITE.id) == 0
    # WHEN the next change comes within the interval, THEN it may send the /* (nothing was sent) ...
    clock.now += 10
    assert admit(guard, request(1))[0].paths == ("/*",)
    # ... and the one after it waits until the interval of that /* ends
    clock.now += 10
    assert guard.admit(request(1)).wait_s == 300 - 10
    assert stored_total(dynamodb) == 5 + 1  # the refused /* given back, the next counted, the waiting one not


def test_a_call_left_unanswered_keeps_its_paths_counted(dynamodb: Any) -> None:
    # GIVEN CloudFront's answer to every call is lost (a read timeout): it may have created the invalidation
    class Unanswered:
        def create_invalidation(self, **kwargs: Any) -> Any:
            raise ReadTimeoutError(endpoint_url="https://cloudfront.amazonaws.com")

    config = Config(distributions=(SITE,), max_paths=100, max_paths_per_day=50, spend_table=TABLE)
    guard = SpendGuard(dynamodb, TABLE, 50, clock=Clock())
    event = sqs_event([s3_body("a.html", "b.html")], "u-")
    response = process_batch(event, config, Unanswered(), lambda: 0, Collaborators(spend_guard=guard))
    # THEN the message is retried and its two paths stay counted (the guard errs toward spent)
    assert failed_ids(response) == ["u-0"] and stored_total(dynamodb) == 2


@pytest.mark.parametrize(("raw", "expected"), [(None, 300), ("60", 60), ("43200", 43200)])
def test_the_interval_between_wildcards_is_read_from_the_environment(raw: str | None, expected: int) -> None:
    environ = BASE_ENV if raw is None else {**BASE_ENV, "SPEND_GUARD_INTERVAL_SECONDS": raw}
    assert load_config(environ).spend_guard_interval_seconds == expected


@pytest.mark.parametrize("raw", ["59", "43201", "5m", ""])
def test_a_bad_interval_between_wildcards_fails_naming_it(raw: str) -> None:
    with pytest.raises(ConfigError, match="SPEND_GUARD_INTERVAL_SECONDS"):
        load_config({**BASE_ENV, "SPEND_GUARD_INTERVAL_SECONDS": raw})


def test_two_containers_past_the_ceiling_send_one_wildcard_and_the_loser_waits(dynamodb: Any) -> None:
    # GIVEN a distribution at its ceiling, and another container claiming the interval's /* between this
    # one's read and its write
    clock = Clock()
    other = SpendGuard(dynamodb, TABLE, 5, clock=clock)
    assert admit(other, request(5)) == (request(5), False)
    racing = RacingClient(dynamodb, other, request(1))
    this = SpendGuard(racing, TABLE, 5, clock=clock)
    # WHEN this one asks for a path, THEN it reads again, sees the other's /* and waits out the interval
    admission = this.admit(request(1))
    assert (admission.request, admission.guarded, admission.wait_s) == (request(1), False, 300)
    assert stored_total(dynamodb) == 5 + 1  # one /* counted, the waiting request nothing


def test_a_refit_sent_as_a_wildcard_counts_only_the_wildcard(dynamodb: Any) -> None:
    # GIVEN 4 paths reserved, then the request fitted again into 12 (past the ceiling of 10): /*
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    hooks = operations_hooks(NO_METRICS, guard, lambda stale: request(12), nothing_created, answered())
    hooks.admit(request(4))
    sent = hooks.replan(request(4))
    assert (sent.paths, stored_total(dynamodb)) == (("/*",), 5)
    # WHEN CloudFront creates the /*, THEN the 4 paths it superseded are given back
    hooks.created(sent, {"Id": "I1"})
    hooks.settle()
    assert stored_total(dynamodb) == 1
