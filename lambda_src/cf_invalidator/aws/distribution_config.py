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
after RETRY_FAILED_S), and only while the batch's deadline leaves time for it (deadline.py; a read not
made is tried again at the next batch). The default root object read is the one mapped (paths.py):
CloudFront serves it at `/`, whatever the entry or the index document say. With verify_distributions,
every successful read is checked and each cause of a mismatch logged as one ERROR line
`distribution_mismatch` per distribution entry; invalidation proceeds as configured, except for `/`.
A failed read is logged once per distribution and reason (`distribution_config_unreadable`) and changes
nothing else: the last configuration read is kept. An "auto" distribution with no configuration read
yet cannot be mapped; `resolve` returns it apart, so that the batch reports the messages it may serve as
failed (retried, then the dead-letter queue), logged as ERROR `distribution_unresolved`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ..config import DEFAULT_INDEX_DOCUMENT, Config, Distribution
from ..core.deadline import NO_DEADLINE, NoTimeToReadError, ReadDeadline
from ..core.once import OncePerReason
from ..core.routing import Origin, Routing

logger = logging.getLogger(__name__)

READ_EVERY_S = 300.0
RETRY_FAILED_S = 60.0
NO_BUCKET_ORIGIN = "no_origin_for_bucket"
ORIGIN_PATH_NOT_FOUND = "origin_path_not_found"
ROOT_OBJECT_DIFFERS = "default_root_object_differs"

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
        groups=tuple(
            (g["Id"], tuple(m["OriginId"] for m in g["Members"].get("Items") or [])) for g in groups
        ),
    )


def root_object(distribution_config: Mapping[str, Any]) -> str:
    """The object CloudFront serves at `/` (relative to the origin path), "" when it has none."""
    return str(distribution_config.get("DefaultRootObject") or "")


def mismatches(
    distribution: Distribution,
    distribution_config: Mapping[str, Any],
    bucket: str,
    index_document: str = DEFAULT_INDEX_DOCUMENT,
) -> list[str]:
    """The causes for which the configuration contradicts the entry: no origin is the bucket; (a fixed
    origin_path) no origin of the bucket has that origin path; the root object differs (roots_differ)."""
    origins = bucket_origins(distribution_config, bucket)
    if not origins:
        return [NO_BUCKET_ORIGIN]
    causes = []
    if not distribution.auto and all(o.origin_path != distribution.origin_path for o in origins):
        causes.append(ORIGIN_PATH_NOT_FOUND)
    if roots_differ(distribution, root_object(distribution_config), index_document):
        causes.append(ROOT_OBJECT_DIFFERS)
    return causes


def roots_differ(distribution: Distribution, configured: str, index_document: str) -> bool:
    """Whether the entry's default_root_object and the distribution's disagree: one given that the
    distribution does not have; or, none given (so `/` is mapped from the index document), a fixed
    origin_path's distribution serving `/` from another object. "auto" is mapped from the configuration
    and asks for no input: there only a given one is compared."""
    given = distribution.default_root_object
    if given:
        return given != configured
    return not distribution.auto and configured not in ("", index_document)


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

    def configuration(
        self,
        distribution: Distribution,
        *,
        verify: bool,
        index_document: str = DEFAULT_INDEX_DOCUMENT,
        deadline: ReadDeadline = NO_DEADLINE,
    ) -> Mapping[str, Any] | None:
        """The distribution's configuration (None: never read); read again when due and `deadline` leaves
        time for it. With `verify`, a configuration not yet checked for this entry is checked (and each
        mismatch logged)."""
        read = self._read(distribution.id, deadline)
        if verify and read.distribution_config is not None:
            key = (distribution.label, distribution.id)
            if self._checked.get(key) != read.generation:
                self._checked[key] = read.generation
                _log_mismatches(distribution, read.distribution_config, self._bucket, index_document)
        return read.distribution_config

    def _read(self, distribution_id: str, deadline: ReadDeadline) -> _Read:
        """The last read, or a new one when due; a read the deadline leaves no time for is not made
        (logged once, the last read kept, tried again at the next batch)."""
        read = self._reads.get(distribution_id)
        if read is not None and self._clock() - read.at < (RETRY_FAILED_S if read.failed else READ_EVERY_S):
            return read
        previous, generation = (None, 0) if read is None else (read.distribution_config, read.generation)
        try:
            answer = deadline.read(self._cloudfront.get_distribution_config, Id=distribution_id)
            read = _Read(self._clock(), answer["DistributionConfig"], failed=False, generation=generation + 1)
        except NoTimeToReadError as error:
            self._report(distribution_id, _reason(error))
            return read or _Read(self._clock(), None, failed=True, generation=0)
        except (ClientError, BotoCoreError, KeyError) as error:
            self._report(distribution_id, _reason(error))
            read = _Read(self._clock(), previous, failed=True, generation=generation)
        self._reads[distribution_id] = read
        return read


def resolve(
    config: Config, configs: DistributionConfigs, deadline: ReadDeadline = NO_DEADLINE
) -> tuple[Config, tuple[Distribution, ...]]:
    """The configuration with each distribution whose configuration was read carrying its default root
    object (as CloudFront serves it, whatever the entry says) and, "auto", its routing; and apart the
    "auto" ones whose configuration could not be read yet (left out of the returned configuration). With
    verify_distributions, every distribution's configuration is read and checked."""
    resolved: list[Distribution] = []
    unresolved: list[Distribution] = []
    for distribution in config.distributions:
        if not (config.verify_distributions or distribution.auto):
            resolved.append(distribution)
            continue
        verify, index_document = config.verify_distributions, config.index_document
        read = configs.configuration(
            distribution, verify=verify, index_document=index_document, deadline=deadline
        )
        if read is None:
            (unresolved if distribution.auto else resolved).append(distribution)
            continue
        served = replace(distribution, default_root_object=root_object(read))
        routing = routing_of(read, config.bucket_name) if distribution.auto else None
        resolved.append(replace(served, routing=routing))
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


def _log_mismatches(
    distribution: Distribution, distribution_config: Mapping[str, Any], bucket: str, index_document: str
) -> None:
    origins = distribution_config["Origins"].get("Items") or []
    for cause in mismatches(distribution, distribution_config, bucket, index_document):
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
                "default_root_object": distribution.default_root_object,
                "configured_root_object": root_object(distribution_config),
                "index_document": index_document,
                "outcome": _OUTCOMES[cause],
            },
        )


_OUTCOMES = {
    NO_BUCKET_ORIGIN: "invalidations proceed as configured, and may miss what viewers are served",
    ORIGIN_PATH_NOT_FOUND: "invalidations proceed as configured, and may miss what viewers are served",
    ROOT_OBJECT_DIFFERS: "/ is invalidated with the configured root object; set default_root_object to it "
    "in the entry, so that / stays fresh when the configuration cannot be read",
}


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__
