"""GIVEN a spend guard on a DynamoDB table (in-process moto) WHEN requests add up past max_paths_per_day
THEN further requests are `/*`, however many containers race, and whatever the table cannot say."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cf_invalidator.batch import process_batch
from cf_invalidator.config import Config, ConfigError, Distribution, load_config
from cf_invalidator.metrics import BatchMetrics
from cf_invalidator.operations import operations_hooks
from cf_invalidator.plan import Request
from cf_invalidator.spend_guard import SpendGuard
from support import emf
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import s3_body, sqs_event

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
            process_batch(event, config, model, lambda: 60_000, spend_guard=guard, metrics=metrics)
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

    sent, guarded = guard.admit(request(4))

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

    sent, guarded = this.admit(request(4))

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
        sent, guarded = this.admit(request(4))

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
        sent, guarded = guard.admit(request(2))

    assert (sent.paths, guarded) == (("/*",), True)
    [line] = guard_lines(caplog)
    assert code in line["reason"] and "not counted" in line["reason"]


def test_a_missing_table_falls_to_a_wildcard(mocked_aws: None) -> None:
    guard = SpendGuard(boto3.client("dynamodb"), "no-such-table", 1000, clock=Clock())

    sent, guarded = guard.admit(request(2))

    assert (sent.paths, sent.message_ids, guarded) == (("/*",), frozenset({"m1"}), True)


def test_the_window_slides_hour_by_hour(dynamodb: Any) -> None:
    # GIVEN 8 of 10 paths reserved in the first hour
    clock = Clock()
    guard = SpendGuard(dynamodb, TABLE, 10, clock=clock)
    assert guard.admit(request(8))[1] is False
    # WHEN 23 hours later 4 more are asked for, THEN the first hour still counts
    clock.now = START + 23 * HOUR + HOUR - 1
    assert guard.admit(request(4))[1] is True
    # WHEN 24 hours after the first hour began, THEN it has left the window and its count is dropped
    clock.now = START + 24 * HOUR
    sent, guarded = guard.admit(request(4))
    assert (len(sent.paths), guarded) == (4, False)
    item = dynamodb.get_item(TableName=TABLE, Key={"distribution_id": {"S": SITE.id}})["Item"]
    hours = {int(name[1:]) for name in item if name.startswith("h")}
    assert int(START // HOUR) not in hours
    assert int(item["expires_at"]["N"]) > clock.now + 24 * HOUR


def test_distributions_are_counted_apart(dynamodb: Any) -> None:
    other = Distribution("docs", "EDOCS")
    guard = SpendGuard(dynamodb, TABLE, 5, clock=Clock())

    assert guard.admit(request(5))[1] is False
    assert guard.admit(request(5, other))[1] is False
    assert (stored_total(dynamodb), stored_total(dynamodb, other.id)) == (5, 5)


def test_a_refit_reserves_only_the_paths_it_adds(dynamodb: Any) -> None:
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    assert guard.admit(request(6))[1] is False

    assert guard.admit(request(4), reserved=6) == (request(4), False)  # fewer paths: nothing more
    assert guard.admit(request(9), reserved=6)[1] is False  # three more
    assert stored_total(dynamodb) == 9


BASE_ENV = {"DISTRIBUTIONS": '{"site": {"id": "EABC"}}', "MAX_PATHS_PER_INVALIDATION": "100"}


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


def test_a_request_fitted_again_is_admitted_for_the_paths_it_adds(dynamodb: Any) -> None:
    # GIVEN a guarded request of 4 paths, then fitted again (after a quota refusal) into 7, then 12
    guard = SpendGuard(dynamodb, TABLE, 10, clock=Clock())
    config = Config(distributions=(SITE,), max_paths=100)
    lines: list[str] = []
    metrics = BatchMetrics(config, "Test", write=lines.append)
    sizes = iter([7, 12])
    hooks = operations_hooks(metrics, guard, lambda stale: request(next(sizes)), None)
    first = hooks.admit(request(4))
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

    hooks = operations_hooks(None, None, replan, None)

    assert hooks.admit(request(5)) == request(5)
    assert hooks.replan is replan
    assert (hooks.created, hooks.retrying) == (None, None)
