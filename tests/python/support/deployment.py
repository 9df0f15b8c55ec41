"""A site on moto (bucket + CloudFront distributions) and the module applied in front of it.

Shared by the end-to-end tests and `make demo`: create what the module expects to exist, apply a root
module with Terraform, check the plan is empty afterwards, then take over the event source mapping
(see event_source.py) and run the deployed zip (see lambda_runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.event_source import BatchOutcome, MappingSettings, SqsEventSource, disable_mapping, read_mapping
from support.lambda_runtime import DeployedFunction
from support.moto_server import REGION, MotoServer
from support.path_oracle import is_covered, required_paths
from support.terraform import REPO_ROOT, Terraform

COMMITTED_ZIP = REPO_ROOT / "dist" / "cf_invalidator.zip"
# AWS's managed "CachingOptimized" cache policy: a distribution needs one, and moto accepts it.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def create_bucket(
    server: MotoServer, bucket: str, *, eventbridge: bool = False, versioned: bool = False
) -> None:
    """The site bucket the module is given.

    With `eventbridge`, it sends its events to EventBridge; with `versioned`, it keeps every version of
    its objects (versioning enabled, as change detection needs).
    """
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if eventbridge:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )


def create_distribution(
    cloudfront: Any,
    bucket: str,
    origin_path: str = "",
    comment: str = "site",
    *,
    origins: Sequence[tuple[str, str, str]] = (),
    behaviours: Sequence[tuple[str, str]] = (),
) -> str:
    """A distribution (no OAC, no custom certificate); return its id. Its origins: the bucket's regional
    REST endpoint with `origin_path`, or `origins` (id, domain, origin path; the first is the default
    behaviour's), routed by `behaviours` (path pattern, origin id) in that order."""
    listed = origins or [("site", f"{bucket}.s3.{REGION}.amazonaws.com", origin_path)]
    cache_behaviours = [
        {
            "PathPattern": pattern,
            "TargetOriginId": origin_id,
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": CACHING_OPTIMIZED_POLICY_ID,
        }
        for pattern, origin_id in behaviours
    ]
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": f"{bucket}{origin_path}-{comment}",
            "Comment": comment,
            "Enabled": True,
            "Origins": {
                "Quantity": len(listed),
                "Items": [
                    {
                        "Id": origin_id,
                        "DomainName": domain,
                        "OriginPath": path,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                    for origin_id, domain, path in listed
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": listed[0][0],
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": CACHING_OPTIMIZED_POLICY_ID,
            },
            "CacheBehaviors": {"Quantity": len(cache_behaviours), "Items": cache_behaviours},
        }
    )["Distribution"]
    distribution_id: str = distribution["Id"]
    return distribution_id


@dataclass(frozen=True)
class Invalidation:
    """One CreateInvalidation that CloudFront (moto) holds."""

    id: str
    caller_reference: str
    paths: tuple[str, ...]


def invalidations(cloudfront: Any, distribution_id: str) -> dict[str, Invalidation]:
    """Every invalidation of the distribution, by id, in the order CloudFront lists them."""
    found: dict[str, Invalidation] = {}
    for page in cloudfront.get_paginator("list_invalidations").paginate(DistributionId=distribution_id):
        for summary in page["InvalidationList"].get("Items") or []:
            batch = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])[
                "Invalidation"
            ]
            found[summary["Id"]] = Invalidation(
                id=summary["Id"],
                caller_reference=batch["InvalidationBatch"]["CallerReference"],
                paths=tuple(batch["InvalidationBatch"]["Paths"].get("Items") or ()),
            )
    return found


@dataclass
class InvalidationWatch:
    """The invalidations created since the watch started, per distribution id."""

    server: MotoServer
    distribution_ids: tuple[str, ...]
    seen: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cloudfront = self.server.client("cloudfront")
        self.seen = {d: set(invalidations(cloudfront, d)) for d in self.distribution_ids}

    def new(self) -> dict[str, list[Invalidation]]:
        cloudfront = self.server.client("cloudfront")
        result: dict[str, list[Invalidation]] = {}
        for distribution_id in self.distribution_ids:
            current = invalidations(cloudfront, distribution_id)
            result[distribution_id] = [
                inv for inv_id, inv in current.items() if inv_id not in self.seen[distribution_id]
            ]
        return result

    def new_paths(self) -> dict[str, set[str]]:
        """Every path invalidated since the watch started, per distribution id."""
        return {d: {path for inv in invs for path in inv.paths} for d, invs in self.new().items()}


def prepare_site(
    server: MotoServer, bucket: str, origin_paths: Mapping[str, str], *, versioned: bool = False
) -> dict[str, str]:
    """The bucket (with versioning enabled when `versioned`) and one distribution per label (label =>
    origin path); return label => distribution id."""
    create_bucket(server, bucket, versioned=versioned)
    cloudfront = server.client("cloudfront")
    return {
        label: create_distribution(cloudfront, bucket, path, comment=label)
        for label, path in origin_paths.items()
    }


# What each example fronts: its distribution labels and their origin paths.
EXAMPLE_SITES: dict[str, dict[str, str]] = {
    "basic": {"site": ""},
    "multi-distribution": {"site": "", "docs": "/docs"},
}


def viewer_url_distributions(server: MotoServer, bucket: str) -> dict[str, str]:
    """The mode "none" deployment's extra distributions (label => id): "other", whose only origin is
    another bucket, and "auto", whose /assets/* come from the bucket's static/ prefix (global REST
    domain) and everything else from its pages/ prefix (regional REST domain)."""
    cloudfront = server.client("cloudfront")
    other = create_distribution(
        cloudfront,
        bucket,
        comment="other",
        origins=[("elsewhere", f"elsewhere-{bucket}.s3.amazonaws.com", "")],
    )
    auto = create_distribution(
        cloudfront,
        bucket,
        comment="auto",
        origins=[
            ("pages", f"{bucket}.s3.{REGION}.amazonaws.com", "/pages"),
            ("static", f"{bucket}.s3.amazonaws.com", "/static"),
        ],
        behaviours=[("/assets/*", "static")],
    )
    return {"other": other, "auto": auto}


# What each distribution label is given in the examples and conftest's root module, beyond its id.
DISTRIBUTION_INPUTS: dict[str, dict[str, Any]] = {
    "site": {},
    "docs": {"origin_path": "/docs"},
    "pretty": {"directory_without_slash": True, "strip_extensions": [".html"]},
    "other": {},
    "auto": {"origin_path": "auto"},
}


def distribution_environment(distributions: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """DISTRIBUTIONS as the function's environment must carry it (label => id given): every option
    written out, with the module's defaults where the label sets none."""
    defaults = {
        "origin_path": "",
        "directory_without_slash": False,
        "strip_extensions": [],
        "default_root_object": "",
    }
    return {
        label: {"id": distribution_id, **defaults, **DISTRIBUTION_INPUTS[label]}
        for label, distribution_id in distributions.items()
    }


def required_paths_by_label(
    keys: Iterable[str], origin_paths: Mapping[str, str], index_document: str = "index.html"
) -> dict[str, set[str]]:
    """The viewer paths the changed `keys` need on each distribution (label => origin path), by the
    oracle written from CloudFront's rules (support/path_oracle.py), not by the handler's mapping."""
    return {
        label: {path for key in keys for path in required_paths(key, origin_path, index_document)}
        for label, origin_path in origin_paths.items()
    }


def example_variables(example: str, bucket: str, distributions: Mapping[str, str]) -> dict[str, Any]:
    """The input variables of examples/<example> for the bucket and its distributions (label => id)."""
    if example == "basic":
        ids = {"distribution_id": distributions["site"]}
    else:
        ids = {
            f"{label}_distribution_id": distribution_id for label, distribution_id in distributions.items()
        }
    return {"bucket_name": bucket, **ids, "region": REGION}


@dataclass
class Deployment:
    """The module applied on moto, with the event source mapping under the emulation's control."""

    server: MotoServer
    bucket: str
    distributions: dict[str, str]  # label => distribution id
    terraform: Terraform
    outputs: dict[str, Any]
    plan_exit_code: int
    plan_text: str
    mapping: MappingSettings
    function: DeployedFunction
    events: SqsEventSource
    # What the queue held right after apply (e.g. S3's s3:TestEvent), delivered before any test ran.
    settling_outcomes: list[BatchOutcome]
    settling_invalidations: dict[str, list[Invalidation]]

    def watch(self) -> InvalidationWatch:
        """Start recording the invalidations created from now on, on every distribution."""
        return InvalidationWatch(self.server, tuple(self.distributions.values()))

    def new_paths_by_label(self, watch: InvalidationWatch) -> dict[str, set[str]]:
        """The paths invalidated since `watch` started, per distribution label."""
        paths = watch.new_paths()
        return {label: paths[distribution_id] for label, distribution_id in self.distributions.items()}

    def deliver(self, change: Callable[[], object] = lambda: None) -> Delivery:
        """Make `change`, then drive the queue until it is drained, and return the end state."""
        watch = self.watch()
        since = len(self.function.logs)
        change()
        outcomes = self.events.drain()
        created = watch.new()
        return Delivery(
            outcomes=outcomes,
            paths=self.new_paths_by_label(watch),
            created={label: created[d] for label, d in self.distributions.items()},
            records=self.function.log_records(since),
            left_in_queue=self.events.messages_left(),
            dead_letters=self.dead_letters(),
        )

    def dead_letters(self) -> int:
        """Messages in the dead-letter queue, visible or not."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        url = self.outputs["dead_letter_queue_url"]
        attributes = self.server.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)
        return sum(int(attributes["Attributes"][name]) for name in names)

    def evicted(self, delivery: Delivery, changed: Iterable[str]) -> dict[str, set[str]]:
        """The viewer paths of the bucket's current keys outside `changed` that the delivery's
        invalidations cover (label => paths), by the path oracle: cached copies evicted for nothing."""
        changed_paths = required_paths_by_label(changed, self.origin_paths())
        unchanged = required_paths_by_label(self.current_keys() - set(changed), self.origin_paths())
        hit = {
            label: {p for p in paths - changed_paths[label] if is_covered(p, delivery.paths[label])}
            for label, paths in unchanged.items()
        }
        return {label: paths for label, paths in hit.items() if paths}

    def current_keys(self) -> set[str]:
        """Every key of the bucket (its current versions)."""
        pages = self.server.client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def origin_paths(self) -> dict[str, str]:
        """Label => origin path of each distribution, as DISTRIBUTION_INPUTS gives it."""
        return {label: DISTRIBUTION_INPUTS[label].get("origin_path", "") for label in self.distributions}


FAILED_LOG_CHARS = 6000  # of each failing invocation's log, in a failure message


@dataclass(frozen=True)
class Delivery:
    """What delivering the queue to the function led to, judged by its end state only.

    How the emulated event source cut the messages into batches, and whether the handler postponed some
    on purpose (handed back at once by the emulation), depend on the machine's speed and the handler's
    design; neither is judged. What is: the queue drained, the dead-letter queue empty, the required
    viewer paths (by the path oracle) covered, and no path beyond what the caller allows.
    """

    outcomes: list[BatchOutcome]
    paths: dict[str, set[str]]  # label => every path invalidated during the delivery
    created: dict[str, list[Invalidation]]  # label => the invalidations created
    records: list[dict[str, Any]]  # what the function logged, every invocation of the delivery
    left_in_queue: int
    dead_letters: int

    def total(self, decision: str, count: str = "key_count") -> int:
        """The sum of `count` over the log lines of `decision`."""
        return sum(int(r[count]) for r in self.records if r.get("decision") == decision)

    def logged(self, decision: str) -> bool:
        return any(r.get("decision") == decision for r in self.records)

    def uncovered(self, required: Mapping[str, set[str]]) -> dict[str, set[str]]:
        """The required paths (label => paths) no invalidated path covers."""
        missing = {
            label: {p for p in paths if not is_covered(p, self.paths[label])}
            for label, paths in required.items()
        }
        return {label: paths for label, paths in missing.items() if paths}

    def beyond(self, allowed: Mapping[str, set[str]]) -> dict[str, set[str]]:
        """The invalidated paths (label => paths) that are not in `allowed` (a label absent: none allowed)."""
        extra = {label: paths - set(allowed.get(label, ())) for label, paths in self.paths.items()}
        return {label: paths for label, paths in extra.items() if paths}

    def problems(
        self, required: Mapping[str, set[str]], allowed: Mapping[str, set[str]] | None = None
    ) -> list[str]:
        """What is wrong with the end state: messages left or dead-lettered, required paths left stale,
        paths invalidated beyond `allowed` (None: any)."""
        found = []
        if self.left_in_queue:
            found.append(f"{self.left_in_queue} messages left in the queue")
        if self.dead_letters:
            found.append(f"{self.dead_letters} messages in the dead-letter queue")
        if uncovered := self.uncovered(required):
            found.append(f"required paths not invalidated: {uncovered}")
        if allowed is not None and (extra := self.beyond(allowed)):
            found.append(f"paths invalidated beyond those expected: {extra}")
        return found

    def failing_logs(self) -> str:
        """The logs of the invocations whose failures no deliberate postponement explains (else of every
        invocation that failed something), each cut to its last FAILED_LOG_CHARS characters."""
        failing = [o for o in self.outcomes if o.unexplained] or [o for o in self.outcomes if o.failed_ids]
        return "\n".join(
            f"--- invocation {self.outcomes.index(o) + 1} of {len(self.outcomes)}: {len(o.message_ids)} "
            f"messages, {len(o.failed_ids)} failed, {len(o.postponed_ids)} of them postponed, "
            f"error {o.error}; its log:\n{o.log[-FAILED_LOG_CHARS:]}"
            for o in failing
        )

    def check(self, required: Mapping[str, set[str]], allowed: Mapping[str, set[str]] | None = None) -> None:
        """Raise AssertionError naming every problem (see `problems`), with the failing invocations' logs."""
        if found := self.problems(required, allowed):
            raise AssertionError("\n".join([*found, self.batches(), self.failing_logs()]))

    def batches(self) -> str:
        """The batches as the emulation cut them: (messages, failed, postponed of those) each."""
        return "batches (messages, failed, postponed): " + str(
            [(len(o.message_ids), len(o.failed_ids), len(o.postponed_ids)) for o in self.outcomes]
        )


def apply(terraform: Terraform, variables: Mapping[str, Any]) -> tuple[dict[str, Any], int, str]:
    """init + apply, then `plan -detailed-exitcode` (its code, and the plan's text when not 0)."""
    terraform.set_variables(variables)
    terraform.init()
    terraform.apply()
    exit_code = terraform.plan_exit_code()
    plan_text = terraform.plan_changes() if exit_code != 0 else ""
    return terraform.outputs(), exit_code, plan_text


def take_over(
    server: MotoServer, function_name: str, queue_url: str, workdir: Path
) -> tuple[MappingSettings, DeployedFunction, SqsEventSource]:
    """Read and disable the deployed mapping; return it, the runnable function and the emulated mapping."""
    lambda_client = server.client("lambda")
    function_arn = lambda_client.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
    mapping = read_mapping(lambda_client, function_arn)
    disable_mapping(lambda_client, mapping)
    function = DeployedFunction.from_moto(
        lambda_client, function_name, COMMITTED_ZIP, workdir, server.endpoint_url
    )
    events = SqsEventSource.for_mapping(server.client("sqs"), queue_url, function, mapping)
    return mapping, function, events


def deploy(
    server: MotoServer,
    workdir: Path,
    variables: Mapping[str, Any],
    *,
    bucket: str,
    distributions: Mapping[str, str],
    runtime_dir: Path,
) -> Deployment:
    """Apply the root module staged in `workdir` (see support.terraform) and take over its mapping.

    The root module must output function_name and queue_url. The plan check runs before the mapping
    is disabled (a disabled mapping is, rightly, drift).
    """
    terraform = Terraform(workdir, server.endpoint_url)
    outputs, plan_exit_code, plan_text = apply(terraform, variables)
    mapping, function, events = take_over(server, outputs["function_name"], outputs["queue_url"], runtime_dir)
    watch = InvalidationWatch(server, tuple(distributions.values()))
    settling_outcomes = events.drain()
    return Deployment(
        server=server,
        bucket=bucket,
        distributions=dict(distributions),
        terraform=terraform,
        outputs=outputs,
        plan_exit_code=plan_exit_code,
        plan_text=plan_text,
        mapping=mapping,
        function=function,
        events=events,
        settling_outcomes=settling_outcomes,
        settling_invalidations=watch.new(),
    )
