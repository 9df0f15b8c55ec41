"""GIVEN a distribution's configuration (GetDistributionConfig) WHEN the handler reads it THEN mismatches with
the inputs are logged once per read, "auto" maps keys where the oracle says they are served, and a failed
read never drops a change."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cf_invalidator.aws.distribution_config import (
    NO_BUCKET_ORIGIN,
    ORIGIN_PATH_NOT_FOUND,
    READ_EVERY_S,
    RETRY_FAILED_S,
    ROOT_OBJECT_DIFFERS,
    DistributionConfigs,
    endpoint_kind,
    mismatches,
    resolve,
    routing_of,
)
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.paths import viewer_paths
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.path_oracle import required_paths, routed_required_paths

BUCKET = "site-bucket"


def origin(origin_id: str, domain: str, origin_path: str = "") -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": domain, "OriginPath": origin_path}


def behaviour(pattern: str, target: str) -> dict[str, str]:
    return {"PathPattern": pattern, "TargetOriginId": target}


# /assets/* and *.pdf from static/ (global REST domain), /old/* from a failover group of site/ and
# backup/, /ext/* from another bucket, the rest from site/ (regional domain); index.html at /.
ROUTED: dict[str, Any] = {
    "DefaultRootObject": "index.html",
    "Origins": {
        "Quantity": 4,
        "Items": [
            origin("site", f"{BUCKET}.s3.eu-west-1.amazonaws.com", "/site"),
            origin("static", f"{BUCKET}.s3.amazonaws.com", "/static"),
            origin("backup", f"{BUCKET}.s3-website-eu-west-1.amazonaws.com", "/backup"),
            origin("ext", "other-bucket.s3.amazonaws.com"),
        ],
    },
    "OriginGroups": {
        "Quantity": 1,
        "Items": [{"Id": "failover", "Members": {"Items": [{"OriginId": "site"}, {"OriginId": "backup"}]}}],
    },
    "DefaultCacheBehavior": {"TargetOriginId": "site"},
    "CacheBehaviors": {
        "Quantity": 4,
        "Items": [
            behaviour("/assets/*", "static"),
            behaviour("*.pdf", "static"),
            behaviour("old/*", "failover"),
            behaviour("/ext/*", "ext"),
        ],
    },
}


class FakeCloudFront:
    """GetDistributionConfig from a table of configurations, or an error; counts the calls."""

    def __init__(self, configs: Mapping[str, Mapping[str, Any]]) -> None:
        self.configs = dict(configs)
        self.calls = 0
        self.error: str | None = None

    def get_distribution_config(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls += 1
        if self.error is not None:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetDistributionConfig")
        return {"DistributionConfig": self.configs[kwargs["Id"]], "ETag": "E1"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def decisions(caplog: pytest.LogCaptureFixture, decision: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "decision", None) == decision]


@pytest.mark.parametrize(
    ("domain", "kind"),
    [
        (f"{BUCKET}.s3.amazonaws.com", "rest"),
        (f"{BUCKET}.s3.eu-west-1.amazonaws.com", "rest"),
        (f"{BUCKET}.s3-us-west-2.amazonaws.com", "rest"),
        (f"{BUCKET}.s3.dualstack.eu-west-1.amazonaws.com", "rest"),
        (f"{BUCKET}.s3.cn-north-1.amazonaws.com.cn", "rest"),
        (f"{BUCKET}.s3-website-us-east-1.amazonaws.com", "website"),
        (f"{BUCKET}.s3-website.eu-central-1.amazonaws.com", "website"),
        ("Site-Bucket.S3.amazonaws.com", "rest"),
        (f"other-{BUCKET}.s3.amazonaws.com", None),
        (f"{BUCKET}-2.s3.amazonaws.com", None),
        (f"{BUCKET}.example.com", None),
        ("d111111abcdef8.cloudfront.net", None),
    ],
)
def test_bucket_endpoints_are_told_apart_from_other_origins(domain: str, kind: str | None) -> None:
    assert endpoint_kind(domain, BUCKET) == kind


KEYS = [
    "site/index.html",
    "site/docs/index.html",
    "site/docs/a.html",
    "site/assets/app.js",
    "static/assets/app.js",
    "static/assets/~a b.js",
    "static/report.pdf",
    "static/docs/report.pdf",
    "site/report.pdf",
    "site/old/a.html",
    "backup/old/a.html",
    "backup/a.html",
    "site/ext/x.js",
    "ext/x.js",
    "index.html",
    "static/app.js",
    "site/Assets/a.js",
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("without_slash", "extensions"), [(False, ()), (True, (".html",))])
def test_auto_maps_each_key_where_the_oracle_says_it_is_served(
    key: str, without_slash: bool, extensions: tuple[str, ...]
) -> None:
    routing = routing_of(ROUTED, BUCKET)
    distribution = Distribution("a", "E1", "auto", without_slash, extensions, routing)
    found = viewer_paths(key, distribution, "index.html")
    expected = routed_required_paths(
        key, ROUTED, BUCKET, directory_without_slash=without_slash, strip_extensions=extensions
    )
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_auto_routes_by_behaviour_and_nowhere_else() -> None:
    distribution = Distribution("a", "E1", "auto", routing=routing_of(ROUTED, BUCKET))
    assert viewer_paths("static/assets/app.js", distribution, "index.html") == ["/assets/app.js"]
    assert viewer_paths("site/assets/app.js", distribution, "index.html") == []
    assert viewer_paths("site/index.html", distribution, "index.html") == ["/", "/index.html"]
    assert viewer_paths("backup/old/a.html", distribution, "index.html") == ["/old/a.html"]
    assert viewer_paths("ext/x.js", distribution, "index.html") == []


@settings(max_examples=200)
@given(
    key=st.lists(
        st.sampled_from(
            ["site", "static", "backup", "assets", "old", "ext", "index.html", "a.pdf", "~x", "b"]
        ),
        min_size=1,
        max_size=4,
    ).map("/".join)
)
def test_auto_agrees_with_the_oracle_for_any_key(key: str) -> None:
    distribution = Distribution("a", "E1", "auto", True, (".pdf",), routing_of(ROUTED, BUCKET))
    expected = routed_required_paths(
        key, ROUTED, BUCKET, directory_without_slash=True, strip_extensions=[".pdf"]
    )
    assert set(viewer_paths(key, distribution, "index.html")) == expected


@pytest.mark.parametrize(
    ("entry", "causes"),
    [
        (Distribution("s", "E1", "/site"), []),
        (Distribution("s", "E1", "/static"), []),
        (Distribution("s", "E1", ""), [ORIGIN_PATH_NOT_FOUND]),
        (Distribution("s", "E1", "/docs"), [ORIGIN_PATH_NOT_FOUND]),
        (Distribution("s", "E1", "auto"), []),
    ],
)
def test_mismatch_when_no_origin_of_the_bucket_has_the_origin_path(
    entry: Distribution, causes: list[str]
) -> None:
    assert mismatches(entry, ROUTED, BUCKET) == causes


def test_mismatch_when_no_origin_is_the_bucket() -> None:
    other = {**ROUTED, "Origins": {"Items": [origin("ext", "other-bucket.s3.amazonaws.com")]}}
    assert mismatches(Distribution("s", "E1", ""), other, BUCKET) == [NO_BUCKET_ORIGIN]
    assert mismatches(Distribution("s", "E1", "auto"), other, BUCKET) == [NO_BUCKET_ORIGIN]


def config_of(*distributions: Distribution, verify: bool = True) -> Config:
    return Config(distributions, 100, bucket_name=BUCKET, verify_distributions=verify)


def test_mismatch_is_logged_once_per_read_naming_the_origins(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a distribution configured with an origin path no origin of the bucket has
    cloudfront, clock = FakeCloudFront({"E1": ROUTED}), Clock()
    configs = DistributionConfigs(cloudfront, BUCKET, clock=clock)
    config = config_of(Distribution("www", "E1", "/docs"))
    # WHEN batches are resolved within the read interval, then after it
    for _ in range(3):
        resolved, unresolved = resolve(config, configs)
    clock.now = READ_EVERY_S
    resolve(config, configs)
    # THEN it was read twice, logged twice (ERROR), and invalidation proceeds as configured
    assert cloudfront.calls == 2
    lines = decisions(caplog, "distribution_mismatch")
    assert [(r.levelname, r.cause, r.distribution_id) for r in lines] == [  # type: ignore[attr-defined]
        ("ERROR", ORIGIN_PATH_NOT_FOUND, "E1"),
    ] * 2
    assert lines[0].origins[0] == {  # type: ignore[attr-defined]
        "id": "site",
        "domain": f"{BUCKET}.s3.eu-west-1.amazonaws.com",
        "origin_path": "/site",
    }
    # (with the root object the distribution serves, here the index document: nothing else changes)
    served = replace(config.distributions[0], default_root_object="index.html")
    assert (resolved, unresolved) == (replace(config, distributions=(served,)), ())
    json.dumps(lines[0].origins)  # type: ignore[attr-defined]


def test_without_verification_only_auto_distributions_are_read(caplog: pytest.LogCaptureFixture) -> None:
    cloudfront = FakeCloudFront({"E2": ROUTED})
    config = config_of(Distribution("www", "E1", "/wrong"), Distribution("a", "E2", "auto"), verify=False)
    resolved, unresolved = resolve(config, DistributionConfigs(cloudfront, BUCKET))
    assert cloudfront.calls == 1
    assert unresolved == ()
    assert resolved.distributions[0] == config.distributions[0]
    assert resolved.distributions[1].routing == routing_of(ROUTED, BUCKET)
    assert decisions(caplog, "distribution_mismatch") == []


def test_failed_read_is_logged_once_and_changes_nothing_else(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a role denied the read
    cloudfront, clock = FakeCloudFront({"E1": ROUTED}), Clock()
    cloudfront.error = "AccessDenied"
    configs = DistributionConfigs(cloudfront, BUCKET, clock=clock)
    config = config_of(Distribution("www", "E1", "/site"))
    caplog.set_level(logging.DEBUG, logger="cf_invalidator")
    # WHEN batches are resolved, with retries of the read
    for step in range(3):
        clock.now = step * RETRY_FAILED_S
        resolved, unresolved = resolve(config, configs)
        assert (resolved, unresolved) == (config, ())
    # THEN each failed read was tried, and logged as a WARNING once
    assert cloudfront.calls == 3
    lines = decisions(caplog, "distribution_config_unreadable")
    assert [r.levelname for r in lines] == ["WARNING", "DEBUG", "DEBUG"]
    assert lines[0].reason == "AccessDenied"  # type: ignore[attr-defined]


def test_failed_refresh_keeps_the_last_configuration_read() -> None:
    cloudfront, clock = FakeCloudFront({"E1": ROUTED}), Clock()
    configs = DistributionConfigs(cloudfront, BUCKET, clock=clock)
    config = config_of(Distribution("a", "E1", "auto"), verify=False)
    first, _ = resolve(config, configs)
    cloudfront.error = "Throttling"
    clock.now = READ_EVERY_S + 1
    again, unresolved = resolve(config, configs)
    assert cloudfront.calls == 2
    assert unresolved == ()
    assert again == first


def record(message_id: str, key: str) -> dict[str, str]:
    body = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key}}}]}
    return {"messageId": message_id, "body": json.dumps(body)}


class Invalidations:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        self.batches.append((kwargs["DistributionId"], kwargs["InvalidationBatch"]["Paths"]["Items"]))
        return {"Invalidation": {"Id": f"I{len(self.batches)}", "Status": "InProgress"}}


def test_unreadable_auto_distribution_fails_its_messages_and_invalidates_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN an "auto" distribution whose configuration cannot be read, beside a fixed one
    cloudfront = FakeCloudFront({})
    cloudfront.error = "AccessDenied"
    configs = DistributionConfigs(cloudfront, BUCKET)
    config = config_of(Distribution("a", "E2", "auto"), Distribution("www", "E1"), verify=False)
    created = Invalidations()
    retried: list[tuple[list[str], int | None]] = []

    def postpone(records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None:
        retried.append(([r["messageId"] for r in records], delay_s))

    # WHEN a batch arrives
    response = process_batch(
        {"Records": [record("m1", "site/a.html"), record("m2", "b.html")]},
        config,
        created,
        lambda: 60_000,
        Collaborators(resolve=lambda c, d: resolve(c, configs, d), postpone=postpone),
    )
    # THEN the fixed distribution is invalidated, and every message is retried with backoff (a flush
    # keeps their changes for its next try: a configuration read may succeed then), none dropped
    assert created.batches == [("E1", ["/b.html", "/site/a.html"])]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert retried == [(["m1", "m2"], None)]
    [line] = decisions(caplog, "distribution_unresolved")
    assert (line.levelname, line.distribution_id, line.messages) == ("ERROR", "E2", 2)  # type: ignore[attr-defined]


def test_auto_distribution_is_invalidated_where_its_behaviours_serve_the_keys() -> None:
    configs = DistributionConfigs(FakeCloudFront({"E2": ROUTED}), BUCKET)
    config = config_of(Distribution("a", "E2", "auto"), verify=True)
    created = Invalidations()
    response = process_batch(
        {"Records": [record("m1", "static/assets/app.js"), record("m2", "site/assets/app.js")]},
        config,
        created,
        lambda: 60_000,
        Collaborators(resolve=lambda c, d: resolve(c, configs, d)),
    )
    assert created.batches == [("E2", ["/assets/app.js"])]
    assert response == {"batchItemFailures": []}


def single_origin(root_object: str, origin_path: str = "") -> dict[str, Any]:
    """A distribution of the bucket alone (REST origin), serving `root_object` at `/` ("": none)."""
    return {
        "DefaultRootObject": root_object,
        "Origins": {"Items": [origin("s3", f"{BUCKET}.s3.eu-west-1.amazonaws.com", origin_path)]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3"},
    }


@pytest.mark.parametrize(
    ("given", "configured", "origin_path", "causes"),
    [
        ("", "", "", []),
        ("", "index.html", "", []),  # the index document at the root: mapped so without the input
        ("", "home.html", "", [ROOT_OBJECT_DIFFERS]),  # a root object that is not the index document
        ("home.html", "home.html", "", []),
        ("home.html", "", "", [ROOT_OBJECT_DIFFERS]),  # the reverse: one given the distribution lacks
        ("home.html", "start.html", "", [ROOT_OBJECT_DIFFERS]),
        ("index.html", "", "", [ROOT_OBJECT_DIFFERS]),
        ("", "home.html", "auto", []),  # "auto" asks for no input: its root object is read
        ("home.html", "start.html", "auto", [ROOT_OBJECT_DIFFERS]),
    ],
)
def test_mismatch_when_the_default_root_object_differs_from_the_inputs(
    given: str, configured: str, origin_path: str, causes: list[str]
) -> None:
    entry = Distribution("s", "E1", origin_path, default_root_object=given)
    assert mismatches(entry, single_origin(configured), BUCKET, "index.html") == causes


def test_verified_distribution_invalidates_the_root_for_its_default_root_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a verified distribution serving `/` from home.html, the module's index document index.html
    configs = DistributionConfigs(FakeCloudFront({"E1": single_origin("home.html")}), BUCKET)
    config = config_of(Distribution("www", "E1"))
    created = Invalidations()
    # WHEN home.html and index.html change
    response = process_batch(
        {"Records": [record("m1", "home.html"), record("m2", "index.html")]},
        config,
        created,
        lambda: 60_000,
        Collaborators(resolve=lambda c, d: resolve(c, configs, d)),
    )
    # THEN `/` is invalidated for home.html (not for index.html), as the documented rule says
    [(distribution_id, paths)] = created.batches
    expected = {
        p for key in ("home.html", "index.html") for p in required_paths(key, default_root_object="home.html")
    }
    assert (distribution_id, set(paths)) == ("E1", expected)
    assert "/" in paths
    assert response == {"batchItemFailures": []}
    # AND the inputs' disagreement is logged, naming both root objects
    [line] = decisions(caplog, "distribution_mismatch")
    assert (line.levelname, line.cause) == ("ERROR", ROOT_OBJECT_DIFFERS)  # type: ignore[attr-defined]
    assert (line.default_root_object, line.configured_root_object) == ("", "home.html")  # type: ignore[attr-defined]


def test_root_object_is_relative_to_the_origin_path_of_a_verified_distribution() -> None:
    configs = DistributionConfigs(FakeCloudFront({"E1": single_origin("home.html", "/site")}), BUCKET)
    config = config_of(Distribution("www", "E1", "/site"))
    resolved, _ = resolve(config, configs)
    [served] = resolved.distributions
    assert set(viewer_paths("site/home.html", served, "index.html")) == {"/", "/home.html"}
    assert viewer_paths("home.html", served, "index.html") == []


def test_given_root_object_maps_the_root_without_any_read() -> None:
    cloudfront = FakeCloudFront({})
    config = config_of(Distribution("www", "E1", default_root_object="home.html"), verify=False)
    created = Invalidations()
    process_batch(
        {"Records": [record("m1", "home.html")]},
        config,
        created,
        lambda: 60_000,
        Collaborators(resolve=lambda c, d: resolve(c, DistributionConfigs(cloudfront, BUCKET), d)),
    )
    assert cloudfront.calls == 0
    assert created.batches == [("E1", ["/", "/home.html"])]


@example(key="site/index.html", root_object="home.html")  # `/` is home.html's, not index.html's
@example(key="site/home.html", root_object="home.html")
@settings(max_examples=100)
@given(
    key=st.lists(
        st.sampled_from(["site", "static", "assets", "index.html", "home.html", "b"]), min_size=1, max_size=3
    ).map("/".join),
    root_object=st.sampled_from(["", "index.html", "home.html", "assets/home.html"]),
)
def test_auto_maps_the_root_object_where_the_oracle_says(key: str, root_object: str) -> None:
    configuration = {**ROUTED, "DefaultRootObject": root_object}
    config = config_of(Distribution("a", "E1", "auto"), verify=False)
    resolved, _ = resolve(config, DistributionConfigs(FakeCloudFront({"E1": configuration}), BUCKET))
    [served] = resolved.distributions
    expected = routed_required_paths(key, configuration, BUCKET)
    assert set(viewer_paths(key, served, "index.html")) == expected
