"""The handler's settings, read once from the environment and validated before any event is handled."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .core.routing import Routing

ENV_DISTRIBUTIONS = "DISTRIBUTIONS"
ENV_INDEX_DOCUMENT = "INDEX_DOCUMENT"
ENV_MAX_PATHS = "MAX_PATHS_PER_INVALIDATION"
ENV_SKIP_UNCHANGED = "SKIP_UNCHANGED_OBJECTS"
ENV_INVALIDATE_NEW = "INVALIDATE_NEW_OBJECTS"
ENV_BUCKET_NAME = "BUCKET_NAME"
ENV_VERIFY_DISTRIBUTIONS = "VERIFY_DISTRIBUTIONS"
ENV_EVICTIONS_PER_PATH = "EVICTIONS_PER_PATH"
ENV_ENABLE_METRICS = "ENABLE_METRICS"
ENV_METRICS_NAMESPACE = "METRICS_NAMESPACE"
ENV_MAX_PATHS_PER_DAY = "MAX_PATHS_PER_DAY"
ENV_SPEND_TABLE = "SPEND_GUARD_TABLE"
ENV_SPEND_GUARD_INTERVAL = "SPEND_GUARD_INTERVAL_SECONDS"
ENV_INBOX_TABLE = "INBOX_TABLE"
ENV_DEAD_LETTER_QUEUE = "DEAD_LETTER_QUEUE_ARN"
ENV_QUIET = "QUIET_SECONDS"
ENV_MAX_WAIT = "MAX_WAIT_SECONDS"

DEFAULT_INDEX_DOCUMENT = "index.html"
# Unchanged objects a wildcard may evict per billed path it saves; why 3: docs/cost.md, evictions_per_path.
DEFAULT_EVICTIONS_PER_PATH = 3.0
MAX_PATHS_PER_REQUEST = 3000  # CloudFront: file paths in one invalidation (and in progress at once)
AUTO_ORIGIN_PATH = "auto"  # origin_path read from the distribution's configuration (distribution_config.py)
DEFAULT_METRICS_NAMESPACE = "CloudFrontAutoInvalidation"
# A deploy is flushed once the bucket has been quiet this long under a distribution (docs/deploy-flush.md).
DEFAULT_QUIET_SECONDS = 5
MAX_QUIET_SECONDS = 60
# A bucket never quiet is flushed at most this long after its oldest waiting change (docs/deploy-flush.md).
DEFAULT_MAX_WAIT_SECONDS = 300
MAX_MAX_WAIT_SECONDS = 300
MAX_VISIBILITY_SECONDS = 43_200  # SQS: the longest a message can be kept invisible (12 hours)
# Past max_paths_per_day, at most one /* per distribution per interval (spend_guard.py). 300 s bounds a
# runaway writer to 288 paths a day beyond the ceiling (one per 5 minutes, each evicting the cache); its
# changes wait in the deploy inbox for the interval's /* (flush.py).
DEFAULT_SPEND_GUARD_INTERVAL_SECONDS = 300
MIN_SPEND_GUARD_INTERVAL_SECONDS = 60

# CloudWatch: a namespace is 1-255 of these characters and must not start with "AWS/" (AWS's own).
_NAMESPACE = re.compile(r"^[A-Za-z0-9.\-_/#: ]{1,255}$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")  # DynamoDB's table name rule

_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,128}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution in front of the bucket, and the bucket prefix it serves."""

    label: str
    id: str
    origin_path: str = ""  # "" or "/prefix" (leading slash, no trailing slash), as CloudFront writes it
    # Viewer URLs rewritten at the edge (paths.py): dir/index.html also as /dir; a.html also as /a.
    directory_without_slash: bool = False
    strip_extensions: tuple[str, ...] = ()
    # origin_path "auto": this bucket's origins and behaviours as last read; None until read (or unreadable)
    routing: Routing | None = None
    # CloudFront's DefaultRootObject, relative to the origin path: the object served at `/` (only there);
    # "" when it has none or it is the index document. Read from the configuration when that is read.
    default_root_object: str = ""

    @property
    def auto(self) -> bool:
        """Whether the origins serving the bucket come from the distribution's configuration."""
        return self.origin_path == AUTO_ORIGIN_PATH


@dataclass(frozen=True)
class Config:
    distributions: tuple[Distribution, ...]
    max_paths: int
    index_document: str = DEFAULT_INDEX_DOCUMENT
    skip_unchanged_objects: bool = False  # compare each created version with the one it replaced
    # False: a key with no earlier version (or whose previous entry is a delete marker) is skipped
    invalidate_new_objects: bool = True
    bucket_name: str = ""  # the site bucket: which origins of a distribution are this bucket
    # Read each distribution's configuration and log distribution_mismatch (distribution_config.py)
    verify_distributions: bool = False
    # unchanged objects a wildcard may evict per billed path it saves; 0: never evict unless forced
    evictions_per_path: float = DEFAULT_EVICTIONS_PER_PATH
    enable_metrics: bool = False  # one EMF line per distribution and batch on stdout (metrics.py)
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    # Spend guard (spend_guard.py): most paths billed per distribution in 24 h, counted in this table
    max_paths_per_day: int | None = None
    spend_table: str | None = None
    spend_guard_interval_seconds: int = DEFAULT_SPEND_GUARD_INTERVAL_SECONDS  # the least time between two /*
    # The deploy inbox (deploy.py), always read by load_config; None only where the planning stages run
    # alone (tests, the bench)
    deploys: Deploys | None = None


def load_config(environ: Mapping[str, str]) -> Config:
    """Read and validate every setting; raise ConfigError naming the first bad one."""
    distributions = _distributions(_required(environ, ENV_DISTRIBUTIONS))
    verify = _flag(environ, ENV_VERIFY_DISTRIBUTIONS, default=False)
    return Config(
        distributions=distributions,
        max_paths=_max_paths(_required(environ, ENV_MAX_PATHS)),
        index_document=_index_document(environ.get(ENV_INDEX_DOCUMENT, DEFAULT_INDEX_DOCUMENT)),
        skip_unchanged_objects=_flag(environ, ENV_SKIP_UNCHANGED, default=False),
        invalidate_new_objects=_flag(environ, ENV_INVALIDATE_NEW, default=True),
        bucket_name=_bucket_name(environ, needed=verify or any(d.auto for d in distributions)),
        verify_distributions=verify,
        evictions_per_path=_evictions_per_path(environ.get(ENV_EVICTIONS_PER_PATH)),
        enable_metrics=_flag(environ, ENV_ENABLE_METRICS, default=False),
        metrics_namespace=_namespace(environ.get(ENV_METRICS_NAMESPACE, DEFAULT_METRICS_NAMESPACE)),
        max_paths_per_day=_max_paths_per_day(environ.get(ENV_MAX_PATHS_PER_DAY)),
        spend_table=_spend_table(environ),
        # From a minute to 12 hours.
        spend_guard_interval_seconds=_seconds(
            environ,
            ENV_SPEND_GUARD_INTERVAL,
            DEFAULT_SPEND_GUARD_INTERVAL_SECONDS,
            MIN_SPEND_GUARD_INTERVAL_SECONDS,
            MAX_VISIBILITY_SECONDS,
        ),
        deploys=_deploys(environ),
    )


@dataclass(frozen=True)
class Deploys:
    """Where accepted changes wait for their deploy to go quiet, and how long (deploy.py)."""

    table: str
    dead_letter_queue_arn: str  # where changes that cannot be invalidated go (SendMessage)
    quiet_seconds: int = DEFAULT_QUIET_SECONDS
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS


def _deploys(environ: Mapping[str, str]) -> Deploys:
    """The deploy inbox: its table and the dead-letter queue's ARN, both required (the module sets
    them); the waits in whole seconds, quiet 1-60, the longest wait from quiet to 300 (a tick is one
    delayed SQS message)."""
    table = _required(environ, ENV_INBOX_TABLE)
    if not _TABLE_NAME.match(table):
        raise ConfigError(f"{ENV_INBOX_TABLE} must be a DynamoDB table name, got {table!r}")
    dead_letters = _required(environ, ENV_DEAD_LETTER_QUEUE)
    if not dead_letters.startswith("arn:") or dead_letters.count(":") != 5:
        raise ConfigError(f"{ENV_DEAD_LETTER_QUEUE} must be an SQS queue ARN, got {dead_letters!r}")
    quiet = _seconds(environ, ENV_QUIET, DEFAULT_QUIET_SECONDS, 1, MAX_QUIET_SECONDS)
    max_wait = _seconds(environ, ENV_MAX_WAIT, DEFAULT_MAX_WAIT_SECONDS, quiet, MAX_MAX_WAIT_SECONDS)
    return Deploys(table, dead_letters, quiet, max_wait)


def _seconds(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """Whole seconds from `low` to `high`; unset: the default."""
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be from {low} to {high}, got {value}")
    return value


def _required(environ: Mapping[str, str], name: str) -> str:
    try:
        return environ[name]
    except KeyError:
        raise ConfigError(f"{name} is not set") from None


def _distributions(raw: str) -> tuple[Distribution, ...]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{ENV_DISTRIBUTIONS} is not JSON: {error}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            f'{ENV_DISTRIBUTIONS} must be a non-empty JSON object: {{"label": {{"id": "E..."}}}}'
        )
    return tuple(_distribution(label, value) for label, value in sorted(data.items()))


def _distribution(label: str, value: object) -> Distribution:
    where = f"{ENV_DISTRIBUTIONS}[{label!r}]"
    if not isinstance(value, dict):
        raise ConfigError(f'{where} must be an object like {{"id": "E...", "origin_path": ""}}')
    distribution_id = value.get("id")
    if not isinstance(distribution_id, str) or not _DISTRIBUTION_ID.match(distribution_id):
        raise ConfigError(
            f"{where}.id must be a CloudFront distribution id (A-Z, 0-9), got {distribution_id!r}"
        )
    origin_path = value.get("origin_path") or ""
    if not isinstance(origin_path, str) or (
        origin_path not in ("", AUTO_ORIGIN_PATH)
        and (not origin_path.startswith("/") or origin_path.endswith("/"))
    ):
        raise ConfigError(f'{where}.origin_path must be "", "auto" or start with "/" and not end with "/"')
    directory_without_slash = value.get("directory_without_slash", False)
    if not isinstance(directory_without_slash, bool):
        raise ConfigError(f"{where}.directory_without_slash must be true or false")
    return Distribution(
        label=label,
        id=distribution_id,
        origin_path=origin_path,
        directory_without_slash=directory_without_slash,
        strip_extensions=_extensions(where, value.get("strip_extensions") or []),
        default_root_object=_default_root_object(where, value.get("default_root_object") or ""),
    )


def _extensions(where: str, raw: object) -> tuple[str, ...]:
    """Each extension starts with "." and holds no "/" (a file name's ending, e.g. ".html")."""
    if not isinstance(raw, list) or not all(
        isinstance(e, str) and len(e) > 1 and e.startswith(".") and "/" not in e for e in raw
    ):
        raise ConfigError(f'{where}.strip_extensions must be a list like [".html"]: each starts with "."')
    return tuple(raw)


def _default_root_object(where: str, raw: object) -> str:
    """An object name or path as CloudFront takes it: "" (none), or not starting or ending with "/"."""
    if not isinstance(raw, str) or raw.startswith("/") or raw.endswith("/"):
        raise ConfigError(
            f'{where}.default_root_object must be "" or an object like "home.html", without a leading or '
            'trailing "/"'
        )
    return raw


def _bucket_name(environ: Mapping[str, str], *, needed: bool) -> str:
    """The bucket, needed to tell its origins apart when distributions are verified or "auto"."""
    name = environ.get(ENV_BUCKET_NAME, "")
    if needed and not name:
        raise ConfigError(f'{ENV_BUCKET_NAME} is not set (needed by {ENV_VERIFY_DISTRIBUTIONS} and "auto")')
    return name


def _max_paths(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_MAX_PATHS} must be a whole number, got {raw!r}") from None
    if not 1 <= value <= MAX_PATHS_PER_REQUEST:
        raise ConfigError(f"{ENV_MAX_PATHS} must be between 1 and {MAX_PATHS_PER_REQUEST}, got {value}")
    return value


def _evictions_per_path(raw: str | None) -> float:
    """A number >= 0 as Terraform writes it ("3", "0.5"); unset keeps the provisional default."""
    if raw is None:
        return DEFAULT_EVICTIONS_PER_PATH
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{ENV_EVICTIONS_PER_PATH} must be a number >= 0, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{ENV_EVICTIONS_PER_PATH} must be a number >= 0, got {raw!r}")
    return value


def _index_document(raw: str) -> str:
    if not raw or "/" in raw:
        raise ConfigError(f"{ENV_INDEX_DOCUMENT} must be a file name without '/', got {raw!r}")
    return raw


def _flag(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    """ "true" or "false" as Terraform writes a bool; unset keeps the behaviour of a handler without it."""
    raw = environ.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f'{name} must be "true" or "false", got {raw!r}')
    return raw == "true"


def _namespace(raw: str) -> str:
    if not _NAMESPACE.match(raw) or raw.startswith("AWS/"):
        raise ConfigError(
            f"{ENV_METRICS_NAMESPACE} must be 1-255 letters, digits or . - _ / # : space, not starting "
            f"with AWS/, got {raw!r}"
        )
    return raw


def _max_paths_per_day(raw: str | None) -> int | None:
    """Unset or "" is no spend guard."""
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_MAX_PATHS_PER_DAY} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{ENV_MAX_PATHS_PER_DAY} must be at least 1, got {value}")
    return value


def _spend_table(environ: Mapping[str, str]) -> str | None:
    """The table is needed exactly when there is a spend guard."""
    raw = environ.get(ENV_SPEND_TABLE) or None
    if environ.get(ENV_MAX_PATHS_PER_DAY) and raw is None:
        raise ConfigError(
            f"{ENV_SPEND_TABLE} must name the spend guard's table when {ENV_MAX_PATHS_PER_DAY} is set"
        )
    if raw is not None and not _TABLE_NAME.match(raw):
        raise ConfigError(f"{ENV_SPEND_TABLE} must be a DynamoDB table name, got {raw!r}")
    return raw
