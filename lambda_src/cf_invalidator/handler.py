"""The Lambda entry point: configuration at start-up, one client per service per container, then the batch.

Every batch goes to the deploy pipeline (deploy.py): S3 events are accepted into the deploy inbox, flush
ticks plan a distribution's waiting changes once its bucket is quiet (flush.py, over batch.py's
planning stages).

Environment: DISTRIBUTIONS (JSON: label -> {"id", "origin_path", "directory_without_slash",
"strip_extensions", "default_root_object"}), MAX_PATHS_PER_INVALIDATION, INDEX_DOCUMENT (default index.html),
SKIP_UNCHANGED_OBJECTS (default false), INVALIDATE_NEW_OBJECTS (default true), EVICTIONS_PER_PATH
(default 3), VERIFY_DISTRIBUTIONS (default false) and BUCKET_NAME (needed by VERIFY_DISTRIBUTIONS and
origin_path "auto"), ENABLE_METRICS (default false) and METRICS_NAMESPACE, MAX_PATHS_PER_DAY (default:
no spend guard), SPEND_GUARD_TABLE and SPEND_GUARD_INTERVAL_SECONDS (default 300); INBOX_TABLE and
DEAD_LETTER_QUEUE_ARN (required), QUIET_SECONDS (default 5) and MAX_WAIT_SECONDS (default 120).
A missing or malformed one fails the start-up with its name. The S3 client exists whatever the
settings: the tree-aware cover lists the bucket (tree.py).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any, cast

import boto3
from botocore.config import Config as BotoConfig

from .aws.detect import POOL_SIZE
from .aws.distribution_config import DistributionConfigs, ReadsDistributionConfig, resolve
from .aws.in_progress import InProgressCache
from .aws.invalidate import CloudFront
from .aws.spend_guard import SpendGuard
from .aws.tree import ListsObjects
from .config import Config, Distribution, load_config
from .core.deadline import ReadDeadline
from .pipeline.collaborators import NO_METRICS, UNLIMITED, Collaborators, Guard, as_configured
from .pipeline.deploy import Clients, Pipeline, pipeline
from .pipeline.flush import Planner
from .pipeline.metrics import BatchMetrics

CONFIG = load_config(os.environ)

# The handler owns retries (it knows the Lambda's deadline); botocore makes one attempt per call.
CLIENT_CONFIG = BotoConfig(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1})
# Change detection: one connection per thread of its pool; a failed lookup is invalidated, not retried.
S3_CLIENT_CONFIG = CLIENT_CONFIG.merge(BotoConfig(read_timeout=5, max_pool_connections=POOL_SIZE))
_LOG_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    records = event["Records"]
    if not records:
        return {"batchItemFailures": []}
    return deploy_pipeline(records[0]["eventSourceARN"], context.get_remaining_time_in_millis).handle(event)


def deploy_pipeline(queue_arn: str, remaining_ms: Callable[[], int]) -> Pipeline:
    """The deploy pipeline (deploy.py) for this invocation: the lease lasts as long as it may run."""
    client = sqs()
    clients = Clients(client, dynamodb(), client.meta.endpoint_url)
    planner = Planner(CONFIG, cloudfront(), remaining_ms, collaborators=planning_collaborators)
    lease_s = math.ceil(remaining_ms() / 1000) + 1
    return pipeline(CONFIG, clients, queue_arn, planner, clock=clock, lease_s=lease_s)


def clock() -> float:
    """The deploy pipeline's time (epoch seconds): when changes were accepted, when ticks are due."""
    return time.time()


def planning_collaborators() -> Collaborators:
    """process_batch's collaborators for one batch or flush: each feature's own where it is on, its
    do-nothing one where it is off."""
    checks = CONFIG.verify_distributions or any(d.auto for d in CONFIG.distributions)
    return Collaborators(
        s3=s3(),
        in_progress=in_progress(),
        resolve=resolved if checks else as_configured,
        metrics=BatchMetrics(CONFIG, CONFIG.metrics_namespace) if CONFIG.enable_metrics else NO_METRICS,
        spend_guard=spend_guard(),
    )


def resolved(config: Config, deadline: ReadDeadline) -> tuple[Config, tuple[Distribution, ...]]:
    """The distributions checked against their configuration, and mapped by it (see process_batch)."""
    return resolve(config, distribution_configs(), deadline)


@functools.cache
def distribution_configs() -> DistributionConfigs:
    """Each distribution's configuration, read once per container, then at most every few minutes."""
    return DistributionConfigs(cast(ReadsDistributionConfig, cloudfront()), CONFIG.bucket_name)


@functools.cache
def cloudfront() -> CloudFront:
    client: CloudFront = boto3.client("cloudfront", config=CLIENT_CONFIG)
    return client


@functools.cache
def in_progress() -> InProgressCache:
    """What is in progress on each distribution, read at most every few seconds by this container."""
    return InProgressCache(cloudfront())


@functools.cache
def s3() -> ListsObjects:
    client: ListsObjects = boto3.client("s3", config=S3_CLIENT_CONFIG)
    return client


@functools.cache
def spend_guard() -> Guard:
    """The spend guard, when MAX_PATHS_PER_DAY is set (its table in SPEND_GUARD_TABLE); else none: every
    request is sent as planned."""
    if CONFIG.max_paths_per_day is None or CONFIG.spend_table is None:
        return UNLIMITED
    return SpendGuard(
        dynamodb(),
        CONFIG.spend_table,
        CONFIG.max_paths_per_day,
        interval_s=CONFIG.spend_guard_interval_seconds,
    )


@functools.cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def sqs() -> Any:
    return boto3.client("sqs", config=CLIENT_CONFIG)


class JsonLines(logging.Formatter):
    """One JSON object per line with the record's extra fields, as Lambda's JSON log format writes them."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _LOG_RECORD_FIELDS}
        line = {"level": record.levelname, "message": record.getMessage(), "logger": record.name, **fields}
        return json.dumps(line, default=str)


def _configure_logging() -> None:
    """Lambda's runtime already formats records as JSON (log_format = "JSON"); elsewhere, do the same."""
    root = logging.getLogger()
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") != "JSON" and not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(JsonLines())
        root.addHandler(stream)
    if "AWS_LAMBDA_LOG_LEVEL" not in os.environ:  # set by Lambda from the function's logging_config
        logging.getLogger(__package__).setLevel(logging.INFO)


_configure_logging()
