"""The handler's settings, read once from the environment and validated before any event is handled."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

ENV_DISTRIBUTIONS = "DISTRIBUTIONS"
ENV_INDEX_DOCUMENT = "INDEX_DOCUMENT"
ENV_MAX_PATHS = "MAX_PATHS_PER_INVALIDATION"
ENV_SKIP_UNCHANGED = "SKIP_UNCHANGED_OBJECTS"
ENV_INVALIDATE_NEW = "INVALIDATE_NEW_OBJECTS"
ENV_EVICTIONS_PER_PATH = "EVICTIONS_PER_PATH"

DEFAULT_INDEX_DOCUMENT = "index.html"
# Unchanged objects a wildcard may evict per billed path it saves; provisional, to be chosen from the bench.
DEFAULT_EVICTIONS_PER_PATH = 3.0
MAX_PATHS_PER_REQUEST = 3000  # CloudFront: file paths in one invalidation (and in progress at once)

_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,128}$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Distribution:
    """A CloudFront distribution in front of the bucket, and the bucket prefix it serves."""

    label: str
    id: str
    origin_path: str = ""  # "" or "/prefix" (leading slash, no trailing slash), as CloudFront writes it


@dataclass(frozen=True)
class Config:
    distributions: tuple[Distribution, ...]
    max_paths: int
    index_document: str = DEFAULT_INDEX_DOCUMENT
    skip_unchanged_objects: bool = False  # compare each created version with the one it replaced
    # False: a key with no earlier version (or whose previous entry is a delete marker) is skipped
    invalidate_new_objects: bool = True
    # unchanged objects a wildcard may evict per billed path it saves; 0: never evict unless forced
    evictions_per_path: float = DEFAULT_EVICTIONS_PER_PATH


def load_config(environ: Mapping[str, str]) -> Config:
    """Read and validate every setting; raise ConfigError naming the first bad one."""
    return Config(
        distributions=_distributions(_required(environ, ENV_DISTRIBUTIONS)),
        max_paths=_max_paths(_required(environ, ENV_MAX_PATHS)),
        index_document=_index_document(environ.get(ENV_INDEX_DOCUMENT, DEFAULT_INDEX_DOCUMENT)),
        skip_unchanged_objects=_flag(environ, ENV_SKIP_UNCHANGED, default=False),
        invalidate_new_objects=_flag(environ, ENV_INVALIDATE_NEW, default=True),
        evictions_per_path=_evictions_per_path(environ.get(ENV_EVICTIONS_PER_PATH)),
    )


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
        origin_path and (not origin_path.startswith("/") or origin_path.endswith("/"))
    ):
        raise ConfigError(f'{where}.origin_path must be "" or start with "/" and not end with "/"')
    return Distribution(label=label, id=distribution_id, origin_path=origin_path)


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
