"""Change detection end to end: the demo site re-uploaded whole, as a CI deploy does, on versioned buckets.

`aws s3 sync` from a fresh checkout uploads every file, changed or not. Through S3 notifications (mode
"s3", examples/basic) and EventBridge (mode "eventbridge", examples/multi-distribution, two distributions,
one with origin path "/docs"), the deployed function must invalidate what changed and nothing else, and
say in its log what it skipped. The deployments and their versioned buckets are the session's (conftest).

Each deploy is judged by its end state once the queue is drained (deployment.Delivery): nothing left in
the queue or the dead-letter queue, every changed key's viewer paths invalidated (by the path oracle),
and no path beyond the changes', however the emulation cut the batches: the function accepts them into
its deploy inbox and plans each distribution's changes once the upload is quiet (docs/deploy-flush.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from support.demo_site import FOLDERS, site_keys, upload, wait_for_next_second
from support.deployment import EXAMPLE_SITES, Delivery, Deployment, required_paths_by_label

pytestmark = pytest.mark.e2e

SITES = {
    "basic": site_keys(),
    # Through moto's EventBridge, keys that read the same URL-encoded or not (see
    # test_e2e_multi_distribution.py): the folders without a space.
    "multi-distribution": site_keys(tuple(folder for folder in FOLDERS if " " not in folder)),
}
CHANGED = ("index.html", "blog/2026/style.css", "docs/api/page-07.html")
DELETED = "docs/guide/index.html"


def expected_paths(site: UploadedSite, keys: Iterable[str]) -> dict[str, set[str]]:
    """The viewer paths `keys` need on each distribution of the site's example, by the path oracle."""
    return required_paths_by_label(keys, EXAMPLE_SITES[site.name])


def judged(site: UploadedSite, keys: Iterable[str]) -> int:
    """How many (key, distribution) pairs the function judges: each distribution's flush compares the
    keys its origin path serves (written from EXAMPLE_SITES, not from the code under test)."""
    prefixes = [f"{origin.strip('/')}/" if origin else "" for origin in EXAMPLE_SITES[site.name].values()]
    return sum(key.startswith(prefix) for key in keys for prefix in prefixes)


@dataclass
class UploadedSite:
    """The demo site in a deployment's versioned bucket, and the version of each key's bytes there."""

    name: str
    deployment: Deployment
    versions: dict[str, str]
    first: Delivery | None = field(default=None)

    def deploy(self, change: Callable[[], None]) -> Delivery:
        """Make `change` in a later second than every earlier write (see wait_for_next_second), then
        drive the queue until it is drained and return the end state."""
        wait_for_next_second()
        return self.deployment.deliver(change)

    def sync(self, new_versions: Mapping[str, str] | None = None) -> Delivery:
        """Upload every key, as `aws s3 sync` does from a fresh checkout; `new_versions` changes a few."""
        self.versions.update(new_versions or {})
        return self.deploy(lambda: upload(self.s3, self.deployment.bucket, self.versions))

    @property
    def s3(self) -> Any:
        return self.deployment.server.client("s3")


@pytest.fixture(scope="module", params=sorted(SITES))
def site(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> UploadedSite:
    """The site uploaded once to the deployment's bucket, and delivered."""
    uploaded = UploadedSite(
        request.param, deployments[request.param], dict.fromkeys(SITES[request.param], "v1")
    )
    uploaded.first = uploaded.sync()
    return uploaded


def test_bucket_keeps_versions(site: UploadedSite) -> None:
    versioning = site.s3.get_bucket_versioning(Bucket=site.deployment.bucket)
    assert versioning["Status"] == "Enabled"


def test_first_upload_invalidates_every_page_as_new_under_few_wildcards(site: UploadedSite) -> None:
    """Every page is new: every one of their viewer paths is invalidated, under at most 20 paths a
    distribution (tree.py, cover.py: a wildcard over new pages evicts little)."""
    assert site.first is not None
    site.first.check(required=expected_paths(site, SITES[site.name]))
    assert all(len(paths) <= 20 for paths in site.first.paths.values()), site.first.paths
    assert not site.first.logged("unchanged_skipped")
    assert site.first.logged("cover_planned")


def test_unchanged_reupload_of_the_whole_site_invalidates_nothing(site: UploadedSite) -> None:
    # GIVEN the site uploaded and delivered (the fixture)
    # WHEN every file is uploaded again with the same bytes and headers
    delivery = site.sync()
    # THEN, once the queue is drained, nothing dead-lettered and no path on any distribution
    keys = judged(site, site.versions)
    delivery.check(required={}, allowed={})
    # AND each distribution's flush logged every key it serves as unchanged, with two HEADs a key and no
    # listing of its own: the tree's listing of the changed directories held every key's history
    assert delivery.total("unchanged_skipped") == keys
    assert delivery.total("unchanged_skipped", "list_calls") == 0
    assert delivery.total("unchanged_skipped", "keys_from_tree") == keys
    assert delivery.total("unchanged_skipped", "head_calls") == 2 * keys
    assert not delivery.logged("changes_unverified")


def test_changing_three_files_invalidates_exactly_their_paths(site: UploadedSite) -> None:
    # GIVEN the site uploaded and delivered
    # WHEN the whole site is uploaded again with three files changed
    delivery = site.sync(dict.fromkeys(CHANGED, "v2-changed"))
    # THEN exactly their viewer paths are invalidated, on each distribution that serves them
    unchanged = judged(site, set(site.versions) - set(CHANGED))
    expected = expected_paths(site, CHANGED)
    delivery.check(required=expected, allowed=expected)
    if "docs" in delivery.paths:  # origin path /docs: only the docs/ page, without its prefix
        assert delivery.paths["docs"] == {"/api/page-07.html"}
    # AND the others were skipped as unchanged (the changed ones' ETags differ: no HEAD for them)
    assert delivery.total("unchanged_skipped") == unchanged
    assert delivery.total("unchanged_skipped", "head_calls") == 2 * unchanged
    assert not delivery.logged("changes_unverified")


def test_deleting_a_file_invalidates_its_paths(site: UploadedSite) -> None:
    # GIVEN the site uploaded and delivered
    # WHEN an index document is deleted (in a versioned bucket: a delete marker)
    delivery = site.deploy(lambda: site.s3.delete_object(Bucket=site.deployment.bucket, Key=DELETED))
    del site.versions[DELETED]
    # THEN its paths are invalidated (the directory's too) on each distribution that serves it, no other
    expected = expected_paths(site, [DELETED])
    delivery.check(required=expected, allowed=expected)
    listing = site.s3.list_object_versions(Bucket=site.deployment.bucket, Prefix=DELETED)
    [marker] = [m for m in listing["DeleteMarkers"] if m["Key"] == DELETED and m["IsLatest"]]
    assert marker["VersionId"] not in {v["VersionId"] for v in listing["Versions"]}


def test_one_file_changed_still_invalidates_exactly_its_paths(site: UploadedSite) -> None:
    # GIVEN the site, every page unchanged by the last deploy but three
    # WHEN one index document is uploaded with new bytes
    key = "blog/index.html"
    delivery = site.deploy(lambda: upload(site.s3, site.deployment.bucket, {key: "v3-one"}))
    site.versions[key] = "v3-one"
    # THEN its two paths, no wildcard: /blog/* would evict the blog's unchanged pages
    expected = expected_paths(site, [key])
    delivery.check(required=expected, allowed=expected)


def test_full_regeneration_reuploaded_whole_invalidates_few_paths_covering_every_change(
    site: UploadedSite,
) -> None:
    # GIVEN a generated site under regen/ (the demo site's tree), uploaded once
    keys = [f"regen/{key}" for key in SITES[site.name]]
    site.deploy(lambda: upload(site.s3, site.deployment.bucket, dict.fromkeys(keys, "v1"))).check({})
    # WHEN it is regenerated and re-uploaded whole: every page new but two stylesheets
    same = {"regen/blog/style.css", "regen/docs/style.css"}
    regenerated = {key: "v1" if key in same else "v2-regenerated" for key in keys}
    delivery = site.deploy(lambda: upload(site.s3, site.deployment.bucket, regenerated))
    # THEN every changed key is covered, by at most 20 paths on each distribution
    delivery.check(required=expected_paths(site, set(keys) - same))
    assert all(len(paths) <= 20 for paths in delivery.paths.values()), delivery.paths
    assert delivery.logged("cover_planned")
