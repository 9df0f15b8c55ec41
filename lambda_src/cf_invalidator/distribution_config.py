"""Each distribution's own configuration (GetDistributionConfig): checked against the inputs, and the
source of the mapping for origin_path = "auto".

GetDistributionConfig (botocore's cloudfront model, API reference DistributionConfig) lists the origins
(Id, DomainName, OriginPath), the origin groups (failover pairs), the cache behaviours in precedence
order (PathPattern -> TargetOriginId), the default cache behaviour and the DefaultRootObject.

An origin is this bucket when its domain is one of S3's endpoints for it (Amazon S3 user guide, "Regions
and endpoints", "Website endpoints"): REST `<bucket>.s3.amazonaws.com` (global), `<bucket>.s3.<region>.
amazonaws.com`, `<bucket>.s3-<region>.amazonaws.com` (legacy), `<bucket>.s3.dualstack.<region>.
amazonaws.com`, and website `<bucket>.s3-website-<region>.amazonaws.com` or `<bucket>.s3-website.<region>.
amazonaws.com` (`.amazonaws.com.cn` in China). Access points, Object Lambda and custom domains are not
recognised: such an origin counts as another origin.

Reads: one per distribution id per container, then again when older than READ_EVERY_S (a failed read:
after RETRY_FAILED_S). With verify_distributions, every successful read is checked and each cause of a
mismatch logged as one ERROR line `distribution_mismatch` per distribution entry; invalidation
proceeds as configured. A failed read is logged once per distribution and reason
(`distribution_config_unreadable`) and changes nothing else: the last configuration read is kept. An
"auto" distribution with no configuration read yet cannot be mapped; `resolve` returns it apart, so that
the batch reports the messages it may serve as failed (retried, then the dead-letter queue), logged as
ERROR `distribution_unresolved`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from .config import Config, Distribution
from .once import OncePerReason
from .routing import Origin, Routing

logger = logging.getLogger(__name__)

READ_EVERY_S = 300.0
RETRY_FAILED_S = 60.0
NO_BUCKET_ORIGIN = "no_origin_for_bucket"
ORIGIN_PATH_NOT_FOUND = "origin_path_not_found"

_WEBSITE = re.compile(r"s3-website[.-][a-z0-9-]+\.amazonaws\.com(\.cn)?")
_REST = re.compile(r"s3(\.dualstack)?([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?")


class ReadsDistributionConfig(Protocol):
    def get_distribution_config(self, **kwargs: Any) -> Mapping[str, Any]: ...


def endpoint_kind(domain: str, bucket: str) -> str | None:
    """ "website" or "rest" when `domain` is an S3 endpoint of `bucket`, else None."""
    host = domain.lower().rstrip(".")
    if not host.startswith(bucket + "."):
        return None
    endpoint = host[len(bucket) + 1 :]
    if _WEBSITE.fullmatch(endpoint):
        return "website"
    return "rest" if _REST.fullmatch(endpoint) else None


def bucket_origins(distribution_config: Mapping[str, Any], bucket: str) -> tuple[Origin, ...]:
    """The origins of the distribution that are this bucket, in the order the configuration lists them."""
    found = []
    for origin in distribution_config["Origins"].get("Items") or []:
        if endpoint_kind(origin["DomainName"], bucket) is not None:
            found.append(Origin(origin["Id"], origin.get("OriginPath") or ""))
    return tuple(found)


def routing_of(distribution_config: Mapping[str, Any], bucket: str) -> Routing:
    """What serves this bucket's objects on the distribution: see routing.py."""
    behaviours = (distribution_config.get("CacheBehaviors") or {}).get("Items") or []
    groups = (distribution_config.get("OriginGroups") or {}).get("Items") or []
    return Routing(
        origins=bucket_origins(distribution_config, bucket),
        behaviours=tuple((b["PathPattern"], b["TargetOriginId"]) for b in behaviours),
        default_origin_id=distribution_config["DefaultCacheBehavior"]["TargetOriginId"],
        default_root_object=distribution_config.get("DefaultRootObject") or "",
        groups=tuple(
            (g["Id"], tuple(m["OriginId"] for m in g["Members"].get("Items") or [])) for g in groups
        ),
    )


def mismatches(distribution: Distribution, distribution_config: Mapping[str, Any], bucket: str) -> list[str]:
    """The causes for which the configuration contradicts the entry: no origin is the bucket; or (a fixed
    origin_path) no origin of the bucket has that origin path."""
    origins = bucket_origins(distribution_config, bucket)
    if not origins:
        return [NO_BUCKET_ORIGIN]
    if distribution.auto or any(o.origin_path == distribution.origin_path for o in origins):
        return []
    return [ORIGIN_PATH_NOT_FOUND]


@dataclass
class _Read:
    at: float
    distribution_config: Mapping[str, Any] | None  # the last one read successfully
    failed: bool
    generation: int  # counts successful reads, so each entry is checked once per read


class DistributionConfigs:
    """Each distribution's configuration as this container last read it."""

    def __init__(
        self,
        cloudfront: ReadsDistributionConfig,
        bucket: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cloudfront = cloudfront
        self._bucket = bucket
        self._clock = clock
        self._reads: dict[str, _Read] = {}
        self._checked: dict[tuple[str, str], int] = {}
        self._report = OncePerReason(
            logger,
            "distribution_config_unreadable",
            "the last configuration read is kept (none: not checked; auto: messages retried)",
        )

    def configuration(self, distribution: Distribution, *, verify: bool) -> Mapping[str, Any] | None:
        """The distribution's configuration (None: never read); read again when due. With `verify`,
        a configuration not yet checked for this entry is checked (and each mismatch logged)."""
        read = self._read(distribution.id)
        if verify and read.distribution_config is not None:
            key = (distribution.label, distribution.id)
            if self._checked.get(key) != read.generation:
                self._checked[key] = read.generation
                _log_mismatches(distribution, read.distribution_config, self._bucket)
        return read.distribution_config

    def _read(self, distribution_id: str) -> _Read:
        now = self._clock()
        read = self._reads.get(distribution_id)
        if read is not None and now - read.at < (RETRY_FAILED_S if read.failed else READ_EVERY_S):
            return read
        previous, generation = (None, 0) if read is None else (read.distribution_config, read.generation)
        try:
            answer = self._cloudfront.get_distribution_config(Id=distribution_id)
            read = _Read(now, answer["DistributionConfig"], failed=False, generation=generation + 1)
        except (ClientError, BotoCoreError, KeyError) as error:
            self._report(distribution_id, _reason(error))
            read = _Read(now, previous, failed=True, generation=generation)
        self._reads[distribution_id] = read
        return read


def resolve(config: Config, configs: DistributionConfigs) -> tuple[Config, tuple[Distribution, ...]]:
    """The configuration with each "auto" distribution carrying its routing, and apart the "auto" ones
    whose configuration could not be read yet (left out of the returned configuration). With
    verify_distributions, every distribution's configuration is read and checked."""
    resolved: list[Distribution] = []
    unresolved: list[Distribution] = []
    for distribution in config.distributions:
        if not (config.verify_distributions or distribution.auto):
            resolved.append(distribution)
            continue
        read = configs.configuration(distribution, verify=config.verify_distributions)
        if not distribution.auto:
            resolved.append(distribution)
        elif read is None:
            unresolved.append(distribution)
        else:
            resolved.append(replace(distribution, routing=routing_of(read, config.bucket_name)))
    return replace(config, distributions=tuple(resolved)), tuple(unresolved)


def log_unresolved(unresolved: tuple[Distribution, ...], message_count: int) -> None:
    """Changes an unreadable "auto" distribution may serve are not dropped: their messages are retried."""
    for distribution in unresolved:
        logger.error(
            "distribution_unresolved",
            extra={
                "decision": "distribution_unresolved",
                "distribution": distribution.label,
                "distribution_id": distribution.id,
                "messages": message_count,
                "outcome": 'origin_path "auto" without a configuration read: messages retried',
            },
        )


def _log_mismatches(distribution: Distribution, distribution_config: Mapping[str, Any], bucket: str) -> None:
    origins = distribution_config["Origins"].get("Items") or []
    for cause in mismatches(distribution, distribution_config, bucket):
        logger.error(
            "distribution_mismatch",
            extra={
                "decision": "distribution_mismatch",
                "distribution": distribution.label,
                "distribution_id": distribution.id,
                "cause": cause,
                "bucket": bucket,
                "origin_path": distribution.origin_path,
                "origins": [
                    {"id": o["Id"], "domain": o["DomainName"], "origin_path": o.get("OriginPath") or ""}
                    for o in origins
                ],
                "outcome": "invalidations proceed as configured, and may miss what viewers are served",
            },
        )


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__
