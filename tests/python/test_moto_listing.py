"""The replay's two speed-ups over moto change no answer (bench/moto_listing.py, bench/backend_s3.py).

GIVEN a versioned bucket with several versions per key, delete markers, keys that are prefixes of other
keys and nested directories, WHEN it is listed page by page with every kind of Prefix, Delimiter,
MaxKeys and marker (ListObjectVersions) or continuation token and StartAfter (ListObjectsV2), THEN the
narrowed listing returns exactly what moto's own does, and the backend client returns what boto3
returns through moto's HTTP layer (the fields change detection and a reader of the tree read). The
replay's wrappers: recorded answers last only until the bucket changes; uploads are published before
every call.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws
from moto.s3.models import S3Backend, s3_backends

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from backend_s3 import BackendS3, Published, RecordedS3
from moto_listing import narrowed, narrowed_version_listing

from cf_invalidator.core.history import fingerprint
from support.moto_server import ACCOUNT_ID, FAKE_AWS_ENVIRONMENT, REGION

BUCKET = "listing-check"
# Keys that are prefixes of others ("a" of "a/b" and "ab"), nested directories, a deleted key.
KEYS = ("a", "a/b", "a/b/c.html", "a/bc", "ab", "a.html", "dir/x.html", "dir/x.html.gz", "dir/sub/y", "z")
PREFIXES = ("", "a", "a/", "a/b", "a/b/", "ab", "dir/", "dir/x.html", "dir/sub/", "none/")


@pytest.fixture
def bucket() -> Iterator[Any]:
    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws():
        import boto3  # noqa: PLC0415

        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for round_, key in itertools.product(range(3), KEYS):
            s3.put_object(
                Bucket=BUCKET, Key=key, Body=f"{key} {round_ % 2}".encode(), ContentType="text/html"
            )
        for key in ("a/bc", "dir/x.html", "z"):
            s3.delete_object(Bucket=BUCKET, Key=key)
        s3.put_object(Bucket=BUCKET, Key="z", Body=b"back", CacheControl="max-age=60", Metadata={"m": "1"})
        s3.put_object(
            Bucket=BUCKET,
            Key="dir/x.html.gz",
            Body=b"gz",
            ContentType="text/html",
            ContentEncoding="gzip",
            ContentLanguage="en",
            ContentDisposition="inline",
            Expires=datetime(2030, 1, 1, tzinfo=UTC),
            WebsiteRedirectLocation="/elsewhere.html",
        )
        yield s3


def pages(list_page: Any, **params: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each page's parameters and answer, following the answer's markers as a client does."""
    while True:
        answer = list_page(**params)
        yield dict(params), answer
        if not answer["IsTruncated"]:
            return
        params = {k: v for k, v in params.items() if k not in ("KeyMarker", "VersionIdMarker")}
        params["KeyMarker"] = answer["NextKeyMarker"]
        if answer.get("NextVersionIdMarker"):
            params["VersionIdMarker"] = answer["NextVersionIdMarker"]


def backend_page(original: Any, backend: S3Backend, **params: Any) -> dict[str, Any]:
    """S3Backend.list_object_versions (`original`) as a page: comparable names, not copies."""
    versions, common, markers, next_key, next_version = original(
        backend,
        params["Bucket"],
        delimiter=params.get("Delimiter"),
        key_marker=params.get("KeyMarker"),
        max_keys=params.get("MaxKeys"),
        prefix=params.get("Prefix", ""),
        version_id_marker=params.get("VersionIdMarker"),
    )
    return {
        "Versions": [(v.name, v.version_id, v.is_latest, v.last_modified) for v in versions],
        "CommonPrefixes": common,
        "DeleteMarkers": [(m.name, m.version_id, m.is_latest, m.last_modified) for m in markers],
        "IsTruncated": next_key is not None,
        "NextKeyMarker": next_key,
        "NextVersionIdMarker": next_version,
    }


def cases() -> Iterator[dict[str, Any]]:
    for prefix, delimiter, max_keys in itertools.product(PREFIXES, (None, "/"), (1, 2, 3, 7, 1000)):
        params: dict[str, Any] = {"Bucket": BUCKET, "Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            params["Delimiter"] = delimiter
        yield params


def test_narrowed_listing_returns_what_motos_own_returns_page_by_page(bucket: Any) -> None:
    backend = s3_backends[ACCOUNT_ID]["aws"]
    original = S3Backend.list_object_versions
    fast = narrowed(original)
    compared = 0
    for params in cases():
        for asked, expected in pages(lambda **p: backend_page(original, backend, **p), **params):
            assert backend_page(fast, backend, **asked) == expected, asked
            compared += 1
    assert compared > len(list(cases()))  # some listings took several pages


@pytest.mark.parametrize(
    ("key_marker", "version_marker"),
    [("a", None), ("a/b", None), ("a0", None), ("b", None), ("dir/", None), ("zz", None), ("ab", "no-such")],
)
def test_narrowed_listing_agrees_for_markers_outside_the_prefix(
    bucket: Any, key_marker: str, version_marker: str | None
) -> None:
    backend = s3_backends[ACCOUNT_ID]["aws"]
    original = S3Backend.list_object_versions
    for prefix in PREFIXES:
        params: dict[str, Any] = {"Bucket": BUCKET, "Prefix": prefix, "MaxKeys": 3, "KeyMarker": key_marker}
        if version_marker:
            params["VersionIdMarker"] = version_marker
        expected = backend_page(original, backend, **params)
        assert backend_page(narrowed(original), backend, **params) == expected, params


def reader_fields(answer: Any) -> dict[str, Any]:
    """What change detection reads of a listing page."""
    return {
        "Versions": [
            (v["Key"], v["VersionId"], v["LastModified"], v["ETag"]) for v in answer.get("Versions", [])
        ],
        "DeleteMarkers": [
            (m["Key"], m["VersionId"], m["LastModified"]) for m in answer.get("DeleteMarkers", [])
        ],
        "CommonPrefixes": answer.get("CommonPrefixes", []),
        "Keys": sorted(k for k in answer if k in ("Versions", "DeleteMarkers", "CommonPrefixes")),
        "IsTruncated": answer["IsTruncated"],
        "NextKeyMarker": answer.get("NextKeyMarker"),
        "NextVersionIdMarker": answer.get("NextVersionIdMarker") or None,
    }


def test_backend_client_lists_and_heads_what_boto3_gets_through_moto(bucket: Any) -> None:
    direct = BackendS3(s3_backends[ACCOUNT_ID]["aws"])
    versions = set()
    with narrowed_version_listing():
        for params in cases():
            for asked, expected in pages(bucket.list_object_versions, **params):
                assert reader_fields(direct.list_object_versions(**asked)) == reader_fields(expected), asked
                versions |= {(v["Key"], v["VersionId"]) for v in expected.get("Versions", [])}
    assert len(versions) == 3 * len(KEYS) + 2
    for key, version_id in sorted(versions):
        expected = bucket.head_object(Bucket=BUCKET, Key=key, VersionId=version_id)
        answer = direct.head_object(Bucket=BUCKET, Key=key, VersionId=version_id)
        assert fingerprint(answer) == fingerprint(expected), (key, version_id)
        for field in ("ContentType", "CacheControl", "Expires", "WebsiteRedirectLocation", "LastModified"):
            assert answer.get(field) == expected.get(field), (key, version_id, field)


def test_backend_client_raises_what_boto3_raises_for_a_missing_bucket(bucket: Any) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    with pytest.raises(ClientError) as raised:
        BackendS3(s3_backends[ACCOUNT_ID]["aws"]).list_object_versions(Bucket="no-such-bucket")
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"


def test_narrowed_listing_leaves_the_stored_versions_untouched(bucket: Any) -> None:
    backend = s3_backends[ACCOUNT_ID]["aws"]
    stored = [v for _, versions in backend.get_bucket(BUCKET).keys.iterlists() for v in versions]
    before = [dict(vars(v)) for v in stored]
    fast = narrowed(S3Backend.list_object_versions)
    for params in cases():
        list(pages(lambda **p: backend_page(fast, backend, **p), **params))
    assert [dict(vars(v)) for v in stored] == before


def test_narrowed_listing_sees_a_key_written_after_its_first_listing(bucket: Any) -> None:
    backend = s3_backends[ACCOUNT_ID]["aws"]
    original = S3Backend.list_object_versions
    fast = narrowed(original)
    params = {"Bucket": BUCKET, "Prefix": "dir/", "MaxKeys": 1000}
    backend_page(fast, backend, **params)
    bucket.put_object(Bucket=BUCKET, Key="dir/new.html", Body=b"new")
    answer = backend_page(fast, backend, **params)
    assert answer == backend_page(original, backend, **params)
    assert "dir/new.html" in {name for name, *_ in answer["Versions"]}


def v2_cases() -> Iterator[dict[str, Any]]:
    for prefix, delimiter, max_keys, start_after in itertools.product(
        PREFIXES, (None, "/"), (1, 2, 3, 1000), (None, "a/b", "dir/")
    ):
        params: dict[str, Any] = {"Bucket": BUCKET, "Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            params["Delimiter"] = delimiter
        if start_after:
            params["StartAfter"] = start_after
        yield params


def v2_pages(list_page: Any, **params: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each ListObjectsV2 page's parameters and answer, following NextContinuationToken."""
    while True:
        answer = list_page(**params)
        yield dict(params), answer
        if not answer["IsTruncated"]:
            return
        params = {**params, "ContinuationToken": answer["NextContinuationToken"]}


def v2_fields(answer: Any) -> dict[str, Any]:
    """A ListObjectsV2 page as a reader of the tree sees it."""
    return {
        "Contents": [
            (c["Key"], c["LastModified"], c["ETag"], c["Size"], c["StorageClass"])
            for c in answer.get("Contents", [])
        ],
        "Keys": sorted(k for k in answer if k != "ResponseMetadata"),
        **{k: v for k, v in answer.items() if k not in ("Contents", "ResponseMetadata")},
    }


def test_backend_client_lists_objects_v2_as_boto3_does_page_by_page(bucket: Any) -> None:
    direct = BackendS3(s3_backends[ACCOUNT_ID]["aws"])
    compared = 0
    for params in v2_cases():
        for asked, expected in v2_pages(bucket.list_objects_v2, **params):
            assert v2_fields(direct.list_objects_v2(**asked)) == v2_fields(expected), asked
            compared += 1
    assert compared > len(list(v2_cases()))  # some listings took several pages


def test_backend_client_lists_the_whole_bucket_without_delimiter_in_pages(bucket: Any) -> None:
    """ListObjectVersions and ListObjectsV2 over the whole bucket, 3 entries a page, as a tree reader
    pages through them: every version and delete marker once; every current object once."""
    direct = BackendS3(s3_backends[ACCOUNT_ID]["aws"])

    def entries(list_page: Any) -> list[tuple[str, str]]:
        return [
            (entry["Key"], entry["VersionId"])
            for _, page in pages(list_page, Bucket=BUCKET, MaxKeys=3)
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]

    with narrowed_version_listing():
        seen = entries(direct.list_object_versions)
    assert len(seen) == len(set(seen)) == 3 * len(KEYS) + 3 + 2  # puts, delete markers, two more puts
    assert seen == entries(bucket.list_object_versions)
    current = [
        c["Key"] for _, page in v2_pages(direct.list_objects_v2, Bucket=BUCKET, MaxKeys=3)
        for c in page.get("Contents", [])
    ]  # fmt: skip
    assert current == sorted(set(KEYS) - {"a/bc", "dir/x.html"})


def test_recorded_answers_are_forgotten_when_the_bucket_changes(bucket: Any) -> None:
    backend = BackendS3(s3_backends[ACCOUNT_ID]["aws"])
    generation = [0]
    recorded = RecordedS3(backend, lambda: generation[0])
    question = {"Bucket": BUCKET, "Prefix": "dir/"}
    before = recorded.list_objects_v2(**question)
    bucket.put_object(Bucket=BUCKET, Key="dir/new.html", Body=b"new")
    assert recorded.list_objects_v2(**question) is before  # the bucket's owner has not said it changed
    generation[0] += 1
    after = recorded.list_objects_v2(**question)
    assert [c["Key"] for c in after["Contents"]] == ["dir/new.html", "dir/sub/y", "dir/x.html.gz"]
    assert recorded.list_objects_v2(**question) is after


def test_published_client_publishes_before_every_call(bucket: Any) -> None:
    backend = BackendS3(s3_backends[ACCOUNT_ID]["aws"])
    calls: list[str] = []
    published = Published(backend, lambda: calls.append("published"))
    published.list_objects_v2(Bucket=BUCKET)
    published.head_object(Bucket=BUCKET, Key="z")
    assert calls == ["published", "published"]
