"""GIVEN invalidations already made on a distribution (by another container, or by this one) WHEN a batch
reports changes THEN a key is left out there only when every viewer path of it is covered by an
invalidation of that distribution created at least 60 s after the change was written (in progress or
completed), and is invalidated otherwise: later or within the margin, another distribution, part of its
paths, no event time, a newer write in the same batch, an invalidation not read within the bounds.

Virtual time: the model's CreateTime is EPOCH + its clock, and the events say they were written at
EPOCH + the seconds given. Each expected outcome is worked out by hand from the rule."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import boto3
import pytest

from cf_invalidator import in_progress as module
from cf_invalidator.batch import process_batch
from cf_invalidator.collaborators import NO_QUOTA_VIEW, Collaborators, QuotaView
from cf_invalidator.config import Config, Distribution
from cf_invalidator.in_progress import InProgressCache
from support.cloudfront_model import EPOCH, CloudFrontModel, CountingCloudFront
from support.deployment import create_distribution
from support.sqs_events import eventbridge_body, failed_ids, s3_body, sqs_event

SITE = Distribution("site", "ESITE")
OTHER = Distribution("other", "EOTHER")
CONFIG = Config(distributions=(SITE, OTHER), max_paths=100)


def stamp(seconds: float) -> str:
    """An S3 eventTime `seconds` after the model's epoch."""
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Handler:
    """process_batch on the model, with one container's cache kept across batches."""

    def __init__(self, completion_seconds: float = 25, config: Config = CONFIG) -> None:
        self.model = CloudFrontModel([SITE.id, OTHER.id], completion_seconds=completion_seconds)
        self.client = CountingCloudFront(self.model)
        self.cache: QuotaView = InProgressCache(self.client, clock=self.model.clock.now)
        self.config = config
        self.references = 0

    def elsewhere(self, distribution: Distribution, *paths: str) -> str:
        """An invalidation another container creates now."""
        self.references += 1
        batch = {
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": f"else-{self.references}",
        }
        made = self.model.create_invalidation(DistributionId=distribution.id, InvalidationBatch=batch)
        return str(made["Invalidation"]["Id"])

    def at(self, seconds: float) -> Handler:
        self.model.clock.sleep(seconds - self.model.clock.now())
        return self

    def run(self, *bodies: str, prefix: str = "m") -> dict[str, list[dict[str, str]]]:
        return process_batch(
            sqs_event(bodies, prefix),
            self.config,
            self.client,
            self.model.clock.lambda_deadline(60),
            Collaborators(sleep=self.model.clock.sleep, in_progress=self.cache),
        )

    def made(self, distribution: Distribution) -> list[tuple[str, ...]]:
        """The paths of each invalidation created on the distribution, oldest first."""
        return [inv.paths for inv in self.model.invalidations(distribution.id)]


@pytest.fixture
def handler() -> Handler:
    return Handler()


def covered_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [vars(r) for r in caplog.records if vars(r).get("decision") == "already_covered"]


def test_a_change_written_before_a_covering_invalidation_is_left_out(
    handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    covering = handler.at(61).elsewhere(SITE, "/a.html")
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    response = handler.at(70).run(s3_body("a.html", "b.html", event_time=stamp(0)))

    assert response == {"batchItemFailures": []}
    assert handler.made(SITE) == [("/a.html",), ("/b.html",)]  # the other's, then only b
    assert handler.made(OTHER) == [("/a.html", "/b.html")]  # never covered there
    [line] = covered_lines(caplog)
    assert line["key_count"] == 1
    assert (line["msg"], line["levelno"]) == ("already_covered", logging.INFO)
    assert line["distributions"]["site"] == {
        "distribution_id": SITE.id,
        "keys_left_out": 1,
        "example_key": "a.html",
        "covering_invalidations": 1,
        "example_invalidation_ids": [covering],
        "invalidations_read": 1,
        "list_calls": 1,
        "get_calls": 0,  # the quota reading had read its paths (it is in progress)
        "bound_hit": None,
    }
    assert line["distributions"]["other"]["keys_left_out"] == 0


@pytest.mark.parametrize("written", [1.001, 10, 61, 100])
def test_a_change_written_after_or_within_the_margin_before_the_invalidation_is_invalidated(
    handler: Handler, written: float, caplog: pytest.LogCaptureFixture
) -> None:
    handler.at(61).elsewhere(SITE, "/a.html")
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    handler.at(120).run(s3_body("a.html", event_time=stamp(written)))

    assert handler.made(SITE) == [("/a.html",), ("/a.html",)]
    assert covered_lines(caplog) == []  # nothing left out, no bound hit: no line


def test_exactly_the_margin_before_counts(handler: Handler) -> None:
    handler.at(60).elsewhere(SITE, "/a.html")

    handler.at(70).run(s3_body("a.html", event_time=stamp(0)))

    assert handler.made(SITE) == [("/a.html",)]


def test_an_invalidation_of_another_distribution_never_counts(handler: Handler) -> None:
    handler.at(100).elsewhere(OTHER, "/*")

    handler.at(110).run(s3_body("a.html", event_time=stamp(0)))

    assert handler.made(SITE) == [("/a.html",)]
    assert handler.made(OTHER) == [("/*",)]  # covered there: left out


def test_an_index_document_is_left_out_only_when_both_its_paths_are_covered(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/docs/index.html", "/blog/", "/blog/index.html")

    handler.at(110).run(s3_body("docs/index.html", "blog/index.html", event_time=stamp(0)))

    assert handler.made(SITE)[1:] == [("/docs/", "/docs/index.html")]


def test_a_wildcard_covers_what_it_matches_and_nothing_else(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/docs/*")

    handler.at(110).run(s3_body("docs/a.html", "docs/deep/index.html", "docsx.html", event_time=stamp(0)))

    assert handler.made(SITE)[1:] == [("/docsx.html",)]


@pytest.mark.parametrize("completion_seconds", [1, 1000], ids=["completed", "in_progress"])
def test_in_progress_and_completed_invalidations_both_count(completion_seconds: float) -> None:
    handler = Handler(completion_seconds=completion_seconds)
    handler.at(100).elsewhere(SITE, "/a.html")

    handler.at(110).run(s3_body("a.html", event_time=stamp(0)))

    assert handler.made(SITE) == [("/a.html",)]
    assert handler.model.in_progress(SITE.id) == ((1, 0) if completion_seconds > 10 else (0, 0))


def test_the_containers_own_invalidation_counts_without_a_call(handler: Handler) -> None:
    handler.at(60).run(s3_body("a.html", event_time=stamp(0)), prefix="first")
    calls = (handler.client.lists, handler.client.gets)

    response = handler.at(65).run(s3_body("a.html", event_time=stamp(0)), prefix="again")  # S3 sent it twice

    assert response == {"batchItemFailures": []}
    assert handler.made(SITE) == [("/a.html",)]
    assert calls == (2, 0)  # one listing per distribution, nothing to read
    # the second batch lists again (each batch reads what is in progress) but reads no paths: its own
    assert (handler.client.lists, handler.client.gets) == (calls[0] + 2, 0)


def test_the_containers_own_invalidation_counts_after_the_cache_expired_without_reading_its_paths(
    handler: Handler,
) -> None:
    handler.at(60).run(s3_body("a.html", event_time=stamp(0)), prefix="first")

    handler.at(500).run(s3_body("a.html", event_time=stamp(0)), prefix="again")

    assert handler.made(SITE) == [("/a.html",)]
    assert handler.client.gets == 0


def test_an_invalidation_read_once_is_not_read_again(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/a/*")

    handler.at(110).run(s3_body("a/1.html", event_time=stamp(0)), prefix="one")
    handler.at(300).run(s3_body("a/2.html", event_time=stamp(0)), prefix="two")

    assert handler.made(SITE) == [("/a/*",)]
    assert handler.client.gets == 1


def test_a_change_without_an_event_time_is_invalidated(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/*")

    handler.at(110).run(s3_body("a.html"))

    assert handler.made(SITE) == [("/*",), ("/a.html",)]


def test_eventbridge_time_counts_like_an_event_time(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/a.html")

    handler.at(110).run(eventbridge_body("a.html", time="2025-01-01T00:00:00Z"))

    assert handler.made(SITE) == [("/a.html",)]


def test_two_writes_of_a_key_in_a_batch_need_the_newer_one_covered(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/a.html")

    response = handler.at(110).run(
        s3_body("a.html", event_time=stamp(0)), s3_body("a.html", event_time=stamp(90))
    )

    assert response == {"batchItemFailures": []}
    assert handler.made(SITE) == [("/a.html",), ("/a.html",)]


def test_without_a_view_of_invalidations_nothing_is_left_out(handler: Handler) -> None:
    handler.at(100).elsewhere(SITE, "/*")
    handler.cache = NO_QUOTA_VIEW

    handler.at(110).run(s3_body("a.html", event_time=stamp(0)))

    assert handler.made(SITE) == [("/*",), ("/a.html",)]


def test_a_message_left_with_no_key_is_done_and_the_rest_is_invalidated(handler: Handler) -> None:
    config = Config(distributions=(SITE,), max_paths=100)
    handler.config = config
    handler.at(100).elsewhere(SITE, "/old/*")

    response = handler.at(110).run(
        s3_body("old/a.html", event_time=stamp(0)), s3_body("new.html", event_time=stamp(0))
    )

    assert response == {"batchItemFailures": []}
    assert handler.made(SITE) == [("/old/*",), ("/new.html",)]
    assert handler.model.invalidations(SITE.id)[1].caller_reference == _reference_of(handler, "m1")


def _reference_of(handler: Handler, *message_ids: str) -> str:
    from cf_invalidator.plan import caller_reference  # noqa: PLC0415

    return caller_reference(SITE.id, ["/new.html"], frozenset(message_ids))


def test_invalidations_past_the_read_bound_cover_nothing_and_the_bound_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Completed ones: the quota reading (which reads those in progress) leaves their paths unknown."""
    monkeypatch.setattr(module, "MAX_COVER_READS", 2)
    handler = Handler(completion_seconds=1)
    handler.at(100).elsewhere(SITE, "/a.html")  # the oldest: read last, past the bound
    handler.elsewhere(SITE, "/b.html")
    handler.elsewhere(SITE, "/c.html")
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    handler.at(110).run(s3_body("a.html", "b.html", "c.html", event_time=stamp(0)))

    assert handler.made(SITE)[3:] == [("/a.html",)]
    assert handler.client.gets == 2
    [line] = covered_lines(caplog)
    site = line["distributions"]["site"]
    assert (site["keys_left_out"], site["get_calls"], site["bound_hit"]) == (
        2,
        2,
        "more than 2 invalidations to read",
    )


def test_invalidations_past_the_page_bound_cover_nothing(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(module, "LIST_PAGE_SIZE", 2)
    handler.at(100).elsewhere(SITE, "/a.html")  # on the fourth page: never listed
    for n in range(2 * module.MAX_LIST_PAGES):
        handler.elsewhere(SITE, f"/n{n}.html")
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    handler.at(200).run(s3_body("a.html", "n0.html", event_time=stamp(0)), prefix="one")

    assert handler.made(SITE)[-1] == ("/a.html",)
    [line] = covered_lines(caplog)
    assert line["distributions"]["site"]["keys_left_out"] == 1  # n0.html, listed
    assert "beyond 3 pages" in line["distributions"]["site"]["bound_hit"]


def test_a_listing_refused_leaves_only_the_containers_own_invalidations_to_count(
    handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    class NoList(CountingCloudFront):
        def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
            self.lists += 1
            raise self.model._error("AccessDenied", "ListInvalidations")

    handler.client = NoList(handler.model)
    handler.cache = InProgressCache(handler.client, clock=handler.model.clock.now)
    handler.at(60).elsewhere(SITE, "/b.html")
    handler.run(s3_body("a.html", event_time=stamp(0)), prefix="first")  # creates /a.html at 60
    caplog.set_level(logging.INFO, logger="cf_invalidator")
    caplog.clear()  # only the second batch's lines (the first's are kept when the level was INFO already)

    handler.at(70).run(s3_body("a.html", "b.html", event_time=stamp(0)), prefix="again")

    assert handler.made(SITE) == [("/b.html",), ("/a.html",), ("/b.html",)]
    [line] = covered_lines(caplog)
    assert (line["distributions"]["site"]["keys_left_out"], line["distributions"]["site"]["bound_hit"]) == (
        1,
        "AccessDenied",
    )


def test_a_failed_read_of_paths_covers_nothing(handler: Handler) -> None:
    class NoGet(CountingCloudFront):
        def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
            self.gets += 1
            raise self.model._error("ServiceUnavailable", "GetInvalidation")

    handler.client = NoGet(handler.model)
    handler.cache = InProgressCache(handler.client, clock=handler.model.clock.now)
    handler.at(100).elsewhere(SITE, "/a.html")

    response = handler.at(110).run(s3_body("a.html", event_time=stamp(0)))

    assert response == {"batchItemFailures": []}
    assert handler.made(SITE) == [("/a.html",), ("/a.html",)]


def test_moto_reports_invalidations_completed_at_once_with_the_time_they_were_made(mocked_aws: None) -> None:
    """moto's CloudFront says COMPLETED at once, with CreateTime = when it was made: the end-to-end tests
    see every earlier invalidation as completed, and the dedupe counts it like any other."""
    cloudfront = boto3.client("cloudfront")
    distribution = Distribution("site", create_distribution(cloudfront, "example-site"))
    batch = {"Paths": {"Quantity": 1, "Items": ["/a.html"]}, "CallerReference": "elsewhere"}
    made = cloudfront.create_invalidation(DistributionId=distribution.id, InvalidationBatch=batch)[
        "Invalidation"
    ]
    written = made["CreateTime"] - timedelta(seconds=61)
    event_time = written.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    config = Config(distributions=(distribution,), max_paths=100)

    response = process_batch(
        sqs_event([s3_body("a.html", "b.html", event_time=event_time)]),
        config,
        cloudfront,
        lambda: 60_000,
        Collaborators(in_progress=InProgressCache(cloudfront)),
    )

    listed = cloudfront.list_invalidations(DistributionId=distribution.id)["InvalidationList"]["Items"]
    [new] = [item["Id"] for item in listed if item["Id"] != made["Id"]]  # moto lists oldest first
    new_paths = cloudfront.get_invalidation(DistributionId=distribution.id, Id=new)["Invalidation"]
    assert made["Status"] == "COMPLETED"
    assert failed_ids(response) == []
    assert new_paths["InvalidationBatch"]["Paths"]["Items"] == ["/b.html"]
