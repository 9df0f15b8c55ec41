"""A moto server on 127.0.0.1, started as a subprocess, for everything that talks to AWS over HTTP.

Terraform (the aws provider) and the emulated Lambda runtime both need a real endpoint, which moto's
in-process `mock_aws` cannot give. One server serves a whole test session; `reset()` empties it between
tests (`POST /moto-api/reset`), which is much faster than `terraform destroy` and avoids moto's
force_destroy loop on keys holding `+`.

moto differs from AWS in ways that matter to Terraform; where the difference is moto's formatting and
not behaviour, `serve()` (what the subprocess runs) patches it to what AWS returns, so that a plan after
apply shows the module's own drift and not moto's:
- SQS RedrivePolicy: moto answers `json.dumps` with spaces (`{"deadLetterTargetArn": "...", ...}`);
  SQS answers the compact JSON it was given, which is what the aws provider compares with its
  `jsonencode` value. Without the patch every plan shows a "whitespace changes" update of the queue.
- Lambda LoggingConfig (log format and log group): moto drops it on CreateFunction and
  UpdateFunctionConfiguration and never returns it; Lambda stores and returns it. Without the patch
  every plan wants to add the function's `logging_config` block again.
- S3 EventBridgeConfiguration: moto stores it (and sends the bucket's events to EventBridge) but
  GetBucketNotificationConfiguration leaves it out; S3 returns `<EventBridgeConfiguration/>`. Without the
  patch every plan wants to set the bucket notification's `eventbridge = true` again.

It also differs in what S3 sends about versioned buckets, which change detection reads; `serve()` patches
that to what S3 documents (Amazon S3 user guide: "Event message structure", "Supported event types"
and "EventBridge event message structure"):
- Notification records of a versioned bucket carry `s3.object.versionId`; moto leaves it out.
- A delete without a version id in a versioned bucket creates a delete marker and sends
  `ObjectRemoved:DeleteMarkerCreated` (EventBridge: "Object Deleted", deletion-type "Delete Marker
  Created"); moto sends nothing. Deleting a given version sends `ObjectRemoved:Delete` ("Permanently
  Deleted"); moto sends it only when the key's last version goes, and fails on a delete marker's.
- EventBridge "Object Deleted" events carry `detail.deletion-type`; moto leaves it out.

One test affordance: moto completes every invalidation at once, so nothing is ever in progress. An
invalidation whose CallerReference is `held_reference(until, ...)` is reported "InProgress" until the
Unix time `until`, then "Completed", as CloudFront reports one (the handler never makes such a reference).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import IO, Any

import boto3

SERVE_CODE = "from support.moto_server import serve; serve()"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# What every AWS client started for the tests finds in its environment: the fake credentials and the region.
FAKE_AWS_ENVIRONMENT = {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
START_TIMEOUT_SECONDS = 30.0


class MotoServerError(RuntimeError):
    """The moto server could not be started or answered badly."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def compact_redrive_policy() -> None:
    """Make moto's SQS answer RedrivePolicy as compact JSON, as SQS does."""
    from moto.sqs.models import Queue  # noqa: PLC0415 (moto loads slowly; only the server needs it)

    original = Queue.attributes

    def attributes(queue: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(queue)  # type: ignore[attr-defined]
        if "RedrivePolicy" in result:
            result["RedrivePolicy"] = json.dumps(queue.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[assignment, method-assign]


def keep_lambda_logging_config() -> None:
    """Make moto's Lambda store LoggingConfig and return it in the function's configuration."""
    from moto.awslambda.models import LambdaFunction  # noqa: PLC0415

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def init(function: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(function, account_id, spec, *args, **kwargs)
        function.logging_config = spec.get("LoggingConfig")

    def update_configuration(function: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            function.logging_config = config_updates["LoggingConfig"]
        result: dict[str, Any] = original_update(function, config_updates)
        return result

    def get_configuration(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_get(function, *args, **kwargs)
        if getattr(function, "logging_config", None):
            config["LoggingConfig"] = function.logging_config
        return config

    LambdaFunction.__init__ = init  # type: ignore[method-assign, assignment]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign, assignment]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign, assignment]


def return_bucket_eventbridge_configuration() -> None:
    """Make moto's GetBucketNotificationConfiguration include EventBridgeConfiguration when it is set."""
    from moto.s3.responses import S3Response  # noqa: PLC0415

    original = S3Response.get_bucket_notification

    def get_bucket_notification(response: Any) -> Any:
        status, headers, body = original(response)
        configuration = response.backend.get_bucket_notification_configuration(response.bucket_name)
        text = body.decode() if isinstance(body, bytes) else body
        if configuration is not None and configuration.event_bridge is not None and "EventBridge" not in text:
            closing = "</NotificationConfiguration>"
            if closing in text:
                text = text.replace(closing, f"<EventBridgeConfiguration/>{closing}")
            else:  # an empty result: no element at all
                text = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    "<EventBridgeConfiguration/></NotificationConfiguration>"
                )
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return status, headers, text

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign, assignment]


def is_delete_marker(key: Any) -> bool:
    """Whether moto's `key` is a delete marker (a version with no bytes: no size, no ETag)."""
    from moto.s3.models import FakeDeleteMarker  # noqa: PLC0415

    return isinstance(key, FakeDeleteMarker)


def add_version_id_to_s3_records() -> None:
    """Make the notification records of a versioned bucket carry `s3.object.versionId`, as S3 does.

    Source: Amazon S3 user guide, "Event message structure": `versionId` is the "object version if bucket
    is versioning-enabled, otherwise null". An unversioned bucket's records stay as moto writes them
    (without the field; readers treat a missing one as null). A delete marker's record has no size and no
    eTag (the marker has neither).
    """
    from moto.s3 import notifications  # noqa: PLC0415

    original = notifications._get_s3_event

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        marker = is_delete_marker(key)
        formattable = SimpleNamespace(name=key.name, size=0, etag="") if marker else key
        event: dict[str, Any] = original(event_name, bucket, formattable, notification_id)
        for record in event["Records"]:
            s3_object = record["s3"]["object"]
            if marker:
                del s3_object["size"], s3_object["eTag"]
            if bucket.is_versioned:
                s3_object["versionId"] = key.version_id
        return event

    notifications._get_s3_event = get_s3_event


def send_versioned_delete_events() -> None:
    """Make a delete in a versioned bucket notify as S3 does: a delete marker, or each version deleted.

    Source: Amazon S3 user guide, "Supported event types": `s3:ObjectRemoved:DeleteMarkerCreated`
    when a delete creates a delete marker for a versioned object (moto sends nothing), and
    `s3:ObjectRemoved:Delete` when "a versioned object is permanently deleted" (moto sends it only when
    the key's last version goes). DeleteObjects deletes through the same backend call.
    """
    from moto.s3 import notifications  # noqa: PLC0415
    from moto.s3.models import S3Backend  # noqa: PLC0415

    events = notifications.S3NotificationEvent
    original = S3Backend.delete_object

    def delete_object(
        backend: Any, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False
    ) -> tuple[bool, dict[str, Any]]:
        bucket = backend.get_bucket(bucket_name)
        versions = bucket.keys.getlist(key_name, [])
        removed = [v for v in versions if version_id is not None and str(v.version_id) == str(version_id)]
        deleted, meta = original(backend, bucket_name, key_name, version_id=version_id, bypass=bypass)
        if not (deleted and bucket.is_versioned):
            return deleted, meta
        if version_id is None and meta.get("delete-marker") == "true":
            marker = bucket.keys.get(key_name)
            notifications.send_event(
                backend.account_id, events.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT, bucket, marker
            )
        elif removed and key_name in bucket.keys:  # moto has notified when the last version went
            notifications.send_event(
                backend.account_id, events.OBJECT_REMOVED_DELETE_EVENT, bucket, removed[0]
            )
        return deleted, meta

    S3Backend.delete_object = delete_object  # type: ignore[method-assign, assignment]


def send_eventbridge_deletion_type() -> None:
    """Make S3's EventBridge events say how an object was deleted, and carry a delete marker's version.

    Source: Amazon S3 user guide, "EventBridge event message structure": "Object Deleted" has
    `detail.deletion-type` "Permanently Deleted" or "Delete Marker Created", and `detail.object.version-id`
    (a delete marker's own). moto's sender has no deletion-type and drops an event about a delete marker
    (it reads the marker's ETag); this is moto's sender with those two changes.
    """
    from moto.core.utils import unix_time  # noqa: PLC0415
    from moto.events.models import events_backends  # noqa: PLC0415
    from moto.events.utils import _BASE_EVENT_MESSAGE  # noqa: PLC0415
    from moto.s3 import notifications  # noqa: PLC0415

    marker_created = notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT

    def detail(bucket: Any, event_name: str, key: Any) -> dict[str, Any]:
        content = {} if is_delete_marker(key) else {"size": key.size, "eTag": key.etag.replace('"', "")}
        result: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": {
                "key": key.name,
                **content,
                "version-id": key.version_id,
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": event_name.split(":")[1],
        }
        if notifications._detail_type(event_name) == "Object Deleted":
            by_marker = event_name == marker_created
            result["deletion-type"] = "Delete Marker Created" if by_marker else "Permanently Deleted"
        return result

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        try:  # delivery is asynchronous in AWS: a failure never fails the S3 request (as in moto)
            event = copy.deepcopy(_BASE_EVENT_MESSAGE)
            event.update(
                {
                    "detail-type": notifications._detail_type(event_name),
                    "source": "aws.s3",
                    "account": account_id,
                    "time": unix_time(),
                    "region": bucket.region_name,
                    "resources": [bucket.arn],
                    "detail": detail(bucket, event_name, key),
                }
            )
            for event_bus in events_backends[account_id][bucket.region_name].event_buses.values():
                for rule in event_bus.rules.values():
                    rule.send_to_targets(event, transform_input=False)
        except Exception:
            logging.getLogger(__name__).exception("EventBridge delivery of an S3 event failed")

    notifications._send_event_bridge_message = send_event_bridge_message


HELD_PREFIX = "held-in-progress-until-"


def held_reference(until: float, name: str) -> str:
    """A CallerReference the patched server keeps in progress until the Unix time `until`."""
    return f"{HELD_PREFIX}{until:.3f}-{name}"


def hold_marked_invalidations() -> None:
    """Report invalidations made with `held_reference` as "InProgress" until their time is up."""
    from moto.cloudfront.models import Invalidation  # noqa: PLC0415

    def get_status(invalidation: Any) -> str:
        reference: str = invalidation.caller_ref
        if reference.startswith(HELD_PREFIX):
            until = float(reference[len(HELD_PREFIX) :].split("-", 1)[0])
            return "InProgress" if time.time() < until else "Completed"
        status: str = invalidation.__dict__.get("_status", "COMPLETED")
        return status

    def set_status(invalidation: Any, value: str) -> None:
        invalidation.__dict__["_status"] = value

    Invalidation.status = property(get_status, set_status)  # type: ignore[assignment]


def serve() -> None:
    """The moto_server command (arguments from sys.argv), with the patches above."""
    from moto.server import main  # noqa: PLC0415

    compact_redrive_policy()
    keep_lambda_logging_config()
    return_bucket_eventbridge_configuration()
    add_version_id_to_s3_records()
    send_versioned_delete_events()
    send_eventbridge_deletion_type()
    hold_marked_invalidations()
    main(sys.argv[1:])


class MotoServer:
    """A moto server subprocess. Use as a context manager, or call start() and stop()."""

    def __init__(self, log_path: Path | None = None) -> None:
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = log_path
        self._log: IO[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self.port = free_port()
        self._log = open(self._log_path, "wb") if self._log_path else None  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVE_CODE, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                **FAKE_AWS_ENVIRONMENT,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            },
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise MotoServerError(f"moto_server exited with {self._process.returncode} at start-up")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise MotoServerError(
            f"moto_server did not answer on {self.endpoint_url} in {START_TIMEOUT_SECONDS}s"
        )

    def reset(self) -> None:
        """Forget every resource (all services, all regions)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 200:
                raise MotoServerError(f"moto reset answered HTTP {response.status}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, service: str, region: str = REGION) -> Any:
        """A boto3 client for `service` in `region` that talks to this server with fake credentials.

        Each client comes from its own session: boto3's default session is not thread-safe.
        """
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
