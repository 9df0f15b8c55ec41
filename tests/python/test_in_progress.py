"""GIVEN invalidations on a distribution WHEN the handler reads what is in progress THEN it counts the
file and wildcard paths of those in progress with a bounded number of calls, keeps the answer briefly,
and gives None (plan as without the view), logged once, when it cannot read it.

Expected counts are worked out by hand from the invalidations each test creates."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest

from cf_invalidator.aws import in_progress as module
from cf_invalidator.aws.in_progress import InProgressCache, InProgressLookupError, Made, read_in_progress
from cf_invalidator.core.coalesce import InProgress
from support.cloudfront_model import CloudFrontModel, CountingCloudFront, VirtualClock
from support.deployment import create_distribution

DIST = "EDIST"


def create(model: CloudFrontModel, paths: list[str], reference: str) -> str:
    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}
    response = model.create_invalidation(DistributionId=DIST, InvalidationBatch=batch)
    return str(response["Invalidation"]["Id"])


@pytest.fixture
def model() -> CloudFrontModel:
    return CloudFrontModel([DIST], VirtualClock(), completion_seconds=100)


def test_counts_the_paths_of_invalidations_in_progress_only(model: CloudFrontModel) -> None:
    create(model, ["/old.html", "/old/*"], "old")
    model.clock.sleep(150)  # completed
    create(model, ["/a.html", "/b.html", "/docs/*"], "one")
    create(model, ["/*"], "two")

    ids, state = read_in_progress(model, DIST, {})

    assert state == InProgress(files=2, wildcards=2)
    assert len(ids) == 2


def test_pages_through_the_listing_while_pages_hold_invalidations_in_progress(
    model: CloudFrontModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "LIST_PAGE_SIZE", 2)
    for n in range(5):
        create(model, [f"/p{n}/*"], f"ref-{n}")
    client = CountingCloudFront(model)

    _, state = read_in_progress(client, DIST, {})

    assert state == InProgress(wildcards=5)
    assert (client.lists, client.gets) == (3, 5)  # pages of 2, 2 and 1


def test_stops_at_the_first_page_with_nothing_in_progress(
    model: CloudFrontModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "LIST_PAGE_SIZE", 2)
    for n in range(6):
        create(model, [f"/old{n}.html"], f"old-{n}")
    model.clock.sleep(150)
    create(model, ["/new.html"], "new")
    client = CountingCloudFront(model)

    _, state = read_in_progress(client, DIST, {})

    assert state == InProgress(files=1)
    assert client.lists == 2  # [new, old5] then [old4, old3]: nothing in progress, stop


def test_more_pages_in_progress_than_the_bound_is_a_failed_lookup(
    model: CloudFrontModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "LIST_PAGE_SIZE", 2)
    for n in range(2 * module.MAX_LIST_PAGES + 1):
        create(model, [f"/f{n}.html"], f"ref-{n}")
    client = CountingCloudFront(model)

    with pytest.raises(InProgressLookupError, match=f"beyond {2 * module.MAX_LIST_PAGES} listed"):
        read_in_progress(client, DIST, {})
    assert client.lists == module.MAX_LIST_PAGES


def test_paths_already_known_are_not_read_again(model: CloudFrontModel) -> None:
    first = create(model, ["/a.html"], "one")
    known: dict[str, Made] = {first: Made(first, ("/a.html",))}
    create(model, ["/b/*"], "two")
    client = CountingCloudFront(model)

    _, state = read_in_progress(client, DIST, known)
    _, again = read_in_progress(client, DIST, known)

    assert state == again == InProgress(files=1, wildcards=1)
    assert client.gets == 1  # only "two", once


def test_too_many_new_invalidations_are_read_over_several_lookups(
    model: CloudFrontModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "MAX_PATH_READS", 3)
    for n in range(5):
        create(model, [f"/f{n}.html"], f"ref-{n}")
    client = CountingCloudFront(model)
    known: dict[str, Made] = {}

    with pytest.raises(InProgressLookupError, match="more than 3"):
        read_in_progress(client, DIST, known)
    _, state = read_in_progress(client, DIST, known)

    assert state == InProgress(files=5)
    assert client.gets == 5


def test_exactly_the_bound_of_new_invalidations_is_read_in_one_lookup(
    model: CloudFrontModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "MAX_PATH_READS", 3)
    for n in range(3):
        create(model, [f"/f{n}.html"], f"ref-{n}")
    client = CountingCloudFront(model)

    _, state = read_in_progress(client, DIST, {})

    assert state == InProgress(files=3)
    assert client.gets == 3


def test_an_invalidation_listed_without_items_counts_no_path(model: CloudFrontModel) -> None:
    """botocore leaves out an empty list: Paths {"Quantity": 0} has no Items key."""

    class NoItems(CountingCloudFront):
        def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
            answer = super().get_invalidation(**kwargs)
            del answer["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
            return answer

    create(model, ["/a.html"], "one")

    assert read_in_progress(NoItems(model), DIST, {})[1] == InProgress()


def test_completed_invalidations_stop_counting_but_their_paths_stay_known(model: CloudFrontModel) -> None:
    """Kept until the path bound drops them: never read again."""
    known: dict[str, Made] = {}
    made = create(model, ["/a.html"], "one")
    read_in_progress(model, DIST, known)
    model.clock.sleep(150)

    ids, state = read_in_progress(model, DIST, known)

    assert (ids, state, list(known)) == (frozenset(), InProgress(), [made])


def test_cache_answers_within_its_time_and_reads_again_after(model: CloudFrontModel) -> None:
    client = CountingCloudFront(model)
    cache = InProgressCache(client, ttl_s=10, clock=model.clock.now)
    create(model, ["/a/*"], "one")

    assert cache.get(DIST) == InProgress(wildcards=1)
    create(model, ["/b/*"], "two")  # made elsewhere: not seen until the cache expires
    model.clock.sleep(9.9)
    assert cache.get(DIST) == InProgress(wildcards=1)
    assert client.lists == 1
    model.clock.sleep(0.1)
    assert cache.get(DIST) == InProgress(wildcards=2)
    assert client.lists == 2


def test_cache_time_counts_from_the_read_on_a_clock_far_from_zero(model: CloudFrontModel) -> None:
    """time.monotonic() starts anywhere: only the time since the read matters."""
    model.clock.sleep(5000)
    client = CountingCloudFront(model)
    cache = InProgressCache(client, ttl_s=10, clock=model.clock.now)

    cache.get(DIST)
    model.clock.sleep(9)
    cache.get(DIST)

    assert client.lists == 1


def test_refresh_reads_again_at_once(model: CloudFrontModel) -> None:
    client = CountingCloudFront(model)
    cache = InProgressCache(client, clock=model.clock.now)
    cache.get(DIST)
    create(model, ["/a/*"], "one")

    assert cache.get(DIST, refresh=True) == InProgress(wildcards=1)
    assert client.lists == 2


def test_recorded_invalidation_is_counted_at_once_and_never_read(model: CloudFrontModel) -> None:
    client = CountingCloudFront(model)
    cache = InProgressCache(client, clock=model.clock.now)
    assert cache.get(DIST) == InProgress()
    made = create(model, ["/a.html", "/b/*"], "one")

    cache.record(DIST, made, ["/a.html", "/b/*"])
    cache.record(DIST, made, ["/a.html", "/b/*"])  # the same one again (a deduplicated retry)

    assert cache.get(DIST) == InProgress(files=1, wildcards=1)
    assert cache.get(DIST, refresh=True) == InProgress(files=1, wildcards=1)
    assert client.gets == 0


def test_invalidation_recorded_before_any_read_is_known_and_never_read(model: CloudFrontModel) -> None:
    client = CountingCloudFront(model)
    cache = InProgressCache(client, clock=model.clock.now)
    made = create(model, ["/a.html", "/b/*"], "one")

    cache.record(DIST, made, ["/a.html", "/b/*"])

    assert cache.get(DIST) == InProgress(files=1, wildcards=1)
    assert (client.lists, client.gets) == (1, 0)


def test_invalidation_recorded_within_the_cache_time_is_counted_without_a_call(
    model: CloudFrontModel,
) -> None:
    client = CountingCloudFront(model)
    cache = InProgressCache(client, clock=model.clock.now)
    cache.get(DIST)
    made = create(model, ["/a.html", "/b/*"], "one")

    cache.record(DIST, made, ["/a.html", "/b/*"])

    assert cache.get(DIST) == InProgress(files=1, wildcards=1)
    assert client.lists == 1


def test_access_denied_gives_no_view_and_is_logged_once(
    model: CloudFrontModel, caplog: pytest.LogCaptureFixture
) -> None:
    class OldRole(CountingCloudFront):
        def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
            self.lists += 1
            raise self.model._error("AccessDenied", "ListInvalidations")

    client = OldRole(model)
    cache = InProgressCache(client, ttl_s=10, clock=model.clock.now)
    caplog.set_level(logging.DEBUG, logger="cf_invalidator")

    assert cache.get(DIST) is None
    assert cache.get(DIST) is None  # kept like an answer: no second call
    model.clock.sleep(10)
    assert cache.get(DIST) is None

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [
        (r.getMessage(), vars(r)["decision"], vars(r)["distribution_id"], vars(r)["reason"]) for r in warnings
    ] == [("quota_lookup_failed", "quota_lookup_failed", DIST, "AccessDenied")]
    assert client.lists == 2


def test_moto_answers_the_lookup_in_the_shape_botocore_expects(mocked_aws: None) -> None:
    """The end-to-end tests run the handler against moto: its listing must page and parse like AWS's."""
    cloudfront = boto3.client("cloudfront")
    distribution_id = create_distribution(cloudfront, "example-site")
    for n in range(3):
        batch = {"Paths": {"Quantity": 1, "Items": [f"/{n}.html"]}, "CallerReference": f"ref-{n}"}
        cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)

    first = cloudfront.list_invalidations(DistributionId=distribution_id, MaxItems="2")["InvalidationList"]
    rest = cloudfront.list_invalidations(
        DistributionId=distribution_id, MaxItems="2", Marker=first["NextMarker"]
    )["InvalidationList"]
    one = cloudfront.get_invalidation(DistributionId=distribution_id, Id=first["Items"][0]["Id"])

    assert (first["IsTruncated"], len(first["Items"]), rest["IsTruncated"], len(rest["Items"])) == (
        True,
        2,
        False,
        1,
    )
    assert set(first["Items"][0]) == {"Id", "CreateTime", "Status"}
    assert one["Invalidation"]["InvalidationBatch"]["Paths"]["Quantity"] == 1
    assert read_in_progress(cloudfront, distribution_id, {})[1] == InProgress()  # moto: all completed


def test_known_invalidations_keep_at_most_their_path_bound_dropping_the_least_recently_used() -> None:
    known = module.KnownInvalidations(max_paths=5)
    known["A"] = Made("A", ("/1", "/2"))
    known["B"] = Made("B", ("/3", "/4"))
    assert known["A"].id == "A"  # used: B is now the least recently used

    known["C"] = Made("C", ("/5", "/6"))

    assert sorted(known) == ["A", "C"]
    known["D"] = Made("D", tuple(f"/{n}" for n in range(9)))  # alone over the bound: kept alone
    assert list(known) == ["D"]
