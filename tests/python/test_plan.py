"""GIVEN a batch's changed keys WHEN planned THEN one request per distribution with a stable reference."""

from __future__ import annotations

from cf_invalidator.config import Config, Distribution
from cf_invalidator.plan import caller_reference, plan_requests

WWW = Distribution(label="www", id="EWWW", origin_path="")
BLOG = Distribution(label="blog", id="EBLOG", origin_path="/blog")
CONFIG = Config(distributions=(WWW, BLOG), max_paths=100)


def test_one_request_per_distribution_carrying_only_the_messages_it_serves() -> None:
    requests = plan_requests({"m1": ["blog/index.html"], "m2": ["about.html"]}, CONFIG)
    assert [(r.distribution.label, r.paths, r.message_ids) for r in requests] == [
        ("www", ("/about.html", "/blog/", "/blog/index.html"), frozenset({"m1", "m2"})),
        ("blog", ("/", "/index.html"), frozenset({"m1"})),
    ]


def test_distribution_serving_no_changed_key_gets_no_request() -> None:
    requests = plan_requests({"m1": ["about.html"]}, CONFIG)
    assert [r.distribution.label for r in requests] == ["www"]


def test_duplicate_changes_in_a_batch_become_one_path() -> None:
    requests = plan_requests({"m1": ["a.html"], "m2": ["a.html"], "m3": ["a.html"]}, CONFIG)
    assert requests[0].paths == ("/a.html",)
    assert requests[0].changed_paths == 1


def test_request_over_budget_is_coalesced() -> None:
    small = Config(distributions=(WWW,), max_paths=2)
    requests = plan_requests({"m1": [f"docs/{i}.html" for i in range(5)] + ["a.html"]}, small)
    assert requests[0].paths == ("/a.html", "/docs/*")
    assert requests[0].changed_paths == 6


def test_caller_reference_is_the_same_for_the_same_batch_in_any_order() -> None:
    first = caller_reference("E1", ["/b", "/a"], frozenset({"m2", "m1"}))
    again = caller_reference("E1", ["/a", "/b"], frozenset({"m1", "m2"}))
    assert first == again


def test_caller_reference_changes_with_distribution_paths_or_messages() -> None:
    base = caller_reference("E1", ["/a"], frozenset({"m1"}))
    assert caller_reference("E2", ["/a"], frozenset({"m1"})) != base
    assert caller_reference("E1", ["/b"], frozenset({"m1"})) != base
    assert caller_reference("E1", ["/a"], frozenset({"m1", "m2"})) != base


def test_invalidation_batch_has_matching_quantity_and_the_reference() -> None:
    request = plan_requests({"m1": ["a.html", "b.html"]}, CONFIG)[0]
    batch = request.invalidation_batch()
    assert batch == {
        "Paths": {"Quantity": 2, "Items": ["/a.html", "/b.html"]},
        "CallerReference": request.caller_reference,
    }
    assert len(request.caller_reference) <= 128
