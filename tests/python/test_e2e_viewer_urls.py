"""Viewer URLs end to end (the mode "none" deployment, see conftest.py): the rewrite options and "auto" go
from Terraform through the function's environment to the paths invalidated on moto's CloudFront, and the
deployed function checks each distribution's configuration (GetDistributionConfig on moto).

Changes are sent to the queue as S3 notification bodies (the bucket is wired by hand in another test, so
these tests do not depend on it); the expected paths come from the oracle (support/path_oracle.py),
which for "auto" reads the distribution's configuration back from moto itself."""

from __future__ import annotations

import pytest

from support.demo_site import unchanged_neighbours
from support.deployment import Deployment
from support.path_oracle import required_paths, routed_required_paths
from support.sqs_events import s3_body

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(deployments: dict[str, Deployment]) -> Deployment:
    """The deployment, its bucket holding unchanged neighbours of the keys these tests change: with them
    the cheapest cover of each change is its exact paths, not a wildcard (tree.py), so that the paths
    each option adds are visible one by one."""
    deployment = deployments["none"]
    s3 = deployment.server.client("s3")
    for folder, count in (("", 40), ("guide/", 10), ("docs/", 10), ("pages/", 40), ("static/assets/", 10)):
        unchanged_neighbours(s3, deployment.bucket, [f"{folder}same-{n}.html" for n in range(count)])
    deployment.deliver().check({})  # the bucket may be wired to the queue by test_e2e_mode_none.py
    return deployment


def deliver(site: Deployment, *keys: str) -> None:
    """The S3 notifications of `keys` reach the queue, and the queue is delivered to the function."""
    delivery = site.deliver(
        lambda: site.server.client("sqs").send_message(
            QueueUrl=site.outputs["queue_url"], MessageBody=s3_body(*keys, bucket=site.bucket)
        )
    )
    assert delivery.outcomes, "the queue delivered nothing"
    delivery.check({})  # drained, nothing dead-lettered: the tests judge the paths themselves


def test_rewrite_options_invalidate_every_url_a_rewrite_serves(site: Deployment) -> None:
    # GIVEN "pretty" (directory_without_slash, strip_extensions [".html"]) and "site" (no option)
    keys = ["guide/index.html", "a b.html", "index.html", "app.js"]
    watch = site.watch()
    # WHEN the keys change
    deliver(site, *keys)
    # THEN "pretty" gets the rewritten URLs too, "site" only the object's own, as the oracle says
    found = site.new_paths_by_label(watch)
    options = {"directory_without_slash": True, "strip_extensions": [".html"]}
    assert found["pretty"] == {p for key in keys for p in required_paths(key, **options)}  # type: ignore[arg-type]
    assert found["site"] == {p for key in keys for p in required_paths(key)}
    assert {"/guide", "/guide/index", "/a%20b", "/a%20b.html", "/index"} <= found["pretty"]
    assert "/guide" not in found["site"]


def test_distribution_serving_another_bucket_logs_a_mismatch_and_is_still_invalidated(
    site: Deployment,
) -> None:
    watch = site.watch()
    since = len(site.function.logs)
    deliver(site, "docs/a.html")
    mismatches = site.function.decisions("distribution_mismatch", since)
    assert {(m["distribution"], m["cause"]) for m in mismatches} == {("other", "no_origin_for_bucket")}
    [line] = mismatches
    assert line["level"] == "ERROR"
    assert line["distribution_id"] == site.distributions["other"]
    assert line["origins"] == [
        {"id": "elsewhere", "domain": f"elsewhere-{site.bucket}.s3.amazonaws.com", "origin_path": ""}
    ]
    assert site.new_paths_by_label(watch)["other"] == {"/docs/a.html"}


def test_auto_invalidates_each_key_where_its_behaviour_serves_it_and_nowhere_else(site: Deployment) -> None:
    # GIVEN "auto": /assets/* from static/ (global domain), the rest from pages/ (regional domain)
    config = site.server.client("cloudfront").get_distribution_config(Id=site.distributions["auto"])
    keys = [
        "pages/about.html",
        "pages/index.html",
        "static/assets/app.js",
        "pages/assets/app.js",
        "static/a.js",
    ]
    watch = site.watch()
    # WHEN the keys change
    deliver(site, *keys)
    # THEN each is invalidated where a behaviour routes to its origin, by the oracle over the same config
    found = site.new_paths_by_label(watch)["auto"]
    expected = {
        p for key in keys for p in routed_required_paths(key, config["DistributionConfig"], site.bucket)
    }
    assert found == expected
    assert found == {"/about.html", "/", "/index.html", "/assets/app.js"}
