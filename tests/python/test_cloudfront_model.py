"""The CloudFront invalidation model enforces each documented rule (see support/cloudfront_model.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from support.cloudfront_model import EPOCH, CloudFrontModel, VirtualClock

DIST = "E2QWRUHAPOMQZL"
OTHER = "E1OTHERDISTRIB"


def batch(paths: list[str], reference: str = "ref-1", quantity: int | None = None) -> dict[str, Any]:
    count = len(paths) if quantity is None else quantity
    return {"Paths": {"Quantity": count, "Items": paths}, "CallerReference": reference}


def invalidate(
    model: CloudFrontModel, paths: list[str], reference: str = "ref-1", distribution: str = DIST
) -> dict[str, Any]:
    return model.create_invalidation(DistributionId=distribution, InvalidationBatch=batch(paths, reference))


def error_of(
    model: CloudFrontModel, paths: list[str], reference: str = "ref-1", **kwargs: Any
) -> ClientError:
    with pytest.raises(ClientError) as caught:
        invalidate(model, paths, reference, **kwargs)
    return caught.value


def code_and_status(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def model() -> CloudFrontModel:
    return CloudFrontModel([DIST, OTHER], completion_seconds=100.0)


def test_create_returns_botocore_response_shape_with_invalidation_in_progress(model: CloudFrontModel) -> None:
    model.clock.sleep(5)

    response = invalidate(model, ["/index.html", "/docs/*"])

    invalidation = response["Invalidation"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert response["Location"].endswith(f"/distribution/{DIST}/invalidation/{invalidation['Id']}")
    assert invalidation["Status"] == "InProgress"
    assert invalidation["CreateTime"] == datetime.fromtimestamp(EPOCH.timestamp() + 5, EPOCH.tzinfo)
    assert invalidation["InvalidationBatch"] == batch(["/index.html", "/docs/*"])
    assert invalidation["Id"].startswith("I") and len(invalidation["Id"]) == 14


def test_invalidation_completes_after_the_simulated_duration(model: CloudFrontModel) -> None:
    created = invalidate(model, ["/a.html"])["Invalidation"]

    model.clock.sleep(99)
    before = model.get_invalidation(DistributionId=DIST, Id=created["Id"])["Invalidation"]["Status"]
    model.clock.sleep(1)
    after = model.get_invalidation(DistributionId=DIST, Id=created["Id"])["Invalidation"]["Status"]

    assert (before, after) == ("InProgress", "Completed")


def test_unknown_distribution_raises_no_such_distribution_404(model: CloudFrontModel) -> None:
    error = error_of(model, ["/a.html"], distribution="EUNKNOWN")

    assert code_and_status(error) == ("NoSuchDistribution", 404)
    assert isinstance(error, model.exceptions.from_code("NoSuchDistribution"))  # type: ignore[arg-type]
    assert error.operation_name == "CreateInvalidation"
    assert "when calling the CreateInvalidation operation" in str(error)


def test_same_caller_reference_and_paths_returns_existing_invalidation_without_billing(
    model: CloudFrontModel,
) -> None:
    first = invalidate(model, ["/a.html", "/b.html"], "ref-1")
    model.clock.sleep(10)

    retry = invalidate(model, ["/b.html", "/a.html"], "ref-1")

    assert retry["Invalidation"]["Id"] == first["Invalidation"]["Id"]
    assert retry["Invalidation"]["CreateTime"] == first["Invalidation"]["CreateTime"]
    assert len(model.invalidations(DIST)) == 1
    assert model.paths_billed() == 2
    assert model.outcomes() == {"Created": 1, "Deduplicated": 1}


def test_same_caller_reference_with_different_paths_raises_batch_already_exists(
    model: CloudFrontModel,
) -> None:
    invalidate(model, ["/a.html"], "ref-1")

    error = error_of(model, ["/a.html", "/b.html"], "ref-1")

    assert code_and_status(error) == ("InvalidationBatchAlreadyExists", 400)
    assert type(error) is ClientError  # not in botocore's service model: a plain ClientError
    assert len(model.invalidations(DIST)) == 1


def test_caller_reference_is_scoped_to_its_distribution(model: CloudFrontModel) -> None:
    invalidate(model, ["/a.html"], "ref-1", distribution=DIST)

    invalidate(model, ["/b.html"], "ref-1", distribution=OTHER)

    assert [len(model.invalidations(dist)) for dist in (DIST, OTHER)] == [1, 1]


def test_quantity_different_from_items_raises_inconsistent_quantities(model: CloudFrontModel) -> None:
    with pytest.raises(ClientError) as caught:
        model.create_invalidation(DistributionId=DIST, InvalidationBatch=batch(["/a", "/b"], quantity=3))

    assert code_and_status(caught.value) == ("InconsistentQuantities", 400)
    assert model.invalidations(DIST) == []


@pytest.mark.parametrize(
    "path",
    [
        "a.html",  # no leading slash
        "/docs/*/a.html",  # wildcard not last
        "/**",  # two wildcards
        "/" + "a" * 4000,  # 4,001 characters
        "/a b.html",  # raw space
        "/a\tb.html",  # control character
        "/a\x7fb.html",  # DEL
        "/caf\u00e9.html",  # non-ASCII
    ],
)
def test_invalid_path_raises_invalid_argument(model: CloudFrontModel, path: str) -> None:
    error = error_of(model, ["/ok.html", path])

    assert code_and_status(error) == ("InvalidArgument", 400)
    assert model.invalidations(DIST) == []


def test_a_path_told_to_be_rejected_fails_any_request_holding_it_and_no_other(model: CloudFrontModel) -> None:
    model.reject_paths("/bad.html")

    assert code_and_status(error_of(model, ["/ok.html", "/bad.html"])) == ("InvalidArgument", 400)
    invalidate(model, ["/ok.html"], "ref-2")
    assert [inv.paths for inv in model.invalidations(DIST)] == [("/ok.html",)]


def test_empty_batch_raises_invalid_argument(model: CloudFrontModel) -> None:
    assert code_and_status(error_of(model, [])) == ("InvalidArgument", 400)


def test_encoded_and_wildcard_paths_up_to_4000_characters_are_accepted(model: CloudFrontModel) -> None:
    paths = ["/", "/*", "/docs/image*", "/caf%C3%A9%20x.html", "/a~b|c[d]^e.html", "/" + "a" * 3999]

    response = invalidate(model, paths)

    assert response["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == paths


def test_more_than_3000_paths_in_one_request_raises_batch_too_large_413(model: CloudFrontModel) -> None:
    paths = [f"/f{i}.html" for i in range(3001)]

    error = error_of(model, paths, "too-many")
    invalidate(model, paths[:3000], "just-fits")

    assert code_and_status(error) == ("BatchTooLarge", 413)
    assert model.paths_billed() == 3000


def test_more_than_15_wildcards_in_one_request_raises_batch_too_large(model: CloudFrontModel) -> None:
    wildcards = [f"/d{i}/*" for i in range(16)]

    error = error_of(model, wildcards, "too-many")
    invalidate(model, wildcards[:15], "just-fits")

    assert code_and_status(error) == ("BatchTooLarge", 413)


def test_file_paths_in_progress_beyond_3000_raise_too_many_until_one_completes(
    model: CloudFrontModel,
) -> None:
    invalidate(model, [f"/a{i}" for i in range(2000)], "first")
    model.clock.sleep(50)
    invalidate(model, [f"/b{i}" for i in range(1000)], "second")

    refused = error_of(model, ["/c"], "third")
    model.clock.sleep(50)  # the first completes, the second is still in progress
    invalidate(model, [f"/c{i}" for i in range(2000)], "third")

    assert code_and_status(refused) == ("TooManyInvalidationsInProgress", 400)
    assert "in-progress file invalidations" in refused.response["Error"]["Message"]
    assert model.in_progress(DIST) == (3000, 0)


def test_wildcard_paths_in_progress_beyond_15_raise_too_many_independently_of_files(
    model: CloudFrontModel,
) -> None:
    invalidate(model, [f"/d{i}/*" for i in range(15)], "wildcards")
    invalidate(model, [f"/f{i}" for i in range(3000)], "files")

    refused = error_of(model, ["/e/*"], "one-more")
    invalidate(model, ["/e/*"], "elsewhere", distribution=OTHER)

    assert code_and_status(refused) == ("TooManyInvalidationsInProgress", 400)
    assert "wildcard" in refused.response["Error"]["Message"]
    assert model.in_progress(DIST) == (3000, 15)


def test_calls_beyond_the_rate_are_throttled_until_the_bucket_refills() -> None:
    model = CloudFrontModel([DIST], calls_per_second=2.0, burst=3)
    for n in range(3):
        invalidate(model, [f"/{n}"], f"ref-{n}")

    throttled = error_of(model, ["/3"], "ref-3")
    model.clock.sleep(0.5)  # one token back
    invalidate(model, ["/3"], "ref-3")
    still_throttled = error_of(model, ["/4"], "ref-4")

    assert code_and_status(throttled) == ("Throttling", 400)
    assert throttled.response["Error"]["Message"] == "Rate exceeded"
    assert code_and_status(still_throttled) == ("Throttling", 400)
    assert model.outcomes() == {"Created": 4, "Throttling": 2}


def test_no_throttling_unless_a_rate_is_configured(model: CloudFrontModel) -> None:
    for n in range(100):
        invalidate(model, [f"/{n}"], f"ref-{n}")

    assert len(model.invalidations(DIST)) == 100


def test_injected_error_for_the_next_calls_then_recovers(model: CloudFrontModel) -> None:
    model.inject("Throttling", calls=2)

    codes = [code_and_status(error_of(model, ["/a"]))[0] for _ in range(2)]
    invalidate(model, ["/a"])

    assert codes == ["Throttling", "Throttling"]
    assert len(model.invalidations(DIST)) == 1


def test_injected_error_until_a_virtual_time_then_recovers(model: CloudFrontModel) -> None:
    model.inject("ServiceUnavailable", until=30.0)

    early = error_of(model, ["/a"])
    model.clock.sleep(29.9)
    late = error_of(model, ["/a"])
    model.clock.sleep(0.1)
    invalidate(model, ["/a"])

    assert code_and_status(early) == code_and_status(late) == ("ServiceUnavailable", 503)
    assert early.response["Error"]["Type"] == "Receiver"  # type: ignore[typeddict-item]
    assert len(model.invalidations(DIST)) == 1


def test_injected_error_on_one_distribution_always_leaves_the_others_working(model: CloudFrontModel) -> None:
    model.inject("AccessDenied", distribution_id=OTHER)

    denied = [error_of(model, ["/a"], f"ref-{n}", distribution=OTHER) for n in range(3)]
    invalidate(model, ["/a"], distribution=DIST)

    assert {code_and_status(error) for error in denied} == {("AccessDenied", 403)}
    assert f"distribution/{OTHER}" in denied[0].response["Error"]["Message"]
    assert [len(model.invalidations(dist)) for dist in (DIST, OTHER)] == [1, 0]


def test_injecting_an_unknown_error_code_is_refused(model: CloudFrontModel) -> None:
    with pytest.raises(ValueError, match="unknown error code 'Throttled'"):
        model.inject("Throttled")


def test_crash_after_successes_raises_once_before_the_call_takes_effect(model: CloudFrontModel) -> None:
    model.crash_after(1, RuntimeError("killed"))
    invalidate(model, ["/a"], "ref-a", distribution=DIST)

    with pytest.raises(RuntimeError, match="killed"):
        invalidate(model, ["/b"], "ref-b", distribution=OTHER)
    invalidate(model, ["/b"], "ref-b", distribution=OTHER)

    assert model.outcomes() == {"Created": 2, "Crashed": 1}
    assert [len(model.invalidations(dist)) for dist in (DIST, OTHER)] == [1, 1]


def test_crash_after_effect_keeps_the_invalidation_and_a_retry_is_not_billed_again(
    model: CloudFrontModel,
) -> None:
    model.crash_after(0, TimeoutError("response lost"), after_effect=True)

    with pytest.raises(TimeoutError):
        invalidate(model, ["/a", "/b"], "ref-1")
    retry = invalidate(model, ["/a", "/b"], "ref-1")

    assert retry["Invalidation"]["Id"] == model.invalidations(DIST)[0].id
    assert model.paths_billed() == 2


def test_paths_billed_counts_each_new_path_once_and_a_wildcard_as_one(model: CloudFrontModel) -> None:
    invalidate(model, ["/a", "/b", "/docs/*"], "ref-1", distribution=DIST)
    invalidate(model, ["/a", "/b", "/docs/*"], "ref-1", distribution=DIST)  # retry: free
    invalidate(model, ["/a"], "ref-2", distribution=DIST)  # a new invalidation: billed again
    invalidate(model, ["/*"], "ref-1", distribution=OTHER)

    assert (model.paths_billed(DIST), model.paths_billed(OTHER), model.paths_billed()) == (4, 1, 5)


def test_covers_exact_paths_and_wildcard_prefixes_on_that_distribution_only(model: CloudFrontModel) -> None:
    invalidate(model, ["/a.html", "/docs/*", "/img/logo*"])

    assert model.covers(DIST, "/a.html")
    assert model.covers(DIST, "/docs/deep/page.html")
    assert model.covers(DIST, "/img/logo-2.png")
    assert not model.covers(DIST, "/a.htm")
    assert not model.covers(DIST, "/docs")
    assert not model.covers(DIST, "/img/icon.png")
    assert not model.covers(OTHER, "/a.html")


def test_refused_calls_cover_nothing(model: CloudFrontModel) -> None:
    model.inject("ServiceUnavailable", calls=1)

    error_of(model, ["/a.html"])

    assert not model.covers(DIST, "/a.html")
    assert model.paths_billed() == 0


def test_virtual_clock_sleep_advances_time_and_rejects_negative_lengths() -> None:
    clock = VirtualClock(start=10.0)

    clock.sleep(2.5)

    assert clock.now() == 12.5
    assert clock.datetime() == datetime.fromtimestamp(EPOCH.timestamp() + 12.5, EPOCH.tzinfo)
    with pytest.raises(ValueError, match="non-negative"):
        clock.sleep(-1)


def test_lambda_deadline_counts_down_with_virtual_sleep_and_stops_at_zero() -> None:
    clock = VirtualClock()
    clock.sleep(100)
    remaining_ms = clock.lambda_deadline(timeout_seconds=30)

    readings = [remaining_ms()]
    clock.sleep(29.5)
    readings.append(remaining_ms())
    clock.sleep(10)
    readings.append(remaining_ms())

    assert readings == [30_000, 500, 0]


def test_model_and_handler_share_one_clock() -> None:
    clock = VirtualClock()
    shared = CloudFrontModel([DIST], clock, completion_seconds=10)
    invalidate(shared, ["/a"])

    clock.sleep(10)

    assert shared.in_progress(DIST) == (0, 0)


def test_list_invalidations_returns_all_newest_first_with_current_status(model: CloudFrontModel) -> None:
    first = invalidate(model, ["/a"], "ref-1")["Invalidation"]["Id"]
    model.clock.sleep(60)
    second = invalidate(model, ["/b"], "ref-2")["Invalidation"]["Id"]
    model.clock.sleep(40)

    listing = model.list_invalidations(DistributionId=DIST)["InvalidationList"]

    assert [(item["Id"], item["Status"]) for item in listing["Items"]] == [
        (second, "InProgress"),
        (first, "Completed"),
    ]
    assert (listing["Quantity"], listing["IsTruncated"]) == (2, False)


def test_get_unknown_invalidation_raises_no_such_invalidation(model: CloudFrontModel) -> None:
    with pytest.raises(ClientError) as caught:
        model.get_invalidation(DistributionId=DIST, Id="INOPE")

    assert code_and_status(caught.value) == ("NoSuchInvalidation", 404)
    assert caught.value.operation_name == "GetInvalidation"


@pytest.mark.parametrize(
    "invalidation_batch",
    [
        {"Paths": {"Quantity": 1, "Items": ["/a"]}},  # no CallerReference
        {"Paths": {"Quantity": "1", "Items": ["/a"]}, "CallerReference": "r"},
        {"Paths": {"Quantity": 1, "Items": "/a"}, "CallerReference": "r"},
        {"CallerReference": "r"},
    ],
)
def test_malformed_parameters_raise_param_validation_error_without_a_call(
    model: CloudFrontModel, invalidation_batch: dict[str, Any]
) -> None:
    with pytest.raises(ParamValidationError):
        model.create_invalidation(DistributionId=DIST, InvalidationBatch=invalidation_batch)

    assert model.calls == []


def test_missing_or_unknown_parameters_raise_param_validation_error(model: CloudFrontModel) -> None:
    with pytest.raises(ParamValidationError, match="DistributionId must be a string"):
        model.create_invalidation(InvalidationBatch=batch(["/a"]))
    with pytest.raises(ParamValidationError, match="Unknown parameter in input: 'Paths'"):
        model.create_invalidation(DistributionId=DIST, InvalidationBatch=batch(["/a"]), Paths=["/a"])

    assert model.calls == []


def test_responses_are_copies_that_cannot_change_the_model(model: CloudFrontModel) -> None:
    response = invalidate(model, ["/a"])

    response["Invalidation"]["InvalidationBatch"]["Paths"]["Items"].append("/b")

    assert model.invalidations(DIST)[0].paths == ("/a",)
    assert not model.covers(DIST, "/b")


def test_list_invalidations_pages_with_max_items_and_next_marker(model: CloudFrontModel) -> None:
    ids = [invalidate(model, [f"/{n}"], f"ref-{n}")["Invalidation"]["Id"] for n in range(3)]

    first = model.list_invalidations(DistributionId=DIST, MaxItems="2")["InvalidationList"]
    rest = model.list_invalidations(DistributionId=DIST, MaxItems="2", Marker=first["NextMarker"])[
        "InvalidationList"
    ]

    assert [item["Id"] for item in first["Items"]] == [ids[2], ids[1]]
    assert (first["IsTruncated"], first["NextMarker"], first["MaxItems"], first["Marker"]) == (
        True,
        ids[1],
        2,
        "",
    )
    assert [item["Id"] for item in rest["Items"]] == [ids[0]]
    assert (rest["IsTruncated"], rest["Marker"], "NextMarker" in rest) == (False, ids[1], False)


def test_list_invalidations_takes_max_items_as_a_string_like_botocore(model: CloudFrontModel) -> None:
    with pytest.raises(ParamValidationError):
        model.list_invalidations(DistributionId=DIST, MaxItems=2)
