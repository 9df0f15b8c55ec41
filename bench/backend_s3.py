"""The handler's S3 client in the replay: moto's in-process S3 backend, called without the HTTP round trip.

Through boto3 inside `mock_aws`, every ListObjectVersions and HeadObject is signed, routed, rendered as
XML by moto and parsed back by botocore (its cost: docs/development.md), and change detection makes one
listing per changed directory (paws-r.github.io: one directory per page, 12,000 a deploy). `BackendS3`
asks the same backend (moto's S3Backend, the store boto3 would reach) and hands the handler what boto3 would:
- ListObjectVersions: the fields moto's response carries (Key, VersionId, IsLatest, LastModified to the
  second as moto writes it, ETag, Size, StorageClass; delete markers; CommonPrefixes; IsTruncated,
  NextKeyMarker, NextVersionIdMarker when truncated), with or without Delimiter, page by page;
- ListObjectsV2 (Prefix, Delimiter, MaxKeys, ContinuationToken, StartAfter): Contents (Key,
  LastModified to the second, ETag, Size, StorageClass), CommonPrefixes, Name, Prefix, MaxKeys,
  KeyCount, IsTruncated, NextContinuationToken, Delimiter and StartAfter echoed as moto echoes them,
  EncodingType "url" as boto3 always asks for it (and decodes the keys);
- HeadObject: the headers moto's response sends for the version (its metadata, which holds the standard
  headers, ETag, Last-Modified, Content-Length, version id, website redirect; not the encryption, lock,
  restore and tag-count headers, which no served field reads and the replay never sets), parsed by
  botocore's own parser with the S3 service model's HeadObject output shape;
- moto's errors raised as botocore's ClientError with their code, as boto3 raises them.
tests/python/test_moto_listing.py checks its answers against boto3's on the same bucket. Nothing in
the handler changes: it is given this object where it would be given a boto3 client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.parsers import create_parser
from moto.core.exceptions import ServiceException
from moto.s3.models import FakeDeleteMarker, FakeKey, S3Backend

T = TypeVar("T")
_HEAD_SHAPE = cast(
    Shape, botocore.session.get_session().get_service_model("s3").operation_model("HeadObject").output_shape
)


class BackendS3:
    """ListObjectVersions and HeadObject answered from moto's S3 backend, shaped as boto3 returns them."""

    def __init__(self, backend: S3Backend) -> None:
        self._backend = backend
        self._parser = create_parser("rest-xml")

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        versions, common, markers, next_key, next_version = _answer(
            "ListObjectVersions",
            lambda: self._backend.list_object_versions(
                kwargs["Bucket"],
                delimiter=kwargs.get("Delimiter"),
                key_marker=kwargs.get("KeyMarker"),
                max_keys=kwargs.get("MaxKeys", 1000),
                prefix=kwargs.get("Prefix", ""),
                version_id_marker=kwargs.get("VersionIdMarker"),
            ),
        )
        response: dict[str, Any] = {"IsTruncated": next_key is not None}
        if versions:  # boto3 leaves out an empty list
            response["Versions"] = [_version(v) for v in versions]
        if markers:
            response["DeleteMarkers"] = [_marker(m) for m in markers]
        if common:
            response["CommonPrefixes"] = [{"Prefix": p} for p in common]
        if next_key is not None:
            response["NextKeyMarker"] = next_key
            if next_version:
                response["NextVersionIdMarker"] = next_version
        return response

    def list_objects_v2(self, **kwargs: Any) -> Mapping[str, Any]:
        token = kwargs.get("ContinuationToken")
        if token == "":
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidArgument",
                        "Message": "The continuation token provided is incorrect",
                    }
                },
                "ListObjectsV2",
            )
        bucket = _answer("ListObjectsV2", lambda: self._backend.get_bucket(kwargs["Bucket"]))
        max_keys = int(kwargs.get("MaxKeys", 1000))
        found, truncated, next_token = self._backend.list_objects_v2(
            bucket=bucket,
            prefix=kwargs.get("Prefix"),
            delimiter=kwargs.get("Delimiter"),
            continuation_token=token,
            start_after=kwargs.get("StartAfter"),
            max_keys=max_keys,
        )
        keys = [k for k in found if isinstance(k, FakeKey)]
        folders = [k for k in found if isinstance(k, str)]
        response: dict[str, Any] = {
            "IsTruncated": truncated,
            "Name": bucket.name,
            "Prefix": kwargs.get("Prefix") or "",
            "MaxKeys": max_keys,
            "KeyCount": len(keys) + len(folders),
            "EncodingType": "url",  # boto3 asks for url-encoded keys, and decodes them, unasked
        }
        if keys:  # boto3 leaves out an empty list
            response["Contents"] = [_object(k) for k in keys]
        if kwargs.get("Delimiter"):
            response["Delimiter"] = kwargs["Delimiter"]
        if folders:
            response["CommonPrefixes"] = [{"Prefix": f} for f in folders]
        if next_token:
            response["NextContinuationToken"] = next_token
        if not token and kwargs.get("StartAfter"):
            response["StartAfter"] = kwargs["StartAfter"]
        return response

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        key = _answer(
            "HeadObject",
            lambda: self._backend.head_object(
                kwargs["Bucket"], kwargs["Key"], version_id=kwargs.get("VersionId")
            ),
        )
        if key is None:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        headers = HeadersDict()
        for name, value in {**key.metadata, **_served_headers(key)}.items():
            headers[name] = str(value)
        parsed: dict[str, Any] = self._parser.parse(
            {"headers": headers, "status_code": 200, "body": b""}, _HEAD_SHAPE
        )
        if "Expires" in headers:  # what botocore.handlers.handle_expires_header adds for boto3
            parsed["ExpiresString"] = headers["Expires"]
        parsed["LastModified"] = _seconds(key.last_modified)  # as botocore parses Last-Modified
        return parsed


def _served_headers(key: FakeKey) -> dict[str, str]:
    """FakeKey.response_dict without its last lines: moto looks the object's tags up there (a tag count,
    not a served header) through an account lookup that takes a global lock and a millisecond a call."""
    headers = {"ETag": key.etag, "content-length": str(key.size)}  # Last-Modified: set after parsing
    if key.version_id is not None:
        headers["x-amz-version-id"] = str(key.version_id)
    if key.website_redirect_location:
        headers["x-amz-website-redirect-location"] = key.website_redirect_location
    return headers


def _answer(operation: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ServiceException as error:
        raise ClientError({"Error": {"Code": error.code, "Message": error.message}}, operation) from error


def _seconds(moment: datetime) -> datetime:
    """LastModified as moto writes it in a listing: UTC, to the second."""
    return moment.replace(microsecond=0, tzinfo=moment.tzinfo or UTC)


def _version(key: FakeKey) -> dict[str, Any]:
    return {
        "Key": key.name,
        "VersionId": key.version_id if key.version_id is not None else "null",
        "IsLatest": getattr(key, "is_latest", False),
        "LastModified": _seconds(key.last_modified),
        "ETag": key.etag,
        "Size": key.size,
        "StorageClass": key.storage_class,
    }


def _object(key: FakeKey) -> dict[str, Any]:
    return {
        "Key": key.name,
        "LastModified": _seconds(key.last_modified),
        "ETag": key.etag,
        "Size": key.size,
        "StorageClass": key.storage_class,
    }


def _marker(marker: FakeDeleteMarker) -> dict[str, Any]:
    return {
        "Key": marker.name,
        "VersionId": marker.version_id,
        "IsLatest": getattr(marker, "is_latest", False),
        "LastModified": _seconds(marker.last_modified),
    }


class RecordedS3:
    """Answers S3 gave once, given again while the bucket has not changed: the replays of one deploy at
    several settings (cover_replay.py) read buckets that nothing writes to in between, so each
    listing and HEAD has one answer; asking moto again would only take longer. `generation` tells when
    a bucket changed (a put, a delete, lifecycle, a withheld upload published): every answer is then
    forgotten, so no answer outlives the bucket state it came from."""

    def __init__(self, s3: Any, generation: Callable[[], int]) -> None:
        self._s3 = s3
        self._generation = generation
        self._answered_at = generation()
        self._answers: dict[tuple[str, tuple[tuple[str, Any], ...]], Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._answer("list_object_versions", kwargs)

    def list_objects_v2(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._answer("list_objects_v2", kwargs)

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._answer("head_object", kwargs)

    def _answer(self, operation: str, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        question = (operation, tuple(sorted(kwargs.items())))
        with self._lock:
            generation = self._generation()
            if generation != self._answered_at:
                self._answers.clear()
                self._answered_at = generation
            known = self._answers.get(question)
        if known is not None:
            return known
        answer: Mapping[str, Any] = getattr(self._s3, operation)(**kwargs)
        with self._lock:
            if self._generation() == generation:
                self._answers[question] = answer
        return answer


class Published:
    """S3 as the handler sees it while a deploy is being uploaded (deploy_replay.py's interleaved uploads):
    before each call, `publish` puts in the bucket the uploads made by now (replay.SiteBucket's
    publish_until on the virtual clock), so the answer holds exactly what was uploaded by then."""

    def __init__(self, s3: Any, publish: Callable[[], None]) -> None:
        self._s3 = s3
        self._publish = publish

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        call = getattr(self._s3, operation)

        def published(**kwargs: Any) -> Any:
            self._publish()
            return call(**kwargs)

        return published
